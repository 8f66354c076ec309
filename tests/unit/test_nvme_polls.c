// SPDX-License-Identifier: Apache-2.0
/* The agent's NVMe poll table: one state per controller, kept across collections; SMART due every 60 s. */
#include "testutil.h"
#include "../../pkg/collect/nvme.h"
#include "../../pkg/collect/nvme_smart.h"

static void test_polls(void **state)
{
	(void)state;
	struct np_nvme_polls t = { 0 };
	struct np_nvme_poll *a = np_nvme_polls_get(&t, "nvme0");
	assert_non_null(a);
	assert_true(np_nvme_poll_smart_due(a, 1000)); /* never read */
	a->last_smart_ms = 1000;
	a->have_smart = true;
	assert_false(np_nvme_poll_smart_due(np_nvme_polls_get(&t, "nvme0"), 1000 + 59999));
	assert_true(np_nvme_poll_smart_due(np_nvme_polls_get(&t, "nvme0"), 1000 + 60000));
	struct np_nvme_poll *b = np_nvme_polls_get(&t, "nvme1");
	assert_true(np_nvme_poll_smart_due(b, 1000)); /* another controller has its own state */
	assert_int_equal(t.n, 2);
	assert_int_equal(np_nvme_polls_get(&t, "nvme0")->last_smart_ms, 1000);
	np_nvme_polls_free(&t);
	assert_int_equal(t.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_polls),
	};
	return cmocka_run_group_tests_name("nvme_polls", tests, NULL, NULL);
}
