// SPDX-License-Identifier: Apache-2.0
/*
 * test_hostfs.c - a folder opened once and read relative to it (np_dir) reads what the full
 * paths read, links up and out of the folder included, and never leaves the host root.
 */
#include "testutil.h"
#include "../../pkg/shared/hostfs.h"
#include "../../pkg/shared/macro.h"
#include "../../pkg/shared/strutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static char outside[64], root[128];

static void put(const char *rel, const char *text)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void dir(const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

static void link_(const char *target, const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_int_equal(symlink(target, p), 0);
}

/* A sysfs-like tree: /sys/class/block/vda -> ../../devices/pci/virtio2/block/vda, its device -> ../../../virtio2. */
static int setup(void **state)
{
	(void)state;
	snprintf(outside, sizeof(outside), "/tmp/np-hostfs-XXXXXX");
	assert_non_null(mkdtemp(outside));
	snprintf(root, sizeof(root), "%s/root", outside);
	assert_int_equal(mkdir(root, 0755), 0);
	char secret[128];
	snprintf(secret, sizeof(secret), "%s/secret", outside);
	FILE *f = fopen(secret, "w");
	assert_non_null(f);
	fputs("outside the root\n", f);
	fclose(f);
	dir("sys");
	dir("sys/class");
	dir("sys/class/block");
	dir("sys/devices");
	dir("sys/devices/pci");
	dir("sys/devices/pci/virtio2");
	dir("sys/devices/pci/virtio2/block");
	dir("sys/devices/pci/virtio2/block/vda");
	dir("sys/devices/pci/virtio2/block/vda/queue");
	dir("sys/devices/pci/virtio2/block/vda/holders");
	put("sys/devices/pci/virtio2/block/vda/size", "2048\n");
	put("sys/devices/pci/virtio2/block/vda/queue/scheduler", "[none] mq-deadline\n");
	put("sys/devices/pci/virtio2/block/vda/empty", "");
	put("sys/devices/pci/virtio2/vendor", "0x1af4\n");
	put("secret", "inside the root\n");
	link_("../../devices/pci/virtio2/block/vda", "sys/class/block/vda");
	link_("../../../virtio2", "sys/devices/pci/virtio2/block/vda/device");
	link_("/secret", "sys/devices/pci/virtio2/block/vda/abs");
	link_("../../../../../../../../secret", "sys/devices/pci/virtio2/block/vda/up");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", outside);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_dir_reads_what_full_paths_read(void **state)
{
	(void)state;
	struct np_host h;
	assert_int_equal(np_host_open(&h, root), 0);
	struct np_dir d;
	assert_int_equal(np_dir_open(&h, "/sys/class/block/vda", &d), 0);
	assert_true(d.fd >= 0);
	uint64_t v;
	assert_int_equal(np_dir_read_u64(&d, "size", &v), 0);
	assert_int_equal(v, 2048);
	char *s = NULL;
	assert_int_equal(np_dir_attr(&d, "queue/scheduler", &s), 1);
	assert_string_equal(s, "[none] mq-deadline");
	assert_int_equal(np_dir_attr(&d, "empty", &s), 0); /* empty: NULL, never "" */
	assert_null(s);
	assert_int_equal(np_dir_attr(&d, "missing", &s), 0);
	assert_null(s);
	/* a link up and out of the folder: opened from the root by its full path */
	assert_int_equal(np_dir_attr(&d, "device/vendor", &s), 1);
	assert_string_equal(s, "0x1af4");
	/* an absolute link and a ".." chain resolve inside the root, never outside it */
	assert_int_equal(np_dir_attr(&d, "abs", &s), 1);
	assert_string_equal(s, "inside the root");
	assert_int_equal(np_dir_attr(&d, "up", &s), 1);
	assert_string_equal(s, "inside the root");
	free(s);
	char **names = NULL;
	size_t n = 0;
	assert_int_equal(np_dir_list(&d, NULL, &names, &n), 0);
	assert_int_equal(n, 7);
	assert_string_equal(names[0], "abs");
	np_strv_free(names);
	assert_int_equal(np_dir_list(&d, NULL, &names, &n), 0); /* listed again: rewound */
	assert_int_equal(n, 7);
	np_strv_free(names);
	assert_int_equal(np_dir_list(&d, "holders", &names, &n), 0);
	assert_int_equal(n, 0);
	assert_null(names[0]);
	np_strv_free(names);
	np_dir_close(&d);

	/* the class folder: its links read, not followed */
	assert_int_equal(np_dir_open(&h, "/sys/class/block", &d), 0);
	assert_int_equal(np_dir_readlink(&d, "vda", &s), 0);
	assert_string_equal(s, "../../devices/pci/virtio2/block/vda");
	free(s);
	np_dir_close(&d);

	/* a folder that cannot be opened: every name by its full path, the same errors */
	assert_int_equal(np_dir_open(&h, "/sys/class/block/vdb", &d), -ENOENT);
	assert_int_equal(np_dir_read_u64(&d, "size", &v), -ENOENT);
	assert_int_equal(np_dir_list(&d, NULL, &names, &n), -ENOENT);
	np_dir_close(&d);
	np_host_close(&h);
}

/* The first line of an attribute, whether its first read holds the newline or not. */
static void test_read_line(void **state)
{
	(void)state;
	struct np_host h;
	assert_int_equal(np_host_open(&h, root), 0);
	char big[10000];
	memset(big, 'x', sizeof(big) - 2);
	big[sizeof(big) - 2] = '\n';
	big[sizeof(big) - 1] = '\0';
	put("long", big);
	put("two", "first  \nsecond\n");
	put("nonl", "no newline  ");
	char *s = NULL;
	assert_int_equal(np_host_read_line(&h, "/long", &s), 0);
	assert_int_equal(strlen(s), sizeof(big) - 2);
	free(s);
	assert_int_equal(np_host_read_line(&h, "/two", &s), 0);
	assert_string_equal(s, "first");
	free(s);
	assert_int_equal(np_host_read_line(&h, "/nonl", &s), 0);
	assert_string_equal(s, "no newline");
	free(s);
	/* no newline and a first read that fills its 4 KiB: the rest is read, to the end */
	static const size_t sizes[] = { 4095, 4096, 4097, 9000 };
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		big[sizes[i]] = '\0';
		put("full", big);
		big[sizes[i]] = 'x';
		assert_int_equal(np_host_read_line(&h, "/full", &s), 0);
		assert_int_equal(strlen(s), sizes[i]);
		free(s);
	}
	np_host_close(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dir_reads_what_full_paths_read),
		cmocka_unit_test(test_read_line),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
