// SPDX-License-Identifier: Apache-2.0
/* publish.c - the API side of a reconcile: patches, guarded taints, safety valve, events. */
#define _GNU_SOURCE
#include "../policy/vocab.h"
#include "publish.h"
#include "valve.h"
#include "../shared/log.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <string.h>
#include <sys/random.h>
#include <time.h>

int np_publisher_init(struct np_publisher *p, struct np_kube_client *kc, const char *node, const char *ns)
{
	*p = (struct np_publisher){ .kc = kc, .resync = true };
	np_event_book_init(&p->book);
	p->poll_seconds = 10;
	p->node = strdup(node);
	p->ns = strdup(ns);
	return p->node && p->ns ? 0 : -ENOMEM;
}

void np_publisher_free(struct np_publisher *p)
{
	free(p->node);
	free(p->ns);
	np_valve_wait_reset(&p->wait);
	json_decref(p->node_obj);
	np_taint_memory_free(&p->mem);
	np_event_book_free(&p->book);
	for (size_t i = 0; i < p->n_seen; i++)
		free(p->seen_findings[i]);
	free(p->seen_findings);
	*p = (struct np_publisher){ 0 };
}

static void keep_node(struct np_publisher *p, json_t *node)
{
	if (!node)
		return;
	json_decref(p->node_obj);
	p->node_obj = node;
}

static int patch(struct np_publisher *p, bool status, enum np_patch_type t, json_t *body, char **err)
{
	_cleanup_free_ char *text = json_dumps(body, JSON_COMPACT);
	if (!text)
		return -ENOMEM;
	json_t *out = NULL;
	int r = np_kube_patch_node(p->kc, p->node, status, t, text, &out, err);
	if (r < 0) {
		p->api_errors++;
		p->resync = true;
		return r;
	}
	p->patches++;
	keep_node(p, out);
	return 0;
}

/* ---- safety valve ---- */

static struct np_valve_ctx valve_ctx(const struct np_publisher *p, const struct np_policy *pol,
				     const struct np_desired *d)
{
	return (struct np_valve_ctx){ .kc = p->kc, .ns = p->ns, .prefix = pol->label_prefix, .klass = d->klass,
				      .node = p->node,
				      .limits = { .max_percent = pol->valve_max_tainted_percent,
						  .max_new = (unsigned)pol->valve_max_new_per_window,
						  .window_seconds = pol->valve_window_seconds,
						  .ttl_seconds = pol->valve_slot_ttl_seconds,
						  .retry_max_seconds = pol->valve_retry_max_seconds } };
}

static double mono_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint32_t random32(void)
{
	uint32_t rnd = 0;
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
		rnd = (uint32_t)mono_seconds() * 2654435761u;
	return rnd;
}

/*
 * A Node that waits for a slot: may it skip asking the valve at @mono (it paused, or the Lease is
 * as it was at the last refusal)? Returns 1 (skip: the taint stays refused, no Event), 0 (ask),
 * -errno (the probe failed).
 */
static int valve_wait(struct np_publisher *p, const struct np_valve_ctx *x, double mono, char **err)
{
	struct np_valve_wait *w = &p->wait;
	double base = p->poll_seconds > 0.1 ? p->poll_seconds : 0.1;
	switch (np_valve_wait_step(w, mono, x->limits.retry_max_seconds, x->limits.ttl_seconds)) {
	case NP_VALVE_ASK:
		return 0;
	case NP_VALVE_SKIP:
		return 1;
	case NP_VALVE_PROBE:
		break;
	}
	_cleanup_free_ char *rv = NULL;
	int r = np_valve_lease_version(x, &rv, err);
	if (r < 0)
		return r;
	if (!rv || !streq(rv, w->rv))
		return 0;
	np_valve_wait_unchanged(w, mono, base, x->limits.retry_max_seconds, random32());
	return 1;
}

