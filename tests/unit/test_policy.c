// SPDX-License-Identifier: Apache-2.0
/* Policy parsing and validation: defaults, overrides, errors naming file:line:column and field. */
#include "testutil.h"
#include "../../pkg/policy/health_block.h"
#include "../../pkg/policy/health_gpu.h"
#include "../../pkg/policy/health_nvme.h"
#include "../../pkg/policy/policy.h"
#include "../../pkg/policy/version.h"

static int parse(const char *yaml, struct np_policy *p, char **err)
{
	return np_policy_parse(yaml, strlen(yaml), "p.yaml", p, err);
}

static void expect_error(const char *yaml, const char *want)
{
	struct np_policy p;
	char *err = NULL;
	assert_int_equal(parse(yaml, &p, &err), -EINVAL);
	assert_non_null(err);
	if (!strstr(err, want))
		fail_msg("error '%s' does not contain '%s'", err, want);
	free(err);
}

static void test_default(void **state)
{
	(void)state;
	struct np_policy p;
	assert_int_equal(np_policy_default(&p), 0);
	assert_string_equal(p.label_prefix, "nodeprint.io");
	assert_int_equal(p.n_classes, 0);
	assert_int_equal(NP_HEALTH_OF(&p, nvme)->critical_warning_mask, 0x3f);
	assert_true(NP_HEALTH_OF(&p, block)->stall_seconds == 10);
	const struct np_action *a = np_policy_action(&p, "nvme-critical");
	assert_non_null(a);
	assert_string_equal(a->condition, "NVMeHealthy");
	assert_string_equal(a->taint_effect, "NoSchedule");
	assert_string_equal(a->event_reason, "NVMeCriticalWarning");
	assert_string_equal(np_policy_action(&p, "multipath-degraded")->taint_effect, "PreferNoSchedule");
	assert_true(p.event_burst == 5 && p.event_per_minute == 1 && p.event_aggregate_seconds == 600);
	np_policy_free(&p);
}

/* Event limits: a partial override keeps the other defaults; out-of-range values are errors. */
static void test_event_limits(void **state)
{
	(void)state;
	struct np_policy p;
	char *err = NULL;
	assert_int_equal(parse("events: {burst: 100, perMinute: 60}\n", &p, &err), 0);
	assert_true(p.event_burst == 100 && p.event_per_minute == 60 && p.event_aggregate_seconds == 600);
	np_policy_free(&p);
	expect_error("events: {burst: 0}\n", "p.yaml:1:17: events.burst: expected a number from 1 to 1000, got '0'");
	expect_error("events:\n  perMinute: -1\n", "p.yaml:2:14: events.perMinute: expected a number from 0 to 6000");
	expect_error("events: {aggregate: 5}\n", "events.aggregate: unknown field");
	/* a second document would be ignored with its typos: an error */
	expect_error("events: {burst: 5}\n---\nevents: {burst: 6}\nbogus: 1\n", "p.yaml:3:1: a second YAML document");
	expect_error("events: {burst: 5}\n---\n[oops\n", "not YAML after the policy");
	/* a key given twice would silently decide: an error naming both lines */
	expect_error("events:\n  burst: 5\n  burst: 6\n", "p.yaml:3:3: burst: duplicate key (first at line 2)");
	expect_error("actions:\n  nvme-critical: {taint: none}\n  nvme-critical: {taint: NoSchedule}\n",
		     "nvme-critical: duplicate key");
}

static void test_example_file(void **state)
{
	(void)state;
	struct np_policy p;
	char *err = NULL;
	int r = np_policy_load(np_src("docs/policy-example.yaml"), &p, &err);
	if (r < 0)
		fail_msg("%s", err);
	assert_string_equal(p.label_prefix, "nodeprint.io");
	assert_int_equal(p.n_classes, 2);
	assert_string_equal(p.classes[0].name, "r740-nvme");
	assert_true(p.classes[0].n_pins >= 4);
	assert_string_equal(p.classes[0].pins[0].component, "kernel");
	/* a partial override keeps the defaults it does not mention */
	assert_int_equal(NP_HEALTH_OF(&p, nvme)->percentage_used_max, 90);
	assert_true(NP_HEALTH_OF(&p, nvme)->media_errors_growth);
	assert_string_equal(np_policy_action(&p, "multipath-degraded")->taint_effect, "NoSchedule");
	assert_string_equal(np_policy_action(&p, "nvme-critical")->condition, "NVMeHealthy");
	np_policy_free(&p);
}

