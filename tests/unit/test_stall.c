// SPDX-License-Identifier: Apache-2.0
/*
 * Stall detector: sequences of samples derived from real lines (this machine's
 * captured vda line, case 23's nvme0n1 line) with counters advanced or frozen
 * the way a healthy, an idle and a stuck device advance them.
 */
#include "testutil.h"
#include "../../pkg/collect/stall.h"

/* Parse the captured vda line and case 23's nvme0n1 line into a two-device sample. */
static void base_sample(struct np_diskstats *s)
{
	size_t len;
	char *buf = np_slurp("tests/fixtures/host-vm-block/proc/diskstats", &len);
	char *vda = strstr(buf, " vda ");
	assert_non_null(vda);
	while (vda > buf && vda[-1] != '\n')
		vda--;
	char *nl = strchr(vda, '\n');
	size_t vl = nl ? (size_t)(nl - vda) : strlen(vda);
	static const char nvme[] = " 259       0 nvme0n1 109916 11636 7124076 550966 115172 4137 9296402 219723 0 "
				   "51641 694795 0 0 0 0 4958 2319\n";
	char *two = malloc(vl + 1 + sizeof(nvme));
	assert_non_null(two);
	memcpy(two, vda, vl);
	two[vl] = '\n';
	memcpy(two + vl + 1, nvme, sizeof(nvme));
	assert_int_equal(np_diskstats_parse(two, strlen(two), s), 0);
	assert_int_equal(s->n, 2);
	assert_string_equal(s->dev[0].name, "vda");
	assert_string_equal(s->dev[1].name, "nvme0n1");
	/* both start idle; each test sets the queue it needs */
	s->dev[0].c.v[NP_DS_IN_FLIGHT] = 0;
	s->dev[1].c.v[NP_DS_IN_FLIGHT] = 0;
	free(two);
	free(buf);
}

static size_t ongoing(const struct np_stall_detector *d, const struct np_stall_event **last)
{
	const struct np_stall_event *ev;
	size_t n = np_stall_events(d, &ev), k = 0;
	for (size_t i = 0; i < n; i++)
		if (ev[i].ongoing) {
			k++;
			if (last)
				*last = &ev[i];
		}
	return k;
}

/* Healthy: I/O in flight at every sample, but completions grow: never a stall. */
static void test_busy_not_stalled(void **state)
{
	(void)state;
	struct np_diskstats s;
	base_sample(&s);
	struct np_stall_detector *d = np_stall_new(NULL);
	assert_non_null(d);
	for (int t = 0; t <= 60; t += 5) {
		s.dev[0].c.v[NP_DS_IN_FLIGHT] = 32;
		s.dev[0].c.v[NP_DS_WRITES] += 1;
		s.dev[1].c.v[NP_DS_IN_FLIGHT] = 0; /* idle: no stall either */
		assert_int_equal(np_stall_feed(d, &s, t * 1000), 0);
	}
	const struct np_stall_event *ev;
	assert_int_equal(np_stall_events(d, &ev), 0);
	np_stall_free(d);
	np_diskstats_free(&s);
}

/*
 * Stuck: in flight, nothing completes. Submitted after an idle sample, the requests count from the
 * first sample that shows them; reported 10 s later, ended by the first completion.
 */
