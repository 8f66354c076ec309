// SPDX-License-Identifier: Apache-2.0
/*
 * A GPU that vanished: the node-in-a-box capture with QEMU's VGA (tests/fixtures/nib-vga, a real
 * capture: one display-class function, 0000:00:03.0) counts one GPU that answers; the same tree
 * with that device removed (its sysfs directory and bus link deleted in a temporary copy: nothing
 * invented) leaves a class that pins expect.gpus: 1 with gpu-missing / GPUMissing and
 * AcceleratorsHealthy False, with no Xid at all. Without expect.gpus, the count the class's other
 * Nodes carry (the agent's peer figure) decides, under health.gpu.expectFromPeers. The config-space
 * rule on a real config space.
 */
#define _GNU_SOURCE
#include "collectutil.h"
#include "../../pkg/collect/gpu.h"
#include "../../pkg/policy/desired.h"
#include "../../pkg/shared/macro.h"
#include "../../pkg/shared/strutil.h"

#include <stdlib.h>

#define VGA "0000:00:03.0"

static const struct np_finding *finding(const struct np_desired *d, const char *id)
{
	for (size_t i = 0; i < d->n_findings; i++)
		if (streq(d->findings[i].id, id))
			return &d->findings[i];
	return NULL;
}

static const char *label(const struct np_desired *d, const char *key)
{
	for (size_t i = 0; i < d->n_labels; i++)
		if (streq(d->labels[i].key, key))
			return d->labels[i].value;
	return NULL;
}

static const char *cond_status(const struct np_desired *d, const char *type)
{
	for (size_t i = 0; i < d->n_conditions; i++)
		if (streq(d->conditions[i].type, type))
			return d->conditions[i].status;
	return NULL;
}

static void evaluate_class_on(const struct np_report *r, const struct np_node_facts *node, struct np_desired *d)
{
	static const char pol[] = "classes:\n  - name: vga-1x\n    expect: {gpus: 1}\n";
	struct np_policy p;
	char *err = NULL;
	assert_int_equal(np_policy_parse(pol, sizeof(pol) - 1, "test", &p, &err), 0);
	assert_null(err);
	assert_int_equal(p.classes[0].expect_gpus, 1);
	assert_int_equal(np_policy_evaluate(&p, r, NULL, node, d), 0);
	np_policy_free(&p);
}

static void evaluate_class(const struct np_report *r, struct np_desired *d)
{
	evaluate_class_on(r, NULL, d);
}

static void test_present(void **state)
{
	(void)state;
	struct np_report r = { 0 };
	np_collect_fixture("tests/fixtures/nib-vga", "gpu", &r);
	assert_int_equal(r.gpu.n, 1);
	assert_string_equal(r.gpu.devs[0].address, VGA);
	assert_int_equal(r.gpu.devs[0].config_dead, 0); /* its captured config space starts 34 12 11 11 */
	struct np_desired d;
	evaluate_class(&r, &d);
	assert_null(finding(&d, "gpu-missing"));
	assert_string_equal(label(&d, "nodeprint.io/gpu.count"), "1");
	assert_string_equal(cond_status(&d, "AcceleratorsHealthy"), "True");
	np_desired_free(&d);
	np_report_free(&r);
}

static void test_removed(void **state)
{
	(void)state;
	char tmp[] = "/tmp/np-gpu-missing-XXXXXX";
	assert_non_null(mkdtemp(tmp));
	_cleanup_free_ char *cmd = np_asprintf("cp -a '%s/.' '%s/' && rm -rf '%s/sys/devices/pci0000:00/" VGA "' '%s/sys/bus/pci/devices/" VGA "'",
					       np_src("tests/fixtures/nib-vga"), tmp, tmp, tmp);
	assert_int_equal(system(cmd), 0);
	struct np_host h;
	assert_int_equal(np_host_open(&h, tmp), 0);
	struct np_collect_ctx ctx = { .host = &h };
	char *only[] = { (char *)"gpu", NULL };
	struct np_report r = { 0 };
	assert_int_equal(np_collect_all(&ctx, only, &r), 0);
	np_host_close(&h);
	assert_int_equal(r.gpu.status.err, 0);
	assert_int_equal(r.gpu.n, 0);
	struct np_desired d;
	evaluate_class(&r, &d);
	const struct np_finding *f = finding(&d, "gpu-missing");
	assert_non_null(f);
	assert_string_equal(f->subject, "gpus");
	assert_string_equal(f->reason, "GPUMissing");
	assert_non_null(strstr(f->message, "class vga-1x expects 1 GPUs (pinned in the policy: expect.gpus); 0 answer"));
	assert_string_equal(cond_status(&d, "AcceleratorsHealthy"), "False");
	assert_null(label(&d, "nodeprint.io/gpu.count"));
	size_t taints = 0;
	for (size_t i = 0; i < d.n_taints; i++)
		taints += streq(d.taints[i].key, "nodeprint.io/gpu-missing") && streq(d.taints[i].effect, "NoSchedule");
	assert_int_equal(taints, 1);
	np_desired_free(&d);
	/* the Node carried gpu.count from before: it keeps "0", so it stays a GPU Node after a restart */
	struct np_kv had = { .key = (char *)"nodeprint.io/gpu.count", .value = (char *)"1" };
	struct np_node_facts node = { .name = "node-a", .labels = &had, .n_labels = 1 };
	evaluate_class_on(&r, &node, &d);
	assert_string_equal(label(&d, "nodeprint.io/gpu.count"), "0");
	assert_null(label(&d, "nodeprint.io/gpu.model"));
	np_desired_free(&d);
	np_report_free(&r);
	_cleanup_free_ char *rm = np_asprintf("rm -rf '%s'", tmp);
	assert_int_equal(system(rm), 0);
}

