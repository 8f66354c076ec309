// SPDX-License-Identifier: Apache-2.0
/*
 * PCI collector: AER counter files of case 28 (ABI-doc names, kernel short
 * names, _bit[N] lines, TOTAL lines, junk), link speeds as the kernel prints
 * them, the downgrade rule, the hwdb modalias, and the whole collector on a
 * capture of this VM checked against the capture's own files.
 */
#include "collectutil.h"
#include "../../pkg/collect/collector.h"
#include "../../pkg/collect/pci.h"
#include "../../pkg/shared/macro.h"
#include "../../pkg/shared/strutil.h"

#include <dirent.h>
#include <unistd.h>

#define FIXTURE "tests/fixtures/host-vm-pci"

/* /work/shared/cases/28-pcie-aer-sysfs-counter-format.md, first block (kernel ABI doc) */
static const char aer_doc[] = "Receiver Error 2\n"
			      "Bad TLP 0\n"
			      "Bad DLLP 0\n"
			      "RELAY_NUM Rollover 0\n"
			      "Replay Timer Timeout 0\n"
			      "Advisory Non-Fatal 0\n"
			      "Corrected Internal Error 0\n"
			      "Header Log Overflow 0\n"
			      "TOTAL_ERR_COR 2\n";

/* same case, second block (current kernels' aer_correctable_error_string[]) */
static const char aer_kernel[] = "RxErr 2\n"
				 "BadTLP 0\n"
				 "BadDLLP 0\n"
				 "Rollover 0\n"
				 "Timeout 0\n"
				 "NonFatalErr 0\n"
				 "CorrIntErr 0\n"
				 "HeaderOF 0\n"
				 "dev_cor_errs_bit[9] 1\n"
				 "TOTAL_ERR_COR 3\n";

static uint64_t counter(const struct np_aer_counters *a, const char *name)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->c[i].name, name) == 0)
			return a->c[i].count;
	fail_msg("no counter \"%s\"", name);
	return 0;
}

static void test_aer_abi_doc_names(void **state)
{
	(void)state;
	struct np_aer_counters a = { 0 };
	struct np_status st = { 0 };
	assert_int_equal(np_parse_aer_counters(aer_doc, sizeof(aer_doc) - 1, &a, &st, "aer_dev_correctable"), 0);
	assert_true(a.present);
	assert_int_equal(a.n, 9);
	assert_int_equal(counter(&a, "Receiver Error"), 2); /* multi-word name kept whole */
	assert_int_equal(counter(&a, "RELAY_NUM Rollover"), 0);
	assert_int_equal(counter(&a, "Corrected Internal Error"), 0);
	assert_int_equal(counter(&a, "TOTAL_ERR_COR"), 2);
	assert_true(a.has_total);
	assert_int_equal(a.total, 2); /* the TOTAL line, not a sum that counts it twice */
	assert_int_equal(a.lines_invalid, 0);
	assert_int_equal(st.err, 0);
	/* file order is kept */
	assert_string_equal(a.c[0].name, "Receiver Error");
	assert_string_equal(a.c[8].name, "TOTAL_ERR_COR");
	json_t *j = np_aer_counters_to_json(&a);
	assert_int_equal(json_integer_value(json_object_get(j, "Receiver Error")), 2);
	assert_int_equal(json_object_size(j), 9);
	json_decref(j);
	np_aer_counters_free(&a);
}

