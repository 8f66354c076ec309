/* SPDX-License-Identifier: Apache-2.0 */
/* pci.h - parsers of the pci collector, exposed for tests and fuzzing. */
#pragma once

#include "../report/pci.h"

#include <stddef.h>
#include <stdint.h>

/* The extended configuration space's size: the length of a config file read with CAP_SYS_ADMIN. */
#define NP_PCI_CFG_SPACE_EXP_SIZE 4096u

/* Largest aer_dev_* file accepted (the kernel prints well under 1 KiB). */
#define NP_AER_FILE_MAX (64u << 10)

/*
 * np_parse_aer_counters() - parse one aer_dev_correctable / aer_dev_nonfatal /
 * aer_dev_fatal file into @a (which must be zeroed) and set a->present.
 *
 * Format (Documentation/ABI/testing/sysfs-bus-pci-devices-aer_stats;
 * drivers/pci/pcie/aer.c aer_stats_dev_attr()): one "Name count" line per
 * error bit, the name possibly several words ("Receiver Error" in the ABI
 * document, "RxErr" in current kernels), "<array>_bit[N] count" for unnamed
 * bits, then "TOTAL_ERR_COR|FATAL|NONFATAL count". The count is the last
 * whitespace-separated token (decimal u64); the name is everything before it,
 * trimmed, kept verbatim - unknown names included. The file's own TOTAL_ERR_*
 * (TOTAL_ERR_COR in a @file named *correctable, _NONFATAL in *nonfatal,
 * _FATAL in *fatal; any for another name) is kept as a counter too and stored
 * in a->total; a->bits_sum is the sum of the other counters and
 * a->total_disagrees says the two differ (it need not be an error: the kernel
 * counts the total once per error and every bit the error set).
 *
 * A junk line (no count, empty or non-printable name, NUL bytes, duplicate
 * name, another file's TOTAL_ERR_*) is counted in a->lines_invalid and the first one described in @st
 * (prefixed with @file); the other counters are kept.
 * Returns 0, -EINVAL when at least one line was junk, or -ENOMEM.
 */
int np_parse_aer_counters(const char *buf, size_t len, struct np_aer_counters *a,
			  struct np_status *st, const char *file);

/*
 * np_parse_link_speed() - a current_link_speed / max_link_speed value
 * (Documentation/ABI/testing/sysfs-bus-pci; drivers/pci/probe.c
 * pci_speed_string()): "2.5 GT/s PCIe", "8.0 GT/s PCIe", "16.0 GT/s PCIe",
 * older kernels "2.5 GT/s", "5 GT/s", "8 GT/s", or "Unknown" / "Unknown speed".
 * Returns 0 with *@gts in GT/s (0 for Unknown), or -EINVAL for anything else.
 */
int np_parse_link_speed(const char *s, double *gts);

/*
 * np_pci_modalias() - the udev hwdb key of a device:
 * "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X" (as the kernel's modalias
 * attribute, drivers/pci/pci-sysfs.c). Returns snprintf's length.
 */
int np_pci_modalias(char *buf, size_t len, const struct np_pci_device *d);

/* Reads the 4 bytes of configuration space at @off (little-endian) into *@val: 0, -ENODATA where the
 * space readable ends before them, or -errno. */
typedef int (*np_pci_cfg_read_fn)(void *ud, unsigned off, uint32_t *val);

/*
 * np_pci_config_dsn_read() - the Device Serial Number of a PCI Express function, read from its
 * configuration space through @rd (called with @ud) dword by dword: the extended capability list
 * from offset 0x100 (PCI Express Base Specification 6.0, 7.6.3 PCI Express Extended Capability
 * header: ID bits 15:0, next offset bits 31:20; 7.9.3 Device Serial Number Extended Capability,
 * ID 0x0003, the 64-bit number at +4, lower dword first), walked as the kernel's
 * pci_find_next_ext_capability() walks it (at most 480 entries, every offset at or above 0x100), so
 * a few dwords are read, not the 4 KiB (each a configuration transaction on the device).
 * Returns 1 with *@dsn, 0 when the list holds no such capability (or there is no list: a header
 * of 0 or all ones), -ENODATA when the extended space cannot be read (the kernel gives 64 bytes of
 * /sys/bus/pci/devices/<address>/config to a reader without CAP_SYS_ADMIN, 256 of a function
 * without extended space): then nothing can be told; another -errno of @rd.
 */
int np_pci_config_dsn_read(np_pci_cfg_read_fn rd, void *ud, uint64_t *dsn);

/* np_pci_config_dsn_read() over @len bytes of a config file read whole (@buf: tests, fuzzing). */
int np_pci_config_dsn(const uint8_t *buf, size_t len, uint64_t *dsn);
