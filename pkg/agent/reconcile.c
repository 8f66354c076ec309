// SPDX-License-Identifier: Apache-2.0
/* reconcile.c - Node JSON + desired state -> the minimal, ownership-safe patches. */
#define _GNU_SOURCE
#include "reconcile.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"
#include "../kube/util.h"

#include <string.h>

static bool own_key(const char *key, const char *prefix)
{
	size_t n = strlen(prefix);
	return strncmp(key, prefix, n) == 0 && key[n] == '/';
}

static const char *kv_get(const struct np_kv *a, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (streq(a[i].key, key))
			return a[i].value;
	return NULL;
}

/* Merge-patch fragment for one metadata map: set differing desired keys, null stale own keys. */
static json_t *map_patch(const json_t *cur, const struct np_kv *want, size_t n, char *const *keep,
			 const struct np_reconcile_opts *o, unsigned *changed)
{
	json_t *p = json_object();
	for (size_t i = 0; i < n; i++) {
		const char *v = json_string_value(json_object_get(cur, want[i].key));
		if (!v || !streq(v, want[i].value)) {
			json_object_set_new(p, want[i].key, json_string(want[i].value));
			(*changed)++;
		}
	}
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)cur, k, v) {
		if (o->allow_removals && own_key(k, o->prefix) && !kv_get(want, n, k) && !np_strv_contains(keep, k)) {
			json_object_set_new(p, k, json_null());
			(*changed)++;
		}
	}
	if (json_object_size(p) == 0) {
		json_decref(p);
		return NULL;
	}
	return p;
}

static json_t *metadata_patch(const json_t *meta, const struct np_desired *d, const struct np_reconcile_opts *o,
			      unsigned *changed)
{
	json_t *lp = map_patch(json_object_get(meta, "labels"), d->labels, d->n_labels, d->keep, o, changed);
	json_t *ap = map_patch(json_object_get(meta, "annotations"), d->annotations, d->n_annotations, d->keep, o, changed);
	if (!lp && !ap)
		return NULL;
	json_t *m = json_object();
	if (lp)
		json_object_set_new(m, "labels", lp);
	if (ap)
		json_object_set_new(m, "annotations", ap);
	return json_pack("{s:o}", "metadata", m);
}

/* ---- taints ---- */

static struct np_taint_clear *mem_find(struct np_taint_memory *m, const char *key, const char *effect)
{
	for (size_t i = 0; i < m->n; i++)
		if (streq(m->items[i].key, key) && streq(m->items[i].effect, effect))
			return &m->items[i];
	return NULL;
}

static void mem_forget(struct np_taint_memory *m, const char *key, const char *effect)
{
	struct np_taint_clear *c = mem_find(m, key, effect);
	if (!c)
		return;
	free(c->key);
	free(c->effect);
	*c = m->items[--m->n];
}

/* true when the cleared taint should still stay (hold-down not over); remembers when it cleared */
static bool hold_taint(struct np_taint_memory *m, const char *key, const char *effect, const struct np_reconcile_opts *o)
{
	if (!o->allow_removals)
		return true;
	struct np_taint_clear *c = mem_find(m, key, effect);
	if (!c) {
		struct np_taint_clear *ni = realloc(m->items, (m->n + 1) * sizeof(*ni));
		if (!ni)
			return true; /* cannot remember: keep the taint rather than flap */
		m->items = ni;
		c = &m->items[m->n];
		c->key = strdup(key);
		c->effect = strdup(effect);
		c->clear_since = o->now;
		if (!c->key || !c->effect) {
			free(c->key);
			free(c->effect);
			return true;
		}
		m->n++;
	}
	return (double)(o->now - c->clear_since) < o->hold_down_seconds;
}

static bool desired_taint(const struct np_desired *d, const char *key, const char *effect)
{
	for (size_t i = 0; i < d->n_taints; i++)
		if (streq(d->taints[i].key, key) && streq(d->taints[i].effect, effect))
			return true;
	return false;
}

static bool json_has_taint(const json_t *list, const char *key, const char *effect)
{
	size_t i;
	json_t *t;
	json_array_foreach((json_t *)list, i, t) {
		const char *k = json_string_value(json_object_get(t, "key"));
		const char *e = json_string_value(json_object_get(t, "effect"));
		if (k && e && streq(k, key) && streq(e, effect))
			return true;
	}
	return false;
}

json_t *np_reconcile_taints(const json_t *cur, const struct np_desired *d, const struct np_reconcile_opts *o,
			    struct np_taint_memory *mem, unsigned *added, unsigned *removed)
{
	json_t *list = json_array();
	size_t i;
	json_t *t;
	*added = *removed = 0;
	json_array_foreach((json_t *)cur, i, t) {
		const char *k = json_string_value(json_object_get(t, "key"));
		const char *e = json_string_value(json_object_get(t, "effect"));
		if (!k || !e || !own_key(k, o->prefix) || desired_taint(d, k, e)) {
			json_array_append(list, t); /* foreign (or still wanted): copied verbatim */
			if (k && e)
				mem_forget(mem, k, e);
		} else if (hold_taint(mem, k, e, o)) {
			json_array_append(list, t);
		} else {
			mem_forget(mem, k, e);
			(*removed)++;
		}
	}
	for (size_t j = 0; j < d->n_taints; j++) {
		const struct np_taint *dt = &d->taints[j];
		if (json_has_taint(cur, dt->key, dt->effect) || np_strv_contains(o->refused_taints, dt->key))
			continue;
		json_array_append_new(list, json_pack("{s:s,s:s,s:s}", "key", dt->key, "value", dt->value,
						      "effect", dt->effect));
		(*added)++;
	}
	if (!*added && !*removed) {
		json_decref(list);
		return NULL;
	}
	return list;
}

