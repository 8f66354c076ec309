// SPDX-License-Identifier: Apache-2.0
/* benchdev.c - the device under the micro-test and its %util (see benchdev.h). */
#define _GNU_SOURCE
#include "benchdev.h"
#include "diskstats.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

void np_bench_device_free(struct np_bench_device *d)
{
	free(d->model);
	free(d->firmware);
	*d = (struct np_bench_device){ 0 };
}

/* First attribute of @names under @dir that reads, or NULL. */
static char *first_attr(const struct np_host *h, const char *dir, const char *const *names)
{
	for (; *names; names++) {
		_cleanup_free_ char *p = np_asprintf("%s/%s", dir, *names), *v = NULL;
		if (p && np_host_read_line(h, p, &v) >= 0 && *np_strip(v))
			return strdup(np_strip(v));
	}
	return NULL;
}

int np_bench_device_of(const struct np_host *h, const char *path, struct np_bench_device *d)
{
	struct stat st;
	*d = (struct np_bench_device){ 0 };
	if (stat(path, &st) < 0)
		return negative_errno();
	dev_t dev = S_ISBLK(st.st_mode) ? st.st_rdev : st.st_dev;
	if (major(dev) == 0)
		return -ENODEV; /* anonymous devices: tmpfs, overlayfs, btrfs subvolumes */
	_cleanup_free_ char *sys = np_asprintf("/sys/dev/block/%u:%u", major(dev), minor(dev));
	_cleanup_free_ char *part = sys ? np_asprintf("%s/partition", sys) : NULL, *link = NULL;
	if (!part)
		return -ENOMEM;
	int r = np_host_readlink(h, sys, &link);
	if (r < 0)
		return r == -ENOENT ? -ENODEV : r;
	/* ".../block/nvme0n1/nvme0n1p1": a partition's parent folder is its disk */
	char *slash = strrchr(link, '/');
	if (!slash)
		return -EINVAL;
	if (np_host_exists(h, part)) {
		*slash = '\0';
		slash = strrchr(link, '/');
		if (!slash)
			return -EINVAL;
	}
	snprintf(d->name, sizeof(d->name), "%s", slash + 1);
	_cleanup_free_ char *devdir = np_asprintf("/sys/class/block/%s", d->name), *mm = NULL;
	_cleanup_free_ char *devfile = devdir ? np_asprintf("%s/dev", devdir) : NULL;
	if (!devfile)
		return -ENOMEM;
	unsigned ma, mi;
	if ((r = np_host_read_line(h, devfile, &mm)) < 0)
		return r;
	if (sscanf(mm, "%u:%u", &ma, &mi) != 2)
		return -EINVAL;
	d->major = ma;
	d->minor = mi;
	/* NVMe: the namespace's "device" is its controller; SCSI: the scsi_device */
	static const char *const models[] = { "device/model", NULL };
	static const char *const fws[] = { "device/firmware_rev", "device/rev", NULL };
	d->model = first_attr(h, devdir, models);
	d->firmware = first_attr(h, devdir, fws);
	return 0;
}

static int sample(const struct np_host *h, const struct np_bench_device *d, struct np_ds_counters *c)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = np_host_read(h, "/proc/diskstats", 0, &buf, &len);
	if (r < 0)
		return r;
	struct np_diskstats s = { 0 };
	np_diskstats_parse(buf, len, &s); /* rejected lines do not matter unless they are ours */
	const struct np_diskstat *e = np_diskstats_find(&s, d->major, d->minor, NULL);
	if (e)
		*c = e->c;
	np_diskstats_free(&s);
	return e ? 0 : -ENOENT;
}

static double mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000 + (double)ts.tv_nsec / 1e6;
}

int np_bench_device_util(const struct np_host *h, const struct np_bench_device *d, double seconds, double *util)
{
	struct np_ds_counters a, b;
	int r = sample(h, d, &a);
	if (r < 0)
		return r;
	double t0 = mono_ms();
	struct timespec ts = { .tv_sec = (time_t)seconds, .tv_nsec = (long)((seconds - (double)(time_t)seconds) * 1e9) };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	if ((r = sample(h, d, &b)) < 0)
		return r;
	struct np_block_rates rt;
	r = np_ds_rates(&a, &b, mono_ms() - t0, &rt);
	if (r < 0)
		return r;
	*util = rt.util_percent;
	return 0;
}
