// SPDX-License-Identifier: Apache-2.0
/*
 * Kernel uevents the agent wakes on. The values are the kernel's: ACTION and SUBSYSTEM as
 * lib/kobject_uevent.c sends them, DEVPATHs as sysfs shows them (this VM's virtio NIC and loop
 * disks, the node-in-a-box's NVMe controller, scsi_debug disk and multipath map: dm-0's "change"
 * comes with every fail_path / reinstate_path there), and NVME_AEN as
 * drivers/nvme/host/core.c nvme_aen_uevent() formats it ("NVME_AEN=%#08x").
 */
#include "testutil.h"
#include "../../pkg/agent/uevent.h"
#include "../../pkg/shared/macro.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#define NVME0 "/devices/pci0000:00/0000:00:05.0/0000:03:00.0/nvme/nvme0"
#define ETH0 "/devices/pci0000:00/0000:00:03.0/virtio2/net/eth0"

static enum np_uevent_kind kind(const char *action, const char *subsystem, const char *devpath, const char *aen)
{
	struct np_uevent ev;
	return np_uevent_classify(action, subsystem, devpath, aen, &ev);
}

static void test_topology(void **state)
{
	(void)state;
	struct np_uevent ev;
	assert_int_equal(np_uevent_classify("change", "block", "/devices/virtual/block/dm-0", NULL, &ev),
			 NP_UEVENT_TOPOLOGY);
	assert_string_equal(ev.name, "dm-0");
	assert_int_equal(kind("add", "block", "/devices/pseudo_0/adapter0/host2/target2:0:0/2:0:0:0/block/sdc", NULL),
			 NP_UEVENT_TOPOLOGY);
	assert_int_equal(kind("remove", "net", ETH0, NULL), NP_UEVENT_TOPOLOGY);
	assert_int_equal(kind("move", "net", ETH0, NULL), NP_UEVENT_TOPOLOGY);
	assert_int_equal(kind("add", "pci", "/devices/pci0000:00/0000:00:05.0/0000:03:00.0", NULL), NP_UEVENT_TOPOLOGY);
	/* an RDMA device renamed (`rdma dev set mlx5_0 name rocep3s0`, udev's NAME_KERNEL policy) keeps
	 * its files under another path, as a NIC does: the agent must see it to reopen its kept files */
	assert_int_equal(kind("move", "infiniband", "/devices/pci0000:00/0000:00:05.0/0000:03:00.0/infiniband/rocep3s0",
			      NULL),
			 NP_UEVENT_TOPOLOGY);
	assert_int_equal(kind("add", "infiniband", "/devices/virtual/infiniband/rxe0", NULL), NP_UEVENT_TOPOLOGY);
	/* a NIC's or PCI function's change, bind and unbind are not topology changes, but the driver or
	 * firmware the sections cache may have changed; so may a module's version */
	assert_int_equal(kind("change", "net", ETH0, NULL), NP_UEVENT_FACTS);
	assert_int_equal(kind("bind", "pci", "/devices/pci0000:00/0000:00:05.0/0000:03:00.0", NULL), NP_UEVENT_FACTS);
	assert_int_equal(kind("unbind", "pci", "/devices/pci0000:00/0000:00:05.0/0000:03:00.0", NULL), NP_UEVENT_FACTS);
	assert_int_equal(kind("add", "module", "/module/nvme", NULL), NP_UEVENT_FACTS);
	assert_int_equal(kind("remove", "module", "/module/mlx5_core", NULL), NP_UEVENT_FACTS);
	assert_int_equal(kind("change", "module", "/module/nvme", NULL), NP_UEVENT_IGNORE);
	assert_int_equal(kind("bind", "net", "/devices/virtual/net/veth1a2b3c4d", NULL), NP_UEVENT_IGNORE);
	/* other subsystems and incomplete events */
	assert_int_equal(kind("add", "usb", "/devices/pci0000:00/0000:00:14.0/usb1/1-1", NULL), NP_UEVENT_IGNORE);
	assert_int_equal(kind(NULL, "block", "/devices/virtual/block/dm-0", NULL), NP_UEVENT_IGNORE);
	assert_int_equal(kind("add", NULL, "/devices/virtual/block/dm-0", NULL), NP_UEVENT_IGNORE);
	assert_int_equal(kind("add", "block", NULL, NULL), NP_UEVENT_IGNORE);
	assert_int_equal(kind("add", "block", "/devices/virtual/block/", NULL), NP_UEVENT_IGNORE);
	assert_int_equal(kind("add", "block", "sda", NULL), NP_UEVENT_IGNORE); /* not a DEVPATH */
}

/* What churns with workloads on a Kubernetes node never wakes the agent. */
static void test_churn_ignored(void **state)
{
	(void)state;
	assert_int_equal(kind("add", "net", "/devices/virtual/net/veth1a2b3c4d", NULL), NP_UEVENT_IGNORE);
	assert_int_equal(kind("remove", "net", "/devices/virtual/net/cni0", NULL), NP_UEVENT_IGNORE);
	assert_int_equal(kind("add", "net", "/devices/virtual/net/ifb0", NULL), NP_UEVENT_IGNORE);
	assert_int_equal(kind("add", "block", "/devices/virtual/block/loop5", NULL), NP_UEVENT_IGNORE);
	assert_int_equal(kind("change", "block", "/devices/virtual/block/loop0", NULL), NP_UEVENT_IGNORE);
	assert_int_equal(kind("add", "block", "/devices/virtual/block/zram0", NULL), NP_UEVENT_IGNORE);
	/* but device-mapper and md devices are storage the bundle reports */
	assert_int_equal(kind("add", "block", "/devices/virtual/block/dm-3", NULL), NP_UEVENT_TOPOLOGY);
	assert_int_equal(kind("add", "block", "/devices/virtual/block/md0", NULL), NP_UEVENT_TOPOLOGY);
}

