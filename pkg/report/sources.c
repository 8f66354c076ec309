// SPDX-License-Identifier: Apache-2.0
/* sources.c - which inputs of a report could be read (blind is never healthy). */
#define _GNU_SOURCE
#include "sources.h"
#include "json.h"
#include "report.h"
#include "../shared/macro.h"

#include <errno.h>
#include <string.h>

static const struct {
	const char *name, *what, *reason;
} source_info[NP_SRC__N] = {
	[NP_SRC_KMSG] = { "kmsg", "the kernel log", "KernelLogUnreadable" },
	[NP_SRC_NVME] = { "nvme", "NVMe SMART/health", "NVMeUnreadable" },
	[NP_SRC_MULTIPATH] = { "multipath", "multipath tables", "MultipathTableUnreadable" },
	[NP_SRC_PCI] = { "pci", "PCIe links and AER counters", "PCIeUnreadable" },
	[NP_SRC_BLOCK] = { "block", "block I/O counters", "BlockStatsUnreadable" },
	[NP_SRC_NET] = { "net", "NICs", "NetUnreadable" },
	[NP_SRC_VOLUMES] = { "volumes", "CSI volumes", "VolumesUnreadable" },
	[NP_SRC_MOUNTS] = { "mounts", "the mount table", "MountsUnreadable" },
	[NP_SRC_KERNEL] = { "kernel", "kernel, OS and DMI facts", "KernelInfoUnreadable" },
	[NP_SRC_MODULES] = { "modules", "kernel modules", "ModulesUnreadable" },
	[NP_SRC_TIMEOUTS] = { "timeouts", "storage timeouts", "TimeoutsUnreadable" },
	[NP_SRC_NUMA] = { "numa", "NUMA nodes and IRQ affinity", "NUMAUnreadable" },
	[NP_SRC_GPU] = { "gpu", "GPUs on the PCI bus", "GPUUnreadable" },
};

static bool denied(int err)
{
	return err == EPERM || err == EACCES;
}

/* The first failure wins: it names the root cause. */
static void down(struct np_source *s, const struct np_status *st)
{
	if (!s->up)
		return;
	s->up = false;
	s->err = st->err ? st->err : EIO;
	s->detail = st->error;
}

static void item_down(struct np_source *s, const char *item, const struct np_status *st, int err_if_none,
		      const char *why)
{
	struct np_status fallback = { .err = err_if_none, .error = (char *)why };
	if (s->up)
		s->item = item;
	down(s, st->err ? st : &fallback);
	s->failed++;
}

static void judge_nvme(const struct np_nvme *n, struct np_source *s)
{
	if (n->status.err)
		down(s, &n->status);
	for (size_t i = 0; i < n->n_controllers; i++) {
		const struct np_nvme_ctrl *c = &n->controllers[i];
		if (c->smart_skipped)
			continue; /* the agent keeps the page read at the last due time */
		if (!c->smart.present)
			item_down(s, c->name, &c->status, EIO, "no SMART / health page");
		else if (!c->smart.plausible)
			item_down(s, c->name, &c->status, EIO, "SMART / health page is all zeros (a failed read)");
	}
	if (!s->up)
		s->reason = denied(s->err) ? "NVMeAdminDenied" : source_info[NP_SRC_NVME].reason;
}

static void judge_multipath(const struct np_multipath *m, struct np_source *s)
{
	if (m->status.err)
		down(s, &m->status);
	for (size_t i = 0; i < m->n_maps; i++)
		if (m->maps[i].status.err)
			item_down(s, m->maps[i].name ? m->maps[i].name : m->maps[i].dm, &m->maps[i].status, 0, NULL);
}

static void judge_pci(const struct np_pci *p, struct np_source *s)
{
	if (p->status.err)
		down(s, &p->status);
	for (size_t i = 0; i < p->n; i++)
		if (p->devices[i].status.err)
			item_down(s, p->devices[i].address, &p->devices[i].status, 0, NULL);
}

static void judge_timeouts(const struct np_timeouts *t, struct np_source *s)
{
	if (t->status.err)
		down(s, &t->status);
	for (size_t i = 0; i < t->n_devs; i++)
		if (t->devs[i].status.err)
			item_down(s, t->devs[i].name, &t->devs[i].status, 0, NULL);
}

