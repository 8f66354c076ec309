/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gpu_xid.h - NVIDIA Xid / NVSwitch SXid kernel-log lines as data: the line
 * parser and the code -> class table (gpu_xid.c: one row per code range with
 * the driver branches it applies to and where the row came from), for the
 * kmsg section, tests and fuzzing.
 *
 * Line forms (NVIDIA's open-gpu-kernel-modules nv_report_error() /
 * nvswitch SXid printing, as seen in public bug reports):
 *   "NVRM: Xid (PCI:0000:3b:00): 79, pid=1234, name=python3, GPU has fallen off the bus."
 *   "NVRM: Xid (PCI:0000:65:00): 79, GPU has fallen off the bus."        (older drivers: no pid/name)
 *   "NVRM: Xid (0000:01:00): 3, C 00000005 ..."                         (very old drivers: no "PCI:")
 *   "NVRM: Xid (PCI:0000:01:00): 13, pid='<unknown>', name=<unknown>, Graphics Exception ..."
 *   "nvidia-nvswitch3: SXid (PCI:0000:88:00.0): 20034, Fatal, Link 30 LTSSM Fault Up"
 */
#pragma once

#include "../report/kmsg.h"

#include <stdbool.h>
#include <stdint.h>

struct np_xid {
	bool sxid;            /* an NVSwitch SXid line */
	char pci[32];         /* "0000:3b:00" as printed (Xid: domain:bus:device; SXid: with function) */
	char nvswitch[32];    /* SXid: "nvidia-nvswitch3", else "" */
	unsigned code;
	int64_t pid;          /* -1 when not printed or '<unknown>' */
	char name[64];        /* process name, "" when not printed or <unknown> */
	bool fatal;           /* SXid: the severity word is "Fatal" */
	bool severity;        /* SXid: the line carries the severity word ("Fatal" / "Non-fatal"); an SXid
			       * occurrence prints it once, then "Severity N Engine …" and "Data {…}" lines */
	const char *text;     /* the rest of the line after code, pid and name (points into the message) */
};

/*
 * np_xid_parse() - parse one decoded kernel-log message. Returns 0 and fills
 * @x when @msg is an Xid or SXid line, -EINVAL otherwise (also for a code
 * above 65535, a PCI address over 31 bytes or a name over 63).
 */
int np_xid_parse(const char *msg, struct np_xid *x);

/*
 * np_xid_class() - the class of @x under driver branch @branch (the major
 * version, 535, 570, 580; 0 = not known) from the table in gpu_xid.c.
 * *@origin (may be NULL) gets the row's source (static). Xid 154 carries the
 * driver's own recovery action in its text and is classified from it.
 * A code without a row, or a row that needs a known branch when @branch is 0,
 * is NP_GPU_CLASS_UNCLASSIFIED.
 */
enum np_gpu_class np_xid_class(const struct np_xid *x, unsigned branch, const char **origin);

/*
 * np_nvrm_driver_branch() - the major version from the driver's load line
 * "NVRM: loading NVIDIA UNIX x86_64 Kernel Module  535.104.05  Sat Aug 19 ..."
 * or "NVRM: loading NVIDIA UNIX Open Kernel Module for x86_64  570.195.03  Release Build ...". Returns the major (> 0)
 * or 0 when @msg is no load line.
 */
unsigned np_nvrm_driver_branch(const char *msg);

/* Rows in the table and row @i's code range, branches, class and origin. Returns 0 or -ERANGE. */
size_t np_xid_rows_count(void);
int np_xid_row_info(size_t i, bool *sxid, unsigned *lo, unsigned *hi, unsigned *min_branch, unsigned *max_branch,
		    enum np_gpu_class *cls, const char **origin);
