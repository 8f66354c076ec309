// SPDX-License-Identifier: Apache-2.0
/*
 * `nodeprint fleet`'s baselines view (pkg/agent/fleet.c): per class, model and profile the newest
 * pinned baseline, and per other bundle the median change over the newest verdict of each node.
 */
#include "testutil.h"
#include "../../pkg/agent/fleet.h"
#include "../../pkg/policy/verdict.h"

static void rec(struct np_bench_record *r, enum np_bench_kind kind, const char *bundle, const char *node,
		const char *kernel, bool pinned, int64_t at, double p99_change, double iops_change,
		enum np_bench_verdict v)
{
	*r = (struct np_bench_record){ .kind = kind, .pinned = pinned, .at_ms = at, .repeats = 3,
				       .p99_change_percent = p99_change, .iops_change_percent = iops_change,
				       .verdict = v };
	r->bundle = strdup(bundle);
	r->node = strdup(node);
	r->kernel = strdup(kernel);
	r->klass = strdup("r740");
	r->model = strdup("PM9A3");
	r->reference = kind == NP_BENCH_VERDICT ? strdup("aaaaaaaaaaaa") : NULL;
	r->profile = (struct np_bench_profile){ strdup("randread-4k-qd1"), strdup("randread"), 4096, 1, 1, 20 };
	r->median.v[NP_BF_P99] = 412;
	r->min.v[NP_BF_P99] = 398;
	r->max.v[NP_BF_P99] = 431;
	r->median.v[NP_BF_IOPS] = 10412;
}

static void test_fleet_baselines(void **state)
{
	(void)state;
	struct np_bench_record v[6];
	rec(&v[0], NP_BENCH_BASELINE, "old000000000", "n0", "6.1.0-20-amd64", true, 100, 0, 0, 0);
	rec(&v[1], NP_BENCH_BASELINE, "aaaaaaaaaaaa", "n0", "6.1.0-25-amd64", true, 200, 0, 0, 0); /* newest pinned */
	rec(&v[2], NP_BENCH_VERDICT, "bbbbbbbbbbbb", "n1", "6.1.0-57-amd64", false, 300, 30, -10, NP_VERDICT_REGRESSED);
	rec(&v[3], NP_BENCH_VERDICT, "bbbbbbbbbbbb", "n2", "6.1.0-57-amd64", false, 300, 34, -12, NP_VERDICT_REGRESSED);
	rec(&v[4], NP_BENCH_VERDICT, "bbbbbbbbbbbb", "n3", "6.1.0-57-amd64", false, 300, 50, -20, NP_VERDICT_PASS);
	/* n1's older verdict: only the newest of a node counts */
	rec(&v[5], NP_BENCH_VERDICT, "bbbbbbbbbbbb", "n1", "6.1.0-57-amd64", false, 50, 900, -90, NP_VERDICT_REGRESSED);
	struct np_fleet f = { 0 };
	assert_int_equal(np_fleet_add_baselines(&f, v, 6), 0);
	assert_int_equal(f.n_bench, 6);
	json_t *j = np_fleet_to_json(&f);
	json_t *b = json_object_get(j, "baselines");
	assert_int_equal(json_array_size(b), 1); /* one class/model/profile, the newest pinned baseline */
	json_t *g = json_array_get(b, 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(g, "pinned"), "bundle")), "aaaaaaaaaaaa");
	json_t *o = json_array_get(json_object_get(g, "bundles"), 0);
	assert_string_equal(json_string_value(json_object_get(o, "kernel")), "6.1.0-57-amd64");
	assert_int_equal(json_integer_value(json_object_get(o, "nodes_tested")), 3);
	assert_int_equal(json_integer_value(json_object_get(o, "nodes_regressed")), 2);
	assert_true(json_real_value(json_object_get(o, "p99_change_percent_median")) == 34);
	assert_true(json_real_value(json_object_get(o, "iops_change_percent_median")) == -12);
	json_decref(j);

	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	np_fleet_print(&f, out);
	fclose(out);
	assert_non_null(strstr(text, "kernel 6.1.0-57-amd64 on class r740: p99 +34 %, IOPS -12 % (3 nodes tested, 2 regressed)"));
	assert_non_null(strstr(text, "pinned bundle aaaaaaaaaaaa (kernel 6.1.0-25-amd64): p99 412 us (398-431)"));
	free(text);
	np_fleet_free(&f);
	for (size_t i = 0; i < 6; i++)
		np_bench_record_free(&v[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_fleet_baselines) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
