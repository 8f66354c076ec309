// SPDX-License-Identifier: Apache-2.0
/* Desired state: class matching, bundle pins, labels, annotation budget, taints, conditions, events. */
#include "testutil.h"
#include "../../pkg/collect/collector.h"
#include "../../pkg/policy/desired.h"
#include "../../pkg/policy/label.h"
#include "../../pkg/report/json.h"
#include "../../pkg/shared/macro.h"
#include "../../pkg/shared/strutil.h"

#include <sys/stat.h>

static struct np_report rep;
static char release[128];

static int setup(void **state)
{
	(void)state;
	struct np_host h;
	if (np_host_open(&h, np_src("tests/fixtures/host-vm")) < 0)
		return -1;
	struct np_collect_ctx ctx = { .host = &h };
	char *only[] = { "kernel", NULL };
	int r = np_collect_all(&ctx, only, &rep);
	np_host_close(&h);
	snprintf(release, sizeof(release), "%s", rep.kernel.release ? rep.kernel.release : "");
	/* judged as a whole report: the capture's bundle is its kernel (test_partial_plans_only_what_was_read
	 * puts the partial mark back) */
	np_strv_free(rep.only);
	rep.only = NULL;
	return r;
}

static int teardown(void **state)
{
	(void)state;
	np_report_free(&rep);
	return 0;
}

static const struct np_kv node_labels[] = { { "node.kubernetes.io/instance-type", "lab-vm" } };
static const struct np_node_facts node = { .name = "node-a", .labels = node_labels, .n_labels = 1 };

static void evaluate(const char *yaml, struct np_desired *d)
{
	struct np_policy p;
	char *err = NULL;
	if (np_policy_parse(yaml, strlen(yaml), "t.yaml", &p, &err) < 0)
		fail_msg("%s", err);
	assert_int_equal(np_policy_evaluate(&p, &rep, NULL, &node, d), 0);
	np_policy_free(&p);
}

static const char *label(const struct np_desired *d, const char *key)
{
	for (size_t i = 0; i < d->n_labels; i++)
		if (streq(d->labels[i].key, key))
			return d->labels[i].value;
	return NULL;
}

static const struct np_condition *cond(const struct np_desired *d, const char *type)
{
	for (size_t i = 0; i < d->n_conditions; i++)
		if (streq(d->conditions[i].type, type))
			return &d->conditions[i];
	return NULL;
}

static void test_default_policy_no_class(void **state)
{
	(void)state;
	struct np_desired d;
	evaluate("", &d);
	assert_null(d.klass);
	assert_string_equal(d.bundle_state, "unknown");
	assert_string_equal(label(&d, "nodeprint.io/bundle"), rep.bundle.hash);
	assert_string_equal(label(&d, "nodeprint.io/bundle-state"), "unknown");
	assert_int_equal(d.n_taints, 0);
	assert_string_equal(cond(&d, "BundlePinned")->status, "Unknown");
	assert_string_equal(cond(&d, "BundlePinned")->reason, "NoClass");
	for (size_t i = 0; i < d.n_labels; i++) {
		assert_true(np_label_key_valid(d.labels[i].key));
		assert_true(np_label_value_valid(d.labels[i].value));
	}
	np_desired_free(&d);
}

/* --only kernel: no bundle labels, no fingerprint, no drift judged, no condition of a section not read */
static void test_partial_plans_only_what_was_read(void **state)
{
	(void)state;
	struct np_desired d;
	char *only[] = { "kernel", NULL };
	rep.only = only;
	evaluate("classes:\n  - name: lab\n    pins: {kernel: {release: ['>=9.0 <9.1']}}\n", &d);
	rep.only = NULL;
	assert_null(label(&d, "nodeprint.io/bundle"));
	assert_null(label(&d, "nodeprint.io/bundle-state"));
	assert_non_null(label(&d, "nodeprint.io/kernel"));
	assert_int_equal(d.n_annotations, 0);
	assert_int_equal(d.n_findings, 0); /* the pin would say drift: a partial bundle is not judged */
	assert_int_equal(d.n_conditions, 0); /* no action judges the kernel section alone */
	np_desired_free(&d);

	char *only_pci[] = { "pci", NULL };
	rep.only = only_pci;
	evaluate("", &d);
	rep.only = NULL;
	assert_int_equal(d.n_conditions, 1);
	assert_string_equal(d.conditions[0].type, "PCIeHealthy");
	assert_null(label(&d, "nodeprint.io/kernel"));
	np_desired_free(&d);
}

