// SPDX-License-Identifier: Apache-2.0
/*
 * Virtualization on a real capture of this development host, a KVM guest (tests/fixtures/
 * host-tcp-virt: /proc/stat with steal ticks, five virtio devices), and the features parser.
 */
#include "testutil.h"
#include "collectutil.h"
#include "../../pkg/collect/virt.h"
#include "../../pkg/shared/macro.h"
#include "../../pkg/shared/strutil.h"

static void test_features(void **state)
{
	(void)state;
	char **bits = NULL;
	size_t n = 0;
	assert_int_equal(np_virtio_features_parse("1100010110111011000000000000010010000000000000000000000000000000\n",
						  &bits, &n), 0);
	assert_int_equal(n, 12);
	assert_string_equal(bits[0], "0");
	assert_string_equal(bits[2], "5"); /* VIRTIO_NET_F_MAC */
	assert_string_equal(bits[11], "32"); /* VIRTIO_F_VERSION_1 */
	np_strv_free(bits);
	assert_int_equal(np_virtio_features_parse("0000\n", &bits, &n), 0);
	assert_int_equal(n, 0);
	assert_null(bits);
	static const char *const bad[] = { "", "\n", "0102", "11 1", "x" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(np_virtio_features_parse(bad[i], &bits, &n), -EINVAL);
	char big[200];
	memset(big, '1', 129);
	big[129] = '\0';
	assert_int_equal(np_virtio_features_parse(big, &bits, &n), -EINVAL);
	assert_string_equal(np_virtio_type(1), "net");
	assert_string_equal(np_virtio_type(19), "vsock");
	assert_null(np_virtio_type(6));
	assert_null(np_virtio_type(1000));
}

static void test_capture(void **state)
{
	(void)state;
	struct np_report r = { 0 };
	np_collect_fixture("tests/fixtures/host-tcp-virt", "virt", &r);
	const struct np_virt *v = &r.virt;
	assert_int_equal(v->status.err, 0);
	assert_int_equal(v->n_cpus, 2);
	assert_int_equal(v->cpus[0].steal_ticks, 470);
	assert_int_equal(v->cpus[1].steal_ticks, 429);
	/* user+nice+system+idle+iowait+irq+softirq+steal of "cpu0 320580 7354 85815 12935 193 0 1092 470" */
	assert_int_equal(v->cpus[0].total_ticks, 320580 + 7354 + 85815 + 12935 + 193 + 0 + 1092 + 470);
	assert_true(v->cpus[0].steal_percent < 0);
	assert_int_equal(v->n_virtio, 5);
	static const char *const want[][3] = { { "virtio0", "balloon", "virtio_balloon" },
					       { "virtio1", "block", "virtio_blk" },
					       { "virtio2", "net", "virtio_net" },
					       { "virtio3", "vsock", "vmw_vsock_virtio_transport" },
					       { "virtio4", "rng", "virtio_rng" } };
	for (size_t i = 0; i < 5; i++) {
		assert_string_equal(v->virtio[i].name, want[i][0]);
		assert_string_equal(v->virtio[i].type, want[i][1]);
		assert_string_equal(v->virtio[i].driver, want[i][2]);
		assert_int_equal(v->virtio[i].vendor_id, 0x1af4); /* the Red Hat / virtio PCI vendor */
	}
	assert_int_equal(v->virtio[2].device_id, 1);
	assert_int_equal(v->virtio[2].n_features, 12);
	np_report_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_features),
		cmocka_unit_test(test_capture),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
