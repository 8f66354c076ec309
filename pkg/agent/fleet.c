// SPDX-License-Identifier: Apache-2.0
/* fleet.c - fleet drift view from the Node objects' nodeprint labels and fingerprint annotation. */
#define _GNU_SOURCE
#include "fleet.h"
#include "valve.h"
#include "../policy/desired.h"
#include "../policy/verdict.h"
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
	g->opted_out += streq(meta(node, "labels", pre, "taints") ?: "", "disabled");
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
	for (size_t i = 0; i < f->n_bench; i++)
		np_bench_record_free(&f->bench[i]);
	free(f->bench);
	f->bench = NULL;
	f->n_bench = 0;
	free(f->bench_error);
	f->bench_error = NULL;
}

int np_fleet_add_baselines(struct np_fleet *f, const struct np_bench_record *recs, size_t n)
{
	struct np_bench_record *nb = realloc(f->bench, (f->n_bench + n + 1) * sizeof(*nb));
	if (!nb)
		return -ENOMEM;
	f->bench = nb;
	for (size_t i = 0; i < n; i++) {
		int r = np_bench_record_dup(&recs[i], &f->bench[f->n_bench]);
		if (r == -ENOMEM)
			return r;
		if (r >= 0)
			f->n_bench++;
	}
	return 0;
}

/* ---- per class and profile: the pinned baseline, and each other bundle's verdicts ---- */

struct bundle_verdicts {
	const char *bundle, *kernel;
	double p99_change[64], iops_change[64]; /* the newest verdict of each node (at most 64 shown) */
	unsigned nodes, regressed;
};

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_dbl);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && streq(a, b));
}

/* Is @r the newest verdict of its node for its bundle, class and profile? */
static bool newest_of_node(const struct np_fleet *f, const struct np_bench_record *r)
{
	for (size_t i = 0; i < f->n_bench; i++) {
		const struct np_bench_record *o = &f->bench[i];
		if (o != r && o->kind == NP_BENCH_VERDICT && same_str(o->node, r->node) && streq(o->bundle, r->bundle) &&
		    same_str(o->klass, r->klass) && streq(o->profile.name, r->profile.name) && o->at_ms > r->at_ms)
			return false;
	}
	return true;
}

/* Visit every (class, profile) with a pinned baseline: @fn gets the reference and the other bundles. */
static void bench_groups(const struct np_fleet *f, void (*fn)(const struct np_bench_record *ref,
							   struct bundle_verdicts *b, size_t nb, void *ud),
			 void *ud)
{
	for (size_t i = 0; i < f->n_bench; i++) {
		const struct np_bench_record *ref = &f->bench[i];
		/* the newest pinned baseline of its class, model and profile stands for the group */
		if (ref->kind != NP_BENCH_BASELINE || !ref->pinned || np_bench_reference(f->bench, f->n_bench, ref) != ref)
			continue;
		struct bundle_verdicts b[32];
		size_t nb = 0;
		for (size_t k = 0; k < f->n_bench; k++) {
			const struct np_bench_record *v = &f->bench[k];
			if (v->kind != NP_BENCH_VERDICT || !same_str(v->klass, ref->klass) || !same_str(v->model, ref->model) ||
			    !streq(v->profile.name, ref->profile.name) || !newest_of_node(f, v))
				continue;
			size_t j = 0;
			while (j < nb && !streq(b[j].bundle, v->bundle))
				j++;
			if (j == nb && nb == ARRAY_SIZE(b))
				continue;
			if (j == nb)
				b[nb++] = (struct bundle_verdicts){ .bundle = v->bundle, .kernel = v->kernel };
			if (b[j].nodes < ARRAY_SIZE(b[j].p99_change)) {
				b[j].p99_change[b[j].nodes] = v->p99_change_percent;
				b[j].iops_change[b[j].nodes] = v->iops_change_percent;
				b[j].nodes++;
				b[j].regressed += v->verdict == NP_VERDICT_REGRESSED;
			}
		}
		fn(ref, b, nb, ud);
	}
}

static void bench_json(const struct np_bench_record *ref, struct bundle_verdicts *b, size_t nb, void *ud)
{
	json_t *o = json_object(), *others = json_array();
	np_json_str(o, "class", ref->klass);
	np_json_str(o, "model", ref->model);
	np_json_str(o, "profile", ref->profile.name);
	json_object_set_new(o, "pinned", np_bench_record_to_json(ref));
	for (size_t i = 0; i < nb; i++) {
		json_t *e = json_object();
		np_json_str(e, "bundle", b[i].bundle);
		np_json_str(e, "kernel", b[i].kernel);
		np_json_u64(e, "nodes_tested", b[i].nodes);
		np_json_u64(e, "nodes_regressed", b[i].regressed);
		np_json_real(e, "p99_change_percent_median", median(b[i].p99_change, b[i].nodes));
		np_json_real(e, "iops_change_percent_median", median(b[i].iops_change, b[i].nodes));
		json_array_append_new(others, e);
	}
	json_object_set_new(o, "bundles", others);
	json_array_append_new(ud, o);
}