static void test_errors_name_place_and_field(void **state)
{
	(void)state;
	expect_error("labelPrefix: nodeprint.io\nhealth:\n  nvme:\n    percentageUsedMx: 3\n",
		     "p.yaml:4:5: health.nvme.percentageUsedMx: unknown field");
	expect_error("actions:\n  nvme-critical: {taint: NoSchedul}\n",
		     "p.yaml:2:26: actions.nvme-critical.taint: taint effect must be NoSchedule");
	expect_error("labelPrefix: Bad_Prefix\n", "p.yaml:1:14: labelPrefix: 'Bad_Prefix' is not a DNS subdomain");
	/* Kubernetes' own prefixes: stale-key removal would delete kubernetes.io/hostname, node.kubernetes.io taints */
	expect_error("labelPrefix: kubernetes.io\n", "p.yaml:1:14: labelPrefix: 'kubernetes.io' is reserved");
	expect_error("labelPrefix: node.kubernetes.io\n", "'node.kubernetes.io' is reserved");
	expect_error("labelPrefix: k8s.io\n", "'k8s.io' is reserved");
	expect_error("labelPrefix: storage.k8s.io\n", "'storage.k8s.io' is reserved");
	struct np_policy ok;
	char *e = NULL;
	assert_int_equal(parse("labelPrefix: notkubernetes.io\n", &ok, &e), 0); /* a different domain */
	np_policy_free(&ok);
	expect_error("classes:\n  - name: a\n  - name: a\n", "duplicate class name 'a'");
	expect_error("classes:\n  - pins: {kernel: {release: [x]}}\n", "classes[0]: name is required");
	expect_error("classes:\n  - name: a\n    offloads:\n      - {off: [rx-lro]}\n",
		     "p.yaml:4:9: classes[0].offloads[0]: driver is required");
	expect_error("baseline:\n  profiles:\n    - {name: a, rw: randread}\n    - {name: a, rw: randwrite}\n",
		     "p.yaml:4:7: baseline.profiles[1]: duplicate profile name 'a'");
	expect_error("baseline:\n  profiles: randread\n", "baseline.profiles: expected a list");
	expect_error("classes: {name: a}\n", "classes: expected a list");
	expect_error("classes:\n  - name: a\n    pins: {firmware: {x: [y]}}\n", "unknown bundle component 'firmware'");
	expect_error("heartbeatSeconds: soon\n", "heartbeatSeconds: expected a number from 10 to 86400, got 'soon'");
	expect_error("health: {nvme: {criticalWarningBits: [hot]}}\n", "unknown critical warning bit 'hot'");
	expect_error("labelPrefix: [a\n", "p.yaml:2:1: not YAML");
	expect_error("- a\n- b\n", "p.yaml:1:1: not a nodeprint policy: the file is a list, a policy is a mapping");
	expect_error("root:x:0:0:root:/root:/bin/bash\n", "p.yaml:1:1: not a nodeprint policy: the file is plain text");
}

static void test_hostile_documents(void **state)
{
	(void)state;
	/* alias amplification: one anchored list of 1000 values referenced by 200 pins is 200,000
	 * node visits from a few kilobytes of text; bounded by the visit limit, not by memory */
	char *doc = malloc(64 * 1024);
	size_t w = (size_t)sprintf(doc, "classes: [{name: z, pins: {kernel: {k0: &e [");
	for (int i = 0; i < 1000; i++)
		w += (size_t)sprintf(doc + w, "%sv%d", i ? "," : "", i);
	w += (size_t)sprintf(doc + w, "]");
	for (int i = 1; i < 200; i++)
		w += (size_t)sprintf(doc + w, ", k%d: *e", i);
	sprintf(doc + w, "}}}]\n");
	struct np_policy p;
	char *err = NULL;
	assert_int_equal(parse(doc, &p, &err), -EINVAL);
	assert_non_null(strstr(err, "document too large"));
	free(err);
	free(doc);
	assert_int_equal(np_policy_parse("a\0b", 3, "bin", &p, &err), -EINVAL);
	assert_non_null(strstr(err, "NUL"));
	free(err);
	/* regression: libyaml's load is quadratic in flow nesting; 100,000 levels (200 KB) took
	 * minutes (a reloading agent hung): refused after the 32nd level */
	const size_t deep = 100000;
	doc = malloc(2 * deep + 16);
	w = (size_t)sprintf(doc, "health: ");
	memset(doc + w, '[', deep);
	memset(doc + w + deep, ']', deep);
	doc[w + 2 * deep] = '\0';
	assert_int_equal(parse(doc, &p, &err), -EINVAL);
	assert_non_null(strstr(err, "p.yaml:1:40: nested deeper than 32 levels"));
	free(err);
	free(doc);
	/* the deepest real policy (classes[].pins.<component>.<key>[]) is far from it */
	assert_int_equal(parse("classes: [{name: a, pins: {kernel: {release: [\"6.1.*\"]}}}]\n", &p, &err), 0);
	np_policy_free(&p);
	/* an empty document is the default policy */
	assert_int_equal(parse("", &p, &err), 0);
	assert_string_equal(p.label_prefix, "nodeprint.io");
	np_policy_free(&p);
}

