// SPDX-License-Identifier: Apache-2.0
/* Events: aggregation of repeats, per object+reason rate limits, the core/v1 Event object. */
#include "testutil.h"
#include "../../pkg/agent/events.h"
#include "../../pkg/shared/macro.h"

static struct np_event ev(char *reason, char *subject, char *kind, char *name, char *ns)
{
	return (struct np_event){ .reason = reason, .type = "Warning", .message = "path sdb failed", .kind = kind,
				  .name = name, .namespace_ = ns, .subject = subject };
}

static void test_aggregate_then_limit(void **state)
{
	(void)state;
	struct np_event_book b;
	np_event_book_init(&b);
	struct np_event e = ev("PathFailed", "mpatha", "Node", "node-a", NULL);
	struct np_event_series *s;
	time_t t = 1790000000;
	assert_int_equal(np_events_decide(&b, &e, t, &s), NP_EVENT_CREATE);
	assert_int_equal(np_events_created(s, "node-a.187a"), 0);
	/* repeats within the window update the same Event; burst 5 allows 4 more */
	for (int i = 1; i < 5; i++) {
		assert_int_equal(np_events_decide(&b, &e, t + i, &s), NP_EVENT_UPDATE);
		assert_int_equal(s->count, (unsigned)i + 1);
	}
	assert_int_equal(np_events_decide(&b, &e, t + 5, &s), NP_EVENT_SUPPRESS);
	assert_int_equal(b.suppressed, 1);
	/* another reason on the same Node is not starved by the noisy one */
	struct np_event other = ev("VolumePathStall", "sdc", "Node", "node-a", NULL);
	assert_int_equal(np_events_decide(&b, &other, t + 5, &s), NP_EVENT_CREATE);
	/* a token comes back after a minute: the held-back occurrence is in the count (5 sent + 1 held + this) */
	assert_int_equal(np_events_decide(&b, &e, t + 66, &s), NP_EVENT_UPDATE);
	assert_int_equal(s->count, 7);
	/* after the aggregation window a new Event object is created */
	assert_int_equal(np_events_decide(&b, &e, t + 66 + 601, &s), NP_EVENT_CREATE);
	assert_int_equal(s->count, 1);
	assert_null(s->object_name);
	np_event_book_free(&b);
}

/* A request that failed gives its token back: a failing API never uses up an Event's rate limit. */
static void test_failed_requests(void **state)
{
	(void)state;
	struct np_event_book b;
	np_event_book_init(&b);
	struct np_event e = ev("FirmwareDrift", "bundle", "Node", "node-a", NULL);
	struct np_event_series *s;
	time_t t = 1790000000;
	for (int i = 0; i < 20; i++) { /* 20 failed creations, more than the burst of 5 */
		assert_int_equal(np_events_decide(&b, &e, t, &s), NP_EVENT_CREATE);
		np_events_failed(&b, &e, s, NP_EVENT_CREATE, -EIO);
	}
	assert_int_equal(b.suppressed, 0);
	assert_int_equal(np_events_decide(&b, &e, t, &s), NP_EVENT_CREATE);
	assert_int_equal(np_events_created(s, "node-a.1"), 0);
	assert_int_equal(np_events_decide(&b, &e, t + 1, &s), NP_EVENT_UPDATE);
	assert_int_equal(s->count, 2);
	np_events_failed(&b, &e, s, NP_EVENT_UPDATE, -EIO); /* the count is taken back */
	assert_int_equal(s->count, 1);
	assert_string_equal(s->object_name, "node-a.1");
	assert_int_equal(np_events_decide(&b, &e, t + 2, &s), NP_EVENT_UPDATE);
	np_events_failed(&b, &e, s, NP_EVENT_UPDATE, -ENOENT); /* the Event object is gone */
	assert_null(s->object_name);
	assert_int_equal(np_events_decide(&b, &e, t + 3, &s), NP_EVENT_CREATE);
	np_event_book_free(&b);
}

/*
 * Regression: 10,000 identical kernel-log matches in a second became an Event with count 5 (the
 * burst); the 9,995 held back never reached the series count. Now the series counts every
 * occurrence, and once a token is back np_events_due() hands out the real count to send.
 */
