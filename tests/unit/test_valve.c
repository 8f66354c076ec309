// SPDX-License-Identifier: Apache-2.0
/*
 * The safety valve's pure part (pkg/agent/valve.h): the Lease's book of slots, the census of a
 * class from a NodeList, the budget, reclaiming, the rate limit, and the gate in front of it
 * (observe mode, the opt-out label). The CAS itself is tested against real API servers
 * (tests/kube/test_valve.py); here many agents deciding on one book in turn is what the
 * compare-and-swap reduces them to.
 */
#include "testutil.h"
#include "../../pkg/agent/valve.h"
#include "../../pkg/policy/desired.h"
#include "../../pkg/shared/macro.h"
#include "../../pkg/shared/strutil.h"

static const struct np_valve_limits lim = { .max_percent = 30, .max_new = 0, .window_seconds = 300,
					    .ttl_seconds = 300 };

static void test_budget(void **state)
{
	(void)state;
	assert_int_equal(np_valve_budget(30, 20), 6);
	assert_int_equal(np_valve_budget(30, 10), 3);
	assert_int_equal(np_valve_budget(30, 3), 0);  /* 1 of 3 is 33 % */
	assert_int_equal(np_valve_budget(30, 1), 1);  /* a one-node class protects itself */
	assert_int_equal(np_valve_budget(0, 50), 0);
	assert_int_equal(np_valve_budget(100, 7), 7);
	assert_int_equal(np_valve_budget(10, 200), 20);
	assert_int_equal(np_valve_budget(33.4, 3), 1);
}

static void test_book_round_trip(void **state)
{
	(void)state;
	struct np_valve_book b;
	assert_int_equal(np_valve_book_parse("{\"class\":\"lab\",\"slots\":{\"node-2\":{\"since\":100,\"renewed\":150},"
					     "\"node-1\":{\"since\":90,\"renewed\":90}},\"grants\":[90,100]}", &b), 0);
	assert_string_equal(b.klass, "lab");
	assert_int_equal(b.n_slots, 2);
	assert_int_equal(b.n_grants, 2);
	char *text = np_valve_book_format(&b);
	assert_string_equal(text, "{\"class\":\"lab\",\"grants\":[90,100],\"slots\":{\"node-1\":{\"renewed\":90,\"since\":90},"
				  "\"node-2\":{\"renewed\":150,\"since\":100}}}");
	free(text);
	np_valve_book_free(&b);
	assert_int_equal(np_valve_book_parse(NULL, &b), 0);
	assert_string_equal(b.klass, "");
	assert_int_equal(b.n_slots, 0);
	np_valve_book_free(&b);
}

static void test_book_garbage(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"", "[]", "{\"slots\":[]}", "{\"class\":1}", "{\"slots\":{\"Node_1\":{\"since\":1,\"renewed\":1}}}",
		"{\"slots\":{\"n\":{\"since\":-1,\"renewed\":1}}}", "{\"slots\":{\"n\":{\"since\":1}}}",
		"{\"grants\":[\"x\"]}", "{\"grants\":[1.5]}", "{\"class\":\"a\",\"class\":\"b\"}", "{\"slots\":{\"n\":1}}",
		"{\"grants\":[1]", "{\"grants\":[99999999999999999999]}",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct np_valve_book b = { 0 };
		int r = np_valve_book_parse(bad[i], &b);
		if (r != -EBADMSG)
			fail_msg("'%s' gave %d", bad[i], r);
		assert_null(b.slots);
	}
}

/* A NodeList as the API returns it: @n Nodes node-0.., the first @tainted with a hard taint of ours. */
static json_t *node_list(unsigned n, unsigned tainted)
{
	json_t *items = json_array();
	for (unsigned i = 0; i < n; i++) {
		char name[32];
		snprintf(name, sizeof(name), "node-%u", i);
		json_t *taints = json_pack("[{s:s,s:s}]", "key", "dedicated", "effect", "NoSchedule");
		if (i < tainted)
			json_array_append_new(taints, json_pack("{s:s,s:s}", "key", "nodeprint.io/firmware-unpinned", "effect",
								i % 2 ? "NoExecute" : "NoSchedule"));
		else /* soft ones and look-alike keys do not count */
			json_array_append_new(taints, json_pack("{s:s,s:s}", "key", i % 2 ? "nodeprint.io/path-flapping" :
								"nodeprint.iox/a", "effect", i % 2 ? "PreferNoSchedule" :
								"NoSchedule"));
		json_array_append_new(items, json_pack("{s:{s:s},s:{s:o}}", "metadata", "name", name, "spec", "taints",
						       taints));
	}
	return json_pack("{s:s,s:o}", "kind", "NodeList", "items", items);
}

