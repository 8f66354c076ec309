// SPDX-License-Identifier: Apache-2.0
/*
 * test_fdcache.c - files kept open between reads (np_host_keep_open()): a kept procfs or sysfs
 * file read again shows its content now, not the first one; a file that went is an error of a
 * new open, and its descriptor is gone; files of other filesystems (a captured tree) are never
 * kept; the sweep closes what a pass did not read; the cap holds.
 */
#include "testutil.h"
#include "../../pkg/shared/fdcache.h"
#include "../../pkg/shared/hostfs.h"
#include "../../pkg/shared/macro.h"
#include "../../pkg/shared/strutil.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int open_fds(void)
{
	char **names = NULL;
	size_t n = 0;
	struct np_host self;
	assert_int_equal(np_host_open(&self, "/"), 0);
	assert_int_equal(np_host_list(&self, "/proc/self/fd", &names, &n), 0);
	np_strv_free(names);
	np_host_close(&self);
	return (int)n;
}

static void test_map(void **state)
{
	(void)state;
	struct np_fdcache *c = np_fdcache_new(3);
	assert_non_null(c);
	int before = open_fds();
	int fds[4];
	char path[32];
	for (int i = 0; i < 4; i++) {
		fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		assert_true(fds[i] >= 0);
		snprintf(path, sizeof(path), "/p/%d", i);
		int r = np_fdcache_put(c, path, fds[i]);
		assert_int_equal(r, i < 3 ? 0 : -ENOSPC); /* the cap: the fourth stays the caller's */
	}
	close(fds[3]);
	assert_int_equal(np_fdcache_count(c), 3);
	assert_int_equal(np_fdcache_get(c, "/p/1", NULL), fds[1]);
	assert_int_equal(np_fdcache_get(c, "/p/3", NULL), -ENOENT);
	/* the first sweep after the puts keeps all (put counts as used), the second closes the unread */
	assert_int_equal(np_fdcache_sweep(c), 0);
	assert_int_equal(np_fdcache_get(c, "/p/2", NULL), fds[2]);
	assert_int_equal(np_fdcache_sweep(c), 2);
	assert_int_equal(np_fdcache_count(c), 1);
	assert_int_equal(np_fdcache_get(c, "/p/0", NULL), -ENOENT);
	np_fdcache_drop(c, "/p/2");
	assert_int_equal(np_fdcache_count(c), 0);
	assert_int_equal(open_fds(), before); /* the descriptors were closed, not leaked */
	/* many: the buckets grow and every one is still found */
	struct np_fdcache *big = np_fdcache_new(1000);
	for (int i = 0; i < 300; i++) {
		snprintf(path, sizeof(path), "/many/%d", i);
		assert_int_equal(np_fdcache_put(big, path, dup(0)), 0);
	}
	for (int i = 0; i < 300; i++) {
		snprintf(path, sizeof(path), "/many/%d", i);
		assert_true(np_fdcache_get(big, path, NULL) >= 0);
	}
	np_fdcache_flush(big);
	assert_int_equal(np_fdcache_count(big), 0);
	np_fdcache_free(big);
	np_fdcache_free(c);
	assert_int_equal(open_fds(), before);
}

