// SPDX-License-Identifier: Apache-2.0
/*
 * gpu_xid.c - the Xid / SXid line parser and the code -> class table.
 *
 * Classes follow the "Resolution Bucket (Immediate Action)" column of NVIDIA's
 * Xid catalog for Ampere and newer GPUs
 * (https://docs.nvidia.com/deploy/xid-errors/analyzing-xid-catalog.html, read
 * 2026-12; cross-checked against the same buckets in NVIDIA/NVSentinel
 * distros/kubernetes/nvsentinel/charts/gpu-health-monitor/xiderrorsmapping.csv):
 *   IGNORE, RESTART_APP, WORKFLOW_XID_45, CHECK_UVM -> application (never a node problem)
 *   RESET_GPU, WORKFLOW_XID_48                      -> gpu-reset
 *   RESTART_BM, RESTART_VM                          -> node-reboot
 *   CHECK_MECHANICALS, WORKFLOW_NVLINK_ERR,
 *   WORKFLOW_NVLINK5_ERR (catalog rules before R575) -> hardware
 * Codes the catalog marks "Unused" on A100/H100/B100/GB200
 * (UNEXPECTED_ERR_REPORT_ISSUE) have no row: unclassified.
 * SXid (NVSwitch): the line's own severity word; Non-fatal -> application,
 * Fatal -> gpu-reset (RESET_FABRIC: the GPUs and NVSwitches of the baseboard),
 * except the NVLink link rows (INVESTIGATE_LINK_SI) and thermal shutdown -> hardware
 * (NVSentinel charts/nvswitch-health-monitor/sxiderrorsmapping.csv from NVIDIA's
 * "Xid and SXid errors" catalog).
 */
#define _GNU_SOURCE
#include "gpu_xid.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CAT "NVIDIA Xid catalog (analyzing-xid-catalog.html), immediate action "
#define SCAT "NVIDIA SXid catalog via NVSentinel sxiderrorsmapping.csv, "

struct xid_row {
	bool sxid;
	unsigned lo, hi;
	unsigned min_branch, max_branch; /* 0 = no bound */
	enum np_gpu_class cls;
	const char *origin;
};

#define APP NP_GPU_CLASS_APPLICATION
#define RST NP_GPU_CLASS_RESET
#define RBT NP_GPU_CLASS_REBOOT
#define HW NP_GPU_CLASS_HARDWARE
#define UNC NP_GPU_CLASS_UNCLASSIFIED