static void test_aer_kernel_names_and_bits(void **state)
{
	(void)state;
	struct np_aer_counters a = { 0 };
	struct np_status st = { 0 };
	assert_int_equal(np_parse_aer_counters(aer_kernel, sizeof(aer_kernel) - 1, &a, &st, "aer_dev_correctable"), 0);
	assert_int_equal(a.n, 10);
	assert_int_equal(counter(&a, "RxErr"), 2);
	assert_int_equal(counter(&a, "dev_cor_errs_bit[9]"), 1);
	assert_int_equal(a.total, 3);
	np_aer_counters_free(&a);

	/* uncorrectable files: other names and TOTAL_ERR_FATAL / TOTAL_ERR_NONFATAL */
	static const char fatal[] = "Undefined 0\nDLP 1\nSDES 0\nTLP 0\nFCP 0\nCmpltTO 0\nCmpltAbrt 0\n"
				    "UnxCmplt 0\nRxOF 0\nMalfTLP 4\nECRC 0\nUnsupReq 0\nACSViol 0\n"
				    "UncorrIntErr 0\nBlockedTLP 0\nAtomicOpBlocked 0\nTLPBlockedErr 0\n"
				    "PoisonTLPBlocked 0\ndev_fatal_errs_bit[26] 2\nTOTAL_ERR_FATAL 7\n";
	assert_int_equal(np_parse_aer_counters(fatal, sizeof(fatal) - 1, &a, &st, "aer_dev_fatal"), 0);
	assert_int_equal(a.n, 20);
	assert_int_equal(counter(&a, "MalfTLP"), 4);
	assert_int_equal(counter(&a, "dev_fatal_errs_bit[26]"), 2);
	assert_int_equal(a.total, 7);
	np_aer_counters_free(&a);

	static const char nonfatal[] = "Undefined 0\nDLP 0\nTOTAL_ERR_NONFATAL 0"; /* no final newline */
	assert_int_equal(np_parse_aer_counters(nonfatal, sizeof(nonfatal) - 1, &a, &st, "aer_dev_nonfatal"), 0);
	assert_int_equal(a.n, 3);
	assert_true(a.has_total);
	assert_int_equal(a.total, 0);
	assert_int_equal(st.err, 0);
	np_aer_counters_free(&a);
}

static void test_aer_junk_keeps_the_rest(void **state)
{
	(void)state;
	/* case 28: "a line `garbage` -> skipped", the device is not dropped */
	static const char in[] = "RxErr 2\n"
				 "garbage\n"
				 "Receiver Error\n"
				 "BadTLP 12abc\n"
				 " 5\n"
				 "RxErr 9\n"
				 "Huge 99999999999999999999999\n"
				 "Bin\x01ary 1\n"
				 "N\0L 3\n"
				 "\n"
				 "Unknown Future Name 7\n"
				 "TOTAL_ERR_COR 9\n";
	struct np_aer_counters a = { 0 };
	struct np_status st = { 0 };
	assert_int_equal(np_parse_aer_counters(in, sizeof(in) - 1, &a, &st, "aer_dev_correctable"), -EINVAL);
	assert_int_equal(a.n, 3);
	assert_int_equal(counter(&a, "RxErr"), 2); /* the duplicate did not overwrite it */
	assert_int_equal(counter(&a, "Unknown Future Name"), 7);
	assert_int_equal(a.total, 9);
	assert_int_equal(a.lines_invalid, 8);
	assert_int_equal(st.err, EINVAL);
	assert_string_equal(st.error, "aer_dev_correctable line 2: no \"name count\" pair");
	np_status_clear(&st);
	np_aer_counters_free(&a);

	/* empty file: present, no counters, no error */
	assert_int_equal(np_parse_aer_counters("", 0, &a, &st, "aer_dev_fatal"), 0);
	assert_true(a.present);
	assert_int_equal(a.n, 0);
	assert_false(a.has_total);
	np_aer_counters_free(&a);
}

static void test_link_speed(void **state)
{
	(void)state;
	/* drivers/pci/probe.c pci_speed_string() and older kernels' strings */
	static const struct {
		const char *in;
		double gts;
	} ok[] = {
		{ "2.5 GT/s PCIe", 2.5 }, { "5.0 GT/s PCIe", 5.0 },   { "8.0 GT/s PCIe", 8.0 },
		{ "16.0 GT/s PCIe", 16.0 }, { "32.0 GT/s PCIe", 32.0 }, { "64.0 GT/s PCIe", 64.0 },
		{ "2.5 GT/s", 2.5 },       { "5 GT/s", 5.0 },          { "8 GT/s", 8.0 },
		{ "Unknown", 0 },          { "Unknown speed", 0 },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		double g = -1;
		assert_int_equal(np_parse_link_speed(ok[i].in, &g), 0);
		assert_true(g == ok[i].gts);
	}
	static const char *const bad[] = { "", "GT/s", "8.0GT/s", "8. GT/s", "x GT/s", "8.0 GT/sec",
					   "33 MHz PCI", "0 GT/s", "-8 GT/s" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		double g = -1;
		assert_int_equal(np_parse_link_speed(bad[i], &g), -EINVAL);
		assert_true(g == 0);
	}
}

