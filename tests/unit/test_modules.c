// SPDX-License-Identifier: Apache-2.0
/*
 * Modules collector: /proc/modules lines of case 25 (refcount "-", "(OE)"
 * column, zeroed address, trailing comma), kernel format variants, bad input,
 * the bundle rule, and the whole collector on a capture of this VM (a kernel
 * without CONFIG_MODULES: every module is built in).
 */
#include "testutil.h"
#include "../../pkg/collect/collector.h"
#include "../../pkg/collect/modules.h"

#include <dirent.h>
#include <sys/stat.h>

#define FIXTURE "tests/fixtures/host-vm-pci"

/* /work/shared/cases/25-proc-modules-taint-refcount-address.md, "Input", verbatim */
static const char case25[] = "vboxguest 499712 - - Live 0xffffffffc097d000 (OE)\n"
			     "lkm 12288 0 - Live 0xffffffffc09d3000 (OE)\n"
			     "iTCO_wdt 12288 - - Live 0xffffffffc044c000\n"
			     "nls_ucs2_utils 8192 1 cifs, Live 0x0000000000000000\n";

static void test_case25(void **state)
{
	(void)state;
	struct np_modules s = { 0 };
	assert_int_equal(np_parse_proc_modules(case25, sizeof(case25) - 1, &s), 0);
	assert_int_equal(s.n, 4);
	assert_int_equal(s.lines_invalid, 0);

	struct np_module *m = np_modules_find(&s, "vboxguest");
	assert_non_null(m);
	assert_int_equal(m->size_bytes, 499712);
	assert_false(m->has_refcount); /* "-": not applicable, not 0 */
	assert_null(m->used_by);
	assert_string_equal(m->state, "Live");
	assert_string_equal(m->address, "0xffffffffc097d000");
	assert_string_equal(m->taint, "OE");
	assert_false(m->builtin);

	m = np_modules_find(&s, "lkm");
	assert_true(m->has_refcount);
	assert_int_equal(m->refcount, 0);
	assert_string_equal(m->taint, "OE");

	m = np_modules_find(&s, "iTCO_wdt");
	assert_false(m->has_refcount);
	assert_string_equal(m->taint, ""); /* no 7th column: untainted */
	assert_string_equal(m->address, "0xffffffffc044c000");

	m = np_modules_find(&s, "nls_ucs2_utils");
	assert_int_equal(m->size_bytes, 8192);
	assert_int_equal(m->refcount, 1);
	assert_non_null(m->used_by);
	assert_string_equal(m->used_by[0], "cifs"); /* trailing comma: no empty name */
	assert_null(m->used_by[1]);
	assert_null(m->address); /* zeroed: hidden, not an error */
	np_modules_free(&s);
}

/* Shapes kernel/module/procfs.c prints that case 25 does not show. */
static void test_kernel_variants(void **state)
{
	(void)state;
	static const char in[] = "nvme_core 204800 3 nvme,nvme_fabrics,[permanent], Live 0xffffffffc0400000\n"
				 "mlx5_core 2101248 1 mlx5_ib, Loading 0xffffffffc1000000 (OE+)\n"
				 "dying 16384 0 - Unloading 0x0000000000000000 (-)\n"
				 "weird 1 0 - Sleeping 0x1\n";
	struct np_modules s = { 0 };
	assert_int_equal(np_parse_proc_modules(in, sizeof(in) - 1, &s), 0);
	assert_int_equal(s.n, 4);
	struct np_module *m = np_modules_find(&s, "nvme_core");
	assert_true(m->permanent);
	assert_string_equal(m->used_by[0], "nvme");
	assert_string_equal(m->used_by[1], "nvme_fabrics");
	assert_null(m->used_by[2]);
	m = np_modules_find(&s, "mlx5_core");
	assert_string_equal(m->state, "Loading");
	assert_string_equal(m->taint, "OE"); /* '+' is the state mark, not a taint */
	m = np_modules_find(&s, "dying");
	assert_string_equal(m->taint, "");
	m = np_modules_find(&s, "weird");
	assert_string_equal(m->state, "Sleeping"); /* unknown state kept */
	np_modules_free(&s);
}

