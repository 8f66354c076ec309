// SPDX-License-Identifier: Apache-2.0
/*
 * RDMA on real captures of the node-in-a-box guest (Debian 6.1 kernel): soft-RoCE rxe0 on eth0
 * (tests/fixtures/nib-rdma: port 1 ACTIVE/LinkUp) and the same guest after QEMU took eth0's carrier
 * away (tests/fixtures/nib-rdma-down: port DOWN/Disabled, eth0 still IFF_UP): the section's values,
 * the bundle item, rdma-port-down / RDMAHealthy, a firmware pin on the rdma component, and the
 * parsers of "<n>: <name>" and rate attributes, the nodeprint_rdma_* metrics and the rdma.<i> labels.
 */
#define _GNU_SOURCE
#include "collectutil.h"
#include "../../pkg/agent/metrics.h"
#include "../../pkg/collect/rdma.h"
#include "../../pkg/policy/desired.h"
#include "../../pkg/shared/macro.h"
#include "../../pkg/shared/strutil.h"

#include <stdlib.h>

static void test_parsers(void **state)
{
	(void)state;
	int code = -1;
	char *name = NULL;
	assert_int_equal(np_rdma_state_parse("4: ACTIVE\n", &code, &name), 0);
	assert_int_equal(code, 4);
	assert_string_equal(name, "ACTIVE");
	free(name);
	assert_int_equal(np_rdma_state_parse("7: Phy Test\n", &code, &name), 0); /* phys_state_to_str() */
	assert_string_equal(name, "Phy Test");
	free(name);
	static const char *const bad[] = { "", "ACTIVE", "4:ACTIVE", "4: ", "4: \n", "256: X", "-1: X", "12345: X",
					   "4: A\tB", ": ACTIVE" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(np_rdma_state_parse(bad[i], &code, &name), -EINVAL);
		assert_null(name);
	}
	double g = -1;
	assert_int_equal(np_rdma_rate_parse("2.5 Gb/sec (1X SDR)\n", &g), 0);
	assert_true(g == 2.5);
	assert_int_equal(np_rdma_rate_parse("100 Gb/sec (4X EDR)", &g), 0);
	assert_true(g == 100);
	assert_int_equal(np_rdma_rate_parse("53.125 Gb/sec (1X HDR)", &g), 0);
	assert_true(g > 53.124 && g < 53.126);
	static const char *const badr[] = { "", "Gb/sec", "2. Gb/sec", "2.5Gb/sec", "2.5 Mb/sec", "x Gb/sec",
					    "1234567890 Gb/sec" };
	for (size_t i = 0; i < ARRAY_SIZE(badr); i++)
		assert_int_equal(np_rdma_rate_parse(badr[i], &g), -EINVAL);
}

static const struct np_rdma_counter *counter(const struct np_rdma_port *p, const char *name)
{
	for (size_t i = 0; i < p->n_counters; i++)
		if (streq(p->counters[i].name, name))
			return &p->counters[i];
	return NULL;
}