static void test_downgraded(void **state)
{
	(void)state;
	struct np_pci_device d = { 0 };
	assert_int_equal(np_pci_link_downgraded(NULL, &d), -1); /* no link files: conventional PCI */
	d.cur_speed.gts = 8.0, d.max_speed.gts = 8.0;
	d.has_cur_width = d.has_max_width = true;
	d.cur_width = d.max_width = 16;
	assert_int_equal(np_pci_link_downgraded(NULL, &d), 0);
	d.cur_speed.gts = 2.5; /* trained down to Gen1 */
	assert_int_equal(np_pci_link_downgraded(NULL, &d), 1);
	d.cur_speed.gts = 8.0, d.cur_width = 8; /* x8 in an x16 */
	assert_int_equal(np_pci_link_downgraded(NULL, &d), 1);
	d.cur_width = 0; /* link down / empty slot: cannot tell */
	assert_int_equal(np_pci_link_downgraded(NULL, &d), -1);
	d.cur_width = 16, d.cur_speed.gts = 0; /* "Unknown" speed: widths decide */
	assert_int_equal(np_pci_link_downgraded(NULL, &d), 0);
}

static struct np_pci_device port(char *addr, char *up, uint32_t cls, double cur, uint64_t cw, double max, uint64_t mw)
{
	return (struct np_pci_device){ .address = addr, .upstream = up, .has_ids = true, .class_code = cls,
				       .cur_speed = { .gts = cur }, .max_speed = { .gts = max }, .has_cur_width = true,
				       .has_max_width = true, .cur_width = cw, .max_width = mw };
}

/*
 * Both ends of a link: a Gen4 x16 root port holding a Gen3 x4 NVMe drive runs at 8 GT/s x4 and is
 * not downgraded; behind a switch (upstream port facing up, downstream ports facing down) the
 * same rule holds per link; an x16 card trained at x8 is downgraded at its own end.
 */
static void test_link_partners(void **state)
{
	(void)state;
	struct np_pci_device devs[] = {
		port("0000:00:01.0", NULL, 0x060400, 8.0, 4, 16.0, 16),	       /* root port, x4 drive below */
		port("0000:00:02.0", NULL, 0x060400, 16.0, 16, 16.0, 16),      /* root port above the switch */
		port("0000:00:03.0", NULL, 0x060400, 8.0, 8, 16.0, 16),	       /* root port, x16 card at x8 */
		port("0000:01:00.0", "0000:00:01.0", 0x010802, 8.0, 4, 8.0, 4), /* NVMe Gen3 x4 */
		port("0000:02:00.0", "0000:00:02.0", 0x060400, 16.0, 16, 16.0, 16), /* switch upstream port */
		port("0000:03:00.0", "0000:02:00.0", 0x060400, 2.5, 4, 16.0, 4),    /* switch downstream port */
		port("0000:04:00.0", "0000:00:03.0", 0x020000, 8.0, 8, 8.0, 16),     /* NIC x16 at x8 */
		port("0000:04:00.1", "0000:00:03.0", 0x020000, 8.0, 8, 8.0, 16),     /* its second function */
		port("0000:05:00.0", "0000:03:00.0", 0x010802, 2.5, 4, 16.0, 4),     /* Gen4 drive at 2.5 GT/s */
	};
	struct np_pci pci = { .devices = devs, .n = sizeof(devs) / sizeof(devs[0]) };
	assert_ptr_equal(np_pci_link_partner(&pci, &devs[0]), &devs[3]);
	assert_ptr_equal(np_pci_link_partner(&pci, &devs[3]), &devs[0]);
	assert_int_equal(np_pci_link_downgraded(&pci, &devs[0]), 0);
	assert_int_equal(np_pci_link_downgraded(&pci, &devs[3]), 0);
	assert_int_equal(np_pci_link_downgraded(NULL, &devs[0]), 1); /* own maximum only: a false alarm */
	/* the switch: its upstream port's link goes up to the root port, a downstream port's down */
	assert_ptr_equal(np_pci_link_partner(&pci, &devs[4]), &devs[1]);
	assert_ptr_equal(np_pci_link_partner(&pci, &devs[1]), &devs[4]);
	assert_ptr_equal(np_pci_link_partner(&pci, &devs[5]), &devs[8]);
	assert_ptr_equal(np_pci_link_partner(&pci, &devs[8]), &devs[5]);
	assert_int_equal(np_pci_link_downgraded(&pci, &devs[4]), 0);
	assert_int_equal(np_pci_link_downgraded(&pci, &devs[8]), 1);
	double gts;
	bool hw;
	uint64_t w;
	np_pci_link_expected(&pci, &devs[8], &gts, &hw, &w);
	assert_true(gts == 16.0 && hw && w == 4);
	/* the x16 NIC at x8: its port (function 0 is the partner) and both functions say so */
	assert_ptr_equal(np_pci_link_partner(&pci, &devs[2]), &devs[6]);
	assert_int_equal(np_pci_link_downgraded(&pci, &devs[6]), 1);
	assert_int_equal(np_pci_link_downgraded(&pci, &devs[7]), 1);
	np_pci_link_expected(&pci, &devs[6], &gts, &hw, &w);
	assert_true(gts == 8.0 && hw && w == 16);
}

