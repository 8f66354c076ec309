// SPDX-License-Identifier: Apache-2.0
/*
 * NVIDIA Xid / NVSwitch SXid / amdgpu reset lines: the parser, the class table
 * and the kmsg section's aggregation, on real lines from public reports (each
 * cited where it is used), and an 800K-line flood (NVSentinel #1120: one node
 * logged 800K Xid lines) that must stay one series per (device, code).
 */
#define _GNU_SOURCE
#include "testutil.h"
#include "../../pkg/collect/gpu_xid.h"
#include "../../pkg/collect/kmsg.h"
#include "../../pkg/agent/metrics.h"
#include "../../pkg/policy/desired.h"
#include "../../pkg/shared/macro.h"
#include "../../pkg/shared/strutil.h"

#include <time.h>

/* NVIDIA/open-gpu-kernel-modules issue #1151 (RTX 5080, 2026-05): Xid 79 with no pid (this driver prints none) */
#define L79_1151 "NVRM: Xid (PCI:0000:2b:00): 79, GPU has fallen off the bus."
/* gist ZackMattor/34b6e600e6dc6a1a2b5cb3fc91a0d438 (2021): Xid 79 with pid=0 */
#define L79_PID0 "NVRM: Xid (PCI:0000:10:00): 79, pid=0, GPU has fallen off the bus."
/* madMAx43v3r/chia-gigahorse issue #301 (2024): Xid 31 with pid/name, 62 and 45 with pid='<unknown>' */
#define L31_CHIA                                                                                                   \
	"NVRM: Xid (PCI:0000:0a:00): 31, pid=13332, name=cuda_plot_k32_v, Ch 00000010, intr 00000000. MMU Fault: "  \
	"ENGINE CE2 HUBCLIENT_CE0 faulted @ 0x7f29_5b8c9000. Fault is of type FAULT_PRIV_VIOLATION "                 \
	"ACCESS_TYPE_VIRT_READ"
#define L62_CHIA                                                                                                   \
	"NVRM: Xid (PCI:0000:0a:00): 62, pid='<unknown>', name=<unknown>, 2023b230 20238a3a 2023e8b6 2023eac4 "     \
	"2023ec3c 2023ea86 00000000 00000000"
#define L45_CHIA_8 "NVRM: Xid (PCI:0000:0a:00): 45, pid='<unknown>', name=<unknown>, Ch 00000008"
#define L45_CHIA_9 "NVRM: Xid (PCI:0000:0a:00): 45, pid='<unknown>', name=<unknown>, Ch 00000009"
/* NVIDIA/open-gpu-kernel-modules issue #1150 (590.48.01, 2026-05): Xid 45 after NVLink5 Xid 149/145 */
#define L45_1150 "NVRM: Xid (PCI:0000:dc:00): 45, pid=1818990, name=python3, Ch 00000001 caused by previous Xid 149"
/* pastebin.com/xJaypMZt: an old driver's form without "PCI:" */
#define L3_OLD "NVRM: Xid (0000:01:00): 3, C 00000005 SC 00000007 M 00001ffc Data ffffffff"
/* stas00/ml-engineering compute/accelerator/nvidia/debug.md: Xid 63 row remapper */
#define L63_STAS "NVRM: Xid (PCI:0000:10:1c): 63, pid=1896, Row Remapper: New row marked for remapping, reset gpu to activate."
/* leptonai/gpud PR #1160 (2025-12): NVLink5 Xid 149 */
#define L149_GPUD                                                                                                 \
	"NVRM: Xid (PCI:0000:00:00): 149, NETIR_LINK_EVT Fatal XC0 i0 Link 00 (0x025001c6 0x00000000 0x00000000 "  \
	"0x00000000 0x00000000 0x00000000)"
/* canonical/tdx issue #414 (570.195.03, 2025): the load line and a Non-fatal SXid with its companion lines */
#define LOAD_570                                                                                                  \
	"NVRM: loading NVIDIA UNIX Open Kernel Module for x86_64  570.195.03  Release Build  "                      \
	"(dvs-builder@U22-I3-H04-03-1)  Sat Sep 20 00:47:16 UTC 2025"
#define SX_NONFATAL "nvidia-nvswitch3: SXid (PCI:0000:04:00.0): 22013, Non-fatal, Link 44 Minion Link DLREQ interrupt"
#define SX_SEVERITY "nvidia-nvswitch3: SXid (PCI:0000:04:00.0): 22013, Severity 0 Engine instance 44 Sub-engine instance 00"
#define SX_DATA                                                                                                   \
	"nvidia-nvswitch3: SXid (PCI:0000:04:00.0): 22013, Data {0x0000002c, 0x0000002c, 0x00000000, 0x0000002c, " \
	"0x80005302, 0x00000000, 0x00000000, 0x00000000, 0x00000000}"