/* No expect.gpus: the largest gpu.count of the class's other Nodes, as the agent hands it over. */
static void test_from_peers(void **state)
{
	(void)state;
	struct np_report r = { 0 };
	np_collect_fixture("tests/fixtures/nib-vga", "gpu", &r);
	assert_int_equal(r.gpu.n, 1);
	static const char on[] = "classes:\n  - name: vga\n", off[] = "classes:\n  - name: vga\nhealth: {gpu: {expectFromPeers: false}}\n",
			  pinned[] = "classes:\n  - name: vga\n    expect: {gpus: 1}\n";
	struct np_node_facts node = { .name = "node-a", .peer_gpus = 2, .peer_gpus_node = "node-b", .peer_class = "vga" };
	struct {
		const char *pol;
		struct np_node_facts facts;
		const char *want; /* the message's start, NULL: no finding */
	} cases[] = {
		{ on, node, "class vga expects 2 GPUs (from peers of class vga: Node node-b carries 2, label gpu.count; "
			    "health.gpu.expectFromPeers); 1 answer on the PCI bus (1 listed)" },
		{ off, node, NULL },
		{ pinned, node, NULL }, /* the class pins 1: the policy decides, 1 answers */
		{ on, { .name = "node-a", .peer_gpus = 2, .peer_gpus_node = "node-x", .peer_class = "other" }, NULL },
		{ on, { .name = "node-a", .peer_gpus = 1, .peer_gpus_node = "node-b", .peer_class = "vga" }, NULL },
		{ on, { .name = "node-a" }, NULL }, /* no peer figure (inspect, plan, the first cycle) */
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct np_policy p;
		char *err = NULL;
		assert_int_equal(np_policy_parse(cases[i].pol, strlen(cases[i].pol), "test", &p, &err), 0);
		struct np_desired d;
		assert_int_equal(np_policy_evaluate(&p, &r, NULL, &cases[i].facts, &d), 0);
		const struct np_finding *f = finding(&d, "gpu-missing");
		if (!cases[i].want && f)
			fail_msg("case %zu: unexpected %s", i, f->message);
		if (cases[i].want) {
			assert_non_null(f);
			assert_string_equal(f->reason, "GPUMissing");
			assert_string_equal(f->message, cases[i].want);
			assert_string_equal(cond_status(&d, "AcceleratorsHealthy"), "False");
		}
		np_desired_free(&d);
		np_policy_free(&p);
	}
	np_report_free(&r);
}

static void test_config_dead(void **state)
{
	(void)state;
	size_t len;
	char *cfg = np_slurp("tests/fixtures/nib-vga/sys/bus/pci/devices/" VGA "/config", &len);
	assert_true(len >= 4);
	assert_int_equal(np_pci_config_dead((const uint8_t *)cfg, len), 0);
	free(cfg);
	uint8_t gone[64];
	memset(gone, 0xff, sizeof(gone)); /* what a configuration read no function answers completes with */
	assert_int_equal(np_pci_config_dead(gone, sizeof(gone)), 1);
	assert_int_equal(np_pci_config_dead(gone, 3), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_present),
		cmocka_unit_test(test_removed),
		cmocka_unit_test(test_from_peers),
		cmocka_unit_test(test_config_dead),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
