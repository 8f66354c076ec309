// SPDX-License-Identifier: Apache-2.0
/* uevent.c - kernel device events through libudev's netlink monitor (see uevent.h). */
#define _GNU_SOURCE
#include "uevent.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <errno.h>
#include <libudev.h>
#include <stdlib.h>
#include <string.h>

/*
 * The devices the sections read. infiniband too: an RDMA device renamed (`rdma dev set`, udev's
 * rdma naming) keeps its files under another path, as a NIC does, and only its move uevent says
 * that the files kept open under the old path now belong to another device (agent.c).
 */
static const char *const subsystems[] = { "block", "net", "nvme", "pci", "infiniband", "module" };

struct np_uevent_monitor {
	struct udev *udev;
	struct udev_monitor *mon;
	uint64_t received; /* every device event, ignored ones too */
};

static void copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

/* "0x020101" (the kernel prints %#08x) -> 0x020101; false when not a hex number. */
static bool parse_aen(const char *s, uint32_t *out)
{
	if (!s || !np_startswith(s, "0x") || !s[2])
		return false;
	char *end;
	errno = 0;
	unsigned long v = strtoul(s + 2, &end, 16);
	if (errno || *end || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* Devices that come and go with workloads and are no part of the bundle. */
static bool churn(const char *subsystem, const char *devpath, const char *name)
{
	if (streq(subsystem, "net"))
		return np_startswith(devpath, "/devices/virtual/net/");
	if (streq(subsystem, "block"))
		return np_startswith(name, "loop") || np_startswith(name, "ram") || np_startswith(name, "zram");
	return false;
}

enum np_uevent_kind np_uevent_classify(const char *action, const char *subsystem, const char *devpath,
				       const char *nvme_aen, struct np_uevent *ev)
{
	const char *sysname = devpath ? strrchr(devpath, '/') : NULL;
	*ev = (struct np_uevent){ 0 };
	copy(ev->action, sizeof(ev->action), action);
	copy(ev->subsystem, sizeof(ev->subsystem), subsystem);
	copy(ev->name, sizeof(ev->name), sysname ? sysname + 1 : NULL);
	if (!action || !subsystem || !sysname || !sysname[1])
		return ev->kind = NP_UEVENT_IGNORE;
	bool known = false;
	for (size_t i = 0; i < ARRAY_SIZE(subsystems); i++)
		known = known || streq(subsystem, subsystems[i]);
	if (!known || churn(subsystem, devpath, sysname + 1))
		return ev->kind = NP_UEVENT_IGNORE;
	if (streq(subsystem, "nvme") && streq(action, "change") && parse_aen(nvme_aen, &ev->aen))
		return ev->kind = NP_UEVENT_NVME_AEN;
	if (!streq(subsystem, "module") && (streq(action, "add") || streq(action, "remove") || streq(action, "move")))
		return ev->kind = NP_UEVENT_TOPOLOGY;
	/* a block device's change: resize, media change, dm table load (a path group switch) */
	if (streq(action, "change") && streq(subsystem, "block"))
		return ev->kind = NP_UEVENT_TOPOLOGY;
	/* a module loaded or unloaded (kernel/module/sysfs.c), a driver bound or unbound, a NIC's or
	 * controller's change (a firmware activated): what the sections cache may differ now */
	if (streq(subsystem, "module") ? streq(action, "add") || streq(action, "remove")
				       : streq(action, "bind") || streq(action, "unbind") || streq(action, "change"))
		return ev->kind = NP_UEVENT_FACTS;
	return ev->kind = NP_UEVENT_IGNORE;
}

int np_uevent_open(struct np_uevent_monitor **out)
{
	struct np_uevent_monitor *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->udev = udev_new();
	m->mon = m->udev ? udev_monitor_new_from_netlink(m->udev, "kernel") : NULL;
	int r = m->mon ? 0 : (errno > 0 ? -errno : -ENOMEM);
	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(subsystems); i++)
		r = udev_monitor_filter_add_match_subsystem_devtype(m->mon, subsystems[i], NULL);
	if (r >= 0)
		r = udev_monitor_enable_receiving(m->mon);
	if (r < 0) {
		np_uevent_close(m);
		return r;
	}
	*out = m;
	return 0;
}

int np_uevent_fd(const struct np_uevent_monitor *m)
{
	return udev_monitor_get_fd(m->mon);
}

int np_uevent_next(struct np_uevent_monitor *m, struct np_uevent *ev)
{
	for (;;) {
		errno = 0;
		struct udev_device *d = udev_monitor_receive_device(m->mon);
		if (!d && errno == ENOBUFS) {
			/* the socket's buffer overflowed: events were lost, any device may have come,
			 * gone or been renamed. The next receive goes on with what is queued after. */
			m->received++;
			*ev = (struct np_uevent){ .kind = NP_UEVENT_TOPOLOGY };
			copy(ev->action, sizeof(ev->action), "lost");
			return 1;
		}
		if (!d)
			return errno == 0 || errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
		m->received++;
		np_uevent_classify(udev_device_get_action(d), udev_device_get_subsystem(d), udev_device_get_devpath(d),
				   udev_device_get_property_value(d, "NVME_AEN"), ev);
		udev_device_unref(d);
		if (ev->kind != NP_UEVENT_IGNORE)
			return 1;
	}
}

uint64_t np_uevent_received(const struct np_uevent_monitor *m)
{
	return m->received;
}

void np_uevent_close(struct np_uevent_monitor *m)
{
	if (!m)
		return;
	udev_monitor_unref(m->mon);
	udev_unref(m->udev);
	free(m);
}
