/* SPDX-License-Identifier: Apache-2.0 */
/*
 * canary.h - the agent's on-demand bundle-regression check (docs/baseline.md):
 * when the Node carries the annotation <prefix>/baseline-request, the agent
 * starts `nodeprint baseline compare` as a child process (never on a timer),
 * keeps the request while it runs and drops it (the agent's reconcile then
 * removes it) when the child ends; the latest verdict of this node and bundle,
 * read from --state-dir, becomes condition BundleRegression, label
 * <prefix>/bundle-verdict and, once per new verdict, an Event.
 */
#pragma once

#include "agent.h"
#include "../policy/desired.h"
#include "../policy/policy.h"

#include <jansson.h>
#include <stdint.h>
#include <sys/types.h>

struct np_canary {
	pid_t child;            /* the running compare, 0 when none */
	char *request;          /* the request value being (or last) handled */
	int64_t announced_ms;   /* newest verdict already announced (or found at start) */
	bool primed;            /* announced_ms set from the state directory */
};

/*
 * np_canary_step() - one agent cycle: reap a finished child, start one when
 * @node (the Node object, may be NULL) has a request not handled yet, keep
 * the request annotation in @d while the child runs, and add the verdict of
 * node @o->node_name, bundle @bundle found in @o->state_dir to @d
 * (np_bench_desired()). Nothing without @o->state_dir. Returns 0 or -ENOMEM;
 * a failed start is logged and retried at the next request.
 */
int np_canary_step(struct np_canary *c, const struct np_agent_opts *o, const struct np_policy *pol,
		   const json_t *node, const char *bundle, struct np_desired *d);

/* Stop a running child (SIGTERM, then SIGKILL after 5 s: fio is stopped and its file removed) and free @c. */
void np_canary_stop(struct np_canary *c);