/* flashinfer-ai/flashinfer issue #3869: the load line of a 580 driver */
#define LOAD_580 "NVRM: loading NVIDIA UNIX Open Kernel Module for x86_64 580.82.07  (after host reboot)"

static void test_parse_real_lines(void **state)
{
	(void)state;
	struct np_xid x;
	assert_int_equal(np_xid_parse(L79_1151, &x), 0);
	assert_false(x.sxid);
	assert_string_equal(x.pci, "0000:2b:00");
	assert_int_equal(x.code, 79);
	assert_int_equal(x.pid, -1);
	assert_string_equal(x.name, "");
	assert_string_equal(x.text, "GPU has fallen off the bus.");

	assert_int_equal(np_xid_parse(L79_PID0, &x), 0);
	assert_int_equal(x.pid, 0);
	assert_string_equal(x.text, "GPU has fallen off the bus.");

	assert_int_equal(np_xid_parse(L31_CHIA, &x), 0);
	assert_int_equal(x.code, 31);
	assert_int_equal(x.pid, 13332);
	assert_string_equal(x.name, "cuda_plot_k32_v");
	assert_true(np_startswith(x.text, "Ch 00000010, intr 00000000. MMU Fault"));

	assert_int_equal(np_xid_parse(L62_CHIA, &x), 0);
	assert_int_equal(x.code, 62);
	assert_int_equal(x.pid, -1);
	assert_string_equal(x.name, "");
	assert_true(np_startswith(x.text, "2023b230 "));

	assert_int_equal(np_xid_parse(L3_OLD, &x), 0);
	assert_string_equal(x.pci, "0000:01:00");
	assert_int_equal(x.code, 3);

	assert_int_equal(np_xid_parse(SX_NONFATAL, &x), 0);
	assert_true(x.sxid);
	assert_string_equal(x.nvswitch, "nvidia-nvswitch3");
	assert_string_equal(x.pci, "0000:04:00.0");
	assert_int_equal(x.code, 22013);
	assert_true(x.severity);
	assert_false(x.fatal);
	assert_int_equal(np_xid_parse(SX_DATA, &x), 0);
	assert_false(x.severity);

	/* not Xid lines, or broken ones */
	assert_int_equal(np_xid_parse("NVRM: GPU at PCI:0000:2b:00: GPU-0b11d014-1685-04bd-26ed-5fc0bc1c44ae", &x), -EINVAL);
	assert_int_equal(np_xid_parse("NVRM: Xid (PCI:0000:2b:00): , GPU has fallen off the bus.", &x), -EINVAL);
	assert_int_equal(np_xid_parse("NVRM: Xid (PCI:0000:2b:00): 99999999999, x", &x), -EINVAL);
	assert_int_equal(np_xid_parse("NVRM: Xid (PCI:0000:2b:00", &x), -EINVAL);
	assert_int_equal(np_xid_parse("NVRM: Xid (PCI:0000:2b:00): 79, pid=abc, x", &x), -EINVAL);
	assert_int_equal(np_xid_parse("nvidia-nvswitchX: SXid (PCI:0000:04:00.0): 1, Fatal", &x), -EINVAL);
}

static void test_driver_branch(void **state)
{
	(void)state;
	assert_int_equal(np_nvrm_driver_branch(LOAD_570), 570);
	assert_int_equal(np_nvrm_driver_branch(LOAD_580), 580);
	/* the closed module's form (NVIDIA driver README "NVRM: loading NVIDIA UNIX x86_64 Kernel Module  535...") */
	assert_int_equal(np_nvrm_driver_branch("NVRM: loading NVIDIA UNIX x86_64 Kernel Module  535.104.05  Sat Aug 19 01:15:15 UTC 2023"), 535);
	assert_int_equal(np_nvrm_driver_branch(L79_1151), 0);
	assert_int_equal(np_nvrm_driver_branch("NVRM: loading NVIDIA UNIX x86_64 Kernel Module  abc"), 0);
}

static enum np_gpu_class cls(const char *line, unsigned branch)
{
	struct np_xid x;
	assert_int_equal(np_xid_parse(line, &x), 0);
	const char *origin = NULL;
	enum np_gpu_class c = np_xid_class(&x, branch, &origin);
	if (c != NP_GPU_CLASS_UNCLASSIFIED)
		assert_non_null(origin);
	return c;
}