static void test_pinned_and_drift(void **state)
{
	(void)state;
	char yaml[1024];
	struct np_desired d;
	/* the capture's own kernel pinned: pinned, no taint */
	snprintf(yaml, sizeof(yaml),
		 "classes:\n  - name: lab\n    match: {nodeLabels: {node.kubernetes.io/instance-type: 'lab-*'}}\n"
		 "    pins: {kernel: {release: ['%s']}}\n", release);
	evaluate(yaml, &d);
	assert_string_equal(d.klass, "lab");
	assert_string_equal(d.bundle_state, "pinned");
	assert_string_equal(label(&d, "nodeprint.io/class"), "lab");
	assert_string_equal(cond(&d, "BundlePinned")->status, "True");
	assert_int_equal(d.n_taints, 0);
	assert_int_equal(d.n_events, 0);
	np_desired_free(&d);

	/* another kernel pinned: drift -> finding, taint, condition False, event on the Node */
	evaluate("classes:\n  - name: lab\n    pins: {kernel: {release: ['>=9.0 <9.1']}}\n", &d);
	assert_string_equal(d.bundle_state, "drift");
	assert_int_equal(d.n_findings, 1);
	assert_string_equal(d.findings[0].id, "firmware-unpinned");
	assert_non_null(strstr(d.findings[0].message, release));
	assert_int_equal(d.n_taints, 1);
	assert_string_equal(d.taints[0].key, "nodeprint.io/firmware-unpinned");
	assert_string_equal(d.taints[0].effect, "NoSchedule");
	assert_string_equal(cond(&d, "BundlePinned")->status, "False");
	assert_string_equal(cond(&d, "BundlePinned")->reason, "Drift");
	assert_int_equal(d.n_events, 1);
	assert_string_equal(d.events[0].reason, "FirmwareDrift");
	assert_string_equal(d.events[0].kind, "Node");
	assert_string_equal(d.events[0].name, "node-a");
	np_desired_free(&d);

	/* a class that does not match falls through to none */
	evaluate("classes:\n  - name: other\n    match: {nodeLabels: {node.kubernetes.io/instance-type: 'big-*'}}\n"
		 "    pins: {kernel: {release: ['x']}}\n", &d);
	assert_null(d.klass);
	assert_string_equal(d.bundle_state, "unknown");
	np_desired_free(&d);
}

