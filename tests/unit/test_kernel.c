// SPDX-License-Identifier: Apache-2.0
/* Kernel/system collector: taint decoding, os-release, cpuinfo, and the whole collector on a capture. */
#include "testutil.h"
#include "../../pkg/shared/fdcache.h"
#include "../../pkg/collect/collector.h"
#include "../../pkg/collect/kernel.h"

static void test_taint_letters(void **state)
{
	(void)state;
	char *s = np_taint_letters(0);
	assert_string_equal(s, "");
	free(s);
	/* O (bit 12) + E (bit 13): an out-of-tree unsigned module, as in case 25 */
	s = np_taint_letters(0x3000);
	assert_string_equal(s, "OE");
	free(s);
	/* P (0) + W (9) + bit 40 unknown */
	s = np_taint_letters(1ULL | (1ULL << 9) | (1ULL << 40));
	assert_string_equal(s, "PW?");
	free(s);
}

static void test_os_release_quoting(void **state)
{
	(void)state;
	static const char in[] = "# comment\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
				 "ID=debian\nVERSION_ID='12'\nNAME=\"a \\\"q\\\"\"\ngarbage line\n";
	struct np_kernel k = { 0 };
	assert_int_equal(np_parse_os_release(in, sizeof(in) - 1, &k), 0);
	assert_string_equal(k.os_pretty_name, "Debian GNU/Linux 12 (bookworm)");
	assert_string_equal(k.os_id, "debian");
	assert_string_equal(k.os_version_id, "12");
	np_kernel_free(&k);
	assert_int_equal(np_parse_os_release("\x01\x02\xff", 3, &k), -EINVAL);
	np_kernel_free(&k);
}

static void test_cpuinfo(void **state)
{
	(void)state;
	size_t len;
	char *buf = np_slurp("tests/fixtures/host-vm/proc/cpuinfo", &len);
	struct np_kernel k = { 0 };
	assert_int_equal(np_parse_cpuinfo(buf, len, &k), 0);
	/* independent count: the number of "processor" lines in the capture */
	unsigned expect = 0;
	for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
		expect += strncmp(line, "processor", 9) == 0;
	assert_true(expect > 0);
	assert_int_equal(k.cpus, expect);
	assert_non_null(k.cpu_model);
	assert_non_null(strstr(buf, k.cpu_model));
	np_kernel_free(&k);
	free(buf);
	assert_int_equal(np_parse_cpuinfo("", 0, &k), -EINVAL);
	np_kernel_free(&k);
}

static void test_collect_fixture(void **state)
{
	(void)state;
	struct np_host h;
	assert_int_equal(np_host_open(&h, np_src("tests/fixtures/host-vm")), 0);
	assert_false(h.live);
	struct np_collect_ctx ctx = { .host = &h };
	struct np_report r = { 0 };
	char *only[] = { "kernel", NULL };
	assert_int_equal(np_collect_all(&ctx, only, &r), 0);
	char *rel = np_slurp("tests/fixtures/host-vm/proc/sys/kernel/osrelease", NULL);
	rel[strcspn(rel, "\n")] = '\0';
	assert_string_equal(r.kernel.release, rel);
	assert_string_equal(r.kernel.os_id, "debian");
	/* this VM has no DMI: the fields stay null rather than invented */
	assert_null(r.kernel.dmi_bios_version);
	/* sorted bundle: "cpu" sorts before "kernel" */
	assert_int_equal(r.bundle.n, 2);
	assert_string_equal(r.bundle.items[1].component, "kernel");
	assert_string_equal(r.bundle.items[1].value, rel);
	assert_int_equal(strlen(r.bundle.hash), 12);
	free(rel);
	np_report_free(&r);
	np_host_close(&h);
}

static void test_missing_proc_is_recorded(void **state)
{
	(void)state;
	struct np_host h;
	assert_int_equal(np_host_open(&h, np_src("tests/fixtures")), 0);
	struct np_collect_ctx ctx = { .host = &h };
	struct np_report r = { 0 };
	char *only[] = { "kernel", NULL };
	assert_int_equal(np_collect_all(&ctx, only, &r), 0);
	assert_int_equal(r.kernel.status.err, ENOENT);
	assert_non_null(strstr(r.kernel.status.error, "unavailable: not present"));
	np_report_free(&r);
	np_host_close(&h);
}

/* Regression: without osrelease the section used to return nothing; DMI, CPU and os-release are there. */
static void test_missing_osrelease_degrades_per_field(void **state)
{
	(void)state;
	char dir[64];
	np_fixture_copy("tests/fixtures/host-vm", dir, sizeof(dir));
	char p[128];
	snprintf(p, sizeof(p), "%s/proc/sys/kernel/osrelease", dir);
	assert_int_equal(unlink(p), 0);
	struct np_host h;
	assert_int_equal(np_host_open(&h, dir), 0);
	struct np_collect_ctx ctx = { .host = &h };
	struct np_report r = { 0 };
	char *only[] = { "kernel", NULL };
	assert_int_equal(np_collect_all(&ctx, only, &r), 0);
	assert_null(r.kernel.release);
	assert_int_equal(r.kernel.status.err, ENOENT);
	assert_non_null(strstr(r.kernel.status.error, "osrelease"));
	/* the rest of the capture is still read */
	assert_string_equal(r.kernel.os_id, "debian");
	assert_true(r.kernel.cpus > 0);
	assert_non_null(r.kernel.version);
	assert_non_null(r.kernel.boot_id);
	np_report_free(&r);
	np_host_close(&h);
	np_fixture_drop(dir);
}