static const struct xid_row rows[] = {
	{ false, 8, 8, 0, 0, APP, CAT "RESTART_APP (GPU stopped processing)" },
	{ false, 11, 11, 0, 0, APP, CAT "RESTART_APP" },
	{ false, 13, 13, 0, 0, APP, CAT "RESTART_APP (Graphics Engine Exception)" },
	{ false, 14, 14, 0, 0, APP, CAT "IGNORE" },
	{ false, 25, 25, 0, 0, APP, CAT "RESTART_APP" },
	{ false, 31, 32, 0, 0, APP, CAT "RESTART_APP (MMU fault, PBDMA error)" },
	{ false, 37, 38, 0, 0, APP, CAT "IGNORE" },
	{ false, 39, 41, 0, 0, APP, CAT "RESTART_APP (copy engine)" },
	{ false, 43, 44, 0, 0, APP, CAT "IGNORE (reset channel verification, fault during context switch)" },
	{ false, 45, 45, 0, 0, APP, CAT "WORKFLOW_XID_45 (preemptive removal: follows another Xid or an app kill)" },
	{ false, 46, 46, 0, 0, RST, CAT "RESET_GPU (GPU stopped processing)" },
	{ false, 48, 48, 0, 0, RST, CAT "WORKFLOW_XID_48 (double-bit ECC: reset to remap)" },
	{ false, 54, 54, 0, 0, HW, CAT "CHECK_MECHANICALS (power reduced clocking)" },
	{ false, 60, 60, 0, 0, APP, CAT "RESTART_APP" },
	{ false, 62, 62, 0, 0, RST, CAT "RESET_GPU (PMU halt)" },
	{ false, 63, 63, 0, 0, APP, CAT "IGNORE (row remap / page retirement recorded)" },
	{ false, 64, 64, 0, 0, RST, CAT "RESET_GPU (row remap / page retirement failure)" },
	{ false, 66, 72, 0, 0, APP, CAT "IGNORE / RESTART_APP" },
	{ false, 74, 74, 0, 0, HW, CAT "WORKFLOW_NVLINK_ERR (NVLink error)" },
	{ false, 75, 77, 0, 0, APP, CAT "RESTART_APP (copy engine)" },
	{ false, 79, 79, 0, 0, RBT, CAT "RESTART_BM (GPU has fallen off the bus)" },
	{ false, 80, 80, 0, 0, APP, CAT "RESTART_APP" },
	{ false, 82, 86, 0, 0, APP, CAT "RESTART_APP" },
	{ false, 88, 89, 0, 0, APP, CAT "RESTART_APP" },
	{ false, 92, 93, 0, 0, APP, CAT "IGNORE (excessive SBE interrupts, InfoROM erase limit)" },
	{ false, 94, 94, 0, 0, APP, CAT "RESTART_APP (contained ECC error)" },
	{ false, 95, 95, 0, 0, RST, CAT "RESET_GPU (uncontained ECC error)" },
	{ false, 96, 107, 0, 0, APP, CAT "RESTART_APP / IGNORE" },
	{ false, 109, 110, 0, 0, RST, CAT "RESET_GPU (context switch timeout, SEC fault)" },
	{ false, 119, 120, 0, 0, RST, CAT "RESET_GPU (GSP RPC timeout, GSP error)" },
	{ false, 121, 121, 0, 0, APP, CAT "IGNORE (C2C)" },
	{ false, 126, 135, 0, 0, APP, CAT "RESTART_APP (copy engine)" },
	{ false, 136, 136, 0, 0, RST, CAT "RESET_GPU (ALI training)" },
	{ false, 137, 137, 0, 0, APP, CAT "IGNORE" },
	{ false, 139, 139, 0, 0, APP, CAT "RESTART_APP" },
	{ false, 140, 140, 0, 0, RST, CAT "RESET_GPU (unrecoverable ECC escape)" },
	{ false, 141, 141, 0, 0, APP, CAT "IGNORE" },
	{ false, 143, 143, 0, 0, RST, CAT "RESET_GPU (GPU init error)" },
	/* NVLink5: the catalog's decoding of these depends on the driver (NVSentinel #748):
	 * the WORKFLOW_NVLINK5_ERR rules hold before R575; from R575 the action depends on
	 * the IntrInfo field, which this table does not decode */
	{ false, 144, 150, 0, 574, HW, CAT "WORKFLOW_NVLINK5_ERR, rules of drivers before R575" },
	{ false, 144, 150, 575, 0, UNC, CAT "R575+: action per IntrInfo (not decoded here)" },
	{ false, 151, 151, 0, 0, RBT, CAT "RESTART_VM (key rotation)" },
	{ false, 152, 153, 0, 0, APP, CAT "IGNORE" },
	{ false, 155, 156, 0, 0, RST, CAT "RESET_GPU" },
	{ false, 157, 157, 0, 0, APP, CAT "IGNORE" },
	{ false, 158, 158, 0, 0, RST, CAT "RESET_GPU (GPU fatal timeout)" },
	{ false, 159, 159, 0, 0, APP, CAT "CHECK_UVM" },
	{ false, 160, 160, 0, 0, RBT, CAT "RESTART_BM (channel retirement)" },
	{ false, 161, 161, 0, 0, APP, CAT "IGNORE" },
	{ false, 162, 162, 0, 0, RST, CAT "RESET_GPU" },
	/* SXid: Non-fatal lines are application class before this table is read */
	{ true, 10004, 10004, 0, 0, HW, SCAT "CHECK_THERMALS (thermal event)" },
	{ true, 10006, 10006, 0, 0, HW, SCAT "RESET_FABRIC (thermal shutdown)" },
	{ true, 18001, 19999, 0, 0, HW, SCAT "INVESTIGATE_LINK_SI (NVLink link errors)" },
	{ true, 0, 65535, 0, 0, RST, SCAT "Fatal: RESET_FABRIC / RESET_GPU (the baseboard's GPUs and NVSwitches)" },
};

size_t np_xid_rows_count(void)
{
	return ARRAY_SIZE(rows);
}

int np_xid_row_info(size_t i, bool *sxid, unsigned *lo, unsigned *hi, unsigned *min_branch, unsigned *max_branch,
		    enum np_gpu_class *cls, const char **origin)
{
	if (i >= ARRAY_SIZE(rows))
		return -ERANGE;
	*sxid = rows[i].sxid;
	*lo = rows[i].lo;
	*hi = rows[i].hi;
	*min_branch = rows[i].min_branch;
	*max_branch = rows[i].max_branch;
	*cls = rows[i].cls;
	*origin = rows[i].origin;
	return 0;
}

/* Xid 154 (GPU_RECOVERY_ACTION_CHANGED, R570+): "GPU recovery action changed from 0x0 (None) to 0x1 (GPU Reset Required)" */
static enum np_gpu_class class_154(const char *text, const char **origin)
{
	const char *to = strstr(text, " to ");
	if (origin)
		*origin = CAT "Xid 154: the driver's own recovery action, read from the line";
	if (!to)
		return UNC;
	if (strstr(to, "Node Reboot Required"))
		return RBT;
	if (strstr(to, "GPU Reset Required") || strstr(to, "Drain P2P") || strstr(to, "Drain and Reset"))
		return RST;
	if (strstr(to, "(None)"))
		return APP;
	return UNC;
}

