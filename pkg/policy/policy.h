/* SPDX-License-Identifier: Apache-2.0 */
/*
 * policy.h - the YAML policy: pinned known-good bundles per node class, health
 * thresholds, and what each finding does (label, condition, taint, event).
 * docs/policy.md is the reference; docs/policy-example.yaml an annotated example.
 */
#pragma once

#include "../report/baseline.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One pin: bundle items of @component whose key matches the glob @key must
 * have a value matching one of @allowed (globs, or version ranges ">=a <b"). */
struct np_pin {
	char *component;
	char *key;
	char **allowed;
	size_t n_allowed;
};

struct np_match {
	char *field;    /* "nodeLabels" key or DMI field name */
	char *pattern;  /* glob */
};

struct np_offload_rule {
	char *driver;       /* glob on the NIC driver */
	char **must_off, **must_on;
	size_t n_off, n_on;
};

struct np_class {
	char *name;
	struct np_match *labels, *dmi;
	size_t n_labels, n_dmi;
	struct np_pin *pins;
	size_t n_pins;
	struct np_offload_rule *offloads;
	size_t n_offloads;
	int expect_gpus;      /* expect.gpus: GPUs (PCI class 0x03/0x12) the class's Nodes carry; -1 = not pinned */
};

/* What one finding id does; NULL/empty members mean "not this action". */
struct np_action {
	char *finding;       /* e.g. "firmware-unpinned" */
	char *condition;     /* CamelCase condition type, e.g. "BundlePinned" */
	char *taint_effect;  /* NoSchedule, PreferNoSchedule, NoExecute, or NULL */
	char *event_reason;  /* e.g. "FirmwareDrift" */
	bool observe;        /* conditions and Events only: its taint is not written (observe: true) */
};

/* The storage micro-test (`nodeprint baseline`, docs/baseline.md): where, how long, how judged. */
struct np_baseline_policy {
	char *directory;            /* the test file goes here, default /var/lib/nodeprint/baseline */
	char *raw_device;           /* read this device instead (only with --yes-raw); NULL = never */
	double file_mib;            /* test file size, MiB, default 1024 */
	double max_util_percent;    /* refuse when the device's %util is above this, default 10 */
	double busy_sample_seconds; /* %util is measured over this, default 2 */
	double wall_seconds;        /* hard limit per fio run (killed), default 60 */
	unsigned repeats;           /* runs per profile in a compare, default 3 */
	double p99_growth_percent;  /* regression when the median p99 grows more, default 20 */
	double iops_drop_percent;   /* regression when the median IOPS drops more, default 15 */
	struct np_bench_profile *profiles;
	size_t n_profiles;
};

struct np_policy {
	char *source;          /* file name, or "built-in default" */
	char *label_prefix;    /* default "nodeprint.io" */
	double heartbeat_seconds;
	double taint_hold_down_seconds;
	double valve_max_tainted_percent;
	unsigned valve_max_new_per_window; /* new hard taints per class and window; 0 = no rate limit */
	double valve_window_seconds;      /* that window, default 300 */
	double valve_slot_ttl_seconds;    /* an untainted holder's slot is reclaimed after this, default 300 */
	double valve_retry_max_seconds;   /* a Node refused a slot pauses at most this long, default 60; 0 = every cycle */
	bool observe;                     /* observe mode: conditions and Events, no taints at all */
	double event_burst;             /* Events per involved object and reason sent at once, default 5 */
	double event_per_minute;        /* refill of that bucket, default 1 */
	double event_aggregate_seconds; /* repeats within this update one Event's count, default 600 */
	struct np_class *classes;
	size_t n_classes;
	void *health;          /* every health rule's thresholds, one block: np_policy_health() (health.h) */
	struct np_action *actions;
	size_t n_actions;
	struct np_baseline_policy baseline;
};

/*
 * np_policy_parse() - parse and validate a policy document.
 * @buf/@len: YAML text; @source: its name for messages ("policy.yaml").
 * Returns 0 and fills @p (free with np_policy_free()), or -EINVAL with
 * *@err set to a malloc'd "source:line:column: field: message" (caller
 * frees), or -ENOMEM. Unknown fields are errors (a typo must not silently
 * switch a rule off). Defaults fill whatever the document leaves out.
 */
int np_policy_parse(const char *buf, size_t len, const char *source, struct np_policy *p, char **err);

/* np_policy_load() - read @path (at most 1 MiB) and parse it. Same returns, plus -errno of the read. */
int np_policy_load(const char *path, struct np_policy *p, char **err);

/* The built-in default policy: no pins, conservative health rules. Returns 0 or -ENOMEM. */
int np_policy_default(struct np_policy *p);

/* Its YAML text (static; `nodeprint policy --default` prints it). */
const char *np_policy_default_yaml(void);

void np_policy_free(struct np_policy *p);

/* The action for a finding id (NULL when the policy does nothing for it). */
const struct np_action *np_policy_action(const struct np_policy *p, const char *finding);