/* Write @text to @root/@rel (@mode "w" or "a"). */
static void put(const char *root, const char *rel, const char *mode, const char *text)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	FILE *f = fopen(p, mode);
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* One pass of the kernel section with @ctx into @r (the caller frees it). */
static void kernel_pass(struct np_collect_ctx *ctx, struct np_report *r)
{
	char *only[] = { "kernel", NULL };
	*r = (struct np_report){ 0 };
	assert_int_equal(np_collect_all(ctx, only, r), 0);
}

/*
 * The agent's kernel section: the taint flags are read every cycle; the CPUs of /proc/cpuinfo, a
 * fact, follow the facts: the cached text's parse is kept until the facts are read again (an
 * event), then the new text is parsed.
 */
static void test_agent_cycles(void **state)
{
	(void)state;
	char dir[64];
	np_fixture_copy("tests/fixtures/host-vm", dir, sizeof(dir));
	struct np_host h;
	assert_int_equal(np_host_open(&h, dir), 0);
	struct np_collect_ctx ctx = { .host = &h };
	ctx.states = np_section_states_new(&ctx);
	assert_non_null(ctx.states);
	struct np_report r;
	kernel_pass(&ctx, &r);
	unsigned cpus = r.kernel.cpus;
	char *model = strdup(r.kernel.cpu_model);
	assert_true(cpus > 0);
	assert_int_equal(r.kernel.tainted, 0);
	np_report_free(&r);

	put(dir, "proc/sys/kernel/tainted", "w", "4097\n"); /* P and O: no event needed */
	put(dir, "proc/cpuinfo", "a", "\nprocessor\t: 99\nmodel name\t: Other\n");
	kernel_pass(&ctx, &r);
	assert_int_equal(r.kernel.tainted, 4097);
	assert_string_equal(r.kernel.taint_letters, "PO");
	assert_int_equal(r.kernel.cpus, cpus); /* the cached fact, as before */
	assert_string_equal(r.kernel.cpu_model, model);
	np_report_free(&r);

	ctx.facts_gen++; /* a device event: the facts are read again, the new text parsed */
	kernel_pass(&ctx, &r);
	assert_int_equal(r.kernel.cpus, cpus + 1);
	assert_string_equal(r.kernel.cpu_model, model); /* the first "model name" */
	assert_int_equal(r.kernel.tainted, 4097);
	np_report_free(&r);
	kernel_pass(&ctx, &r); /* the kept parse */
	assert_int_equal(r.kernel.cpus, cpus + 1);
	assert_string_equal(r.kernel.cpu_model, model);
	np_report_free(&r);

	free(model);
	np_section_states_free(ctx.states);
	np_host_close(&h);
	np_fixture_drop(dir);
}

/*
 * On the live host the agent keeps /proc/sys/kernel/tainted open (np_host_keep_open()): each cycle
 * reads the value now, as a fresh open does.
 */
static void test_agent_tainted_live(void **state)
{
	(void)state;
	struct np_host h, plain;
	assert_int_equal(np_host_open(&h, "/"), 0);
	assert_int_equal(np_host_open(&plain, "/"), 0);
	assert_int_equal(np_host_keep_open(&h, 64), 0);
	struct np_collect_ctx ctx = { .host = &h };
	ctx.states = np_section_states_new(&ctx);
	assert_non_null(ctx.states);
	for (int i = 0; i < 3; i++) {
		struct np_report r;
		uint64_t now;
		kernel_pass(&ctx, &r);
		assert_true(np_fdcache_get(h.kept, "/proc/sys/kernel/tainted", NULL) >= 0);
		assert_int_equal(np_host_read_u64(&plain, "/proc/sys/kernel/tainted", &now), 0);
		assert_null(r.kernel.status.error && strstr(r.kernel.status.error, "tainted") ? "tainted" : NULL);
		assert_int_equal(r.kernel.tainted, now);
		np_report_free(&r);
	}
	np_section_states_free(ctx.states);
	np_host_close(&plain);
	np_host_close(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_taint_letters),
		cmocka_unit_test(test_os_release_quoting),
		cmocka_unit_test(test_cpuinfo),
		cmocka_unit_test(test_collect_fixture),
		cmocka_unit_test(test_missing_proc_is_recorded),
		cmocka_unit_test(test_missing_osrelease_degrades_per_field),
		cmocka_unit_test(test_agent_cycles),
		cmocka_unit_test(test_agent_tainted_live),
	};
	return cmocka_run_group_tests_name("kernel", tests, NULL, NULL);
}