static void test_bad_lines_keep_the_rest(void **state)
{
	(void)state;
	static const char in[] = "good 4096 0 - Live 0xffffffffc0000000\n"
				 "garbage\n"
				 "trunc 4096 0 - Live\n"
				 "addr 4096 0 - Live 0xffffffffc097d000(OE)\n"
				 "num x12 0 - Live 0x0\n"
				 "good 4096 0 - Live 0x0\n"
				 "nul\0 4096 0 - Live 0x0\n"
				 "\n"
				 "last 8192 - - Live 0x0 (P)"; /* no final newline */
	struct np_modules s = { 0 };
	assert_int_equal(np_parse_proc_modules(in, sizeof(in) - 1, &s), -EINVAL);
	assert_int_equal(s.n, 2);
	assert_non_null(np_modules_find(&s, "good"));
	assert_string_equal(np_modules_find(&s, "last")->taint, "P");
	assert_int_equal(s.lines_invalid, 6);
	assert_int_equal(s.status.err, EINVAL);
	assert_string_equal(s.status.error, "/proc/modules line 2: expected 6 or 7 columns");
	np_modules_free(&s);

	/* binary input: every line rejected, never a crash */
	static const char bin[] = "\xff\xfe\x01\x02 1 2 3 4 5\n\x80";
	assert_int_equal(np_parse_proc_modules(bin, sizeof(bin) - 1, &s), -EINVAL);
	assert_int_equal(s.n, 0);
	np_modules_free(&s);
}

static void test_bundle_rule(void **state)
{
	(void)state;
	static const char in[] = "vboxguest 499712 - - Live 0xffffffffc097d000 (OE)\n"
				 "ixgbe 12288 0 - Live 0x0\n"
				 "plain 12288 0 - Live 0x0\n"
				 "prop 12288 0 - Live 0x0 (P)\n";
	struct np_modules s = { 0 };
	assert_int_equal(np_parse_proc_modules(in, sizeof(in) - 1, &s), 0);
	np_modules_find(&s, "vboxguest")->srcversion = strdup("8B2C6E1A9F3D4C5B6A7E8F9");
	np_modules_find(&s, "ixgbe")->version = strdup("5.19.6");
	np_modules_find(&s, "plain")->srcversion = strdup("AAAA"); /* in-tree: follows the kernel */
	np_modules_find(&s, "prop")->srcversion = strdup("BBBB");  /* P alone is not O/E */
	struct np_bundle b = { 0 };
	assert_int_equal(np_modules_bundle(&s, &b), 0);
	assert_int_equal(np_bundle_finish(&b), 0);
	assert_int_equal(b.n, 2);
	assert_string_equal(b.items[0].key, "ixgbe");
	assert_string_equal(b.items[0].value, "5.19.6");
	assert_string_equal(b.items[1].component, "module");
	assert_string_equal(b.items[1].key, "vboxguest");
	assert_string_equal(b.items[1].value, "srcversion 8B2C6E1A9F3D4C5B6A7E8F9");
	np_bundle_free(&b);
	np_modules_free(&s);
}

