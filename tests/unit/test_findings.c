// SPDX-License-Identifier: Apache-2.0
/*
 * Health findings: PCIe AER (case 28's kernel-format counters) and link downgrade, with and
 * without history; NIC drop rate from two reports.
 */
#include "testutil.h"
#include "../../pkg/collect/multipath.h"
#include "../../pkg/collect/nvme_smart.h"
#include "../../pkg/collect/pci.h"
#include "../../pkg/policy/desired.h"
#include "../../pkg/shared/macro.h"

#include <endian.h>
#include <nvme/types.h>

/* case 28: what current kernels print, and the nonfatal file of an injected POISON_TLP */
static const char cor_kernel[] = "RxErr 2\nBadTLP 0\nBadDLLP 0\nRollover 0\nTimeout 0\nNonFatalErr 0\n"
				 "CorrIntErr 0\nHeaderOF 0\ndev_cor_errs_bit[9] 1\nTOTAL_ERR_COR 3\n";
static const char nonfatal_poison[] = "Undefined 0\nDLP 0\nSDES 0\nTLP 0\nFCP 0\nCmpltTO 0\nCmpltAbrt 0\n"
				      "UnxCmplt 0\nRxOF 0\nMalfTLP 0\nECRC 0\nUnsupReq 0\nACSViol 0\n"
				      "UncorrIntErr 0\nBlockedTLP 0\nAtomicOpBlocked 0\nTLPBlockedErr 0\n"
				      "PoisonTLPBlocked 0\nTOTAL_ERR_NONFATAL 1\n";

static void device(struct np_pci_device *d, const char *addr, const char *cor, const char *nonfatal,
		   const char *cur, const char *max)
{
	struct np_status st = { 0 };
	*d = (struct np_pci_device){ .address = strdup(addr), .driver = strdup("virtio-pci") };
	assert_int_equal(np_parse_aer_counters(cor, strlen(cor), &d->aer_cor, &st, "aer_dev_correctable"), 0);
	if (nonfatal)
		assert_int_equal(np_parse_aer_counters(nonfatal, strlen(nonfatal), &d->aer_nonfatal, &st, "aer_dev_nonfatal"), 0);
	d->cur_speed.text = strdup(cur);
	d->max_speed.text = strdup(max);
	assert_int_equal(np_parse_link_speed(cur, &d->cur_speed.gts), 0);
	assert_int_equal(np_parse_link_speed(max, &d->max_speed.gts), 0);
	d->has_cur_width = d->has_max_width = true;
	d->cur_width = d->max_width = 4;
	np_status_clear(&st);
}

static size_t count(const struct np_desired *d, const char *id, const char *reason)
{
	size_t n = 0;
	for (size_t i = 0; i < d->n_findings; i++)
		n += streq(d->findings[i].id, id) && (!reason || streq(d->findings[i].reason, reason));
	return n;
}

