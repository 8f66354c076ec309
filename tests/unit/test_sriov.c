// SPDX-License-Identifier: Apache-2.0
/*
 * SR-IOV in the pci section, on a real capture: QEMU's NVMe controller as a physical function with
 * two VFs enabled and no driver bound to them (tests/fixtures/nib-sriov).
 */
#include "collectutil.h"
#include "../../pkg/shared/macro.h"
#include "../../pkg/shared/strutil.h"

static void test_capture(void **state)
{
	(void)state;
	struct np_report r = { 0 };
	np_collect_fixture("tests/fixtures/nib-sriov", "pci", &r);
	const struct np_pci_device *pf = NULL;
	size_t pfs = 0;
	for (size_t i = 0; i < r.pci.n; i++)
		if (r.pci.devices[i].has_sriov && pfs++ == 0)
			pf = &r.pci.devices[i];
	assert_int_equal(pfs, 1);
	assert_string_equal(pf->address, "0000:01:00.0");
	assert_string_equal(pf->driver, "nvme");
	assert_int_equal(pf->status.err, 0);
	assert_int_equal(pf->sriov_totalvfs, 2);
	assert_int_equal(pf->sriov_numvfs, 2);
	assert_int_equal(pf->n_vfs, 2);
	assert_string_equal(pf->vfs[0].address, "0000:01:00.1");
	assert_string_equal(pf->vfs[1].address, "0000:01:00.2");
	assert_null(pf->vfs[0].driver);
	assert_null(pf->vfs[1].driver);
	/* the VFs are PCI functions of their own, not physical functions */
	for (size_t i = 0; i < r.pci.n; i++)
		if (np_startswith(r.pci.devices[i].address, "0000:01:00.") && r.pci.devices[i].address[11] != '0')
			assert_false(r.pci.devices[i].has_sriov);
	np_report_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capture),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
