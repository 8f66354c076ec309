/* SPDX-License-Identifier: Apache-2.0 */
/*
 * peers.h - how many GPUs a Node of a class should have when the policy pins none
 * (classes[].expect.gpus): the largest <prefix>/gpu.count label among the class's other Nodes
 * (the label every agent publishes: docs/reference.md), read by a LIST of the class's Nodes
 * (label selector <prefix>/class=<class>, the agent's existing `list nodes` grant) at most every
 * health.gpu.peersRefreshSeconds, never every cycle. The pure part (a page of a NodeList) is
 * separate from the LIST.
 */
#pragma once

#include "../kube/api.h"

#include <jansson.h>
#include <stdbool.h>

struct np_peer_gpus {
	char *klass;     /* the class the figure is for (NULL: none yet) */
	unsigned gpus;   /* the largest gpu.count of another Node of the class, 0 when none carries one */
	char *node;      /* the first Node (in LIST order) that carries it */
	unsigned peers;  /* other Nodes of the class seen */
	double at;       /* when it was listed (the caller's monotonic seconds) */
	double retry_at; /* after a failed LIST: not before this */
	bool listed;     /* a LIST succeeded for klass */
};

void np_peer_gpus_free(struct np_peer_gpus *p);

/*
 * np_peer_gpus_add() - count one LIST page (@page: a NodeList, borrowed) into @p: every Node
 * other than @self, and the largest value of its label "<@prefix>/gpu.count" (a decimal 1..4096;
 * anything else is ignored) with the Node's name. Returns 0 or -ENOMEM.
 */
int np_peer_gpus_add(struct np_peer_gpus *p, const json_t *page, const char *prefix, const char *self);

/*
 * np_peer_gpus_refresh() - LIST the Nodes of @klass through @kc when the figure is older than
 * @every seconds at @now (monotonic seconds), is for another class, or was never listed; a failed
 * LIST keeps the last figure of the same class and is tried again after min(@every, 60) s.
 * Returns 1 when it listed, 0 when the figure was fresh (or waits for a retry), -errno of the LIST
 * with *@err (malloc'd).
 */
int np_peer_gpus_refresh(struct np_peer_gpus *p, struct np_kube_client *kc, const char *prefix, const char *klass,
			 const char *self, double now, double every, char **err);
