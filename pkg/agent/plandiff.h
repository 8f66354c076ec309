/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plandiff.h - `nodeprint plan` against a cluster: the exact requests the
 * agent would send for a desired state to the Node as the API returns it,
 * computed with the agent's own reconcile functions and never sent.
 */
#pragma once

#include "../kube/api.h"
#include "../policy/desired.h"
#include "../policy/policy.h"

#include <jansson.h>
#include <stdio.h>
#include <time.h>

/*
 * np_plan_against_node() - what a settled agent would send at @now to bring
 * @node (a v1 Node from GET) to @d under @pol: a JSON object
 *   {"node", "resourceVersion",
 *    "writes": [{"method", "path", "contentType", "what", "body"}],
 *    "events": [{"reason", "type", "kind", "name", "subject", "message", "send", "why"}],
 *    "refusedTaints": [{"key", "why"}],
 *    "heldTaints": [{"key", "effect", "why"}]}
 * in the order the agent sends them (metadata merge patch, the taint list by
 * guarded read-modify-write, nodes/status strategic merge patch, Events).
 * "writes" is empty in a steady state. @kc, when not NULL, is used for the
 * safety valve's LIST (as the agent does before adding a NoSchedule or
 * NoExecute taint); nothing is ever written. Events whose finding the Node's
 * condition already reports are listed with "send": false (the agent does
 * not announce them again after a restart). Own taints whose finding is
 * clear are "heldTaints": the agent removes them after the policy's hold-down,
 * counted from when it saw the finding clear, which a plan cannot know.
 * Returns 0 and *@out (caller
 * decrefs), -EINVAL when @node is not a Node, -ENOMEM, or the valve's -errno
 * with *@err set (caller frees).
 */
int np_plan_against_node(struct np_kube_client *kc, const struct np_policy *pol, const struct np_desired *d,
			 const json_t *node, time_t now, json_t **out, char **err);

/* Print the object np_plan_against_node() returned, for people. Returns 0 or -EIO. */
int np_plan_against_node_print(const json_t *plan, FILE *f);