static void test_aer_json_shape(void **state)
{
	(void)state;
	struct np_pci_device d = { 0 };
	json_t *j = np_pci_aer_to_json(&d);
	assert_true(json_is_null(j)); /* not AER-capable */
	json_decref(j);
	struct np_status st = { 0 };
	assert_int_equal(np_parse_aer_counters(aer_kernel, sizeof(aer_kernel) - 1, &d.aer_cor, &st, "c"), 0);
	/* a root port: aer_rootport_total_err_cor holds "0" (case 28) */
	d.has_rootport_total[0] = true;
	d.rootport_total[0] = 0;
	j = np_pci_aer_to_json(&d);
	json_t *cor = json_object_get(j, "correctable");
	assert_int_equal(json_integer_value(json_object_get(cor, "TOTAL_ERR_COR")), 3);
	assert_int_equal(json_integer_value(json_object_get(cor, "dev_cor_errs_bit[9]")), 1);
	assert_true(json_is_null(json_object_get(j, "fatal"))); /* that file absent */
	json_t *rp = json_object_get(j, "rootport");
	assert_true(json_is_integer(json_object_get(rp, "total_err_cor")));
	assert_null(json_object_get(rp, "total_err_fatal"));
	json_decref(j);
	np_pci_device_free(&d);
}

/* First line of a capture file. */
static char *fixture_line(const char *addr, const char *attr)
{
	char rel[512];
	snprintf(rel, sizeof(rel), FIXTURE "/sys/bus/pci/devices/%s/%s", addr, attr);
	char *s = np_slurp(rel, NULL);
	s[strcspn(s, "\n")] = '\0';
	return s;
}

static bool hwdb_installed(void)
{
	static const char *const paths[] = { "/etc/systemd/hwdb/hwdb.bin", "/etc/udev/hwdb.bin",
					     "/usr/lib/systemd/hwdb/hwdb.bin", "/lib/systemd/hwdb/hwdb.bin",
					     "/usr/lib/udev/hwdb.bin", "/lib/udev/hwdb.bin" };
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (access(paths[i], R_OK) == 0)
			return true;
	return false;
}