static void census(struct np_valve_census *c, unsigned n, unsigned tainted)
{
	*c = (struct np_valve_census){ 0 };
	json_t *l = node_list(n, tainted);
	assert_int_equal(np_valve_census_add(c, l, "nodeprint.io"), 0);
	json_decref(l);
}

static void test_census(void **state)
{
	(void)state;
	struct np_valve_census c;
	census(&c, 20, 5);
	assert_int_equal(c.total, 20);
	assert_int_equal(c.n_members, 20);
	assert_int_equal(c.n_tainted, 5);
	assert_true(np_strv_contains(c.tainted, "node-4"));
	assert_false(np_strv_contains(c.tainted, "node-5"));
	np_valve_census_free(&c);
}

/* 20 agents of one class decide on one book in turn, as the CAS serialises them: exactly 6 win. */
static void test_wave_serialised(void **state)
{
	(void)state;
	struct np_valve_census c;
	census(&c, 20, 0);
	struct np_valve_book b;
	assert_int_equal(np_valve_book_parse(NULL, &b), 0);
	unsigned granted = 0, full = 0;
	for (unsigned i = 0; i < 20; i++) {
		char name[32];
		bool changed;
		snprintf(name, sizeof(name), "node-%u", i);
		enum np_valve_verdict v = np_valve_decide(&b, &c, name, 1000 + i, &lim, &changed);
		granted += v == NP_VALVE_GRANTED;
		full += v == NP_VALVE_FULL;
		assert_int_equal(changed, v == NP_VALVE_GRANTED);
	}
	assert_int_equal(granted, 6);
	assert_int_equal(full, 14);
	assert_int_equal(np_valve_in_use(&b, &c), 6);
	/* a holder asking again is HELD, nothing to write while its slot is fresh */
	bool changed = true;
	assert_int_equal(np_valve_decide(&b, &c, "node-0", 1010, &lim, &changed), NP_VALVE_HELD);
	assert_false(changed);
	/* ... and renewed once a quarter of the TTL has passed */
	assert_int_equal(np_valve_decide(&b, &c, "node-0", 1000 + 76, &lim, &changed), NP_VALVE_HELD);
	assert_true(changed);
	/* one gives its slot back: the next waiting node gets it */
	assert_true(np_valve_release(&b, "node-3"));
	assert_false(np_valve_release(&b, "node-3"));
	assert_int_equal(np_valve_decide(&b, &c, "node-19", 1100, &lim, &changed), NP_VALVE_GRANTED);
	assert_int_equal(np_valve_decide(&b, &c, "node-18", 1100, &lim, &changed), NP_VALVE_FULL);
	np_valve_book_free(&b);
	np_valve_census_free(&c);
}

/* Nodes tainted without a slot (an older nodeprint, a person) count; one of them gets a slot free. */
static void test_tainted_without_slot(void **state)
{
	(void)state;
	struct np_valve_census c;
	census(&c, 20, 5);
	struct np_valve_book b;
	bool changed;
	assert_int_equal(np_valve_book_parse(NULL, &b), 0);
	assert_int_equal(np_valve_decide(&b, &c, "node-10", 100, &lim, &changed), NP_VALVE_GRANTED);
	assert_int_equal(np_valve_decide(&b, &c, "node-11", 100, &lim, &changed), NP_VALVE_FULL);
	assert_int_equal(np_valve_decide(&b, &c, "node-2", 100, &lim, &changed), NP_VALVE_HELD);
	assert_true(changed); /* it now holds the slot it is counted for */
	assert_int_equal(np_valve_in_use(&b, &c), 6);
	np_valve_book_free(&b);
	np_valve_census_free(&c);
}

