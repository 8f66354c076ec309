/* SPDX-License-Identifier: Apache-2.0 */
/*
 * valve.h - the safety valve: at most safetyValve.maxTaintedPercent of a class's Nodes carry a
 * nodeprint NoSchedule/NoExecute ("hard") taint, and at most safetyValve.maxNewPerWindow Nodes
 * of a class get one per window, however many agents decide at once.
 *
 * The decision is made on the API server, not in each agent's head: a Node may take a hard
 * taint only while it holds a slot in its class's budget, a coordination.k8s.io/v1 Lease
 * (nodeprint-valve[-<class>] in the agent's namespace) whose annotation <prefix>/valve lists
 * the slots; a slot is taken by a PUT with the resourceVersion the Lease was read at, so of
 * agents that read the same version exactly one wins and the others (409) read again and
 * count again. The same guarantee as client-go's leader election (resourcelock on a Lease) and
 * the eviction API's check of a PodDisruptionBudget (status.disruptionsAllowed and
 * status.disruptedPods updated under the PDB's resourceVersion, stale entries dropped after a
 * timeout). docs/reference.md ("Safety valve") is the user's description.
 *
 * The pure part (a book of slots, a census of the class from a LIST, the decision) is here with
 * its I/O (np_valve_acquire(), np_valve_release()).
 */
#pragma once

#include "../kube/api.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* The Lease's record: who holds a slot since when, and when slots were granted. */
struct np_valve_book {
	char *klass;                   /* class the Lease is for ("" = no class) */
	struct np_valve_slot {
		char *node;
		time_t since;          /* granted, seconds since the epoch (the granting agent's clock) */
		time_t renewed;        /* last confirmed by its holder */
	} *slots;
	size_t n_slots;
	time_t *grants;                /* when slots were granted within the rate window */
	size_t n_grants;
};

/* The class's Nodes as a LIST (label <prefix>/class=<class>) shows them. */
struct np_valve_census {
	unsigned total;                /* Nodes of the class, the asking one included */
	char **members;                /* their names (NULL-terminated strv) */
	size_t n_members;
	char **tainted;                /* those carrying a <prefix>/ NoSchedule or NoExecute taint */
	size_t n_tainted;
};

struct np_valve_limits {
	double max_percent;            /* safetyValve.maxTaintedPercent */
	unsigned max_new;              /* safetyValve.maxNewPerWindow; 0 = no rate limit */
	double window_seconds;         /* safetyValve.windowSeconds */
	double ttl_seconds;            /* safetyValve.slotTTLSeconds */
	double retry_max_seconds;      /* safetyValve.retryMaxSeconds: a waiting Node's longest pause; 0 = every cycle */
};

enum np_valve_verdict {
	NP_VALVE_HELD,                 /* the Node holds a slot, or already carries a hard taint */
	NP_VALVE_GRANTED,              /* a slot was added to the book */
	NP_VALVE_FULL,                 /* refused: the class's budget is used up */
	NP_VALVE_RATE,                 /* refused: maxNewPerWindow slots were granted within the window */
};

void np_valve_book_free(struct np_valve_book *b);
void np_valve_census_free(struct np_valve_census *c);

/*
 * np_valve_book_parse() - the annotation's JSON text, {"class":S,"slots":{NODE:{"since":N,
 * "renewed":N}},"grants":[N...]} (times in seconds since the epoch). @text NULL is an empty book.
 * Returns 0 and fills @b (free with np_valve_book_free()), -EBADMSG for anything else (not JSON,
 * wrong types, a node name that is not a DNS-1123 subdomain, over 100000 entries), -ENOMEM.
 */
int np_valve_book_parse(const char *text, struct np_valve_book *b);

/* The annotation text of @b (malloc'd, compact JSON, slots sorted by name), or NULL (-ENOMEM). */
char *np_valve_book_format(const struct np_valve_book *b);

/*
 * np_valve_census_add() - count the Nodes of one LIST page (@page: a NodeList, borrowed) into
 * @c: names, and whether each carries a taint under "<@prefix>/" with effect NoSchedule or
 * NoExecute. Returns 0 or -ENOMEM.
 */
int np_valve_census_add(struct np_valve_census *c, const json_t *page, const char *prefix);

/* Is @effect NoSchedule or NoExecute? */
bool np_valve_hard_effect(const char *effect);

/*
 * np_valve_budget() - how many Nodes of a class of @total may carry a hard taint:
 * floor(@max_percent * @total / 100), and 1 for a class of one Node (it can always protect
 * itself).
 */
