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

static void held_clear(struct np_event *e)
{
	char **f[] = { &e->reason, &e->type, &e->message, &e->kind, &e->name, &e->namespace_, &e->subject, &e->uid };
	for (size_t i = 0; i < ARRAY_SIZE(f); i++)
		free(*f[i]);
	*e = (struct np_event){ 0 };
}

/* Keep a copy of @e in @s to send the series' count later. Returns 0 or -ENOMEM. */
static int held_set(struct np_event_series *s, const struct np_event *e)
{
	struct np_event c = { 0 };
	char *const src[] = { e->reason, e->type, e->message, e->kind, e->name, e->namespace_, e->subject, e->uid };
	char **dst[] = { &c.reason, &c.type, &c.message, &c.kind, &c.name, &c.namespace_, &c.subject, &c.uid };
	for (size_t i = 0; i < ARRAY_SIZE(src); i++)
		if (src[i] && !(*dst[i] = strdup(src[i]))) {
			held_clear(&c);
			return -ENOMEM;
		}
	held_clear(&s->held);
	s->held = c;
	return 0;
}

void np_event_book_free(struct np_event_book *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->s[i].key);
		free(b->s[i].object_name);
		held_clear(&b->s[i].held);
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

static struct np_event_bucket *bucket(struct np_event_book *b, const struct np_event *e, time_t now)
{
	_cleanup_free_ char *key = bucket_key(e);
	if (!key)
		return NULL;
	for (size_t i = 0; i < b->n_buckets; i++)
		if (streq(b->buckets[i].key, key))
			return &b->buckets[i];
	struct np_event_bucket *nb = realloc(b->buckets, (b->n_buckets + 1) * sizeof(*nb));
	if (!nb)
		return NULL;
	b->buckets = nb;
	struct np_event_bucket *k = &nb[b->n_buckets++];
	*k = (struct np_event_bucket){ .key = TAKE_PTR(key), .tokens = b->burst, .refilled = now };
	return k;
}

/* Refill @k to @now; true when it holds a token (taken when @take). */
static bool token(struct np_event_book *b, struct np_event_bucket *k, time_t now, bool take)
{
	double t = k->tokens + (double)(now - k->refilled) * b->per_second;
	k->tokens = t > b->burst ? b->burst : t;
	k->refilled = now;
	if (k->tokens < 1)
		return false;
	if (take)
		k->tokens -= 1;
	return true;
}

/* The bucket is per object and reason (not subject): a flapping map cannot starve a stall. */
static bool take_token(struct np_event_book *b, const struct np_event *e, time_t now)
{
	struct np_event_bucket *k = bucket(b, e, now);
	return k && token(b, k, now, true);
}

/* The series of @key, created empty when new; NULL on ENOMEM. */
static struct np_event_series *series_of(struct np_event_book *b, char **key)
{
	for (size_t i = 0; i < b->n; i++)
		if (streq(b->s[i].key, *key))
			return &b->s[i];
	struct np_event_series *ns = realloc(b->s, (b->n + 1) * sizeof(*ns));
	if (!ns)
		return NULL;
	b->s = ns;
	struct np_event_series *s = &b->s[b->n++];
	*s = (struct np_event_series){ .key = TAKE_PTR(*key) };
	return s;
}

enum np_event_verdict np_events_decide(struct np_event_book *b, const struct np_event *e, time_t now,
				       struct np_event_series **series)
{
	_cleanup_free_ char *key = series_key(e);
	struct np_event_series *s = key ? series_of(b, &key) : NULL;
	if (!s)
		return NP_EVENT_SUPPRESS;
	if (s->count && (double)(now - s->last) >= b->aggregate_seconds) {
		/* the window passed: a new Event object, a new count */
		free(s->object_name);
		s->object_name = NULL;
		s->count = s->unsent = 0;
		held_clear(&s->held);
	}
	if (!s->count)
		s->first = now;
	s->count++; /* every occurrence counts, sent or held back: the series' count is the real number */
	s->last = now;
	*series = s;
	if (!take_token(b, e, now)) {
		b->suppressed++;
		s->unsent++;
		if (held_set(s, e) < 0)
			s->unsent--;
		return NP_EVENT_SUPPRESS;
	}
	s->unsent = 0;
	held_clear(&s->held);
	return s->object_name ? NP_EVENT_UPDATE : NP_EVENT_CREATE;
}

enum np_event_verdict np_events_due(struct np_event_book *b, time_t now, struct np_event_series **series,
				    const struct np_event **e)
{
	for (size_t i = 0; i < b->n; i++) {
		struct np_event_series *s = &b->s[i];
		if (!s->unsent || !s->held.reason)
			continue;
		struct np_event_bucket *k = bucket(b, &s->held, now);
		if (!k || !token(b, k, now, true))
			continue;
		s->unsent = 0;
		*series = s;
		*e = &s->held;
		return s->object_name ? NP_EVENT_UPDATE : NP_EVENT_CREATE;
	}
	return NP_EVENT_SUPPRESS;
}

void np_events_failed(struct np_event_book *b, const struct np_event *e, struct np_event_series *s,
		      enum np_event_verdict v, int error)
{
	_cleanup_free_ char *key = bucket_key(e);
	for (size_t i = 0; key && i < b->n_buckets; i++)
		if (streq(b->buckets[i].key, key) && (b->buckets[i].tokens += 1) > b->burst)
			b->buckets[i].tokens = b->burst;
	if (!s)
		return;
	if (e == &s->held)
		s->unsent++; /* a held-back count (np_events_due()) that did not go out: due again */
	else
		s->count--; /* the caller keeps the occurrence and offers it again: counted then */
	if (v != NP_EVENT_UPDATE)
		return;
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