static void test_collect_capture(void **state)
{
	(void)state;
	struct np_host h;
	assert_int_equal(np_host_open(&h, np_src(FIXTURE)), 0);
	struct np_collect_ctx ctx = { .host = &h };
	struct np_report r = { 0 };
	char *only[] = { "pci", NULL };
	assert_int_equal(np_collect_all(&ctx, only, &r), 0);
	assert_int_equal(r.pci.status.err, 0);

	/* the device list equals the capture's own folder listing */
	struct dirent **ents;
	int n = scandir(np_src(FIXTURE "/sys/bus/pci/devices"), &ents, NULL, alphasort);
	assert_true(n > 0);
	size_t k = 0;
	for (int i = 0; i < n; i++) {
		if (ents[i]->d_name[0] != '.') {
			assert_true(k < r.pci.n);
			assert_string_equal(r.pci.devices[k++].address, ents[i]->d_name);
		}
		free(ents[i]);
	}
	free(ents);
	assert_int_equal(k, r.pci.n);
	assert_int_equal(r.pci.n, 6);

	for (size_t i = 0; i < r.pci.n; i++) {
		const struct np_pci_device *d = &r.pci.devices[i];
		assert_int_equal(d->status.err, 0);
		assert_true(d->has_ids);
		/* the kernel's own modalias attribute is the hwdb key we build */
		char alias[96], *want = fixture_line(d->address, "modalias");
		np_pci_modalias(alias, sizeof(alias), d);
		assert_string_equal(alias, want);
		free(want);
		char buf[16], *v = fixture_line(d->address, "vendor");
		snprintf(buf, sizeof(buf), "0x%04x", d->vendor_id);
		assert_string_equal(buf, v);
		free(v);
		v = fixture_line(d->address, "class");
		snprintf(buf, sizeof(buf), "0x%06x", d->class_code);
		assert_string_equal(buf, v);
		free(v);
		assert_false(d->has_numa); /* numa_node -1 in the capture */
		assert_int_equal(np_pci_link_downgraded(&r.pci, d), -1); /* no PCIe link files in this VM */
		assert_false(d->aer_cor.present);                /* no AER-capable device here */
		if (!r.pci.hwdb)
			assert_null(d->vendor_name);
	}
	assert_int_equal(r.pci.hwdb, hwdb_installed());
	/* 00:00.0 is the host bridge without a driver; 00:03.0 the virtio NIC */
	assert_null(r.pci.devices[0].driver);
	assert_int_equal(r.pci.devices[0].class_code, 0x060000);
	const struct np_pci_device *nic = &r.pci.devices[3];
	assert_string_equal(nic->address, "0000:00:03.0");
	assert_string_equal(nic->driver, "virtio-pci");
	assert_int_equal(nic->vendor_id, 0x1af4);
	assert_int_equal(nic->device_id, 0x1041);
	assert_int_equal(nic->class_code, 0x020000);

	json_t *j = np_pci_to_json(&r.pci);
	json_t *jn = json_array_get(json_object_get(j, "devices"), 3);
	assert_string_equal(json_string_value(json_object_get(jn, "vendor_id")), "0x1af4");
	assert_string_equal(json_string_value(json_object_get(jn, "class")), "0x020000");
	assert_string_equal(json_string_value(json_object_get(jn, "driver")), "virtio-pci");
	assert_true(json_is_null(json_object_get(jn, "numa_node")));
	assert_true(json_is_null(json_object_get(jn, "link")));
	assert_true(json_is_null(json_object_get(jn, "aer")));
	json_decref(j);
	/* pci adds nothing to the bundle; only the kernel release (absent here) */
	assert_int_equal(r.bundle.n, 1);
	np_report_free(&r);
	np_host_close(&h);
}

static const struct np_pci_device *find_dev(const struct np_pci *s, const char *addr)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->devices[i].address, addr) == 0)
			return &s->devices[i];
	fail_msg("no device %s", addr);
	return NULL;
}

/*
 * A real kernel's PCIe (tests/vm/capture_aer.py: Debian 6.1 under QEMU q35, an
 * uncorrectable POISON_TLP injected into the virtio-net function behind root
 * port 00:04.0, counted by the guest's AER driver).
 */
