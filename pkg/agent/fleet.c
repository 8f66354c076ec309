// SPDX-License-Identifier: Apache-2.0
/* fleet.c - fleet drift view from the Node objects' nodeprint labels and fingerprint annotation. */
#define _GNU_SOURCE
#include "fleet.h"
#include "../policy/desired.h"
#include "../report/bundle.h"
#include "../report/json.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <string.h>

static const char *meta(const json_t *node, const char *map, const char *prefix, const char *name)
{
	_cleanup_free_ char *key = np_asprintf("%s/%s", prefix, name);
	const json_t *m = json_object_get(json_object_get(node, "metadata"), map);
	return key ? json_string_value(json_object_get(m, key)) : NULL;
}

static struct np_fleet_group *group(struct np_fleet *f, const char *klass, const char *hash)
{
	for (size_t i = 0; i < f->n; i++)
		if (streq(f->g[i].klass, klass) && streq(f->g[i].hash, hash))
			return &f->g[i];
	struct np_fleet_group *ng = realloc(f->g, (f->n + 1) * sizeof(*ng));
	if (!ng)
		return NULL;
	f->g = ng;
	struct np_fleet_group *g = &ng[f->n];
	*g = (struct np_fleet_group){ .klass = strdup(klass), .hash = strdup(hash) };
	if (!g->klass || !g->hash) {
		free(g->klass);
		free(g->hash);
		return NULL;
	}
	f->n++;
	return g;
}

int np_fleet_add(struct np_fleet *f, const json_t *node)
{
	const char *pre = f->pol->label_prefix;
	const char *klass = meta(node, "labels", pre, "class");
	const char *hash = meta(node, "labels", pre, "bundle");
	f->nodes++;
	if (!hash)
		f->unlabelled++;
	struct np_fleet_group *g = group(f, klass ? klass : "", hash ? hash : "");
	if (!g)
		return -ENOMEM;
	if (g->nodes++ > 0)
		return 0;
	const char *state = meta(node, "labels", pre, "bundle-state");
	const char *name = json_string_value(json_object_get(json_object_get(node, "metadata"), "name"));
	g->state = strdup(state ? state : "");
	g->example = strdup(name ? name : "");
	const char *ann = meta(node, "annotations", pre, "fingerprint");
	json_t *fp = ann ? json_loads(ann, 0, NULL) : NULL;
	g->components = fp ? json_incref(json_object_get(fp, "components")) : NULL;
	json_decref(fp);
	return g->state && g->example ? 0 : -ENOMEM;
}

static const struct np_class *class_named(const struct np_policy *p, const char *name)
{
	for (size_t i = 0; i < p->n_classes; i++)
		if (streq(p->classes[i].name, name))
			return &p->classes[i];
	return NULL;
}

/* The group's bundle from its annotation, judged by the class's pins. */
static int judge(const struct np_policy *p, struct np_fleet_group *g)
{
	const struct np_class *c = class_named(p, g->klass);
	if (!c || !c->n_pins || !json_is_array(g->components))
		return 0;
	struct np_bundle b = { 0 };
	size_t i;
	json_t *it;
	int r = 0;
	json_array_foreach(g->components, i, it) {
		const char *comp = json_string_value(json_array_get(it, 0));
		const char *key = json_string_value(json_array_get(it, 1));
		const char *val = json_string_value(json_array_get(it, 2));
		if (comp && key && val && (r = np_bundle_add(&b, comp, key, val)) < 0)
			break;
	}
	struct np_desired d = { 0 };
	if (r >= 0)
		r = np_policy_judge_bundle(c, &b, &d);
	for (size_t k = 0; r >= 0 && k < d.n_findings; k++)
		r = np_strv_push_take(&g->drift, &g->n_drift,
				      np_asprintf("%s (%s)", d.findings[k].message, d.findings[k].reason));
	np_desired_free(&d);
	np_bundle_free(&b);
	return r;
}

static int cmp_group(const void *a, const void *b)
{
	const struct np_fleet_group *x = a, *y = b;
	int c = strcmp(x->klass, y->klass);
	if (c)
		return c;
	if (x->nodes != y->nodes)
		return x->nodes > y->nodes ? -1 : 1;
	return strcmp(x->hash, y->hash);
}

int np_fleet_finish(struct np_fleet *f)
{
	if (f->n)
		qsort(f->g, f->n, sizeof(*f->g), cmp_group);
	for (size_t i = 0; i < f->n; i++) {
		int r = judge(f->pol, &f->g[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

void np_fleet_free(struct np_fleet *f)
{
	for (size_t i = 0; i < f->n; i++) {
		struct np_fleet_group *g = &f->g[i];
		free(g->klass);
		free(g->hash);
		free(g->state);
		free(g->example);
		json_decref(g->components);
		np_strv_free(g->drift);
	}
	free(f->g);
	f->g = NULL;
	f->n = 0;
}

json_t *np_fleet_to_json(const struct np_fleet *f)
{
	json_t *a = json_array();
	for (size_t i = 0; i < f->n; i++) {
		const struct np_fleet_group *g = &f->g[i];
		json_t *o = json_object();
		np_json_str(o, "class", *g->klass ? g->klass : NULL);
		np_json_str(o, "bundle", *g->hash ? g->hash : NULL);
		np_json_str(o, "bundle_state", *g->state ? g->state : NULL);
		np_json_u64(o, "nodes", g->nodes);
		np_json_str(o, "example_node", g->example);
		json_object_set_new(o, "drift", np_json_strv(g->drift));
		json_object_set(o, "components", g->components ? g->components : json_null());
		json_array_append_new(a, o);
	}
	return json_pack("{s:i,s:i,s:o}", "nodes", (int)f->nodes, "unlabelled", (int)f->unlabelled, "groups", a);
}

void np_fleet_print(const struct np_fleet *f, FILE *out)
{
	fprintf(out, "%-16s %-14s %-8s %6s  %-24s %s\n", "CLASS", "BUNDLE", "STATE", "NODES", "EXAMPLE", "DRIFT");
	for (size_t i = 0; i < f->n; i++) {
		const struct np_fleet_group *g = &f->g[i];
		fprintf(out, "%-16s %-14s %-8s %6u  %-24s %s\n", *g->klass ? g->klass : "-", *g->hash ? g->hash : "-",
			*g->state ? g->state : "-", g->nodes, g->example, g->n_drift ? g->drift[0] : "");
		for (size_t k = 1; k < g->n_drift; k++)
			fprintf(out, "%*s%s\n", 74, "", g->drift[k]);
	}
	fprintf(out, "%u nodes in %zu groups; %u without a nodeprint bundle label\n", f->nodes, f->n, f->unlabelled);
}
