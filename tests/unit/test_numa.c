// SPDX-License-Identifier: Apache-2.0
/*
 * NUMA and IRQ locality on a real capture: the node-in-a-box with QEMU -numa (CPU 0 on node 0,
 * CPU 1 on node 1) and a pxb-pcie on node 1 carrying a virtio NIC (its IRQs pinned to CPU 0) and an
 * NVMe controller (kernel-managed queue IRQs), tests/fixtures/nib-numa. The parsers on the kernel's
 * strings and on what they must refuse; the default policy's numa-remote-irq finding.
 */
#include "testutil.h"
#include "collectutil.h"
#include "../../pkg/collect/numa.h"
#include "../../pkg/policy/desired.h"
#include "../../pkg/policy/health_numa.h"
#include "../../pkg/shared/macro.h"
#include "../../pkg/shared/strutil.h"

static void test_cpulist(void **state)
{
	(void)state;
	unsigned *c = NULL;
	size_t n = 0;
	char *s = np_slurp("tests/fixtures/nib-numa/sys/devices/system/node/node1/cpulist", NULL);
	assert_int_equal(np_cpulist_parse(s, &c, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(c[0], 1);
	free(c);
	free(s);
	assert_int_equal(np_cpulist_parse("0-3,8,10-11\n", &c, &n), 0); /* %*pbl of {0,1,2,3,8,10,11} */
	assert_int_equal(n, 7);
	assert_int_equal(c[3], 3);
	assert_int_equal(c[4], 8);
	assert_int_equal(c[6], 11);
	free(c);
	assert_int_equal(np_cpulist_parse("\n", &c, &n), 0); /* a node without CPUs */
	assert_int_equal(n, 0);
	assert_null(c);
	static const char *const bad[] = { "3-1", "0,0", "2,1", "0-", "-1", ",", "0,", "a", "0 1", "0-3:2/4", "0x1" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (np_cpulist_parse(bad[i], &c, &n) != -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
	assert_int_equal(np_cpulist_parse("8192", &c, &n), -ERANGE);
	assert_int_equal(np_cpulist_parse("0-99999999999999999999", &c, &n), -ERANGE);
}

/* The target of a class link in the capture, as the collector reads it. */
static const char *link_of(const char *rel)
{
	static char link[512];
	ssize_t k = readlink(np_src(rel), link, sizeof(link) - 1);
	assert_true(k > 0);
	link[k] = '\0';
	return link;
}

static void test_bdf(void **state)
{
	(void)state;
	char *bdf = NULL;
	/* a virtio NIC: PCI function, then virtioN, then net/eth0 */
	assert_int_equal(np_pci_bdf_in_path(link_of("tests/fixtures/nib-numa/sys/class/net/eth0"), &bdf), 1);
	assert_string_equal(bdf, "0000:42:00.0");
	free(bdf);
	assert_int_equal(np_pci_bdf_in_path(link_of("tests/fixtures/nib-numa/sys/class/nvme/nvme0"), &bdf), 1);
	assert_string_equal(bdf, "0000:41:00.0");
	free(bdf);
	assert_int_equal(np_pci_bdf_in_path(link_of("tests/fixtures/nib-numa/sys/class/net/lo"), &bdf), 0);
	assert_null(bdf);
	assert_int_equal(np_pci_bdf_in_path("/devices/pci0000:40/0000:4g:00.0/x", &bdf), 0);
	assert_int_equal(np_pci_bdf_in_path("/devices/0000:40:00.00/x", &bdf), 0);
}

static const struct np_numa_dev *dev(const struct np_report *r, const char *name)
{
	for (size_t i = 0; i < r->numa.n_devs; i++)
		if (streq(r->numa.devs[i].name, name))
			return &r->numa.devs[i];
	fail_msg("%s not found", name);
	return NULL;
}

static void test_capture(void **state)
{
	(void)state;
	struct np_report r = { 0 };
	np_collect_fixture("tests/fixtures/nib-numa", "numa", &r);
	assert_int_equal(r.numa.status.err, 0);
	assert_int_equal(r.numa.n_nodes, 2);
	assert_string_equal(r.numa.nodes[0].cpulist, "0");
	assert_string_equal(r.numa.nodes[1].cpulist, "1");
	assert_true(r.numa.irqbalance_known);
	assert_int_equal(r.numa.irqbalance_pid, -1);

	/* the NIC: config line never fired (still on CPU 1), input 5 and output 11 on CPU 0 after the pinning */
	const struct np_numa_dev *e = dev(&r, "eth0");
	assert_string_equal(e->kind, "nic");
	assert_string_equal(e->pci, "0000:42:00.0");
	assert_int_equal(e->numa_node, 1);
	assert_int_equal(e->nirqs, 3);
	assert_int_equal(e->irqs[0].irq, 33);
	assert_string_equal(e->irqs[0].name, "virtio2-config");
	assert_string_equal(e->irqs[0].effective, "1");
	assert_int_equal(e->irqs[0].remote, 0);
	assert_string_equal(e->irqs[1].name, "virtio2-input.0");
	assert_int_equal(e->irqs[1].count, 5);
	assert_int_equal(e->irqs[1].count_remote, 4); /* one input interrupt came before the pinning, on CPU 1 */
	assert_int_equal(e->irqs[1].remote, 1);
	assert_int_equal(e->irqs[2].count, 11);
	assert_int_equal(e->irqs[2].count_remote, 10);
	assert_int_equal(e->interrupts, 16);
	assert_true(e->remote_percent == 100.0);     /* the line that carries no load weighs nothing */
	assert_true(e->served_remote_percent == 87.5); /* 14 of 16 */

	/*
	 * NVMe: the admin queue (12, the agent's own SMART polls) and q1 (0) on CPU 0, q2 (3) on CPU 1.
	 * Counting the admin queue made it 12 of 15 = 80 % remote; the data path is all local.
	 */
	const struct np_numa_dev *nv = dev(&r, "nvme0");
	assert_int_equal(nv->numa_node, 1);
	assert_int_equal(nv->nirqs, 3);
	assert_string_equal(nv->irqs[0].name, "nvme0q0");
	assert_true(nv->irqs[0].admin_queue);
	assert_int_equal(nv->irqs[0].count, 12);
	assert_int_equal(nv->irqs[0].remote, 1);
	assert_false(nv->irqs[1].admin_queue);
	assert_false(nv->irqs[2].admin_queue);
	assert_false(e->irqs[1].admin_queue);
	assert_int_equal(nv->interrupts, 15);
	assert_true(nv->remote_percent == 0.0);
	assert_true(nv->served_remote_percent == 0.0);

	struct np_policy p;
	assert_int_equal(np_policy_default(&p), 0);
	assert_true(NP_HEALTH_OF(&p, numa)->remote_irq_percent == 90);
	struct np_desired d;
	assert_int_equal(np_policy_evaluate(&p, &r, NULL, NULL, &d), 0);
	size_t n = 0;
	for (size_t i = 0; i < d.n_findings; i++)
		if (streq(d.findings[i].id, "numa-remote-irq")) {
			n++;
			assert_string_equal(d.findings[i].subject, "eth0");
			assert_string_equal(d.findings[i].reason, "RemoteIRQs");
			assert_non_null(strstr(d.findings[i].message, "is on NUMA node 1; 100% of its interrupt load"));
			assert_non_null(strstr(d.findings[i].message, "first: IRQ 34 virtio2-input.0 on CPUs 0"));
		}
	assert_int_equal(n, 1);
	np_desired_free(&d);
	/* a threshold of 75 still leaves the NVMe out: its admin queue's 80 % is not the data path */
	NP_HEALTH_OF(&p, numa)->remote_irq_percent = 75;
	assert_int_equal(np_policy_evaluate(&p, &r, NULL, NULL, &d), 0);
	n = 0;
	for (size_t i = 0; i < d.n_findings; i++)
		n += streq(d.findings[i].id, "numa-remote-irq");
	assert_int_equal(n, 1);
	np_desired_free(&d);
	NP_HEALTH_OF(&p, numa)->remote_irq_percent = -1;
	assert_int_equal(np_policy_evaluate(&p, &r, NULL, NULL, &d), 0);
	for (size_t i = 0; i < d.n_findings; i++)
		assert_string_not_equal(d.findings[i].id, "numa-remote-irq");
	np_desired_free(&d);
	np_policy_free(&p);
	np_report_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpulist),
		cmocka_unit_test(test_bdf),
		cmocka_unit_test(test_capture),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