static int refuse(struct np_publisher *p, char *const *keys, size_t n, const char *reason, const char *type,
		  const char *msg, time_t now, char ***refused, size_t *n_refused)
{
	for (size_t i = 0; i < n; i++) {
		struct np_event e = { .reason = (char *)reason, .type = (char *)type, .message = (char *)msg,
				      .kind = "Node", .name = p->node, .subject = keys[i] };
		np_publish_event(p, &e, now, NULL);
		if (refused && np_strv_push(refused, n_refused, keys[i]) < 0)
			return -ENOMEM;
	}
	return 0;
}

/*
 * The gate and the valve before the taint write: held-back taints get their Events; hard keys
 * that need a slot get one from the class's Lease or are refused (TaintRefused). Refused keys
 * into @refused. A valve that cannot decide (API error) refuses: never a hard taint without a
 * slot; its error goes to *@err and is returned after the other writes.
 */
static int valve(struct np_publisher *p, const struct np_policy *pol, const struct np_desired *d,
		 const struct np_taint_gate *g, time_t now, char ***refused, size_t *n_refused, char **err)
{
	int r = 0;
	for (size_t i = 0; i < g->n_observed; i++) {
		_cleanup_free_ char *m = np_asprintf("observe mode: taint %s is not written (policy %s)", g->observed[i],
						     pol->observe ? "observe: true" : "action observe: true");
		if (!m || refuse(p, &g->observed[i], 1, NP_EVENT_TAINT_OBSERVED, "Normal", m, now, NULL, NULL) < 0)
			return -ENOMEM;
	}
	if (g->n_disabled) {
		_cleanup_free_ char *m = np_asprintf("NoSchedule/NoExecute taints are disabled on this node by its label "
						     "%s/taints=disabled", pol->label_prefix);
		if (!m || refuse(p, g->disabled, g->n_disabled, NP_EVENT_TAINT_DISABLED, "Normal", m, now, NULL, NULL) < 0)
			return -ENOMEM;
	}
	p->valve_granted = false;
	if (!g->n_need_slot) {
		np_valve_wait_reset(&p->wait);   /* not waiting (any more) */
		return 0;
	}
	struct np_valve_ctx x = valve_ctx(p, pol, d);
	_cleanup_free_ char *msg = NULL;
	_cleanup_(np_valve_outcome_free) struct np_valve_outcome oc = { 0 };
	double mono = mono_seconds();
	r = valve_wait(p, &x, mono, err);
	if (r > 0) {
		/* still waiting: refused again without a request, the last refusal's Event stands */
		for (size_t i = 0; i < g->n_need_slot; i++)
			if (np_strv_push(refused, n_refused, g->need_slot[i]) < 0)
				return -ENOMEM;
		return 0;
	}
	if (r == 0)
		r = np_valve_acquire(&x, 0, false, &oc, &msg, err);
	if (r > 0) {
		np_valve_wait_reset(&p->wait);
		p->valve_granted = true;
		p->slot = NP_SLOT_HELD;
		return 0;
	}
	if (r < 0) {
		p->api_errors++;
		msg = np_asprintf("safety valve: cannot decide (%s); NoSchedule/NoExecute taints wait",
				  err && *err ? *err : strerror(-r));
		np_log(NP_LOG_WARN, "safety valve unavailable", "node=%s detail=\"%s\"", p->node, msg ?: "");
		/* no Event while the API fails: it would fail too */
		for (size_t i = 0; i < g->n_need_slot; i++)
			if (np_strv_push(refused, n_refused, g->need_slot[i]) < 0)
				return -ENOMEM;
		return r;
	}
	p->valve_refusals++;
	if (np_valve_wait_refused(&p->wait, &oc, mono, time(NULL), p->poll_seconds > 0.1 ? p->poll_seconds : 0.1,
				  x.limits.retry_max_seconds, random32()) < 0)
		return -ENOMEM;
	np_log(NP_LOG_WARN, "safety valve", "node=%s detail=\"%s\" next_ask_s=%.1f", p->node, msg,
	       p->wait.next - mono);
	return refuse(p, g->need_slot, g->n_need_slot, NP_EVENT_TAINT_REFUSED, "Warning", msg, now, refused, n_refused);
}

