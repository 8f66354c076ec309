// SPDX-License-Identifier: Apache-2.0
/*
 * NVML's absence path (no GPU machine ran the presence path: docs/report/gpu.md marks it unproven):
 * no libnvidia-ml.so.1 reads "absent" and loads nothing; a library that is no NVML (libm.so.6 of
 * libc6) is refused by its first missing entry point; the gpu section on this GPU-less machine and on
 * a capture says so in its nvml field.
 */
#define _GNU_SOURCE
#include "collectutil.h"
#include "../../pkg/collect/nvml_dl.h"

#include <dlfcn.h>

static void test_absent(void **state)
{
	(void)state;
	char *why = NULL;
	assert_int_equal(np_nvml_open("/nonexistent/libnvidia-ml.so.1", &why), -ENOENT);
	assert_string_equal(why, "absent");
	free(why);
	assert_int_equal(np_nvml_open("libm.so.6", &why), -ENOSYS);
	assert_string_equal(why, "libnvidia-ml.so.1 has no nvmlInit_v2");
	free(why);
	struct np_gpu_nvml n;
	assert_int_equal(np_nvml_read_device("0000:3b:00.0", &n), -ENODEV);
	assert_false(n.read);
	assert_int_equal(n.ecc_volatile_uncorrected, -1);
	assert_null(np_nvml_driver_version());
	np_nvml_close();
}

static void test_sections(void **state)
{
	(void)state;
	struct np_report r = { 0 };
	np_collect_fixture("tests/fixtures/nib-vga", "gpu", &r);
	assert_string_equal(r.gpu.nvml, "not tried"); /* a capture is not the live host */
	assert_false(r.gpu.devs[0].nvml.read);
	np_report_free(&r);
	if (access("/sys/bus/pci/devices", R_OK) != 0)
		skip();
	struct np_host h;
	assert_int_equal(np_host_open(&h, NULL), 0);
	struct np_collect_ctx ctx = { .host = &h };
	char *only[] = { (char *)"gpu", NULL };
	r = (struct np_report){ 0 };
	assert_int_equal(np_collect_all(&ctx, only, &r), 0);
	np_host_close(&h);
	int nvidia = 0;
	for (size_t i = 0; i < r.gpu.n; i++)
		nvidia += r.gpu.devs[i].vendor_id == 0x10de;
	if (!nvidia) { /* the test machine: nothing NVIDIA, so nothing was loaded */
		assert_string_equal(r.gpu.nvml, "absent");
		assert_null(dlopen("libnvidia-ml.so.1", RTLD_NOLOAD | RTLD_NOW));
	}
	np_report_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_absent),
		cmocka_unit_test(test_sections),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
