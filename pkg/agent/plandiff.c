// SPDX-License-Identifier: Apache-2.0
/* plandiff.c - the agent's requests for one Node, computed and shown, never sent (see plandiff.h). */
#define _GNU_SOURCE
#include "../policy/vocab.h"
#include "plandiff.h"
#include "publish.h"
#include "reconcile.h"
#include "valve.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <errno.h>
#include <string.h>

static json_t *write_entry(const char *method, const char *path, const char *ctype, const char *what, json_t *body)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:O}", "method", method, "path", path, "contentType", ctype, "what", what,
			 "body", body);
}

/* The condition type that reports @finding, when the Node has it False already (the agent's restart rule). */
static const char *reported_by(const json_t *node, const struct np_policy *pol, const char *finding)
{
	const struct np_action *a = np_policy_action(pol, finding);
	size_t i;
	json_t *c;
	if (!a || !a->condition)
		return NULL;
	json_array_foreach(json_object_get(json_object_get(node, "status"), "conditions"), i, c) {
		const char *t = json_string_value(json_object_get(c, "type"));
		const char *st = json_string_value(json_object_get(c, "status"));
		if (t && st && streq(t, a->condition) && streq(st, "False"))
			return a->condition;
	}
	return NULL;
}

static int plan_events(const json_t *node, const struct np_policy *pol, const struct np_desired *d, json_t *out)
{
	for (size_t i = 0; i < d->n_events; i++) {
		const struct np_event *e = &d->events[i];
		const char *cond = NULL;
		for (size_t f = 0; f < d->n_findings && !cond; f++)
			if (streq(d->findings[f].subject, e->subject ? e->subject : ""))
				cond = reported_by(node, pol, d->findings[f].id);
		_cleanup_free_ char *why = cond ? np_asprintf("condition %s is already False on the Node", cond) :
						  strdup("a new finding");
		json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:s?,s:s,s:b,s:s?}", "reason", e->reason, "type", e->type, "kind",
				      e->kind, "name", e->name, "subject", e->subject, "message", e->message, "send", !cond,
				      "why", why);
		if (!j || json_array_append_new(out, j) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int refusal(json_t *refused, json_t *events, const char *node, const char *key, const char *reason,
		   const char *type, const char *msg, const char *why)
{
	if (json_array_append_new(refused, json_pack("{s:s,s:s,s:s}", "key", key, "reason", reason, "why", msg)) < 0)
		return -ENOMEM;
	/* the agent says so in an Event on the Node, before its writes */
	json_t *ev = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:s}", "reason", reason, "type", type, "kind", "Node",
			       "name", node, "subject", key, "message", msg, "send", 1, "why", why);
	if (!ev || json_array_append_new(events, ev) < 0)
		return -ENOMEM;
	return 0;
}

/* The gate (observe mode, opt-out label) and the safety valve, read-only: held-back and refused
 * keys into @keys and @refused, their Events into @events. */
