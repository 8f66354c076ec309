/* SPDX-License-Identifier: Apache-2.0 */
/*
 * block.h - the "block" section of the node report: every block device of
 * /sys/class/block with its identity, queue settings, /proc/diskstats counters,
 * iostat -x rates (with --interval) and I/O stalls. docs/report/block.md
 * documents every JSON field.
 */
#ifndef NP_REPORT_BLOCK_H
#define NP_REPORT_BLOCK_H

#include "bundle.h"
#include "out.h"
#include "status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The numeric fields of one /proc/diskstats line, in the kernel's order
 * (Documentation/admin-guide/iostats.rst, "Field 1" .. "Field 17"; the line's
 * columns 4..20). Times are milliseconds; sectors are 512 bytes.
 */
enum np_ds_field {
	NP_DS_READS,            /* field 1: reads completed successfully */
	NP_DS_READS_MERGED,     /* field 2 */
	NP_DS_SECTORS_READ,     /* field 3 */
	NP_DS_READ_MS,          /* field 4: time spent reading */
	NP_DS_WRITES,           /* field 5: writes completed */
	NP_DS_WRITES_MERGED,    /* field 6 */
	NP_DS_SECTORS_WRITTEN,  /* field 7 */
	NP_DS_WRITE_MS,         /* field 8 */
	NP_DS_IN_FLIGHT,        /* field 9: I/Os currently in progress (a gauge) */
	NP_DS_IO_MS,            /* field 10: time spent doing I/Os (io_ticks) */
	NP_DS_WEIGHTED_IO_MS,   /* field 11: weighted time spent doing I/Os */
	NP_DS_DISCARDS,         /* field 12 (4.18+) */
	NP_DS_DISCARDS_MERGED,  /* field 13 */
	NP_DS_SECTORS_DISCARDED,/* field 14 */
	NP_DS_DISCARD_MS,       /* field 15 */
	NP_DS_FLUSHES,          /* field 16 (5.5+) */
	NP_DS_FLUSH_MS,         /* field 17 */
	NP_DS_NFIELDS,
};

/* Counters of one device; a field absent from the line has its bit clear in @present. */
struct np_ds_counters {
	uint32_t present;               /* bit (1u << enum np_ds_field) set when the line has it */
	uint64_t v[NP_DS_NFIELDS];
};

static inline bool np_ds_has(const struct np_ds_counters *c, enum np_ds_field f)
{
	return c->present & (1u << f);
}

/* iostat -x rates over one interval (sysstat's formulas, see pkg/collect/diskstats.h). */
struct np_block_rates {
	double r_per_s, w_per_s, d_per_s, f_per_s;
	double rrqm_per_s, wrqm_per_s;
	double rkb_per_s, wkb_per_s, dkb_per_s;
	double r_await_ms, w_await_ms, d_await_ms, f_await_ms;
	double aqu_sz;
	double util_percent;
	uint64_t in_flight;             /* gauge at the second sample */
	bool has_discards, has_flushes; /* whether d_* / f_* are meaningful */
};

enum np_stall_reason { NP_STALL_NO_COMPLETION, NP_STALL_AWAIT };

/* One I/O stall (see pkg/collect/stall.h). Times are CLOCK_MONOTONIC milliseconds. */
struct np_stall_event {
	char device[64];
	unsigned major, minor;
	enum np_stall_reason reason;
	int64_t start_ms;
	int64_t end_ms;       /* -1 while ongoing */
	int64_t duration_ms;  /* end - start, or last sample - start while ongoing */
	uint64_t in_flight;   /* in-flight I/Os at the last sample of the stall */
	double await_ms;      /* await over the window at the last sample (await stalls), else 0 */
	bool ongoing;
};

struct np_block_dev {
	struct np_status status;       /* this device's own failures */
	char *name;
	unsigned major, minor;
	bool has_dev;                  /* major:minor known */
	char *kind;                    /* disk, partition, dm, md, loop, nvme, rom, ... */
	char *parent;                  /* the disk of a partition, else NULL */
	int64_t size_bytes;            /* -1 unknown */
	char *vendor, *model, *serial, *wwn;
	char *transport;               /* nvme, sata, sas, virtio, iscsi, fc, usb, ... or NULL */
	char *id_path;                 /* udev ID_PATH, or NULL */
	char *identity_source;         /* "udev" or "sysfs" */
	int rotational;                /* 0/1, -1 unknown */
	bool read_only, removable;
	char *scheduler;               /* active scheduler ("none" included) or NULL */
	char **schedulers;             /* available ones, NULL-terminated, or NULL */
	int64_t nr_requests, queue_depth;  /* -1 unknown */
	char *write_cache;             /* "write back" / "write through" or NULL */
	int64_t logical_block_size, physical_block_size; /* bytes, -1 unknown */
	char **holders, **slaves;      /* NULL-terminated, or NULL when unreadable */
	char **udev;                   /* udev E: properties as KEY=VALUE, NULL when no database entry */
	char *dm_name, *dm_uuid;       /* device mapper name and uuid (dm only) */
	bool has_stats;
	struct np_ds_counters stats;   /* counters at the last sample */
	bool has_rates;
	struct np_block_rates rates;
};

struct np_block {
	struct np_status status;
	struct np_block_dev *devices;
	size_t n;
	struct np_stall_event *stalls;
	size_t n_stalls;
	double interval_s;             /* measured interval between the samples; 0 without --interval */
	int64_t sampled_at_ms;         /* CLOCK_MONOTONIC ms of the last /proc/diskstats read */
	double stall_seconds, stall_await_ms; /* the detector's settings, as used */
};

void np_block_free(struct np_block *s);
/* The section as JSON (contract in TEAM.md; docs/report/block.md). Caller owns the reference. */
json_t *np_block_to_json(const struct np_block *s);
/* "Block devices" table like lsblk + queue settings; with rates an iostat -x table; stalls in red. */
void np_block_print(const struct np_block *s, struct np_out *o);
/* Block devices join no bundle (NVMe firmware is the nvme section's). Returns 0. */
int np_block_bundle(const struct np_block *s, struct np_bundle *b);

#endif /* NP_REPORT_BLOCK_H */

/* Its member of struct np_report: report.h reads this header a second time for it (sections.h). */
#ifdef NP_REPORT_MEMBER
NP_REPORT_MEMBER(block)
#endif