static void test_capture(void **state)
{
	(void)state;
	struct np_report r = { 0 };
	np_collect_fixture("tests/fixtures/nib-rdma", "rdma", &r);
	const struct np_rdma *s = &r.rdma;
	assert_int_equal(s->status.err, 0);
	assert_int_equal(s->n, 1);
	const struct np_rdma_dev *d = &s->devs[0];
	assert_string_equal(d->name, "rxe0");
	assert_int_equal(d->status.err, 0);
	assert_string_equal(d->node_type, "CA");              /* node_type "1: CA" */
	assert_string_equal(d->node_guid, "5054:00ff:fe12:3456"); /* from eth0's MAC 52:54:00:12:34:56 */
	assert_string_equal(d->parent, "eth0");
	assert_null(d->fw_ver);   /* rxe has no get_dev_fw_str: an empty line */
	assert_null(d->hca_type); /* absent files */
	assert_null(d->board_id);
	assert_null(d->device);   /* /sys/devices/virtual/infiniband/rxe0: no device link */
	assert_null(d->driver);
	assert_int_equal(d->n_ports, 1);
	const struct np_rdma_port *p = &d->ports[0];
	assert_int_equal(p->status.err, 0);
	assert_int_equal(p->port, 1);
	assert_int_equal(p->state, NP_RDMA_PORT_ACTIVE);
	assert_string_equal(p->state_name, "ACTIVE");
	assert_int_equal(p->phys_state, NP_RDMA_PHYS_LINK_UP);
	assert_string_equal(p->phys_state_name, "LinkUp");
	assert_string_equal(p->link_layer, "Ethernet");
	assert_string_equal(p->rate, "2.5 Gb/sec (1X SDR)");
	assert_true(p->rate_gbps == 2.5);
	assert_int_equal(p->lid, 0);
	assert_string_equal(p->netdev, "eth0"); /* gid_attrs/ndevs/0 */
	assert_int_equal(p->netdev_up, 1);      /* flags 0x1003 */
	assert_string_equal(p->netdev_operstate, "up");
	assert_int_equal(p->n_counters, 15);    /* 16 hw_counters files less lifespan, no counters/ */
	assert_null(counter(p, "lifespan"));
	assert_non_null(counter(p, "sent_pkts"));
	assert_true(counter(p, "sent_pkts")->hw);
	assert_int_equal(counter(p, "sent_pkts")->value, 0);
	assert_true(counter(p, "sent_pkts")->per_second < 0);
	struct np_bundle b = { 0 };
	assert_int_equal(np_rdma_bundle(s, &b), 0);
	assert_int_equal(b.n, 1);
	assert_string_equal(b.items[0].component, "rdma");
	assert_string_equal(b.items[0].key, "- -");
	assert_string_equal(b.items[0].value, "firmware none");
	np_bundle_free(&b);
	np_report_free(&r);
}

static const struct np_finding *finding(const struct np_desired *d, const char *id)
{
	for (size_t i = 0; i < d->n_findings; i++)
		if (streq(d->findings[i].id, id))
			return &d->findings[i];
	return NULL;
}

static const struct np_condition *condition(const struct np_desired *d, const char *type)
{
	for (size_t i = 0; i < d->n_conditions; i++)
		if (streq(d->conditions[i].type, type))
			return &d->conditions[i];
	return NULL;
}

static void evaluate(const char *fixture, const char *yaml, struct np_report *r, struct np_desired *d)
{
	struct np_policy p;
	char *err = NULL;
	np_collect_fixture(fixture, "rdma", r);
	if (yaml)
		assert_int_equal(np_policy_parse(yaml, strlen(yaml), "test", &p, &err), 0);
	else
		assert_int_equal(np_policy_default(&p), 0);
	assert_null(err);
	assert_int_equal(np_policy_evaluate(&p, r, NULL, NULL, d), 0);
	np_policy_free(&p);
}

static void test_port_down(void **state)
{
	(void)state;
	struct np_report r = { 0 };
	struct np_desired d;
	evaluate("tests/fixtures/nib-rdma", NULL, &r, &d);
	assert_null(finding(&d, "rdma-port-down"));
	assert_string_equal(condition(&d, "RDMAHealthy")->status, "True");
	np_desired_free(&d);
	np_report_free(&r);

	r = (struct np_report){ 0 };
	evaluate("tests/fixtures/nib-rdma-down", NULL, &r, &d);
	assert_int_equal(r.rdma.devs[0].ports[0].state, 1);
	assert_string_equal(r.rdma.devs[0].ports[0].phys_state_name, "Polling"); /* rxe_query_port(): IFF_UP, no carrier */
	assert_string_equal(r.rdma.devs[0].ports[0].netdev_operstate, "down");
	const struct np_finding *f = finding(&d, "rdma-port-down");
	assert_non_null(f);
	assert_string_equal(f->subject, "rxe0/1");
	assert_string_equal(f->reason, "PortDown");
	assert_string_equal(f->message, "RDMA port rxe0/1 (Ethernet) is DOWN, phys_state Polling, while its netdev "
					"eth0 is up (operstate down): RDMA over it fails");
	const struct np_condition *c = condition(&d, "RDMAHealthy");
	assert_string_equal(c->status, "False");
	assert_string_equal(c->reason, "PortDown");
	np_desired_free(&d);
	np_report_free(&r);

	/* switched off in the policy: no finding */
	r = (struct np_report){ 0 };
	evaluate("tests/fixtures/nib-rdma-down", "health:\n  rdma:\n    portDown: false\n", &r, &d);
	assert_null(finding(&d, "rdma-port-down"));
	np_desired_free(&d);
	np_report_free(&r);
}

