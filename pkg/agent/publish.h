/* SPDX-License-Identifier: Apache-2.0 */
/*
 * publish.h - one reconcile of the Node with the API: metadata merge patch,
 * taints by guarded read-modify-write (after the safety valve, valve.h), conditions by
 * strategic merge patch on nodes/status, and Events for findings that appear.
 */
#pragma once

#include "events.h"
#include "reconcile.h"
#include "valve.h"
#include "../kube/api.h"
#include "../policy/desired.h"

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

/* Whether this Node holds a slot in its class's safety-valve Lease (valve.h). */
enum np_slot_state {
	NP_SLOT_UNKNOWN,            /* after a start, or while tainted: ask the Lease when the taint goes */
	NP_SLOT_HELD,
	NP_SLOT_NONE,
};

struct np_publisher {
	struct np_kube_client *kc;  /* borrowed */
	char *node;                 /* Node name */
	char *ns;                   /* namespace of the safety valve's Leases */
	enum np_slot_state slot;
	bool valve_granted;         /* the valve gave (or confirmed) a slot this cycle */
	struct np_valve_wait wait;  /* refused a slot: when to ask again (valve.h) */
	double poll_seconds;        /* the agent's poll period: a waiting Node's first pause (default 10) */
	json_t *node_obj;           /* last Node the API returned (GET at start and resync, PATCH answers) */
	struct np_taint_memory mem;
	struct np_event_book book;
	char **seen_findings;       /* "id\tsubject" of the last cycle: Events go out when a finding appears */
	size_t n_seen;
	bool primed;                /* seen_findings seeded from the Node after a (re)start */
	unsigned long patches, events_sent, valve_refusals, api_errors;
	bool resync;                /* GET the Node before the next reconcile */
	/* Optional: called with @between_ud after each write of np_publish(). The agent sends its
	 * kernel-log Events there (np_publish_event() may be called from it), so a path event waits
	 * for one request, not a whole publish. */
	void (*between)(void *ud);
	void *between_ud;
};

/* Returns 0 or -ENOMEM. @kc stays the caller's; @ns is the namespace of the valve's Leases. */
int np_publisher_init(struct np_publisher *p, struct np_kube_client *kc, const char *node, const char *ns);
void np_publisher_free(struct np_publisher *p);

/*
 * np_publish() - bring the Node to @d under policy @pol at @now. Removals of
 * own keys and taints happen only when @allow_removals (the agent has
 * settled). Returns 0 when the Node matches @d (or every write that could be
 * made was made), or the first API error as a negative errno with a message
 * in *@err; nothing of other owners is ever written (see reconcile.h).
 */
int np_publish(struct np_publisher *p, const struct np_policy *pol, const struct np_desired *d, time_t now,
	       bool allow_removals, char **err);

/*
 * np_publish_finding_events() - the Events of @d's findings that are new since
 * the last publish, sent now through the same aggregation and rate limits, and
 * remembered as announced next to the others: the next np_publish() does not
 * send them again. For a fast path that evaluated a part of the report (a
 * stall seen between two cycles); @d's absent findings are not forgotten.
 * Returns 0, -EAGAIN before the first np_publish() (what the Node already
 * announces is not known yet: nothing is sent), or the first request's -errno
 * (*@err says why; that finding stays new, for the next publish).
 */
int np_publish_finding_events(struct np_publisher *p, const struct np_desired *d, time_t now, char **err);

/*
 * np_publish_event() - send one Event (aggregated and rate limited by the
 * publisher's book). Returns 0 (sent or suppressed) or a negative errno.
 */
int np_publish_event(struct np_publisher *p, const struct np_event *e, time_t now, char **err);

/*
 * np_publish_held_events() - send the counts the rate limit held back, for
 * every series whose bucket has a token again (np_events_due()): a storm of
 * 10,000 occurrences ends as one Event whose count is 10,000. Returns 0, or
 * the first API error as -errno (*@err says why; that count stays due).
 */
int np_publish_held_events(struct np_publisher *p, time_t now, char **err);
