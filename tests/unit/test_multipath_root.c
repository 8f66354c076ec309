// SPDX-License-Identifier: Apache-2.0
/*
 * dm ioctls through a host root: a capture without /dev/mapper/control keeps sysfs facts only
 * (EOPNOTSUPP); the same capture with the control character device (as the DaemonSet's /host/dev
 * has) makes the collector ask the kernel. Needs root for mknod; skipped (as a failure) otherwise.
 */
#include "testutil.h"
#include "../../pkg/collect/collector.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

static int collect(const char *root, struct np_report *r)
{
	struct np_host h;
	assert_int_equal(np_host_open(&h, root), 0);
	struct np_collect_ctx ctx = { .host = &h };
	char *only[] = { "multipath", NULL };
	int rc = np_collect_all(&ctx, only, r);
	np_host_close(&h);
	return rc;
}

static void test_without_and_with_control(void **state)
{
	(void)state;
	struct np_report r = { 0 };
	assert_int_equal(collect(np_src("tests/fixtures/qemu-mpath/boot1/root"), &r), 0);
	assert_int_equal(r.multipath.n_maps, 2);
	assert_int_equal(r.multipath.maps[0].status.err, EOPNOTSUPP);
	assert_non_null(strstr(r.multipath.maps[0].status.error, "no device-mapper control device"));
	np_report_free(&r);

	char tmp[] = "/tmp/np-dmroot-XXXXXX";
	assert_non_null(mkdtemp(tmp));
	char cmd[8192 + 256];
	snprintf(cmd, sizeof(cmd), "cp -a '%s/.' %s/ && mkdir -p %s/dev/mapper", np_src("tests/fixtures/qemu-mpath/boot1/root"),
		 tmp, tmp);
	assert_int_equal(system(cmd), 0);
	char ctl[256];
	snprintf(ctl, sizeof(ctl), "%s/dev/mapper/control", tmp);
	assert_int_equal(mknod(ctl, S_IFCHR | 0600, makedev(10, 236)), 0);
	memset(&r, 0, sizeof(r));
	assert_int_equal(collect(tmp, &r), 0);
	assert_int_equal(r.multipath.n_maps, 2);
	/* the kernel was asked: whatever it answered, it is not "unavailable for this root" */
	assert_int_not_equal(r.multipath.maps[0].status.err, EOPNOTSUPP);
	np_report_free(&r);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_without_and_with_control),
	};
	return cmocka_run_group_tests_name("multipath_root", tests, NULL, NULL);
}
