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

struct np_fleet_group {
	char *klass;        /* class label, "" when none */
	char *hash;         /* bundle label, "" when the agent has not labelled the node */
	char *state;        /* bundle-state label */
	unsigned nodes;
	unsigned opted_out; /* nodes with the label <prefix>/taints=disabled */
	char *example;      /* the first node's name */
	json_t *components; /* the fingerprint annotation's components (first node's), or NULL */
	char **drift;       /* "component key value: reason" against the class's pins */
	size_t n_drift;
};

struct np_fleet {
	const struct np_policy *pol;
	struct np_fleet_group *g;
	size_t n;
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

/* Add one Node object. Returns 0 or -ENOMEM. */
int np_fleet_add(struct np_fleet *f, const json_t *node);
/* Sort groups (class, then most nodes first) and judge each against its class's pins. Returns 0 or -ENOMEM. */
int np_fleet_finish(struct np_fleet *f);
void np_fleet_free(struct np_fleet *f);
/* Add copies of @n records of one baselines ConfigMap (records it cannot copy are left out). Returns 0 or -ENOMEM. */
int np_fleet_add_baselines(struct np_fleet *f, const struct np_bench_record *recs, size_t n);
json_t *np_fleet_to_json(const struct np_fleet *f);
void np_fleet_print(const struct np_fleet *f, FILE *out);
