/* SPDX-License-Identifier: Apache-2.0 */
/*
 * process.h - the agent's own process_* metrics, as every Prometheus client
 * library exports them (process_cpu_seconds_total, process_resident_memory_bytes,
 * process_virtual_memory_bytes, process_open_fds, process_max_fds,
 * process_start_time_seconds), read from the process's own /proc/self (not the
 * host root: it is about this process) and getrusage(2)/getrlimit(2).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * np_proc_stat_parse() - from the text of /proc/[pid]/stat (proc(5): "pid (comm)
 * state ppid ..."; comm may hold spaces and ')', so fields count from the last
 * ')'): field 22 starttime (clock ticks after boot), 23 vsize (bytes), 24 rss
 * (pages). @len bytes of @buf, not NUL-terminated. Returns 0 or -EINVAL.
 */
int np_proc_stat_parse(const char *buf, size_t len, uint64_t *starttime_ticks, uint64_t *vsize_bytes,
		       uint64_t *rss_pages);

/* np_proc_btime_parse() - the "btime SECONDS" line of /proc/stat (proc(5)): boot time, Unix seconds.
 * Returns 0, -ENOENT without such a line, or -EINVAL. */
int np_proc_btime_parse(const char *buf, size_t len, uint64_t *btime);

/* np_process_metrics_render() - the process_* families above, for this process. A value that
 * cannot be read is left out (never 0). Returns 0 or -EIO. */
int np_process_metrics_render(FILE *f);
