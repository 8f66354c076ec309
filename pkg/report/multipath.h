/* SPDX-License-Identifier: Apache-2.0 */
/*
 * multipath.h - the "multipath" section: dm-multipath maps found in sysfs
 * (/sys/block/dm-N/dm/{name,uuid} with the "mpath-" uuid prefix, slaves/),
 * their table and status as the kernel reports them (dm-mpath target,
 * Documentation/admin-guide/device-mapper/dm-multipath? and drivers/md/dm-mpath.c
 * multipath_status()), and multipathd's per-path checker state when it
 * answers. docs/report/multipath.md documents every field.
 */
#ifndef NP_REPORT_MULTIPATH_H
#define NP_REPORT_MULTIPATH_H

#include "bundle.h"
#include "out.h"
#include "status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct np_mpath_path {
	char *dev;          /* kernel name, "sda" (via /sys/dev/block/M:m); NULL when unknown */
	char *major_minor;  /* "8:0" as in the table */
	char **args;        /* path arguments of the table (selector-specific), NULL-terminated */
	bool have_state;    /* status was parsed */
	bool active;        /* status "A" (active) vs "F" (failed) */
	uint64_t fail_count;
	char *checker_state;/* multipathd chk_st ("ready", "faulty", ...), NULL when unknown */
	char *dev_state;    /* multipathd dev_st ("running", "offline", ...), NULL when unknown */
};

struct np_mpath_group {
	unsigned index;     /* 1-based, as the kernel numbers groups */
	char *selector;     /* "service-time 0", "round-robin 0" (name and table args) */
	char state;         /* status: 'A' active, 'E' enabled, 'D' disabled; 0 when unknown */
	bool have_priority;
	int64_t priority;   /* multipathd "pri" */
	struct np_mpath_path *paths;
	size_t n_paths;
};

struct np_mpath_map {
	struct np_status status; /* e.g. table/status unavailable; sysfs facts kept */
	char *name;         /* dm/name */
	char *dm;           /* "dm-0" */
	char *uuid;         /* dm/uuid, "mpath-<wwid>" */
	char *major_minor;
	uint64_t size_bytes;
	char **features;    /* table features, NULL-terminated ("queue_if_no_path", ...) */
	char *hardware_handler; /* "alua", "emc 1"; NULL = none */
	bool have_queue_io;
	bool queue_io;      /* status: I/O is being queued (no usable path, queue_if_no_path) */
	uint64_t pg_init_count;
	unsigned next_group;/* status: group the kernel will use next (1-based) */
	char *mpathd_queueing; /* multipathd's "queueing" (its no_path_retry, libmultipath print.c
				* snprint_queueing()): "on" (for ever), "off", "-" (unset), "N chk"
				* (N checker intervals), "N sec" (counting down now); NULL = not asked */
	struct np_mpath_group *groups;
	size_t n_groups;
	bool paths_known;   /* the table (or status) was parsed: groups and paths are the kernel's;
			     * false = the paths are unknown (0 groups then means "not read", never "no paths") */
	char **slaves;      /* sysfs slaves/, NULL-terminated */
	int64_t collect_us; /* time spent on this map (benchmark hook) */
};

struct np_multipath {
	struct np_status status;
	struct np_mpath_map *maps;
	size_t n_maps;
	bool multipathd_available;
	struct np_status multipathd; /* why multipathd could not be asked */
	int64_t mpathd_polling_interval_s; /* multipathd's checker interval (`show config` defaults
					    * polling_interval); 0 when not read */
};

void np_mpath_map_free(struct np_mpath_map *m);
void np_multipath_free(struct np_multipath *s);
/*
 * Totals over a map's groups: all paths, active ("A"), failed ("F"). Meaningful only when
 * m->paths_known; paths whose state was not read count in total only.
 */
void np_mpath_map_counts(const struct np_mpath_map *m, size_t *total, size_t *active, size_t *failed);
json_t *np_multipath_to_json(const struct np_multipath *s);
/* A tree like `multipath -ll`. */
void np_multipath_print(const struct np_multipath *s, struct np_out *o);
/* Maps carry no driver versions: adds nothing. Returns 0. */
int np_multipath_bundle(const struct np_multipath *s, struct np_bundle *b);

#endif /* NP_REPORT_MULTIPATH_H */

/* Its member of struct np_report: report.h reads this header a second time for it (sections.h). */
#ifdef NP_REPORT_MEMBER
NP_REPORT_MEMBER(multipath)
#endif
