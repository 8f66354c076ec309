// SPDX-License-Identifier: Apache-2.0
/* desired_out.c - freeing, JSON and human form of the desired state. */
#include "desired.h"
#include "../shared/strutil.h"
#include "../report/json.h"

#include <stdlib.h>
#include <string.h>

static void kv_free(struct np_kv *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(a[i].key);
		free(a[i].value);
	}
	free(a);
}

void np_desired_free(struct np_desired *d)
{
	free(d->klass);
	free(d->bundle_state);
	np_strv_free(d->keep);
	for (size_t i = 0; i < d->n_findings; i++) {
		free(d->findings[i].id);
		free(d->findings[i].subject);
		free(d->findings[i].reason);
		free(d->findings[i].message);
	}
	free(d->findings);
	kv_free(d->labels, d->n_labels);
	kv_free(d->annotations, d->n_annotations);
	for (size_t i = 0; i < d->n_taints; i++) {
		free(d->taints[i].key);
		free(d->taints[i].value);
		free(d->taints[i].effect);
	}
	free(d->taints);
	for (size_t i = 0; i < d->n_conditions; i++) {
		free(d->conditions[i].type);
		free(d->conditions[i].status);
		free(d->conditions[i].reason);
		free(d->conditions[i].message);
	}
	free(d->conditions);
	for (size_t i = 0; i < d->n_events; i++) {
		struct np_event *e = &d->events[i];
		free(e->reason);
		free(e->type);
		free(e->message);
		free(e->kind);
		free(e->name);
		free(e->namespace_);
		free(e->subject);
		free(e->uid);
	}
	free(d->events);
	*d = (struct np_desired){ 0 };
}

static json_t *kv_json(const struct np_kv *a, size_t n)
{
	json_t *o = json_object();
	for (size_t i = 0; i < n; i++)
		json_object_set_new(o, a[i].key, np_json_string(a[i].value));
	return o;
}

json_t *np_desired_to_json(const struct np_desired *d)
{
	json_t *o = json_object();
	np_json_str(o, "class", d->klass);
	np_json_str(o, "bundle_state", d->bundle_state);
	json_t *f = json_array();
	for (size_t i = 0; i < d->n_findings; i++)
		json_array_append_new(f, json_pack("{s:o,s:o,s:o,s:o}", "id", np_json_string(d->findings[i].id),
						   "subject", np_json_string(d->findings[i].subject), "reason",
						   np_json_string(d->findings[i].reason), "message",
						   np_json_string(d->findings[i].message)));
	json_object_set_new(o, "findings", f);
	json_object_set_new(o, "labels", kv_json(d->labels, d->n_labels));
	json_object_set_new(o, "annotations", kv_json(d->annotations, d->n_annotations));
	json_t *t = json_array();
	for (size_t i = 0; i < d->n_taints; i++)
		json_array_append_new(t, json_pack("{s:s,s:s,s:s}", "key", d->taints[i].key, "value",
						   d->taints[i].value, "effect", d->taints[i].effect));
	json_object_set_new(o, "taints", t);
	json_t *c = json_array();
	for (size_t i = 0; i < d->n_conditions; i++)
		json_array_append_new(c, json_pack("{s:s,s:s,s:s,s:o}", "type", d->conditions[i].type, "status",
						   d->conditions[i].status, "reason", d->conditions[i].reason,
						   "message", np_json_string(d->conditions[i].message)));
	json_object_set_new(o, "conditions", c);
	json_t *e = json_array();
	for (size_t i = 0; i < d->n_events; i++) {
		const struct np_event *ev = &d->events[i];
		json_t *io = json_pack("{s:s,s:s}", "kind", ev->kind, "name", ev->name);
		if (ev->namespace_)
			json_object_set_new(io, "namespace", json_string(ev->namespace_));
		json_array_append_new(e, json_pack("{s:s,s:s,s:o,s:o}", "reason", ev->reason, "type", ev->type,
						   "message", np_json_string(ev->message), "involvedObject", io));
	}
	json_object_set_new(o, "events", e);
	return o;
}

void np_desired_print(const struct np_desired *d, struct np_out *o)
{
	np_out_heading(o, "Plan");
	np_out_kv(o, "class", d->klass ? d->klass : "(none matched)");
	np_out_kv(o, "bundle state", d->bundle_state);
	for (size_t i = 0; i < d->n_findings; i++)
		fprintf(o->f, "  finding  %-20s %-24s %s\n", d->findings[i].id, d->findings[i].subject,
			d->findings[i].message);
	struct np_table *t = np_table_new(2, (const char *const[]){ "LABEL", "VALUE" });
	for (size_t i = 0; t && i < d->n_labels; i++)
		np_table_add(t, NP_TONE_PLAIN, (const char *const[]){ d->labels[i].key, d->labels[i].value });
	np_table_print_free(t, o);
	for (size_t i = 0; i < d->n_annotations; i++)
		fprintf(o->f, "  annotation %s (%zu bytes)\n", d->annotations[i].key, strlen(d->annotations[i].value));
	if (d->n_taints) {
		t = np_table_new(2, (const char *const[]){ "TAINT", "EFFECT" });
		for (size_t i = 0; t && i < d->n_taints; i++)
			np_table_add(t, NP_TONE_BAD, (const char *const[]){ d->taints[i].key, d->taints[i].effect });
		np_table_print_free(t, o);
	} else {
		np_out_kv(o, "taints", "none");
	}
	t = np_table_new(4, (const char *const[]){ "CONDITION", "STATUS", "REASON", "MESSAGE" });
	for (size_t i = 0; t && i < d->n_conditions; i++) {
		const struct np_condition *c = &d->conditions[i];
		enum np_tone tone = c->status[0] == 'F' ? NP_TONE_BAD : c->status[0] == 'T' ? NP_TONE_GOOD : NP_TONE_WARN;
		np_table_add(t, tone, (const char *const[]){ c->type, c->status, c->reason, c->message });
	}
	np_table_print_free(t, o);
	for (size_t i = 0; i < d->n_events; i++)
		fprintf(o->f, "  event %s %s on %s/%s: %s\n", d->events[i].type, d->events[i].reason, d->events[i].kind,
			d->events[i].name, d->events[i].message);
}
