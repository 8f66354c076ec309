// SPDX-License-Identifier: Apache-2.0
/* plandiff.c - the agent's requests for one Node, computed and shown, never sent (see plandiff.h). */
#define _GNU_SOURCE
#include "../policy/vocab.h"
#include "plandiff.h"
#include "publish.h"
#include "reconcile.h"
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

/* The safety valve for each hard taint the Node lacks: refused keys into @keys and @refused, the
 * TaintRefused Event into @events. */
static int plan_valve(struct np_kube_client *kc, const struct np_policy *pol, const struct np_desired *d,
		      const json_t *node, char ***keys, size_t *n_keys, json_t *refused, json_t *events, char **err)
{
	const json_t *cur = json_object_get(json_object_get(node, "spec"), "taints");
	for (size_t i = 0; kc && i < d->n_taints; i++) {
		const struct np_taint *t = &d->taints[i];
		bool present = false;
		size_t j;
		json_t *ct;
		json_array_foreach((json_t *)cur, j, ct)
			present = present || streq(json_string_value(json_object_get(ct, "key")) ?: "", t->key);
		if (present || !(streq(t->effect, "NoSchedule") || streq(t->effect, "NoExecute")))
			continue;
		_cleanup_free_ char *msg = NULL;
		int r = np_safety_valve(kc, json_string_value(json_object_get(json_object_get(node, "metadata"), "name")),
					pol->label_prefix, d->klass, t->key, pol->valve_max_tainted_percent, &msg, err);
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		if (np_strv_push(keys, n_keys, t->key) < 0 ||
		    json_array_append_new(refused, json_pack("{s:s,s:s}", "key", t->key, "why", msg ? msg : "")) < 0)
			return -ENOMEM;
		/* the agent says so in an Event on the Node, before its writes */
		json_t *ev = json_pack("{s:s,s:s,s:s,s:s?,s:s,s:s,s:b,s:s}", "reason", NP_EVENT_TAINT_REFUSED, "type", "Warning",
				       "kind", "Node", "name", json_string_value(json_object_get(
								       json_object_get(node, "metadata"), "name")),
				       "subject", t->key, "message", msg ? msg : "", "send", 1, "why",
				       "the safety valve refused a taint");
		if (!ev || json_array_append_new(events, ev) < 0)
			return -ENOMEM;
	}
	return 0;
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
	int r = plan_valve(kc, pol, d, node, &refused, &n_refused, json_object_get(plan, "refusedTaints"),
			   json_object_get(plan, "events"), err);
	struct np_reconcile_opts o = { .prefix = pol->label_prefix, .now = now,
				       .hold_down_seconds = pol->taint_hold_down_seconds,
				       .heartbeat_seconds = pol->heartbeat_seconds, .allow_removals = true,
				       .refused_taints = refused };
	struct np_node_writes w = { 0 };
	struct np_taint_memory mem = { 0 };
	if (r >= 0)
		r = np_reconcile_node(node, d, &o, &mem, &w);
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
		r = plan_held(pol, d, node, w.taints_patch, json_object_get(plan, "heldTaints"));
	np_node_writes_free(&w);
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
		fprintf(f, "  safety valve refuses taint %s: %s\n", json_string_value(json_object_get(x, "key")),
			json_string_value(json_object_get(x, "why")));
	json_array_foreach(json_object_get(plan, "events"), i, x)
		fprintf(f, "  Event %-20s %s/%s  %s (%s)\n", json_string_value(json_object_get(x, "reason")),
			json_string_value(json_object_get(x, "kind")), json_string_value(json_object_get(x, "name")),
			json_is_true(json_object_get(x, "send")) ? "send" : "not sent",
			json_string_value(json_object_get(x, "why")));
	return ferror(f) ? -EIO : 0;
}
