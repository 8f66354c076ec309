// SPDX-License-Identifier: Apache-2.0
/*
 * The collection pass's worker threads (pkg/collect/pool.h): every body of a
 * parallel loop runs exactly once, from the caller and from tasks on workers,
 * a NULL pool runs in order, and a one-shot pass on several threads gives the
 * report of one thread (the same JSON, clock fields aside) on captured trees.
 */
#include "testutil.h"
#include "../../pkg/collect/collector.h"
#include "../../pkg/collect/pool.h"
#include "../../pkg/report/json.h"
#include "../../pkg/shared/macro.h"

#include <dirent.h>
#include <string.h>

struct counts {
	unsigned *hits;
	size_t *order, norder;
};

static void count(void *arg, size_t i)
{
	struct counts *c = arg;
	__atomic_add_fetch(&c->hits[i], 1, __ATOMIC_RELAXED);
	if (c->order)
		c->order[c->norder++] = i;
}

static void test_no_pool_runs_in_order(void **state)
{
	(void)state;
	unsigned hits[5] = { 0 };
	size_t order[5];
	struct counts c = { .hits = hits, .order = order };
	np_pool_for(NULL, 5, count, &c);
	assert_int_equal(c.norder, 5);
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(order[i], i);
		assert_int_equal(hits[i], 1);
	}
	np_pool_wait(NULL);
	np_pool_free(NULL);
	assert_null(np_pool_new(0));
	assert_int_equal(np_pool_lanes(1), 1);
	unsigned l = np_pool_lanes(4);
	assert_true(l >= 1 && l <= 4);
}

enum { N = 20000, TASKS = 6 };

/* A task on a worker that runs a parallel loop of its own, which the other lanes help with. */
struct task {
	struct np_pool *p;
	struct counts c;
};

static void task_loop(void *arg)
{
	struct task *t = arg;
	np_pool_for(t->p, N, count, &t->c);
}

static void test_every_body_runs_once(void **state)
{
	(void)state;
	struct np_pool *p = np_pool_new(3);
	assert_non_null(p);
	_cleanup_free_ unsigned *mine = calloc(N, sizeof(*mine));
	_cleanup_free_ unsigned *theirs = calloc((size_t)N * TASKS, sizeof(*theirs));
	assert_non_null(mine);
	assert_non_null(theirs);
	struct task t[TASKS];
	for (size_t k = 0; k < TASKS; k++) {
		t[k] = (struct task){ .p = p, .c = { .hits = theirs + k * N } };
		assert_int_equal(np_pool_submit(p, task_loop, &t[k]), 0);
	}
	struct counts c = { .hits = mine };
	np_pool_for(p, N, count, &c); /* beside them, from this thread */
	np_pool_wait(p);
	for (size_t i = 0; i < N; i++)
		assert_int_equal(mine[i], 1);
	for (size_t i = 0; i < (size_t)N * TASKS; i++)
		assert_int_equal(theirs[i], 1);
	np_pool_free(p);
}

/* @j without its clock fields: the pass's start and duration, a controller's collect_us */
static void drop_clocks(json_t *j)
{
	const char *key;
	json_t *v;
	void *tmp;
	size_t i;
	if (json_is_array(j))
		json_array_foreach (j, i, v)
			drop_clocks(v);
	if (!json_is_object(j))
		return;
	json_object_foreach_safe (j, tmp, key, v) {
		size_t l = strlen(key);
		if (strcmp(key, "collected_at_ms") == 0 || (l > 3 && strcmp(key + l - 3, "_us") == 0))
			json_object_del(j, key);
		else
			drop_clocks(v);
	}
}

/* The report of @rel as JSON text, collected with @threads threads, without its clock fields. */
static char *report_json(const char *rel, unsigned threads)
{
	struct np_host h;
	assert_int_equal(np_host_open(&h, np_src(rel)), 0);
	struct np_collect_ctx ctx = { .host = &h, .threads = threads, .threads_min_items = 1 };
	struct np_report r = { 0 };
	assert_int_equal(np_collect_all(&ctx, NULL, &r), 0);
	json_t *j = np_report_to_json(&r);
	assert_non_null(j);
	drop_clocks(j);
	char *s = json_dumps(j, JSON_COMPACT);
	assert_non_null(s);
	json_decref(j);
	np_report_free(&r);
	np_host_close(&h);
	return s;
}

static void test_threads_give_the_same_report(void **state)
{
	(void)state;
	static const char *const trees[] = { "tests/fixtures/host-vm", "tests/fixtures/host-vm-block",
					     "tests/fixtures/nib-numa", "tests/fixtures/qemu-nvme" };
	for (size_t i = 0; i < ARRAY_SIZE(trees); i++) {
		_cleanup_free_ char *one = report_json(trees[i], 1);
		_cleanup_free_ char *four = report_json(trees[i], 4);
		assert_true(strlen(one) > 1000);
		assert_string_equal(one, four);
	}
}

/* block counts its devices for the pass's choice (a small host's pass stays on one thread) */
static void test_block_counts_its_devices(void **state)
{
	(void)state;
	struct np_host h;
	assert_int_equal(np_host_open(&h, np_src("tests/fixtures/host-vm-block")), 0);
	struct np_collect_ctx ctx = { .host = &h };
	DIR *d = opendir(np_src("tests/fixtures/host-vm-block/sys/class/block"));
	assert_non_null(d);
	size_t want = 0;
	for (struct dirent *de; (de = readdir(d));)
		want += de->d_name[0] != '.';
	closedir(d);
	const struct np_section *b = np_section_find("block");
	assert_true(want > 0);
	assert_int_equal(b->concurrent->items(&ctx), want);
	assert_true(want < NP_THREADS_MIN_ITEMS);
	np_host_close(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_pool_runs_in_order),
		cmocka_unit_test(test_every_body_runs_once),
		cmocka_unit_test(test_threads_give_the_same_report),
		cmocka_unit_test(test_block_counts_its_devices),
	};
	return cmocka_run_group_tests_name("pool", tests, NULL, NULL);
}
