// SPDX-License-Identifier: Apache-2.0
/*
 * test_storage_dl.c - libnvme and libdevmapper are loaded on first use (pkg/collect/{nvme,dm}_dl.h):
 * not mapped at start, mapped after the load, and the forwarded calls reach the real library
 * (which answers for a non-device fd / a bad folder as it does when linked).
 */
#include "testutil.h"
#include "../../pkg/collect/dm_dl.h"
#include "../../pkg/collect/nvme_dl.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <libdevmapper.h>
#include <libnvme.h>

static bool mapped(const char *soname)
{
	void *h = dlopen(soname, RTLD_NOW | RTLD_NOLOAD);
	if (h)
		dlclose(h);
	return h != NULL;
}

static void test_nvme_loaded_on_first_use(void **state)
{
	(void)state;
	assert_false(mapped("libnvme.so.1"));
	struct nvme_id_ctrl id;
	errno = 0;
	assert_int_equal(nvme_identify_ctrl(0, &id), -1); /* not loaded: fails, no crash */
	assert_int_equal(errno, ENOSYS);
	char *why = NULL;
	assert_int_equal(np_nvme_load(&why), 0);
	assert_null(why);
	assert_true(mapped("libnvme.so.1"));
	int fd = open("/dev/null", O_RDONLY);
	assert_true(fd >= 0);
	errno = 0;
	assert_int_equal(nvme_identify_ctrl(fd, &id), -1); /* the real ioctl: /dev/null is no NVMe device */
	assert_int_equal(errno, ENOTTY);
	close(fd);
	assert_int_equal(np_nvme_load(&why), 0); /* once */
}

static void test_dm_loaded_on_first_use(void **state)
{
	(void)state;
	assert_false(mapped("libdevmapper.so.1.02.1"));
	assert_null(dm_task_create(DM_DEVICE_TABLE));
	assert_int_equal(dm_set_dev_dir("/dev"), 0);
	char *why = NULL;
	assert_int_equal(np_dm_load(&why), 0);
	assert_null(why);
	assert_true(mapped("libdevmapper.so.1.02.1"));
	assert_int_equal(dm_set_dev_dir("/dev"), 1); /* the library's own answer */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nvme_loaded_on_first_use),
		cmocka_unit_test(test_dm_loaded_on_first_use),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