static void test_stall_starts_and_ends(void **state)
{
	(void)state;
	struct np_diskstats s;
	base_sample(&s);
	struct np_stall_detector *d = np_stall_new(NULL);
	const struct np_stall_event *e = NULL;
	/* t=100 s: vda idle; t=102 s: 3 requests in flight (submitted since), none done */
	s.dev[0].c.v[NP_DS_IN_FLIGHT] = 0;
	assert_int_equal(np_stall_feed(d, &s, 100000), 0);
	s.dev[0].c.v[NP_DS_IN_FLIGHT] = 3;
	for (int64_t t = 102000; t < 112000; t += 2000) {
		assert_int_equal(np_stall_feed(d, &s, t), 0);
		assert_int_equal(ongoing(d, NULL), 0); /* 10 s not reached since they were seen */
	}
	assert_int_equal(np_stall_feed(d, &s, 112000), 0);
	assert_int_equal(ongoing(d, &e), 1); /* 10 s since t=102 s */
	assert_string_equal(e->device, "vda");
	assert_int_equal(e->major, 254);
	assert_int_equal(e->reason, NP_STALL_NO_COMPLETION);
	assert_int_equal(e->start_ms, 102000);
	assert_int_equal(e->end_ms, -1);
	assert_int_equal(e->duration_ms, 10000);
	assert_int_equal(e->in_flight, 3);
	s.dev[0].c.v[NP_DS_IN_FLIGHT] = 5;
	assert_int_equal(np_stall_feed(d, &s, 125000), 0);
	assert_int_equal(ongoing(d, &e), 1);
	assert_int_equal(e->duration_ms, 23000);
	assert_int_equal(e->in_flight, 5);
	/* one flush completes: the stall is over */
	s.dev[0].c.v[NP_DS_FLUSHES]++;
	assert_int_equal(np_stall_feed(d, &s, 127000), 0);
	const struct np_stall_event *ev;
	assert_int_equal(np_stall_events(d, &ev), 1);
	assert_false(ev[0].ongoing);
	assert_int_equal(ev[0].start_ms, 102000);
	assert_int_equal(ev[0].end_ms, 127000);
	assert_int_equal(ev[0].duration_ms, 25000);
	/* progress again, then stuck again: a second, separate stall */
	for (int64_t t = 128000; t <= 140000; t += 4000)
		assert_int_equal(np_stall_feed(d, &s, t), 0);
	assert_int_equal(np_stall_events(d, &ev), 2);
	assert_true(ev[1].ongoing);
	assert_int_equal(ev[1].start_ms, 127000);
	assert_int_equal(np_stall_feed(d, &s, 139000), -EINVAL); /* time went backwards */
	np_stall_free(d);
	np_diskstats_free(&s);
}

/* inspect --interval S: two samples; S >= N shows the ongoing stall, S < N does not. */
static void test_two_samples_and_threshold(void **state)
{
	(void)state;
	struct np_diskstats s;
	base_sample(&s);
	s.dev[1].c.v[NP_DS_IN_FLIGHT] = 1;
	struct np_stall_cfg cfg = { .stall_ms = 3000 };
	struct np_stall_detector *d = np_stall_new(&cfg);
	const struct np_stall_event *e = NULL;
	assert_int_equal(np_stall_feed(d, &s, 5000), 0);
	assert_int_equal(np_stall_feed(d, &s, 7999), 0);
	assert_int_equal(ongoing(d, NULL), 0);
	assert_int_equal(np_stall_feed(d, &s, 8000), 0);
	assert_int_equal(ongoing(d, &e), 1);
	assert_string_equal(e->device, "nvme0n1");
	assert_int_equal(e->duration_ms, 3000);
	np_stall_free(d);
	/* default 10 s: a 5 s interval is not enough */
	d = np_stall_new(NULL);
	assert_int_equal(np_stall_feed(d, &s, 0), 0);
	assert_int_equal(np_stall_feed(d, &s, 5000), 0);
	assert_int_equal(ongoing(d, NULL), 0);
	np_stall_free(d);
	np_diskstats_free(&s);
}

