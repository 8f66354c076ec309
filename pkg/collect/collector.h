/* SPDX-License-Identifier: Apache-2.0 */
/*
 * collector.h - the one small interface every collector implements.
 *
 * A collector reads one source of the node (through the host root only),
 * fills its own section of the report, and records its own failure in that
 * section's status; it never touches another section and knows nothing of
 * Kubernetes. Adding a collector means adding one file that ends with
 * NP_COLLECTOR(...): the linker gathers them (node_exporter's registry, in C).
 */
#pragma once

#include "../report/report.h"
#include "../shared/hostfs.h"

#include <stddef.h>

struct np_nvme_polls;

struct np_collect_ctx {
	const struct np_host *host;
	double interval_s;        /* > 0: sample twice, this far apart, for rates */
	const char *kubelet_dir;  /* host path of the kubelet root, default /var/lib/kubelet */
	unsigned kmsg_max;        /* kernel-log records to keep, default 256 */
	double stall_seconds;     /* in-flight I/O with no completion this long = stall */
	/* NVMe poll state kept across runs by the agent (SMART every 60 s, error log on growth); NULL = read all */
	struct np_nvme_polls *nvme_polls;
	double stall_await_ms;    /* > 0: await over the window above this = stall (0 = off) */
	double flap_window_s;     /* path flaps are counted over this window; 0 = NP_KMSG_FLAP_WINDOW_MS */
};

struct np_collector {
	const char *name;  /* section name, as in the JSON */
	int order;         /* run order (lower first); ties by name */
	/*
	 * First (or only) sample. Returns 0, or -errno when the whole section
	 * failed: the runner then records it in the section status unless the
	 * collector already did.
	 */
	int (*collect)(const struct np_collect_ctx *ctx, struct np_report *r);
	/* Optional: called once after interval_s seconds, to compute rates. */
	int (*resample)(const struct np_collect_ctx *ctx, struct np_report *r);
	size_t status_offset; /* offsetof(struct np_report, <section>.status) */
};

#define NP_COLLECTOR(sec, ord, collect_fn, resample_fn)                                        \
	static const struct np_collector np_collector_##sec = {                                \
		.name = #sec,                                                                  \
		.order = (ord),                                                                \
		.collect = (collect_fn),                                                       \
		.resample = (resample_fn),                                                     \
		.status_offset = offsetof(struct np_report, sec.status),                       \
	};                                                                                     \
	static const struct np_collector *const np_collector_ptr_##sec                         \
		__attribute__((used, section("np_collectors"), aligned(sizeof(void *)))) =     \
			&np_collector_##sec

/*
 * np_collectors() - the registered collectors, sorted by order then name.
 * Returns a static NULL-terminated array (do not free); *@n gets the count.
 */
const struct np_collector *const *np_collectors(size_t *n);

/*
 * np_collect_all() - run every collector whose name is in @only (NULL = all)
 * into @r, sleep ctx->interval_s and resample when it is > 0, then compute the
 * fingerprint. Returns 0; section failures are recorded in their sections.
 * -ENOMEM only when the report itself could not be built.
 */
int np_collect_all(const struct np_collect_ctx *ctx, char *const *only, struct np_report *r);
