// SPDX-License-Identifier: Apache-2.0
/*
 * mountinfo parser and mounts collector, on a capture of this machine's
 * /proc/1/mountinfo taken while tests/capture.py ran with real mounts whose
 * names the kernel must escape (space, tab, newline, backslash), an empty
 * source, a bind of a sub-directory and a loop device mounted three times.
 */
#define _GNU_SOURCE
#include "testutil.h"
#include "../../pkg/collect/collector.h"
#include "../../pkg/collect/mounts.h"

#include <sys/stat.h>
#include <unistd.h>

#define FIX "tests/fixtures/storagelog-mounts"
#define CAP "/tmp/np-storagelog-cap"

/* Count non-empty lines: an independent count of the mounts in the capture. */
static size_t count_lines(const char *buf)
{
	size_t n = 0;
	for (const char *p = buf; *p; p++)
		if (*p == '\n' && (p == buf || p[-1] != '\n'))
			n++;
	return n;
}

static const struct np_mount *find(const struct np_mounts *s, const char *point, const char *fstype)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->mounts[i].mount_point, point) == 0 && strcmp(s->mounts[i].fstype, fstype) == 0)
			return &s->mounts[i];
	return NULL;
}

static void test_parse_capture(void **state)
{
	(void)state;
	size_t len;
	char *buf = np_slurp(FIX "/proc/1/mountinfo", &len);
	struct np_mounts s = { 0 };
	assert_int_equal(np_parse_mountinfo(buf, len, &s), 0);
	assert_int_equal(s.n, count_lines(buf));
	assert_int_equal(s.bad_lines, 0);

	/* the root filesystem of this machine: "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,..." */
	const struct np_mount *m = find(&s, "/", "ext4");
	assert_non_null(m);
	assert_int_equal(m->mount_id, 27);
	assert_int_equal(m->parent_id, 1);
	assert_int_equal(m->major, 254);
	assert_int_equal(m->minor, 0);
	assert_string_equal(m->source, "/dev/vda");
	assert_true(strncmp(m->super_options, "rw,discard", 10) == 0);

	/* \040 \011 \134 \012 decoded */
	m = find(&s, CAP "/with space", "tmpfs");
	assert_non_null(m);
	assert_string_equal(m->source, "np-cap");
	m = find(&s, CAP "/tab\tx", "tmpfs");
	assert_non_null(m);
	assert_string_equal(m->source, "np src");
	assert_non_null(find(&s, CAP "/back\\slash", "tmpfs"));
	assert_non_null(find(&s, CAP "/new\nline", "tmpfs"));

	/* empty source: two spaces in a row, kept as "" rather than shifting fields */
	m = find(&s, CAP "/emptysrc", "tmpfs");
	assert_non_null(m);
	assert_string_equal(m->source, "");
	assert_string_equal(m->super_options, "rw");

	/* optional field before the separator; bind of a sub-directory keeps its root */
	m = find(&s, CAP "/loopmnt", "ext4");
	assert_non_null(m);
	assert_non_null(m->optional);
	assert_string_equal(m->optional[0], "shared:1");
	assert_null(m->optional[1]);
	assert_int_equal(m->major, 7);
	m = find(&s, CAP "/subbind", "ext4");
	assert_non_null(m);
	assert_string_equal(m->root, "/sub dir");
	assert_string_equal(m->options, "rw,relatime");
	/* the bind over "with space" is a second mount on the same point, parent = the tmpfs */
	m = find(&s, CAP "/with space", "ext4");
	assert_non_null(m);
	assert_int_equal(m->parent_id, find(&s, CAP "/with space", "tmpfs")->mount_id);

	np_mounts_free(&s);
	free(buf);
}

static void test_unescape(void **state)
{
	(void)state;
	char a[] = "a\\040b\\011c\\012d\\134e";
	assert_string_equal(np_mountinfo_unescape(a), "a b\tc\nd\\e");
	/* not an escape: kept as is (\000 would cut the string; \8 is not octal; short tail) */
	char b[] = "x\\000y\\8zz\\04";
	assert_string_equal(np_mountinfo_unescape(b), "x\\000y\\8zz\\04");
}

