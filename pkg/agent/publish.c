// SPDX-License-Identifier: Apache-2.0
/* publish.c - the API side of a reconcile: patches, guarded taints, safety valve, events. */
#define _GNU_SOURCE
#include "../policy/vocab.h"
#include "publish.h"
#include "../shared/log.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <string.h>

int np_publisher_init(struct np_publisher *p, struct np_kube_client *kc, const char *node)
{
	*p = (struct np_publisher){ .kc = kc, .resync = true };
	np_event_book_init(&p->book);
	p->node = strdup(node);
	return p->node ? 0 : -ENOMEM;
}

void np_publisher_free(struct np_publisher *p)
{
	free(p->node);
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

struct valve_count {
	const char *key, *node;
	unsigned total, tainted;
	bool self; /* our Node was in the list */
};

static int count_page(json_t *page, void *ud)
{
	struct valve_count *vc = ud;
	size_t i, j;
	json_t *node, *t;
	json_array_foreach(json_object_get(page, "items"), i, node) {
		const char *name = json_string_value(json_object_get(json_object_get(node, "metadata"), "name"));
		vc->total++;
		vc->self = vc->self || (name && vc->node && streq(name, vc->node));
		json_array_foreach(json_object_get(json_object_get(node, "spec"), "taints"), j, t) {
			const char *k = json_string_value(json_object_get(t, "key"));
			if (k && streq(k, vc->key)) {
				vc->tainted++;
				break;
			}
		}
	}
	return 0;
}

int np_safety_valve(struct np_kube_client *kc, const char *node, const char *prefix, const char *klass,
		    const char *key, double max_percent, char **msg, char **err)
{
	_cleanup_free_ char *sel = klass ? np_asprintf("%s/class=%s", prefix, klass) : NULL;
	if (klass && !sel)
		return -ENOMEM;
	struct valve_count vc = { .key = key, .node = node };
	int r = np_kube_list(kc, "/api/v1/nodes", sel, NULL, 500, count_page, &vc, err);
	if (r < 0)
		return r;
	/* a Node not labelled with its class yet (first cycle: the label patch comes later) is one of them */
	if (!vc.self)
		vc.total++;
	unsigned total = vc.total;
	double share = 100.0 * (vc.tainted + 1) / total;
	if (share <= max_percent || total == 1)
		return 1; /* a single-node class can always protect itself */
	*msg = np_asprintf("refusing to add %s: %u of %u nodes%s%s already carry it; one more would be %.0f%% "
			   "(safety valve %.0f%%)", key, vc.tainted, vc.total, klass ? " of class " : "",
			   klass ? klass : "", share, max_percent);
	return *msg ? 0 : -ENOMEM;
}

/* Keys of NoSchedule/NoExecute taints the valve refuses; Events say why. */
static int valve(struct np_publisher *p, const struct np_policy *pol, const struct np_desired *d, time_t now,
		 char ***refused, size_t *n_refused, char **err)
{
	const json_t *cur = json_object_get(json_object_get(p->node_obj, "spec"), "taints");
	for (size_t i = 0; i < d->n_taints; i++) {
		const struct np_taint *t = &d->taints[i];
		bool hard = streq(t->effect, "NoSchedule") || streq(t->effect, "NoExecute");
		bool present = false;
		size_t j;
		json_t *ct;
		json_array_foreach((json_t *)cur, j, ct)
			present = present || streq(json_string_value(json_object_get(ct, "key")) ?: "", t->key);
		if (!hard || present)
			continue;
		_cleanup_free_ char *msg = NULL;
		int r = np_safety_valve(p->kc, p->node, pol->label_prefix, d->klass, t->key,
					pol->valve_max_tainted_percent, &msg, err);
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		p->valve_refusals++;
		np_log(NP_LOG_WARN, "safety valve", "node=%s detail=\"%s\"", p->node, msg);
		struct np_event e = { .reason = NP_EVENT_TAINT_REFUSED, .type = "Warning", .message = msg, .kind = "Node",
				      .name = p->node, .subject = t->key };
		np_publish_event(p, &e, now, NULL);
		r = np_strv_push(refused, n_refused, t->key);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- taints ---- */

struct taint_edit {
	struct np_publisher *p;
	const struct np_desired *d;
	const struct np_reconcile_opts *o;
};

static int edit_taints(json_t *taints, void *ud)
{
	struct taint_edit *te = ud;
	unsigned added, removed;
	json_t *next = np_reconcile_taints(taints, te->d, te->o, &te->p->mem, &added, &removed);
	if (!next)
		return 0;
	json_array_clear(taints);
	json_array_extend(taints, next);
	json_decref(next);
	return 1;
}

/* ---- events for findings that appear ---- */

static bool seen(char **v, size_t n, const char *k)
{
	for (size_t i = 0; i < n; i++)
		if (streq(v[i], k))
			return true;
	return false;
}

/*
 * After a restart the Node already says what we reported: a finding whose
 * condition is already False on the Node was announced by our previous life.
 */
static bool announced_before(const struct np_publisher *p, const struct np_policy *pol, const char *finding)
{
	const struct np_action *a = np_policy_action(pol, finding);
	size_t i;
	json_t *c;
	if (!a || !a->condition)
		return false;
	json_array_foreach(json_object_get(json_object_get(p->node_obj, "status"), "conditions"), i, c) {
		const char *t = json_string_value(json_object_get(c, "type"));
		const char *st = json_string_value(json_object_get(c, "status"));
		if (t && st && streq(t, a->condition) && streq(st, "False"))
			return true;
	}
	return false;
}

static bool same_subject(const struct np_finding *f, const struct np_event *e)
{
	return streq(f->subject, e->subject ? e->subject : "");
}

/*
 * Events of findings that are new since the last publish. A finding whose Event could not be
 * sent (an API error, or not tried after one) is not remembered as announced, so the next cycle
 * tries again; after the first error no more Events are tried this cycle.
 */
static int finding_events(struct np_publisher *p, const struct np_desired *d, time_t now, char **err)
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
	for (size_t i = 0; failed && i < d->n_findings; i++)
		if (!failed[i] && np_strv_push_take(&now_keys, &n_now,
						   np_asprintf("%s\t%s", d->findings[i].id, d->findings[i].subject)) < 0)
			r = r < 0 ? r : -ENOMEM;
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
			if (announced_before(p, pol, d->findings[i].id) &&
			    np_strv_push_take(&p->seen_findings, &p->n_seen,
					      np_asprintf("%s\t%s", d->findings[i].id, d->findings[i].subject)) < 0)
				return -ENOMEM;
		p->primed = true;
	}
	char **refused = NULL;
	size_t n_refused = 0;
	r = valve(p, pol, d, now, &refused, &n_refused, err);
	struct np_reconcile_opts o = { .prefix = pol->label_prefix, .now = now,
				       .hold_down_seconds = pol->taint_hold_down_seconds,
				       .heartbeat_seconds = pol->heartbeat_seconds, .allow_removals = allow_removals,
				       .refused_taints = refused };
	struct np_node_writes w = { 0 };
	struct np_taint_memory before = { 0 };
	if (r >= 0)
		r = np_taint_memory_dup(&p->mem, &before);
	if (r >= 0)
		r = np_reconcile_node(p->node_obj, d, &o, &p->mem, &w);
	/* the writes in order; after one the server refused for its content (an admission policy, a
	 * validation rule) the others still go out, after a transport or server error they wait */
	struct write_steps ws = { .err = err, .go = r >= 0, .first = r < 0 ? r : 0 };
	char *e = NULL;
	if (ws.go && w.metadata_patch)
		step(&ws, patch(p, false, NP_PATCH_MERGE, w.metadata_patch, &e), &e);
	if (ws.go && w.taints_patch) {
		/* the guarded write decides again on the Node it re-reads, from the memory as it was */
		np_taint_memory_free(&p->mem);
		p->mem = before;
		before = (struct np_taint_memory){ 0 };
		struct taint_edit te = { p, d, &o };
		int t = np_kube_node_taints_update(p->kc, p->node, edit_taints, &te, 0, &e);
		if (t > 0)
			p->patches++;
		p->resync = true; /* the helper re-read the Node: refresh our copy next time */
		step(&ws, t, &e);
	}
	if (ws.go && w.status_patch)
		step(&ws, patch(p, true, NP_PATCH_STRATEGIC, w.status_patch, &e), &e);
	if (ws.go)
		step(&ws, finding_events(p, d, now, &e), &e);
	r = ws.first;
	np_taint_memory_free(&before);
	np_node_writes_free(&w);
	np_strv_free(refused);
	return r < 0 ? r : 0;
}