static void judge_numa(const struct np_numa *n, struct np_source *s)
{
	if (n->status.err)
		down(s, &n->status);
	for (size_t i = 0; i < n->n_devs; i++)
		if (n->devs[i].status.err)
			item_down(s, n->devs[i].name, &n->devs[i].status, 0, NULL);
}

/* A few records that did not parse among many that did is not blindness; none parsed is. */
static void judge_kmsg(const struct np_kmsg *k, struct np_source *s)
{
	if (k->status.err && !(k->status.err == EINVAL && k->records_read > k->bad_records))
		down(s, &k->status);
}

unsigned np_report_sources(const struct np_report *r, struct np_source out[NP_SRC__N])
{
	for (size_t i = 0; i < NP_SRC__N; i++)
		out[i] = (struct np_source){ .name = source_info[i].name, .what = source_info[i].what, .up = true };
	judge_kmsg(&r->kmsg, &out[NP_SRC_KMSG]);
	judge_nvme(&r->nvme, &out[NP_SRC_NVME]);
	judge_multipath(&r->multipath, &out[NP_SRC_MULTIPATH]);
	judge_pci(&r->pci, &out[NP_SRC_PCI]);
	judge_timeouts(&r->timeouts, &out[NP_SRC_TIMEOUTS]);
	judge_numa(&r->numa, &out[NP_SRC_NUMA]);
	const struct np_status *whole[NP_SRC__N] = {
		[NP_SRC_BLOCK] = &r->block.status,     [NP_SRC_NET] = &r->net.status,
		[NP_SRC_VOLUMES] = &r->volumes.status, [NP_SRC_MOUNTS] = &r->mounts.status,
		[NP_SRC_KERNEL] = &r->kernel.status,   [NP_SRC_MODULES] = &r->modules.status,
		[NP_SRC_GPU] = &r->gpu.status,
	};
	unsigned n_down = 0;
	for (size_t i = 0; i < NP_SRC__N; i++) {
		if (whole[i] && whole[i]->err)
			down(&out[i], whole[i]);
		if (!out[i].up && !out[i].reason)
			out[i].reason = source_info[i].reason;
		n_down += !out[i].up;
	}
	return n_down;
}

json_t *np_sources_to_json(const struct np_source s[NP_SRC__N])
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < NP_SRC__N; i++) {
		json_t *o = json_object();
		np_json_str(o, "source", s[i].name);
		json_object_set_new(o, "up", json_boolean(s[i].up));
		if (!s[i].up) {
			const char *name = strerrorname_np(s[i].err);
			np_json_str(o, "reason", s[i].reason);
			np_json_str(o, "errno", name ? name : "EIO");
			np_json_str(o, "error", s[i].detail ? s[i].detail : np_errno_reason(s[i].err));
			np_json_str(o, "item", s[i].item);
			json_object_set_new(o, "failed", json_integer(s[i].failed));
		}
		json_array_append_new(a, o);
	}
	return a;
}

void np_sources_print(const struct np_source s[NP_SRC__N], struct np_out *o)
{
	unsigned n_down = 0;
	for (size_t i = 0; i < NP_SRC__N; i++)
		n_down += !s[i].up;
	if (!n_down)
		return;
	np_out_heading(o, "BLIND: what nodeprint cannot see (its checks are Unknown, not healthy)");
	for (size_t i = 0; i < NP_SRC__N; i++) {
		if (s[i].up)
			continue;
		const char *name = strerrorname_np(s[i].err);
		_cleanup_free_ char *msg = NULL;
		if (asprintf(&msg, "%s: %s: %s%s%s (%s)%s", s[i].reason, s[i].what, s[i].item ? s[i].item : "",
			     s[i].item ? ": " : "", s[i].detail ? s[i].detail : np_errno_reason(s[i].err),
			     name ? name : "EIO", s[i].failed > 1 ? ", and more" : "") < 0)
			msg = NULL;
		np_out_error(o, msg ? msg : s[i].reason);
	}
}