/* A stalled device that disappears (hot-removed after the timeout) ends its stall. */
static void test_device_disappears(void **state)
{
	(void)state;
	struct np_diskstats s;
	base_sample(&s);
	s.dev[1].c.v[NP_DS_IN_FLIGHT] = 2;
	struct np_stall_detector *d = np_stall_new(NULL);
	assert_int_equal(np_stall_feed(d, &s, 0), 0);
	assert_int_equal(np_stall_feed(d, &s, 20000), 0);
	assert_int_equal(ongoing(d, NULL), 1);
	s.n = 1; /* nvme0n1 gone */
	assert_int_equal(np_stall_feed(d, &s, 21000), 0);
	const struct np_stall_event *ev;
	assert_int_equal(np_stall_events(d, &ev), 1);
	assert_false(ev[0].ongoing);
	assert_int_equal(ev[0].end_ms, 21000);
	assert_int_equal(ev[0].duration_ms, 21000);
	/* it comes back with reset counters: a fresh start, no instant stall */
	s.n = 2;
	s.dev[1].c.v[NP_DS_READS] = 0;
	s.dev[1].c.v[NP_DS_WRITES] = 0;
	assert_int_equal(np_stall_feed(d, &s, 22000), 0);
	assert_int_equal(ongoing(d, NULL), 0);
	np_stall_free(d);
	np_diskstats_free(&s);
}

/* Counters going backwards (re-added between two samples) restart the clock. */
static void test_counter_reset(void **state)
{
	(void)state;
	struct np_diskstats s;
	base_sample(&s);
	s.dev[1].c.v[NP_DS_IN_FLIGHT] = 1;
	struct np_stall_detector *d = np_stall_new(NULL);
	assert_int_equal(np_stall_feed(d, &s, 0), 0);
	assert_int_equal(np_stall_feed(d, &s, 12000), 0);
	assert_int_equal(ongoing(d, NULL), 1);
	s.dev[1].c.v[NP_DS_READS] = 3; /* was 109916 */
	assert_int_equal(np_stall_feed(d, &s, 13000), 0);
	assert_int_equal(ongoing(d, NULL), 0);
	assert_int_equal(np_stall_feed(d, &s, 20000), 0);
	assert_int_equal(ongoing(d, NULL), 0); /* 7 s since the reset */
	assert_int_equal(np_stall_feed(d, &s, 23000), 0);
	assert_int_equal(ongoing(d, NULL), 1);
	np_stall_free(d);
	np_diskstats_free(&s);
}

/* await over the window: off by default; with a threshold, slow completions are a stall. */
static void test_await_threshold(void **state)
{
	(void)state;
	struct np_diskstats s;
	base_sample(&s);
	struct np_stall_cfg cfg = { .await_ms = 200, .await_window_ms = 4000 };
	struct np_stall_detector *on = np_stall_new(&cfg), *off = np_stall_new(NULL);
	const struct np_stall_event *e = NULL;
	/* slow: every second 2 writes complete after 500 ms each */
	for (int t = 0; t <= 6; t++) {
		s.dev[0].c.v[NP_DS_IN_FLIGHT] = 8;
		s.dev[0].c.v[NP_DS_WRITES] += 2;
		s.dev[0].c.v[NP_DS_WRITE_MS] += 1000;
		assert_int_equal(np_stall_feed(on, &s, t * 1000), 0);
		assert_int_equal(np_stall_feed(off, &s, t * 1000), 0);
	}
	assert_int_equal(ongoing(off, NULL), 0);
	assert_int_equal(ongoing(on, &e), 1);
	assert_int_equal(e->reason, NP_STALL_AWAIT);
	assert_string_equal(e->device, "vda");
	assert_float_equal(e->await_ms, 500.0, 1e-9);
	assert_int_equal(e->start_ms, 0);
	/* fast again: 100 reads at 1 ms; the window (4 s) fills with fast samples */
	for (int t = 7; t <= 12; t++) {
		s.dev[0].c.v[NP_DS_READS] += 100;
		s.dev[0].c.v[NP_DS_READ_MS] += 100;
		assert_int_equal(np_stall_feed(on, &s, t * 1000), 0);
	}
	assert_int_equal(ongoing(on, NULL), 0);
	const struct np_stall_event *ev;
	assert_int_equal(np_stall_events(on, &ev), 1);
	assert_int_equal(ev[0].reason, NP_STALL_AWAIT);
	assert_false(ev[0].ongoing);
	assert_int_equal(ev[0].end_ms, 7000); /* first fast sample: (6100-3000) ms / 106 I/Os = 29 ms */
	np_stall_free(on);
	np_stall_free(off);
	np_diskstats_free(&s);
}

