/* SPDX-License-Identifier: Apache-2.0 */
/*
 * diskstats.h - /proc/diskstats parser and iostat -x arithmetic, shared by the
 * block collector, the stall detector and the agent.
 *
 * Format: Documentation/admin-guide/iostats.rst and block/genhd.c
 * diskstats_show(): "major minor name" then the counters of enum np_ds_field.
 * Kernels print 11 counters (2.6 .. 4.17, 14 columns), 15 (4.18+, discards,
 * 18 columns) or 17 (5.5+, flushes, 20 columns); 2.6.0-2.6.25 partitions print
 * 4 (7 columns: reads, sectors read, writes, sectors written); lxcfs prints 14
 * (17 columns). Counts are unsigned long (32 bits on 32-bit kernels), times are
 * printed as unsigned int milliseconds: both wrap.
 */
#pragma once

#include "../report/block.h"

#include <stddef.h>
#include <stdint.h>

/* Longest device name kept (the kernel's DISK_NAME_LEN is 32). */
#define NP_DS_NAME_MAX 63
/* Most lines accepted in one file (a 1024-disk node with partitions is far below). */
#define NP_DS_MAX_LINES 65536

struct np_diskstat {
	unsigned major, minor;
	char name[NP_DS_NAME_MAX + 1];
	unsigned ncols;                 /* columns on the line, as printed (7, 14, 17, 18, 20, ...) */
	struct np_ds_counters c;
};

struct np_diskstats {
	struct np_diskstat *dev;        /* malloc'd, @n entries, in file order */
	size_t n;
	size_t bad_lines;               /* lines rejected (not in @dev) */
	unsigned first_bad_line;        /* 1-based number of the first rejected line, 0 if none */
	char first_bad_reason[64];      /* why it was rejected */
};

/*
 * np_diskstats_parse_line() - parse one line (no newline needed) of
 * /proc/diskstats. Needs at least 7 columns; reads every counter present up to
 * field 17 and ignores extra columns of future kernels; the 7-column form maps
 * to reads, sectors read, writes, sectors written; a 2.4-style line with a
 * "#blocks" column before the name is accepted too. Returns 0, or -EINVAL
 * (too few columns, non-numeric counter, name longer than NP_DS_NAME_MAX,
 * control bytes) with a short reason in @why (may be NULL).
 */
int np_diskstats_parse_line(const char *line, size_t len, struct np_diskstat *out, const char **why);

/*
 * np_diskstats_parse() - parse a whole /proc/diskstats buffer (@len bytes, NULs
 * allowed and rejected per line). Fills @out (release with np_diskstats_free()).
 * Returns 0 when every non-empty line parsed; -EINVAL when some lines were
 * rejected (the good ones are still in @out, the bad counted in bad_lines);
 * -EFBIG over NP_DS_MAX_LINES lines (the first ones are kept); -ENOMEM.
 */
int np_diskstats_parse(const char *buf, size_t len, struct np_diskstats *out);
void np_diskstats_free(struct np_diskstats *s);

/* The entry with this major:minor (and name, when non-NULL), or NULL. */
const struct np_diskstat *np_diskstats_find(const struct np_diskstats *s, unsigned major, unsigned minor,
					    const char *name);

/*
 * np_ds_delta() - increase of counter @f from @old to @new, handling wrap:
 * a decrease whose modular difference is small (< 2^31 at 32 bits, the
 * kernel's unsigned int times and 32-bit unsigned long counts; < 2^63 at 64
 * bits) is a wrap. Returns 0 and the increase in *@d, or -ERANGE when the
 * counter went backwards otherwise (device removed and re-added: a reset),
 * -ENODATA when either sample lacks the field.
 */
int np_ds_delta(const struct np_ds_counters *old, const struct np_ds_counters *new, enum np_ds_field f,
		uint64_t *d);

/*
 * np_ds_rates() - the iostat -x figures of one device between two samples
 * @elapsed_ms apart, with sysstat's formulas (iostat.c, common.c
 * compute_ext_disk_stats): r/s = dreads / s; rkB/s = dsectors_read / 2 / s;
 * r_await = dread_ms / dreads (0 when no read completed); aqu-sz =
 * dweighted_io_ms / elapsed_ms; %util = dio_ms / elapsed_ms * 100. Returns 0,
 * -EINVAL when @elapsed_ms <= 0, -ERANGE when a counter was reset (rates
 * meaningless), -ENODATA when a sample lacks the core fields (7-column lines).
 */
int np_ds_rates(const struct np_ds_counters *old, const struct np_ds_counters *new, double elapsed_ms,
		struct np_block_rates *out);