static void test_collect_q35_aer_capture(void **state)
{
	(void)state;
	struct np_host h;
	assert_int_equal(np_host_open(&h, np_src("tests/fixtures/nib-q35-aer")), 0);
	struct np_collect_ctx ctx = { .host = &h };
	struct np_report r = { 0 };
	char *only[] = { "pci", NULL };
	assert_int_equal(np_collect_all(&ctx, only, &r), 0);
	assert_int_equal(r.pci.status.err, 0);
	assert_int_equal(r.pci.n, 12);
	for (size_t i = 0; i < r.pci.n; i++)
		assert_int_equal(r.pci.devices[i].status.err, 0);

	/* root port: trained at 2.5 GT/s x1 under a 16 GT/s x32 capability */
	const struct np_pci_device *rp = find_dev(&r.pci, "0000:00:04.0");
	assert_string_equal(rp->driver, "pcieport");
	assert_int_equal(rp->class_code, 0x060400);
	assert_string_equal(rp->cur_speed.text, "2.5 GT/s PCIe");
	assert_true(rp->cur_speed.gts == 2.5 && rp->max_speed.gts == 16.0);
	assert_int_equal(rp->cur_width, 1);
	assert_int_equal(rp->max_width, 32);
	/* ... but the virtio NIC below it reports no maximum: what the link should run at is unknown */
	assert_string_equal(np_pci_link_partner(&r.pci, rp)->address, "0000:02:00.0");
	assert_int_equal(np_pci_link_downgraded(&r.pci, rp), -1);
	assert_int_equal(np_pci_link_downgraded(NULL, rp), 1); /* lspci's "(downgraded)": own maximum only */
	/* the root port above the e1000e (2.5 GT/s x1 at most) runs the link at what both ends support */
	const struct np_pci_device *rp3 = find_dev(&r.pci, "0000:00:03.0");
	assert_null(rp3->upstream);
	assert_string_equal(np_pci_link_partner(&r.pci, rp3)->address, "0000:01:00.0");
	assert_int_equal(np_pci_link_downgraded(&r.pci, rp3), 0);
	assert_true(rp->aer_cor.present && rp->aer_nonfatal.present && rp->aer_fatal.present);
	assert_int_equal(rp->aer_cor.n, 9);     /* 8 named bits + TOTAL_ERR_COR */
	assert_int_equal(rp->aer_fatal.n, 24);  /* 23 names of this kernel + TOTAL_ERR_FATAL */
	assert_int_equal(counter(&rp->aer_fatal, "PCRC_CHECK"), 0);
	assert_true(rp->has_rootport_total[2]);
	assert_int_equal(rp->rootport_total[2], 1); /* the injected non-fatal error */
	assert_int_equal(rp->rootport_total[0], 0);

	/* the endpoint that took the error */
	const struct np_pci_device *nic = find_dev(&r.pci, "0000:02:00.0");
	assert_string_equal(nic->driver, "virtio-pci");
	assert_int_equal(counter(&nic->aer_nonfatal, "TLP"), 1);
	assert_int_equal(counter(&nic->aer_nonfatal, "TOTAL_ERR_NONFATAL"), 1);
	assert_int_equal(nic->aer_nonfatal.total, 1);
	assert_int_equal(nic->aer_cor.total, 0);
	assert_int_equal(nic->aer_fatal.total, 0);
	/* max_link_speed "Unknown", max_link_width 255 (PCIE_LNK_WIDTH_UNKNOWN): cannot tell */
	assert_string_equal(nic->max_speed.text, "Unknown");
	assert_true(nic->max_speed.gts == 0);
	assert_false(nic->has_max_width);
	assert_string_equal(nic->upstream, "0000:00:04.0");
	assert_int_equal(np_pci_link_downgraded(&r.pci, nic), -1);

	/* e1000e at its own maximum */
	const struct np_pci_device *e1k = find_dev(&r.pci, "0000:01:00.0");
	assert_string_equal(e1k->driver, "e1000e");
	assert_string_equal(e1k->upstream, "0000:00:03.0");
	assert_string_equal(np_pci_link_partner(&r.pci, e1k)->address, "0000:00:03.0");
	assert_int_equal(np_pci_link_downgraded(&r.pci, e1k), 0);
	/* chipset functions without a PCIe link or AER */
	const struct np_pci_device *lpc = find_dev(&r.pci, "0000:00:1f.0");
	assert_null(lpc->upstream);
	assert_int_equal(np_pci_link_downgraded(&r.pci, lpc), -1);
	assert_false(lpc->aer_cor.present);
	np_report_free(&r);
	np_host_close(&h);
}

static void test_no_pci_bus_is_recorded(void **state)
{
	(void)state;
	struct np_host h;
	assert_int_equal(np_host_open(&h, np_src("tests/unit")), 0);
	struct np_collect_ctx ctx = { .host = &h };
	struct np_report r = { 0 };
	char *only[] = { "pci", NULL };
	assert_int_equal(np_collect_all(&ctx, only, &r), 0);
	assert_int_equal(r.pci.status.err, ENOENT);
	assert_string_equal(r.pci.status.error, "/sys/bus/pci/devices: unavailable: not present");
	assert_int_equal(r.pci.n, 0);
	np_report_free(&r);
	np_host_close(&h);
}

