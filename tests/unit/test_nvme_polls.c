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

/* A controller hot-swapped under the same name: nothing read from the old one is reported for it. */
static void test_poll_identity(void **state)
{
	(void)state;
	struct np_nvme_polls t = { .smart_interval_ms = 30000 };
	struct np_nvme_poll *a = np_nvme_polls_get(&t, "nvme0");
	assert_non_null(a);
	assert_false(np_nvme_poll_identify(a, "S1", "Disk A")); /* first seen: nothing kept yet */
	a->have_smart = true;
	a->last_smart_ms = 1000;
	a->last_smart.present = true;
	a->last_num_err_log_entries = 7;
	a->last_error_count = 7;
	assert_false(np_nvme_poll_identify(a, "S1", "Disk A")); /* the same controller keeps its state */
	assert_false(np_nvme_poll_smart_due(a, 2000));
	assert_int_equal(a->last_num_err_log_entries, 7);
	assert_true(np_nvme_poll_identify(a, "S2", "Disk A")); /* another serial: started afresh */
	assert_true(np_nvme_poll_smart_due(a, 2000));
	assert_false(a->have_smart);
	assert_false(a->last_smart.present);
	assert_int_equal(a->last_num_err_log_entries, 0);
	assert_int_equal(a->last_error_count, 0);
	assert_int_equal(a->smart_interval_ms, 30000); /* the interval is the table's */
	struct np_nvme_smart s = { .present = true, .num_err_log_entries = { .lo = 3 } };
	assert_true(np_nvme_poll_errlog_due(a, &s)); /* its 3 errors are read, not hidden by the old 7 */
	a->have_smart = true;
	a->last_smart_ms = 2000;
	assert_false(np_nvme_poll_identify(a, "S2", "Disk A"));
	assert_true(np_nvme_poll_identify(a, "S2", "Disk B")); /* same serial, other model: another device */
	a->have_smart = true;
	a->last_error_count = 5;
	assert_true(np_nvme_poll_identify(a, NULL, NULL)); /* unknown: SMART read again, error counts kept */
	assert_true(np_nvme_poll_smart_due(a, 2000));
	assert_int_equal(a->last_error_count, 5);
	assert_false(np_nvme_poll_identify(a, NULL, NULL));
	np_nvme_polls_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_polls),
		cmocka_unit_test(test_poll_identity),
	};
	return cmocka_run_group_tests_name("nvme_polls", tests, NULL, NULL);
}