/* ---- taints ---- */

struct taint_edit {
	struct np_publisher *p;
	const struct np_desired *d;
	const struct np_reconcile_opts *o;
	const char *prefix;
	/* the opts again with every hard key refused: for a Node found without a hard taint of ours
	 * (someone removed it since we read the Node) when the valve gave no slot this cycle */
	const struct np_reconcile_opts *no_hard;
	bool hard_after;  /* the list as written (or left) holds a hard taint of ours */
};

static int edit_taints(json_t *taints, void *ud)
{
	struct taint_edit *te = ud;
	unsigned added, removed;
	bool guard = !te->p->valve_granted && !np_valve_hard_own_taint(taints, te->prefix);
	json_t *next = np_reconcile_taints(taints, te->d, guard ? te->no_hard : te->o, &te->p->mem, &added, &removed);
	te->hard_after = np_valve_hard_own_taint(next ? next : taints, te->prefix);
	if (!next)
		return 0;
	json_array_clear(taints);
	json_array_extend(taints, next);
	json_decref(next);
	return 1;
}

/* Every hard taint key of @d, and @refused: what a Node without a slot may not add. */
static int all_hard(const struct np_desired *d, char *const *refused, char ***out)
{
	size_t n = 0;
	for (size_t i = 0; refused && refused[i]; i++)
		if (np_strv_push(out, &n, refused[i]) < 0)
			return -ENOMEM;
	for (size_t i = 0; i < d->n_taints; i++)
		if (np_valve_hard_effect(d->taints[i].effect) && np_strv_push(out, &n, d->taints[i].key) < 0)
			return -ENOMEM;
	return 0;
}

/* After the taint write: a Node that carries no hard taint of ours any more gives its slot back. */
static int free_slot(struct np_publisher *p, const struct np_policy *pol, const struct np_desired *d, bool hard_after)
{
	if (hard_after) {
		if (p->slot == NP_SLOT_NONE)
			p->slot = NP_SLOT_UNKNOWN; /* tainted: it may hold one (a restart, an older version) */
		return 0;
	}
	if (p->slot == NP_SLOT_NONE)
		return 0;
	struct np_valve_ctx x = valve_ctx(p, pol, d);
	_cleanup_free_ char *e = NULL;
	int r = np_valve_release_slot(&x, &e);
	if (r < 0) {
		p->api_errors++;
		np_log(NP_LOG_WARN, "safety valve: cannot give the slot back (retried next cycle; reclaimed after "
		       "slotTTLSeconds otherwise)", "node=%s error=\"%s\"", p->node, e ?: strerror(-r));
		return r;
	}
	if (r > 0)
		np_log(NP_LOG_INFO, "safety valve: slot given back", "node=%s class=%s", p->node, d->klass ?: "");
	p->slot = NP_SLOT_NONE;
	return 0;
}

/* ---- events for findings that appear ---- */

static bool seen(char **v, size_t n, const char *k)
{
	for (size_t i = 0; i < n; i++)
		if (streq(v[i], k))
			return true;
	return false;
}

/* The Node's condition @type, or NULL. */
static json_t *node_condition(const struct np_publisher *p, const char *type)
{
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(json_object_get(p->node_obj, "status"), "conditions"), i, c) {
		const char *t = json_string_value(json_object_get(c, "type"));
		if (t && streq(t, type))
			return c;
	}
	return NULL;
}

static bool cond_is(const json_t *c, const char *status, const char *reason)
{
	const char *st = json_string_value(json_object_get(c, "status"));
	const char *re = json_string_value(json_object_get(c, "reason"));
	return st && streq(st, status) && (!reason || (re && streq(re, reason)));
}

