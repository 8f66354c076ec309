// SPDX-License-Identifier: Apache-2.0
/*
 * Reconcile: own keys only, foreign labels/taints/conditions untouched, zero writes in a steady
 * state, hysteresis for taints, restart safety, transition times only on status changes.
 * The Node is tests/fixtures/kube/node.json: a v1 Node as the test API server returned it
 * after kubectl labelled and tainted it (captured by tests/kube).
 */
#include "testutil.h"
#include "../../pkg/agent/reconcile.h"
#include "../../pkg/shared/macro.h"

static json_t *load_node(void)
{
	json_error_t e;
	json_t *n = json_load_file(np_src("tests/fixtures/kube/node.json"), 0, &e);
	if (!n)
		fail_msg("node.json: %s", e.text);
	return n;
}

static struct np_kv labels[] = { { "nodeprint.io/bundle", "abc123" }, { "nodeprint.io/kernel", "6.1.0-41-amd64" } };
static struct np_kv annotations[] = { { "nodeprint.io/fingerprint", "{\"hash\":\"abc123\"}" } };
static struct np_taint taints[] = { { "nodeprint.io/nvme-critical", "", "NoSchedule" } };
static struct np_condition conds[] = { { "NVMeHealthy", "False", "CriticalWarning", "nvme0: spare below threshold" } };

static struct np_desired desired(bool with_taint)
{
	return (struct np_desired){ .labels = labels, .n_labels = 2, .annotations = annotations, .n_annotations = 1,
				    .taints = with_taint ? taints : NULL, .n_taints = with_taint ? 1 : 0,
				    .conditions = conds, .n_conditions = 1 };
}

/* Apply a merge patch (RFC 7396) to @target, as the API server does. */
static void merge(json_t *target, const json_t *patch)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)patch, k, v) {
		if (json_is_null(v))
			json_object_del(target, k);
		else if (json_is_object(v) && json_is_object(json_object_get(target, k)))
			merge(json_object_get(target, k), v);
		else
			json_object_set(target, k, v);
	}
}

/* Strategic merge of conditions by type (what the API server does for nodes/status). */
static void merge_conditions(json_t *node, const json_t *patch)
{
	json_t *cur = json_object_get(json_object_get(node, "status"), "conditions");
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(json_object_get(patch, "status"), "conditions"), i, c) {
		size_t j;
		json_t *o;
		bool done = false;
		json_array_foreach(cur, j, o) {
			if (streq(json_string_value(json_object_get(o, "type")), json_string_value(json_object_get(c, "type")))) {
				json_array_set(cur, j, c);
				done = true;
			}
		}
		if (!done)
			json_array_append(cur, c);
	}
}

static void apply(json_t *node, const struct np_node_writes *w)
{
	if (w->metadata_patch)
		merge(node, w->metadata_patch);
	if (w->taints_patch)
		json_object_set(json_object_get(node, "spec"), "taints",
				json_object_get(json_object_get(w->taints_patch, "spec"), "taints"));
	if (w->status_patch)
		merge_conditions(node, w->status_patch);
}

static size_t count_foreign_labels(const json_t *node)
{
	size_t n = 0;
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(json_object_get(node, "metadata"), "labels"), k, v)
		n += strncmp(k, "nodeprint.io/", 13) != 0;
	return n;
}