static void test_bad_input(void **state)
{
	(void)state;
	size_t len;
	char *cap = np_slurp(FIX "/proc/1/mountinfo", &len);
	const char *first_nl = strchr(cap, '\n');
	size_t l1 = (size_t)(first_nl - cap) + 1;
	/* one real line, then garbage of every kind, then the real line again truncated */
	char *buf = NULL;
	size_t blen = 0;
	FILE *f = open_memstream(&buf, &blen);
	fwrite(cap, 1, l1, f);
	fputs("not a mountinfo line\n", f);
	fputs("22 27 0:21 / /proc rw,relatime proc proc rw\n", f);          /* no separator */
	fputs("x 27 0:21 / /proc rw,relatime - proc proc rw\n", f);         /* bad id */
	fputs("22 27 0:99999999999 / /proc rw,relatime - proc proc rw\n", f); /* minor overflow */
	fputs("22 27 0:21 / /proc rw - proc\n", f);                          /* short tail */
	fwrite("22 27 0:21 /\0 /x rw - a b c\n", 1, 28, f);                  /* embedded NUL */
	fwrite(cap, 1, l1 / 2, f);                                           /* truncated */
	fclose(f);
	struct np_mounts s = { 0 };
	assert_int_equal(np_parse_mountinfo(buf, blen, &s), -EINVAL);
	assert_int_equal(s.n, 1);     /* the good line is kept */
	assert_int_equal(s.bad_lines, 7);
	assert_int_equal(s.status.err, EINVAL);
	assert_non_null(strstr(s.status.error, "line 2"));
	np_mounts_free(&s);

	/* binary */
	static const unsigned char bin[] = { 0xff, 0xfe, 0x00, 0x01, '\n', 0x80, ' ', '-', ' ' };
	assert_int_equal(np_parse_mountinfo((const char *)bin, sizeof(bin), &s), -EINVAL);
	assert_int_equal(s.n, 0);
	np_mounts_free(&s);
	/* empty input is an empty table, not an error */
	assert_int_equal(np_parse_mountinfo("", 0, &s), 0);
	np_mounts_free(&s);
	free(buf);
	free(cap);
}

static void test_collect_fixture(void **state)
{
	(void)state;
	struct np_host h;
	assert_int_equal(np_host_open(&h, np_src(FIX)), 0);
	struct np_collect_ctx ctx = { .host = &h };
	struct np_report r = { 0 };
	char *only[] = { "mounts", NULL };
	assert_int_equal(np_collect_all(&ctx, only, &r), 0);
	assert_int_equal(r.mounts.status.err, 0);
	assert_string_equal(r.mounts.source_path, "/proc/1/mountinfo");
	/* block devices: vda (root) and loop0 (three mounts); tmpfs/proc/cgroup are not block devices */
	assert_int_equal(r.mounts.n_devices, 2);
	assert_string_equal(r.mounts.devices[0].name, "vda");
	assert_int_equal(r.mounts.devices[0].n_mounts, 1);
	assert_string_equal(r.mounts.devices[1].name, "loop0");
	assert_int_equal(r.mounts.devices[1].n_mounts, 3);
	const struct np_mount *m = &r.mounts.mounts[r.mounts.devices[1].mounts[1]];
	assert_string_equal(m->mount_point, CAP "/with space");

	json_t *j = np_mounts_to_json(&r.mounts);
	json_t *d0 = json_array_get(json_object_get(j, "devices"), 0);
	assert_string_equal(json_string_value(json_object_get(d0, "major_minor")), "254:0");
	json_t *m0 = json_array_get(json_object_get(j, "mounts"), 0);
	assert_string_equal(json_string_value(json_object_get(m0, "major_minor")), "0:21");
	assert_string_equal(json_string_value(json_object_get(m0, "mount_point")), "/proc");
	json_decref(j);
	np_report_free(&r);
	np_host_close(&h);
}