enum np_gpu_class np_xid_class(const struct np_xid *x, unsigned branch, const char **origin)
{
	if (origin)
		*origin = NULL;
	if (x->sxid && !x->fatal) {
		if (origin)
			*origin = SCAT "Non-fatal: IGNORE";
		return APP;
	}
	if (!x->sxid && x->code == 154)
		return class_154(x->text ? x->text : "", origin);
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		const struct xid_row *r = &rows[i];
		if (r->sxid != x->sxid || x->code < r->lo || x->code > r->hi)
			continue;
		if ((r->min_branch || r->max_branch) && !branch) {
			if (origin)
				*origin = "the driver branch decides and is not known";
			return UNC;
		}
		if ((r->min_branch && branch < r->min_branch) || (r->max_branch && branch > r->max_branch))
			continue;
		if (origin)
			*origin = r->origin;
		return r->cls;
	}
	return UNC;
}

/* Parse "[0-9]+" at *p (at most 9 digits) into *v and move *p past it. Returns 0 or -EINVAL. */
static int number(const char **p, uint64_t max, uint64_t *v)
{
	const char *s = *p;
	uint64_t n = 0;
	size_t k = 0;
	for (; isdigit((unsigned char)s[k]) && k < 10; k++)
		n = n * 10 + (uint64_t)(s[k] - '0');
	if (!k || k >= 10 || n > max)
		return -EINVAL;
	*p = s + k;
	*v = n;
	return 0;
}

/* "(PCI:0000:3b:00)" or "(0000:01:00)" at *p into @out (a hex/':'/'.' token). Returns 0 or -EINVAL. */
static int pci_of(const char **p, char *out, size_t size)
{
	const char *s = *p;
	if (*s++ != '(')
		return -EINVAL;
	if (np_startswith(s, "PCI:"))
		s += 4;
	size_t n = strspn(s, "0123456789abcdefABCDEF:.");
	if (!n || n >= size || s[n] != ')')
		return -EINVAL;
	memcpy(out, s, n);
	out[n] = '\0';
	*p = s + n + 1;
	return 0;
}

/* Optional "pid=N, " / "pid='<unknown>', " then "name=X, " (Xid lines of 450+ drivers). */
static int pid_name(const char **p, struct np_xid *x)
{
	const char *s = *p;
	if (np_startswith(s, "pid=")) {
		s += 4;
		uint64_t v;
		if (np_startswith(s, "'<unknown>'"))
			s += strlen("'<unknown>'");
		else if (number(&s, INT32_MAX, &v) == 0)
			x->pid = (int64_t)v;
		else
			return -EINVAL;
		if (!np_startswith(s, ", "))
			return -EINVAL;
		s += 2;
	}
	if (np_startswith(s, "name=")) {
		s += 5;
		const char *e = strstr(s, ", ");
		size_t n = e ? (size_t)(e - s) : strlen(s);
		if (n >= sizeof(x->name))
			return -EINVAL;
		if (!(n == 9 && strncmp(s, "<unknown>", 9) == 0)) {
			memcpy(x->name, s, n);
			x->name[n] = '\0';
		}
		s += n;
		if (e)
			s += 2;
	}
	*p = s;
	return 0;
}

int np_xid_parse(const char *msg, struct np_xid *x)
{
	*x = (struct np_xid){ .pid = -1 };
	const char *s = msg;
	uint64_t code;
	if (np_startswith(s, "NVRM: Xid ")) {
		s += strlen("NVRM: Xid ");
	} else if (np_startswith(s, "nvidia-nvswitch")) {
		const char *c = strstr(s, ": SXid ");
		size_t n = c ? (size_t)(c - s) : 0;
		if (!c || n >= sizeof(x->nvswitch) || strspn(s + 15, "0123456789") != n - 15)
			return -EINVAL;
		memcpy(x->nvswitch, s, n);
		x->nvswitch[n] = '\0';
		x->sxid = true;
		s = c + strlen(": SXid ");
	} else {
		return -EINVAL;
	}
	if (pci_of(&s, x->pci, sizeof(x->pci)) < 0 || !np_startswith(s, ": "))
		return -EINVAL;
	s += 2;
	if (number(&s, 65535, &code) < 0)
		return -EINVAL;
	x->code = (unsigned)code;
	if (*s == ',')
		s++;
	else if (*s)
		return -EINVAL;
	s += strspn(s, " ");
	if (x->sxid) {
		x->fatal = np_startswith(s, "Fatal");
		x->severity = x->fatal || np_startswith(s, "Non-fatal");
	} else if (pid_name(&s, x) < 0) {
		return -EINVAL;
	}
	x->text = s;
	return 0;
}

unsigned np_nvrm_driver_branch(const char *msg)
{
	if (!np_startswith(msg, "NVRM: loading NVIDIA UNIX "))
		return 0;
	const char *s = strstr(msg, "Kernel Module ");
	if (!s)
		return 0;
	s += strlen("Kernel Module ");
	s += strspn(s, " ");
	if (np_startswith(s, "for ")) { /* the open module: "Open Kernel Module for x86_64  570.195.03" */
		s += 4;
		s += strcspn(s, " ");
		s += strspn(s, " ");
	}
	uint64_t v;
	if (number(&s, 9999, &v) < 0 || *s != '.')
		return 0;
	return (unsigned)v;
}
