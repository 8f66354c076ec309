// SPDX-License-Identifier: Apache-2.0
/* health_gpu.c - GPU faults, missing GPUs and uncorrectable errors: findings under health.gpu (health.h). */
#define _GNU_SOURCE
#include "health_gpu.h"
#include "record.h"
#include "vocab.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <string.h>

static const char *gpu_line_kind(enum np_kmsg_kind k)
{
	return k == NP_KMSG_GPU_SXID ? "SXid" : k == NP_KMSG_GPU_RESET ? "amdgpu reset" : "Xid";
}

/*
 * A GPU kernel-log series (one per device and code, pkg/collect/gpu_xid.c) whose class asks more of
 * the node than restarting an application: node-reboot and hardware -> gpu-fault, gpu-reset ->
 * gpu-reset-required. Application and unclassified series are never a node problem by themselves.
 */
static int findings_gpu(const struct np_kmsg *km, struct np_desired *d)
{
	int r = 0;
	for (size_t i = 0; r >= 0 && i < km->n; i++) {
		const struct np_kmsg_event *e = &km->events[i];
		const char *id = NULL, *reason = NULL;
		if (e->gpu_class == NP_GPU_CLASS_REBOOT || e->gpu_class == NP_GPU_CLASS_HARDWARE) {
			id = NP_FINDING_GPU_FAULT;
			reason = e->gpu_class == NP_GPU_CLASS_REBOOT ? NP_REASON_NODE_REBOOT_REQUIRED
								       : NP_REASON_GPU_HARDWARE_FAULT;
		} else if (e->gpu_class == NP_GPU_CLASS_RESET) {
			id = NP_FINDING_GPU_RESET_REQUIRED;
			reason = NP_REASON_GPU_RESET_REQUIRED;
		}
		if (!id || !e->device)
			continue;
		char branch[32] = "";
		if (e->driver_branch)
			snprintf(branch, sizeof(branch), ", driver R%u", e->driver_branch);
		r = np_desired_add_finding(d, id, e->device, reason, "GPU %s: %s %d, class %s (%s%s), %llu time%s; first: %.160s",
					   e->device, gpu_line_kind(e->kind), e->gpu_code, np_gpu_class_name(e->gpu_class),
					   e->gpu_origin ? e->gpu_origin : "?", branch, (unsigned long long)e->count,
					   e->count == 1 ? "" : "s", e->message ? e->message : "");
	}
	return r;
}

/*
 * A GPU that stopped answering (config space all ones) is a finding by itself; a class that expects
 * N GPUs and finds fewer answering on the PCI bus is one even with no Xid. N is the class's
 * expect.gpus; without it (and with health.gpu.expectFromPeers) the largest gpu.count label of the
 * class's other Nodes, which the agent lists (@node->peer_gpus for class @node->peer_class).
 */
static int findings_gpu_missing(const struct np_health_gpu *h, const struct np_class *cls,
				const struct np_node_facts *node, const struct np_gpu *g, struct np_desired *d)
{
	int r = 0;
	unsigned answering = 0;
	for (size_t i = 0; r >= 0 && i < g->n; i++) {
		if (g->devs[i].config_dead <= 0) {
			answering++;
			continue;
		}
		r = np_desired_add_finding(d, NP_FINDING_GPU_MISSING, g->devs[i].address, NP_REASON_GPU_NOT_RESPONDING,
					   "GPU %s (%04x:%04x%s%s): its PCI config space reads all ones: the device stopped "
					   "answering (fell off the bus)",
					   g->devs[i].address, g->devs[i].vendor_id, g->devs[i].device_id,
					   g->devs[i].driver ? ", driver " : "", g->devs[i].driver ? g->devs[i].driver : "");
	}
	if (r >= 0 && cls && cls->expect_gpus >= 0 && answering < (unsigned)cls->expect_gpus)
		r = np_desired_add_finding(d, NP_FINDING_GPU_MISSING, "gpus", NP_REASON_GPU_MISSING,
					   "class %s expects %d GPUs (pinned in the policy: expect.gpus); %u answer on the "
					   "PCI bus (%zu listed)",
					   cls->name, cls->expect_gpus, answering, g->n);
	else if (r >= 0 && cls && cls->expect_gpus < 0 && h->expect_from_peers && node && node->peer_gpus &&
		 node->peer_class && streq(node->peer_class, cls->name) && answering < node->peer_gpus)
		r = np_desired_add_finding(d, NP_FINDING_GPU_MISSING, "gpus", NP_REASON_GPU_MISSING,
					   "class %s expects %u GPUs (from peers of class %s: Node %s carries %u, label "
					   "gpu.count; health.gpu.expectFromPeers); %u answer on the PCI bus (%zu listed)",
					   cls->name, node->peer_gpus, cls->name,
					   node->peer_gpus_node ? node->peer_gpus_node : "?", node->peer_gpus, answering, g->n);
	return r;
}

