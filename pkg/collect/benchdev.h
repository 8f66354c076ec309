/* SPDX-License-Identifier: Apache-2.0 */
/*
 * benchdev.h - the block device under the micro-test's file (or the raw
 * device it reads), its model and firmware, and how busy it is now: %util as
 * iostat -x computes it from two /proc/diskstats samples (diskstats.h).
 * Sources: stat(2) st_dev/st_rdev, /sys/dev/block/MAJ:MIN
 * (Documentation/ABI/testing/sysfs-dev), a partition's "partition" attribute,
 * NVMe controller "model"/"firmware_rev", SCSI "model"/"rev".
 */
#pragma once

#include "../shared/hostfs.h"

struct np_bench_device {
	char name[64];       /* whole-disk kernel name, e.g. nvme0n1, sda, vda, dm-0 */
	unsigned major, minor;
	char *model;         /* NULL when the device does not say (virtio) */
	char *firmware;
};

/*
 * np_bench_device_of() - the whole disk holding @path (a file or folder: its
 * filesystem's device; a block device node: that device). A partition is
 * resolved to its disk. Reads sysfs through @h. Returns 0 and fills @d (free
 * with np_bench_device_free()), -ENODEV when @path is on no block device
 * (tmpfs, overlay on tmpfs), or -errno.
 */
int np_bench_device_of(const struct np_host *h, const char *path, struct np_bench_device *d);
void np_bench_device_free(struct np_bench_device *d);

/*
 * np_bench_device_util() - %util of @d over @seconds (iostat -x: time with
 * I/O in flight / elapsed): /proc/diskstats read twice through @h, @seconds
 * apart. Returns 0 with the percentage in *@util, -ENOENT when the device is
 * not in /proc/diskstats, -ERANGE when its counters were reset, or -errno.
 */
int np_bench_device_util(const struct np_host *h, const struct np_bench_device *d, double seconds, double *util);