static void test_reclaim(void **state)
{
	(void)state;
	struct np_valve_census c;
	census(&c, 20, 2); /* node-0, node-1 tainted */
	struct np_valve_book b;
	assert_int_equal(np_valve_book_parse("{\"class\":\"lab\",\"slots\":{"
					     "\"node-0\":{\"since\":0,\"renewed\":0},"     /* tainted: kept however old */
					     "\"node-5\":{\"since\":0,\"renewed\":0},"     /* untainted, stale: dropped */
					     "\"node-6\":{\"since\":900,\"renewed\":900}," /* untainted, fresh: kept */
					     "\"node-77\":{\"since\":990,\"renewed\":990}," /* gone: dropped */
					     "\"node-88\":{\"since\":990,\"renewed\":990}" /* not in the LIST, fresh: kept */
					     "},\"grants\":[600,700,800]}", &b), 0);
	char *gone[] = { "node-77", NULL };
	assert_int_equal(np_valve_reclaim(&b, &c, gone, 1000, &lim), 2);
	char *text = np_valve_book_format(&b);
	assert_string_equal(text, "{\"class\":\"lab\",\"grants\":[800],\"slots\":{\"node-0\":{\"renewed\":0,\"since\":0},"
				  "\"node-6\":{\"renewed\":900,\"since\":900},\"node-88\":{\"renewed\":990,\"since\":990}}}");
	free(text);
	/* node-0, node-6, node-88 and node-1 (tainted, no slot) */
	assert_int_equal(np_valve_in_use(&b, &c), 4);
	np_valve_book_free(&b);
	np_valve_census_free(&c);
}

static void test_rate_limit(void **state)
{
	(void)state;
	struct np_valve_limits l = lim;
	l.max_percent = 100;
	l.max_new = 2;
	l.window_seconds = 60;
	struct np_valve_census c;
	census(&c, 20, 0);
	struct np_valve_book b;
	bool changed;
	assert_int_equal(np_valve_book_parse(NULL, &b), 0);
	assert_int_equal(np_valve_decide(&b, &c, "node-0", 100, &l, &changed), NP_VALVE_GRANTED);
	assert_int_equal(np_valve_decide(&b, &c, "node-1", 110, &l, &changed), NP_VALVE_GRANTED);
	assert_int_equal(np_valve_decide(&b, &c, "node-2", 120, &l, &changed), NP_VALVE_RATE);
	assert_false(changed);
	/* the first grant leaves the window at 160 */
	np_valve_reclaim(&b, &c, NULL, 161, &l);
	assert_int_equal(np_valve_decide(&b, &c, "node-2", 161, &l, &changed), NP_VALVE_GRANTED);
	assert_int_equal(np_valve_decide(&b, &c, "node-3", 161, &l, &changed), NP_VALVE_RATE);
	np_valve_book_free(&b);
	np_valve_census_free(&c);
}

static void test_lease_name(void **state)
{
	(void)state;
	char *n = np_valve_lease_name(NULL);
	assert_string_equal(n, "nodeprint-valve");
	free(n);
	n = np_valve_lease_name("lab");
	assert_string_equal(n, "nodeprint-valve-lab");
	free(n);
	n = np_valve_lease_name("GPU_A100.x-");
	assert_string_equal(n, "nodeprint-valve-gpu-a100-x");
	free(n);
}

static const char policy_yaml[] =
	"safetyValve: {maxTaintedPercent: 25, maxNewPerWindow: 3, windowSeconds: 120, slotTTLSeconds: 60}\n"
	"actions:\n"
	"  nvme-critical: {observe: true}\n";

static struct np_taint dtaints[] = {
	{ "nodeprint.io/firmware-unpinned", "", "NoSchedule" },
	{ "nodeprint.io/nvme-critical", "", "NoSchedule" },
	{ "nodeprint.io/multipath-degraded", "", "PreferNoSchedule" },
};

static json_t *gate_node(const char *optout, const char *own_hard)
{
	json_t *n = json_pack("{s:s,s:{s:s,s:{}},s:{s:[{s:s,s:s}]}}", "kind", "Node", "metadata", "name", "node-a",
			      "labels", "spec", "taints", "key", "dedicated", "effect", "NoExecute");
	if (optout)
		json_object_set_new(json_object_get(json_object_get(n, "metadata"), "labels"), "nodeprint.io/taints",
				    json_string(optout));
	if (own_hard)
		json_array_append_new(json_object_get(json_object_get(n, "spec"), "taints"),
				      json_pack("{s:s,s:s}", "key", own_hard, "effect", "NoExecute"));
	return n;
}