/*
 * Regression: an int threshold took any number in range and truncated it, so
 * `percentageUsedMax: -0.5` became 0 (every used drive nvme-critical, NoSchedule) and
 * `uncorrectableMax: 0.9` became 0 without a word; a whole-number key now says so.
 */
static void test_whole_numbers(void **state)
{
	(void)state;
	expect_error("health:\n  nvme:\n    percentageUsedMax: -0.5\n",
		     "p.yaml:3:24: health.nvme.percentageUsedMax: expected a whole number, got '-0.5'");
	expect_error("health: {gpu: {uncorrectableMax: 0.9}}\n", "health.gpu.uncorrectableMax: expected a whole number");
	expect_error("health: {multipath: {flapsPerWindow: 2.5}}\n", "expected a whole number, got '2.5'");
	/* the range is printed as the numbers a user types, not 1e+09 */
	expect_error("health: {gpu: {uncorrectableMax: -2}}\n", "expected a number from -1 to 1000000000, got '-2'");
	struct np_policy p;
	char *err = NULL;
	assert_int_equal(parse("health: {nvme: {percentageUsedMax: 90.0}, gpu: {uncorrectableMax: 1e3}}\n", &p, &err), 0);
	assert_int_equal(NP_HEALTH_OF(&p, nvme)->percentage_used_max, 90);
	assert_int_equal(NP_HEALTH_OF(&p, gpu)->uncorrectable_max, 1000);
	np_policy_free(&p);
}

/*
 * Regression: a range with a typo never matched, so every node of the class drifted
 * (firmware-unpinned, NoSchedule) while `policy --check` said ok. ">= 6.1.0-25" (a space
 * after the operator) split into ">=" (against "") and "6.1.0-25" (no operator: false).
 */
static void test_pin_range_typos(void **state)
{
	(void)state;
	/* likewise a nodeLabels key no Node can carry: the class matched nothing, silently */
	expect_error("classes:\n  - name: x\n    match: {nodeLabels: {\"node role\": a}}\n",
		     "p.yaml:3:25: classes[0].match.nodeLabels: 'node role' is not a label key");
	expect_error("classes:\n  - name: x\n    match:\n      nodeLabels: {\"\": a}\n", "'' is not a label key");
	struct np_policy p;
	char *err = NULL;
	assert_int_equal(parse("classes:\n  - name: x\n    match: {nodeLabels: {node.kubernetes.io/instance-type: "
			       "\"r740*\", zone: a}}\n", &p, &err), 0);
	assert_int_equal(p.classes[0].n_labels, 2);
	np_policy_free(&p);
	expect_error("classes:\n  - name: x\n    pins: {kernel: {release: [\">= 6.1.0-25\"]}}\n",
		     "p.yaml:3:30: classes[0].pins.kernel.release: '>= 6.1.0-25': an operator without a version");
	expect_error("classes:\n  - name: x\n    pins: {kernel: {release: [\">=6.1.0-25 6.1.0-30\"]}}\n",
		     "'>=6.1.0-25 6.1.0-30': every comparison of a range starts with");
	expect_error("classes:\n  - name: x\n    pins: {nic: {\"*\": [\"=>14.32\"]}}\n", "an unknown operator");
	expect_error("classes:\n  - name: x\n    pins: {kernel: {release: [\">=1 <\"]}}\n", "an operator without a version");
	assert_null(np_version_pattern_error("6.1.0-*"));
	assert_null(np_version_pattern_error(">=6.1.0-25 <6.1.0-30"));
	assert_null(np_version_pattern_error(">=6.1.0-25,<6.1.0-30"));
	assert_null(np_version_pattern_error("!=1.0 "));
	assert_non_null(np_version_pattern_error("!1.0"));
	/* what the validation lets through is judged as written */
	assert_true(np_version_match(">=6.1.0-25,<6.1.0-30", "6.1.0-28"));
	assert_false(np_version_match(">= 6.1.0-25", "6.1.0-28"));
}