/* Blind is never a new bundle: kernel facts unreadable -> no drift, no taint, the last bundle kept. */
static void test_blind_bundle_not_judged(void **state)
{
	(void)state;
	struct np_desired d;
	np_status_set(&rep.kernel.status, -EACCES, "unavailable: permission (/proc/sys/kernel/osrelease)");
	evaluate("classes:\n  - name: lab\n    pins: {kernel: {release: ['>=9.0 <9.1']}}\n", &d);
	np_status_clear(&rep.kernel.status);
	assert_string_equal(d.bundle_state, "unknown");
	for (size_t i = 0; i < d.n_findings; i++)
		assert_string_not_equal(d.findings[i].id, "firmware-unpinned");
	assert_int_equal(d.n_taints, 0);
	assert_null(label(&d, "nodeprint.io/bundle"));
	assert_string_equal(label(&d, "nodeprint.io/bundle-state"), "unknown");
	assert_string_equal(cond(&d, "BundlePinned")->status, "Unknown");
	assert_true(np_strv_contains(d.keep, "nodeprint.io/bundle"));
	assert_true(np_strv_contains(d.keep, "nodeprint.io/fingerprint"));
	for (size_t i = 0; i < d.n_annotations; i++)
		assert_string_not_equal(d.annotations[i].key, "nodeprint.io/fingerprint");
	np_desired_free(&d);

	/* readable again: judged as before (drift), nothing kept */
	evaluate("classes:\n  - name: lab\n    pins: {kernel: {release: ['>=9.0 <9.1']}}\n", &d);
	assert_string_equal(d.bundle_state, "drift");
	assert_null(d.keep);
	assert_int_equal(d.n_taints, 1);
	np_desired_free(&d);
	/* a whole section that gives firmware items (its source's bundle flag): the GPUs, the RDMA devices */
	static const size_t with_items[] = { offsetof(struct np_report, gpu.status), offsetof(struct np_report, rdma.status) };
	for (size_t i = 0; i < ARRAY_SIZE(with_items); i++) {
		struct np_status *st = (struct np_status *)((char *)&rep + with_items[i]);
		np_status_set(st, -EACCES, "unavailable: permission");
		evaluate("classes:\n  - name: lab\n    pins: {kernel: {release: ['>=9.0 <9.1']}}\n", &d);
		np_status_clear(st);
		assert_string_equal(d.bundle_state, "unknown");
		assert_int_equal(d.n_taints, 0);
		np_desired_free(&d);
	}
	/* a section without firmware items (mounts) is a blind source, not a blind bundle: judged (drift) */
	np_status_set(&rep.mounts.status, -EACCES, "unavailable: permission (/proc/self/mountinfo)");
	evaluate("classes:\n  - name: lab\n    pins: {kernel: {release: ['>=9.0 <9.1']}}\n", &d);
	np_status_clear(&rep.mounts.status);
	assert_string_equal(d.bundle_state, "drift");
	assert_int_equal(d.n_taints, 1);
	np_desired_free(&d);
}

static void test_prefix_and_taint_effect_from_policy(void **state)
{
	(void)state;
	struct np_desired d;
	evaluate("labelPrefix: fleet.example.com\nactions: {firmware-unpinned: {taint: NoExecute}}\n"
		 "classes: [{name: lab, pins: {kernel: {release: [nope]}}}]\n", &d);
	assert_non_null(label(&d, "fleet.example.com/bundle"));
	assert_null(label(&d, "nodeprint.io/bundle"));
	assert_string_equal(d.taints[0].key, "fleet.example.com/firmware-unpinned");
	assert_string_equal(d.taints[0].effect, "NoExecute");
	np_desired_free(&d);
}

static void test_annotation_budget(void **state)
{
	(void)state;
	/* a bundle far over the budget: the annotation stays within 8 KiB, says what it dropped */
	struct np_bundle saved = rep.bundle;
	struct np_bundle big = { 0 };
	char key[64], val[128];
	for (int i = 0; i < 400; i++) {
		snprintf(key, sizeof(key), "module_%03d", i);
		snprintf(val, sizeof(val), "version %d with a long tail to fill the annotation budget", i);
		assert_int_equal(np_bundle_add(&big, "module", key, val), 0);
	}
	assert_int_equal(np_bundle_finish(&big), 0);
	rep.bundle = big;
	struct np_desired d;
	evaluate("", &d);
	rep.bundle = saved;
	assert_int_equal(d.n_annotations, 1);
	const char *a = d.annotations[0].value;
	assert_true(strlen(a) <= NP_ANNOTATION_MAX);
	json_error_t e;
	json_t *j = json_loads(a, 0, &e);
	assert_non_null(j);
	size_t kept = json_array_size(json_object_get(j, "components"));
	assert_int_equal(kept + (size_t)json_integer_value(json_object_get(j, "truncated")), 400);
	assert_true(kept > 50);
	json_decref(j);
	np_desired_free(&d);
	np_bundle_free(&big);
}

/*
 * The fingerprint annotation as jansson writes it (the annotation's first form, kept here as the
 * reference): the same object built with json_object/json_array, strings by np_json_string(),
 * dumped compact in order, components dropped from the end the same way.
 */
