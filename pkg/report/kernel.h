/* SPDX-License-Identifier: Apache-2.0 */
/* kernel.h - the "kernel" section: release, taint, boot id, OS, DMI, CPU microcode. */
#ifndef NP_REPORT_KERNEL_H
#define NP_REPORT_KERNEL_H

#include "bundle.h"
#include "out.h"
#include "status.h"

#include <stdint.h>

struct np_kernel {
	struct np_status status;
	char *release;      /* /proc/sys/kernel/osrelease (= uname -r) */
	char *version;      /* /proc/sys/kernel/version (= uname -v) */
	char *machine;      /* uname -m */
	uint64_t tainted;   /* /proc/sys/kernel/tainted bit mask */
	char *taint_letters;/* set bits as the kernel's letters, e.g. "OE"; "" when untainted */
	char *boot_id;      /* /proc/sys/kernel/random/boot_id */
	char *os_id, *os_version_id, *os_pretty_name; /* os-release(5) */
	char *dmi_sys_vendor, *dmi_product_name, *dmi_product_version;
	char *dmi_bios_vendor, *dmi_bios_version, *dmi_bios_date, *dmi_board_name;
	char *cpu_model;    /* first "model name" of /proc/cpuinfo */
	char *microcode;    /* first "microcode" of /proc/cpuinfo, e.g. "0x1000065" */
	unsigned cpus;      /* processors listed in /proc/cpuinfo */
};

void np_kernel_free(struct np_kernel *k);
json_t *np_kernel_to_json(const struct np_kernel *k);
void np_kernel_print(const struct np_kernel *k, struct np_out *o);
/* Adds kernel/release, bios/version, cpu/microcode. Returns 0 or -ENOMEM. */
int np_kernel_bundle(const struct np_kernel *k, struct np_bundle *b);

#endif /* NP_REPORT_KERNEL_H */

/* Its member of struct np_report: report.h reads this header a second time for it (sections.h). */
#ifdef NP_REPORT_MEMBER
NP_REPORT_MEMBER(kernel)
#endif
