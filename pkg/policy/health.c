// SPDX-License-Identifier: Apache-2.0
/* health.c - the registered health rules (health.h), gathered by the linker into "np_health_rules". */
#include "health.h"
#include "../shared/macro.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

extern const struct np_health_rule *const __start_np_health_rules[] __attribute__((weak));
extern const struct np_health_rule *const __stop_np_health_rules[] __attribute__((weak));

static struct {
	const struct np_health_rule **rules; /* sorted, NULL-terminated */
	size_t n;
	size_t *off;                         /* each rule's place in the policy's block */
	size_t size;                         /* of that block */
	struct np_field *fields;             /* health: one NP_F_SUB row per rule */
} reg;

static int cmp_rule(const void *a, const void *b)
{
	const struct np_health_rule *x = *(const struct np_health_rule *const *)a;
	const struct np_health_rule *y = *(const struct np_health_rule *const *)b;
	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Sort the rules and lay their thresholds out in one block, once. Returns 0 or -ENOMEM. */
static int reg_init(void)
{
	if (reg.rules)
		return 0;
	size_t n = (size_t)(__stop_np_health_rules - __start_np_health_rules);
	const struct np_health_rule **v = calloc(n + 1, sizeof(*v));
	size_t *off = calloc(n + 1, sizeof(*off));
	struct np_field *f = calloc(n + 1, sizeof(*f));
	if (!v || !off || !f) {
		free(v);
		free(off);
		free(f);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		v[i] = __start_np_health_rules[i];
	qsort(v, n, sizeof(*v), cmp_rule);
	size_t size = 0;
	for (size_t i = 0; i < n; i++) {
		size = (size + v[i]->align - 1) / v[i]->align * v[i]->align;
		off[i] = size;
		size += v[i]->size;
		f[i] = (struct np_field){ .name = v[i]->name, .type = NP_F_SUB, .off = off[i], .sub = v[i]->fields };
	}
	reg.n = n;
	reg.off = off;
	reg.size = size;
	reg.fields = f;
	reg.rules = v;
	return 0;
}

const struct np_health_rule *const *np_health_rules(size_t *n)
{
	if (reg_init() < 0)
		return NULL;
	if (n)
		*n = reg.n;
	return reg.rules;
}

void *np_policy_health(const struct np_policy *p, const struct np_health_rule *rule)
{
	if (!p->health || reg_init() < 0)
		return NULL;
	for (size_t i = 0; i < reg.n; i++)
		if (reg.rules[i] == rule)
			return (char *)p->health + reg.off[i];
	return NULL;
}

int np_findings_health(const struct np_health_in *in, struct np_desired *d)
{
	const struct np_health_rule *const *rule = np_health_rules(NULL);
	if (!rule)
		return -ENOMEM;
	int rc = 0;
	for (; rc >= 0 && *rule; rule++) {
		const void *cfg = np_policy_health(in->policy, *rule);
		if (!cfg)
			return -EINVAL; /* a policy not from np_policy_parse() */
		rc = (*rule)->judge(cfg, in, d);
	}
	return rc;
}

void *np_health_alloc(void)
{
	if (reg_init() < 0)
		return NULL;
	return calloc(1, reg.size ? reg.size : 1);
}

const struct np_field *np_health_fields(void)
{
	return reg_init() < 0 ? NULL : reg.fields;
}

int np_health_default_yaml(FILE *f)
{
	const struct np_health_rule *const *rule = np_health_rules(NULL);
	if (!rule)
		return -ENOMEM;
	for (; *rule; rule++) {
		fprintf(f, "  %s:\n", (*rule)->name);
		for (const char *l = (*rule)->defaults; l && *l;) {
			size_t k = strcspn(l, "\n");
			fprintf(f, "    %.*s\n", (int)k, l);
			l += k + (l[k] == '\n');
		}
	}
	return ferror(f) ? -EIO : 0;
}
