/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pci.h - the "pci" section: every device of /sys/bus/pci/devices with IDs,
 * hwdb names, driver, NUMA node, PCIe link (current vs max) and AER counters.
 * Sources: Documentation/ABI/testing/sysfs-bus-pci,
 * Documentation/ABI/testing/sysfs-bus-pci-devices-aer_stats.
 * docs/report/pci.md documents the JSON.
 */
#ifndef NP_REPORT_PCI_H
#define NP_REPORT_PCI_H

#include "bundle.h"
#include "out.h"
#include "status.h"

#include <stdbool.h>
#include <stdint.h>

/* One "Name count" line of an aer_dev_* file, name kept verbatim. */
struct np_aer_counter {
	char *name;     /* "RxErr", "Receiver Error", "dev_cor_errs_bit[9]", "TOTAL_ERR_COR", ... */
	uint64_t count;
};

/* One aer_dev_{correctable,nonfatal,fatal} file. */
struct np_aer_counters {
	bool present;                 /* the file exists (AER-capable device) */
	struct np_aer_counter *c;     /* in file order, TOTAL_* line included */
	size_t n;
	bool has_total;               /* a TOTAL_ERR_* line was seen */
	uint64_t total;               /* its value: the kernel's authoritative total */
	uint64_t bits_sum;            /* sum of the per-bit counters (TOTAL_ line excluded), saturating */
	bool total_disagrees;         /* has_total and total != bits_sum */
	unsigned lines_invalid;       /* junk lines (recorded in the device's status) */
};

/* A link speed as sysfs prints it, and its value. */
struct np_pci_speed {
	char *text;     /* "8.0 GT/s PCIe", "Unknown", ...; NULL when the file is absent */
	double gts;     /* gigatransfers per second; 0 when unknown */
};

/* A virtual function of an SR-IOV physical function. */
struct np_pci_vf {
	char *address;                /* the VF's PCI function, from the PF's virtfnN link */
	char *driver;                 /* its bound driver; NULL when unbound (e.g. probe failed, vfio not bound) */
};

struct np_pci_device {
	struct np_status status;      /* per-device failures (unreadable attribute, AER junk) */
	char *address;                /* "0000:00:03.0" (domain:bus:device.function) */
	char *upstream;               /* the bridge above it ("0000:00:1c.0", the parent folder in sysfs); NULL under a host bridge */
	bool has_ids;                 /* vendor/device/class read */
	uint32_t class_code;          /* 24-bit class: base, sub-class, prog-if */
	uint16_t vendor_id, device_id, subsystem_vendor_id, subsystem_device_id;
	char *class_name;             /* hwdb sub-class name, else class name; NULL without hwdb */
	char *vendor_name, *device_name; /* hwdb ID_VENDOR/ID_MODEL_FROM_DATABASE */
	char *driver;                 /* basename of the driver symlink; NULL when unbound */
	bool has_numa;                /* numa_node >= 0 */
	int64_t numa_node;
	bool has_sriov;               /* an SR-IOV physical function (sriov_totalvfs exists) */
	uint64_t sriov_totalvfs, sriov_numvfs; /* VFs the device supports / has enabled now */
	struct np_pci_vf *vfs;        /* the enabled VFs (virtfn0..), n_vfs of them */
	size_t n_vfs;
	struct np_pci_speed cur_speed, max_speed;
	bool has_cur_width, has_max_width;
	uint64_t cur_width, max_width; /* lanes */
	struct np_aer_counters aer_cor, aer_nonfatal, aer_fatal;
	bool dsn_read;                /* the extended config space was read (as root): has_dsn is known */
	bool has_dsn;                 /* a Device Serial Number capability: dsn is the card's */
	uint64_t dsn;                 /* read for functions with AER counters only (their identity) */
	/* root ports only: errors reported to this port by its hierarchy */
	bool has_rootport_total[3];   /* cor, fatal, nonfatal */
	uint64_t rootport_total[3];   /* aer_rootport_total_err_{cor,fatal,nonfatal} */
};

struct np_pci {
	struct np_status status;
	struct np_pci_device *devices; /* in /sys/bus/pci/devices order (strverscmp) */
	size_t n;
	bool hwdb;                     /* the udev hwdb was available for names */
};

/*
 * np_pci_link_partner() - the device at the other end of @d's link: for a
 * bridge (root or switch downstream port), the first function on its
 * secondary bus; else its upstream bridge. NULL when @pci has none (an empty
 * slot, a device under a host bridge). Borrowed from @pci.
 */
const struct np_pci_device *np_pci_link_partner(const struct np_pci *pci, const struct np_pci_device *d);

/*
 * np_pci_link_expected() - what @d's link should train to: the lower of the
 * two ends' maximum speed (GT/s) and width (lanes), as the PCIe link training
 * rules make it (PCI Express Base Specification, 4.2.4 Link Initialization
 * and Training). Without a partner in @pci (may be NULL), @d's own maximum.
 * A dimension either end reports as unknown ("Unknown" speed, width 255 =
 * PCIE_LNK_WIDTH_UNKNOWN) is 0 / false.
 */
void np_pci_link_expected(const struct np_pci *pci, const struct np_pci_device *d, double *gts, bool *has_width,
			  uint64_t *width);

/*
 * np_pci_link_downgraded() - 1 when @d's link runs below the speed or width
 * both of its ends support (np_pci_link_expected()), 0 when it runs at both,
 * -1 when it cannot be told (no link files, an unknown maximum on either end,
 * or current width 0 = link down / nothing attached). A root port holding an
 * x4 device in an x16 slot is not downgraded; an x16 card trained at x8 is.
 * @pci may be NULL: then the device's own maximum counts (lspci's
 * "(downgraded)").
 */
int np_pci_link_downgraded(const struct np_pci *pci, const struct np_pci_device *d);

/*
 * np_pci_same_device() - whether @a and @b, the devices at one address in two reports (the agent's
 * cycles), are the same device as far as the reports can tell: the same vendor, device, subsystem
 * vendor, subsystem device and class IDs (or neither has them), and, when both Device Serial
 * Numbers were read, the same serial number or neither has one. A card swapped in the slot for
 * another model, or for another card of the same model with a Device Serial Number, is another
 * device; a card of the same model without one cannot be told from its predecessor.
 */
bool np_pci_same_device(const struct np_pci_device *a, const struct np_pci_device *b);

/* Release what one device owns and zero it. */
void np_pci_device_free(struct np_pci_device *d);
void np_aer_counters_free(struct np_aer_counters *a);
void np_pci_free(struct np_pci *s);
/* {"hwdb","devices":[...]} + status. Caller owns the reference. */
json_t *np_pci_to_json(const struct np_pci *s);
/* AER counters as {name: count, ...} in file order (null when the file is absent). */
json_t *np_aer_counters_to_json(const struct np_aer_counters *a);
/*
 * The device's "aer" object: {"correctable","nonfatal","fatal","lines_invalid",
 * "rootport"}; JSON null when the device has no AER file at all. Caller owns it.
 */
json_t *np_pci_aer_to_json(const struct np_pci_device *d);
/* The "PCIe link/AER" table; downgraded links and nonzero AER totals highlighted. */
void np_pci_print(const struct np_pci *s, struct np_out *o);
/* Adds nothing: NIC and NVMe firmware are bundled by their own sections. Returns 0. */
int np_pci_bundle(const struct np_pci *s, struct np_bundle *b);

#endif /* NP_REPORT_PCI_H */

/* Its member of struct np_report: report.h reads this header a second time for it (sections.h). */
#ifdef NP_REPORT_MEMBER
NP_REPORT_MEMBER(pci)
#endif