/*
 * After a restart the Node already says what we reported: a finding whose
 * condition is already False on the Node was announced by our previous life.
 * Being blind has no condition of its own: it was announced when every
 * condition it turns Unknown already is Unknown on the Node for the same
 * reason (the source's: KernelLogUnreadable, ...).
 */
static bool announced_before(const struct np_publisher *p, const struct np_policy *pol, const struct np_desired *d,
			     const char *finding)
{
	if (streq(finding, NP_FINDING_SOURCE_UNREADABLE)) {
		size_t n = 0;
		for (size_t i = 0; i < d->n_conditions; i++) {
			const struct np_condition *c = &d->conditions[i];
			if (!streq(c->status, "Unknown"))
				continue;
			if (!cond_is(node_condition(p, c->type), "Unknown", c->reason))
				return false;
			n++;
		}
		return n > 0;
	}
	const struct np_action *a = np_policy_action(pol, finding);
	if (!a || !a->condition)
		return false;
	return cond_is(node_condition(p, a->condition), "False", NULL);
}

static bool same_subject(const struct np_finding *f, const struct np_event *e)
{
	return streq(f->subject, e->subject ? e->subject : "");
}

/*
 * Events of findings that are new since the last publish. A finding whose Event could not be
 * sent (an API error, or not tried after one) is not remembered as announced, so the next cycle
 * tries again; after the first error no more Events are tried this cycle. @d is the whole
 * desired state (the announced set becomes its findings), or with @partial a part of it (its
 * findings join the announced set).
 */
static int finding_events(struct np_publisher *p, const struct np_desired *d, time_t now, bool partial, char **err)
{
	_cleanup_free_ bool *failed = calloc(d->n_findings + 1, sizeof(*failed));
	char **now_keys = NULL;
	size_t n_now = 0;
	int r = failed ? 0 : -ENOMEM;
	for (size_t i = 0; failed && i < d->n_events; i++) {
		const struct np_event *e = &d->events[i];
		/* an event of a finding goes out when its finding (id, subject) is new */
		bool is_new = true;
		for (size_t f = 0; f < d->n_findings; f++)
			if (same_subject(&d->findings[f], e)) {
				_cleanup_free_ char *k = np_asprintf("%s\t%s", d->findings[f].id, d->findings[f].subject);
				is_new = is_new && k && !seen(p->seen_findings, p->n_seen, k);
			}
		if (!is_new)
			continue;
		if (r >= 0)
			r = np_publish_event(p, e, now, err);
		for (size_t f = 0; r < 0 && f < d->n_findings; f++)
			failed[f] = failed[f] || same_subject(&d->findings[f], e);
	}
	if (partial) { /* the others stay announced */
		now_keys = TAKE_PTR(p->seen_findings);
		n_now = p->n_seen;
	}
	for (size_t i = 0; failed && i < d->n_findings; i++) {
		char *k = failed[i] ? NULL : np_asprintf("%s\t%s", d->findings[i].id, d->findings[i].subject);
		if (k && partial && seen(now_keys, n_now, k))
			free(k);
		else if (!failed[i] && np_strv_push_take(&now_keys, &n_now, k) < 0)
			r = r < 0 ? r : -ENOMEM;
	}
	np_strv_free(p->seen_findings);
	p->seen_findings = now_keys;
	p->n_seen = n_now;
	return r;
}

/* The Pod with this UID on our node: its name and namespace. Returns 1 found, 0 not, -errno. */
struct pod_find {
	const char *uid;
	char *name, *ns;
};

static int pod_page(json_t *page, void *ud)
{
	struct pod_find *pf = ud;
	size_t i;
	json_t *pod;
	json_array_foreach(json_object_get(page, "items"), i, pod) {
		const json_t *m = json_object_get(pod, "metadata");
		const char *uid = json_string_value(json_object_get(m, "uid"));
		if (uid && streq(uid, pf->uid) && !pf->name) {
			pf->name = strdup(json_string_value(json_object_get(m, "name")) ?: "");
			pf->ns = strdup(json_string_value(json_object_get(m, "namespace")) ?: "default");
		}
	}
	return 0;
}

