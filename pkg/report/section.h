/* SPDX-License-Identifier: Apache-2.0 */
/*
 * section.h - one descriptor per report section: how it is collected, freed,
 * written as JSON, printed and fingerprinted, and the hooks for state it keeps
 * across the agent's cycles. Each section registers its descriptor once, with
 * NP_SECTION() at the end of its pkg/collect/<section>.c; the linker gathers
 * them (node_exporter's collector registry, in C), report.c and the collector
 * runner loop over them. A second section of the same name fails to link
 * (the descriptor is a global symbol np_section_<name>); there is no fixed
 * table size to overflow.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct np_bundle;
struct np_collect_ctx;
struct np_out;
struct np_report;
struct np_section_state;
struct np_source;

/*
 * What "could not be read" means for a section that feeds health checks
 * (blind is never healthy, sources.h). Registered with NP_SECTION_SOURCE() in
 * the section's own pkg/report/<section>.c; a section without one is no
 * source (its failure makes nothing Unknown). Which findings read a source is
 * the vocabulary's (pkg/policy/vocab.c, a row's sources).
 */
struct np_section_source {
	int order;          /* place in the sources list: JSON "sources", nodeprint_source_up, the BLIND
			     * block, and which source's reason a condition fed by two takes (the first) */
	const char *what;   /* what it reads, for people, e.g. "the kernel log" */
	const char *reason; /* CamelCase reason when down, e.g. "KernelLogUnreadable" */
	/*
	 * Optional: mark @s down (np_source_down(), np_source_item_down()) from
	 * the section's and its items' status, and set s->reason for a more
	 * precise cause. NULL: down when the section's status has an error.
	 */
	void (*judge)(const struct np_report *r, struct np_source *s);
	/*
	 * The section gives the bundle firmware items: when it failed as a whole
	 * (not one item) the bundle is blind, neither judged nor republished
	 * (pkg/policy/desired.c). An NVMe controller without SMART still has its
	 * firmware in sysfs, so item failures do not count.
	 */
	bool bundle;
};

/* Options of the metrics hooks (the agent's command line). */
struct np_metrics_opts {
	bool all_block_devices; /* --metrics-all-devices: loop, ram and zram devices too */
};

/*
 * The section's Prometheus families (text format 0.0.4, helpers in expo.h),
 * registered with NP_SECTION_METRICS() in its own pkg/report/<section>.c.
 * render() writes every family of the section, HELP and TYPE included, even
 * when it has no series.
 */
struct np_section_metrics {
	void (*render)(FILE *f, const struct np_report *r, const struct np_metrics_opts *o);
};

/*
 * A section whose collect() may run on a worker thread beside the other sections of a one-shot
 * pass (collector.h, ctx->threads): it reads only through np_host_*, np_dir_* and np_collect_*,
 * keeps no static state, calls no library that is not thread-safe (libudev's hwdb, libdevmapper,
 * libnvme stay on the calling thread) and writes only its own member of the report.
 */
struct np_section_concurrent {
	/*
	 * How many items the section will read, counted cheaply (a folder's entries): the pass
	 * starts threads only when some concurrent section has enough (collector.c), as a thread
	 * costs more than a small host's whole section (0.2 MiB of libc pages, 0.1 ms).
	 */
	size_t (*items)(const struct np_collect_ctx *ctx);
};

struct np_section {
	const char *name;  /* as in the JSON, the --only list and `nodeprint collectors` */
	int order;         /* collect and JSON order (lower first; ties by name) */
	int print_order;   /* human report order: the on-call playbook's */
	/*
	 * First (or only) sample. Returns 0, or -errno when the whole section
	 * failed: the runner then records it in the section status unless the
	 * collector already did.
	 */
	int (*collect)(const struct np_collect_ctx *ctx, struct np_report *r);
	/* Optional: called once after ctx->interval_s seconds, to compute rates. */
	int (*resample)(const struct np_collect_ctx *ctx, struct np_report *r);
	void (*free)(struct np_report *r);
	json_t *(*to_json)(const struct np_report *r);
	void (*print)(const struct np_report *r, struct np_out *o);
	int (*bundle)(const struct np_report *r, struct np_bundle *b); /* fingerprint items; 0 or -ENOMEM */
	size_t status_offset; /* offsetof(struct np_report, <section>.status) */
	/*
	 * Optional state the section keeps across the agent's cycles, owned by
	 * the section alone (its stall detector, flap tracker, NVMe poll times and
	 * last SMART page): state_new() makes it for a context (NULL on ENOMEM),
	 * state_reload() hands it the context of a reloaded policy (new
	 * thresholds take effect at the next collect), state_free() releases it.
	 * collect() finds it with np_collect_state(); one-shot commands have none.
	 */
	void *(*state_new)(const struct np_collect_ctx *ctx);
	void (*state_reload)(void *state, const struct np_collect_ctx *ctx);
	void (*state_free)(void *state);
	const struct np_section_source *source;   /* NULL: not a health source (NP_SECTION_SOURCE()) */
	const struct np_section_metrics *metrics; /* NULL: no metrics of its own (NP_SECTION_METRICS()) */
	/* NULL: collected on the calling thread; else NP_SECTION_CONCURRENT()'s (below) */
	const struct np_section_concurrent *concurrent;
};