static void bench_print(const struct np_bench_record *ref, struct bundle_verdicts *b, size_t nb, void *ud)
{
	FILE *out = ud;
	const char *klass = ref->klass ? ref->klass : "(no class)";
	fprintf(out, "  class %s, %s, %s: pinned bundle %s (kernel %s): p99 %.0f us (%.0f-%.0f), %.0f IOPS, %u runs\n",
		klass, ref->model ? ref->model : "model unknown", ref->profile.name, ref->bundle,
		ref->kernel ? ref->kernel : "?", ref->median.v[NP_BF_P99], ref->min.v[NP_BF_P99],
		ref->max.v[NP_BF_P99], ref->median.v[NP_BF_IOPS], ref->repeats);
	for (size_t i = 0; i < nb; i++)
		fprintf(out, "    kernel %s on class %s: p99 %+.0f %%, IOPS %+.0f %% (%u node%s tested, %u regressed) "
			     "[bundle %s]\n",
			b[i].kernel ? b[i].kernel : "?", klass, median(b[i].p99_change, b[i].nodes),
			median(b[i].iops_change, b[i].nodes), b[i].nodes, b[i].nodes == 1 ? "" : "s", b[i].regressed,
			b[i].bundle);
}

struct np_fleet_impact *np_fleet_impact(const struct np_fleet *f, size_t *n)
{
	struct np_fleet_impact *out = calloc(f->n + 1, sizeof(*out));
	*n = 0;
	if (!out || !f->pol)
		return out; /* no policy: nothing to foresee */
	const struct np_action *a = np_policy_action(f->pol, "firmware-unpinned");
	bool hard = a && np_valve_hard_effect(a->taint_effect) && !a->observe && !f->pol->observe;
	for (size_t i = 0; i < f->n; i++) {
		const struct np_fleet_group *g = &f->g[i];
		if (!*n || !streq(out[*n - 1].klass, g->klass))
			out[(*n)++] = (struct np_fleet_impact){ .klass = g->klass };
		struct np_fleet_impact *c = &out[*n - 1];
		c->nodes += g->nodes;
		c->opted_out += g->opted_out;
		if (g->n_drift) {
			c->drifting += g->nodes;
			c->would_taint += hard ? g->nodes - g->opted_out : 0;
		}
	}
	for (size_t i = 0; i < *n; i++) {
		out[i].budget = np_valve_budget(f->pol->valve_max_tainted_percent, out[i].nodes);
		out[i].allowed = out[i].would_taint < out[i].budget ? out[i].would_taint : out[i].budget;
	}
	return out;
}

static json_t *impact_json(const struct np_fleet *f)
{
	size_t n;
	_cleanup_free_ struct np_fleet_impact *im = np_fleet_impact(f, &n);
	json_t *classes = json_array();
	for (size_t i = 0; im && i < n; i++)
		json_array_append_new(classes, json_pack("{s:s?,s:i,s:i,s:i,s:i,s:i,s:i}", "class",
							 *im[i].klass ? im[i].klass : NULL, "nodes", (int)im[i].nodes,
							 "drifting", (int)im[i].drifting, "opted_out", (int)im[i].opted_out,
							 "would_taint", (int)im[i].would_taint, "valve_budget",
							 (int)im[i].budget, "valve_allows", (int)im[i].allowed));
	return classes;
}

static void impact_print(const struct np_fleet *f, FILE *out)
{
	size_t n;
	_cleanup_free_ struct np_fleet_impact *im = np_fleet_impact(f, &n);
	if (!im || !n)
		return;
	fprintf(out, "\n%-16s %6s %9s %10s %12s %13s %s\n", "CLASS", "NODES", "DRIFTING", "OPTED-OUT", "WOULD-TAINT",
		"VALVE-BUDGET", "TAINTED-AT-ONCE");
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%-16s %6u %9u %10u %12u %13u %u\n", *im[i].klass ? im[i].klass : "-", im[i].nodes,
			im[i].drifting, im[i].opted_out, im[i].would_taint, im[i].budget, im[i].allowed);
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
	json_t *bench = json_array();
	bench_groups(f, bench_json, bench);
	json_t *o = json_pack("{s:i,s:i,s:o,s:o,s:o}", "nodes", (int)f->nodes, "unlabelled", (int)f->unlabelled, "groups",
			      a, "classes", impact_json(f), "baselines", bench);
	if (o && f->bench_error)
		json_object_set_new(o, "baselines_error", json_string(f->bench_error));
	return o;
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
	impact_print(f, out);
	fprintf(out, "\nBaselines (nodeprint-baselines-* ConfigMaps; docs/baseline.md):\n");
	if (f->bench_error)
		fprintf(out, "  unavailable: %s\n", f->bench_error);
	else if (!f->n_bench)
		fprintf(out, "  none recorded\n");
	bench_groups(f, bench_print, out);
}
