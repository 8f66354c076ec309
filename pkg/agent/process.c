// SPDX-License-Identifier: Apache-2.0
/* process.c - process_* metrics of the agent itself, from /proc/self and getrusage(2). */
#define _GNU_SOURCE
#include "process.h"
#include "../shared/hostfs.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

int np_proc_stat_parse(const char *buf, size_t len, uint64_t *starttime_ticks, uint64_t *vsize_bytes,
		       uint64_t *rss_pages)
{
	const char *end = buf + len, *p = memrchr(buf, ')', len);
	if (!p)
		return -EINVAL;
	p++; /* fields 3.. after "pid (comm)" */
	uint64_t v[3];
	for (unsigned field = 3, got = 0; field <= 24; field++) {
		while (p < end && *p == ' ')
			p++;
		const char *s = p;
		while (p < end && *p != ' ' && *p != '\n')
			p++;
		if (p == s)
			return -EINVAL; /* truncated */
		if (field < 22)
			continue;
		char num[24];
		size_t n = (size_t)(p - s);
		if (n >= sizeof(num))
			return -EINVAL;
		memcpy(num, s, n);
		num[n] = '\0';
		if (np_parse_u64(num, &v[got++]) < 0)
			return -EINVAL;
	}
	*starttime_ticks = v[0];
	*vsize_bytes = v[1];
	*rss_pages = v[2];
	return 0;
}

int np_proc_btime_parse(const char *buf, size_t len, uint64_t *btime)
{
	for (const char *p = buf, *end = buf + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (n > 6 && n < 32 && memcmp(p, "btime ", 6) == 0) {
			char num[32];
			memcpy(num, p + 6, n - 6);
			num[n - 6] = '\0';
			return np_parse_u64(num, btime) < 0 ? -EINVAL : 0;
		}
		p += n + 1;
	}
	return -ENOENT;
}

static int slurp(const char *path, size_t max, char **out, size_t *len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return np_read_fd(fd, max, 4096, out, len);
}

static void gauge(FILE *f, const char *name, const char *type, const char *help, double v)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type, name, v);
}

int np_process_metrics_render(FILE *f)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		gauge(f, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.",
		      (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
			      (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	_cleanup_free_ char *stat = NULL, *pstat = NULL;
	size_t len, plen;
	uint64_t start, vsize, rss, btime;
	long tck = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	if (slurp("/proc/self/stat", 4096, &stat, &len) >= 0 && np_proc_stat_parse(stat, len, &start, &vsize, &rss) >= 0) {
		gauge(f, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", (double)rss * page);
		gauge(f, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", (double)vsize);
		if (tck > 0 && slurp("/proc/stat", 1 << 20, &pstat, &plen) >= 0 && np_proc_btime_parse(pstat, plen, &btime) >= 0)
			gauge(f, "process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.",
			      (double)btime + (double)start / (double)tck);
	}
	DIR *d = opendir("/proc/self/fd");
	if (d) {
		unsigned n = 0;
		for (struct dirent *de; (de = readdir(d));)
			n += de->d_name[0] != '.';
		closedir(d);
		gauge(f, "process_open_fds", "gauge", "Number of open file descriptors.", n > 0 ? n - 1 : 0); /* less opendir's own */
	}
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		gauge(f, "process_max_fds", "gauge", "Maximum number of open file descriptors.", (double)rl.rlim_cur);
	return ferror(f) ? -EIO : 0;
}