/*
 * The agent's watch: when the next sample can show a stall begin. Idle devices: half the
 * threshold after the last sample; a device with I/O in flight and nothing completed: its last
 * progress + the threshold, and a sample then reports the stall as begun (once).
 */
static void test_next_sample_and_began(void **state)
{
	(void)state;
	struct np_diskstats s;
	base_sample(&s);
	struct np_stall_cfg cfg = { .stall_ms = 3000 };
	struct np_stall_detector *d = np_stall_new(&cfg);
	assert_int_equal(np_stall_next_ms(d, 1500), INT64_MAX); /* no sample yet */
	assert_int_equal(np_stall_feed(d, &s, 100000), 0);
	assert_int_equal(np_stall_began(d), 0);
	assert_int_equal(np_stall_next_ms(d, 1500), 101500); /* both idle: the cadence */
	assert_int_equal(np_stall_next_ms(d, 0), INT64_MAX);
	/* t=100.4 s: one read in flight on nvme0n1 (submitted since the idle sample), none completed */
	s.dev[1].c.v[NP_DS_IN_FLIGHT] = 1;
	assert_int_equal(np_stall_feed(d, &s, 100400), 0);
	assert_int_equal(np_stall_next_ms(d, 1500), 101900); /* cadence still first */
	assert_int_equal(np_stall_next_ms(d, 5000), 103400); /* seen at 100.4 s + 3 s */
	assert_int_equal(np_stall_feed(d, &s, 103399), 0);
	assert_int_equal(np_stall_began(d), 0);
	assert_int_equal(np_stall_feed(d, &s, 103400), 0);
	assert_int_equal(np_stall_began(d), 1);
	const struct np_stall_event *e = NULL;
	assert_int_equal(ongoing(d, &e), 1);
	assert_string_equal(e->device, "nvme0n1");
	assert_int_equal(e->start_ms, 100400);
	/* stalled: no deadline of its own any more, the next sample begins nothing new */
	assert_int_equal(np_stall_next_ms(d, 5000), 108400);
	assert_int_equal(np_stall_feed(d, &s, 104000), 0);
	assert_int_equal(np_stall_began(d), 0);
	/* the read completes, another goes in flight: its deadline counts from this sample */
	s.dev[1].c.v[NP_DS_READS]++;
	assert_int_equal(np_stall_feed(d, &s, 105000), 0);
	assert_int_equal(ongoing(d, NULL), 0);
	assert_int_equal(np_stall_next_ms(d, 5000), 108000);
	np_stall_free(d);
	np_diskstats_free(&s);
}

/* 7-column lines carry no in-flight count: skipped, not guessed. */
static void test_no_inflight_field(void **state)
{
	(void)state;
	static const char l[] = "3 1 hda1 8 8 8 8\n";
	struct np_diskstats s;
	assert_int_equal(np_diskstats_parse(l, sizeof(l) - 1, &s), 0);
	struct np_stall_detector *d = np_stall_new(NULL);
	assert_int_equal(np_stall_feed(d, &s, 0), 0);
	assert_int_equal(np_stall_feed(d, &s, 60000), 0);
	const struct np_stall_event *ev;
	assert_int_equal(np_stall_events(d, &ev), 0);
	np_stall_free(d);
	np_diskstats_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_busy_not_stalled),
		cmocka_unit_test(test_stall_starts_and_ends),
		cmocka_unit_test(test_two_samples_and_threshold),
		cmocka_unit_test(test_device_disappears),
		cmocka_unit_test(test_counter_reset),
		cmocka_unit_test(test_await_threshold),
		cmocka_unit_test(test_no_inflight_field),
		cmocka_unit_test(test_next_sample_and_began),
	};
	return cmocka_run_group_tests_name("stall", tests, NULL, NULL);
}