static void test_first_write_then_steady(void **state)
{
	(void)state;
	json_t *node = load_node();
	size_t foreign = count_foreign_labels(node);
	size_t foreign_taints = json_array_size(json_object_get(json_object_get(node, "spec"), "taints"));
	size_t foreign_conds = json_array_size(json_object_get(json_object_get(node, "status"), "conditions"));
	assert_true(foreign > 0 && foreign_taints > 0 && foreign_conds > 0);
	struct np_desired d = desired(true);
	struct np_taint_memory mem = { 0 };
	struct np_reconcile_opts o = { .prefix = "nodeprint.io", .now = 1790000000, .hold_down_seconds = 300,
				       .heartbeat_seconds = 600, .allow_removals = true };
	struct np_node_writes w;
	assert_int_equal(np_reconcile_node(node, &d, &o, &mem, &w), 0);
	assert_int_equal(w.labels_changed, 3); /* two labels and one annotation */
	assert_int_equal(w.taints_added, 1);
	assert_int_equal(w.conditions_changed, 1);
	/* the taint write carries the resourceVersion it was computed from */
	assert_string_equal(json_string_value(json_object_get(json_object_get(w.taints_patch, "metadata"), "resourceVersion")),
			    json_string_value(json_object_get(json_object_get(node, "metadata"), "resourceVersion")));
	/* the patches name only our keys */
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(json_object_get(w.metadata_patch, "metadata"), "labels"), k, v)
		assert_true(strncmp(k, "nodeprint.io/", 13) == 0);
	apply(node, &w);
	np_node_writes_free(&w);
	assert_int_equal(count_foreign_labels(node), foreign);
	assert_int_equal(json_array_size(json_object_get(json_object_get(node, "spec"), "taints")), foreign_taints + 1);
	assert_int_equal(json_array_size(json_object_get(json_object_get(node, "status"), "conditions")), foreign_conds + 1);

	/* steady state: nothing to write, a minute later */
	o.now += 60;
	assert_int_equal(np_reconcile_node(node, &d, &o, &mem, &w), 0);
	assert_null(w.metadata_patch);
	assert_null(w.taints_patch);
	assert_null(w.status_patch);

	/* heartbeat due after 600 s: the condition is rewritten, its transition time kept */
	const json_t *c0 = json_array_get(json_object_get(json_object_get(node, "status"), "conditions"), foreign_conds);
	char *ltt = strdup(json_string_value(json_object_get(c0, "lastTransitionTime")));
	o.now += 600;
	assert_int_equal(np_reconcile_node(node, &d, &o, &mem, &w), 0);
	assert_null(w.metadata_patch);
	assert_non_null(w.status_patch);
	json_t *c1 = json_array_get(json_object_get(json_object_get(w.status_patch, "status"), "conditions"), 0);
	assert_string_equal(json_string_value(json_object_get(c1, "lastTransitionTime")), ltt);
	assert_string_not_equal(json_string_value(json_object_get(c1, "lastHeartbeatTime")), ltt);
	free(ltt);
	np_node_writes_free(&w);
	np_taint_memory_free(&mem);
	json_decref(node);
}

static void test_taint_hold_down_and_restart(void **state)
{
	(void)state;
	json_t *node = load_node();
	struct np_desired d = desired(true);
	struct np_taint_memory mem = { 0 };
	struct np_reconcile_opts o = { .prefix = "nodeprint.io", .now = 1790000000, .hold_down_seconds = 300,
				       .heartbeat_seconds = 600, .allow_removals = true };
	struct np_node_writes w;
	assert_int_equal(np_reconcile_node(node, &d, &o, &mem, &w), 0);
	apply(node, &w);
	np_node_writes_free(&w);

	/* the finding clears: the taint stays during the hold-down ... */
	d = desired(false);
	o.now += 10;
	assert_int_equal(np_reconcile_node(node, &d, &o, &mem, &w), 0);
	assert_null(w.taints_patch);
	np_node_writes_free(&w);
	/* ... and after a restart (empty memory) the hold-down starts again, no flap */
	np_taint_memory_free(&mem);
	o.now += 299;
	assert_int_equal(np_reconcile_node(node, &d, &o, &mem, &w), 0);
	assert_null(w.taints_patch);
	np_node_writes_free(&w);
	o.now += 299;
	assert_int_equal(np_reconcile_node(node, &d, &o, &mem, &w), 0);
	assert_null(w.taints_patch);
	np_node_writes_free(&w);
	o.now += 2;
	assert_int_equal(np_reconcile_node(node, &d, &o, &mem, &w), 0);
	assert_non_null(w.taints_patch);
	assert_int_equal(w.taints_removed, 1);
	apply(node, &w);
	np_node_writes_free(&w);
	/* only ours went: no taint under the prefix, every foreign one still there */
	size_t i;
	json_t *t;
	size_t left = 0;
	json_array_foreach(json_object_get(json_object_get(node, "spec"), "taints"), i, t) {
		assert_true(strncmp(json_string_value(json_object_get(t, "key")), "nodeprint.io/", 13) != 0);
		left++;
	}
	assert_true(left > 0);
	np_taint_memory_free(&mem);
	json_decref(node);
}

