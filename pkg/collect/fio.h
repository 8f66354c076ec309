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
	const char *file;         /* non-NULL: this test file (np_fio_file_create()), kept across runs so
				   * fio lays it out once; NULL: a file per run, removed after it */
	uint64_t file_bytes;      /* test file size */
	double wall_seconds;      /* hard limit per run: fio is killed after this */
};

/*
 * np_fio_file_create() - create the empty test file
 * "<@directory>/nodeprint-baseline.<pid>.fio" (O_EXCL, 0600) after checking
 * that @bytes plus 10 % and 64 MiB fit. Returns 0 with the malloc'd path in
 * *@path (the caller unlinks and frees it), -ENOSPC, or -errno; *@err says why.
 */
int np_fio_file_create(const char *directory, uint64_t bytes, char **path, char **err);

/*
 * np_fio_run() - run one profile once on @lim->file, or on a test file of its
 * own (np_fio_file_create(), removed whatever happens), or on the raw device
 * (with --readonly): libaio and O_DIRECT, one group-reported job, the job as
 * threads (one process to kill); fio's process group is killed after
 * @lim->wall_seconds. SIGINT, SIGTERM and SIGHUP are blocked while fio runs
 * and read through a signalfd: one arriving (or already pending, when the
 * caller blocked them between runs) kills fio and returns -EINTR (the caller
 * removes @lim->file and exits). Returns 0 and fills @out, -ETIME (killed at
 * the wall limit), -ENOENT (no fio), -ENOSPC (no room for its own file), a
 * parse error of np_fio_parse_json(), or -errno; *@err gets a malloc'd reason
 * on failure (caller frees).
 */
int np_fio_run(const struct np_bench_profile *p, const struct np_fio_limits *lim, struct np_fio_result *out,
	       char **err);

/*
 * np_fio_remove_stale() - remove test files "nodeprint-baseline.<pid>.fio" in
 * @directory whose process is gone (a run killed with SIGKILL). Returns the
 * number removed or -errno.
 */
int np_fio_remove_stale(const char *directory);