static char *reference_dump(const struct np_report *r, const char *st, size_t keep)
{
	json_t *o = json_object(), *a = json_array();
	np_json_str(o, "hash", r->bundle.hash);
	np_json_str(o, "state", st);
	for (size_t i = 0; i < keep && i < r->bundle.n; i++) {
		json_t *c = json_array();
		json_array_append_new(c, np_json_string(r->bundle.items[i].component));
		json_array_append_new(c, np_json_string(r->bundle.items[i].key));
		json_array_append_new(c, np_json_string(r->bundle.items[i].value));
		json_array_append_new(a, c);
	}
	json_object_set_new(o, "components", a);
	if (keep < r->bundle.n)
		json_object_set_new(o, "truncated", json_integer((json_int_t)(r->bundle.n - keep)));
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}

static char *reference_annotation(const struct np_report *r, const char *st)
{
	size_t keep = r->bundle.n;
	char *s = reference_dump(r, st, keep);
	if (s && strlen(s) > NP_ANNOTATION_MAX && keep)
		keep = keep * (NP_ANNOTATION_MAX - 100) / strlen(s);
	while (s && strlen(s) > NP_ANNOTATION_MAX && keep > 0) {
		free(s);
		s = reference_dump(r, st, keep);
		if (s && strlen(s) > NP_ANNOTATION_MAX)
			keep--;
	}
	return s;
}

/* The annotation of @b equals jansson's text of it, byte for byte. */
static void annotation_is_jansson(struct np_bundle *b)
{
	struct np_bundle saved = rep.bundle;
	rep.bundle = *b;
	struct np_desired d;
	evaluate("", &d);
	const char *got = NULL;
	for (size_t i = 0; i < d.n_annotations; i++)
		if (streq(d.annotations[i].key, "nodeprint.io/fingerprint"))
			got = d.annotations[i].value;
	assert_non_null(got);
	_cleanup_free_ char *want = reference_annotation(&rep, d.bundle_state);
	rep.bundle = saved;
	assert_non_null(want);
	assert_string_equal(got, want);
	json_error_t e;
	json_t *j = json_loads(got, 0, &e); /* and it is JSON */
	assert_non_null(j);
	json_decref(j);
	np_desired_free(&d);
}

static void test_annotation_text(void **state)
{
	(void)state;
	annotation_is_jansson(&rep.bundle); /* the captured host's own bundle */
	/* hostile strings: quotes, backslashes, control characters, bytes that are not UTF-8, overlong
	 * and surrogate sequences, 2- to 4-byte characters, DEL */
	static const char *const hostile[] = {
		"say \"hi\"", "back\\slash", "tab\there", "new\nline", "bell\a\b\f\r\x1b[31m", "\xff\xfe",
		"\xc0\xaf", "\xed\xa0\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x92\xbe", "\x7f", "\xf4\x90\x80\x80", "",
		"trunc\xe2\x82",
	};
	struct np_bundle h = { 0 };
	for (size_t i = 0; i < ARRAY_SIZE(hostile); i++)
		assert_int_equal(np_bundle_add(&h, hostile[i], hostile[(i + 1) % ARRAY_SIZE(hostile)], hostile[i]), 0);
	assert_int_equal(np_bundle_finish(&h), 0);
	annotation_is_jansson(&h);
	np_bundle_free(&h);
	/* around the budget: the jump and the steps down land where jansson's did, a single component
	 * over the budget included */
	static const size_t counts[] = { 1, 2, 3, 40, 137, 400 }, lens[] = { 5, 57, 200, 9000 };
	char *val = malloc(NP_ANNOTATION_MAX + 1000);
	assert_non_null(val);
	for (size_t c = 0; c < ARRAY_SIZE(counts); c++)
		for (size_t l = 0; l < ARRAY_SIZE(lens); l++) {
			struct np_bundle b = { 0 };
			for (size_t i = 0; i < counts[c]; i++) {
				char key[32];
				snprintf(key, sizeof(key), "m%03zu", i);
				memset(val, 'a' + (int)(i % 26), lens[l]);
				val[lens[l]] = '\0';
				assert_int_equal(np_bundle_add(&b, "module", key, val), 0);
			}
			assert_int_equal(np_bundle_finish(&b), 0);
			annotation_is_jansson(&b);
			np_bundle_free(&b);
		}
	/* exactly at the budget and one byte over it: a first evaluation measures the text around a
	 * second component's value, which is then sized to land on NP_ANNOTATION_MAX and one past it */
	for (int over = 0; over < 2; over++) {
		size_t probe = 100, len = 0;
		for (int pass = 0; pass < 2; pass++) {
			struct np_bundle b = { 0 };
			memset(val, 'v', pass ? len : probe);
			val[pass ? len : probe] = '\0';
			assert_int_equal(np_bundle_add(&b, "kernel", "release", "6.1.0"), 0);
			assert_int_equal(np_bundle_add(&b, "module", "zz", val), 0);
			assert_int_equal(np_bundle_finish(&b), 0);
			if (pass) {
				annotation_is_jansson(&b);
			} else {
				struct np_bundle saved = rep.bundle;
				rep.bundle = b;
				struct np_desired d;
				evaluate("", &d);
				rep.bundle = saved;
				size_t at = strlen(d.annotations[0].value);
				np_desired_free(&d);
				len = probe + NP_ANNOTATION_MAX - at + (size_t)over;
			}
			np_bundle_free(&b);
		}
	}
	free(val);
}

