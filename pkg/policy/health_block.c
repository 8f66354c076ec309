// SPDX-License-Identifier: Apache-2.0
/* health_block.c - I/O stalls under volumes: findings under health.block (health.h). */
#define _GNU_SOURCE
#include "health_block.h"
#include "record.h"
#include "vocab.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <string.h>

static bool volume_uses(const struct np_volume *v, const char *dev)
{
	return (v->device && streq(v->device, dev)) || np_strv_contains(v->backing, dev);
}

/*
 * Events on the PersistentVolume, and on the Pod and the claim using it. The Pod is named by
 * its UID ("uid:<uid>") and the claim by its volume ("pv:<name>"): the agent resolves both
 * through the API (pods on this node, the PV's claimRef); a plan without a cluster shows them so.
 */
static int stall_volume_events(const struct np_volumes *vs, const struct np_stall_event *st, const char *msg,
			       struct np_desired *d)
{
	int r = 0;
	for (size_t i = 0; r >= 0 && i < vs->n; i++) {
		const struct np_volume *v = &vs->volumes[i];
		if (!v->pv_name || !volume_uses(v, st->device))
			continue;
		_cleanup_free_ char *vmsg = np_asprintf("%s (volume %s)", msg, v->pv_name);
		_cleanup_free_ char *pod = v->pod_uid ? np_asprintf("uid:%s", v->pod_uid) : NULL;
		_cleanup_free_ char *pvc = np_asprintf("pv:%s", v->pv_name);
		if (!vmsg || !pvc || (v->pod_uid && !pod))
			return -ENOMEM;
		r = np_desired_add_event(d, NP_EVENT_VOLUME_PATH_STALL, "Warning", vmsg, "PersistentVolume", v->pv_name,
					 st->device);
		if (r >= 0)
			r = np_desired_add_event(d, NP_EVENT_VOLUME_PATH_STALL, "Warning", vmsg, "PersistentVolumeClaim", pvc,
						 st->device);
		if (r >= 0 && pod)
			r = np_desired_add_event(d, NP_EVENT_VOLUME_PATH_STALL, "Warning", vmsg, "Pod", pod, st->device);
	}
	return r;
}

static int findings_stalls(const struct np_health_block *h, const struct np_report *rep, struct np_desired *d)
{
	int r = 0;
	for (size_t i = 0; r >= 0 && i < rep->block.n_stalls; i++) {
		const struct np_stall_event *st = &rep->block.stalls[i];
		if (!st->ongoing || (double)st->duration_ms < h->stall_seconds * 1000)
			continue;
		_cleanup_free_ char *msg = st->reason == NP_STALL_AWAIT
			? np_asprintf("%s: await %.0f ms over the window for %.1f s", st->device, st->await_ms,
				      (double)st->duration_ms / 1000)
			: np_asprintf("%s: %llu I/Os in flight and none completed for %.1f s", st->device,
				      (unsigned long long)st->in_flight, (double)st->duration_ms / 1000);
		if (!msg)
			return -ENOMEM;
		r = np_desired_add_finding(d, NP_FINDING_VOLUME_STALL, st->device, NP_REASON_STALLED, "%s", msg);
		if (r >= 0)
			r = stall_volume_events(&rep->volumes, st, msg, d);
	}
	return r;
}

static int judge_block(const struct np_health_block *h, const struct np_health_in *in, struct np_desired *d)
{
	return findings_stalls(h, in->r, d);
}

static const struct np_field fields[] = {
	NP_FIELD_NUM("stallSeconds", struct np_health_block, stall_seconds, 1, 86400),
	NP_FIELD_NUM("awaitMs", struct np_health_block, await_ms, -1, 1e9),
	{},
};

NP_HEALTH(block, 50, judge_block, fields,
	"stallSeconds: 10\n"
	"awaitMs: -1\n");
