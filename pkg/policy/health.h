/* SPDX-License-Identifier: Apache-2.0 */
/*
 * health.h - health rules: one per area of the report, each in its own
 * pkg/policy/health_<key>.c (pure functions), registered there with one line,
 * NP_HEALTH(); the linker gathers them like the report's sections
 * (pkg/report/section.h). A rule owns its thresholds: the struct
 * np_health_<key> of its health_<key>.h, the policy keys health.<key>.* as
 * table rows (field.h) and their built-in defaults. policy.c and
 * np_findings_health() loop over the rules and name none.
 */
#pragma once

#include "desired.h"
#include "field.h"

#include <stdio.h>

/* What a rule judges: the report and what the policy evaluation knows. */
struct np_health_in {
	const struct np_policy *policy;
	const struct np_class *cls;         /* the Node's class, or NULL */
	const struct np_report *r;
	const struct np_eval_history *hist; /* the previous report (rates, growth), or NULL */
	const struct np_node_facts *node;   /* the Node's facts from the API, or NULL */
};

struct np_health_rule {
	const char *name; /* the policy key under health: ("nvme"); the section it judges */
	int order;        /* judgement order (lower first; ties by name): the order of the findings,
			   * and of the keys under health: in the built-in policy */
	/* Add the rule's findings of @in to @d under its thresholds @cfg. Returns 0 or -ENOMEM. */
	int (*judge)(const void *cfg, const struct np_health_in *in, struct np_desired *d);
	size_t size, align;            /* of struct np_health_<key> */
	const struct np_field *fields; /* the keys of health.<key>, ended by a row without name */
	const char *defaults;          /* those keys in the built-in policy: YAML lines, unindented */
};

/*
 * np_health_rules() - every registered rule, sorted by order then name.
 * Returns a NULL-terminated array owned by the module; *@n (may be NULL) gets
 * the count. NULL only on ENOMEM at the first call.
 */
const struct np_health_rule *const *np_health_rules(size_t *n);

/*
 * np_policy_health() - the thresholds of @rule in policy @p (parsed with
 * np_policy_parse()), a struct np_health_<key>; NULL when @p has none. The
 * memory is the policy's. NP_HEALTH_OF(p, key) is the typed form.
 */
void *np_policy_health(const struct np_policy *p, const struct np_health_rule *rule);
#define NP_HEALTH_OF(p, key) ((struct np_health_##key *)np_policy_health((p), &np_health_rule_##key))

/*
 * np_findings_health() - every rule's findings of @in->r, in rule order,
 * added to @d. Returns 0, -ENOMEM, or -EINVAL for a policy without
 * thresholds (not made by np_policy_parse()).
 */
int np_findings_health(const struct np_health_in *in, struct np_desired *d);

/* For policy.c: a zeroed block for every rule's thresholds (free()), NULL on ENOMEM. */
void *np_health_alloc(void);
/* For policy.c: the table of health: (one NP_F_SUB row per rule, into that block); NULL on ENOMEM. */
const struct np_field *np_health_fields(void);
/* For policy.c: write "  <key>:" and its defaults indented under it, per rule. 0 or -EIO. */
int np_health_default_yaml(FILE *f);

/*
 * NP_HEALTH() - register the health rule @key (at the end of
 * pkg/policy/health_<key>.c): @ord its order, @judge_fn(const struct
 * np_health_<key> *, const struct np_health_in *, struct np_desired *), @fields_
 * its keys (rows of struct np_health_<key>, field.h), @defaults_ their
 * built-in values (YAML). health_<key>.h declares struct np_health_<key> and
 * NP_HEALTH_DECLARE(key). A second rule of the same key fails to link.
 */
#define NP_HEALTH_DECLARE(key) extern const struct np_health_rule np_health_rule_##key

#define NP_HEALTH(key, ord, judge_fn, fields_, defaults_)                                             \
	static int np_health_judge_##key(const void *cfg, const struct np_health_in *in, struct np_desired *d) \
	{                                                                                             \
		return judge_fn(cfg, in, d);                                                          \
	}                                                                                             \
	const struct np_health_rule np_health_rule_##key = {                                          \
		.name = #key,                                                                         \
		.order = (ord),                                                                       \
		.judge = np_health_judge_##key,                                                       \
		.size = sizeof(struct np_health_##key),                                               \
		.align = _Alignof(struct np_health_##key),                                            \
		.fields = (fields_),                                                                  \
		.defaults = (defaults_),                                                              \
	};                                                                                            \
	static const struct np_health_rule *const np_health_ptr_##key                                 \
		__attribute__((used, section("np_health_rules"), aligned(sizeof(void *)))) = &np_health_rule_##key
