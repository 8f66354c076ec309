/* SPDX-License-Identifier: Apache-2.0 */
/*
 * report.h - the node report: the typed model that collectors fill and that
 * policy, kube and agent read; and its JSON form (schemaVersion below), the
 * contract between the stages. docs/report.md documents every field.
 */
#pragma once

#include "bundle.h"
#include "out.h"
#include "sources.h"
#include "sections.h" /* every section's header: its types */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define NP_SCHEMA_VERSION 1

struct np_report {
	char *host_root;          /* the host root the report was read from */
	char **only;              /* the sections read when not every one was (--only), NULL-terminated;
				   * NULL: every section. A partial report's bundle hashes only these. */
	int64_t collected_at_ms;  /* wall clock, Unix epoch milliseconds */
	int64_t duration_us;      /* time spent collecting, microseconds */
	/* every section's member, struct np_<name> <name>: one line of sections.h */
#define NP_REPORT_MEMBER(name) struct np_##name name;
#include "sections.h"
#undef NP_REPORT_MEMBER
	struct np_bundle bundle;  /* filled by np_report_fingerprint() */
};

/* Release everything the report owns (the struct itself is the caller's). */
void np_report_free(struct np_report *r);

/*
 * np_report_fingerprint() - gather every section's bundle items, sort them and
 * hash them into r->bundle. Returns 0 or -ENOMEM.
 */
int np_report_fingerprint(struct np_report *r);

/* The whole report as one JSON object with "schemaVersion". Caller owns the reference. */
json_t *np_report_to_json(const struct np_report *r);

/* True when section @name (a collector's name) was read: every section unless r->only says otherwise. */
bool np_report_read(const struct np_report *r, const char *name);

/* The title line (version, bundle hash, component count, PARTIAL and the sections read), then the
 * BLIND block when a source could not be read. */
void np_report_print_title(const struct np_report *r, struct np_out *o);
/* The human report, the sections read in the on-call playbook's order, then the bundle. */
void np_report_print(const struct np_report *r, struct np_out *o);