static char *uid_of(const json_t *obj)
{
	const char *u = json_string_value(json_object_get(json_object_get(obj, "metadata"), "uid"));
	return u ? strdup(u) : NULL;
}

/* A PersistentVolume's claim (spec.claimRef) as name, namespace and uid. A claim in use is bound, and
 * binding writes the claim's uid into the reference (the PV controller), so the PVC itself is never
 * read (RBAC grants no get on persistentvolumeclaims). Returns 1 found, 0 not bound, -errno. */
static int resolve_claim(struct np_publisher *p, const char *pv_name, struct np_event *out, char **err)
{
	json_auto_t *pv = NULL;
	int r = np_kube_get_pv(p->kc, pv_name, &pv, err);
	if (r < 0)
		return r;
	const json_t *ref = json_object_get(json_object_get(pv, "spec"), "claimRef");
	const char *n = json_string_value(json_object_get(ref, "name"));
	const char *ns = json_string_value(json_object_get(ref, "namespace"));
	const char *uid = json_string_value(json_object_get(ref, "uid"));
	if (!n || !ns)
		return 0;
	out->name = strdup(n);
	out->namespace_ = strdup(ns);
	if (uid && !(out->uid = strdup(uid)))
		return -ENOMEM;
	return out->name && out->namespace_ ? 1 : -ENOMEM;
}

/*
 * Findings name Pods by UID ("uid:<uid>") and claims by their volume ("pv:<name>"), the only
 * identities a node sees; this resolves them: pods on this node, the PV's spec.claimRef. Every
 * object gets its uid as well (`kubectl describe` selects Events by it): the Node's from the copy
 * the publisher keeps, a PersistentVolume's from a GET.
 * Returns 1 with @out filled (free its name, namespace_ and uid), 0 when it cannot be resolved.
 */
static int resolve_object(struct np_publisher *p, const struct np_event *e, struct np_event *out, char **err)
{
	*out = *e;
	out->name = out->namespace_ = out->uid = NULL;
	if (streq(e->kind, "Pod") && np_startswith(e->name, "uid:")) {
		struct pod_find pf = { .uid = e->name + 4 };
		int r = np_kube_list_pods_on_node(p->kc, p->node, 500, pod_page, &pf, err);
		if (r < 0 || !pf.name) {
			free(pf.name);
			free(pf.ns);
			return r < 0 ? r : 0;
		}
		out->name = pf.name;
		out->namespace_ = pf.ns;
		out->uid = strdup(pf.uid);
		return 1;
	}
	if (streq(e->kind, "PersistentVolumeClaim") && np_startswith(e->name, "pv:")) {
		int r = resolve_claim(p, e->name + 3, out, err);
		if (r <= 0) {
			free(out->name);
			free(out->namespace_);
			free(out->uid);
		}
		return r;
	}
	out->name = strdup(e->name);
	out->namespace_ = e->namespace_ ? strdup(e->namespace_) : NULL;
	if (!out->name)
		return -ENOMEM;
	if (streq(e->kind, "Node") && streq(e->name, p->node)) {
		json_t *n = NULL;
		if (!p->node_obj && np_kube_get_node(p->kc, p->node, &n, NULL) >= 0) /* a kernel-log Event early on */
			keep_node(p, n);
		out->uid = uid_of(p->node_obj);
	} else if (streq(e->kind, "PersistentVolume")) {
		json_auto_t *pv = NULL;
		if (np_kube_get_pv(p->kc, e->name, &pv, NULL) >= 0)
			out->uid = uid_of(pv);
	}
	return 1;
}

static int send_event(struct np_publisher *p, const struct np_event *e, time_t now, char **err);