static void test_storm_counts_every_occurrence(void **state)
{
	(void)state;
	struct np_event_book b;
	np_event_book_init(&b);
	struct np_event e = ev("PathFailed", "8:16", "Node", "node-a", NULL);
	struct np_event_series *s = NULL;
	time_t t = 1790000000;
	unsigned sent = 0, held = 0;
	for (int i = 0; i < 10000; i++) {
		enum np_event_verdict v = np_events_decide(&b, &e, t, &s);
		if (v == NP_EVENT_CREATE)
			assert_int_equal(np_events_created(s, "node-a.1"), 0);
		if (v == NP_EVENT_SUPPRESS)
			held++;
		else
			sent++;
	}
	assert_int_equal(sent, 5);
	assert_int_equal(held, 9995);
	assert_int_equal(s->count, 10000);
	assert_int_equal(s->unsent, 9995);
	const struct np_event *he;
	struct np_event_series *ds;
	/* no token yet: nothing due */
	assert_int_equal(np_events_due(&b, t + 1, &ds, &he), NP_EVENT_SUPPRESS);
	/* a minute later: the count of 10,000 goes out as an UPDATE of the same Event */
	assert_int_equal(np_events_due(&b, t + 61, &ds, &he), NP_EVENT_UPDATE);
	assert_ptr_equal(ds, s);
	assert_string_equal(he->reason, "PathFailed");
	json_t *patch = np_event_count_patch(he, ds);
	assert_int_equal(json_integer_value(json_object_get(patch, "count")), 10000);
	json_decref(patch);
	/* that request failed: the count stays due, the token comes back */
	np_events_failed(&b, he, ds, NP_EVENT_UPDATE, -EIO);
	assert_int_equal(s->count, 10000);
	assert_int_equal(np_events_due(&b, t + 61, &ds, &he), NP_EVENT_UPDATE);
	assert_int_equal(np_events_due(&b, t + 61, &ds, &he), NP_EVENT_SUPPRESS); /* sent: nothing left */
	np_event_book_free(&b);
}

static void test_event_object(void **state)
{
	(void)state;
	struct np_event_book b;
	np_event_book_init(&b);
	struct np_event e = ev("VolumePathStall", "sdb", "Pod", "web-0", "shop");
	struct np_event_series *s;
	assert_int_equal(np_events_decide(&b, &e, 1790000000, &s), NP_EVENT_CREATE);
	json_t *o = np_event_object(&e, "node-a", s);
	assert_non_null(o);
	json_t *io = json_object_get(o, "involvedObject");
	assert_string_equal(json_string_value(json_object_get(io, "apiVersion")), "v1");
	assert_string_equal(json_string_value(json_object_get(io, "kind")), "Pod");
	assert_string_equal(json_string_value(json_object_get(io, "namespace")), "shop");
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "metadata"), "namespace")), "shop");
	assert_string_equal(json_string_value(json_object_get(o, "firstTimestamp")), "2026-09-21T14:13:20Z");
	assert_int_equal(json_integer_value(json_object_get(o, "count")), 1);
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "source"), "host")), "node-a");
	json_decref(o);
	/* cluster-scoped objects keep their Events in "default", without involvedObject.namespace */
	struct np_event pv = ev("VolumePathStall", "sdb", "PersistentVolume", "pvc-1", NULL);
	assert_int_equal(np_events_decide(&b, &pv, 1790000000, &s), NP_EVENT_CREATE);
	o = np_event_object(&pv, "node-a", s);
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "metadata"), "namespace")), "default");
	assert_null(json_object_get(json_object_get(o, "involvedObject"), "namespace"));
	assert_null(json_object_get(json_object_get(o, "involvedObject"), "uid")); /* unresolved: no uid */
	json_decref(o);
	/* a resolved object carries its uid: `kubectl describe` selects Events by involvedObject.uid */
	pv.uid = "0b9c1f6e-4a8d-4c1e-9d7a-2f6b1c3e5a70";
	o = np_event_object(&pv, "node-a", s);
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "involvedObject"), "uid")), pv.uid);
	json_decref(o);
	np_event_book_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aggregate_then_limit),
		cmocka_unit_test(test_failed_requests),
		cmocka_unit_test(test_storm_counts_every_occurrence),
		cmocka_unit_test(test_event_object),
	};
	return cmocka_run_group_tests_name("events", tests, NULL, NULL);
}