unsigned np_valve_budget(double max_percent, unsigned total);

/*
 * np_valve_reclaim() - drop slots nobody needs any more: a holder that carries no hard taint
 * and whose Node is gone (named in @gone, a NULL-terminated strv or NULL) or has not renewed
 * within @l->ttl_seconds before @now (a Node that recovered, or an agent that died between
 * taking a slot and tainting); grants older than the window. A holder that carries a hard
 * taint keeps its slot however old. Returns how many slots were dropped.
 */
unsigned np_valve_reclaim(struct np_valve_book *b, const struct np_valve_census *c, char *const *gone, time_t now,
			  const struct np_valve_limits *l);

/*
 * np_valve_in_use() - Nodes counted against the budget: slot holders and Nodes of @c that
 * carry a hard taint (nodeprint's older versions, or a taint a person copied), each once.
 */
unsigned np_valve_in_use(const struct np_valve_book *b, const struct np_valve_census *c);

/*
 * np_valve_decide() - may @node take a hard taint at @now? A holder is HELD (its slot's renewed
 * time set to @now when older than a quarter of the TTL: *@changed); a Node that already
 * carries a hard taint is HELD and gets the slot it lacks (no budget needed: it is counted
 * already); otherwise GRANTED (slot and grant added, *@changed) when one more stays within
 * np_valve_budget() and the rate limit, else FULL or RATE. Call np_valve_reclaim() first.
 */
enum np_valve_verdict np_valve_decide(struct np_valve_book *b, const struct np_valve_census *c, const char *node,
				      time_t now, const struct np_valve_limits *l, bool *changed);

/* np_valve_release() - drop @node's slot. Returns true when it held one. */
bool np_valve_release(struct np_valve_book *b, const char *node);

/*
 * np_valve_lease_name() - the Lease of @klass (NULL: Nodes without a class):
 * "nodeprint-valve", or "nodeprint-valve-" + the class lower-cased with every character other
 * than [a-z0-9-] as '-' (a DNS-1123 name; two classes that map to one name share nothing: the
 * book names its class, and a mismatch is refused). Returns a malloc'd string or NULL.
 */
char *np_valve_lease_name(const char *klass);

/* Where and for whom the valve works: the agent's namespace, the policy's prefix and limits. */
struct np_valve_ctx {
	struct np_kube_client *kc;     /* borrowed */
	const char *ns;                /* namespace of the Lease */
	const char *prefix;            /* label prefix */
	const char *klass;             /* the Node's class, or NULL */
	const char *node;
	struct np_valve_limits limits;
};

/* What np_valve_acquire() found and did. */
struct np_valve_outcome {
	enum np_valve_verdict verdict;
	unsigned in_use, budget, total, reclaimed;
	bool write;                    /* the Lease was (dry: would be) written */
	bool lease_exists;             /* ... by PUT (true) or created by POST (false) */
	char *lease;                   /* its name (malloc'd; free it) */
	char *rv;                      /* its resourceVersion after the decision (malloc'd; NULL: none exists) */
	time_t rate_free_at;           /* RATE: when the window's oldest grant leaves it (seconds since the epoch) */
};

/* np_valve_outcome_free() - free @o's strings. */
void np_valve_outcome_free(struct np_valve_outcome *o);

/*
 * np_valve_acquire() - take (or confirm) a slot for @x->node: LIST the class's Nodes, then
 * compare-and-swap the Lease (created when absent) with reclaimed slots and the decision; a
 * holder missing from the LIST is looked up (GET: 404 = gone). @now (seconds since the epoch)
 * stamps grants and renewals and ages the book; 0 = the wall clock at each compare-and-swap attempt
 * (what the agent passes: its cycle may have started long before, e.g. before an API outage). With
 * @dry nothing is written (`nodeprint plan`). @out (may be NULL) gets the outcome. Returns 1 (allowed), 0 (refused:
 * *@msg says why, for the TaintRefused Event), or -errno with *@err (then no taint may be added:
 * fail closed): -ENOTUNIQ when the Lease belongs to another class, -EBADMSG when its book cannot
 * be read, the API's errors.
 */
int np_valve_acquire(const struct np_valve_ctx *x, time_t now, bool dry, struct np_valve_outcome *out, char **msg,
		     char **err);

/*
 * np_valve_lease_version() - GET the Lease of @x->klass: its resourceVersion in *@rv (malloc'd), or
 * NULL when the Lease does not exist. Returns 0 or -errno with *@err.
 */