/*
 * Regression: a line of another file's total (TOTAL_ERR_FATAL in aer_dev_nonfatal) was taken as this
 * file's total without being counted invalid; and a total was never checked against its bits.
 * On the real QEMU capture's aer_dev_nonfatal (TLP 1, TOTAL_ERR_NONFATAL 1).
 */
static void test_aer_total_cross_checked(void **state)
{
	(void)state;
	size_t len;
	char *buf = np_slurp("tests/fixtures/nib-q35-aer/sys/devices/pci0000:00/0000:00:04.0/0000:02:00.0/aer_dev_nonfatal",
			     &len);
	struct np_aer_counters a = { 0 };
	struct np_status st = { 0 };
	/* as captured: the total matches the one TLP bit */
	assert_int_equal(np_parse_aer_counters(buf, len, &a, &st, "aer_dev_nonfatal"), 0);
	assert_true(a.has_total);
	assert_int_equal(a.total, 1);
	assert_int_equal(a.bits_sum, counter(&a, "TLP"));
	assert_false(a.total_disagrees);
	np_aer_counters_free(&a);

	/* the fatal file's total in the nonfatal file: invalid, not this file's total */
	char *tot = strstr(buf, "TOTAL_ERR_NONFATAL");
	assert_non_null(tot);
	char *other = np_asprintf("%.*sTOTAL_ERR_FATAL 1\n", (int)(tot - buf), buf);
	assert_int_equal(np_parse_aer_counters(other, strlen(other), &a, &st, "aer_dev_nonfatal"), -EINVAL);
	assert_false(a.has_total);
	assert_int_equal(a.lines_invalid, 1);
	assert_non_null(strstr(st.error, "another file's total"));
	np_aer_counters_free(&a);
	np_status_clear(&st);
	free(other);

	/* a total that is not the sum of the bits: kept, and said */
	char *more = np_asprintf("%.*sTOTAL_ERR_NONFATAL 3\n", (int)(tot - buf), buf);
	assert_int_equal(np_parse_aer_counters(more, strlen(more), &a, &st, "aer_dev_nonfatal"), 0);
	assert_int_equal(a.total, 3);
	assert_int_equal(a.bits_sum, 1);
	assert_true(a.total_disagrees);
	struct np_pci_device d = { .aer_nonfatal = a };
	json_t *j = np_pci_aer_to_json(&d);
	json_t *x = json_object_get(json_object_get(j, "totals_disagree"), "nonfatal");
	assert_int_equal(json_integer_value(json_object_get(x, "total")), 3);
	assert_int_equal(json_integer_value(json_object_get(x, "bits_sum")), 1);
	assert_null(json_object_get(json_object_get(j, "totals_disagree"), "fatal"));
	json_decref(j);
	np_aer_counters_free(&a);
	free(more);
	free(buf);
}

struct counted {
	const uint8_t *buf;
	unsigned reads;
};

static int counted_read(void *ud, unsigned off, uint32_t *val)
{
	struct counted *c = ud;
	c->reads++;
	if (off + 4 > NP_PCI_CFG_SPACE_EXP_SIZE)
		return -ENODATA;
	*val = (uint32_t)c->buf[off] | (uint32_t)c->buf[off + 1] << 8 | (uint32_t)c->buf[off + 2] << 16 |
	       (uint32_t)c->buf[off + 3] << 24;
	return 0;
}

/*
 * The Device Serial Number from captured config spaces (nib-q35-aer, read as root in the guest):
 * QEMU's e1000e has one (its MAC with ff-ff in the middle), the root port's list has others only,
 * the NVMe controller's extended space is empty, the host bridge has no extended space; a
 * non-root read (64 bytes) tells nothing; a list that loops ends.
 */