static void test_classes(void **state)
{
	(void)state;
	assert_int_equal(cls(L79_1151, 0), NP_GPU_CLASS_REBOOT);       /* RESTART_BM */
	assert_int_equal(cls(L31_CHIA, 0), NP_GPU_CLASS_APPLICATION);  /* RESTART_APP */
	assert_int_equal(cls(L62_CHIA, 0), NP_GPU_CLASS_RESET);        /* RESET_GPU */
	assert_int_equal(cls(L45_CHIA_8, 0), NP_GPU_CLASS_APPLICATION); /* #1710: 45 is never a node problem */
	assert_int_equal(cls(L63_STAS, 0), NP_GPU_CLASS_APPLICATION);  /* IGNORE */
	assert_int_equal(cls(L3_OLD, 0), NP_GPU_CLASS_UNCLASSIFIED);   /* "Unused" on Ampere+ */
	/* NVLink5: the branch decides (NVSentinel #748) */
	assert_int_equal(cls(L149_GPUD, 570), NP_GPU_CLASS_HARDWARE);
	assert_int_equal(cls(L149_GPUD, 580), NP_GPU_CLASS_UNCLASSIFIED);
	assert_int_equal(cls(L149_GPUD, 0), NP_GPU_CLASS_UNCLASSIFIED);
	/* Xid 154 carries the action (NVML nvmlDeviceGpuRecoveryAction_t names; open-gpu-kernel-modules #1134 title) */
	assert_int_equal(cls("NVRM: Xid (PCI:0000:01:00): 154, GPU recovery action changed from 0x0 (None) to 0x2 (Node Reboot Required)", 595),
			 NP_GPU_CLASS_REBOOT);
	assert_int_equal(cls("NVRM: Xid (PCI:0000:01:00): 154, GPU recovery action changed from 0x0 (None) to 0x1 (GPU Reset Required)", 595),
			 NP_GPU_CLASS_RESET);
	assert_int_equal(cls(SX_NONFATAL, 0), NP_GPU_CLASS_APPLICATION);
	/* gpud PR #338's 12028 carries "Fatal" in its severity line (egress non-posted PRIV error: RESET_FABRIC) */
	assert_int_equal(cls("nvidia-nvswitch1: SXid (PCI:0000:84:00.0): 12028, Fatal, Link 32 egress non-posted PRIV error", 0),
			 NP_GPU_CLASS_RESET);
	/* every row has a source and a sane range */
	for (size_t i = 0; i < np_xid_rows_count(); i++) {
		bool sx;
		unsigned lo, hi, mn, mx;
		enum np_gpu_class c;
		const char *o;
		assert_int_equal(np_xid_row_info(i, &sx, &lo, &hi, &mn, &mx, &c, &o), 0);
		assert_true(lo <= hi);
		assert_true(o && strlen(o) > 10);
		assert_true(c > NP_GPU_CLASS_NONE && c < NP_GPU_CLASS_MAX);
	}
	assert_int_equal(np_xid_row_info(np_xid_rows_count(), NULL, NULL, NULL, NULL, NULL, NULL, NULL), -ERANGE);
}

static int add(struct np_kmsg *s, uint64_t seq, const char *msg)
{
	struct np_kmsg_record rec = { .seq = seq, .ts_us = seq * 10, .level = 3, .message = (char *)msg };
	return np_kmsg_add_record(s, &rec, 0, NULL);
}

static const struct np_kmsg_event *find(const struct np_kmsg *s, enum np_kmsg_kind k, const char *dev, int code)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->events[i].kind == k && s->events[i].gpu_code == code && streq(s->events[i].device, dev))
			return &s->events[i];
	return NULL;
}

