/* SPDX-License-Identifier: Apache-2.0 */
/*
 * events.h - Kubernetes Events from findings: aggregation of repeats (one
 * Event object whose count grows, as kubelet's recorder does for core/v1)
 * and rate limits per involved object and reason, so one noisy reason never
 * starves another. Pure: the caller sends what np_events_decide() says.
 */
#pragma once

#include "../policy/desired.h"

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

enum np_event_verdict {
	NP_EVENT_CREATE,   /* POST a new Event */
	NP_EVENT_UPDATE,   /* PATCH the existing Event: count and lastTimestamp */
	NP_EVENT_SUPPRESS, /* rate limited: added to the series' count, sent with its next request */
};

struct np_event_series {
	char *key;         /* kind/namespace/name/reason/subject */
	char *object_name; /* metadata.name of the Event object we created */
	unsigned count;    /* occurrences in the series, those the rate limit held back included */
	unsigned unsent;   /* occurrences counted but not yet in the API (held back by the rate limit) */
	struct np_event held; /* the newest held-back occurrence (owned copy), to send its count later */
	time_t first, last;
};

/* Token bucket of one involved object + reason. */
struct np_event_bucket {
	char *key;         /* kind/namespace/name/reason */
	double tokens;
	time_t refilled;
};

struct np_event_book {
	struct np_event_series *s;
	size_t n;
	struct np_event_bucket *buckets;
	size_t n_buckets;
	double burst;            /* bucket size, default 5 */
	double per_second;       /* refill rate, default 1/60 */
	double aggregate_seconds;/* repeats within this window update the same Event, default 600 */
	unsigned long suppressed;/* events held back by the rate limit (a metric) */
};

/* Defaults: burst 5, one token a minute, aggregation window 10 minutes. */
void np_event_book_init(struct np_event_book *b);
void np_event_book_free(struct np_event_book *b);

/*
 * np_events_decide() - what to do with @e at @now. On CREATE the caller
 * sends np_event_object() and then records the server-assigned name with
 * np_events_created(); on UPDATE it sends np_event_count_patch() to
 * *@series->object_name. *@series points into @b (valid until the next call).
 * Returns the verdict; on ENOMEM it returns NP_EVENT_SUPPRESS.
 */
enum np_event_verdict np_events_decide(struct np_event_book *b, const struct np_event *e, time_t now,
				       struct np_event_series **series);
int np_events_created(struct np_event_series *s, const char *object_name);

/*
 * np_events_due() - a series whose count holds occurrences the rate limit held
 * back and whose bucket has a token again at @now (the token is taken): the
 * caller sends np_event_count_patch(*@e, *@series) (UPDATE) or, when the
 * series has no Event object yet, np_event_object() (CREATE), and reports a
 * failure with np_events_failed(). So a storm's real count reaches the API
 * without waiting for one more occurrence. Returns the verdict, or
 * NP_EVENT_SUPPRESS when nothing is due. *@e points into the series.
 */
enum np_event_verdict np_events_due(struct np_event_book *b, time_t now, struct np_event_series **series,
				    const struct np_event **e);

/*
 * np_events_failed() - the request for @e that np_events_decide() allowed
 * (verdict @v, series @s) failed with -errno @error: its token goes back to
 * the bucket and an UPDATE's count is taken back, so a failing API never uses
 * up the rate limit of an Event that was not sent, and the occurrence leaves
 * the count (the caller offers it again); for a request np_events_due() gave
 * (@e is the series' held copy) the count stays due. -ENOENT on an UPDATE (the
 * Event object expired or was deleted) makes the next one a CREATE.
 */
void np_events_failed(struct np_event_book *b, const struct np_event *e, struct np_event_series *s,
		      enum np_event_verdict v, int error);

/*
 * np_event_object() - a core/v1 Event for POST /api/v1/namespaces/{ns}/events:
 * involvedObject {apiVersion v1, kind, name, namespace}, reason, message,
 * type, source.component "nodeprint", source.host @node, reportingComponent
 * "nodeprint.io/agent", reportingInstance @node, count and first/lastTimestamp.
 * Cluster-scoped objects (Node, PersistentVolume) get their Events in "default".
 * Returns a new reference or NULL (ENOMEM).
 */
json_t *np_event_object(const struct np_event *e, const char *node, const struct np_event_series *s);
/* The namespace the Event object of @e lives in. */
const char *np_event_namespace(const struct np_event *e);
/* Merge patch {"count":N,"lastTimestamp":...,"message":...} for a repeat. */
json_t *np_event_count_patch(const struct np_event *e, const struct np_event_series *s);
