/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reconcile.h - the writes that bring a Node to the desired state, computed
 * by pure functions from the Node as the API returned it (JSON) and the
 * desired state. Nothing outside the policy's prefix and our own condition
 * types is ever in a patch: foreign labels, annotations, taints and
 * conditions are either left out (merge patches) or copied back verbatim
 * (the taint list, which is atomic and guarded by resourceVersion).
 */
#pragma once

#include "../policy/desired.h"

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

/* Hysteresis memory of the taints we placed: when each one's finding cleared. */
struct np_taint_memory {
	struct np_taint_clear {
		char *key;
		char *effect;
		time_t clear_since;  /* first reconcile at which the finding was absent */
	} *items;
	size_t n;
};

struct np_reconcile_opts {
	const char *prefix;        /* "nodeprint.io" */
	time_t now;                /* seconds since the epoch (injectable for tests) */
	double hold_down_seconds;  /* a taint goes only after its finding was clear this long */
	double heartbeat_seconds;  /* condition heartbeat refresh interval */
	bool allow_removals;       /* false while the agent is settling after start: never remove own keys */
	/* taint keys the safety valve refuses to add now (NULL-terminated, may be NULL) */
	char *const *refused_taints;
};

struct np_node_writes {
	json_t *metadata_patch;   /* merge patch {"metadata":{"labels":{..},"annotations":{..}}} or NULL */
	json_t *taints_patch;     /* merge patch {"metadata":{"resourceVersion":rv},"spec":{"taints":[..]}} or NULL */
	json_t *status_patch;     /* strategic merge patch {"status":{"conditions":[..]}} for nodes/status, or NULL */
	unsigned labels_changed, taints_added, taints_removed, conditions_changed;
};

/*
 * np_reconcile_node() - compute the writes for @node (a v1 Node object as
 * returned by GET) to reach @d. Own keys are those under "<prefix>/"; own
 * stale keys are removed (null in the merge patch) only when
 * @o->allow_removals; own taints whose finding cleared stay until
 * hold_down_seconds have passed (@mem remembers since when); conditions are
 * written only when status, reason or message differ or the heartbeat is
 * due, with lastTransitionTime moved only on a status change.
 * Returns 0 and fills @w (free with np_node_writes_free(); all NULL in a
 * steady state), -EINVAL when @node is not a Node object, or -ENOMEM.
 */
int np_reconcile_node(const json_t *node, const struct np_desired *d, const struct np_reconcile_opts *o,
		      struct np_taint_memory *mem, struct np_node_writes *w);

/*
 * np_reconcile_taints() - the new taint list from the current one @cur (a
 * JSON array, may be NULL): foreign taints copied verbatim in their order,
 * own taints kept while desired or held down, new desired taints appended
 * unless refused. Returns a new array, or NULL when nothing changes; the
 * counts of added and removed taints in *@added, *@removed.
 */
json_t *np_reconcile_taints(const json_t *cur, const struct np_desired *d, const struct np_reconcile_opts *o,
			    struct np_taint_memory *mem, unsigned *added, unsigned *removed);

void np_node_writes_free(struct np_node_writes *w);

/*
 * np_node_label_facts() - the labels of @node (a v1 Node) as policy facts for
 * class matching. Returns a calloc'd array (caller frees the array only: keys
 * and values are borrowed from @node) with its length in *@n; NULL with *@n 0
 * on ENOMEM. A Node without labels gives an empty array.
 */
struct np_kv *np_node_label_facts(const json_t *node, size_t *n);
void np_taint_memory_free(struct np_taint_memory *m);
/* A deep copy of @m into @out. Returns 0 or -ENOMEM. */
int np_taint_memory_dup(const struct np_taint_memory *m, struct np_taint_memory *out);

/* RFC 3339 UTC ("2026-11-29T18:30:52Z") of @t into @buf (at least 21 bytes). */
void np_rfc3339(time_t t, char *buf, size_t len);