static void test_section_series(void **state)
{
	(void)state;
	struct np_kmsg s = { .max_events = 256 };
	assert_int_equal(add(&s, 1, LOAD_570), 0);
	assert_int_equal(s.nvidia_branch, 570);
	assert_int_equal(add(&s, 2, L31_CHIA), 1);
	assert_int_equal(add(&s, 3, L62_CHIA), 1);
	assert_int_equal(add(&s, 4, L45_CHIA_8), 1);
	assert_int_equal(add(&s, 5, L45_CHIA_9), 1); /* another channel: the same series */
	assert_int_equal(add(&s, 6, SX_NONFATAL), 1);
	assert_int_equal(add(&s, 7, SX_SEVERITY), 0); /* companion lines: no occurrence of their own */
	assert_int_equal(add(&s, 8, SX_DATA), 0);
	assert_int_equal(add(&s, 9, L149_GPUD), 1);
	assert_int_equal(s.n, 5);
	const struct np_kmsg_event *e = find(&s, NP_KMSG_GPU_XID, "0000:0a:00", 45);
	assert_non_null(e);
	assert_int_equal(e->count, 2);
	assert_int_equal(e->gpu_class, NP_GPU_CLASS_APPLICATION);
	e = find(&s, NP_KMSG_GPU_XID, "0000:0a:00", 31);
	assert_non_null(e);
	assert_int_equal(e->gpu_pid, 13332);
	assert_string_equal(e->gpu_process, "cuda_plot_k32_v");
	e = find(&s, NP_KMSG_GPU_SXID, "0000:04:00.0", 22013);
	assert_non_null(e);
	assert_int_equal(e->count, 1);
	e = find(&s, NP_KMSG_GPU_XID, "0000:00:00", 149);
	assert_non_null(e);
	assert_int_equal(e->gpu_class, NP_GPU_CLASS_HARDWARE); /* read under 570 */
	assert_int_equal(e->driver_branch, 570);
	/* the JSON names device, code, class and branch */
	json_t *j = np_kmsg_to_json(&s);
	assert_int_equal(json_integer_value(json_object_get(j, "nvidia_driver_branch")), 570);
	json_t *last = json_array_get(json_object_get(j, "events"), 4);
	json_t *g = json_object_get(last, "gpu");
	assert_int_equal(json_integer_value(json_object_get(g, "code")), 149);
	assert_string_equal(json_string_value(json_object_get(g, "class")), "hardware");
	assert_string_equal(json_string_value(json_object_get(last, "device")), "0000:00:00");
	json_decref(j);
	/* a later 580 load line: the same code is read under the new branch (a new series only by code) */
	assert_int_equal(add(&s, 10, LOAD_580), 0);
	assert_int_equal(s.nvidia_branch, 580);
	np_kmsg_free(&s);

	/* amdgpu: amdgpu_device.c "GPU reset(%d) failed" / "succeeded!" through dev_info with the "amdgpu: " dev_fmt */
	struct np_kmsg a = { .max_events = 8 };
	assert_int_equal(add(&a, 1, "amdgpu 0000:03:00.0: amdgpu: GPU reset(2) succeeded!"), 1);
	assert_int_equal(add(&a, 2, "amdgpu 0000:03:00.0: amdgpu: GPU reset(3) failed"), 1);
	assert_int_equal(add(&a, 3, "amdgpu 0000:03:00.0: GPU reset(4) failed"), 1);
	assert_int_equal(a.n, 2);
	e = find(&a, NP_KMSG_GPU_RESET, "0000:03:00.0", 1);
	assert_non_null(e);
	assert_int_equal(e->count, 2);
	assert_int_equal(e->gpu_class, NP_GPU_CLASS_REBOOT);
	np_kmsg_free(&a);
}

static const struct np_condition *cond(const struct np_desired *d, const char *type)
{
	for (size_t i = 0; i < d->n_conditions; i++)
		if (streq(d->conditions[i].type, type))
			return &d->conditions[i];
	return NULL;
}

/*
 * The default policy: a node-reboot series (Xid 79, issue #1151's line) is gpu-fault with a NoSchedule
 * taint and AcceleratorsHealthy False / NodeRebootRequired; a gpu-reset series (Xid 62) is
 * gpu-reset-required without a taint; 672 application-class Xid 45 lines (NVSentinel #1710) are nothing.
 */
