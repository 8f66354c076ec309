/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fio.h - the storage micro-test source: Debian's fio(1) run as a subprocess
 * with --output-format=json, bounded in time and cleaned up, and its JSON
 * parsed (fio's HOWTO, "Interpreting the output" / json output; the fields are
 * those of fio 3.x stat.c show_thread_status_json()). fio is never
 * re-implemented. No Kubernetes here.
 */
#pragma once

#include "../report/baseline.h"

#include <stdbool.h>
#include <stddef.h>

/* Largest fio output accepted, bytes (one group-reported job is ~6 KiB). */
#define NP_FIO_OUTPUT_MAX (4u << 20)

struct np_fio_result {
	char fio_version[32];    /* "fio version", e.g. "fio-3.33" */
	struct np_bench_figures fig; /* reads and writes together: IOPS and bytes/s summed; clat percentiles
				      * of the direction with more I/O (both only in rw/randrw profiles) */
	uint64_t ios;            /* total_ios, reads + writes */
};

/*
 * np_fio_parse_json() - parse fio's --output-format=json document (@len bytes,
 * NUL bytes rejected; text before the first line starting with '{' is skipped,
 * as fio may print notes there). Needs "jobs" with exactly one job (the
 * runner uses --group_reporting), job "error" 0, some I/O done, and the
 * clat_ns percentiles 50, 95, 99 and 99.9 (--percentile_list). Returns 0 and
 * fills @out; -EINVAL (not JSON, truncated, wrong shape), -EIO (the job
 * reported an error), -ENODATA (no I/O completed) or -EFBIG (over
 * NP_FIO_OUTPUT_MAX), with a malloc'd one-line reason in *@err (caller frees).
 */
int np_fio_parse_json(const char *buf, size_t len, struct np_fio_result *out, char **err);

/* How `nodeprint baseline run` may use the device (policy baseline.*). */
struct np_fio_limits {
	const char *fio;          /* the fio binary, default "fio" (PATH) */
	const char *directory;    /* the test file goes here */
	const char *raw_device;   /* non-NULL: read this device instead (read-only profiles) */
	uint64_t file_bytes;      /* test file size */
	double wall_seconds;      /* hard limit per run: fio is killed after this */
};

/*
 * np_fio_run() - run one profile once: create a test file
 * "<directory>/nodeprint-baseline.<pid>.fio" (O_EXCL), run fio on it (or on
 * the raw device, with --readonly) with libaio and O_DIRECT, one
 * group-reported job, the fio job as threads (one process to kill), kill
 * fio's process group after @lim->wall_seconds, and remove the file whatever
 * happens. SIGINT, SIGTERM and SIGHUP are blocked while fio runs and read
 * through a signalfd: one arriving kills fio, removes the file and returns
 * -EINTR (the caller exits). Returns 0 and fills @out, -ETIME (killed at the
 * wall limit), -ENOENT (no fio), -ENOSPC (the directory lacks room for the
 * file), a parse error of np_fio_parse_json(), or -errno; *@err gets a
 * malloc'd reason on failure (caller frees).
 */
int np_fio_run(const struct np_bench_profile *p, const struct np_fio_limits *lim, struct np_fio_result *out,
	       char **err);

/*
 * np_fio_remove_stale() - remove test files "nodeprint-baseline.<pid>.fio" in
 * @directory whose process is gone (a run killed with SIGKILL). Returns the
 * number removed or -errno.
 */
int np_fio_remove_stale(const char *directory);
