/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cleanup.h - uninstall: remove from a Node every key nodeprint wrote, and only those: labels and
 * annotations under "<prefix>/", taints whose key is under it, and the condition types its policy
 * names. Foreign keys are never in a request (labels/annotations by merge patch naming only ours,
 * the taint list by a resourceVersion-guarded read-modify-write that copies every foreign taint
 * back, conditions by strategic merge patch "$patch: delete" on our types only).
 */
#pragma once

#include "../kube/api.h"

#include <jansson.h>
#include <stdbool.h>

struct np_cleanup_counts {
	unsigned labels, annotations, taints, conditions;
};

/*
 * np_cleanup_plan() - from @node (a Node object, borrowed), the merge patch removing our labels
 * and annotations (*@meta, NULL when none) and the strategic merge patch deleting our conditions
 * (*@status, NULL when none), as JSON text the caller frees; counts what they and the taint list
 * remove in @n. @prefix has no trailing '/'; @types is NULL-terminated. Pure. Returns 0 or -ENOMEM.
 */
int np_cleanup_plan(const json_t *node, const char *prefix, char *const *types, char **meta, char **status,
		    struct np_cleanup_counts *n);

/*
 * np_cleanup_node() - read Node @name and remove our keys (np_cleanup_plan()); with @dry_run only
 * count them. Returns 0 (counts in @n) or a negative errno with a message in *@err.
 */
int np_cleanup_node(struct np_kube_client *kc, const char *name, const char *prefix, char *const *types, bool dry_run,
		    struct np_cleanup_counts *n, char **err);