static void test_gate(void **state)
{
	(void)state;
	struct np_policy pol;
	char *err = NULL;
	assert_int_equal(np_policy_parse(policy_yaml, strlen(policy_yaml), "t.yaml", &pol, &err), 0);
	assert_true(pol.valve_max_tainted_percent == 25 && pol.valve_max_new_per_window == 3 &&
		    pol.valve_window_seconds == 120 && pol.valve_slot_ttl_seconds == 60 && !pol.observe);
	struct np_desired d = { .taints = dtaints, .n_taints = 3 };
	struct np_taint_gate g;

	/* per-action observe keeps nvme-critical out; the hard firmware one needs a slot */
	json_t *n = gate_node(NULL, NULL);
	assert_int_equal(np_taint_gate(&pol, &d, n, &g), 0);
	assert_int_equal(g.n_kept, 2);
	assert_int_equal(g.n_observed, 1);
	assert_string_equal(g.observed[0], "nodeprint.io/nvme-critical");
	assert_int_equal(g.n_need_slot, 1);
	assert_string_equal(g.need_slot[0], "nodeprint.io/firmware-unpinned");
	np_taint_gate_free(&g);
	json_decref(n);

	/* a Node that carries a hard taint of ours already needs no second slot (a foreign NoExecute is no slot) */
	n = gate_node(NULL, "nodeprint.io/volume-stall");
	assert_int_equal(np_taint_gate(&pol, &d, n, &g), 0);
	assert_int_equal(g.n_need_slot, 0);
	assert_int_equal(g.n_kept, 2);
	np_taint_gate_free(&g);
	json_decref(n);

	/* the opt-out label keeps hard taints out, soft ones stay; another value does nothing */
	n = gate_node("disabled", NULL);
	assert_int_equal(np_taint_gate(&pol, &d, n, &g), 0);
	assert_int_equal(g.n_kept, 1);
	assert_string_equal(g.kept[0].key, "nodeprint.io/multipath-degraded");
	assert_int_equal(g.n_disabled, 1);
	assert_int_equal(g.n_need_slot, 0);
	np_taint_gate_free(&g);
	json_decref(n);
	n = gate_node("enabled", NULL);
	assert_int_equal(np_taint_gate(&pol, &d, n, &g), 0);
	assert_int_equal(g.n_disabled, 0);
	assert_int_equal(g.n_need_slot, 1);
	np_taint_gate_free(&g);

	/* policy-wide observe: no taint at all */
	pol.observe = true;
	assert_int_equal(np_taint_gate(&pol, &d, n, &g), 0);
	assert_int_equal(g.n_kept, 0);
	assert_int_equal(g.n_observed, 3);
	assert_int_equal(g.n_need_slot, 0);
	np_taint_gate_free(&g);
	json_decref(n);
	np_policy_free(&pol);

	/* the keys' bounds */
	static const char *const bad[] = { "safetyValve: {maxNewPerWindow: 1.5}\n", "safetyValve: {windowSeconds: 0}\n",
					   "safetyValve: {slotTTLSeconds: 5}\n", "safetyValve: {retryMaxSeconds: 4000}\n",
					   "safetyValve: {retryMaxSeconds: -1}\n", "observe: maybe\n",
					   "actions:\n  nvme-critical: {observe: 1}\n" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(np_policy_parse(bad[i], strlen(bad[i]), "t.yaml", &pol, &err), -EINVAL);
		free(err);
		err = NULL;
	}
	const char ok[] = "observe: true\n";
	assert_int_equal(np_policy_parse(ok, strlen(ok), "t.yaml", &pol, &err), 0);
	assert_true(pol.observe && pol.valve_window_seconds == 300 && pol.valve_slot_ttl_seconds == 300 &&
		    pol.valve_max_new_per_window == 0 && pol.valve_retry_max_seconds == 60);
	np_policy_free(&pol);
	const char every[] = "safetyValve: {retryMaxSeconds: 0}\n";
	assert_int_equal(np_policy_parse(every, strlen(every), "t.yaml", &pol, &err), 0);
	assert_true(pol.valve_retry_max_seconds == 0);
	np_policy_free(&pol);
}

/* A waiting Node's pauses: doubling from the poll period to the cap, jittered into [d/2, d],
 * probes while the Lease stands still, restarts when it moved, a full ask at least every TTL. */