static char *render(const struct np_report *r)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	assert_non_null(f);
	assert_int_equal(np_metrics_render(f, r, NULL, NULL), 0);
	fclose(f);
	return buf;
}

/* /metrics of both captures: the port's state files as node_exporter's ids, 2.5 Gb/sec as bytes/s */
static void test_metrics(void **state)
{
	(void)state;
	static const struct {
		const char *fixture, *state, *phys, *info;
	} want[] = {
		{ "tests/fixtures/nib-rdma", "} 4\n", "} 5\n", "state=\"ACTIVE\",phys_state=\"LinkUp\"," },
		{ "tests/fixtures/nib-rdma-down", "} 1\n", "} 2\n", "state=\"DOWN\",phys_state=\"Polling\"," },
	};
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		struct np_report r = { 0 };
		np_collect_fixture(want[i].fixture, "rdma", &r);
		_cleanup_free_ char *m = render(&r);
		_cleanup_free_ char *st = np_asprintf("\nnodeprint_rdma_state_id{device=\"rxe0\",port=\"1\"%s", want[i].state);
		_cleanup_free_ char *ph = np_asprintf("\nnodeprint_rdma_physical_state_id{device=\"rxe0\",port=\"1\"%s",
						      want[i].phys);
		_cleanup_free_ char *info = np_asprintf("\nnodeprint_rdma_port_info{device=\"rxe0\",port=\"1\",%s"
							"link_layer=\"Ethernet\",netdev=\"eth0\"} 1\n", want[i].info);
		assert_non_null(strstr(m, "# TYPE nodeprint_rdma_state_id gauge\n"));
		assert_non_null(strstr(m, st));
		assert_non_null(strstr(m, ph));
		assert_non_null(strstr(m, "\nnodeprint_rdma_rate_bytes_per_second{device=\"rxe0\",port=\"1\"} 312500000\n"));
		assert_non_null(strstr(m, info));
		np_report_free(&r);
	}

	/* a state the kernel did not give has no series, the info says "" */
	struct np_report r = { 0 };
	np_collect_fixture("tests/fixtures/nib-rdma", "rdma", &r);
	struct np_rdma_port *p = &r.rdma.devs[0].ports[0];
	p->state = -1;
	p->rate_gbps = -1;
	free(p->state_name);
	p->state_name = NULL;
	_cleanup_free_ char *m = render(&r);
	assert_null(strstr(m, "nodeprint_rdma_state_id{"));
	assert_null(strstr(m, "nodeprint_rdma_rate_bytes_per_second{"));
	assert_non_null(strstr(m, "nodeprint_rdma_physical_state_id{device=\"rxe0\",port=\"1\"} 5\n"));
	assert_non_null(strstr(m, "nodeprint_rdma_port_info{device=\"rxe0\",port=\"1\",state=\"\",phys_state=\"LinkUp\","));
	np_report_free(&r);
}

static const char *label(const struct np_desired *d, const char *key)
{
	for (size_t i = 0; i < d->n_labels; i++)
		if (streq(d->labels[i].key, key))
			return d->labels[i].value;
	return NULL;
}