/*
 * np_sections() - every registered section, sorted by order then name.
 * Returns a NULL-terminated array owned by the module (do not free); *@n
 * (may be NULL) gets the count. NULL only on ENOMEM at the first call.
 */
const struct np_section *const *np_sections(size_t *n);

/* The section named @name, or NULL. */
const struct np_section *np_section_find(const char *name);

/*
 * NP_SECTION_STATEFUL() - NP_SECTION() for a section that keeps state across
 * cycles: @new_fn, @reload_fn, @free_fn are its state hooks (see above).
 * NP_SECTION() - register section @sec (a member of struct np_report of that
 * name, with np_<sec>_free/_to_json/_print/_bundle in pkg/report/<sec>.h).
 * @collect_fn and @resample_fn (or NULL) take the collection context.
 */
#define NP_SECTION(sec, ord, print_ord, collect_fn, resample_fn)                                     \
	NP_SECTION_STATEFUL(sec, ord, print_ord, collect_fn, resample_fn, NULL, NULL, NULL)

#define NP_SECTION_STATEFUL(sec, ord, print_ord, collect_fn, resample_fn, new_fn, reload_fn, free_fn)   \
	extern const struct np_section_source np_section_source_##sec __attribute__((weak));         \
	extern const struct np_section_metrics np_section_metrics_##sec __attribute__((weak));       \
	extern const struct np_section_concurrent np_section_concurrent_##sec __attribute__((weak)); \
	static void np_section_free_##sec(struct np_report *r) { np_##sec##_free(&r->sec); }         \
	static json_t *np_section_json_##sec(const struct np_report *r)                              \
	{                                                                                            \
		return np_##sec##_to_json(&r->sec);                                                  \
	}                                                                                            \
	static void np_section_print_##sec(const struct np_report *r, struct np_out *o)              \
	{                                                                                            \
		np_##sec##_print(&r->sec, o);                                                        \
	}                                                                                            \
	static int np_section_bundle_##sec(const struct np_report *r, struct np_bundle *b)           \
	{                                                                                            \
		return np_##sec##_bundle(&r->sec, b);                                                \
	}                                                                                            \
	extern const struct np_section np_section_##sec;                                             \
	const struct np_section np_section_##sec = {                                                 \
		.name = #sec,                                                                        \
		.order = (ord),                                                                      \
		.print_order = (print_ord),                                                          \
		.collect = (collect_fn),                                                             \
		.resample = (resample_fn),                                                           \
		.free = np_section_free_##sec,                                                       \
		.to_json = np_section_json_##sec,                                                    \
		.print = np_section_print_##sec,                                                     \
		.bundle = np_section_bundle_##sec,                                                   \
		.status_offset = offsetof(struct np_report, sec.status),                             \
		.state_new = (new_fn),                                                               \
		.state_reload = (reload_fn),                                                         \
		.state_free = (free_fn),                                                             \
		.source = &np_section_source_##sec,                                                  \
		.metrics = &np_section_metrics_##sec,                                                \
		.concurrent = &np_section_concurrent_##sec,                                          \
	};                                                                                           \
	static const struct np_section *const np_section_ptr_##sec                                   \
		__attribute__((used, section("np_sections"), aligned(sizeof(void *)))) = &np_section_##sec

/*
 * NP_SECTION_SOURCE() - section @sec is a health source: @ord its place in
 * the sources list, @what_ and @reason_ as in struct np_section_source,
 * @judge_fn or NULL, then optional designated initializers (.bundle = true). NP_SECTION_METRICS() - section @sec renders its metric
 * families with @render_fn. Both go at the end of pkg/report/<sec>.c; the
 * section's descriptor picks them up by name (a weak reference: a section
 * without one has NULL). A second one for the same section fails to link;
 * tests/unit/test_sections.c checks that each names a registered section.
 */
#define NP_SECTION_SOURCE(sec, ord, what_, reason_, judge_fn, ...)                                   \
	extern const struct np_section_source np_section_source_##sec;                               \
	const struct np_section_source np_section_source_##sec = {                                   \
		.order = (ord), .what = (what_), .reason = (reason_), .judge = (judge_fn), __VA_ARGS__ \
	}

#define NP_SECTION_METRICS(sec, render_fn)                                                           \
	extern const struct np_section_metrics np_section_metrics_##sec;                             \
	const struct np_section_metrics np_section_metrics_##sec = { .render = (render_fn) }

/*
 * NP_SECTION_CONCURRENT() - section @sec may be collected on a worker thread
 * (struct np_section_concurrent: what that promises); @items_fn counts its items.
 * One line in its pkg/collect/<sec>.c, after its NP_SECTION() (which declares the
 * hook weak: clang refuses a weak declaration after the definition);
 * test_sections.c checks that it names a registered section.
 */
#define NP_SECTION_CONCURRENT(sec, items_fn)                                                         \
	extern const struct np_section_concurrent np_section_concurrent_##sec;                       \
	const struct np_section_concurrent np_section_concurrent_##sec = { .items = (items_fn) }