int np_publish_event(struct np_publisher *p, const struct np_event *e, time_t now, char **err)
{
	struct np_event obj;
	int r = resolve_object(p, e, &obj, err);
	if (r <= 0) {
		if (r == 0)
			np_log(NP_LOG_INFO, "event object not found", "kind=%s name=%s reason=%s", e->kind, e->name,
			       e->reason);
		return r;
	}
	r = send_event(p, &obj, now, err);
	free(obj.name);
	free(obj.namespace_);
	free(obj.uid);
	return r;
}

/* The request the book decided (@v on series @s) for @e. Returns 0 or -errno (given back to the book). */
static int send_verdict(struct np_publisher *p, const struct np_event *e, struct np_event_series *s,
			enum np_event_verdict v, char **err)
{
	json_t *out = NULL;
	int r;
	if (v == NP_EVENT_CREATE) {
		json_t *obj = np_event_object(e, p->node, s);
		if (!obj)
			return -ENOMEM;
		r = np_kube_create_event(p->kc, NP_EVENTS_CORE_V1, np_event_namespace(e), obj, &out, err);
		json_decref(obj);
		const char *name = json_string_value(json_object_get(json_object_get(out, "metadata"), "name"));
		if (r >= 0 && name)
			r = np_events_created(s, name);
	} else {
		json_t *pt = np_event_count_patch(e, s);
		_cleanup_free_ char *text = pt ? json_dumps(pt, JSON_COMPACT) : NULL;
		json_decref(pt);
		if (!text)
			return -ENOMEM;
		r = np_kube_patch_event(p->kc, NP_EVENTS_CORE_V1, np_event_namespace(e), s->object_name,
					NP_PATCH_MERGE, text, &out, err);
	}
	json_decref(out);
	if (r < 0) {
		np_events_failed(&p->book, e, s, v, r);
		p->api_errors++;
		return r;
	}
	p->events_sent++;
	return 0;
}

static int send_event(struct np_publisher *p, const struct np_event *e, time_t now, char **err)
{
	struct np_event_series *s;
	enum np_event_verdict v = np_events_decide(&p->book, e, now, &s);
	if (v == NP_EVENT_SUPPRESS)
		return 0; /* counted in its series, sent with the next request (np_publish_held_events) */
	return send_verdict(p, e, s, v, err);
}

