/* SPDX-License-Identifier: Apache-2.0 */
/*
 * desired.h - what the node should look like in the API, computed by pure
 * functions from a report and a policy: findings, then labels, annotations,
 * taints, conditions and events. The kube/agent stages diff it with the Node.
 */
#pragma once

#include "policy.h"
#include "../report/report.h"

#include <jansson.h>

/* Largest fingerprint annotation, bytes (metadata.annotations total is 256 KiB). */
#define NP_ANNOTATION_MAX 8192

struct np_finding {
	char *id;       /* finding id as in the policy's actions, e.g. "nvme-critical" */
	char *subject;  /* what it is about: "nvme0", "mpatha", "0000:03:00.0", "bundle" */
	char *reason;   /* CamelCase reason for the condition, e.g. "CriticalWarning" */
	char *message;  /* one sentence for people */
};

struct np_kv {
	char *key;
	char *value;
};

struct np_taint {
	char *key;    /* <prefix>/<finding id> */
	char *value;  /* "" or a short subject */
	char *effect; /* NoSchedule | PreferNoSchedule | NoExecute */
};

struct np_condition {
	char *type;    /* CamelCase, e.g. NVMeHealthy */
	char *status;  /* True | False | Unknown */
	char *reason;  /* CamelCase */
	char *message;
};

struct np_event {
	char *reason;  /* CamelCase, e.g. NVMeCriticalWarning */
	char *type;    /* Normal | Warning */
	char *message;
	char *kind;    /* involvedObject: Node, PersistentVolume, Pod, PersistentVolumeClaim */
	char *name;
	char *namespace_; /* NULL for cluster-scoped objects */
	char *subject; /* the finding's subject, for aggregation */
	char *uid;     /* involvedObject.uid, set by the agent once it has resolved the object (NULL in a plan):
			* `kubectl describe` finds an object's Events by kind, name, namespace and uid */
};

/* Facts about the Node object that policy needs (from the API; empty without a cluster). */
struct np_node_facts {
	const char *name;
	const struct np_kv *labels;
	size_t n_labels;
	/*
	 * The largest <prefix>/gpu.count label among the other Nodes of @peer_class (the agent's
	 * LIST of its class, pkg/agent/peers.h), and one Node that carries it; 0 / NULL when not known.
	 * Judged only for a Node of that class whose class pins no expect.gpus.
	 */
	unsigned peer_gpus;
	const char *peer_gpus_node;
	const char *peer_class;
};

/* The previous report of the same node, for rates and growth (the agent keeps it). */
struct np_eval_history {
	const struct np_report *prev;
	double dt_seconds; /* time between prev and the current report */
};

struct np_desired {
	char *klass;        /* the matched class name, or NULL */
	char *bundle_state; /* pinned | drift | unknown */
	struct np_finding *findings;
	size_t n_findings;
	struct np_kv *labels;
	size_t n_labels;
	struct np_kv *annotations;
	size_t n_annotations;
	struct np_taint *taints;
	size_t n_taints;
	struct np_condition *conditions;
	size_t n_conditions;
	struct np_event *events;
	size_t n_events;
	/*
	 * Own label/annotation keys to leave as they are on the Node: the bundle
	 * label and fingerprint when the bundle's inputs could not be read (blind
	 * is never a new bundle). NULL-terminated, or NULL.
	 */
	char **keep;
};

/*
 * np_policy_evaluate() - findings and desired state for one node.
 * Pure: reads @p, @r, @hist (may be NULL: no rates, no growth) and @node
 * only. Every label value is validated (the raw value stays in the
 * fingerprint annotation). Returns 0 and fills @d (free with
 * np_desired_free()), or -ENOMEM.
 */
int np_policy_evaluate(const struct np_policy *p, const struct np_report *r, const struct np_eval_history *hist,
		       const struct np_node_facts *node, struct np_desired *d);

void np_desired_free(struct np_desired *d);

/*
 * np_policy_judge_bundle() - add a firmware-unpinned finding to @d for every
 * bundle item of @b that a pin of class @c rejects (reason Drift) or that
 * belongs to a pinned component without a matching pin (Unpinned; modules
 * excepted). Returns 0 or -ENOMEM.
 */
int np_policy_judge_bundle(const struct np_class *c, const struct np_bundle *b, struct np_desired *d);

/* The desired state as JSON (`nodeprint plan -o json`). Caller owns the reference. */
json_t *np_desired_to_json(const struct np_desired *d);
/* The human plan. */
void np_desired_print(const struct np_desired *d, struct np_out *o);

