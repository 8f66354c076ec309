// SPDX-License-Identifier: Apache-2.0
/*
 * Kernel uevents the agent wakes on. The values are the kernel's: ACTION and SUBSYSTEM as
 * lib/kobject_uevent.c sends them, the dm-0 "change" a multipath table load/resume sends (seen
 * in the node-in-a-box on every fail_path / reinstate_path), and NVME_AEN as
 * drivers/nvme/host/core.c nvme_aen_uevent() formats it ("NVME_AEN=%#08x").
 */
#include "testutil.h"
#include "../../pkg/agent/uevent.h"

static enum np_uevent_kind kind(const char *action, const char *subsystem, const char *name, const char *aen)
{
	struct np_uevent ev;
	return np_uevent_classify(action, subsystem, name, aen, &ev);
}

static void test_topology(void **state)
{
	(void)state;
	assert_int_equal(kind("change", "block", "dm-0", NULL), NP_UEVENT_TOPOLOGY);
	assert_int_equal(kind("add", "block", "sdc", NULL), NP_UEVENT_TOPOLOGY);
	assert_int_equal(kind("remove", "net", "eth1", NULL), NP_UEVENT_TOPOLOGY);
	assert_int_equal(kind("move", "net", "enp1s0", NULL), NP_UEVENT_TOPOLOGY);
	assert_int_equal(kind("add", "pci", "0000:01:00.0", NULL), NP_UEVENT_TOPOLOGY);
	/* a NIC's or PCI function's change, bind and unbind are not topology changes */
	assert_int_equal(kind("change", "net", "eth0", NULL), NP_UEVENT_IGNORE);
	assert_int_equal(kind("bind", "pci", "0000:01:00.0", NULL), NP_UEVENT_IGNORE);
	/* other subsystems and incomplete events */
	assert_int_equal(kind("add", "usb", "1-1", NULL), NP_UEVENT_IGNORE);
	assert_int_equal(kind(NULL, "block", "sda", NULL), NP_UEVENT_IGNORE);
	assert_int_equal(kind("add", NULL, "sda", NULL), NP_UEVENT_IGNORE);
	assert_int_equal(kind("add", "block", "", NULL), NP_UEVENT_IGNORE);
}

static void test_nvme_aen(void **state)
{
	(void)state;
	struct np_uevent ev;
	/* Firmware Activation Starting: type 2 (notice), information 01h, log page 03h */
	assert_int_equal(np_uevent_classify("change", "nvme", "nvme0", "0x030102", &ev), NP_UEVENT_NVME_AEN);
	assert_int_equal(ev.aen, 0x030102);
	assert_int_equal(ev.aen & 0x7, NP_NVME_AEN_NOTICE);
	assert_string_equal(ev.name, "nvme0");
	/* SMART / Health Status, Temperature Threshold (information 01h), log page 02h */
	assert_int_equal(np_uevent_classify("change", "nvme", "nvme1", "0x020101", &ev), NP_UEVENT_NVME_AEN);
	assert_int_equal(ev.aen & 0x7, NP_NVME_AEN_SMART);
	/* no or malformed NVME_AEN: a plain change of the controller, ignored */
	assert_int_equal(kind("change", "nvme", "nvme0", NULL), NP_UEVENT_IGNORE);
	assert_int_equal(kind("change", "nvme", "nvme0", "0x"), NP_UEVENT_IGNORE);
	assert_int_equal(kind("change", "nvme", "nvme0", "030102"), NP_UEVENT_IGNORE);
	assert_int_equal(kind("change", "nvme", "nvme0", "0x03zz02"), NP_UEVENT_IGNORE);
	assert_int_equal(kind("change", "nvme", "nvme0", "0x1ffffffff"), NP_UEVENT_IGNORE);
	/* a controller added (hotplug, reset of a fabrics controller) is topology */
	assert_int_equal(kind("add", "nvme", "nvme2", NULL), NP_UEVENT_TOPOLOGY);
}

static void test_truncation(void **state)
{
	(void)state;
	struct np_uevent ev;
	char name[300];
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_int_equal(np_uevent_classify("add", "block", name, NULL, &ev), NP_UEVENT_TOPOLOGY);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_topology),
		cmocka_unit_test(test_nvme_aen),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_monitor_opens),
	};
	return cmocka_run_group_tests_name("uevent", tests, NULL, NULL);
}
