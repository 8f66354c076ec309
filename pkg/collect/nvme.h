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
 * np_nvme_collect_ctrl() - one controller, e.g. "nvme0".
 * Reads /sys/class/nvme/<name>/{model,serial,firmware_rev,state,transport,
 * address,subsysnqn,cntlid,dev} and its namespaces/paths; then, when
 * /dev/<name> under the host root is the character device sysfs names (same
 * dev_t: the same kernel), Identify Controller, the firmware slot log, the
 * SMART log (only when np_nvme_poll_smart_due(@poll, @now_ms)) and the error
 * log (only when its entry counter grew; only entries newer than the last
 * seen). @poll is updated; NULL = a fresh state (read everything).
 * Failures of the device part are recorded in @out->status ("unavailable:
 * permission (/dev/nvme0)") with the sysfs facts kept. Returns 0, or -errno
 * when the controller's sysfs folder cannot be read (-ENOENT) or -ENOMEM.
 * @out is filled even on failure; free it with np_nvme_ctrl_free().
 */
int np_nvme_collect_ctrl(const struct np_host *h, const char *name, struct np_nvme_poll *poll,
			 int64_t now_ms, struct np_nvme_ctrl *out);

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
void np_nvme_polls_free(struct np_nvme_polls *t);