static void test_wait(void **state)
{
	(void)state;
	struct np_valve_wait w = { 0 };
	struct np_valve_outcome full = { .verdict = NP_VALVE_FULL, .rv = (char *)"100" };
	const double base = 2, cap = 16, ttl = 300;

	assert_int_equal(np_valve_wait_step(&w, 0, cap, ttl), NP_VALVE_ASK); /* not waiting */
	assert_int_equal(np_valve_wait_refused(&w, &full, 1000, 5000, base, cap, 0), 0);
	assert_int_equal(w.refusals, 1);
	assert_true(w.next == 1001);                          /* rnd 0: the lower end, d/2 of base */
	assert_int_equal(np_valve_wait_step(&w, 1000.5, cap, ttl), NP_VALVE_SKIP);
	assert_int_equal(np_valve_wait_step(&w, 1001, cap, ttl), NP_VALVE_PROBE);
	/* the Lease stands still: the pauses double up to the cap, each in [d/2, d] */
	double t = 1001, pauses[8];
	for (unsigned i = 0; i < ARRAY_SIZE(pauses); i++) {
		np_valve_wait_unchanged(&w, t, base, cap, UINT32_MAX - i);
		pauses[i] = w.next - t;
		t = w.next;
	}
	const double d[] = { 4, 8, 16, 16, 16, 16, 16, 16 };
	for (unsigned i = 0; i < ARRAY_SIZE(pauses); i++)
		assert_true(pauses[i] >= d[i] / 2 && pauses[i] <= d[i]);
	assert_true(pauses[3] > 8); /* with this rnd the top of [d/2, d]: the cap is reached */
	/* a full ask at least every slotTTLSeconds, even when the Lease stands still */
	assert_int_equal(np_valve_wait_step(&w, 1000 + ttl - 1, cap, ttl), NP_VALVE_PROBE);
	assert_int_equal(np_valve_wait_step(&w, 1000 + ttl, cap, ttl), NP_VALVE_ASK);
	assert_int_equal(np_valve_wait_step(&w, w.next - 0.5, cap, ttl), NP_VALVE_SKIP);
	assert_int_equal(np_valve_wait_step(&w, w.next - 0.5, cap, w.next - 0.5 - 1000), NP_VALVE_ASK); /* pausing, TTL over */
	/* refused again on the same version: the pause keeps growing */
	unsigned n = w.refusals;
	assert_int_equal(np_valve_wait_refused(&w, &full, t, 5000, base, cap, 7), 0);
	assert_int_equal(w.refusals, n + 1);
	assert_true(w.next - t >= cap / 2);
	/* the Lease moved (a slot given back, and taken by another Node first): from the poll period again */
	struct np_valve_outcome moved = { .verdict = NP_VALVE_FULL, .rv = (char *)"101" };
	assert_int_equal(np_valve_wait_refused(&w, &moved, t, 5000, base, cap, 0), 0);
	assert_int_equal(w.refusals, 1);
	assert_true(w.next - t == base / 2);
	assert_string_equal(w.rv, "101");
	/* a rate refusal waits for the window's oldest grant, plus up to one poll of jitter, no probe */
	struct np_valve_outcome rate = { .verdict = NP_VALVE_RATE, .rv = (char *)"101", .rate_free_at = 5100 };
	assert_int_equal(np_valve_wait_refused(&w, &rate, t, 5000, base, cap, 1000), 0);
	assert_true(w.next - t == 100 + base);
	assert_int_equal(np_valve_wait_step(&w, w.next, cap, ttl), NP_VALVE_ASK);
	/* retryMaxSeconds 0: every cycle asks */
	assert_int_equal(np_valve_wait_step(&w, t, 0, ttl), NP_VALVE_ASK);
	np_valve_wait_reset(&w);
	assert_int_equal(w.refusals, 0);
	assert_null(w.rv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_budget),          cmocka_unit_test(test_book_round_trip),
		cmocka_unit_test(test_book_garbage),    cmocka_unit_test(test_census),
		cmocka_unit_test(test_wave_serialised), cmocka_unit_test(test_tainted_without_slot),
		cmocka_unit_test(test_reclaim),         cmocka_unit_test(test_rate_limit),
		cmocka_unit_test(test_lease_name),      cmocka_unit_test(test_gate),
		cmocka_unit_test(test_wait),
	};
	return cmocka_run_group_tests_name("valve", tests, NULL, NULL);
}
