// SPDX-License-Identifier: Apache-2.0
/* valve.c - the safety valve's budget of hard-taint slots per class, in a Lease (see valve.h). */
#define _GNU_SOURCE
#include "valve.h"
#include "../kube/retry.h"
#include "../kube/util.h"
#include "../policy/desired.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BOOK_MAX 100000
#define VALVE_ANNOTATION "valve"

void np_valve_book_free(struct np_valve_book *b)
{
	for (size_t i = 0; i < b->n_slots; i++)
		free(b->slots[i].node);
	free(b->slots);
	free(b->grants);
	free(b->klass);
	*b = (struct np_valve_book){ 0 };
}

void np_valve_census_free(struct np_valve_census *c)
{
	np_strv_free(c->members);
	np_strv_free(c->tainted);
	*c = (struct np_valve_census){ 0 };
}

static struct np_valve_slot *slot_of(const struct np_valve_book *b, const char *node)
{
	for (size_t i = 0; i < b->n_slots; i++)
		if (streq(b->slots[i].node, node))
			return &b->slots[i];
	return NULL;
}

static int add_slot(struct np_valve_book *b, const char *node, time_t since, time_t renewed)
{
	struct np_valve_slot *s = reallocarray(b->slots, b->n_slots + 1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	b->slots = s;
	s[b->n_slots] = (struct np_valve_slot){ .node = strdup(node), .since = since, .renewed = renewed };
	if (!s[b->n_slots].node)
		return -ENOMEM;
	b->n_slots++;
	return 0;
}

static int add_grant(struct np_valve_book *b, time_t t)
{
	time_t *g = reallocarray(b->grants, b->n_grants + 1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	b->grants = g;
	g[b->n_grants++] = t;
	return 0;
}

/* a whole number of seconds since the epoch, 0 .. 2^40 */
static bool get_time(const json_t *v, time_t *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > (1LL << 40))
		return false;
	*out = (time_t)json_integer_value(v);
	return true;
}

static int parse_into(const json_t *root, struct np_valve_book *b)
{
	const json_t *cls = json_object_get(root, "class"), *slots = json_object_get(root, "slots"),
		     *grants = json_object_get(root, "grants"), *v;
	const char *name;
	size_t i;

	if (!json_is_object(root) || (cls && !json_is_string(cls)) || (slots && !json_is_object(slots)) ||
	    (grants && !json_is_array(grants)) || json_object_size(slots) + json_array_size(grants) > BOOK_MAX)
		return -EBADMSG;
	b->klass = strdup(cls ? json_string_value(cls) : "");
	if (!b->klass)
		return -ENOMEM;
	json_object_foreach((json_t *)slots, name, v) {
		time_t since, renewed;
		if (!np_kube_name_valid(name) || !json_is_object(v) || !get_time(json_object_get(v, "since"), &since) ||
		    !get_time(json_object_get(v, "renewed"), &renewed))
			return -EBADMSG;
		int r = add_slot(b, name, since, renewed);
		if (r < 0)
			return r;
	}
	json_array_foreach((json_t *)grants, i, v) {
		time_t t;
		if (!get_time(v, &t))
			return -EBADMSG;
		int r = add_grant(b, t);
		if (r < 0)
			return r;
	}
	return 0;
}

int np_valve_book_parse(const char *text, struct np_valve_book *b)
{
	*b = (struct np_valve_book){ 0 };
	if (!text) {
		b->klass = strdup("");
		return b->klass ? 0 : -ENOMEM;
	}
	json_auto_t *root = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	int r = root ? parse_into(root, b) : -EBADMSG;
	if (r < 0)
		np_valve_book_free(b);
	return r;
}

char *np_valve_book_format(const struct np_valve_book *b)
{
	json_auto_t *root = json_pack("{s:s,s:{},s:[]}", "class", b->klass ? b->klass : "", "slots", "grants");
	if (!root)
		return NULL;
	json_t *slots = json_object_get(root, "slots"), *grants = json_object_get(root, "grants");
	for (size_t i = 0; i < b->n_slots; i++)
		if (json_object_set_new(slots, b->slots[i].node,
					json_pack("{s:I,s:I}", "since", (json_int_t)b->slots[i].since, "renewed",
						  (json_int_t)b->slots[i].renewed)) < 0)
			return NULL;
	for (size_t i = 0; i < b->n_grants; i++)
		if (json_array_append_new(grants, json_integer((json_int_t)b->grants[i])) < 0)
			return NULL;
	return json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
}

bool np_valve_hard_effect(const char *effect)
{
	return effect && (streq(effect, "NoSchedule") || streq(effect, "NoExecute"));
}

bool np_valve_hard_own_taint(const json_t *taints, const char *prefix)
{
	size_t n = strlen(prefix), i;
	json_t *t;
	json_array_foreach((json_t *)taints, i, t) {
		const char *k = json_string_value(json_object_get(t, "key"));
		if (k && strncmp(k, prefix, n) == 0 && k[n] == '/' &&
		    np_valve_hard_effect(json_string_value(json_object_get(t, "effect"))))
			return true;
	}
	return false;
}

int np_valve_census_add(struct np_valve_census *c, const json_t *page, const char *prefix)
{
	size_t i;
	json_t *node;
	json_array_foreach(json_object_get(page, "items"), i, node) {
		const char *name = json_string_value(json_object_get(json_object_get(node, "metadata"), "name"));
		if (!name)
			continue;
		c->total++;
		if (np_strv_push(&c->members, &c->n_members, name) < 0)
			return -ENOMEM;
		if (np_valve_hard_own_taint(json_object_get(json_object_get(node, "spec"), "taints"), prefix) &&
		    np_strv_push(&c->tainted, &c->n_tainted, name) < 0)
			return -ENOMEM;
	}
	return 0;
}

unsigned np_valve_budget(double max_percent, unsigned total)
{
	if (total == 1)
		return 1;
	/* the small epsilon keeps 30 % of 20 at 6 despite binary fractions */
	double b = floor(max_percent * total / 100.0 + 1e-9);
	return b < 0 ? 0 : (unsigned)b;
}

unsigned np_valve_reclaim(struct np_valve_book *b, const struct np_valve_census *c, char *const *gone, time_t now,
			  const struct np_valve_limits *l)
{
	unsigned dropped = 0;
	size_t k = 0;
	for (size_t i = 0; i < b->n_slots; i++) {
		struct np_valve_slot *s = &b->slots[i];
		bool tainted = np_strv_contains(c->tainted, s->node);
		bool stale = (double)(now - s->renewed) > l->ttl_seconds;
		if (!tainted && (np_strv_contains(gone, s->node) || stale)) {
			free(s->node);
			dropped++;
			continue;
		}
		b->slots[k++] = *s;
	}
	b->n_slots = k;
	k = 0;
	for (size_t i = 0; i < b->n_grants; i++)
		if ((double)(now - b->grants[i]) < l->window_seconds)
			b->grants[k++] = b->grants[i];
	b->n_grants = k;
	return dropped;
}

unsigned np_valve_in_use(const struct np_valve_book *b, const struct np_valve_census *c)
{
	unsigned n = (unsigned)b->n_slots;
	for (size_t i = 0; i < c->n_tainted; i++)
		if (!slot_of(b, c->tainted[i]))
			n++;
	return n;
}

enum np_valve_verdict np_valve_decide(struct np_valve_book *b, const struct np_valve_census *c, const char *node,
				      time_t now, const struct np_valve_limits *l, bool *changed)
{
	struct np_valve_slot *s = slot_of(b, node);
	*changed = false;
	if (s) {
		if ((double)(now - s->renewed) > l->ttl_seconds / 4) {
			s->renewed = now;
			*changed = true;
		}
		return NP_VALVE_HELD;
	}
	if (np_strv_contains(c->tainted, node)) {
		*changed = add_slot(b, node, now, now) == 0;
		return NP_VALVE_HELD;
	}
	if (np_valve_in_use(b, c) + 1 > np_valve_budget(l->max_percent, c->total))
		return NP_VALVE_FULL;
	if (l->max_new > 0 && b->n_grants >= l->max_new)
		return NP_VALVE_RATE;
	if (add_slot(b, node, now, now) < 0 || add_grant(b, now) < 0)
		return NP_VALVE_FULL; /* out of memory: refuse, never taint without a slot */
	*changed = true;
	return NP_VALVE_GRANTED;
}

bool np_valve_release(struct np_valve_book *b, const char *node)
{
	struct np_valve_slot *s = slot_of(b, node);
	if (!s)
		return false;
	free(s->node);
	*s = b->slots[--b->n_slots];
	return true;
}

char *np_valve_lease_name(const char *klass)
{
	if (!klass)
		return strdup("nodeprint-valve");
	char *n = np_asprintf("nodeprint-valve-%s", klass);
	if (!n)
		return NULL;
	for (char *p = n + strlen("nodeprint-valve-"); *p; p++) {
		char ch = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;
		*p = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ? ch : '-';
	}
	/* a DNS-1123 name ends alphanumeric */
	size_t len = strlen(n);
	while (len > 0 && n[len - 1] == '-')
		n[--len] = '\0';
	return n;
}

/* ---- I/O ---- */

struct acquire {
	const struct np_valve_ctx *x;
	struct np_valve_census census;
	char **gone;                    /* holders missing from the LIST whose Node is gone */
	char **present;                 /* ... and those that exist (another class, or not labelled yet) */
	size_t n_gone, n_present;
	time_t now;
	bool dry, release;
	/* the outcome */
	enum np_valve_verdict verdict;
	unsigned in_use, budget, reclaimed;
	bool released, write, lease_exists;
	char *rv;                       /* the Lease's resourceVersion as read (then as written) */
	time_t rate_free_at;
	char **err;
};

static int census_page(json_t *page, void *ud)
{
	struct acquire *a = ud;
	return np_valve_census_add(&a->census, page, a->x->prefix);
}

static char *annotation_key(const char *prefix)
{
	return np_asprintf("%s/%s", prefix, VALVE_ANNOTATION);
}

/* Look up holders that the LIST did not show: 404 means their Node is gone. */
static int look_up_missing(struct acquire *a, const struct np_valve_book *b)
{
	for (size_t i = 0; i < b->n_slots; i++) {
		const char *n = b->slots[i].node;
		if (np_strv_contains(a->census.members, n) || np_strv_contains(a->gone, n) ||
		    np_strv_contains(a->present, n) || streq(n, a->x->node))
			continue;
		json_auto_t *obj = NULL;
		_cleanup_free_ char *e = NULL;
		int r = np_kube_get_node(a->x->kc, n, &obj, &e);
		if (r < 0 && r != -ENOENT) {
			np_kube_seterr(a->err, r, "%s", e ? e : strerror(-r));
			return r;
		}
		if (np_strv_push(r == -ENOENT ? &a->gone : &a->present, r == -ENOENT ? &a->n_gone : &a->n_present, n) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int edit_book(json_t *lease, void *ud)
{
	struct acquire *a = ud;
	const struct np_valve_ctx *x = a->x;
	_cleanup_free_ char *key = annotation_key(x->prefix);
	if (!key)
		return -ENOMEM;
	json_t *meta = json_object_get(lease, "metadata");
	json_t *ann = json_object_get(meta, "annotations");
	const char *text = json_string_value(json_object_get(ann, key));
	_cleanup_(np_valve_book_free) struct np_valve_book b = { 0 };
	int r = np_valve_book_parse(text, &b);
	if (r < 0)
		return np_kube_seterr(a->err, r, "lease %s: annotation %s is not a valve book (delete the Lease to reset it)",
				      json_string_value(json_object_get(meta, "name")) ?: "?", key);
	if (text && !streq(b.klass, x->klass ? x->klass : ""))
		return np_kube_seterr(a->err, -ENOTUNIQ, "lease %s is the valve of class '%s', not '%s'",
				      json_string_value(json_object_get(meta, "name")) ?: "?", b.klass,
				      x->klass ? x->klass : "");
	free(b.klass);
	b.klass = strdup(x->klass ? x->klass : "");
	if (!b.klass)
		return -ENOMEM;
	if (!a->release) {
		r = look_up_missing(a, &b);
		if (r < 0)
			return r;
	}
	/* the time of this attempt, not of the cycle: after an outage the cycle's start is long past, and
	 * a grant stamped with it would look old to the rate limit */
	time_t now = a->now ? a->now : time(NULL);
	/* a release has no census (no LIST): it reclaims nothing, lest it drop a tainted holder */
	a->reclaimed = a->release ? 0 : np_valve_reclaim(&b, &a->census, a->gone, now, &x->limits);
	bool changed = a->reclaimed > 0;
	if (a->release) {
		a->released = np_valve_release(&b, x->node);
		changed = a->released;
	} else {
		bool c;
		a->verdict = np_valve_decide(&b, &a->census, x->node, now, &x->limits, &c);
		changed = changed || c;
	}
	a->rate_free_at = 0;
	for (size_t i = 0; a->verdict == NP_VALVE_RATE && i < b.n_grants; i++)
		if (!a->rate_free_at || b.grants[i] + (time_t)ceil(x->limits.window_seconds) < a->rate_free_at)
			a->rate_free_at = b.grants[i] + (time_t)ceil(x->limits.window_seconds);
	free(a->rv);
	const char *rv = json_string_value(json_object_get(meta, "resourceVersion"));
	a->rv = rv ? strdup(rv) : NULL;
	if (rv && !a->rv)
		return -ENOMEM;
	a->in_use = np_valve_in_use(&b, &a->census);
	a->budget = np_valve_budget(x->limits.max_percent, a->census.total);
	a->write = changed;
	a->lease_exists = json_object_get(meta, "resourceVersion") != NULL;
	if (!changed || a->dry)
		return 0;
	_cleanup_free_ char *out = np_valve_book_format(&b);
	if (!out)
		return -ENOMEM;
	if (!json_is_object(ann)) {
		ann = json_object();
		if (json_object_set_new(meta, "annotations", ann) < 0)
			return -ENOMEM;
	}
	char stamp[40];
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S.000000Z", &tm);
	json_t *spec = json_object_get(lease, "spec");
	if (!json_is_object(spec)) {
		spec = json_object();
		if (json_object_set_new(lease, "spec", spec) < 0)
			return -ENOMEM;
	}
	if (json_object_set_new(ann, key, json_string(out)) < 0 ||
	    json_object_set_new(spec, "holderIdentity", json_string(x->node)) < 0 ||
	    json_object_set_new(spec, "renewTime", json_string(stamp)) < 0 ||
	    json_object_set_new(spec, "leaseDurationSeconds", json_integer((json_int_t)x->limits.ttl_seconds)) < 0)
		return -ENOMEM;
	return 1;
}

static void acquire_free(struct acquire *a)
{
	np_valve_census_free(&a->census);
	np_strv_free(a->gone);
	np_strv_free(a->present);
	free(a->rv);
}

void np_valve_outcome_free(struct np_valve_outcome *o)
{
	free(o->lease);
	free(o->rv);
	o->lease = o->rv = NULL;
}

int np_valve_acquire(const struct np_valve_ctx *x, time_t now, bool dry, struct np_valve_outcome *out, char **msg,
		     char **err)
{
	_cleanup_free_ char *sel = x->klass ? np_asprintf("%s/class=%s", x->prefix, x->klass) : NULL;
	_cleanup_free_ char *name = np_valve_lease_name(x->klass);
	if ((x->klass && !sel) || !name)
		return -ENOMEM;
	_cleanup_(acquire_free) struct acquire a = { .x = x, .now = now, .dry = dry, .err = err };
	int r = np_kube_list(x->kc, "/api/v1/nodes", sel, NULL, 500, census_page, &a, err);
	if (r < 0)
		return r;
	/* a Node not labelled with its class yet (first cycle: the label patch comes later) is one of them */
	if (!np_strv_contains(a.census.members, x->node))
		a.census.total++;
	if (dry) {
		json_auto_t *lease = NULL;
		r = np_kube_get_lease(x->kc, x->ns, name, &lease, err);
		if (r == -ENOENT) {
			lease = json_pack("{s:{s:s}}", "metadata", "name", name);
			r = lease ? 0 : -ENOMEM;
		}
		if (r >= 0)
			r = edit_book(lease, &a);
	} else {
		json_auto_t *stored = NULL;
		r = np_kube_lease_update(x->kc, x->ns, name, edit_book, &a, 0, &stored, err);
		const char *rv = json_string_value(json_object_get(json_object_get(stored, "metadata"), "resourceVersion"));
		if (r > 0 && rv) {
			free(a.rv);
			if (!(a.rv = strdup(rv)))
				return -ENOMEM;
		}
	}
	if (r < 0)
		return r;
	if (out) {
		*out = (struct np_valve_outcome){ .verdict = a.verdict, .in_use = a.in_use, .budget = a.budget,
						  .total = a.census.total, .reclaimed = a.reclaimed, .write = a.write,
						  .lease_exists = a.lease_exists, .lease = TAKE_PTR(name), .rv = TAKE_PTR(a.rv),
						  .rate_free_at = a.rate_free_at };
	}
	if (a.verdict == NP_VALVE_HELD || a.verdict == NP_VALVE_GRANTED)
		return 1;
	const char *cls = x->klass ? x->klass : "";
	const char *lease = out ? out->lease : name;
	if (a.verdict == NP_VALVE_RATE)
		*msg = np_asprintf("safety valve: refusing a NoSchedule/NoExecute taint: %u new ones were allowed in class "
				   "'%s' within %.0f s (maxNewPerWindow %u); %u of %u nodes hold one (lease %s/%s)",
				   x->limits.max_new, cls, x->limits.window_seconds, x->limits.max_new, a.in_use,
				   a.census.total, x->ns, lease);
	else
		*msg = np_asprintf("safety valve: refusing a NoSchedule/NoExecute taint: %u of %u nodes of class '%s' "
				   "hold one, the budget is %u (maxTaintedPercent %.0f%%; lease %s/%s)", a.in_use,
				   a.census.total, cls, a.budget, x->limits.max_percent, x->ns, lease);
	return *msg ? 0 : -ENOMEM;
}

int np_valve_release_slot(const struct np_valve_ctx *x, char **err)
{
	_cleanup_free_ char *name = np_valve_lease_name(x->klass);
	if (!name)
		return -ENOMEM;
	_cleanup_(acquire_free) struct acquire a = { .x = x, .release = true, .err = err };
	/* no Lease, no slot: the edit changes nothing and nothing is written (a healthy fleet creates none) */
	int r = np_kube_lease_update(x->kc, x->ns, name, edit_book, &a, 0, NULL, err);
	return r < 0 ? r : a.released;
}

int np_valve_lease_version(const struct np_valve_ctx *x, char **rv, char **err)
{
	_cleanup_free_ char *name = np_valve_lease_name(x->klass);
	json_auto_t *lease = NULL;
	*rv = NULL;
	if (!name)
		return -ENOMEM;
	int r = np_kube_get_lease(x->kc, x->ns, name, &lease, err);
	if (r == -ENOENT) {
		free(err ? *err : NULL);
		if (err)
			*err = NULL;
		return 0;
	}
	if (r < 0)
		return r;
	const char *v = json_string_value(json_object_get(json_object_get(lease, "metadata"), "resourceVersion"));
	if (!v)
		return np_kube_seterr(err, -EBADMSG, "lease %s/%s: no resourceVersion", x->ns, name);
	*rv = strdup(v);
	return *rv ? 0 : -ENOMEM;
}

/* ---- a waiting Node's pauses ---- */

void np_valve_wait_reset(struct np_valve_wait *w)
{
	free(w->rv);
	*w = (struct np_valve_wait){ 0 };
}

enum np_valve_step np_valve_wait_step(const struct np_valve_wait *w, double mono, double cap, double ttl)
{
	/* in full at least every TTL, pause or not */
	if (!w->refusals || cap <= 0 || mono - w->last_full >= ttl)
		return NP_VALVE_ASK;
	if (mono < w->next)
		return NP_VALVE_SKIP;
	return w->verdict == NP_VALVE_FULL && w->rv ? NP_VALVE_PROBE : NP_VALVE_ASK;
}

/* the pause after @refusals refusals: min(cap, base * 2^(refusals-1)), equal jitter */
static double pause_s(unsigned refusals, double base, double cap, uint32_t rnd)
{
	if (cap < base)
		cap = base;
	const struct np_backoff b = { .max_attempts = UINT32_MAX, .base_ms = (uint64_t)(base * 1000),
				      .cap_ms = (uint64_t)(cap * 1000) };
	return (double)np_backoff_delay_ms(&b, refusals, rnd) / 1000.0;
}

int np_valve_wait_refused(struct np_valve_wait *w, const struct np_valve_outcome *o, double mono, time_t now,
			  double base, double cap, uint32_t rnd)
{
	bool moved = w->refusals && !(w->rv && o->rv ? streq(w->rv, o->rv) : w->rv == o->rv);
	char *rv = o->rv ? strdup(o->rv) : NULL;
	if (o->rv && !rv)
		return -ENOMEM;
	free(w->rv);
	w->rv = rv;
	/* the Lease changed since the last refusal: slots move, ask often again */
	w->refusals = moved ? 1 : w->refusals + 1;
	w->verdict = o->verdict;
	w->last_full = mono;
	if (o->verdict == NP_VALVE_RATE && o->rate_free_at > now)
		w->next = mono + (double)(o->rate_free_at - now) + (base > 0 ? base * (rnd % 1001) / 1000.0 : 0);
	else
		w->next = mono + pause_s(w->refusals, base, cap, rnd);
	return 0;
}

void np_valve_wait_unchanged(struct np_valve_wait *w, double mono, double base, double cap, uint32_t rnd)
{
	w->refusals++;
	w->next = mono + pause_s(w->refusals, base, cap, rnd);
}

/* ---- the gate in front of the valve ---- */

char *np_valve_optout_label(const char *prefix)
{
	return np_asprintf("%s/taints", prefix);
}

void np_taint_gate_free(struct np_taint_gate *g)
{
	free(g->kept);
	np_strv_free(g->observed);
	np_strv_free(g->disabled);
	np_strv_free(g->need_slot);
	*g = (struct np_taint_gate){ 0 };
}

static bool observed(const struct np_policy *pol, const char *key)
{
	size_t n = strlen(pol->label_prefix);
	if (pol->observe)
		return true;
	if (strncmp(key, pol->label_prefix, n) != 0 || key[n] != '/')
		return false;
	const struct np_action *a = np_policy_action(pol, key + n + 1);
	return a && a->observe;
}

static bool has_taint(const json_t *taints, const char *key)
{
	size_t i;
	json_t *t;
	json_array_foreach((json_t *)taints, i, t)
		if (streq(json_string_value(json_object_get(t, "key")) ?: "", key))
			return true;
	return false;
}

int np_taint_gate(const struct np_policy *pol, const struct np_desired *d, const json_t *node,
		  struct np_taint_gate *g)
{
	*g = (struct np_taint_gate){ 0 };
	_cleanup_free_ char *optkey = np_valve_optout_label(pol->label_prefix);
	if (!optkey || !(g->kept = calloc(d->n_taints + 1, sizeof(*g->kept))))
		return -ENOMEM;
	const json_t *labels = json_object_get(json_object_get(node, "metadata"), "labels");
	const json_t *taints = json_object_get(json_object_get(node, "spec"), "taints");
	bool opted_out = streq(json_string_value(json_object_get(labels, optkey)) ?: "", "disabled");
	bool carries_hard = np_valve_hard_own_taint(taints, pol->label_prefix);
	int r = 0;
	for (size_t i = 0; r >= 0 && i < d->n_taints; i++) {
		const struct np_taint *t = &d->taints[i];
		bool hard = np_valve_hard_effect(t->effect);
		if (observed(pol, t->key))
			r = np_strv_push(&g->observed, &g->n_observed, t->key);
		else if (hard && opted_out)
			r = np_strv_push(&g->disabled, &g->n_disabled, t->key);
		else {
			g->kept[g->n_kept++] = *t;
			if (hard && !carries_hard && !has_taint(taints, t->key))
				r = np_strv_push(&g->need_slot, &g->n_need_slot, t->key);
		}
	}
	if (r < 0)
		np_taint_gate_free(g);
	return r;
}
