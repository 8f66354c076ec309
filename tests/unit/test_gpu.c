// SPDX-License-Identifier: Apache-2.0
/*
 * The gpu section on a real capture: the node-in-a-box with QEMU's VGA (tests/fixtures/nib-vga),
 * the one display-class function among its PCI functions, no driver, no NVIDIA driver. The NVIDIA
 * /proc parsers have no real capture with a citable source here: they are fuzzed
 * (tests/fuzz/fuzz_gpu.c) and docs/report/gpu.md marks their values unproven.
 */
#include "collectutil.h"
#include "../../pkg/collect/gpu.h"
#include "../../pkg/shared/macro.h"

static void test_capture(void **state)
{
	(void)state;
	struct np_report r = { 0 };
	np_collect_fixture("tests/fixtures/nib-vga", "gpu", &r);
	assert_int_equal(r.gpu.status.err, 0);
	assert_null(r.gpu.nvidia_version);
	assert_int_equal(r.gpu.n, 1);
	assert_int_equal(r.gpu.devs[0].class_code, 0x030000);
	assert_int_equal(r.gpu.devs[0].vendor_id, 0x1234);
	assert_int_equal(r.gpu.devs[0].device_id, 0x1111);
	assert_null(r.gpu.devs[0].driver);
	assert_null(r.gpu.devs[0].vbios);
	struct np_bundle b = { 0 };
	assert_int_equal(np_gpu_bundle(&r.gpu, &b), 0);
	assert_int_equal(b.n, 0); /* no driver, no NVIDIA: no fingerprint item */
	np_bundle_free(&b);
	np_report_free(&r);
}

static void test_refusals(void **state)
{
	(void)state;
	char *v = NULL;
	assert_int_equal(np_nvidia_version_parse("", &v), -EINVAL);
	assert_int_equal(np_nvidia_version_parse("GCC version: gcc\n", &v), -EINVAL);
	assert_int_equal(np_nvidia_version_parse("NVRM version: NVIDIA UNIX x86_64 Kernel Module\n", &v), -EINVAL);
	assert_int_equal(np_nvidia_info_field("", "Video BIOS", &v), -ENOENT);
	assert_int_equal(np_nvidia_info_field("Video BIOSX: 1\n", "Video BIOS", &v), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capture),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