/* /proc/1 unreadable or absent: /proc/self/mountinfo is used and named. */
static void test_fallback_self(void **state)
{
	(void)state;
	char tmpl[] = "/tmp/np-mounts-XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	char path[512];
	snprintf(path, sizeof(path), "%s/proc", tmpl);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/proc/self", tmpl);
	assert_int_equal(mkdir(path, 0755), 0);
	size_t len;
	char *cap = np_slurp(FIX "/proc/self/mountinfo", &len);
	snprintf(path, sizeof(path), "%s/proc/self/mountinfo", tmpl);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fwrite(cap, 1, len, f);
	fclose(f);

	struct np_host h;
	assert_int_equal(np_host_open(&h, tmpl), 0);
	struct np_mounts s = { 0 };
	assert_int_equal(np_read_host_mountinfo(&h, &s), 0);
	assert_string_equal(s.source_path, "/proc/self/mountinfo");
	assert_int_equal(s.n, count_lines(cap));
	np_mounts_free(&s);
	np_host_close(&h);
	unlink(path);
	snprintf(path, sizeof(path), "%s/proc/self", tmpl);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/proc", tmpl);
	rmdir(path);
	rmdir(tmpl);

	/* nothing at all: the error is the section's */
	assert_int_equal(np_host_open(&h, np_src("tests/unit")), 0);
	assert_int_equal(np_read_host_mountinfo(&h, &s), -ENOENT);
	np_mounts_free(&s);
	np_host_close(&h);
	free(cap);
}

/* The mount at @path in one agent cycle of the mounts section (NULL: none), its options in @opts. */
static bool agent_mount(struct np_collect_ctx *ctx, const char *path, char *opts, size_t size)
{
	struct np_report r = { 0 };
	char *only[] = { "mounts", NULL };
	assert_int_equal(np_collect_all(ctx, only, &r), 0);
	assert_string_equal(r.mounts.source_path, "/proc/1/mountinfo");
	bool found = false;
	for (size_t i = 0; i < r.mounts.n; i++)
		if (strcmp(r.mounts.mounts[i].mount_point, path) == 0) {
			snprintf(opts, size, "%s", r.mounts.mounts[i].options);
			found = true;
		}
	np_report_free(&r);
	return found;
}

/*
 * On this host's /proc, the agent's table (read every cycle: an ext4 error remount sends no mount
 * event, nor a poll(2) wakeup on mountinfo): a mount made, remounted read-only and unmounted between
 * cycles, with no event given to the agent, shows at the next cycle. Needs root (mount(8)) in PID 1's mount namespace; skipped without.
 */
static void test_agent_live_mount_changes(void **state)
{
	(void)state;
	char dir[] = "/tmp/np-test-mounts-XXXXXX", cmd[256], opts[256];
	if (geteuid() != 0 || access("/proc/1/mountinfo", R_OK) != 0 || !mkdtemp(dir)) {
		fprintf(stderr, "# live mount test skipped: needs root and /proc/1/mountinfo\n");
		skip();
	}
	struct np_host h;
	assert_int_equal(np_host_open(&h, "/"), 0);
	struct np_collect_ctx ctx = { .host = &h };
	ctx.states = np_section_states_new(&ctx);
	assert_non_null(ctx.states);
	assert_false(agent_mount(&ctx, dir, opts, sizeof(opts)));
	snprintf(cmd, sizeof(cmd), "mount -t tmpfs -o size=1m np-test '%s'", dir);
	assert_int_equal(system(cmd), 0);
	/* our mounts show in PID 1's table only when we share its mount namespace */
	snprintf(cmd, sizeof(cmd), "grep -q ' %s ' /proc/1/mountinfo", dir);
	if (system(cmd) != 0) {
		snprintf(cmd, sizeof(cmd), "umount '%s'", dir);
		assert_int_equal(system(cmd), 0);
		rmdir(dir);
		np_section_states_free(ctx.states);
		np_host_close(&h);
		fprintf(stderr, "# live mount test skipped: not in PID 1's mount namespace\n");
		skip();
	}
	assert_true(agent_mount(&ctx, dir, opts, sizeof(opts)));
	assert_true(strncmp(opts, "rw", 2) == 0);
	snprintf(cmd, sizeof(cmd), "mount -o remount,ro '%s'", dir);
	assert_int_equal(system(cmd), 0);
	assert_true(agent_mount(&ctx, dir, opts, sizeof(opts)));
	assert_true(strncmp(opts, "ro", 2) == 0);
	snprintf(cmd, sizeof(cmd), "umount '%s'", dir);
	assert_int_equal(system(cmd), 0);
	assert_false(agent_mount(&ctx, dir, opts, sizeof(opts)));
	np_section_states_free(ctx.states);
	np_host_close(&h);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_capture),
		cmocka_unit_test(test_unescape),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_collect_fixture),
		cmocka_unit_test(test_fallback_self),
		cmocka_unit_test(test_agent_live_mount_changes),
	};
	return cmocka_run_group_tests_name("mounts", tests, NULL, NULL);
}
