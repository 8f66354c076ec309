// SPDX-License-Identifier: Apache-2.0
/*
 * A GPU's own uncorrectable error counters, judged and exported: the amdgpu Radeon RX Vega of
 * prometheus/procfs's public capture (tests/fixtures/gpu-public) through the collector, given RAS
 * block counts parsed from the kernel's own format ("ue: N\nce: N\n", amdgpu_ras_sysfs_read(); no
 * public capture of a RAS file exists to copy), against the built-in policy
 * (health.gpu.uncorrectableMax 0 -> gpu-uncorrectable), a policy that turns it off, and /metrics.
 */
#define _GNU_SOURCE
#include "collectutil.h"
#include "../../pkg/agent/metrics.h"
#include "../../pkg/collect/gpu.h"
#include "../../pkg/policy/desired.h"
#include "../../pkg/shared/macro.h"
#include "../../pkg/shared/strutil.h"

#include <stdlib.h>

static void add_ras(struct np_gpu_dev *d, const char *block, const char *text)
{
	d->ras = realloc(d->ras, (d->n_ras + 1) * sizeof(*d->ras));
	assert_non_null(d->ras);
	struct np_gpu_ras *x = &d->ras[d->n_ras++];
	x->block = strdup(block);
	assert_int_equal(np_amdgpu_ras_parse(text, &x->ue, &x->ce, &x->de), 0);
	d->ras_read = true;
}

static const struct np_finding *finding(const struct np_desired *d, const char *id)
{
	for (size_t i = 0; i < d->n_findings; i++)
		if (streq(d->findings[i].id, id))
			return &d->findings[i];
	return NULL;
}

static void evaluate(const char *pol, const struct np_report *r, struct np_desired *d)
{
	struct np_policy p;
	char *err = NULL;
	assert_int_equal(np_policy_parse(pol, strlen(pol), "test", &p, &err), 0);
	assert_null(err);
	assert_int_equal(np_policy_evaluate(&p, r, NULL, NULL, d), 0);
	np_policy_free(&p);
}

static char *render(const struct np_report *r)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	assert_int_equal(np_metrics_render(f, r, NULL, NULL), 0);
	fclose(f);
	return buf;
}

static void test_uncorrectable(void **state)
{
	(void)state;
	struct np_report r = { 0 };
	np_collect_fixture("tests/fixtures/gpu-public", "gpu", &r);
	assert_int_equal(r.gpu.n, 1);
	struct np_gpu_dev *dev = &r.gpu.devs[0];

	/* as captured: no RAS folder, nothing counted, nothing found, no series */
	struct np_desired d;
	evaluate("", &r, &d);
	assert_null(finding(&d, "gpu-uncorrectable"));
	np_desired_free(&d);
	_cleanup_free_ char *none = render(&r);
	assert_null(strstr(none, "nodeprint_gpu_ras_errors{"));
	assert_non_null(strstr(none, "# TYPE nodeprint_gpu_ras_errors gauge"));

	/* the kernel-doc example: a correctable error only */
	add_ras(dev, "gfx", "ue: 0\nce: 1\n");
	evaluate("", &r, &d);
	assert_null(finding(&d, "gpu-uncorrectable"));
	np_desired_free(&d);

	/* two uncorrectable errors in the memory controller */
	add_ras(dev, "umc", "ue: 2\nce: 5\n");
	assert_int_equal(np_gpu_uncorrectable(dev), 2);
	evaluate("", &r, &d);
	const struct np_finding *f = finding(&d, "gpu-uncorrectable");
	assert_non_null(f);
	assert_string_equal(f->subject, "0000:09:00.0");
	assert_string_equal(f->reason, "GPUUncorrectableErrors");
	assert_non_null(strstr(f->message, "GPU 0000:09:00.0 (1002:687f): 2 uncorrectable errors since the driver loaded (umc 2)"));
	const char *status = NULL;
	for (size_t i = 0; i < d.n_conditions; i++)
		if (streq(d.conditions[i].type, "AcceleratorsHealthy"))
			status = d.conditions[i].status;
	assert_string_equal(status, "False");
	for (size_t i = 0; i < d.n_taints; i++) /* the default action taints nothing */
		assert_null(strstr(d.taints[i].key, "gpu-uncorrectable"));
	np_desired_free(&d);

	/* a threshold above the count, and off */
	evaluate("health: {gpu: {uncorrectableMax: 2}}\n", &r, &d);
	assert_null(finding(&d, "gpu-uncorrectable"));
	np_desired_free(&d);
	evaluate("health: {gpu: {uncorrectableMax: -1}}\n", &r, &d);
	assert_null(finding(&d, "gpu-uncorrectable"));
	np_desired_free(&d);

	_cleanup_free_ char *buf = render(&r);
	const char *want[] = {
		"nodeprint_gpu_ras_errors{device=\"0000:09:00.0\",block=\"gfx\",type=\"uncorrectable\"} 0\n",
		"nodeprint_gpu_ras_errors{device=\"0000:09:00.0\",block=\"gfx\",type=\"correctable\"} 1\n",
		"nodeprint_gpu_ras_errors{device=\"0000:09:00.0\",block=\"umc\",type=\"uncorrectable\"} 2\n",
		"nodeprint_gpu_ras_errors{device=\"0000:09:00.0\",block=\"umc\",type=\"correctable\"} 5\n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		if (!strstr(buf, want[i]))
			fail_msg("missing: %s", want[i]);
	assert_null(strstr(buf, "type=\"deferred\"")); /* the kernel's two-line format has no deferred count */
	np_report_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uncorrectable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
