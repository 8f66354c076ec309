// SPDX-License-Identifier: Apache-2.0
/* events.c - Event aggregation and per-object/reason rate limits. */
#define _GNU_SOURCE
#include "events.h"
#include "reconcile.h"
#include "../report/json.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <string.h>

void np_event_book_init(struct np_event_book *b)
{
	*b = (struct np_event_book){ .burst = 5, .per_second = 1.0 / 60, .aggregate_seconds = 600 };
}

void np_event_book_free(struct np_event_book *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->s[i].key);
		free(b->s[i].object_name);
	}
	free(b->s);
	for (size_t i = 0; i < b->n_buckets; i++)
		free(b->buckets[i].key);
	free(b->buckets);
	np_event_book_init(b);
}

const char *np_event_namespace(const struct np_event *e)
{
	return e->namespace_ && *e->namespace_ ? e->namespace_ : "default";
}

static char *series_key(const struct np_event *e)
{
	return np_asprintf("%s/%s/%s/%s/%s", e->kind, np_event_namespace(e), e->name, e->reason,
			   e->subject ? e->subject : "");
}

static char *bucket_key(const struct np_event *e)
{
	return np_asprintf("%s/%s/%s/%s", e->kind, np_event_namespace(e), e->name, e->reason);
}

/* The bucket is per object and reason (not subject): a flapping map cannot starve a stall. */
static bool take_token(struct np_event_book *b, const struct np_event *e, time_t now)
{
	_cleanup_free_ char *key = bucket_key(e);
	if (!key)
		return false;
	struct np_event_bucket *k = NULL;
	for (size_t i = 0; i < b->n_buckets && !k; i++)
		if (streq(b->buckets[i].key, key))
			k = &b->buckets[i];
	if (!k) {
		struct np_event_bucket *nb = realloc(b->buckets, (b->n_buckets + 1) * sizeof(*nb));
		if (!nb)
			return false;
		b->buckets = nb;
		k = &nb[b->n_buckets++];
		*k = (struct np_event_bucket){ .key = TAKE_PTR(key), .tokens = b->burst, .refilled = now };
	}
	double t = k->tokens + (double)(now - k->refilled) * b->per_second;
	k->tokens = t > b->burst ? b->burst : t;
	k->refilled = now;
	if (k->tokens < 1)
		return false;
	k->tokens -= 1;
	return true;
}

enum np_event_verdict np_events_decide(struct np_event_book *b, const struct np_event *e, time_t now,
				       struct np_event_series **series)
{
	_cleanup_free_ char *key = series_key(e);
	if (!key)
		return NP_EVENT_SUPPRESS;
	if (!take_token(b, e, now)) {
		b->suppressed++;
		return NP_EVENT_SUPPRESS;
	}
	struct np_event_series *s = NULL;
	for (size_t i = 0; i < b->n && !s; i++)
		if (streq(b->s[i].key, key))
			s = &b->s[i];
	if (s && s->object_name && (double)(now - s->last) < b->aggregate_seconds) {
		s->count++;
		s->last = now;
		*series = s;
		return NP_EVENT_UPDATE;
	}
	if (!s) {
		struct np_event_series *ns = realloc(b->s, (b->n + 1) * sizeof(*ns));
		if (!ns)
			return NP_EVENT_SUPPRESS;
		b->s = ns;
		s = &b->s[b->n++];
		*s = (struct np_event_series){ .key = TAKE_PTR(key) };
	}
	free(s->object_name);
	s->object_name = NULL;
	s->count = 1;
	s->first = s->last = now;
	*series = s;
	return NP_EVENT_CREATE;
}

void np_events_failed(struct np_event_book *b, const struct np_event *e, struct np_event_series *s,
		      enum np_event_verdict v, int error)
{
	_cleanup_free_ char *key = bucket_key(e);
	for (size_t i = 0; key && i < b->n_buckets; i++)
		if (streq(b->buckets[i].key, key) && (b->buckets[i].tokens += 1) > b->burst)
			b->buckets[i].tokens = b->burst;
	if (v != NP_EVENT_UPDATE || !s)
		return;
	s->count--;
	if (error == -ENOENT) { /* the Event object is gone (its TTL, someone deleted it): a new one next time */
		free(s->object_name);
		s->object_name = NULL;
	}
}

int np_events_created(struct np_event_series *s, const char *object_name)
{
	char *c = strdup(object_name);
	if (!c)
		return -ENOMEM;
	free(s->object_name);
	s->object_name = c;
	return 0;
}

json_t *np_event_object(const struct np_event *e, const char *node, const struct np_event_series *s)
{
	char first[32], last[32];
	np_rfc3339(s->first, first, sizeof(first));
	np_rfc3339(s->last, last, sizeof(last));
	_cleanup_free_ char *gen = np_asprintf("%s.", e->name);
	json_t *io = json_pack("{s:s,s:s,s:s}", "apiVersion", "v1", "kind", e->kind, "name", e->name);
	if (e->namespace_ && *e->namespace_)
		json_object_set_new(io, "namespace", json_string(e->namespace_));
	if (e->uid && *e->uid)
		json_object_set_new(io, "uid", json_string(e->uid));
	json_t *o = json_pack("{s:s,s:s,s:{s:s?,s:s},s:o,s:s,s:o,s:s,s:{s:s,s:s},s:s,s:s,s:i,s:s,s:s}",
			      "apiVersion", "v1", "kind", "Event", "metadata", "generateName", gen, "namespace",
			      np_event_namespace(e), "involvedObject", io, "reason", e->reason, "message",
			      np_json_string(e->message), "type", e->type, "source", "component", "nodeprint",
			      "host", node ? node : "", "reportingComponent", "nodeprint.io/agent",
			      "reportingInstance", node ? node : "", "count", (int)s->count, "firstTimestamp", first,
			      "lastTimestamp", last);
	return o;
}

json_t *np_event_count_patch(const struct np_event *e, const struct np_event_series *s)
{
	char last[32];
	np_rfc3339(s->last, last, sizeof(last));
	return json_pack("{s:i,s:s,s:o}", "count", (int)s->count, "lastTimestamp", last, "message",
			 np_json_string(e->message));
}
