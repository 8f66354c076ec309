// SPDX-License-Identifier: Apache-2.0
/*
 * One context builder for inspect, plan, run and baseline (pkg/agent/collect_ctx.h). Regression:
 * `inspect` took the policy's await limit (health.block.awaitMs) and the agent did not, so the same
 * policy found an await stall in `inspect` and none in `run`.
 */
#include "testutil.h"
#include "../../pkg/agent/collect_ctx.h"

static void test_policy_then_overrides(void **state)
{
	(void)state;
	const char *y = "health: {block: {stallSeconds: 7, awaitMs: 250}, multipath: {windowSeconds: 120}}\n";
	struct np_policy p;
	char *err = NULL;
	assert_int_equal(np_policy_parse(y, strlen(y), "t", &p, &err), 0);
	struct np_host h = { 0 };
	/* what the agent builds (no command line) and what inspect builds without options agree */
	struct np_ctx_overrides agent = { .kubelet_dir = "/var/lib/kubelet" };
	struct np_collect_ctx a = np_collect_ctx_build(&h, &p, &agent);
	struct np_collect_ctx i = np_collect_ctx_build(&h, &p, NULL);
	assert_true(a.stall_await_ms == 250 && i.stall_await_ms == 250);
	assert_true(a.stall_seconds == 7 && i.stall_seconds == 7);
	assert_true(a.flap_window_s == 120 && i.flap_window_s == 120);
	assert_int_equal(a.kmsg_max, 256);
	assert_string_equal(i.kubelet_dir, "/var/lib/kubelet");
	assert_ptr_equal(a.host, &h);
	assert_null(a.states);
	/* the command line wins; --stall-await-ms 0 turns the await rule off */
	struct np_ctx_overrides cli = { .stall_seconds = 3, .set_stall_await = true, .stall_await_ms = 0,
					.interval_s = 2, .kmsg_max = 16 };
	struct np_collect_ctx c = np_collect_ctx_build(&h, &p, &cli);
	assert_true(c.stall_seconds == 3 && c.stall_await_ms == 0 && c.interval_s == 2);
	assert_int_equal(c.kmsg_max, 16);
	np_policy_free(&p);
	/* the default policy: await off (-1), stall 10 s */
	assert_int_equal(np_policy_default(&p), 0);
	c = np_collect_ctx_build(&h, &p, NULL);
	assert_true(c.stall_await_ms == 0 && c.stall_seconds == 10);
	np_policy_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_then_overrides),
	};
	return cmocka_run_group_tests_name("collect_ctx", tests, NULL, NULL);
}
