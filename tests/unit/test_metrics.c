// SPDX-License-Identifier: Apache-2.0
/*
 * Prometheus exposition of storage health: NVMe SMART from the page captured from QEMU's
 * controller with critical warning 5, a multipath map captured with one failed path, a stall.
 * (tests/e2e/test_metrics.py checks a live scrape with promtool.)
 */
#include "testutil.h"
#include "../../pkg/agent/metrics.h"
#include "../../pkg/collect/multipath.h"
#include "../../pkg/collect/nvme_smart.h"

static void test_storage_metrics(void **state)
{
	(void)state;
	struct np_report r = { 0 };
	r.nvme.controllers = calloc(1, sizeof(struct np_nvme_ctrl));
	r.nvme.n_controllers = 1;
	struct np_nvme_ctrl *c = &r.nvme.controllers[0];
	c->name = strdup("nvme0");
	c->model = strdup("QEMU NVMe Ctrl");
	c->firmware_rev = strdup("7.2.22");
	size_t len;
	char *page = np_slurp("tests/fixtures/qemu-nvme/raw/smart-critical.bin", &len);
	assert_int_equal(np_nvme_smart_decode(page, len, &c->smart), 0);
	free(page);

	r.multipath.maps = calloc(1, sizeof(struct np_mpath_map));
	r.multipath.n_maps = 1;
	char *st = np_slurp("tests/fixtures/qemu-mpath/boot1/raw/status-failed.txt", NULL);
	st[strcspn(st, "\n")] = '\0';
	char *name = NULL, *target = NULL, *params = NULL;
	assert_int_equal(np_dm_line_params(st, &name, &target, &params), 0);
	r.multipath.maps[0].name = name;
	assert_int_equal(np_dm_mpath_parse_status(params, &r.multipath.maps[0], NULL), 0);
	free(st);
	free(target);
	free(params);

	r.block.devices = calloc(1, sizeof(struct np_block_dev));
	r.block.n = 1;
	r.block.devices[0].name = strdup("sdb");
	r.block.stalls = calloc(1, sizeof(struct np_stall_event));
	r.block.n_stalls = 1;
	snprintf(r.block.stalls[0].device, sizeof(r.block.stalls[0].device), "sdb");
	r.block.stalls[0].ongoing = true;

	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	assert_int_equal(np_metrics_render(f, &r, NULL, NULL), 0);
	fclose(f);
	const char *want[] = {
		"nodeprint_nvme_critical_warning{controller=\"nvme0\",model=\"QEMU NVMe Ctrl\",firmware=\"7.2.22\"} 5\n",
		"nodeprint_nvme_temperature_celsius{controller=\"nvme0\",model=\"QEMU NVMe Ctrl\",firmware=\"7.2.22\"} 50\n",
		"nodeprint_nvme_media_errors_total{controller=\"nvme0\",model=\"QEMU NVMe Ctrl\",firmware=\"7.2.22\"} 0\n",
		"nodeprint_multipath_paths{map=\"mpatha\",state=\"active\"} 1\n",
		"nodeprint_multipath_paths{map=\"mpatha\",state=\"failed\"} 1\n",
		"nodeprint_block_stalls_total{device=\"sdb\"} 1\n",
		"nodeprint_block_stalled{device=\"sdb\"} 1\n",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(buf, want[i]))
			fail_msg("missing: %s", want[i]);
	/* every sample follows its family's TYPE line (the text format's grouping rule) */
	assert_true(strstr(buf, "# TYPE nodeprint_block_stalled gauge") < strstr(buf, "nodeprint_block_stalled{"));
	assert_true(strstr(buf, "nodeprint_block_stalls_total{") < strstr(buf, "# TYPE nodeprint_block_stalled gauge"));
	free(buf);
	np_report_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_storage_metrics),
	};
	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
