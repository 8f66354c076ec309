// SPDX-License-Identifier: Apache-2.0
/*
 * Health findings: PCIe AER (case 28's kernel-format counters) and link downgrade, with and
 * without history; NIC drop rate from two reports.
 */
#include "testutil.h"
#include "../../pkg/collect/pci.h"
#include "../../pkg/policy/desired.h"
#include "../../pkg/shared/macro.h"

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
	np_report_free(&now);
	np_report_free(&before);
	np_policy_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pcie),
	};
	return cmocka_run_group_tests_name("findings", tests, NULL, NULL);
}