/*
 * A GPU whose driver counts more uncorrectable errors than health.gpu.uncorrectableMax since it
 * loaded: amdgpu RAS blocks' "ue" (the blocks named), NVML's volatile uncorrected ECC count.
 */
static int findings_gpu_uncorrectable(const struct np_health_gpu *h, const struct np_gpu *g, struct np_desired *d)
{
	int r = 0;
	for (size_t i = 0; r >= 0 && h->uncorrectable_max >= 0 && i < g->n; i++) {
		const struct np_gpu_dev *dev = &g->devs[i];
		int64_t n = np_gpu_uncorrectable(dev);
		if (n <= h->uncorrectable_max)
			continue;
		char blocks[160] = "";
		size_t off = 0;
		for (size_t j = 0; j < dev->n_ras && off < sizeof(blocks); j++)
			if (dev->ras[j].ue > 0)
				off += (size_t)snprintf(blocks + off, sizeof(blocks) - off, "%s%s %lld", off ? ", " : "",
							dev->ras[j].block, (long long)dev->ras[j].ue);
		if (dev->nvml.read && dev->nvml.ecc_volatile_uncorrected > 0 && off < sizeof(blocks))
			snprintf(blocks + off, sizeof(blocks) - off, "%sECC volatile %lld", off ? ", " : "",
				 (long long)dev->nvml.ecc_volatile_uncorrected);
		r = np_desired_add_finding(d, NP_FINDING_GPU_UNCORRECTABLE, dev->address, NP_REASON_GPU_UNCORRECTABLE,
					   "GPU %s (%04x:%04x%s%s): %lld uncorrectable errors since the driver loaded (%s), "
					   "over health.gpu.uncorrectableMax %d",
					   dev->address, dev->vendor_id, dev->device_id, dev->model ? ", " : "",
					   dev->model ? dev->model : "", (long long)n, blocks, h->uncorrectable_max);
	}
	return r;
}

/* The kernel log's GPU series always; the GPUs themselves only when the gpu section was read. */
static int judge_gpu(const struct np_health_gpu *h, const struct np_health_in *in, struct np_desired *d)
{
	int r = findings_gpu(&in->r->kmsg, d);
	if (r >= 0 && np_report_read(in->r, "gpu"))
		r = findings_gpu_missing(h, in->cls, in->node, &in->r->gpu, d);
	if (r >= 0 && np_report_read(in->r, "gpu"))
		r = findings_gpu_uncorrectable(h, &in->r->gpu, d);
	return r;
}

static const struct np_field fields[] = {
	NP_FIELD_INT("uncorrectableMax", struct np_health_gpu, uncorrectable_max, -1, 1000000000),
	NP_FIELD_BOOL("expectFromPeers", struct np_health_gpu, expect_from_peers),
	NP_FIELD_NUM("peersRefreshSeconds", struct np_health_gpu, peers_refresh_seconds, 10, 86400),
	{},
};

NP_HEALTH(gpu, 90, judge_gpu, fields,
	"uncorrectableMax: 0\n"
	"expectFromPeers: true\n"
	"peersRefreshSeconds: 300\n");
