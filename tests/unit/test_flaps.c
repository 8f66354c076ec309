// SPDX-License-Identifier: Apache-2.0
/*
 * Path flaps: sequences of observations from status polling and from the
 * kernel log (as np_kmsg_classify() turns dm-mpath's lines into events),
 * counted per map in a sliding window, the same transition counted once.
 */
#include "testutil.h"
#include "../../pkg/collect/flaps.h"
#include "../../pkg/collect/kmsg.h"

#define S 1000 /* ms */
#define POLL(m, p, st, t) np_flaps_observe(&f, NP_FLAP_POLL, (m), (p), NP_PATH_##st, (t))
#define KMSG(m, p, st, t) np_flaps_observe(&f, NP_FLAP_KMSG, (m), (p), NP_PATH_##st, (t))

static void test_poll_only(void **state)
{
	(void)state;
	struct np_flaps f;
	np_flaps_init(&f, 600 * S, 6 * S);
	assert_int_equal(POLL("253:0", "8:16", ACTIVE, 0), 0);     /* first sight: no transition */
	assert_int_equal(POLL("253:0", "8:16", ACTIVE, 5 * S), 0);
	assert_int_equal(POLL("253:0", "8:16", FAILED, 10 * S), 0);
	assert_int_equal(POLL("253:0", "8:16", FAILED, 15 * S), 0);
	assert_int_equal(POLL("253:0", "8:16", ACTIVE, 20 * S), 1); /* failed -> active */
	assert_int_equal(POLL("253:0", "8:16", ACTIVE, 25 * S), 0);
	assert_int_equal(POLL("253:0", "8:16", FAILED, 30 * S), 0);
	assert_int_equal(POLL("253:0", "8:16", ACTIVE, 35 * S), 1);
	assert_int_equal(POLL("253:0", "8:32", ACTIVE, 35 * S), 0); /* the other path never failed */
	assert_int_equal(np_flaps_in_window(&f, "253:0", 40 * S), 2);
	assert_int_equal(np_flaps_in_window(&f, "253:1", 40 * S), 0);
	/* a path first seen failed, then active, is a flap */
	assert_int_equal(POLL("253:1", "8:48", FAILED, 40 * S), 0);
	assert_int_equal(POLL("253:1", "8:48", ACTIVE, 45 * S), 1);
	np_flaps_free(&f);
}

/* the kernel log's lines, through the classifier, into the tracker */
static void test_kmsg_only(void **state)
{
	(void)state;
	static const char *const lines[] = {
		"device-mapper: multipath: 254:0: Failing path 8:16.",
		"device-mapper: multipath: 254:0: Reinstating path 8:16.",
		"device-mapper: multipath: 254:0: Failing path 8:16.",
		"device-mapper: multipath: 254:0: Failing path 8:32.",
		"device-mapper: multipath: 254:0: Reinstating path 8:32.",
		"device-mapper: multipath: 254:0: Reinstating path 8:16.",
	};
	struct np_flaps f;
	np_flaps_init(&f, 600 * S, 6 * S);
	int counted = 0;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct np_kmsg s = { .max_events = 8 };
		struct np_kmsg_record rec = { .seq = i, .ts_us = (uint64_t)(i + 1) * 2 * 1000000, .message = (char *)lines[i] };
		assert_int_equal(np_kmsg_add_record(&s, &rec, 0, NULL), 1);
		int r = np_flaps_feed_kmsg(&f, &s.events[0]);
		assert_true(r >= 0);
		counted += r;
		np_kmsg_free(&s);
	}
	assert_int_equal(counted, 3);
	assert_int_equal(np_flaps_in_window(&f, "254:0", 20 * S), 3);
	/* other kinds are ignored */
	struct np_kmsg_event e = { .kind = NP_KMSG_IO_ERROR, .device = (char *)"sda" };
	assert_int_equal(np_flaps_feed_kmsg(&f, &e), 0);
	np_flaps_free(&f);
}

/* both sources see one flap: counted once, in either order of arrival */
static void test_dedup_one_flap(void **state)
{
	(void)state;
	struct np_flaps f;
	np_flaps_init(&f, 600 * S, 6 * S);
	assert_int_equal(POLL("253:0", "8:16", ACTIVE, 0), 0);
	assert_int_equal(KMSG("253:0", "8:16", FAILED, 8 * S), 0);
	assert_int_equal(POLL("253:0", "8:16", FAILED, 10 * S), 0);
	assert_int_equal(KMSG("253:0", "8:16", ACTIVE, 18 * S), 1);
	assert_int_equal(POLL("253:0", "8:16", ACTIVE, 20 * S), 0); /* the log already counted it */
	assert_int_equal(np_flaps_in_window(&f, "253:0", 30 * S), 1);
	np_flaps_free(&f);

	/* the log read late: polling counted first, the log's view pairs with it */
	np_flaps_init(&f, 600 * S, 6 * S);
	assert_int_equal(POLL("253:0", "8:16", ACTIVE, 0), 0);
	assert_int_equal(POLL("253:0", "8:16", FAILED, 10 * S), 0);
	assert_int_equal(POLL("253:0", "8:16", ACTIVE, 20 * S), 1);
	assert_int_equal(KMSG("253:0", "8:16", FAILED, 8 * S), 0);
	assert_int_equal(KMSG("253:0", "8:16", ACTIVE, 18 * S), 0);
	assert_int_equal(np_flaps_in_window(&f, "253:0", 30 * S), 1);
	np_flaps_free(&f);
}

