/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvme.h - the NVMe collector: sysfs topology through the host root
 * (Documentation/ABI/testing/sysfs-class-nvme, /sys/class/nvme-subsystem),
 * admin log pages through libnvme's ioctl helpers on /dev/nvmeX opened
 * inside the host root. Pure page decoders live in nvme_smart.h.
 */
#pragma once

#include "nvme_smart.h"
#include "../report/nvme.h"
#include "../shared/hostfs.h"

#include <stdint.h>

/*
 * np_nvme_path_head() - the namespace head's block device name for a native
 * multipath path device: "nvme1c3n2" -> "nvme1n2". Returns a malloc'd
 * string, or NULL when @path is not of the form nvme<A>c<B>n<C> (or ENOMEM).
 */
char *np_nvme_path_head(const char *path);

/* Poll states by controller name, kept by the agent between collections. */
struct np_nvme_polls {
	char **names;
	struct np_nvme_poll *polls;
	size_t n;
	int64_t smart_interval_ms; /* SMART interval of new entries; 0 = the default (60 s) */
};

/* The state of controller @name, created (fresh) on first use; NULL on ENOMEM. Valid until the next call. */
struct np_nvme_poll *np_nvme_polls_get(struct np_nvme_polls *t, const char *name);
/*
 * np_nvme_polls_retain() - forget the state of every controller whose name is not in @names
 * (NULL-terminated; NULL: none), as a collect that listed /sys/class/nvme calls it: a controller
 * that comes back under a name (a drive pulled and inserted again, a controller re-created) is a
 * newly seen one, read at once, with no schedule or error-log position of its predecessor.
 */
void np_nvme_polls_retain(struct np_nvme_polls *t, char **names);
void np_nvme_polls_free(struct np_nvme_polls *t);