static void test_pcie(void **state)
{
	(void)state;
	struct np_policy p;
	assert_int_equal(np_policy_default(&p), 0);
	struct np_report now = { 0 }, before = { 0 };
	now.pci.devices = calloc(2, sizeof(struct np_pci_device));
	now.pci.n = 2;
	device(&now.pci.devices[0], "0000:01:00.0", cor_kernel, nonfatal_poison, "8.0 GT/s PCIe", "8.0 GT/s PCIe");
	device(&now.pci.devices[1], "0000:02:00.0", "TOTAL_ERR_COR 0\n", NULL, "2.5 GT/s PCIe", "8.0 GT/s PCIe");
	struct np_desired d;
	assert_int_equal(np_policy_evaluate(&p, &now, NULL, NULL, &d), 0);
	assert_int_equal(count(&d, "pcie-errors", "AERUncorrectable"), 1);
	assert_int_equal(count(&d, "link-downgraded", NULL), 1);
	assert_string_equal(d.findings[1].subject, "0000:02:00.0");
	assert_non_null(strstr(d.findings[1].message, "2.5 GT/s"));
	/* without history there is no correctable rate */
	assert_int_equal(count(&d, "pcie-errors", "AERCorrectableRate"), 0);
	np_desired_free(&d);

	/* one hour earlier the device had 1 correctable error: 2 an hour is under the default 60 */
	before.pci.devices = calloc(1, sizeof(struct np_pci_device));
	before.pci.n = 1;
	device(&before.pci.devices[0], "0000:01:00.0", "TOTAL_ERR_COR 1\n", NULL, "8.0 GT/s PCIe", "8.0 GT/s PCIe");
	struct np_eval_history h = { .prev = &before, .dt_seconds = 3600 };
	assert_int_equal(np_policy_evaluate(&p, &now, &h, NULL, &d), 0);
	assert_int_equal(count(&d, "pcie-errors", "AERCorrectableRate"), 0);
	np_desired_free(&d);
	/* ... but the same growth in 60 s is 120 an hour: a finding (TOTAL_ERR_COR counts, not the sum) */
	h.dt_seconds = 60;
	assert_int_equal(np_policy_evaluate(&p, &now, &h, NULL, &d), 0);
	assert_int_equal(count(&d, "pcie-errors", "AERCorrectableRate"), 1);
	bool found = false;
	for (size_t i = 0; i < d.n_conditions; i++)
		if (streq(d.conditions[i].type, "PCIeHealthy")) {
			assert_string_equal(d.conditions[i].status, "False");
			found = true;
		}
	assert_true(found);
	np_desired_free(&d);
	/* the earlier cycle could not read aer_dev_correctable (a transient EIO: no count, not zero):
	 * the device's whole count is no growth in 60 s, and neither is a count this cycle cannot read */
	np_report_free(&before); /* the same device, its counters not read: what read_aer() leaves on EIO */
	before = (struct np_report){ 0 };
	before.pci.devices = calloc(1, sizeof(struct np_pci_device));
	before.pci.n = 1;
	before.pci.devices[0] = (struct np_pci_device){ .address = strdup("0000:01:00.0") };
	assert_int_equal(np_policy_evaluate(&p, &now, &h, NULL, &d), 0);
	assert_int_equal(count(&d, "pcie-errors", "AERCorrectableRate"), 0);
	np_desired_free(&d);
	assert_int_equal(np_policy_evaluate(&p, &before, &(struct np_eval_history){ .prev = &now, .dt_seconds = 60 },
					     NULL, &d),
			 0);
	assert_int_equal(count(&d, "pcie-errors", "AERCorrectableRate"), 0);
	np_desired_free(&d);
	np_report_free(&now);
	np_report_free(&before);
	np_policy_free(&p);
}

/* SMART pages captured from QEMU's NVMe controller, before and after qom-set smart_critical_warning 5 */
static void load_smart(const char *file, struct np_nvme_smart *sm)
{
	size_t len;
	char *buf = np_slurp(file, &len);
	assert_int_equal(np_nvme_smart_decode(buf, len, sm), 0);
	free(buf);
}

