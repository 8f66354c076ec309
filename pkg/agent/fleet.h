/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fleet.h - `nodeprint fleet`: nodes grouped by class and bundle hash, from
 * what the agents wrote (labels <prefix>/class, /bundle, /bundle-state and
 * the /fingerprint annotation), with each group's drift from its class's
 * pinned bundle named component by component. Pure: fed Node objects page by
 * page, so a paginated LIST of thousands of nodes streams through.
 */
#pragma once

#include "../policy/policy.h"
#include "../report/baseline.h"

#include <jansson.h>
#include <stdio.h>

/* A group's bundle judged: by the policy's pins when its class has some, else the agents' bundle-state label. */
enum np_fleet_verdict {
	NP_FLEET_UNKNOWN, /* no bundle label, no readable or a truncated annotation, or the label says unknown */
	NP_FLEET_PINNED,
	NP_FLEET_DRIFT,
};

/* One component that differs from the class's pinned bundle (the fingerprint's [component, key, value]). */
struct np_fleet_diff {
	char *component, *key;
	char *pinned; /* the value in the pinned bundle, NULL when it has no such component key */
	char *value;  /* the value in this bundle, NULL when it has none */
};

struct np_fleet_group {
	char *klass;        /* class label, "" when none */
	char *hash;         /* bundle label, "" when the agent has not labelled the node */
	char *state;        /* bundle-state label */
	unsigned nodes;
	unsigned opted_out; /* nodes with the label <prefix>/taints=disabled */
	char *example;      /* the first node's name */
	json_t *components; /* the fingerprint annotation's components (first node's), or NULL */
	unsigned truncated; /* components the annotation left out ("truncated"), 0 when whole */
	char **drift;       /* "component key value: reason" against the class's pins */
	size_t n_drift;
	/* set by np_fleet_finish(): */
	enum np_fleet_verdict verdict;
	bool judged;        /* verdict from the policy's pins (false: from the bundle-state label) */
	bool reference;     /* the class's pinned bundle: of its pinned groups the one with most nodes */
	long ref;           /* index in np_fleet.g of the class's reference group, -1 when none */
	struct np_fleet_diff *diff; /* this bundle against the reference, component by component */
	size_t n_diff;
	char **names;       /* node names, kept only when the hash is np_fleet.show_bundle */
	size_t n_names;
};

struct np_fleet {
	const struct np_policy *pol;
	const char *show_bundle; /* only this bundle's groups are shown, with their node names (NULL: all) */
	struct np_fleet_group *g;
	size_t n;
	size_t *index, index_cap; /* open addressing on (class, hash): group i + 1, 0 = free; until finish */
	unsigned nodes, unlabelled;
	struct np_bench_record *bench; /* every record of the nodeprint-baselines-* ConfigMaps */
	size_t n_bench;
	char *bench_error;             /* why they could not be read, or NULL */
};

/*
 * What the policy would do to each class before it is applied: Nodes whose bundle drifts from the
 * class's pins, how many of them would get a NoSchedule/NoExecute taint (the action of
 * firmware-unpinned is hard and not in observe mode; Nodes with the opt-out label left out), the
 * safety valve's budget floor(maxTaintedPercent x nodes / 100) and how many it lets through.
 * Health findings are not known here (they need the node itself): this is the bundle's part.
 */
struct np_fleet_impact {
	const char *klass;  /* borrowed from a group */
	unsigned nodes, drifting, opted_out, would_taint, budget, allowed;
};

/* Per class, in class order (after np_fleet_finish()). Returns a malloc'd array of *@n (empty without
 * a policy), or NULL (-ENOMEM). */
struct np_fleet_impact *np_fleet_impact(const struct np_fleet *f, size_t *n);

/*
 * np_fleet_diff() - what differs between two fingerprint component lists (the P/fingerprint
 * annotation's "components": [[component, key, value], ...], docs/reference.md), matched by
 * component and key: a changed value, or a key present on one side only. Malformed entries are
 * skipped. Returns the count in *@n and a malloc'd array (free with np_fleet_diff_free()) in *@out
 * (NULL when empty), 0, or -ENOMEM.
 */
int np_fleet_diff(const json_t *pinned, const json_t *other, struct np_fleet_diff **out, size_t *n);
void np_fleet_diff_free(struct np_fleet_diff *d, size_t n);

/* How many nodes of the shown groups have verdict @v (after np_fleet_finish(); `fleet --fail-on`). */
unsigned np_fleet_nodes_with(const struct np_fleet *f, enum np_fleet_verdict v);

/* Is group @g shown (np_fleet.show_bundle)? */
bool np_fleet_shown(const struct np_fleet *f, const struct np_fleet_group *g);

/* Add one Node object. Returns 0 or -ENOMEM. */
int np_fleet_add(struct np_fleet *f, const json_t *node);
/* Sort groups (class, then most nodes first), judge each (verdict), pick each class's pinned reference and
 * diff every other group of the class against it. Returns 0 or -ENOMEM. */
int np_fleet_finish(struct np_fleet *f);
void np_fleet_free(struct np_fleet *f);
/* Add copies of @n records of one baselines ConfigMap (records it cannot copy are left out). Returns 0 or -ENOMEM. */
int np_fleet_add_baselines(struct np_fleet *f, const struct np_bench_record *recs, size_t n);
json_t *np_fleet_to_json(const struct np_fleet *f);
void np_fleet_print(const struct np_fleet *f, FILE *out);
