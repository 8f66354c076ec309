// SPDX-License-Identifier: Apache-2.0
/* peers.c - the GPU count a class's other Nodes carry (peers.h). */
#define _GNU_SOURCE
#include "peers.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void np_peer_gpus_free(struct np_peer_gpus *p)
{
	free(p->klass);
	free(p->node);
	*p = (struct np_peer_gpus){ 0 };
}

int np_peer_gpus_add(struct np_peer_gpus *p, const json_t *page, const char *prefix, const char *self)
{
	_cleanup_free_ char *key = np_asprintf("%s/gpu.count", prefix);
	if (!key)
		return -ENOMEM;
	size_t i;
	json_t *node;
	json_array_foreach(json_object_get(page, "items"), i, node) {
		json_t *meta = json_object_get(node, "metadata");
		const char *name = json_string_value(json_object_get(meta, "name"));
		if (!name || (self && streq(name, self)))
			continue;
		p->peers++;
		const char *v = json_string_value(json_object_get(json_object_get(meta, "labels"), key));
		uint64_t n;
		if (!v || np_parse_u64(v, &n) < 0 || n < 1 || n > 4096 || n <= p->gpus)
			continue;
		char *dup = strdup(name);
		if (!dup)
			return -ENOMEM;
		free(p->node);
		p->node = dup;
		p->gpus = (unsigned)n;
	}
	return 0;
}

struct list_ctx {
	struct np_peer_gpus *p;
	const char *prefix, *self;
};

static int page_cb(json_t *page, void *ud)
{
	struct list_ctx *c = ud;
	return np_peer_gpus_add(c->p, page, c->prefix, c->self);
}

int np_peer_gpus_refresh(struct np_peer_gpus *p, struct np_kube_client *kc, const char *prefix, const char *klass,
			 const char *self, double now, double every, char **err)
{
	bool same = p->klass && klass && streq(p->klass, klass);
	if (same && p->listed && now - p->at < every)
		return 0;
	if (same && now < p->retry_at)
		return 0;
	_cleanup_free_ char *sel = np_asprintf("%s/class=%s", prefix, klass);
	struct np_peer_gpus fresh = { .klass = strdup(klass) };
	if (!sel || !fresh.klass) {
		free(fresh.klass);
		return -ENOMEM;
	}
	struct list_ctx c = { .p = &fresh, .prefix = prefix, .self = self };
	int r = np_kube_list(kc, "/api/v1/nodes", sel, NULL, 500, page_cb, &c, err);
	if (r < 0) {
		if (!same) { /* a figure of another class is no figure for this one */
			np_peer_gpus_free(p);
			p->klass = fresh.klass;
			fresh.klass = NULL;
		}
		np_peer_gpus_free(&fresh);
		p->retry_at = now + (every < 60 ? every : 60);
		return r;
	}
	fresh.at = now;
	fresh.listed = true;
	np_peer_gpus_free(p);
	*p = fresh;
	return 1;
}