/* The kept /proc/PID/stat of a child that sleeps, then of one that is gone. */
static void test_kept_proc(void **state)
{
	(void)state;
	struct np_host h;
	assert_int_equal(np_host_open(&h, "/"), 0);
	assert_int_equal(np_host_keep_open(&h, 16), 0);
	/* a value that changes between reads: the kept descriptor must show the new one */
	char *a = NULL, *b = NULL;
	assert_int_equal(np_host_read_line(&h, "/proc/uptime", &a), 0);
	assert_int_equal(np_fdcache_count(h.kept), 1);
	struct timespec ts = { 0, 30 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	assert_int_equal(np_host_read_line(&h, "/proc/uptime", &b), 0);
	assert_int_equal(np_fdcache_count(h.kept), 1); /* the same descriptor, read again */
	assert_string_not_equal(a, b);
	free(a);
	free(b);
	/* a whole multi-line file read again by the kept descriptor: all of it, from its start */
	_cleanup_free_ char *w1 = NULL, *w2 = NULL;
	size_t l1 = 0, l2 = 0;
	assert_int_equal(np_host_read(&h, "/proc/self/status", 0, &w1, &l1), 0);
	assert_int_equal(np_host_read(&h, "/proc/self/status", 0, &w2, &l2), 0);
	size_t last = 0;
	assert_true(np_fdcache_get(h.kept, "/proc/self/status", &last) >= 0);
	assert_int_equal(last, l2); /* the size the next read asks for */
	assert_true(l1 > 0);
	assert_true(np_startswith(w2, "Name:"));
	assert_true(l1 > 100 && l2 > 100 && strstr(w2, "\nVmRSS:") != NULL);
	/* a sysfs attribute: kept, and it reads what a host without kept files reads */
	uint64_t mtu = 0, again = 0, fresh = 0;
	struct np_host plain;
	assert_int_equal(np_host_open(&plain, "/"), 0);
	if (np_host_read_u64(&plain, "/sys/class/net/lo/mtu", &fresh) == 0) {
		assert_int_equal(np_host_read_u64(&h, "/sys/class/net/lo/mtu", &mtu), 0);
		assert_int_equal(np_host_read_u64(&h, "/sys/class/net/lo/mtu", &again), 0);
		assert_true(np_fdcache_get(h.kept, "/sys/class/net/lo/mtu", NULL) >= 0);
		assert_int_equal(mtu, fresh);
		assert_int_equal(again, fresh);
	}
	np_host_close(&plain);
	/* a file that goes: the error of a new open, and no descriptor left for it */
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	char *comm = NULL;
	assert_int_equal(np_host_read_line(&h, path, &comm), 0);
	assert_true(np_fdcache_get(h.kept, path, NULL) >= 0);
	free(comm);
	comm = NULL;
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	assert_int_equal(np_host_read_line(&h, path, &comm), -ENOENT);
	assert_null(comm);
	assert_int_equal(np_fdcache_get(h.kept, path, NULL), -ENOENT);
	/* a folder is kept and listed afresh: the child's entry is gone from /proc */
	char **names = NULL;
	size_t n = 0;
	assert_int_equal(np_host_list(&h, "/proc/self/task", &names, &n), 0);
	assert_true(n >= 1);
	np_strv_free(names);
	assert_true(np_fdcache_get(h.kept, "/proc/self/task", NULL) >= 0);
	np_host_reopen_all(&h);
	assert_int_equal(np_fdcache_count(h.kept), 0);
	np_host_close(&h);
}

/* A captured tree (a regular filesystem) is read as before: nothing kept, a replaced file read anew. */
static void test_not_kept_elsewhere(void **state)
{
	(void)state;
	char root[] = "/tmp/np-fdcache-XXXXXX", p[128];
	assert_non_null(mkdtemp(root));
	snprintf(p, sizeof(p), "%s/value", root);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs("one\n", f);
	fclose(f);
	struct np_host h;
	assert_int_equal(np_host_open(&h, root), 0);
	assert_int_equal(np_host_keep_open(&h, 16), 0);
	char *v = NULL;
	assert_int_equal(np_host_read_line(&h, "/value", &v), 0);
	assert_string_equal(v, "one");
	free(v);
	assert_int_equal(np_fdcache_count(h.kept), 0);
	/* replaced by a rename, as a test or a package upgrade does: a kept descriptor would read "one" */
	char tmp[128];
	snprintf(tmp, sizeof(tmp), "%s/value.new", root);
	f = fopen(tmp, "w");
	assert_non_null(f);
	fputs("two\n", f);
	fclose(f);
	assert_int_equal(rename(tmp, p), 0);
	v = NULL;
	assert_int_equal(np_host_read_line(&h, "/value", &v), 0);
	assert_string_equal(v, "two");
	free(v);
	np_host_close(&h);
	unlink(p);
	rmdir(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map),
		cmocka_unit_test(test_kept_proc),
		cmocka_unit_test(test_not_kept_elsewhere),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