static void test_version_match(void **state)
{
	(void)state;
	assert_true(np_version_match("6.1.0-*", "6.1.0-41-amd64"));
	assert_false(np_version_match("6.1.0-*", "6.12.0-1-amd64"));
	assert_true(np_version_match(">=6.1.0-25 <6.1.0-30", "6.1.0-28"));
	assert_false(np_version_match(">=6.1.0-25 <6.1.0-30", "6.1.0-9"));   /* numbers: 9 < 25 */
	assert_false(np_version_match(">=6.1.0-25 <6.1.0-30", "6.1.0-30"));
	assert_true(np_version_match(">=0xd0003a5", "0xd0003b0"));
	assert_false(np_version_match(">>1", "2"));
	assert_false(np_version_match("x", NULL));
}

/*
 * Regression: ranges used strverscmp(3), which reads a leading zero as a fraction, so a pin
 * "<6.18.0100" judged 6.18.44 as drift although `sort -V` (what docs/policy.md promises) puts it
 * first. np_vercmp() against `sort -V` itself on versions seen on real nodes: kernel releases
 * (Debian, Ubuntu, RHEL, upstream rc), Debian package versions with epochs and tildes, NVMe, NIC and
 * BIOS firmware, CPU microcode.
 */
static void test_vercmp_is_sort_V(void **state)
{
	(void)state;
	static const char *const seen[] = {
		"6.18.0100", "6.18.44", "6.1.0-25-amd64", "6.1.0-9-amd64", "6.12.0-1-amd64", "6.1.0-41-amd64",
		"5.15.0-105-generic", "6.8.0-31-generic", "6.9.0-rc7", "6.9.0", "6.9.0-rc7+",
		"5.14.0-362.8.1.el9_3.x86_64", "5.14.0-70.13.1.el9_0.x86_64", "4.18.0-513.5.1.el8_9.x86_64",
		"1:2.38.1-5+deb12u1", "2.38.1-5", "2.38.1-5+deb12u1", "1.0~rc1-1", "1.0-1", "1.0~~a", "1.0~",
		"7.2.22", "GDC5602Q", "GDC5302Q", "EDA7602Q", "2B2QEXM7", "2.14.1", "2.9.4", "1.10.2", "U46 v2.72",
		"0xd0003a5", "0xd0003b9", "0x2b000590", "0xf0", "16.35.3006", "16.35.2000", "22.39.1002",
		"1.2.3~beta", "1.2.3", "0.8.2", "0.10.0", "2.3.tar.gz", "2.3.4",
	};
	size_t n = sizeof(seen) / sizeof(seen[0]);
	char in[] = "/tmp/np-vercmp-XXXXXX";
	int fd = mkstemp(in);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s\n", seen[i]);
	fclose(f);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "LC_ALL=C sort -V %s", in);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char sorted[64][64];
	size_t k = 0;
	while (k < 64 && fgets(sorted[k], sizeof(sorted[k]), p)) {
		sorted[k][strcspn(sorted[k], "\n")] = '\0';
		k++;
	}
	assert_int_equal(pclose(p), 0);
	unlink(in);
	assert_int_equal(k, n);
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++) {
			if (np_vercmp(sorted[i], sorted[j]) > 0)
				fail_msg("sort -V puts %s before %s, np_vercmp the other way", sorted[i], sorted[j]);
			if (np_vercmp(sorted[j], sorted[i]) < 0)
				fail_msg("np_vercmp is not antisymmetric on %s, %s", sorted[i], sorted[j]);
		}
	assert_true(np_vercmp(sorted[0], sorted[n - 1]) < 0);
	/* the pin of the report: 6.18.44 sorts before 6.18.0100 */
	assert_true(np_version_match("<6.18.0100", "6.18.44"));
	assert_true(np_vercmp("1.0~rc1", "1.0") < 0);
	assert_int_equal(np_vercmp("6.1.0-25", "6.1.0-025"), 0);
	assert_int_equal(np_vercmp("", ""), 0);
	assert_true(np_vercmp("", "0") < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default),
		cmocka_unit_test(test_event_limits),
		cmocka_unit_test(test_example_file),
		cmocka_unit_test(test_errors_name_place_and_field),
		cmocka_unit_test(test_hostile_documents),
		cmocka_unit_test(test_whole_numbers),
		cmocka_unit_test(test_pin_range_typos),
		cmocka_unit_test(test_version_match),
		cmocka_unit_test(test_vercmp_is_sort_V),
	};
	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
