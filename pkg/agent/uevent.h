/* SPDX-License-Identifier: Apache-2.0 */
/*
 * uevent.h - the kernel's device events (netlink NETLINK_KOBJECT_UEVENT,
 * the "kernel" group, read through libudev's monitor) that should wake the
 * agent before its next poll: a block, net, nvme, PCI or RDMA device added, moved or
 * removed, a block device changed (resize, media), and an NVMe
 * Asynchronous Event. The nvme driver reports the latter as a "change"
 * uevent of the controller carrying NVME_AEN=<result> (drivers/nvme/host/
 * core.c, nvme_aen_uevent(); the result is Completion Queue Entry Dword 0
 * of the Asynchronous Event Request, NVMe Base Specification 2.0, 5.2:
 * bits 2:0 the event type, 15:8 the event information, 23:16 the log page).
 * Kernel events need no udev daemon: they reach the agent in a container too.
 * Every event that is not ignored also makes the sections' cached facts
 * stale (pkg/collect/facts.h): a module's version, a driver, a firmware.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

enum np_uevent_kind {
	NP_UEVENT_IGNORE = 0, /* nothing the report depends on */
	NP_UEVENT_TOPOLOGY,   /* a device came, went or changed: collect again */
	NP_UEVENT_NVME_AEN,   /* an NVMe asynchronous event: read the controller's logs now */
	NP_UEVENT_FACTS,      /* a driver bound or unbound, a device changed, a module loaded or unloaded:
			       * no cycle sooner, but the next reads the facts it caches again */
};

/* NVMe Asynchronous Event Type (AER completion dword 0, bits 2:0). */
enum np_nvme_aen_type {
	NP_NVME_AEN_ERROR = 0,
	NP_NVME_AEN_SMART = 1, /* SMART / Health Status */
	NP_NVME_AEN_NOTICE = 2,
	NP_NVME_AEN_IMMEDIATE = 3,
	NP_NVME_AEN_IO_CMD_SET = 6,
	NP_NVME_AEN_VENDOR = 7,
};

struct np_uevent {
	enum np_uevent_kind kind;
	char action[16];    /* "add", "remove", "change", "move", "bind", ...; "lost" */
	char subsystem[32]; /* "block", "net", "nvme", "pci", "infiniband", "module" */
	char name[64];      /* sysname: "nvme0", "sda", "eth0", "0000:01:00.0" */
	uint32_t aen;       /* NVME_AEN value when kind is NP_UEVENT_NVME_AEN */
};

/*
 * np_uevent_classify() - what an event means to the agent. @action,
 * @subsystem, @devpath: the uevent's ACTION, SUBSYSTEM and DEVPATH
 * ("/devices/pci0000:00/.../nvme/nvme0"); @nvme_aen: its NVME_AEN value
 * ("0x020101") or NULL. Virtual network interfaces (DEVPATH under
 * /devices/virtual/net: every pod's veth, bridges, tunnels) and loop, ram and
 * zram disks come and go with workloads, are not part of the bundle, and are
 * ignored; device-mapper and md devices count. Fills @ev (names truncated to
 * fit) and returns its kind. Pure; never fails: missing or malformed fields
 * give NP_UEVENT_IGNORE.
 */
enum np_uevent_kind np_uevent_classify(const char *action, const char *subsystem, const char *devpath,
				       const char *nvme_aen, struct np_uevent *ev);

struct np_uevent_monitor;

/*
 * np_uevent_open() - subscribe to kernel uevents of block, net, nvme, pci and module.
 * Returns 0 with *@m set (free with np_uevent_close()), or -errno: -EPERM/
 * -EACCES when netlink is refused, -ENOMEM.
 */
int np_uevent_open(struct np_uevent_monitor **m);

/* The monitor's file descriptor (non-blocking, close-on-exec) for epoll. */
int np_uevent_fd(const struct np_uevent_monitor *m);

/*
 * np_uevent_next() - the next pending event, classified. Returns 1 with
 * @ev filled, 0 when none is pending, or -errno. Events of other subsystems
 * are filtered in the kernel socket (BPF) and never returned. Events lost
 * (the socket's buffer overflowed, ENOBUFS) are one NP_UEVENT_TOPOLOGY event
 * with action "lost" and no subsystem or name: any device may have changed.
 */
int np_uevent_next(struct np_uevent_monitor *m, struct np_uevent *ev);

/* Device events received so far, those np_uevent_next() ignores (churn, other actions) included. */
uint64_t np_uevent_received(const struct np_uevent_monitor *m);

void np_uevent_close(struct np_uevent_monitor *m);