static void test_nvme(void **state)
{
	(void)state;
	struct np_policy p;
	assert_int_equal(np_policy_default(&p), 0);
	struct np_report r = { 0 };
	r.nvme.controllers = calloc(1, sizeof(struct np_nvme_ctrl));
	r.nvme.n_controllers = 1;
	struct np_nvme_ctrl *c = &r.nvme.controllers[0];
	c->name = strdup("nvme0");
	c->model = strdup("QEMU NVMe Ctrl");
	c->firmware_rev = strdup("7.2.22");
	load_smart("tests/fixtures/qemu-nvme/raw/smart.bin", &c->smart);
	struct np_desired d;
	/* healthy page: QEMU reports spare 0 and threshold 0, which is no finding (qemu-lab notes) */
	assert_int_equal(np_policy_evaluate(&p, &r, NULL, NULL, &d), 0);
	assert_int_equal(count(&d, "nvme-critical", NULL), 0);
	np_desired_free(&d);
	/* critical warning 5 = available_spare (bit 0) + reliability (bit 2) */
	load_smart("tests/fixtures/qemu-nvme/raw/smart-critical.bin", &c->smart);
	assert_int_equal(c->smart.critical_warning, 5);
	assert_int_equal(np_policy_evaluate(&p, &r, NULL, NULL, &d), 0);
	assert_int_equal(count(&d, "nvme-critical", "CriticalWarning"), 1);
	assert_non_null(strstr(d.findings[0].message, "available_spare, reliability"));
	assert_non_null(strstr(d.findings[0].message, "7.2.22"));
	assert_int_equal(d.n_taints, 1);
	assert_string_equal(d.taints[0].key, "nodeprint.io/nvme-critical");
	assert_string_equal(d.taints[0].effect, "NoSchedule");
	np_desired_free(&d);
	/* a policy that counts only the temperature bit ignores this page */
	struct np_policy only_temp;
	char *err = NULL;
	const char *y = "health: {nvme: {criticalWarningBits: [temperature]}}\n";
	assert_int_equal(np_policy_parse(y, strlen(y), "t", &only_temp, &err), 0);
	assert_int_equal(np_policy_evaluate(&only_temp, &r, NULL, NULL, &d), 0);
	assert_int_equal(count(&d, "nvme-critical", NULL), 0);
	np_desired_free(&d);
	np_policy_free(&only_temp);
	/* media errors grew against the previous report */
	struct np_report prev = { 0 };
	prev.nvme.controllers = calloc(1, sizeof(struct np_nvme_ctrl));
	prev.nvme.n_controllers = 1;
	prev.nvme.controllers[0].name = strdup("nvme0");
	load_smart("tests/fixtures/qemu-nvme/raw/smart.bin", &prev.nvme.controllers[0].smart);
	c->smart.media_errors.lo = prev.nvme.controllers[0].smart.media_errors.lo + 3;
	struct np_eval_history h = { .prev = &prev, .dt_seconds = 60 };
	assert_int_equal(np_policy_evaluate(&p, &r, &h, NULL, &d), 0);
	assert_int_equal(count(&d, "nvme-critical", "MediaErrors"), 1);
	np_desired_free(&d);
	/* the same name, another drive (hot-swapped): the old drive's count is no baseline */
	prev.nvme.controllers[0].serial = strdup("SN-OLD");
	c->serial = strdup("SN-NEW");
	assert_int_equal(np_policy_evaluate(&p, &r, &h, NULL, &d), 0);
	assert_int_equal(count(&d, "nvme-critical", "MediaErrors"), 0);
	np_desired_free(&d);
	free(c->serial);
	c->serial = strdup("SN-OLD"); /* the same drive again: its growth counts */
	assert_int_equal(np_policy_evaluate(&p, &r, &h, NULL, &d), 0);
	assert_int_equal(count(&d, "nvme-critical", "MediaErrors"), 1);
	np_desired_free(&d);
	np_report_free(&prev);
	np_report_free(&r);
	np_policy_free(&p);
}

/* One Error Information log entry (NVMe Base 2.0 Figure 197) as libnvme lays it out; @sc_full = SCT << 8 | SC. */
static void err_entry(struct nvme_error_log_page *e, uint64_t count, uint16_t sqid, uint16_t sc_full)
{
	memset(e, 0, sizeof(*e));
	e->error_count = htole64(count);
	e->sqid = htole16(sqid);
	e->cmdid = htole16(0x1a);
	e->status_field = htole16((uint16_t)(sc_full << 1)); /* bit 0: the phase tag */
	e->lba = htole64(UINT64_MAX);
}

/*
 * Regression: error-log entries were decoded but not judged: an admin-queue "Invalid Field in
 * Command" (a tool probing an unsupported log page, counted by the drive for ever) made the same
 * ErrorLogGrowth finding as a media error on an I/O queue. Only drive faults feed it now.
 */