/*
 * rxe: no driver, no hca_type, an empty fw_ver: the bundle key "- -" says nothing (its label value
 * would be ""), so no model label; the firmware is "none"; the bundle keeps the device
 */
static void test_labels(void **state)
{
	(void)state;
	struct np_report r = { 0 };
	struct np_desired d;
	evaluate("tests/fixtures/nib-rdma", NULL, &r, &d);
	bool in_bundle = false;
	for (size_t i = 0; i < r.bundle.n; i++)
		in_bundle |= streq(r.bundle.items[i].component, "rdma") && streq(r.bundle.items[i].key, "- -");
	assert_true(in_bundle);
	assert_null(label(&d, "nodeprint.io/rdma.0.model"));
	assert_string_equal(label(&d, "nodeprint.io/rdma.0.firmware"), "firmware_none");
	assert_null(label(&d, "nodeprint.io/rdma.1.model"));
	assert_null(label(&d, "nodeprint.io/rdma.1.firmware"));
	for (size_t i = 0; i < d.n_labels; i++)
		assert_true(d.labels[i].value[0] != '\0' || !strstr(d.labels[i].key, "/rdma."));
	np_desired_free(&d);
	np_report_free(&r);

	/* an HCA: "<driver> <hca_type>" and its firmware */
	r = (struct np_report){ 0 };
	np_collect_fixture("tests/fixtures/nib-rdma", "rdma", &r);
	struct np_rdma_dev *dev = &r.rdma.devs[0];
	dev->driver = strdup("mlx5_core");
	dev->hca_type = strdup("MT4123");
	dev->fw_ver = strdup("20.31.1014");
	np_bundle_free(&r.bundle);
	assert_int_equal(np_rdma_bundle(&r.rdma, &r.bundle), 0);
	struct np_policy p;
	assert_int_equal(np_policy_default(&p), 0);
	assert_int_equal(np_policy_evaluate(&p, &r, NULL, NULL, &d), 0);
	np_policy_free(&p);
	assert_string_equal(label(&d, "nodeprint.io/rdma.0.model"), "mlx5_core_MT4123");
	assert_string_equal(label(&d, "nodeprint.io/rdma.0.firmware"), "firmware_20.31.1014");
	np_desired_free(&d);
	np_report_free(&r);
}

/* A class pinning the rdma component: the soft device's "firmware none" is Drift against a pin. */
static void judge_pin(const char *allowed, struct np_desired *d)
{
	struct np_report r = { 0 };
	struct np_policy p;
	struct np_bundle b = { 0 };
	char *err = NULL;
	_cleanup_free_ char *yaml = np_asprintf("classes:\n  - name: roce\n    pins:\n      rdma: {\"- -\": [\"%s\"]}\n",
						allowed);
	assert_int_equal(np_policy_parse(yaml, strlen(yaml), "test", &p, &err), 0);
	assert_null(err);
	np_collect_fixture("tests/fixtures/nib-rdma", "rdma", &r);
	assert_int_equal(np_rdma_bundle(&r.rdma, &b), 0);
	*d = (struct np_desired){ 0 };
	assert_int_equal(np_policy_judge_bundle(&p.classes[0], &b, d), 0);
	np_bundle_free(&b);
	np_report_free(&r);
	np_policy_free(&p);
}

static void test_pin(void **state)
{
	(void)state;
	struct np_desired d;
	judge_pin("firmware 20.*", &d);
	const struct np_finding *f = finding(&d, "firmware-unpinned");
	assert_non_null(f);
	assert_string_equal(f->reason, "Drift");
	assert_string_equal(f->message, "rdma - - runs firmware none, not a pinned version");
	np_desired_free(&d);
	judge_pin("firmware none", &d);
	assert_null(finding(&d, "firmware-unpinned"));
	np_desired_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parsers),
		cmocka_unit_test(test_capture),
		cmocka_unit_test(test_port_down),
		cmocka_unit_test(test_pin),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_labels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