static int plan_valve(struct np_kube_client *kc, const struct np_policy *pol, const struct np_desired *d,
		      const json_t *node, const struct np_taint_gate *g, char ***keys, size_t *n_keys, json_t *refused,
		      json_t *events, json_t *writes, char **err)
{
	const char *name = json_string_value(json_object_get(json_object_get(node, "metadata"), "name"));
	int r = 0;
	for (size_t i = 0; r >= 0 && i < g->n_observed; i++)
		r = refusal(refused, events, name, g->observed[i], NP_EVENT_TAINT_OBSERVED, "Normal",
			    "observe mode: the taint is not written", "observe mode (policy or action)");
	for (size_t i = 0; r >= 0 && i < g->n_disabled; i++)
		r = refusal(refused, events, name, g->disabled[i], NP_EVENT_TAINT_DISABLED, "Normal",
			    "NoSchedule/NoExecute taints are disabled on this node by its label", "the Node's opt-out label");
	if (r < 0 || !kc || !g->n_need_slot)
		return r;
	const char *ns = getenv("NODEPRINT_NAMESPACE");
	struct np_valve_ctx x = { .kc = kc, .ns = ns && *ns ? ns : "nodeprint", .prefix = pol->label_prefix,
				  .klass = d->klass, .node = name,
				  .limits = { .max_percent = pol->valve_max_tainted_percent,
					      .max_new = (unsigned)pol->valve_max_new_per_window,
					      .window_seconds = pol->valve_window_seconds,
					      .ttl_seconds = pol->valve_slot_ttl_seconds } };
	_cleanup_free_ char *msg = NULL;
	struct np_valve_outcome oc = { 0 };
	r = np_valve_acquire(&x, 0, true, &oc, &msg, err);
	_cleanup_free_ char *lease = oc.lease, *rv = oc.rv;
	(void)rv; /* owned here, freed at scope exit (clang: -Wunused-variable) */
	if (r > 0 && oc.write) {
		/* the slot is taken before the taint is written */
		_cleanup_free_ char *path = np_asprintf("/apis/coordination.k8s.io/v1/namespaces/%s/leases%s%s", x.ns,
							oc.lease_exists ? "/" : "", oc.lease_exists ? lease : "");
		json_t *body = json_pack("{s:s,s:s,s:s,s:I,s:I}", "lease", lease, "slotFor", name, "verdict",
					 oc.verdict == NP_VALVE_GRANTED ? "granted" : "held", "inUse", (json_int_t)oc.in_use,
					 "budget", (json_int_t)oc.budget);
		json_t *wr = path && body ? write_entry(oc.lease_exists ? "PUT" : "POST", path, "application/json",
							 "the safety valve's slot, by resourceVersion compare-and-swap "
							 "(409: read again, count again)", body) : NULL;
		json_decref(body);
		if (!wr || json_array_append_new(writes, wr) < 0)
			return -ENOMEM;
	}
	if (r != 0)
		return r < 0 ? r : 0;
	for (size_t i = 0; r >= 0 && i < g->n_need_slot; i++) {
		if (np_strv_push(keys, n_keys, g->need_slot[i]) < 0)
			return -ENOMEM;
		r = refusal(refused, events, name, g->need_slot[i], NP_EVENT_TAINT_REFUSED, "Warning", msg,
			    "the safety valve refused a taint");
	}
	return r;
}

static bool desired_taint(const struct np_desired *d, const char *key, const char *effect)
{
	for (size_t i = 0; i < d->n_taints; i++)
		if (streq(d->taints[i].key, key) && streq(d->taints[i].effect, effect))
			return true;
	return false;
}

static bool in_list(const json_t *taints, const char *key, const char *effect)
{
	size_t i;
	json_t *t;
	json_array_foreach((json_t *)taints, i, t)
		if (streq(json_string_value(json_object_get(t, "key")) ?: "", key) &&
		    streq(json_string_value(json_object_get(t, "effect")) ?: "", effect))
			return true;
	return false;
}

/* Own taints whose finding is clear but that the agent keeps during the hold-down. */
static int plan_held(const struct np_policy *pol, const struct np_desired *d, const json_t *node,
		     const json_t *taints_patch, json_t *out)
{
	const json_t *next = taints_patch ? json_object_get(json_object_get(taints_patch, "spec"), "taints") :
					    json_object_get(json_object_get(node, "spec"), "taints");
	size_t plen = strlen(pol->label_prefix), i;
	json_t *t;
	json_array_foreach(json_object_get(json_object_get(node, "spec"), "taints"), i, t) {
		const char *key = json_string_value(json_object_get(t, "key")) ?: "";
		const char *effect = json_string_value(json_object_get(t, "effect")) ?: "";
		if (strncmp(key, pol->label_prefix, plen) != 0 || key[plen] != '/' || desired_taint(d, key, effect) ||
		    !in_list(next, key, effect))
			continue;
		_cleanup_free_ char *why = np_asprintf("its finding is clear; the agent removes it once the finding has "
						       "been clear for taintHoldDownSeconds (%.0f s), counted from when "
						       "it saw it clear (a plan cannot know since when)",
						       pol->taint_hold_down_seconds);
		if (!why || json_array_append_new(out, json_pack("{s:s,s:s,s:s}", "key", key, "effect", effect, "why",
								 why)) < 0)
			return -ENOMEM;
	}
	return 0;
}