/* a flap shorter than the poll interval: only the log sees it; polling's one pairs with the later one */
static void test_log_sees_what_polling_missed(void **state)
{
	(void)state;
	struct np_flaps f;
	np_flaps_init(&f, 600 * S, 6 * S);
	assert_int_equal(POLL("253:0", "8:16", ACTIVE, 0), 0);
	assert_int_equal(KMSG("253:0", "8:16", FAILED, 8 * S), 0);
	assert_int_equal(KMSG("253:0", "8:16", ACTIVE, 9 * S), 1);
	assert_int_equal(POLL("253:0", "8:16", ACTIVE, 10 * S), 0); /* polling never saw it failed */
	assert_int_equal(KMSG("253:0", "8:16", FAILED, 14 * S), 0);
	assert_int_equal(POLL("253:0", "8:16", FAILED, 15 * S), 0);
	assert_int_equal(KMSG("253:0", "8:16", ACTIVE, 18 * S), 1);
	assert_int_equal(POLL("253:0", "8:16", ACTIVE, 20 * S), 0);
	assert_int_equal(np_flaps_in_window(&f, "253:0", 30 * S), 2);
	np_flaps_free(&f);

	/* two flaps far apart (more than dedup_ms), one seen by each source: both count */
	np_flaps_init(&f, 600 * S, 6 * S);
	assert_int_equal(POLL("253:0", "8:16", FAILED, 0), 0);
	assert_int_equal(POLL("253:0", "8:16", ACTIVE, 5 * S), 1);
	assert_int_equal(KMSG("253:0", "8:16", ACTIVE, 100 * S), 1);
	assert_int_equal(np_flaps_in_window(&f, "253:0", 120 * S), 2);
	np_flaps_free(&f);
}

static void test_window_slides(void **state)
{
	(void)state;
	struct np_flaps f;
	np_flaps_init(&f, 150 * S, 6 * S);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(POLL("mpatha", "8:16", FAILED, i * 100 * S), 0);
		assert_int_equal(POLL("mpatha", "8:16", ACTIVE, i * 100 * S + 5 * S), 1);
	}
	/* flaps at 5 s, 105 s, 205 s */
	assert_int_equal(np_flaps_in_window(&f, "mpatha", 210 * S), 2);
	assert_int_equal(np_flaps_in_window(&f, "mpatha", 250 * S), 2);
	assert_int_equal(np_flaps_in_window(&f, "mpatha", 300 * S), 1);
	assert_int_equal(np_flaps_in_window(&f, "mpatha", 400 * S), 0);
	json_t *j = np_flaps_to_json(&f, 210 * S);
	json_t *m = json_array_get(j, 0);
	assert_string_equal(json_string_value(json_object_get(m, "map")), "mpatha");
	assert_int_equal(json_integer_value(json_object_get(m, "flaps_in_window")), 2);
	assert_int_equal(json_integer_value(json_object_get(m, "flaps_total")), 3);
	json_decref(j);
	np_flaps_free(&f);
}

/* older kernels print no map: the path is found in the map polling knows, and de-duplicates there */
static void test_kmsg_without_map(void **state)
{
	(void)state;
	struct np_flaps f;
	np_flaps_init(&f, 600 * S, 6 * S);
	assert_int_equal(POLL("253:0", "8:16", ACTIVE, 0), 0);
	assert_int_equal(POLL("253:1", "8:32", ACTIVE, 0), 0);
	assert_int_equal(KMSG(NULL, "8:32", FAILED, 8 * S), 0);
	assert_int_equal(POLL("253:1", "8:32", FAILED, 10 * S), 0);
	assert_int_equal(KMSG(NULL, "8:32", ACTIVE, 18 * S), 1);
	assert_int_equal(POLL("253:1", "8:32", ACTIVE, 20 * S), 0);
	assert_int_equal(np_flaps_in_window(&f, "253:1", 30 * S), 1);
	assert_int_equal(np_flaps_in_window(&f, "253:0", 30 * S), 0);
	/* a path nobody knows lands under "?" */
	assert_int_equal(KMSG(NULL, "65:0", ACTIVE, 30 * S), 1);
	assert_int_equal(np_flaps_in_window(&f, "?", 40 * S), 1);
	/* bad input */
	assert_int_equal(POLL(NULL, "8:16", ACTIVE, 0), -EINVAL);
	assert_int_equal(POLL("253:0", "", ACTIVE, 0), -EINVAL);
	assert_int_equal(POLL("253:0", "8:16", UNKNOWN, 0), -EINVAL);
	np_flaps_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_poll_only),
		cmocka_unit_test(test_kmsg_only),
		cmocka_unit_test(test_dedup_one_flap),
		cmocka_unit_test(test_log_sees_what_polling_missed),
		cmocka_unit_test(test_window_slides),
		cmocka_unit_test(test_kmsg_without_map),
	};
	return cmocka_run_group_tests_name("flaps", tests, NULL, NULL);
}
