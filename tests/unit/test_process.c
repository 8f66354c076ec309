// SPDX-License-Identifier: Apache-2.0
/*
 * process_* metrics: /proc/[pid]/stat and /proc/stat parsers on captures (tests/fixtures/proc-self/,
 * one with a comm holding spaces and ')'), truncated input, and the rendered families.
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <string.h>
#include <time.h>
#include "../../pkg/agent/process.h"

static void test_stat_captures(void **state)
{
	(void)state;
	size_t len;
	uint64_t start, vsize, rss;
	char *b = np_slurp("tests/fixtures/proc-self/stat-comm-parens", &len);
	assert_int_equal(np_proc_stat_parse(b, len, &start, &vsize, &rss), 0);
	/* fields 22, 23, 24 of the capture, counted by hand from the last ')' */
	assert_int_equal(start, 185832);
	assert_int_equal(vsize, 17145856);
	assert_int_equal(rss, 3419);
	/* every truncation before field 24 begins is refused */
	size_t f24 = (size_t)((const char *)memrchr(b, ')', len) - b) + 1;
	for (int field = 3; field < 24; field++) {
		f24++; /* the space */
		while (b[f24] != ' ')
			f24++;
	}
	for (size_t cut = 0; cut <= f24; cut++)
		assert_int_equal(np_proc_stat_parse(b, cut, &start, &vsize, &rss), -EINVAL);
	free(b);
	b = np_slurp("tests/fixtures/proc-self/stat-cat", &len);
	assert_int_equal(np_proc_stat_parse(b, len, &start, &vsize, &rss), 0);
	assert_true(start > 0 && vsize > rss);
	free(b);
	assert_int_equal(np_proc_stat_parse("1 (x) R 2 3", 11, &start, &vsize, &rss), -EINVAL);
	assert_int_equal(np_proc_stat_parse("no paren", 8, &start, &vsize, &rss), -EINVAL);
}

static void test_btime(void **state)
{
	(void)state;
	size_t len;
	uint64_t bt;
	char *b = np_slurp("tests/fixtures/proc-self/proc-stat", &len);
	assert_int_equal(np_proc_btime_parse(b, len, &bt), 0);
	assert_int_equal(bt, 1796636894);
	free(b);
	assert_int_equal(np_proc_btime_parse("cpu 1 2\nintr 3\n", 15, &bt), -ENOENT);
	assert_int_equal(np_proc_btime_parse("btime x\n", 8, &bt), -EINVAL);
}

static void test_render(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	assert_int_equal(np_process_metrics_render(f), 0);
	fclose(f);
	const char *want[] = { "\nprocess_cpu_seconds_total ", "\nprocess_resident_memory_bytes ",
			       "\nprocess_virtual_memory_bytes ", "\nprocess_start_time_seconds ",
			       "\nprocess_open_fds ", "\nprocess_max_fds " };
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(buf, want[i]))
			fail_msg("missing %s in:\n%s", want[i], buf);
	/* the start time is this process's: within a day of now */
	double st = strtod(strstr(buf, "\nprocess_start_time_seconds ") + 28, NULL);
	assert_true(st > (double)time(NULL) - 86400 && st <= (double)time(NULL) + 1);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stat_captures),
		cmocka_unit_test(test_btime),
		cmocka_unit_test(test_render),
	};
	return cmocka_run_group_tests_name("process", tests, NULL, NULL);
}