static void test_default_policy(void **state)
{
	(void)state;
	struct np_policy p;
	assert_int_equal(np_policy_default(&p), 0);
	struct np_report r = { 0 };
	r.kmsg.max_events = 256;
	for (unsigned i = 0; i < 672; i++)
		assert_int_equal(add(&r.kmsg, 100 + i, i % 2 ? L45_CHIA_8 : L45_CHIA_9), 1);
	struct np_desired d;
	assert_int_equal(np_policy_evaluate(&p, &r, NULL, NULL, &d), 0);
	for (size_t i = 0; i < d.n_findings; i++)
		assert_false(np_startswith(d.findings[i].id, "gpu-"));
	const struct np_condition *c = cond(&d, "AcceleratorsHealthy");
	assert_non_null(c);
	assert_string_equal(c->status, "True");
	np_desired_free(&d);

	assert_int_equal(add(&r.kmsg, 1000, L79_1151), 1);
	assert_int_equal(add(&r.kmsg, 1001, L79_1151), 1);
	assert_int_equal(add(&r.kmsg, 1002, L62_CHIA), 1);
	assert_int_equal(np_policy_evaluate(&p, &r, NULL, NULL, &d), 0);
	size_t fault = 0, reset = 0;
	for (size_t i = 0; i < d.n_findings; i++) {
		const struct np_finding *f = &d.findings[i];
		if (streq(f->id, "gpu-fault")) {
			fault++;
			assert_string_equal(f->subject, "0000:2b:00");
			assert_string_equal(f->reason, "NodeRebootRequired");
			assert_non_null(strstr(f->message, "GPU 0000:2b:00: Xid 79, class node-reboot"));
			assert_non_null(strstr(f->message, "RESTART_BM"));
			assert_non_null(strstr(f->message, "2 times"));
		} else if (streq(f->id, "gpu-reset-required")) {
			reset++;
			assert_string_equal(f->subject, "0000:0a:00");
			assert_string_equal(f->reason, "GPUResetRequired");
		}
	}
	assert_int_equal(fault, 1);
	assert_int_equal(reset, 1);
	c = cond(&d, "AcceleratorsHealthy");
	assert_non_null(c);
	assert_string_equal(c->status, "False");
	assert_string_equal(c->reason, "NodeRebootRequired");
	size_t taints = 0;
	for (size_t i = 0; i < d.n_taints; i++)
		if (strstr(d.taints[i].key, "/gpu-")) {
			taints++;
			assert_string_equal(d.taints[i].key, "nodeprint.io/gpu-fault");
			assert_string_equal(d.taints[i].effect, "NoSchedule");
		}
	assert_int_equal(taints, 1);
	size_t ev = 0;
	for (size_t i = 0; i < d.n_events; i++)
		if (streq(d.events[i].reason, "GPUFault") || streq(d.events[i].reason, "GPUResetRequired")) {
			ev++;
			assert_string_equal(d.events[i].type, "Warning");
			assert_non_null(strstr(d.events[i].message, "Xid"));
		}
	assert_int_equal(ev, 2);

	/* the metric: one series per (device, code, class) with the true count */
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_int_equal(np_metrics_render(f, &r, &d, NULL), 0);
	fclose(f);
	assert_non_null(strstr(buf, "nodeprint_gpu_xid_total{device=\"0000:2b:00\",code=\"79\",class=\"node-reboot\"} 2\n"));
	assert_non_null(strstr(buf, "nodeprint_gpu_xid_total{device=\"0000:0a:00\",code=\"45\",class=\"application\"} 672\n"));
	assert_non_null(strstr(buf, "nodeprint_gpu_xid_total{device=\"0000:0a:00\",code=\"62\",class=\"gpu-reset\"} 1\n"));
	free(buf);
	np_desired_free(&d);
	np_report_free(&r);
	np_policy_free(&p);
}

/* 800K lines, 29 distinct (device, code) series with a pid and channel that change every line */
static void test_flood(void **state)
{
	(void)state;
	static const char *const devs[] = { "0000:97:00", "0000:ba:00", "0000:dc:00", "0000:ed:00" };
	static const unsigned codes[] = { 13, 31, 43, 45, 48, 63, 64, 74 };
	struct np_kmsg s = { .max_events = 256 };
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	uint64_t want[4][8] = { { 0 } };
	const size_t N = 800000;
	char line[256];
	size_t series = 0;
	for (size_t i = 0; i < N; i++) {
		size_t d = i % 4, c = (i / 4) % 8;
		if (d == 3 && c >= 5)
			c = 4; /* 4 x 8 - 3 = 29 distinct series */
		snprintf(line, sizeof(line), "NVRM: Xid (PCI:%s): %u, pid=%zu, name=python3, Ch %08zx caused by previous Xid 149",
			 devs[d], codes[c], 1818000 + i % 977, i % 64);
		if (!want[d][c]++)
			series++;
		assert_int_equal(add(&s, i + 1, line), 1);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	print_message("# flood: %zu lines, %zu series, %.2f s\n", N, s.n, secs);
	assert_int_equal(series, 29);
	assert_int_equal(s.n, 29);
	assert_int_equal(s.matched, N);
	uint64_t total = 0;
	for (size_t d = 0; d < 4; d++)
		for (size_t c = 0; c < 8; c++) {
			if (!want[d][c])
				continue;
			const struct np_kmsg_event *e = find(&s, NP_KMSG_GPU_XID, devs[d], (int)codes[c]);
			assert_non_null(e);
			assert_int_equal(e->count, want[d][c]);
			total += e->count;
		}
	assert_int_equal(total, N);
	np_kmsg_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_real_lines),
		cmocka_unit_test(test_driver_branch),
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_section_series),
		cmocka_unit_test(test_default_policy),
		cmocka_unit_test(test_flood),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
