/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sources.h - which of the node's inputs the report could read. Blind is never
 * healthy: a health check whose input could not be read (permission, an absent
 * interface, an unreadable host root, a file that did not parse) is Unknown,
 * never True. This module only says which sources were read; pkg/policy maps
 * them to conditions, the agent to metrics and an Event.
 */
#pragma once

#include "out.h"

#include <jansson.h>
#include <stdbool.h>

struct np_report;

/* One per collector section, in this order (the metric and the JSON list them so). */
enum np_source_id {
	NP_SRC_KMSG,
	NP_SRC_NVME,
	NP_SRC_MULTIPATH,
	NP_SRC_PCI,
	NP_SRC_BLOCK,
	NP_SRC_NET,
	NP_SRC_VOLUMES,
	NP_SRC_MOUNTS,
	NP_SRC_KERNEL,
	NP_SRC_MODULES,
	NP_SRC_TIMEOUTS,
	NP_SRC_NUMA,
	NP_SRC_GPU,
	NP_SRC__N,
};

struct np_source {
	const char *name;   /* the collector (section) name, e.g. "kmsg"; static */
	const char *what;   /* what it reads, for people, e.g. "the kernel log"; static */
	bool up;            /* every input it needs was read */
	int err;            /* !up: positive errno of the first failure */
	const char *reason; /* !up: CamelCase, e.g. "KernelLogUnreadable", "NVMeAdminDenied"; static */
	const char *detail; /* !up: the section's or item's error message, borrowed from the report */
	const char *item;   /* !up: the item that failed first ("nvme0", "mpatha", a PCI address), or NULL */
	unsigned failed;    /* items (controllers, maps, devices) that could not be read; 0 = the whole section */
};

/*
 * np_report_sources() - judge every source of @r into @out (NP_SRC__N
 * entries; strings are static or borrowed from @r, valid while @r lives).
 * A source is down when its section failed, or, for the health inputs, when
 * an item could not be read: an NVMe controller without a SMART page (open or
 * admin command refused, /dev node absent, an all-zero page), a multipath map
 * without its device-mapper table or status, a PCI device whose attributes or
 * AER counters could not be read. The kernel log is down when /dev/kmsg
 * cannot be opened or read, or when none of its records parsed. Returns the
 * number of sources down.
 */
unsigned np_report_sources(const struct np_report *r, struct np_source out[NP_SRC__N]);

/* [{"source","up","reason","errno","error","item","failed"}...] for the report JSON. Caller owns the reference. */
json_t *np_sources_to_json(const struct np_source s[NP_SRC__N]);

/* The "Blind" block at the top of `inspect`: nothing when every source is up. */
void np_sources_print(const struct np_source s[NP_SRC__N], struct np_out *o);
