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
#include "../../pkg/policy/record.h"

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
	c->serial = strdup("deadbeef"); /* the capture's (tests/fixtures/qemu-nvme) */
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
		"nodeprint_nvme_critical_warning{controller=\"nvme0\",model=\"QEMU NVMe Ctrl\",firmware=\"7.2.22\",serial=\"deadbeef\"} 5\n",
		"nodeprint_nvme_temperature_celsius{controller=\"nvme0\",model=\"QEMU NVMe Ctrl\",firmware=\"7.2.22\",serial=\"deadbeef\"} 50\n",
		"nodeprint_nvme_media_errors_total{controller=\"nvme0\",model=\"QEMU NVMe Ctrl\",firmware=\"7.2.22\",serial=\"deadbeef\"} 0\n",
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
	/*
	 * Regression: the drive's series were keyed by controller name, model and firmware, so a drive of
	 * the same model swapped in as nvme0 continued its predecessor's media_errors_total: its lifetime
	 * count read as a jump, or as a counter reset, of the old drive's. Another serial, another series.
	 */
	free(c->serial);
	c->serial = strdup("NIB0002"); /* the node-in-a-box's second drive (tests/vm/test_swap.py) */
	f = open_memstream(&buf, &n);
	assert_int_equal(np_metrics_render(f, &r, NULL, NULL), 0);
	fclose(f);
	assert_non_null(strstr(buf, "nodeprint_nvme_media_errors_total{controller=\"nvme0\",model=\"QEMU NVMe Ctrl\","
				    "firmware=\"7.2.22\",serial=\"NIB0002\"} 0\n"));
	assert_null(strstr(buf, "deadbeef"));
	free(buf);
	/*
	 * Regression: the labels went through a 512-byte buffer, so a long model (a --host-root tree's
	 * sysfs file; the label value is cut at about 500 bytes) cut the serial label and its closing
	 * quote off: a line no scraper parses, which fails the whole scrape. Each value is cut, never the line.
	 */
	free(c->model);
	c->model = malloc(481);
	memset(c->model, 'M', 480);
	c->model[480] = '\0';
	f = open_memstream(&buf, &n);
	assert_int_equal(np_metrics_render(f, &r, NULL, NULL), 0);
	fclose(f);
	const char *line = strstr(buf, "nodeprint_nvme_media_errors_total{");
	assert_non_null(line);
	const char *tail = "\",firmware=\"7.2.22\",serial=\"NIB0002\"} 0\n";
	assert_non_null(strstr(line, tail));
	assert_true(strstr(line, tail) < strchr(line, '\n'));
	free(buf);
	np_report_free(&r);
}

static char *render(const struct np_report *r, const struct np_desired *d, const struct np_agent_stats *st)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	assert_int_equal(np_metrics_render(f, r, d, st), 0);
	fclose(f);
	return buf;
}

/* Loop, ram and zram devices are left out unless asked for; partitions and dm devices are not. */
static void test_block_devices_shown(void **state)
{
	(void)state;
	static const char *const names[] = { "loop0", "loop12", "ram0", "zram0", "sda", "nvme0n1p1", "dm-0", "loopy" };
	struct np_report r = { 0 };
	r.block.n = sizeof(names) / sizeof(names[0]);
	r.block.devices = calloc(r.block.n, sizeof(struct np_block_dev));
	for (size_t i = 0; i < r.block.n; i++)
		r.block.devices[i].name = strdup(names[i]);
	struct np_agent_stats st = { 0 };
	char *buf = render(&r, NULL, &st);
	for (size_t i = 0; i < r.block.n; i++) {
		char want[96];
		snprintf(want, sizeof(want), "nodeprint_block_stalled{device=\"%s\"} 0\n", names[i]);
		bool hidden = i < 4;
		if (hidden == (strstr(buf, want) != NULL))
			fail_msg("%s: %s by default", names[i], hidden ? "shown" : "left out");
	}
	free(buf);
	st.all_block_devices = true;
	buf = render(&r, NULL, &st);
	assert_non_null(strstr(buf, "nodeprint_block_stalled{device=\"loop12\"} 0\n"));
	free(buf);
	np_report_free(&r);
}

/* Every known finding has a series when all is well (0), the present ones count their subjects. */
static void test_findings_series(void **state)
{
	(void)state;
	struct np_policy pol;
	assert_int_equal(np_policy_default(&pol), 0);
	struct np_report r = { 0 };
	struct np_desired d = { 0 };
	struct np_agent_stats st = { .policy = &pol, .last_success = 1796637000.5 };
	np_histogram_init(&st.collect_seconds);
	np_histogram_init_cycle(&st.cycle_seconds);
	np_histogram_observe(&st.cycle_seconds, 0.3);
	char *buf = render(&r, &d, &st);
	for (size_t i = 0; i < pol.n_actions; i++) {
		char want[160];
		snprintf(want, sizeof(want), "nodeprint_finding_active{finding=\"%s\"} 0\n", pol.actions[i].finding);
		if (!strstr(buf, want))
			fail_msg("no zero series for %s", pol.actions[i].finding);
	}
	assert_non_null(strstr(buf, "nodeprint_finding_active{finding=\"source-unreadable\"} 0\n"));
	assert_non_null(strstr(buf, "nodeprint_last_cycle_success_timestamp_seconds 1796637000.500\n"));
	assert_non_null(strstr(buf, "nodeprint_cycle_duration_seconds_bucket{le=\"0.25\"} 0\n"));
	assert_non_null(strstr(buf, "nodeprint_cycle_duration_seconds_bucket{le=\"0.5\"} 1\n"));
	free(buf);
	assert_int_equal(np_desired_add_finding(&d, "nvme-critical", "nvme0", "CriticalWarning", "x"), 0);
	assert_int_equal(np_desired_add_finding(&d, "nvme-critical", "nvme1", "CriticalWarning", "y"), 0);
	buf = render(&r, &d, &st);
	assert_non_null(strstr(buf, "nodeprint_findings{finding=\"nvme-critical\"} 2\n"));
	assert_non_null(strstr(buf, "nodeprint_finding_active{finding=\"nvme-critical\"} 1\n"));
	assert_non_null(strstr(buf, "nodeprint_finding_active{finding=\"pcie-errors\"} 0\n"));
	free(buf);
	np_desired_free(&d);
	np_policy_free(&pol);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_storage_metrics),
		cmocka_unit_test(test_block_devices_shown),
		cmocka_unit_test(test_findings_series),
	};
	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
