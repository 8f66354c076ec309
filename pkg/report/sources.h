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
#include "status.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct np_report;

struct np_source {
	const char *name;   /* the collector (section) name, e.g. "kmsg"; static */
	const char *what;   /* what it reads, for people, e.g. "the kernel log"; static */
	bool up;            /* every input it needs was read */
	int err;            /* !up: positive errno of the first failure */
	const char *reason; /* !up: CamelCase, e.g. "KernelLogUnreadable", "NVMeAdminDenied"; static */
	const char *detail; /* !up: the section's or item's error message, borrowed from the report */
	const char *item;   /* !up: the item that failed first ("nvme0", "mpatha", a PCI address), or NULL */
	unsigned failed;    /* items (controllers, maps, devices) that could not be read; 0 = the whole section */
	bool bundle;        /* the section gives the bundle firmware items (struct np_section_source) */
};

/* Every source of a report (np_report_sources()), in their order (struct np_section_source). */
struct np_sources {
	struct np_source *v; /* owned; strings static or borrowed from the report */
	size_t n;
};

/*
 * np_report_sources() - judge every source of @r into @out: each section
 * registered with NP_SECTION_SOURCE() (section.h), in its source order. A
 * source is down when its section failed, or, for the health inputs, when its
 * judge finds an item that could not be read (an NVMe controller without a
 * SMART page, a multipath map without its device-mapper table or status, a
 * PCI device whose attributes or AER counters could not be read; a kernel log
 * that cannot be opened or read, or none of whose records parsed). Returns the
 * number of sources down, or -ENOMEM (@out then empty). Release @out with
 * np_sources_free() (strings are static or borrowed from @r, valid while @r
 * lives).
 */
int np_report_sources(const struct np_report *r, struct np_sources *out);

/* Release the list (the struct itself is the caller's); idempotent. */
void np_sources_free(struct np_sources *s);

/* The source named @name (its section's name) in @s, or NULL. */
const struct np_source *np_sources_get(const struct np_sources *s, const char *name);

/*
 * np_source_down() - mark @s down with @st's error (EIO when @st has no errno)
 * unless it is down already: the first failure names the root cause.
 * np_source_item_down() - the same for item @item (borrowed), counted in
 * s->failed; @st without an error gives @err_if_none and @why. For a
 * section's judge (struct np_section_source).
 */
void np_source_down(struct np_source *s, const struct np_status *st);
void np_source_item_down(struct np_source *s, const char *item, const struct np_status *st, int err_if_none,
			 const char *why);

/* [{"source","up","reason","errno","error","item","failed"}...] for the report JSON. Caller owns the reference. */
json_t *np_sources_to_json(const struct np_sources *s);

/* The "Blind" block at the top of `inspect`: nothing when every source is up. */
void np_sources_print(const struct np_sources *s, struct np_out *o);