int np_valve_lease_version(const struct np_valve_ctx *x, char **rv, char **err);

/*
 * A Node refused a slot waits before it asks again: its pause doubles from the agent's poll
 * period (@base) up to safetyValve.retryMaxSeconds (@cap) with equal jitter (a pause d is drawn
 * from [d/2, d]), and restarts from @base when the Lease changed since the last refusal. When the
 * pause is over and the last refusal was FULL, a GET of the Lease comes first (PROBE): an
 * unchanged resourceVersion means no slot was given back or taken, and the LIST and
 * compare-and-swap are skipped; once slotTTLSeconds passed since its last full ask it asks in full, pause or not (its
 * LIST notices a grown class, its decision reclaims dead slots). A RATE refusal waits until the
 * window's oldest grant leaves it, plus up to @base. So a freed slot is asked for by every waiting
 * Node within @cap plus one cycle. Times are monotonic seconds; pure.
 */
struct np_valve_wait {
	unsigned refusals;             /* consecutive refusals; 0 = not waiting */
	enum np_valve_verdict verdict; /* the last refusal: FULL or RATE */
	char *rv;                      /* the Lease's resourceVersion then (malloc'd; NULL: none) */
	double next;                   /* no request for the valve before this */
	double last_full;              /* the last LIST and compare-and-swap */
};

enum np_valve_step {
	NP_VALVE_ASK,                  /* LIST and compare-and-swap (np_valve_acquire()) */
	NP_VALVE_PROBE,                /* GET the Lease; ASK when its resourceVersion moved */
	NP_VALVE_SKIP,                 /* refused without a request */
};

void np_valve_wait_reset(struct np_valve_wait *w);

/* np_valve_wait_step() - what a Node that needs a slot does at @mono (@ttl: slotTTLSeconds). */
enum np_valve_step np_valve_wait_step(const struct np_valve_wait *w, double mono, double cap, double ttl);

/*
 * np_valve_wait_refused() - a LIST and compare-and-swap at @mono (wall clock @now) refused
 * with @o: schedule the next request (@rnd: any random value). Returns 0 or -ENOMEM.
 */
int np_valve_wait_refused(struct np_valve_wait *w, const struct np_valve_outcome *o, double mono, time_t now,
			  double base, double cap, uint32_t rnd);

/* np_valve_wait_unchanged() - a PROBE at @mono found the Lease unchanged: pause again, longer. */
void np_valve_wait_unchanged(struct np_valve_wait *w, double mono, double base, double cap, uint32_t rnd);

/*
 * np_valve_release_slot() - give @x->node's slot back (the Node carries no hard taint any
 * more). Returns 1 when a slot was released, 0 when it held none (or there is no Lease), -errno.
 */
int np_valve_release_slot(const struct np_valve_ctx *x, char **err);

/*
 * What of the desired taints may be written on @node (a v1 Node as the API returned it), before
 * the valve: observe mode (policy-wide `observe: true`, or an action's) keeps a taint out
 * entirely; the Node's opt-out label <prefix>/taints=disabled keeps NoSchedule/NoExecute ones
 * out; of the hard taints left, those the Node lacks while it carries no own hard taint need a
 * slot (np_valve_acquire()).
 */
struct np_taint_gate {
	struct np_taint *kept;         /* the taints that may be written (entries borrowed from the desired state) */
	size_t n_kept;
	char **observed;               /* keys held back by observe mode (strv) */
	size_t n_observed;
	char **disabled;               /* hard keys held back by the opt-out label */
	size_t n_disabled;
	char **need_slot;              /* hard keys that wait for the valve */
	size_t n_need_slot;
};

/* The opt-out label's key under @prefix ("<prefix>/taints"; value "disabled"), malloc'd. */
char *np_valve_optout_label(const char *prefix);

/* Does @taints (a Node's spec.taints, may be NULL) hold a "<@prefix>/" NoSchedule or NoExecute taint? */
bool np_valve_hard_own_taint(const json_t *taints, const char *prefix);

/*
 * np_taint_gate() - sort @d's taints for @node under @pol as above. Pure. Returns 0 and fills @g
 * (free with np_taint_gate_free(); it borrows from @d), or -ENOMEM.
 */
struct np_policy;
struct np_desired;
int np_taint_gate(const struct np_policy *pol, const struct np_desired *d, const json_t *node,
		  struct np_taint_gate *g);
void np_taint_gate_free(struct np_taint_gate *g);
