// SPDX-License-Identifier: Apache-2.0
/* health_multipath.c - dm-multipath failed and flapping paths: findings under health.multipath (health.h). */
#define _GNU_SOURCE
#include "health_multipath.h"
#include "record.h"
#include "vocab.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <string.h>

static int findings_multipath(const struct np_health_multipath *h, const struct np_multipath *mp,
			      const struct np_kmsg *km, struct np_desired *d)
{
	int r = 0;
	for (size_t i = 0; r >= 0 && h->failed_paths && i < mp->n_maps; i++) {
		const struct np_mpath_map *m = &mp->maps[i];
		unsigned failed = 0, total = 0;
		char first[64] = "";
		for (size_t g = 0; g < m->n_groups; g++)
			for (size_t k = 0; k < m->groups[g].n_paths; k++) {
				const struct np_mpath_path *pt = &m->groups[g].paths[k];
				total++;
				if (pt->have_state && !pt->active && failed++ == 0)
					snprintf(first, sizeof(first), "%s", pt->dev ? pt->dev : pt->major_minor);
			}
		if (failed)
			r = np_desired_add_finding(d, NP_FINDING_MULTIPATH_DEGRADED, m->name ? m->name : m->dm, NP_REASON_PATH_FAILED,
						   "%s: %u of %u paths failed (first: %s)%s", m->name ? m->name : m->dm,
						   failed, total, first, m->queue_io ? "; I/O is being queued" : "");
	}
	for (size_t i = 0; r >= 0 && km && i < km->n_flaps; i++)
		if (km->flaps[i].in_window >= h->flaps)
			r = np_desired_add_finding(d, NP_FINDING_PATH_FLAPPING, km->flaps[i].map, NP_REASON_PATH_FLAPPING,
						   "map %s: %u path flaps in the last %.0f s (threshold %u)",
						   km->flaps[i].map, km->flaps[i].in_window,
						   (double)km->flaps_window_ms / 1000, h->flaps);
	return r;
}

static int judge_multipath(const struct np_health_multipath *h, const struct np_health_in *in, struct np_desired *d)
{
	return findings_multipath(h, &in->r->multipath, &in->r->kmsg, d);
}

static const struct np_field fields[] = {
	NP_FIELD_UINT("flapsPerWindow", struct np_health_multipath, flaps, 1, 1e6),
	NP_FIELD_NUM("windowSeconds", struct np_health_multipath, window_seconds, 1, 86400 * 7),
	NP_FIELD_BOOL("failedPaths", struct np_health_multipath, failed_paths),
	{},
};

NP_HEALTH(multipath, 40, judge_multipath, fields,
	"flapsPerWindow: 3\n"
	"windowSeconds: 600\n"
	"failedPaths: true\n");
