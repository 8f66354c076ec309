// SPDX-License-Identifier: Apache-2.0
/*
 * Uninstall planning (pkg/agent/cleanup.c) on the Node captured from the test API server
 * (tests/fixtures/kube/node.json, other writers' keys only), then with nodeprint's keys and
 * look-alikes added: the patches name exactly ours. (tests/kube/test_cleanup.py runs it on a server.)
 */
#include "testutil.h"
#include "../../pkg/agent/cleanup.h"

static char *types[] = { "NVMeHealthy", "BundlePinned", NULL };

static json_t *captured(void)
{
	size_t len;
	char *b = np_slurp("tests/fixtures/kube/node.json", &len);
	json_t *n = json_loadb(b, len, 0, NULL);
	free(b);
	assert_non_null(n);
	return n;
}

static void test_foreign_only(void **state)
{
	(void)state;
	json_t *n = captured();
	char *meta, *status;
	struct np_cleanup_counts c;
	assert_int_equal(np_cleanup_plan(n, "nodeprint.io", types, &meta, &status, &c), 0);
	assert_null(meta); /* nothing of ours: no request at all */
	assert_null(status);
	assert_true(c.labels == 0 && c.annotations == 0 && c.taints == 0 && c.conditions == 0);
	json_decref(n);
}

static void test_ours_and_lookalikes(void **state)
{
	(void)state;
	json_t *n = captured();
	json_t *md = json_object_get(n, "metadata");
	json_t *labels = json_object_get(md, "labels");
	json_object_set_new(labels, "nodeprint.io/bundle", json_string("5ff35e907ff6"));
	json_object_set_new(labels, "nodeprint.io/kernel", json_string("6.1.0-42-amd64"));
	json_object_set_new(labels, "nodeprint.io-other/x", json_string("1"));
	json_object_set_new(labels, "sub.nodeprint.io/y", json_string("2"));
	json_object_set_new(labels, "nodeprint.io", json_string("3"));
	json_object_set_new(json_object_get(md, "annotations"), "nodeprint.io/fingerprint", json_string("{}"));
	json_array_append_new(json_object_get(json_object_get(n, "spec"), "taints"),
			      json_pack("{s:s,s:s}", "key", "nodeprint.io/nvme-critical", "effect", "NoSchedule"));
	json_t *conds = json_object_get(json_object_get(n, "status"), "conditions");
	json_array_append_new(conds, json_pack("{s:s,s:s}", "type", "NVMeHealthy", "status", "False"));
	json_array_append_new(conds, json_pack("{s:s,s:s}", "type", "KernelDeadlock", "status", "False"));
	char *meta, *status;
	struct np_cleanup_counts c;
	assert_int_equal(np_cleanup_plan(n, "nodeprint.io", types, &meta, &status, &c), 0);
	assert_string_equal(meta, "{\"metadata\":{\"annotations\":{\"nodeprint.io/fingerprint\":null},"
				  "\"labels\":{\"nodeprint.io/bundle\":null,\"nodeprint.io/kernel\":null}}}");
	assert_string_equal(status, "{\"status\":{\"conditions\":[{\"type\":\"NVMeHealthy\",\"$patch\":\"delete\"}]}}");
	assert_true(c.labels == 2 && c.annotations == 1 && c.taints == 1 && c.conditions == 1);
	free(meta);
	free(status);
	json_decref(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_foreign_only),
		cmocka_unit_test(test_ours_and_lookalikes),
	};
	return cmocka_run_group_tests_name("cleanup", tests, NULL, NULL);
}