/*
 * Regression: an unreadable DMI field read as "no value", so a class matching on it did not match
 * and the node fell through to the next class, whose pins made it drift (firmware-unpinned,
 * NoSchedule). A copy of a real capture with sys_vendor made a folder (EISDIR, even as root):
 * the kernel section says so, the class cannot be told, nothing is judged, the label is kept.
 */
static void test_class_unknown_when_dmi_unreadable(void **state)
{
	(void)state;
	char tmp[64], path[128];
	np_fixture_copy("tests/fixtures/nib-numa", tmp, sizeof(tmp));
	snprintf(path, sizeof(path), "%s/sys/class/dmi/id/sys_vendor", tmp);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0755), 0);
	struct np_host h;
	assert_int_equal(np_host_open(&h, tmp), 0);
	struct np_collect_ctx ctx = { .host = &h };
	struct np_report r = { 0 };
	char *only[] = { "kernel", NULL };
	assert_int_equal(np_collect_all(&ctx, only, &r), 0);
	np_host_close(&h);
	np_strv_free(r.only);
	r.only = NULL;
	assert_null(r.kernel.dmi_sys_vendor);
	assert_string_equal(r.kernel.dmi_product_version, "pc-q35-7.2"); /* the others are read */
	assert_non_null(strstr(r.kernel.status.error, "/sys/class/dmi/id/sys_vendor"));
	static const char yaml[] = "classes:\n  - name: qemu\n    match: {dmi: {sys_vendor: \"QEMU*\"}}\n"
				   "    pins: {kernel: {release: [\"6.*\"]}}\n"
				   "  - name: other\n    match: {}\n    pins: {kernel: {release: [\"5.*\"]}}\n";
	struct np_policy p;
	char *err = NULL;
	assert_int_equal(np_policy_parse(yaml, strlen(yaml), "t.yaml", &p, &err), 0);
	struct np_desired d;
	assert_int_equal(np_policy_evaluate(&p, &r, NULL, &node, &d), 0);
	assert_null(d.klass);
	assert_string_equal(d.bundle_state, "unknown");
	assert_int_equal(d.n_taints, 0);
	assert_string_equal(cond(&d, "BundlePinned")->status, "Unknown");
	assert_string_equal(cond(&d, "BundlePinned")->reason, "KernelInfoUnreadable");
	bool kept = false;
	for (size_t i = 0; d.keep && d.keep[i]; i++)
		kept = kept || streq(d.keep[i], "nodeprint.io/class");
	assert_true(kept);
	np_desired_free(&d);
	np_policy_free(&p);
	np_report_free(&r);
	np_fixture_drop(tmp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_policy_no_class),
		cmocka_unit_test(test_pinned_and_drift),
		cmocka_unit_test(test_blind_bundle_not_judged),
		cmocka_unit_test(test_partial_plans_only_what_was_read),
		cmocka_unit_test(test_prefix_and_taint_effect_from_policy),
		cmocka_unit_test(test_annotation_budget),
		cmocka_unit_test(test_annotation_text),
		cmocka_unit_test(test_class_unknown_when_dmi_unreadable),
	};
	return cmocka_run_group_tests_name("desired", tests, setup, teardown);
}