static void test_config_dsn(void **state)
{
	(void)state;
	static const char *const cfg = "tests/fixtures/nib-q35-aer/sys/bus/pci/devices/%s/config";
	char rel[128];
	size_t len;
	uint64_t dsn = 0;
	snprintf(rel, sizeof(rel), cfg, "0000:01:00.0");
	uint8_t *e1k = (uint8_t *)np_slurp(rel, &len);
	assert_int_equal(len, NP_PCI_CFG_SPACE_EXP_SIZE);
	assert_int_equal(np_pci_config_dsn(e1k, len, &dsn), 1);
	assert_true(dsn == 0x525400ffff123456ull); /* lspci: 52-54-00-ff-ff-12-34-56 */
	/* read dword by dword: AER's header at 0x100, DSN's at 0x140, its two dwords - not 4 KiB */
	struct counted c = { e1k, 0 };
	dsn = 0;
	assert_int_equal(np_pci_config_dsn_read(counted_read, &c, &dsn), 1);
	assert_true(dsn == 0x525400ffff123456ull);
	assert_int_equal(c.reads, 4);
	assert_int_equal(np_pci_config_dsn(e1k, 64, &dsn), -ENODATA);
	/* the AER capability at 0x100 pointing at itself: no serial number, and the walk ends */
	e1k[0x102] = 0x01;
	e1k[0x103] = 0x10;
	assert_int_equal(np_pci_config_dsn(e1k, len, &dsn), 0);
	free(e1k);
	static const struct { const char *addr; int want; } other[] = {
		{ "0000:00:03.0", 0 },       /* root port: AER and ACS */
		{ "0000:03:00.0", 0 },       /* NVMe: extended space of zeros */
		{ "0000:00:00.0", -ENODATA }, /* host bridge: 256 bytes */
	};
	for (size_t i = 0; i < ARRAY_SIZE(other); i++) {
		snprintf(rel, sizeof(rel), cfg, other[i].addr);
		char *b = np_slurp(rel, &len);
		assert_int_equal(np_pci_config_dsn((const uint8_t *)b, len, &dsn), other[i].want);
		free(b);
	}
}

/*
 * The agent's passes (its facts, one lookup of a function's listing for all its attributes) report
 * what a one-shot run reports, pass after pass, and a function whose IDs changed shows them (and
 * their hwdb names, where there is a hwdb) once read again after its event.
 */
static void test_agent_passes_as_one_shot(void **state)
{
	(void)state;
	char root[64], p[256];
	np_fixture_copy(FIXTURE, root, sizeof(root));
	struct np_host h;
	assert_int_equal(np_host_open(&h, root), 0);
	struct np_collect_ctx ctx = { .host = &h }, once = { .host = &h };
	ctx.states = np_section_states_new(&ctx);
	assert_non_null(ctx.states);
	char *first = NULL;
	for (int i = 0; i < 3; i++) {
		char *a = np_collect_section_json(&ctx, "pci"), *b = np_collect_section_json(&once, "pci");
		assert_string_equal(a, b);
		if (!first)
			first = a;
		else
			free(a);
		free(b);
	}
	/* the virtio NIC becomes an Intel 82540EM (8086:100e): its IDs and names move together */
	snprintf(p, sizeof(p), "%s/sys/devices/pci0000:00/0000:00:03.0/vendor", root);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs("0x8086\n", f);
	fclose(f);
	snprintf(p, sizeof(p), "%s/sys/devices/pci0000:00/0000:00:03.0/device", root);
	assert_non_null(f = fopen(p, "w"));
	fputs("0x100e\n", f);
	fclose(f);
	ctx.facts_gen++;
	char *a = np_collect_section_json(&ctx, "pci"), *b = np_collect_section_json(&once, "pci");
	assert_string_equal(a, b);
	assert_string_not_equal(a, first);
	assert_non_null(strstr(a, "0x100e"));
	if (hwdb_installed())
		assert_non_null(strstr(a, "82540EM"));
	free(a);
	free(b);
	free(first);
	np_section_states_free(ctx.states);
	np_host_close(&h);
	np_fixture_drop(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aer_total_cross_checked),
		cmocka_unit_test(test_aer_abi_doc_names),
		cmocka_unit_test(test_aer_kernel_names_and_bits),
		cmocka_unit_test(test_aer_junk_keeps_the_rest),
		cmocka_unit_test(test_link_speed),
		cmocka_unit_test(test_downgraded),
		cmocka_unit_test(test_link_partners),
		cmocka_unit_test(test_aer_json_shape),
		cmocka_unit_test(test_collect_capture),
		cmocka_unit_test(test_collect_q35_aer_capture),
		cmocka_unit_test(test_no_pci_bus_is_recorded),
		cmocka_unit_test(test_config_dsn),
		cmocka_unit_test(test_agent_passes_as_one_shot),
	};
	return cmocka_run_group_tests_name("pci", tests, NULL, NULL);
}