static void test_nvme_error_log_classes(void **state)
{
	(void)state;
	struct nvme_error_log_page page[3];
	err_entry(&page[0], 7, 0, NVME_SC_INVALID_FIELD);                       /* admin queue: rejected */
	err_entry(&page[1], 8, 0, NVME_SCT_CMD_SPECIFIC << 8 | NVME_SC_INVALID_LOG_PAGE);
	err_entry(&page[2], 9, 3, NVME_SCT_MEDIA << 8 | NVME_SC_READ_ERROR);    /* I/O queue 3: media */
	struct np_nvme_error_entry *e;
	size_t n;
	uint64_t maxc;
	assert_int_equal(np_nvme_error_log_decode(page, sizeof(page), 0, &e, &n, &maxc), 0);
	assert_int_equal(n, 3);
	assert_int_equal(e[0].error_count, 9); /* newest first */
	assert_int_equal(np_nvme_error_class(&e[0]), NP_NVME_ERR_MEDIA);
	assert_int_equal(np_nvme_error_class(&e[1]), NP_NVME_ERR_REJECTED);
	assert_int_equal(np_nvme_error_class(&e[2]), NP_NVME_ERR_REJECTED);
	assert_true(np_nvme_error_is_fault(&e[0]));
	assert_false(np_nvme_error_is_fault(&e[2]));

	struct np_policy p;
	char *err = NULL;
	const char *y = "health: {nvme: {errorLogGrowth: true}}\n"; /* off by default */
	assert_int_equal(np_policy_parse(y, strlen(y), "t", &p, &err), 0);
	struct np_report prev = { 0 }, r = { 0 };
	prev.nvme.controllers = calloc(1, sizeof(struct np_nvme_ctrl));
	prev.nvme.n_controllers = 1;
	prev.nvme.controllers[0].name = strdup("nvme0");
	load_smart("tests/fixtures/qemu-nvme/raw/smart.bin", &prev.nvme.controllers[0].smart);
	r.nvme.controllers = calloc(1, sizeof(struct np_nvme_ctrl));
	r.nvme.n_controllers = 1;
	struct np_nvme_ctrl *c = &r.nvme.controllers[0];
	c->name = strdup("nvme0");
	load_smart("tests/fixtures/qemu-nvme/raw/smart.bin", &c->smart);
	c->smart.num_err_log_entries.lo = prev.nvme.controllers[0].smart.num_err_log_entries.lo + 2;
	struct np_eval_history h = { .prev = &prev, .dt_seconds = 60 };
	struct np_desired d;
	/* the two new entries are rejections on the admin queue: no finding */
	c->errors = calloc(2, sizeof(*c->errors));
	c->errors[0] = e[1];
	c->errors[1] = e[2];
	c->n_errors = 2;
	assert_int_equal(np_policy_evaluate(&p, &r, &h, NULL, &d), 0);
	assert_int_equal(count(&d, "nvme-critical", "ErrorLogGrowth"), 0);
	np_desired_free(&d);
	/* a media error among them: the finding, saying which */
	c->errors[0] = e[0];
	assert_int_equal(np_policy_evaluate(&p, &r, &h, NULL, &d), 0);
	assert_int_equal(count(&d, "nvme-critical", "ErrorLogGrowth"), 1);
	for (size_t i = 0; i < d.n_findings; i++)
		if (streq(d.findings[i].reason, "ErrorLogGrowth"))
			assert_non_null(strstr(d.findings[i].message, "1 of them media errors (first: I/O queue 3"));
	np_desired_free(&d);
	/* entries not read (the log page refused): the count is all there is */
	free(c->errors);
	c->errors = NULL;
	c->n_errors = 0;
	assert_int_equal(np_policy_evaluate(&p, &r, &h, NULL, &d), 0);
	assert_int_equal(count(&d, "nvme-critical", "ErrorLogGrowth"), 1);
	np_desired_free(&d);
	free(e);
	np_report_free(&prev);
	np_report_free(&r);
	np_policy_free(&p);
}

/* A stall on the device under a CSI volume: events on the Node, the PV, the claim and the Pod. */
static void test_stall_volume_events(void **state)
{
	(void)state;
	struct np_policy p;
	assert_int_equal(np_policy_default(&p), 0);
	struct np_report r = { 0 };
	r.block.stalls = calloc(1, sizeof(struct np_stall_event));
	r.block.n_stalls = 1;
	struct np_stall_event *st = &r.block.stalls[0];
	snprintf(st->device, sizeof(st->device), "sdb");
	st->ongoing = true;
	st->duration_ms = 12500;
	st->in_flight = 4;
	r.volumes.volumes = calloc(1, sizeof(struct np_volume));
	r.volumes.n = 1;
	r.volumes.volumes[0].pv_name = strdup("pvc-7f3a");
	r.volumes.volumes[0].pod_uid = strdup("0b6a2c1e-1111-2222-3333-444455556666");
	r.volumes.volumes[0].device = strdup("dm-0");
	char **backing = calloc(3, sizeof(char *));
	backing[0] = strdup("sda");
	backing[1] = strdup("sdb");
	r.volumes.volumes[0].backing = backing;
	struct np_desired d;
	assert_int_equal(np_policy_evaluate(&p, &r, NULL, &(struct np_node_facts){ .name = "node-a" }, &d), 0);
	assert_int_equal(count(&d, "volume-stall", "Stalled"), 1);
	const char *kinds[] = { "PersistentVolume", "PersistentVolumeClaim", "Pod", "Node" };
	const char *names[] = { "pvc-7f3a", "pv:pvc-7f3a", "uid:0b6a2c1e-1111-2222-3333-444455556666", "node-a" };
	assert_int_equal(d.n_events, 4);
	for (size_t i = 0; i < 4; i++) {
		assert_string_equal(d.events[i].reason, "VolumePathStall");
		assert_string_equal(d.events[i].kind, kinds[i]);
		assert_string_equal(d.events[i].name, names[i]);
		assert_non_null(strstr(d.events[i].message, "4 I/Os in flight and none completed for 12.5 s"));
	}
	np_desired_free(&d);
	/* shorter than stallSeconds (10): nothing */
	st->duration_ms = 9000;
	assert_int_equal(np_policy_evaluate(&p, &r, NULL, NULL, &d), 0);
	assert_int_equal(count(&d, "volume-stall", NULL), 0);
	np_desired_free(&d);
	np_report_free(&r);
	np_policy_free(&p);
}