int np_plan_against_node(struct np_kube_client *kc, const struct np_policy *pol, const struct np_desired *d,
			 const json_t *node, time_t now, json_t **out, char **err)
{
	const json_t *md = json_object_get(node, "metadata");
	const char *name = json_string_value(json_object_get(md, "name"));
	if (!name)
		return -EINVAL;
	json_t *plan = json_pack("{s:s,s:s?,s:[],s:[],s:[],s:[]}", "node", name, "resourceVersion",
				 json_string_value(json_object_get(md, "resourceVersion")), "writes", "events",
				 "refusedTaints", "heldTaints");
	if (!plan)
		return -ENOMEM;
	char **refused = NULL;
	size_t n_refused = 0;
	struct np_taint_gate g = { 0 };
	int r = np_taint_gate(pol, d, node, &g);
	struct np_desired view = *d;
	view.taints = g.kept;
	view.n_taints = g.n_kept;
	if (r >= 0)
		r = plan_valve(kc, pol, d, node, &g, &refused, &n_refused, json_object_get(plan, "refusedTaints"),
			       json_object_get(plan, "events"), json_object_get(plan, "writes"), err);
	struct np_reconcile_opts o = { .prefix = pol->label_prefix, .now = now,
				       .hold_down_seconds = pol->taint_hold_down_seconds,
				       .heartbeat_seconds = pol->heartbeat_seconds, .allow_removals = true,
				       .refused_taints = refused };
	struct np_node_writes w = { 0 };
	struct np_taint_memory mem = { 0 };
	if (r >= 0)
		r = np_reconcile_node(node, &view, &o, &mem, &w);
	_cleanup_free_ char *path = np_asprintf("/api/v1/nodes/%s", name);
	_cleanup_free_ char *spath = np_asprintf("/api/v1/nodes/%s/status", name);
	json_t *writes = json_object_get(plan, "writes");
	if (r >= 0 && (!path || !spath))
		r = -ENOMEM;
	if (r >= 0 && w.metadata_patch)
		r = json_array_append_new(writes, write_entry("PATCH", path, "application/merge-patch+json",
							      "own labels and annotations", w.metadata_patch));
	if (r >= 0 && w.taints_patch)
		r = json_array_append_new(writes, write_entry("PATCH", path, "application/merge-patch+json",
							      "the whole taint list by read-modify-write: the agent re-reads the "
							      "Node and sends the resourceVersion it read (409 or 422: again)",
							      w.taints_patch));
	if (r >= 0 && w.status_patch)
		r = json_array_append_new(writes, write_entry("PATCH", spath, "application/strategic-merge-patch+json",
							      "own conditions", w.status_patch));
	if (r >= 0)
		r = plan_events(node, pol, d, json_object_get(plan, "events"));
	if (r >= 0)
		r = plan_held(pol, &view, node, w.taints_patch, json_object_get(plan, "heldTaints"));
	np_node_writes_free(&w);
	np_taint_gate_free(&g);
	np_taint_memory_free(&mem);
	np_strv_free(refused);
	if (r < 0) {
		json_decref(plan);
		return r == -1 ? -ENOMEM : r;
	}
	*out = plan;
	return 0;
}

int np_plan_against_node_print(const json_t *plan, FILE *f)
{
	const json_t *writes = json_object_get(plan, "writes");
	size_t i;
	json_t *x;
	fprintf(f, "\n== Against the cluster: Node %s (resourceVersion %s) ==\n",
		json_string_value(json_object_get(plan, "node")),
		json_string_value(json_object_get(plan, "resourceVersion")) ?: "?");
	if (!json_array_size(writes))
		fprintf(f, "  no writes: the Node already has this state (the agent's steady state)%s\n",
			json_array_size(json_object_get(plan, "heldTaints")) ? ", but for the held taints below" : "");
	json_array_foreach(writes, i, x) {
		_cleanup_free_ char *body = json_dumps(json_object_get(x, "body"), JSON_COMPACT | JSON_SORT_KEYS);
		fprintf(f, "  %s %s  (%s: %s)\n    %s\n", json_string_value(json_object_get(x, "method")),
			json_string_value(json_object_get(x, "path")), json_string_value(json_object_get(x, "contentType")),
			json_string_value(json_object_get(x, "what")), body ? body : "");
	}
	json_array_foreach(json_object_get(plan, "heldTaints"), i, x)
		fprintf(f, "  taint %s:%s kept for now: %s\n", json_string_value(json_object_get(x, "key")),
			json_string_value(json_object_get(x, "effect")), json_string_value(json_object_get(x, "why")));
	json_array_foreach(json_object_get(plan, "refusedTaints"), i, x)
		fprintf(f, "  %s taint %s: %s\n", json_string_value(json_object_get(x, "reason")) ?: NP_EVENT_TAINT_REFUSED,
			json_string_value(json_object_get(x, "key")), json_string_value(json_object_get(x, "why")));
	json_array_foreach(json_object_get(plan, "events"), i, x)
		fprintf(f, "  Event %-20s %s/%s  %s (%s)\n", json_string_value(json_object_get(x, "reason")),
			json_string_value(json_object_get(x, "kind")), json_string_value(json_object_get(x, "name")),
			json_is_true(json_object_get(x, "send")) ? "send" : "not sent",
			json_string_value(json_object_get(x, "why")));
	return ferror(f) ? -EIO : 0;
}