static void test_nvme_aen(void **state)
{
	(void)state;
	struct np_uevent ev;
	/* Firmware Activation Starting: type 2 (notice), information 01h, log page 03h */
	assert_int_equal(np_uevent_classify("change", "nvme", NVME0, "0x030102", &ev), NP_UEVENT_NVME_AEN);
	assert_int_equal(ev.aen, 0x030102);
	assert_int_equal(ev.aen & 0x7, NP_NVME_AEN_NOTICE);
	assert_string_equal(ev.name, "nvme0");
	/* SMART / Health Status, Temperature Threshold (information 01h), log page 02h */
	assert_int_equal(np_uevent_classify("change", "nvme", NVME0, "0x020101", &ev), NP_UEVENT_NVME_AEN);
	assert_int_equal(ev.aen & 0x7, NP_NVME_AEN_SMART);
	/* no or malformed NVME_AEN: a plain change of the controller, no cycle sooner (its cached facts
	 * are read again at the next) */
	assert_int_equal(kind("change", "nvme", NVME0, NULL), NP_UEVENT_FACTS);
	assert_int_equal(kind("change", "nvme", NVME0, "0x"), NP_UEVENT_FACTS);
	assert_int_equal(kind("change", "nvme", NVME0, "030102"), NP_UEVENT_FACTS);
	assert_int_equal(kind("change", "nvme", NVME0, "0x03zz02"), NP_UEVENT_FACTS);
	assert_int_equal(kind("change", "nvme", NVME0, "0x1ffffffff"), NP_UEVENT_FACTS);
	/* a controller added (hotplug, reset of a fabrics controller) is topology */
	assert_int_equal(kind("add", "nvme", NVME0, NULL), NP_UEVENT_TOPOLOGY);
}

static void test_truncation(void **state)
{
	(void)state;
	struct np_uevent ev;
	char path[300] = "/devices/pci0000:00/0000:00:05.0/block/";
	size_t n = strlen(path);
	memset(path + n, 'n', sizeof(path) - n - 1);
	path[sizeof(path) - 1] = '\0';
	assert_int_equal(np_uevent_classify("add", "block", path, NULL, &ev), NP_UEVENT_TOPOLOGY);
	assert_int_equal(strlen(ev.name), sizeof(ev.name) - 1);
}

/* The real netlink socket: opening and reading with nothing pending must not block or fail. */
static void test_monitor_opens(void **state)
{
	(void)state;
	struct np_uevent_monitor *m = NULL;
	int r = np_uevent_open(&m);
	if (r == -EPERM || r == -EACCES || r == -EPROTONOSUPPORT)
		skip();
	assert_int_equal(r, 0);
	assert_true(np_uevent_fd(m) >= 0);
	struct np_uevent ev;
	assert_true(np_uevent_next(m, &ev) >= 0);
	np_uevent_close(m);
}

/*
 * Events lost (the socket's buffer overflowed: ENOBUFS) may have been any device's add, remove or
 * rename: np_uevent_next() says so as a topology event, counted as received (the agent reads its
 * facts again, runs a cycle soon and reopens its kept files), not as an error that only warns. On
 * this host's kernel: a monitor with the smallest buffer, 64 change uevents of loop0 written to its
 * uevent file. Needs root; skipped without.
 */
static void test_lost_events_are_topology(void **state)
{
	(void)state;
	const char *trigger = "/sys/devices/virtual/block/loop0/uevent";
	struct np_uevent_monitor *m = NULL;
	if (geteuid() != 0 || access(trigger, W_OK) != 0 || np_uevent_open(&m) < 0)
		skip();
	int one = 1;
	assert_int_equal(setsockopt(np_uevent_fd(m), SOL_SOCKET, SO_RCVBUF, &one, sizeof(one)), 0);
	for (int i = 0; i < 64; i++) {
		int fd = open(trigger, O_WRONLY | O_CLOEXEC);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, "change", 6), 6);
		close(fd);
	}
	uint64_t before = np_uevent_received(m);
	struct np_uevent ev;
	int r, lost = 0;
	while ((r = np_uevent_next(m, &ev)) > 0)
		lost += ev.kind == NP_UEVENT_TOPOLOGY && streq(ev.action, "lost");
	assert_int_equal(r, 0);
	assert_true(lost >= 1);
	assert_true(np_uevent_received(m) > before);
	np_uevent_close(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_topology),
		cmocka_unit_test(test_churn_ignored),
		cmocka_unit_test(test_nvme_aen),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_monitor_opens),
		cmocka_unit_test(test_lost_events_are_topology),
	};
	return cmocka_run_group_tests_name("uevent", tests, NULL, NULL);
}
