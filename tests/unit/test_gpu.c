// SPDX-License-Identifier: Apache-2.0
/*
 * The gpu section on a real capture: the node-in-a-box with QEMU's VGA (tests/fixtures/nib-vga),
 * the one display-class function among its PCI functions, no driver, no NVIDIA driver; and on
 * public captures others published (tests/fixtures/gpu-public/README.md cites each): an amdgpu
 * Radeon RX Vega's sysfs (prometheus/procfs), NVIDIA information files of an L4 (canonical/snapd
 * #14893) and a GTX 650 (canonical/lxd #3950). The RAS counter files have no public capture: their
 * parser is checked on the kernel's documentation example. All parsers are fuzzed (tests/fuzz/fuzz_gpu.c).
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

/* procfs's amdgpu capture through the collector: vbios, VRAM, busy; no ras/ folder on this GPU. */
static void test_amdgpu_capture(void **state)
{
	(void)state;
	struct np_report r = { 0 };
	np_collect_fixture("tests/fixtures/gpu-public", "gpu", &r);
	assert_int_equal(r.gpu.status.err, 0);
	assert_int_equal(r.gpu.n, 1);
	const struct np_gpu_dev *d = &r.gpu.devs[0];
	assert_string_equal(d->address, "0000:09:00.0");
	assert_int_equal(d->class_code, 0x030000);
	assert_int_equal(d->vendor_id, 0x1002);
	assert_int_equal(d->device_id, 0x687f);
	assert_string_equal(d->driver, "amdgpu");
	assert_string_equal(d->vbios, "115-D050PIL-100");
	assert_int_equal(d->vram_total_bytes, 8573157376LL);
	assert_int_equal(d->vram_used_bytes, 1490378752LL);
	assert_int_equal(d->busy_percent, 4);
	assert_false(d->ras_read);
	assert_int_equal(d->n_ras, 0);
	assert_int_equal(np_gpu_uncorrectable(d), -1); /* no counter: unknown, never 0 */
	assert_int_equal(d->config_dead, -1);           /* the capture holds no config space */
	assert_null(d->uuid);
	assert_int_equal(d->irq, -1); /* the information file is NVIDIA's; sysfs irq is not read */
	/* the fingerprint's gpu items: the driver (no module version: "unknown") and the VBIOS */
	struct np_bundle b = { 0 };
	assert_int_equal(np_gpu_bundle(&r.gpu, &b), 0);
	assert_int_equal(b.n, 2);
	np_bundle_free(&b);
	json_t *j = np_gpu_to_json(&r.gpu);
	json_t *x = json_array_get(json_object_get(j, "devices"), 0);
	assert_true(json_is_null(json_object_get(x, "ras")));
	assert_int_equal(json_integer_value(json_object_get(x, "vram_total_bytes")), 8573157376LL);
	json_decref(j);
	np_report_free(&r);
}

static char *fixture(const char *path)
{
	char full[512];
	snprintf(full, sizeof(full), "tests/fixtures/gpu-public/%s", path);
	char *buf = np_slurp(full, NULL);
	assert_non_null(buf);
	return buf;
}

static void dev_free(struct np_gpu_dev *d)
{
	struct np_gpu g = { .devs = d, .n = 1 };
	struct np_gpu_dev *heap = malloc(sizeof(*heap)); /* np_gpu_free() frees the array */
	assert_non_null(heap);
	*heap = *d;
	g.devs = heap;
	np_gpu_free(&g);
}

static void test_nvidia_information(void **state)
{
	(void)state;
	struct np_gpu_dev d;
	_cleanup_free_ char *l4 = fixture("proc/driver/nvidia/gpus/0000:70:00.0/information");
	np_gpu_dev_init(&d);
	assert_int_equal(np_nvidia_info_parse(l4, &d), 0);
	assert_string_equal(d.model, "NVIDIA L4");
	assert_string_equal(d.vbios, "95.04.65.00.13");
	assert_string_equal(d.uuid, "GPU-3291dfa4-fcc4-0110-615b-c894a0d7c689");
	assert_string_equal(d.bus_type, "PCIe");
	assert_string_equal(d.bus_location, "0000:70:00.0");
	assert_int_equal(d.irq, 16);
	assert_int_equal(d.device_minor, 0);
	assert_int_equal(d.excluded, 0);
	dev_free(&d);

	_cleanup_free_ char *gtx = fixture("proc/driver/nvidia/gpus/0000:04:00.0/information");
	np_gpu_dev_init(&d);
	assert_int_equal(np_nvidia_info_parse(gtx, &d), 0);
	assert_string_equal(d.model, "GeForce GTX 650");
	assert_string_equal(d.vbios, "80.07.35.00.80");
	assert_string_equal(d.bus_location, "0000:04:00.0");
	assert_int_equal(d.irq, 44);
	assert_int_equal(d.device_minor, -1); /* this older driver prints neither */
	assert_int_equal(d.excluded, -1);
	dev_free(&d);
}

/* The kernel's own example (kernel-doc of amdgpu_ras_sysfs_read()) and its format strings. */
static void test_amdgpu_ras(void **state)
{
	(void)state;
	int64_t ue, ce, de;
	assert_int_equal(np_amdgpu_ras_parse("ue: 0\nce: 1\n", &ue, &ce, &de), 0);
	assert_int_equal(ue, 0);
	assert_int_equal(ce, 1);
	assert_int_equal(de, -1);
	assert_int_equal(np_amdgpu_ras_parse("ue: 3\nce: 18446744073709551615\nde: 2\n", &ue, &ce, &de), -EINVAL);
	assert_int_equal(ue, -1);
	assert_int_equal(np_amdgpu_ras_parse("ue: 3\nce: 7\nde: 2\n", &ue, &ce, &de), 0);
	assert_true(ue == 3 && ce == 7 && de == 2);
	assert_int_equal(np_amdgpu_ras_parse("Query currently inaccessible\n", &ue, &ce, &de), -EAGAIN);
	assert_int_equal(ue, -1);
	assert_int_equal(np_amdgpu_ras_parse("", &ue, &ce, &de), -EINVAL);
	assert_int_equal(np_amdgpu_ras_parse("ue: 1\n", &ue, &ce, &de), -EINVAL);        /* truncated */
	assert_int_equal(np_amdgpu_ras_parse("ue: 1\nue: 2\nce: 0\n", &ue, &ce, &de), -EINVAL); /* twice */
	assert_int_equal(np_amdgpu_ras_parse("ue: -1\nce: 0\n", &ue, &ce, &de), -EINVAL);
	assert_int_equal(np_amdgpu_ras_parse("xx: 1\nce: 0\n", &ue, &ce, &de), -EINVAL);
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
		cmocka_unit_test(test_amdgpu_capture),
		cmocka_unit_test(test_nvidia_information),
		cmocka_unit_test(test_amdgpu_ras),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