static void test_settling_never_removes(void **state)
{
	(void)state;
	json_t *node = load_node();
	/* our stale label and taint from a previous run are on the node */
	json_object_set_new(json_object_get(json_object_get(node, "metadata"), "labels"), "nodeprint.io/old", json_string("x"));
	json_array_append_new(json_object_get(json_object_get(node, "spec"), "taints"),
			      json_pack("{s:s,s:s}", "key", "nodeprint.io/nvme-critical", "effect", "NoSchedule"));
	struct np_desired d = desired(false);
	struct np_taint_memory mem = { 0 };
	struct np_reconcile_opts o = { .prefix = "nodeprint.io", .now = 1790000000, .hold_down_seconds = 0,
				       .heartbeat_seconds = 600, .allow_removals = false };
	struct np_node_writes w;
	assert_int_equal(np_reconcile_node(node, &d, &o, &mem, &w), 0);
	assert_null(json_object_get(json_object_get(json_object_get(w.metadata_patch, "metadata"), "labels"), "nodeprint.io/old"));
	assert_null(w.taints_patch);
	np_node_writes_free(&w);
	/* once settled, the stale label is removed (null) */
	o.allow_removals = true;
	assert_int_equal(np_reconcile_node(node, &d, &o, &mem, &w), 0);
	assert_true(json_is_null(json_object_get(json_object_get(json_object_get(w.metadata_patch, "metadata"), "labels"),
						 "nodeprint.io/old")));
	np_node_writes_free(&w);
	np_taint_memory_free(&mem);
	json_decref(node);
}

/* Kept keys (the bundle while its inputs are blind) are neither rewritten nor removed. */
static void test_kept_keys_untouched(void **state)
{
	(void)state;
	json_t *node = load_node();
	struct np_desired d = desired(false);
	struct np_taint_memory mem = { 0 };
	struct np_reconcile_opts o = { .prefix = "nodeprint.io", .now = 1790000000, .hold_down_seconds = 300,
				       .heartbeat_seconds = 600, .allow_removals = true };
	struct np_node_writes w;
	assert_int_equal(np_reconcile_node(node, &d, &o, &mem, &w), 0);
	apply(node, &w);
	np_node_writes_free(&w);

	/* next cycle blind: no bundle label, no fingerprint desired, both kept */
	char *keep[] = { "nodeprint.io/bundle", "nodeprint.io/fingerprint", NULL };
	d.n_labels = 1;
	d.labels = &labels[1];
	d.n_annotations = 0;
	d.keep = keep;
	assert_int_equal(np_reconcile_node(node, &d, &o, &mem, &w), 0);
	assert_null(w.metadata_patch);
	np_node_writes_free(&w);

	/* not kept: the same desired state removes both */
	d.keep = NULL;
	assert_int_equal(np_reconcile_node(node, &d, &o, &mem, &w), 0);
	json_t *m = json_object_get(w.metadata_patch, "metadata");
	assert_true(json_is_null(json_object_get(json_object_get(m, "labels"), "nodeprint.io/bundle")));
	assert_true(json_is_null(json_object_get(json_object_get(m, "annotations"), "nodeprint.io/fingerprint")));
	np_node_writes_free(&w);
	json_decref(node);
}

static void test_refused_and_invalid(void **state)
{
	(void)state;
	json_t *node = load_node();
	struct np_desired d = desired(true);
	struct np_taint_memory mem = { 0 };
	char *refused[] = { "nodeprint.io/nvme-critical", NULL };
	struct np_reconcile_opts o = { .prefix = "nodeprint.io", .now = 1790000000, .heartbeat_seconds = 600,
				       .allow_removals = true, .refused_taints = refused };
	struct np_node_writes w;
	assert_int_equal(np_reconcile_node(node, &d, &o, &mem, &w), 0);
	assert_null(w.taints_patch); /* the safety valve said no */
	np_node_writes_free(&w);
	json_t *pod = json_pack("{s:s,s:{}}", "kind", "Pod", "metadata");
	assert_int_equal(np_reconcile_node(pod, &d, &o, &mem, &w), -EINVAL);
	json_decref(pod);
	json_decref(node);
	np_taint_memory_free(&mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_write_then_steady),
		cmocka_unit_test(test_taint_hold_down_and_restart),
		cmocka_unit_test(test_settling_never_removes),
		cmocka_unit_test(test_kept_keys_untouched),
		cmocka_unit_test(test_refused_and_invalid),
	};
	return cmocka_run_group_tests_name("reconcile", tests, NULL, NULL);
}