/* Module folders in the capture, counted by the test itself. */
static size_t count_fixture_modules(void)
{
	DIR *d = opendir(np_src(FIXTURE "/sys/module"));
	assert_non_null(d);
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void test_collect_capture(void **state)
{
	(void)state;
	size_t expect = count_fixture_modules();
	struct np_host h;
	assert_int_equal(np_host_open(&h, np_src(FIXTURE)), 0);
	struct np_collect_ctx ctx = { .host = &h };
	struct np_report r = { 0 };
	char *only[] = { "modules", NULL };
	assert_int_equal(np_collect_all(&ctx, only, &r), 0);
	/* this VM's kernel has no /proc/modules (see CAPTURE-SKIPPED): not an error */
	assert_int_equal(r.modules.status.err, 0);
	assert_false(r.modules.loadable);
	assert_true(expect > 50);
	assert_int_equal(r.modules.n, expect);
	size_t with_version = 0;
	for (size_t i = 0; i < r.modules.n; i++) {
		const struct np_module *m = &r.modules.modules[i];
		assert_true(m->builtin);
		if (i)
			assert_true(strcmp(m->name, r.modules.modules[i - 1].name) > 0);
		char path[8192];
		snprintf(path, sizeof(path), "%s/sys/module/%s/version", np_src(FIXTURE), m->name);
		struct stat st;
		bool has = stat(path, &st) == 0;
		assert_int_equal(has, m->version != NULL);
		with_version += has;
	}
	char *v = np_slurp(FIXTURE "/sys/module/vsock/version", NULL);
	v[strcspn(v, "\n")] = '\0';
	assert_string_equal(np_modules_find(&r.modules, "vsock")->version, v);
	assert_string_equal(v, "1.0.2.0-k");
	free(v);
	assert_null(np_modules_find(&r.modules, "virtio_net")->version);
	/* bundle: one item per versioned module (built-ins keep theirs) */
	assert_int_equal(r.bundle.n, with_version + 1 /* kernel release */);
	assert_int_equal(with_version, 8);
	json_t *j = np_modules_to_json(&r.modules);
	assert_int_equal(json_array_size(json_object_get(j, "modules")), expect);
	assert_true(json_is_null(json_object_get(json_array_get(json_object_get(j, "modules"), 0),
						 "refcount")));
	json_decref(j);
	np_report_free(&r);
	np_host_close(&h);
}

/* A real /proc/modules (tests/vm/capture_aer.py: Debian 6.1 guest with nvme, NIC and 9p drivers). */
static void test_collect_guest_capture(void **state)
{
	(void)state;
	struct np_host h;
	assert_int_equal(np_host_open(&h, np_src("tests/fixtures/nib-q35-aer")), 0);
	struct np_collect_ctx ctx = { .host = &h };
	struct np_report r = { 0 };
	char *only[] = { "modules", NULL };
	assert_int_equal(np_collect_all(&ctx, only, &r), 0);
	assert_int_equal(r.modules.status.err, 0);
	assert_true(r.modules.loadable);
	assert_int_equal(r.modules.lines_invalid, 0);
	/* every line of the capture is a loaded module */
	size_t len, lines = 0, loaded = 0;
	char *buf = np_slurp("tests/fixtures/nib-q35-aer/proc/modules", &len);
	for (size_t i = 0; i < len; i++)
		lines += buf[i] == '\n';
	free(buf);
	for (size_t i = 0; i < r.modules.n; i++)
		loaded += !r.modules.modules[i].builtin;
	assert_int_equal(lines, 22);
	assert_int_equal(loaded, lines);

	struct np_module *m = np_modules_find(&r.modules, "virtio_ring");
	assert_int_equal(m->size_bytes, 49152);
	assert_int_equal(m->refcount, 5);
	const char *users[] = { "virtio_net", "9pnet_virtio", "virtio_console", "virtio_pci", "virtio" };
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(m->used_by[i], users[i]);
	assert_null(m->used_by[5]);
	assert_string_equal(m->address, "0xffffffffc0212000");
	assert_string_equal(m->state, "Live");
	assert_string_equal(m->taint, "");
	assert_string_equal(m->initstate, "live");
	m = np_modules_find(&r.modules, "9p"); /* held by a mount: refcount 1, no module user */
	assert_int_equal(m->refcount, 1);
	assert_null(m->used_by);
	m = np_modules_find(&r.modules, "nvme_core");
	assert_string_equal(m->version, "1.0");
	assert_string_equal(m->used_by[0], "nvme");
	assert_false(m->builtin);
	m = np_modules_find(&r.modules, "tcp_cubic"); /* built into Debian's kernel */
	assert_true(m->builtin);
	assert_string_equal(m->version, "2.3");
	assert_null(m->state);
	np_report_free(&r);
	np_host_close(&h);
}

/* An oversized /proc/modules is refused with -EFBIG; /sys/module is still read. */
static void test_oversized_proc_modules(void **state)
{
	(void)state;
	char root[] = "/tmp/np-test-modules-XXXXXX";
	assert_non_null(mkdtemp(root));
	char path[256], cmd[512];
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/proc/sys/kernel %s/sys/module/vsock", root, root);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/proc/modules", root);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	for (size_t i = 0; i <= NP_PROC_MODULES_MAX / 64; i++)
		fprintf(f, "m%06zu 4096 0 - Live 0x0000000000000000 %33s\n", i, "");
	fclose(f);
	struct np_host h;
	assert_int_equal(np_host_open(&h, root), 0);
	struct np_collect_ctx ctx = { .host = &h };
	struct np_report r = { 0 };
	char *only[] = { "modules", NULL };
	assert_int_equal(np_collect_all(&ctx, only, &r), 0);
	assert_int_equal(r.modules.status.err, EFBIG);
	assert_true(r.modules.loadable); /* the file is there, only too big */
	assert_int_equal(r.modules.n, 1);
	assert_true(r.modules.modules[0].builtin);
	np_report_free(&r);
	np_host_close(&h);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	assert_int_equal(system(cmd), 0);
}

static void test_missing_everything_is_recorded(void **state)
{
	(void)state;
	struct np_host h;
	assert_int_equal(np_host_open(&h, np_src("tests/unit")), 0);
	struct np_collect_ctx ctx = { .host = &h };
	struct np_report r = { 0 };
	char *only[] = { "modules", NULL };
	assert_int_equal(np_collect_all(&ctx, only, &r), 0);
	assert_int_equal(r.modules.status.err, ENOENT);
	assert_string_equal(r.modules.status.error, "/proc/modules: unavailable: not present");
	assert_int_equal(r.modules.n, 0);
	np_report_free(&r);
	np_host_close(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_case25),
		cmocka_unit_test(test_kernel_variants),
		cmocka_unit_test(test_bad_lines_keep_the_rest),
		cmocka_unit_test(test_bundle_rule),
		cmocka_unit_test(test_collect_capture),
		cmocka_unit_test(test_collect_guest_capture),
		cmocka_unit_test(test_oversized_proc_modules),
		cmocka_unit_test(test_missing_everything_is_recorded),
	};
	return cmocka_run_group_tests_name("modules", tests, NULL, NULL);
}