static json_t *taints_patch(const json_t *node, const struct np_desired *d, const struct np_reconcile_opts *o,
			    struct np_taint_memory *mem, struct np_node_writes *w)
{
	const json_t *cur = json_object_get(json_object_get(node, "spec"), "taints");
	json_t *list = np_reconcile_taints(cur, d, o, mem, &w->taints_added, &w->taints_removed);
	if (!list)
		return NULL;
	const char *rv = json_string_value(json_object_get(json_object_get(node, "metadata"), "resourceVersion"));
	return json_pack("{s:{s:s?},s:{s:o}}", "metadata", "resourceVersion", rv, "spec", "taints", list);
}

/* ---- conditions ---- */

void np_rfc3339(time_t t, char *buf, size_t len)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const json_t *find_condition(const json_t *node, const char *type)
{
	const json_t *list = json_object_get(json_object_get(node, "status"), "conditions");
	size_t i;
	json_t *c;
	json_array_foreach((json_t *)list, i, c) {
		const char *t = json_string_value(json_object_get(c, "type"));
		if (t && streq(t, type))
			return c;
	}
	return NULL;
}

static bool str_eq(const json_t *o, const char *key, const char *want)
{
	const char *v = json_string_value(json_object_get(o, key));
	return v && streq(v, want);
}

/* @now: o->now as RFC 3339, formatted once for all the conditions. */
static json_t *condition_entry(const json_t *cur, const struct np_condition *c, const struct np_reconcile_opts *o,
			       const char *now)
{
	bool same_status = cur && str_eq(cur, "status", c->status);
	bool same = same_status && str_eq(cur, "reason", c->reason) && str_eq(cur, "message", c->message);
	time_t hb = 0;
	bool hb_due = !cur || np_parse_rfc3339(json_string_value(json_object_get(cur, "lastHeartbeatTime")), &hb) < 0 ||
		      (double)(o->now - hb) >= o->heartbeat_seconds;
	if (same && !hb_due)
		return NULL;
	const char *ltt = same_status ? json_string_value(json_object_get(cur, "lastTransitionTime")) : NULL;
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "type", c->type, "status", c->status, "reason", c->reason,
			 "message", c->message, "lastHeartbeatTime", now, "lastTransitionTime", ltt ? ltt : now);
}

static json_t *status_patch(const json_t *node, const struct np_desired *d, const struct np_reconcile_opts *o,
			    unsigned *changed)
{
	json_t *list = json_array();
	char now[32];
	np_rfc3339(o->now, now, sizeof(now));
	for (size_t i = 0; i < d->n_conditions; i++) {
		json_t *e = condition_entry(find_condition(node, d->conditions[i].type), &d->conditions[i], o, now);
		if (e) {
			json_array_append_new(list, e);
			(*changed)++;
		}
	}
	if (json_array_size(list) == 0) {
		json_decref(list);
		return NULL;
	}
	return json_pack("{s:{s:o}}", "status", "conditions", list);
}

int np_reconcile_node(const json_t *node, const struct np_desired *d, const struct np_reconcile_opts *o,
		      struct np_taint_memory *mem, struct np_node_writes *w)
{
	*w = (struct np_node_writes){ 0 };
	const json_t *meta = json_object_get(node, "metadata");
	if (!json_is_object(node) || !json_is_object(meta) || !str_eq(node, "kind", "Node"))
		return -EINVAL;
	w->metadata_patch = metadata_patch(meta, d, o, &w->labels_changed);
	w->taints_patch = taints_patch(node, d, o, mem, w);
	w->status_patch = status_patch(node, d, o, &w->conditions_changed);
	return 0;
}

void np_node_writes_free(struct np_node_writes *w)
{
	json_decref(w->metadata_patch);
	json_decref(w->taints_patch);
	json_decref(w->status_patch);
	*w = (struct np_node_writes){ 0 };
}

int np_taint_memory_dup(const struct np_taint_memory *m, struct np_taint_memory *out)
{
	*out = (struct np_taint_memory){ 0 };
	if (!m->n)
		return 0;
	out->items = calloc(m->n, sizeof(*out->items));
	if (!out->items)
		return -ENOMEM;
	for (size_t i = 0; i < m->n; i++, out->n++) {
		out->items[i].key = strdup(m->items[i].key);
		out->items[i].effect = strdup(m->items[i].effect);
		out->items[i].clear_since = m->items[i].clear_since;
		if (!out->items[i].key || !out->items[i].effect) {
			out->n++;
			np_taint_memory_free(out);
			return -ENOMEM;
		}
	}
	return 0;
}

void np_taint_memory_free(struct np_taint_memory *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->items[i].key);
		free(m->items[i].effect);
	}
	free(m->items);
	*m = (struct np_taint_memory){ 0 };
}

struct np_kv *np_node_label_facts(const json_t *node, size_t *n)
{
	const json_t *labels = json_object_get(json_object_get(node, "metadata"), "labels");
	struct np_kv *kv = calloc(json_object_size(labels) + 1, sizeof(*kv));
	const char *k;
	json_t *v;
	*n = 0;
	if (!kv)
		return NULL;
	json_object_foreach((json_t *)labels, k, v)
		if (json_is_string(v))
			kv[(*n)++] = (struct np_kv){ (char *)k, (char *)json_string_value(v) };
	return kv;
}