/* dmsetup table/status lines captured in the node-in-a-box after failing one scsi_debug path */
static void load_map(struct np_mpath_map *m, const char *table_file, const char *status_file)
{
	char *t = np_slurp(table_file, NULL), *st = np_slurp(status_file, NULL);
	char *tn = NULL, *tt = NULL, *tp = NULL, *sn = NULL, *stt = NULL, *sp = NULL;
	t[strcspn(t, "\n")] = '\0';
	st[strcspn(st, "\n")] = '\0';
	assert_int_equal(np_dm_line_params(t, &tn, &tt, &tp), 0);
	assert_int_equal(np_dm_line_params(st, &sn, &stt, &sp), 0);
	m->name = strdup(tn);
	assert_int_equal(np_dm_mpath_parse_table(tp, m, NULL), 0);
	assert_int_equal(np_dm_mpath_parse_status(sp, m, NULL), 0);
	free(t);
	free(st);
	free(tn);
	free(tt);
	free(tp);
	free(sn);
	free(stt);
	free(sp);
}

static void test_multipath(void **state)
{
	(void)state;
	struct np_policy p;
	assert_int_equal(np_policy_default(&p), 0);
	struct np_report r = { 0 };
	r.multipath.maps = calloc(1, sizeof(struct np_mpath_map));
	r.multipath.n_maps = 1;
	load_map(&r.multipath.maps[0], "tests/fixtures/qemu-mpath/boot1/raw/table-failed.txt",
		 "tests/fixtures/qemu-mpath/boot1/raw/status-failed.txt");
	struct np_desired d;
	assert_int_equal(np_policy_evaluate(&p, &r, NULL, NULL, &d), 0);
	assert_int_equal(count(&d, "multipath-degraded", "PathFailed"), 1);
	assert_string_equal(d.findings[0].subject, "mpatha");
	assert_non_null(strstr(d.findings[0].message, "1 of 2 paths failed (first: 8:0)"));
	assert_int_equal(d.n_taints, 1);
	assert_string_equal(d.taints[0].effect, "PreferNoSchedule");
	np_desired_free(&d);
	np_report_free(&r);
	/* the same map after reinstate_path: healthy */
	r = (struct np_report){ 0 };
	r.multipath.maps = calloc(1, sizeof(struct np_mpath_map));
	r.multipath.n_maps = 1;
	load_map(&r.multipath.maps[0], "tests/fixtures/qemu-mpath/boot1/raw/table-reinstated.txt",
		 "tests/fixtures/qemu-mpath/boot1/raw/status-reinstated.txt");
	assert_int_equal(np_policy_evaluate(&p, &r, NULL, NULL, &d), 0);
	assert_int_equal(count(&d, "multipath-degraded", NULL), 0);
	np_desired_free(&d);
	np_report_free(&r);
	np_policy_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nvme_error_log_classes),
		cmocka_unit_test(test_pcie),
		cmocka_unit_test(test_nvme),
		cmocka_unit_test(test_multipath),
		cmocka_unit_test(test_stall_volume_events),
	};
	return cmocka_run_group_tests_name("findings", tests, NULL, NULL);
}