int np_publish_held_events(struct np_publisher *p, time_t now, char **err)
{
	struct np_event_series *s;
	const struct np_event *e;
	enum np_event_verdict v;
	while ((v = np_events_due(&p->book, now, &s, &e)) != NP_EVENT_SUPPRESS) {
		int r = send_verdict(p, e, s, v, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The server answered and refused the request for its content: 400, 403, 413, 422. */
static bool refused_by_server(int r)
{
	return r == -EBADMSG || r == -EPERM || r == -E2BIG || r == -EINVAL;
}

struct write_steps {
	struct np_publisher *p;
	char **err;  /* the caller's: the first error's message */
	bool go;     /* the next write may be tried */
	int first;   /* the first error, 0 while none */
};

/* Account one write's result @r with its message *@e (taken). */
static void step(struct write_steps *ws, int r, char **e)
{
	if (r < 0 && !ws->first) {
		ws->first = r;
		if (ws->err && !*ws->err)
			*ws->err = TAKE_PTR(*e);
	}
	if (r < 0)
		ws->go = refused_by_server(r);
	free(*e);
	*e = NULL;
	if (ws->p->between)
		ws->p->between(ws->p->between_ud);
}

int np_publish_finding_events(struct np_publisher *p, const struct np_desired *d, time_t now, char **err)
{
	if (!p->primed)
		return -EAGAIN;
	return finding_events(p, d, now, true, err);
}

int np_publish(struct np_publisher *p, const struct np_policy *pol, const struct np_desired *d, time_t now,
	       bool allow_removals, char **err)
{
	int r;
	if (p->resync || !p->node_obj) {
		json_t *n = NULL;
		r = np_kube_get_node(p->kc, p->node, &n, err);
		if (r < 0) {
			p->api_errors++;
			return r;
		}
		keep_node(p, n);
		p->resync = false;
	}
	if (!p->primed) { /* seed from the Node as it was before we write anything */
		for (size_t i = 0; i < d->n_findings; i++)
			if (announced_before(p, pol, d, d->findings[i].id) &&
			    np_strv_push_take(&p->seen_findings, &p->n_seen,
					      np_asprintf("%s\t%s", d->findings[i].id, d->findings[i].subject)) < 0)
				return -ENOMEM;
		p->primed = true;
	}
	char **refused = NULL, **no_hard_keys = NULL;
	size_t n_refused = 0;
	struct np_taint_gate g = { 0 };
	r = np_taint_gate(pol, d, p->node_obj, &g);
	/* the desired state as it may be written: held-back taints left out */
	struct np_desired view = *d;
	view.taints = g.kept;
	view.n_taints = g.n_kept;
	_cleanup_free_ char *valve_err = NULL;
	int valve_r = r >= 0 ? valve(p, pol, d, &g, now, &refused, &n_refused, &valve_err) : 0;
	if (valve_r == -ENOMEM)
		r = valve_r;
	struct np_reconcile_opts o = { .prefix = pol->label_prefix, .now = now,
				       .hold_down_seconds = pol->taint_hold_down_seconds,
				       .heartbeat_seconds = pol->heartbeat_seconds, .allow_removals = allow_removals,
				       .refused_taints = refused };
	struct np_reconcile_opts no_hard = o;
	if (r >= 0)
		r = all_hard(&view, refused, &no_hard_keys);
	no_hard.refused_taints = no_hard_keys;
	struct np_node_writes w = { 0 };
	struct np_taint_memory before = { 0 };
	if (r >= 0)
		r = np_taint_memory_dup(&p->mem, &before);
	if (r >= 0)
		r = np_reconcile_node(p->node_obj, &view, &o, &p->mem, &w);
	/* the writes in order; after one the server refused for its content (an admission policy, a
	 * validation rule) the others still go out, after a transport or server error they wait */
	struct write_steps ws = { .p = p, .err = err, .go = r >= 0, .first = r < 0 ? r : 0 };
	char *e = NULL;
	if (ws.go && w.metadata_patch)
		step(&ws, patch(p, false, NP_PATCH_MERGE, w.metadata_patch, &e), &e);
	bool hard_after = np_valve_hard_own_taint(json_object_get(json_object_get(p->node_obj, "spec"), "taints"),
						  pol->label_prefix);
	bool taints_ok = true;
	if (ws.go && w.taints_patch) {
		/* the guarded write decides again on the Node it re-reads, from the memory as it was */
		np_taint_memory_free(&p->mem);
		p->mem = before;
		before = (struct np_taint_memory){ 0 };
		struct taint_edit te = { p, &view, &o, pol->label_prefix, &no_hard, hard_after };
		int t = np_kube_node_taints_update(p->kc, p->node, edit_taints, &te, 0, &e);
		if (t > 0)
			p->patches++;
		p->resync = true; /* the helper re-read the Node: refresh our copy next time */
		hard_after = te.hard_after;
		taints_ok = t >= 0;
		step(&ws, t, &e);
	}
	if (ws.go && taints_ok)
		step(&ws, free_slot(p, pol, d, hard_after), &e);
	if (ws.go && w.status_patch)
		step(&ws, patch(p, true, NP_PATCH_STRATEGIC, w.status_patch, &e), &e);
	if (ws.go)
		step(&ws, finding_events(p, d, now, false, &e), &e);
	if (valve_r < 0 && !ws.first) {
		ws.first = valve_r;
		if (err && !*err)
			*err = TAKE_PTR(valve_err);
	}
	r = ws.first;
	np_taint_memory_free(&before);
	np_node_writes_free(&w);
	np_strv_free(refused);
	np_strv_free(no_hard_keys);
	np_taint_gate_free(&g);
	return r < 0 ? r : 0;
}
