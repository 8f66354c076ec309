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

/* FNV-1a over "class\0hash". */
static size_t key_hash(const char *klass, const char *hash)
{
	uint64_t h = 14695981039346656037ULL;
	for (const char *p = klass;; p++) {
		h = (h ^ (uint8_t)*p) * 1099511628211ULL;
		if (!*p)
			break;
	}
	for (const char *p = hash; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ULL;
	return (size_t)h;
}

/* The slot of (class, hash) in the index: the group's or the free one where it goes. */
static size_t *slot(const struct np_fleet *f, const char *klass, const char *hash)
{
	size_t i = key_hash(klass, hash) & (f->index_cap - 1);
	for (;; i = (i + 1) & (f->index_cap - 1)) {
		size_t *s = &f->index[i];
		if (!*s || (streq(f->g[*s - 1].klass, klass) && streq(f->g[*s - 1].hash, hash)))
			return s;
	}
}

/* Keep the index under half full: rebuilt at twice the size when it would not be. */
static int index_grow(struct np_fleet *f)
{
	if (f->index && (f->n + 1) * 2 <= f->index_cap)
		return 0;
	size_t cap = f->index_cap ? f->index_cap * 2 : 64;
	size_t *ni = calloc(cap, sizeof(*ni));
	if (!ni)
		return -ENOMEM;
	free(f->index);
	f->index = ni;
	f->index_cap = cap;
	for (size_t i = 0; i < f->n; i++)
		*slot(f, f->g[i].klass, f->g[i].hash) = i + 1;
	return 0;
}

/* The group of (class, hash), created when new: thousands of bundles stay one lookup per Node. */
static struct np_fleet_group *group(struct np_fleet *f, const char *klass, const char *hash)
{
	if (index_grow(f) < 0)
		return NULL;
	size_t *s = slot(f, klass, hash);
	if (*s)
		return &f->g[*s - 1];
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
	*s = ++f->n;
	return g;
}

bool np_fleet_shown(const struct np_fleet *f, const struct np_fleet_group *g)
{
	return !f->show_bundle || streq(f->show_bundle, g->hash);
}

int np_fleet_add(struct np_fleet *f, const json_t *node)
{
	const char *pre = f->pol->label_prefix;
	const char *klass = meta(node, "labels", pre, "class");
	const char *hash = meta(node, "labels", pre, "bundle");
	const char *name = json_string_value(json_object_get(json_object_get(node, "metadata"), "name"));
	f->nodes++;
	if (!hash)
		f->unlabelled++;
	struct np_fleet_group *g = group(f, klass ? klass : "", hash ? hash : "");
	if (!g)
		return -ENOMEM;
	g->opted_out += streq(meta(node, "labels", pre, "taints") ?: "", "disabled");
	/* node names only for the bundle asked for: memory stays bounded by the groups otherwise */
	if (f->show_bundle && np_fleet_shown(f, g) && np_strv_push(&g->names, &g->n_names, name ? name : "") < 0)
		return -ENOMEM;
	if (g->nodes++ > 0)
		return 0;
	const char *state = meta(node, "labels", pre, "bundle-state");
	g->state = strdup(state ? state : "");
	g->example = strdup(name ? name : "");
	const char *ann = meta(node, "annotations", pre, "fingerprint");
	json_t *fp = ann ? json_loads(ann, 0, NULL) : NULL;
	g->components = fp ? json_incref(json_object_get(fp, "components")) : NULL;
	json_int_t trunc = json_integer_value(json_object_get(fp, "truncated"));
	g->truncated = trunc > 0 ? (unsigned)(trunc < UINT32_MAX ? trunc : UINT32_MAX) : 0;
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

static enum np_fleet_verdict verdict_of_label(const char *state)
{
	if (streq(state, "pinned"))
		return NP_FLEET_PINNED;
	return streq(state, "drift") ? NP_FLEET_DRIFT : NP_FLEET_UNKNOWN;
}

/*
 * The group's bundle from its annotation, judged by the class's pins; without pins for the class
 * the agents' bundle-state label stands. Blind is not pinned: a Node without a bundle label, an
 * annotation missing, not JSON or truncated (no drift among what is left) is unknown.
 */
static int judge(const struct np_policy *p, struct np_fleet_group *g)
{
	const struct np_class *c = class_named(p, g->klass);
	g->verdict = NP_FLEET_UNKNOWN;
	if (!*g->hash)
		return 0;
	if (!c || !c->n_pins) {
		g->verdict = verdict_of_label(g->state);
		return 0;
	}
	g->judged = true;
	if (!json_is_array(g->components))
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
	if (r >= 0)
		g->verdict = g->n_drift ? NP_FLEET_DRIFT : g->truncated ? NP_FLEET_UNKNOWN : NP_FLEET_PINNED;
	return r;
}

/* ---- component-by-component diff of two fingerprints ---- */

static const char *tri(const json_t *it, size_t k)
{
	return json_string_value(json_array_get(it, k));
}

static int cmp_ck(const json_t *a, const json_t *b)
{
	int c = strcmp(tri(a, 0), tri(b, 0));
	return c ? c : strcmp(tri(a, 1), tri(b, 1));
}

static int cmp_item(const void *a, const void *b)
{
	const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
	int c = cmp_ck(x, y);
	return c ? c : strcmp(tri(x, 2), tri(y, 2));
}

/* The well-formed [component, key, value] entries of @a, sorted; malloc'd, *@n of them. */
static const json_t **sorted_items(const json_t *a, size_t *n)
{
	const json_t **v = malloc((json_array_size(a) + 1) * sizeof(*v));
	size_t i;
	json_t *it;
	*n = 0;
	if (!v)
		return NULL;
	json_array_foreach(a, i, it)
		if (tri(it, 0) && tri(it, 1) && tri(it, 2))
			v[(*n)++] = it;
	if (*n)
		qsort(v, *n, sizeof(*v), cmp_item);
	return v;
}

static int diff_push(struct np_fleet_diff **out, size_t *n, const json_t *ck, const char *pinned, const char *value)
{
	struct np_fleet_diff *nd = realloc(*out, (*n + 1) * sizeof(*nd));
	if (!nd)
		return -ENOMEM;
	*out = nd;
	struct np_fleet_diff *d = &nd[*n];
	*d = (struct np_fleet_diff){ strdup(tri(ck, 0)), strdup(tri(ck, 1)), pinned ? strdup(pinned) : NULL,
				     value ? strdup(value) : NULL };
	(*n)++;
	if (!d->component || !d->key || (pinned && !d->pinned) || (value && !d->value))
		return -ENOMEM;
	return 0;
}

void np_fleet_diff_free(struct np_fleet_diff *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(d[i].component);
		free(d[i].key);
		free(d[i].pinned);
		free(d[i].value);
	}
	free(d);
}

int np_fleet_diff(const json_t *pinned, const json_t *other, struct np_fleet_diff **out, size_t *n)
{
	size_t na, nb, i = 0, k = 0;
	_cleanup_free_ const json_t **a = sorted_items(pinned, &na);
	_cleanup_free_ const json_t **b = sorted_items(other, &nb);
	int r = 0;
	*out = NULL;
	*n = 0;
	if (!a || !b)
		return -ENOMEM;
	/* a sorted merge on (component, key); equal keys pair up value by value */
	while (r >= 0 && (i < na || k < nb)) {
		int c = i == na ? 1 : k == nb ? -1 : cmp_ck(a[i], b[k]);
		if (c < 0) {
			r = diff_push(out, n, a[i], tri(a[i], 2), NULL);
			i++;
		} else if (c > 0) {
			r = diff_push(out, n, b[k], NULL, tri(b[k], 2));
			k++;
		} else {
			if (!streq(tri(a[i], 2), tri(b[k], 2)))
				r = diff_push(out, n, a[i], tri(a[i], 2), tri(b[k], 2));
			i++;
			k++;
		}
	}
	if (r < 0) {
		np_fleet_diff_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
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
	free(f->index); /* the groups move */
	f->index = NULL;
	f->index_cap = 0;
	if (f->n)
		qsort(f->g, f->n, sizeof(*f->g), cmp_group);
	for (size_t i = 0; i < f->n; i++) {
		int r = judge(f->pol, &f->g[i]);
		if (r < 0)
			return r;
	}
	/* groups are in class order, most nodes first: a class's first pinned group is its reference */
	for (size_t start = 0, end; start < f->n; start = end) {
		long ref = -1;
		for (end = start; end < f->n && streq(f->g[end].klass, f->g[start].klass); end++)
			if (ref < 0 && f->g[end].verdict == NP_FLEET_PINNED)
				ref = (long)end;
		if (ref >= 0)
			f->g[ref].reference = true;
		for (size_t i = start; i < end; i++) {
			struct np_fleet_group *g = &f->g[i];
			g->ref = ref;
			if (ref < 0 || g->reference || !g->components)
				continue;
			int r = np_fleet_diff(f->g[ref].components, g->components, &g->diff, &g->n_diff);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

unsigned np_fleet_nodes_with(const struct np_fleet *f, enum np_fleet_verdict v)
{
	unsigned n = 0;
	for (size_t i = 0; i < f->n; i++)
		if (np_fleet_shown(f, &f->g[i]) && f->g[i].verdict == v)
			n += f->g[i].nodes;
	return n;
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
		np_fleet_diff_free(g->diff, g->n_diff);
		np_strv_free(g->names);
	}
	free(f->g);
	f->g = NULL;
	f->n = 0;
	free(f->index);
	f->index = NULL;
	f->index_cap = 0;
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

static const char *const verdict_name[] = { [NP_FLEET_UNKNOWN] = "unknown", [NP_FLEET_PINNED] = "pinned",
					    [NP_FLEET_DRIFT] = "drift" };

/* Per class: its nodes by verdict and its reference (the caller walks groups @start..*@end). */
struct class_sum {
	const char *klass;
	const struct np_fleet_group *ref;
	unsigned nodes, by[3], bundles[3];
};

static size_t class_sum(const struct np_fleet *f, size_t start, struct class_sum *s)
{
	size_t end = start;
	*s = (struct class_sum){ .klass = f->g[start].klass };
	s->ref = f->g[start].ref >= 0 ? &f->g[f->g[start].ref] : NULL;
	for (; end < f->n && streq(f->g[end].klass, s->klass); end++) {
		s->nodes += f->g[end].nodes;
		s->by[f->g[end].verdict] += f->g[end].nodes;
		s->bundles[f->g[end].verdict]++;
	}
	return end;
}

static json_t *diff_json(const struct np_fleet_group *g)
{
	json_t *a = json_array();
	for (size_t i = 0; i < g->n_diff; i++)
		json_array_append_new(a, json_pack("{s:s,s:s,s:s?,s:s?}", "component", g->diff[i].component, "key",
						   g->diff[i].key, "pinned", g->diff[i].pinned, "value", g->diff[i].value));
	return a;
}

static json_t *drift_json(const struct np_fleet *f)
{
	json_t *a = json_array();
	for (size_t i = 0; i < f->n;) {
		struct class_sum s;
		i = class_sum(f, i, &s);
		json_array_append_new(a, json_pack("{s:s?,s:i,s:s?,s:i,s:i,s:i,s:i,s:i}", "class",
						   *s.klass ? s.klass : NULL, "nodes", (int)s.nodes, "pinned_bundle",
						   s.ref ? s.ref->hash : NULL, "pinned_bundle_nodes",
						   s.ref ? (int)s.ref->nodes : 0, "pinned_nodes", (int)s.by[NP_FLEET_PINNED],
						   "drift_nodes", (int)s.by[NP_FLEET_DRIFT], "drift_bundles",
						   (int)s.bundles[NP_FLEET_DRIFT], "unknown_nodes",
						   (int)s.by[NP_FLEET_UNKNOWN]));
	}
	return a;
}

json_t *np_fleet_to_json(const struct np_fleet *f)
{
	json_t *a = json_array();
	for (size_t i = 0; i < f->n; i++) {
		const struct np_fleet_group *g = &f->g[i];
		if (!np_fleet_shown(f, g))
			continue;
		json_t *o = json_object();
		np_json_str(o, "class", *g->klass ? g->klass : NULL);
		np_json_str(o, "bundle", *g->hash ? g->hash : NULL);
		np_json_str(o, "bundle_state", *g->state ? g->state : NULL);
		np_json_u64(o, "nodes", g->nodes);
		np_json_str(o, "example_node", g->example);
		np_json_str(o, "verdict", verdict_name[g->verdict]);
		np_json_str(o, "verdict_from", g->judged ? "policy" : "label");
		np_json_bool(o, "pinned_reference", g->reference);
		np_json_str(o, "reference_bundle", g->ref >= 0 ? f->g[g->ref].hash : NULL);
		json_object_set_new(o, "differs", diff_json(g));
		json_object_set_new(o, "drift", np_json_strv(g->drift));
		json_object_set(o, "components", g->components ? g->components : json_null());
		if (g->truncated)
			np_json_u64(o, "truncated", g->truncated);
		if (f->show_bundle)
			json_object_set_new(o, "node_names", np_json_strv(g->names));
		json_array_append_new(a, o);
	}
	json_t *bench = json_array();
	bench_groups(f, bench_json, bench);
	json_t *o = json_pack("{s:i,s:i,s:o,s:o,s:o,s:o}", "nodes", (int)f->nodes, "unlabelled", (int)f->unlabelled,
			      "groups", a, "drift", drift_json(f), "classes", impact_json(f), "baselines", bench);
	if (o && f->bench_error)
		json_object_set_new(o, "baselines_error", json_string(f->bench_error));
	return o;
}

static void diff_print(const struct np_fleet_group *g, const struct np_fleet_group *ref, FILE *out)
{
	fprintf(out, "  %-7s %-14s %6u node%s (e.g. %s)", verdict_name[g->verdict], *g->hash ? g->hash : "-",
		g->nodes, g->nodes == 1 ? "" : "s", g->example);
	if (!g->components) {
		fprintf(out, ": %s\n", *g->hash ? "no readable fingerprint annotation" : "no nodeprint bundle label");
		return;
	}
	fprintf(out, ", against %s:%s\n", ref->hash, g->n_diff ? "" : " same components");
	for (size_t i = 0; i < g->n_diff; i++) {
		const struct np_fleet_diff *d = &g->diff[i];
		fprintf(out, "      %s %s: %s -> %s\n", d->component, d->key, d->pinned ? d->pinned : "(absent)",
			d->value ? d->value : "(absent)");
	}
}

/* Per class: the pinned bundle, nodes by verdict, and each other shown bundle's differences. */
static void drift_print(const struct np_fleet *f, FILE *out)
{
	fprintf(out, "\nDrift by class (pinned bundle: the class's pinned bundle on most nodes):\n");
	for (size_t i = 0, start; i < f->n;) {
		struct class_sum s;
		start = i;
		i = class_sum(f, i, &s);
		fprintf(out, "class %s: %u node%s, %u pinned, %u drifted in %u bundle%s, %u unknown; pinned bundle ",
			*s.klass ? s.klass : "-", s.nodes, s.nodes == 1 ? "" : "s", s.by[NP_FLEET_PINNED],
			s.by[NP_FLEET_DRIFT], s.bundles[NP_FLEET_DRIFT], s.bundles[NP_FLEET_DRIFT] == 1 ? "" : "s",
			s.by[NP_FLEET_UNKNOWN]);
		if (s.ref)
			fprintf(out, "%s (%u node%s)\n", s.ref->hash, s.ref->nodes, s.ref->nodes == 1 ? "" : "s");
		else
			fprintf(out, "none\n");
		for (size_t k = start; s.ref && k < i; k++)
			if (&f->g[k] != s.ref && np_fleet_shown(f, &f->g[k]))
				diff_print(&f->g[k], s.ref, out);
	}
}

static void names_print(const struct np_fleet *f, FILE *out)
{
	for (size_t i = 0; i < f->n; i++) {
		const struct np_fleet_group *g = &f->g[i];
		if (!np_fleet_shown(f, g))
			continue;
		fprintf(out, "\nNodes of bundle %s in class %s (%u):\n", g->hash, *g->klass ? g->klass : "-", g->nodes);
		for (size_t k = 0; k < g->n_names; k++)
			fprintf(out, "  %s\n", g->names[k]);
	}
}

void np_fleet_print(const struct np_fleet *f, FILE *out)
{
	size_t shown = 0;
	fprintf(out, "%-16s %-14s %-8s %6s  %-24s %s\n", "CLASS", "BUNDLE", "STATE", "NODES", "EXAMPLE", "DRIFT");
	for (size_t i = 0; i < f->n; i++) {
		const struct np_fleet_group *g = &f->g[i];
		if (!np_fleet_shown(f, g))
			continue;
		shown++;
		fprintf(out, "%-16s %-14s %-8s %6u  %-24s %s\n", *g->klass ? g->klass : "-", *g->hash ? g->hash : "-",
			g->reference ? "pinned*" : verdict_name[g->verdict], g->nodes, g->example,
			g->n_drift ? g->drift[0] : "");
		for (size_t k = 1; k < g->n_drift; k++)
			fprintf(out, "%*s%s\n", 74, "", g->drift[k]);
	}
	fprintf(out, "%u nodes in %zu groups; %u without a nodeprint bundle label\n", f->nodes, f->n, f->unlabelled);
	if (f->show_bundle)
		fprintf(out, "%zu group%s of bundle %s shown\n", shown, shown == 1 ? "" : "s", f->show_bundle);
	fprintf(out, "STATE: pinned* is the class's pinned bundle; judged by --policy's pins, else the agents' "
		     "bundle-state label\n");
	drift_print(f, out);
	if (f->show_bundle)
		names_print(f, out);
	impact_print(f, out);
	fprintf(out, "\nBaselines (nodeprint-baselines-* ConfigMaps; docs/baseline.md):\n");
	if (f->bench_error)
		fprintf(out, "  unavailable: %s\n", f->bench_error);
	else if (!f->n_bench)
		fprintf(out, "  none recorded\n");
	bench_groups(f, bench_print, out);
}
