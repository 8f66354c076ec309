// SPDX-License-Identifier: Apache-2.0
/* cleanup.c - remove nodeprint's own labels, annotations, taints and conditions from a Node. */
#define _GNU_SOURCE
#include "cleanup.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <errno.h>
#include <string.h>

static bool ours(const char *key, const char *prefix)
{
	size_t l = strlen(prefix);
	return key && strncmp(key, prefix, l) == 0 && key[l] == '/';
}

/* {"k": null, ...} for every key of @map under the prefix; NULL when none. */
static json_t *nulls(const json_t *map, const char *prefix, unsigned *count)
{
	json_t *out = NULL;
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)map, k, v) {
		if (!ours(k, prefix))
			continue;
		if (!out && !(out = json_object()))
			return NULL;
		json_object_set_new(out, k, json_null());
		(*count)++;
	}
	return out;
}

int np_cleanup_plan(const json_t *node, const char *prefix, char *const *types, char **meta, char **status,
		    struct np_cleanup_counts *n)
{
	*meta = *status = NULL;
	*n = (struct np_cleanup_counts){ 0 };
	const json_t *md = json_object_get(node, "metadata");
	json_t *labels = nulls(json_object_get(md, "labels"), prefix, &n->labels);
	json_t *annotations = nulls(json_object_get(md, "annotations"), prefix, &n->annotations);
	if (labels || annotations) {
		json_t *m = json_object();
		if (labels)
			json_object_set_new(m, "labels", labels);
		if (annotations)
			json_object_set_new(m, "annotations", annotations);
		json_t *p = json_pack("{s:o}", "metadata", m);
		*meta = p ? json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		json_decref(p);
		if (!*meta)
			return -ENOMEM;
	}
	size_t i;
	json_t *t;
	json_array_foreach(json_object_get(json_object_get(node, "spec"), "taints"), i, t)
		n->taints += ours(json_string_value(json_object_get(t, "key")), prefix);
	json_t *dels = json_array();
	if (!dels)
		return -ENOMEM;
	json_array_foreach(json_object_get(json_object_get(node, "status"), "conditions"), i, t) {
		const char *type = json_string_value(json_object_get(t, "type"));
		if (!type || !np_strv_contains(types, type))
			continue;
		json_array_append_new(dels, json_pack("{s:s,s:s}", "type", type, "$patch", "delete"));
		n->conditions++;
	}
	if (json_array_size(dels)) {
		json_t *p = json_pack("{s:{s:o}}", "status", "conditions", dels);
		*status = p ? json_dumps(p, JSON_COMPACT) : NULL;
		json_decref(p);
		return *status ? 0 : -ENOMEM;
	}
	json_decref(dels);
	return 0;
}

/* np_kube_node_taints_update() editor: drop every taint under the prefix, keep the others as they are. */
static int drop_ours(json_t *taints, void *ud)
{
	int changed = 0;
	for (size_t i = json_array_size(taints); i-- > 0;)
		if (ours(json_string_value(json_object_get(json_array_get(taints, i), "key")), ud)) {
			json_array_remove(taints, i);
			changed = 1;
		}
	return changed;
}

int np_cleanup_node(struct np_kube_client *kc, const char *name, const char *prefix, char *const *types, bool dry_run,
		    struct np_cleanup_counts *n, char **err)
{
	json_t *node = NULL;
	int r = np_kube_get_node(kc, name, &node, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *meta = NULL, *status = NULL;
	r = np_cleanup_plan(node, prefix, types, &meta, &status, n);
	json_decref(node);
	if (r < 0 || dry_run)
		return r;
	if (meta && (r = np_kube_patch_node(kc, name, false, NP_PATCH_MERGE, meta, NULL, err)) < 0)
		return r;
	if (n->taints && (r = np_kube_node_taints_update(kc, name, drop_ours, (void *)prefix, 0, err)) < 0)
		return r;
	if (status && (r = np_kube_patch_node(kc, name, true, NP_PATCH_STRATEGIC, status, NULL, err)) < 0)
		return r;
	return 0;
}
