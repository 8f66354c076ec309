// SPDX-License-Identifier: Apache-2.0
/*
 * policy.c - YAML policy parsing (libyaml document API) and validation.
 * Errors name file:line:column (1-based, from libyaml's marks) and the field path.
 */
#define _GNU_SOURCE
#include "policy.h"
#include "health.h"
#include "vocab.h"
#include "label.h"
#include "version.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#define MAX_POLICY_BYTES (1u << 20)
#define MAX_VISITS 100000 /* aliases share nodes: bound the walk, not just the text */
#define MAX_DEPTH 32

struct np_pctx {
	yaml_document_t *doc;
	const char *source;
	char *err;
	unsigned visits;
	struct np_policy *p;
};

static int fail(struct np_pctx *c, const yaml_node_t *n, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(struct np_pctx *c, const yaml_node_t *n, const char *path, const char *fmt, ...)
{
	if (c->err)
		return -EINVAL;
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	c->err = np_asprintf("%s:%zu:%zu: %s%s%s", c->source, n ? n->start_mark.line + 1 : 1,
			     n ? n->start_mark.column + 1 : 1, path, *path ? ": " : "", msg ? msg : "invalid");
	return -EINVAL;
}

static yaml_node_t *node(struct np_pctx *c, int idx)
{
	c->visits++;
	return yaml_document_get_node(c->doc, idx);
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int want_type(struct np_pctx *c, const yaml_node_t *n, const char *path, yaml_node_type_t t)
{
	static const char *const names[] = { "nothing", "a scalar", "a list", "a mapping" };
	if (c->visits > MAX_VISITS)
		return fail(c, n, path, "document too large (aliases?)");
	if (!n || n->type != t)
		return fail(c, n, path, "expected %s", names[t]);
	return 0;
}

static int get_str(struct np_pctx *c, const yaml_node_t *n, const char *path, char **dst)
{
	int r = want_type(c, n, path, YAML_SCALAR_NODE);
	if (r < 0)
		return r;
	if (strlen(scalar(n)) != n->data.scalar.length)
		return fail(c, n, path, "embedded NUL");
	char *s = strdup(scalar(n));
	if (!s)
		return -ENOMEM;
	free(*dst);
	*dst = s;
	return 0;
}

static int get_num(struct np_pctx *c, const yaml_node_t *n, const char *path, double *dst, double min, double max)
{
	int r = want_type(c, n, path, YAML_SCALAR_NODE);
	if (r < 0)
		return r;
	double v;
	if (np_parse_double(scalar(n), &v) < 0 || v < min || v > max)
		return fail(c, n, path, "expected a number from %.15g to %.15g, got '%s'", min, max, scalar(n));
	*dst = v;
	return 0;
}

static int get_bool(struct np_pctx *c, const yaml_node_t *n, const char *path, bool *dst)
{
	int r = want_type(c, n, path, YAML_SCALAR_NODE);
	if (r < 0)
		return r;
	const char *s = scalar(n);
	if (streq(s, "true") || streq(s, "True") || streq(s, "yes"))
		*dst = true;
	else if (streq(s, "false") || streq(s, "False") || streq(s, "no"))
		*dst = false;
	else
		return fail(c, n, path, "expected true or false, got '%s'", s);
	return 0;
}

/* A list of strings; a single scalar counts as a list of one. */
static int get_strv(struct np_pctx *c, const yaml_node_t *n, const char *path, char ***v, size_t *cnt)
{
	if (n && n->type == YAML_SCALAR_NODE)
		return np_strv_push(v, cnt, scalar(n));
	int r = want_type(c, n, path, YAML_SEQUENCE_NODE);
	if (r < 0)
		return r;
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *e = node(c, *it);
		_cleanup_free_ char *sub = np_asprintf("%s[%td]", path, it - n->data.sequence.items.start);
		r = want_type(c, e, sub ? sub : path, YAML_SCALAR_NODE);
		if (r < 0)
			return r;
		r = np_strv_push(v, cnt, scalar(e));
		if (r < 0)
			return r;
	}
	return 0;
}

static int walk_map(struct np_pctx *c, yaml_node_t *n, const char *path, const struct np_field *fields, void *obj);

/* A list of names (or one) -> the mask of their bits in f->names. */
static int get_flags(struct np_pctx *c, const struct np_field *f, yaml_node_t *v, const char *path, uint32_t *dst)
{
	char **names = NULL;
	size_t n = 0;
	int r = get_strv(c, v, path, &names, &n);
	uint32_t mask = 0;
	for (size_t i = 0; r >= 0 && i < n; i++) {
		size_t b = 0;
		while (b < 32 && f->names[b] && !streq(f->names[b], names[i]))
			b++;
		if (b < 32 && f->names[b])
			mask |= 1u << b;
		else
			r = fail(c, v, path, "unknown %s '%s'", f->noun, names[i]);
	}
	np_strv_free(names);
	if (r >= 0)
		*dst = mask;
	return r;
}

/* Store the value of @v for the typed field @f into @obj. */
static int set_field(struct np_pctx *c, const struct np_field *f, yaml_node_t *v, const char *path, void *obj)
{
	void *dst = (char *)obj + f->off;
	double d;
	int r;
	switch (f->type) {
	case NP_F_BOOL:
		return get_bool(c, v, path, dst);
	case NP_F_NUM:
		return get_num(c, v, path, dst, f->min, f->max);
	case NP_F_INT:
	case NP_F_UINT:
		r = get_num(c, v, path, &d, f->min, f->max);
		/* a count or a cut-off of one: 1.5 is a typo, not 1; -0.5 is not 0 ("any") */
		if (r >= 0 && d != floor(d))
			return fail(c, v, path, "expected a whole number, got '%s'", scalar(v));
		if (r >= 0 && f->type == NP_F_INT)
			*(int *)dst = (int)d;
		else if (r >= 0)
			*(unsigned *)dst = (unsigned)d;
		return r;
	case NP_F_FLAGS:
		return get_flags(c, f, v, path, dst);
	case NP_F_SUB:
		return walk_map(c, v, path, f->sub, dst);
	case NP_F_FN:
		break;
	}
	return f->fn(c, v, path, obj);
}

/* Walk a mapping; every key must be one of @fields (typos are errors). */
static int walk_map(struct np_pctx *c, yaml_node_t *n, const char *path, const struct np_field *fields, void *obj)
{
	int r = want_type(c, n, path, YAML_MAPPING_NODE);
	if (r < 0)
		return r;
	for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node(c, pr->key), *v = node(c, pr->value);
		const char *key = scalar(k);
		if (!key)
			return fail(c, k, path, "keys must be scalars");
		_cleanup_free_ char *sub = np_asprintf("%s%s%s", path, *path ? "." : "", key);
		if (!sub)
			return -ENOMEM;
		const struct np_field *f = fields;
		while (f->name && !streq(f->name, key))
			f++;
		if (!f->name)
			return fail(c, k, sub, "unknown field");
		r = set_field(c, f, v, sub, obj);
		if (r < 0)
			return r;
	}
	return 0;
}

/* How walk_list() makes the elements of one list of mappings. */
struct list_spec {
	const struct np_field *fields; /* each element's keys */
	size_t size;                   /* of an element */
	int (*init)(void *elem);       /* or NULL: a new element's defaults (it is zeroed first); 0 or -ENOMEM */
	size_t key_off;                /* the element's required char * member (name, driver) */
	const char *key;               /* its key, for "<key> is required" */
	const char *unique;            /* or NULL: the elements' key differs, "duplicate <unique> name 'x'" */
};

/* A list of mappings, each walked with s->fields into a new element appended to *@arr (*@n of them). */
static int walk_list(struct np_pctx *c, yaml_node_t *v, const char *path, const struct list_spec *s, void **arr,
		     size_t *n)
{
	int r = want_type(c, v, path, YAML_SEQUENCE_NODE);
	if (r < 0)
		return r;
	for (yaml_node_item_t *it = v->data.sequence.items.start; r >= 0 && it < v->data.sequence.items.top; it++) {
		char *na = realloc(*arr, (*n + 1) * s->size);
		if (!na)
			return -ENOMEM;
		*arr = na;
		char *e = na + (*n)++ * s->size;
		memset(e, 0, s->size);
		if (s->init && s->init(e) < 0)
			return -ENOMEM;
		_cleanup_free_ char *sub = np_asprintf("%s[%td]", path, it - v->data.sequence.items.start);
		yaml_node_t *en = node(c, *it);
		r = walk_map(c, en, sub, s->fields, e);
		const char *key = *(char **)(e + s->key_off);
		if (r >= 0 && !key)
			r = fail(c, en, sub, "%s is required", s->key);
		for (size_t i = 0; r >= 0 && s->unique && i + 1 < *n; i++)
			if (streq(*(char **)(na + i * s->size + s->key_off), key))
				r = fail(c, en, sub, "duplicate %s name '%s'", s->unique, key);
	}
	return r;
}

/* ---- health ---- */

/* health.<key>: every registered rule's thresholds (health.h), each from its own table. */
static int f_health(struct np_pctx *c, yaml_node_t *v, const char *p, void *o)
{
	const struct np_field *f = np_health_fields();
	if (!f)
		return -ENOMEM;
	return walk_map(c, v, p, f, ((struct np_policy *)o)->health);
}

/* ---- classes ---- */

static const char *const pin_components[] = { "kernel", "module", "nic", "nvme", "bios", "cpu", "gpu", "rdma" };

static int add_matches(struct np_pctx *c, yaml_node_t *v, const char *path, struct np_match **m, size_t *n)
{
	int r = want_type(c, v, path, YAML_MAPPING_NODE);
	if (r < 0)
		return r;
	for (yaml_node_pair_t *pr = v->data.mapping.pairs.start; pr < v->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node(c, pr->key), *val = node(c, pr->value);
		if (!scalar(k) || !scalar(val))
			return fail(c, k, path, "expected 'name: pattern' pairs");
		struct np_match *nm = realloc(*m, (*n + 1) * sizeof(**m));
		if (!nm)
			return -ENOMEM;
		*m = nm;
		nm[*n] = (struct np_match){ strdup(scalar(k)), strdup(scalar(val)) };
		(*n)++;
		if (!nm[*n - 1].field || !nm[*n - 1].pattern)
			return -ENOMEM;
	}
	return 0;
}

static int f_match_labels(struct np_pctx *c, yaml_node_t *v, const char *p, void *o)
{
	struct np_class *k = o;
	size_t before = k->n_labels;
	int r = add_matches(c, v, p, &k->labels, &k->n_labels);
	/* a key no Node can carry ("node role", "") would make the class match nothing, silently */
	for (size_t i = before; r >= 0 && i < k->n_labels; i++)
		if (!np_label_key_valid(k->labels[i].field))
			r = fail(c, v, p, "'%s' is not a label key (like node.kubernetes.io/instance-type)",
				 k->labels[i].field);
	return r;
}

static int f_match_dmi(struct np_pctx *c, yaml_node_t *v, const char *p, void *o)
{
	static const char *const dmi[] = { "sys_vendor", "product_name", "product_version", "bios_vendor",
					   "bios_version", "bios_date", "board_name" };
	struct np_class *k = o;
	size_t before = k->n_dmi;
	int r = add_matches(c, v, p, &k->dmi, &k->n_dmi);
	for (size_t i = before; r >= 0 && i < k->n_dmi; i++) {
		bool ok = false;
		for (size_t j = 0; j < ARRAY_SIZE(dmi); j++)
			ok = ok || streq(dmi[j], k->dmi[i].field);
		if (!ok)
			r = fail(c, v, p, "unknown DMI field '%s'", k->dmi[i].field);
	}
	return r;
}

static int f_class_match(struct np_pctx *c, yaml_node_t *v, const char *p, void *o)
{
	static const struct np_field f[] = { { "nodeLabels", f_match_labels }, { "dmi", f_match_dmi }, {} };
	return walk_map(c, v, p, f, o);
}

static int f_class_name(struct np_pctx *c, yaml_node_t *v, const char *p, void *o)
{
	struct np_class *k = o;
	int r = get_str(c, v, p, &k->name);
	if (r >= 0 && (!*k->name || !np_label_value_valid(k->name)))
		return fail(c, v, p, "'%s' is not a valid label value (it becomes the class label)", k->name);
	return r;
}

/* pins: {component: {keyGlob: [allowed...]}} */
static int f_class_pins(struct np_pctx *c, yaml_node_t *v, const char *path, void *o)
{
	struct np_class *k = o;
	int r = want_type(c, v, path, YAML_MAPPING_NODE);
	for (yaml_node_pair_t *pr = v->data.mapping.pairs.start; r >= 0 && pr < v->data.mapping.pairs.top; pr++) {
		yaml_node_t *ck = node(c, pr->key), *cv = node(c, pr->value);
		const char *comp = scalar(ck);
		bool known = false;
		for (size_t i = 0; comp && i < ARRAY_SIZE(pin_components); i++)
			known = known || streq(comp, pin_components[i]);
		if (!known)
			return fail(c, ck, path, "unknown bundle component '%s' (kernel, module, nic, nvme, bios, cpu, gpu, rdma)",
				    comp ? comp : "?");
		_cleanup_free_ char *sub = np_asprintf("%s.%s", path, comp);
		r = want_type(c, cv, sub, YAML_MAPPING_NODE);
		for (yaml_node_pair_t *q = cv->data.mapping.pairs.start; r >= 0 && q < cv->data.mapping.pairs.top; q++) {
			yaml_node_t *kk = node(c, q->key), *kv = node(c, q->value);
			if (!scalar(kk))
				return fail(c, kk, sub, "keys must be scalars");
			struct np_pin *np = realloc(k->pins, (k->n_pins + 1) * sizeof(*np));
			if (!np)
				return -ENOMEM;
			k->pins = np;
			struct np_pin *pin = &k->pins[k->n_pins++];
			*pin = (struct np_pin){ strdup(comp), strdup(scalar(kk)), NULL, 0 };
			if (!pin->component || !pin->key)
				return -ENOMEM;
			_cleanup_free_ char *sub2 = np_asprintf("%s.%s", sub, scalar(kk));
			r = get_strv(c, kv, sub2, &pin->allowed, &pin->n_allowed);
			if (r >= 0 && pin->n_allowed == 0)
				r = fail(c, kv, sub2, "at least one allowed value");
			for (size_t i = 0; r >= 0 && i < pin->n_allowed; i++) {
				const char *why = np_version_pattern_error(pin->allowed[i]);
				if (why)
					r = fail(c, kv, sub2, "'%s': %s", pin->allowed[i], why);
			}
		}
	}
	return r;
}

static int f_off(struct np_pctx *c, yaml_node_t *v, const char *p, void *o)
{
	struct np_offload_rule *f = o;
	return get_strv(c, v, p, &f->must_off, &f->n_off);
}

static int f_on(struct np_pctx *c, yaml_node_t *v, const char *p, void *o)
{
	struct np_offload_rule *f = o;
	return get_strv(c, v, p, &f->must_on, &f->n_on);
}

static int f_driver(struct np_pctx *c, yaml_node_t *v, const char *p, void *o)
{
	struct np_offload_rule *f = o;
	return get_str(c, v, p, &f->driver);
}

static int f_class_offloads(struct np_pctx *c, yaml_node_t *v, const char *path, void *o)
{
	static const struct np_field f[] = { { "driver", f_driver }, { "off", f_off }, { "on", f_on }, {} };
	static const struct list_spec spec = { f, sizeof(struct np_offload_rule), NULL,
					       offsetof(struct np_offload_rule, driver), "driver", NULL };
	struct np_class *k = o;
	return walk_list(c, v, path, &spec, (void **)&k->offloads, &k->n_offloads);
}

static int f_class_expect(struct np_pctx *c, yaml_node_t *v, const char *p, void *o)
{
	static const struct np_field f[] = { NP_FIELD_INT("gpus", struct np_class, expect_gpus, 0, 4096), {} };
	return walk_map(c, v, p, f, o);
}

static int class_init(void *k)
{
	((struct np_class *)k)->expect_gpus = -1;
	return 0;
}

static int f_classes(struct np_pctx *c, yaml_node_t *v, const char *path, void *o)
{
	static const struct np_field f[] = { { "name", f_class_name },   { "match", f_class_match },
					  { "pins", f_class_pins },   { "offloads", f_class_offloads },
					  { "expect", f_class_expect }, {} };
	static const struct list_spec spec = { f, sizeof(struct np_class), class_init, offsetof(struct np_class, name),
					       "name", "class" };
	struct np_policy *p = o;
	return walk_list(c, v, path, &spec, (void **)&p->classes, &p->n_classes);
}

/* ---- actions ---- */

static struct np_action *action_slot(struct np_policy *p, const char *finding)
{
	for (size_t i = 0; i < p->n_actions; i++)
		if (streq(p->actions[i].finding, finding))
			return &p->actions[i];
	struct np_action *na = realloc(p->actions, (p->n_actions + 1) * sizeof(*na));
	if (!na)
		return NULL;
	p->actions = na;
	struct np_action *a = &na[p->n_actions];
	*a = (struct np_action){ strdup(finding), NULL, NULL, NULL };
	if (!a->finding)
		return NULL;
	p->n_actions++;
	return a;
}

static int f_act_condition(struct np_pctx *c, yaml_node_t *v, const char *p, void *o)
{
	struct np_action *a = o;
	int r = get_str(c, v, p, &a->condition);
	if (r >= 0 && *a->condition && !(a->condition[0] >= 'A' && a->condition[0] <= 'Z'))
		return fail(c, v, p, "condition types are CamelCase, got '%s'", a->condition);
	if (r >= 0 && !np_label_key_valid(a->condition))
		return fail(c, v, p, "'%s' is not a valid condition type", a->condition);
	return r;
}

static int f_act_taint(struct np_pctx *c, yaml_node_t *v, const char *p, void *o)
{
	struct np_action *a = o;
	int r = get_str(c, v, p, &a->taint_effect);
	if (r < 0)
		return r;
	const char *e = a->taint_effect;
	if (!streq(e, "NoSchedule") && !streq(e, "PreferNoSchedule") && !streq(e, "NoExecute") && !streq(e, "none"))
		return fail(c, v, p, "taint effect must be NoSchedule, PreferNoSchedule, NoExecute or none, got '%s'", e);
	return 0;
}

static int f_act_event(struct np_pctx *c, yaml_node_t *v, const char *p, void *o)
{
	struct np_action *a = o;
	int r = get_str(c, v, p, &a->event_reason);
	if (r >= 0 && *a->event_reason && !(a->event_reason[0] >= 'A' && a->event_reason[0] <= 'Z'))
		return fail(c, v, p, "event reasons are CamelCase, got '%s'", a->event_reason);
	return r;
}

static int f_actions(struct np_pctx *c, yaml_node_t *v, const char *path, void *o)
{
	static const struct np_field f[] = { { "condition", f_act_condition }, { "taint", f_act_taint },
					  { "event", f_act_event },
					  NP_FIELD_BOOL("observe", struct np_action, observe), {} };
	struct np_policy *p = o;
	int r = want_type(c, v, path, YAML_MAPPING_NODE);
	for (yaml_node_pair_t *pr = v->data.mapping.pairs.start; r >= 0 && pr < v->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node(c, pr->key);
		const char *id = scalar(k);
		bool known = np_vocab_finding(id) != NULL; /* the vocabulary's findings */
		if (!known)
			return fail(c, k, path, "unknown finding '%s'", id ? id : "?");
		struct np_action *a = action_slot(p, id);
		if (!a)
			return -ENOMEM;
		_cleanup_free_ char *sub = np_asprintf("%s.%s", path, id);
		r = walk_map(c, node(c, pr->value), sub, f, a);
	}
	return r;
}

/* ---- baseline (the storage micro-test) ---- */

#define B(obj) (&((struct np_policy *)(obj))->baseline)

static int f_bl_dir(struct np_pctx *c, yaml_node_t *v, const char *p, void *o)
{
	int r = get_str(c, v, p, &B(o)->directory);
	if (r >= 0 && B(o)->directory[0] != '/')
		return fail(c, v, p, "expected an absolute path, got '%s'", B(o)->directory);
	return r;
}

static int f_bl_raw(struct np_pctx *c, yaml_node_t *v, const char *p, void *o)
{
	int r = get_str(c, v, p, &B(o)->raw_device);
	if (r >= 0 && !*B(o)->raw_device) {
		free(B(o)->raw_device);
		B(o)->raw_device = NULL;
	} else if (r >= 0 && !np_startswith(B(o)->raw_device, "/dev/")) {
		return fail(c, v, p, "expected a /dev/ path or \"\", got '%s'", B(o)->raw_device);
	}
	return r;
}

static int f_pr_name(struct np_pctx *c, yaml_node_t *v, const char *p, void *o)
{
	struct np_bench_profile *pr = o;
	int r = get_str(c, v, p, &pr->name);
	if (r >= 0 && (!*pr->name || strlen(pr->name) > 63 || strspn(pr->name, "abcdefghijklmnopqrstuvwxyz"
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != strlen(pr->name)))
		return fail(c, v, p, "a profile name is 1-63 characters of [-A-Za-z0-9_.], got '%s'", pr->name);
	return r;
}

static int f_pr_rw(struct np_pctx *c, yaml_node_t *v, const char *p, void *o)
{
	struct np_bench_profile *pr = o;
	int r = get_str(c, v, p, &pr->rw);
	if (r >= 0 && !np_bench_rw_valid(pr->rw))
		return fail(c, v, p, "expected read, randread, write, randwrite, rw or randrw, got '%s'", pr->rw);
	return r;
}

/* "4k", "64K", "1m", "4096": fio's bs= in bytes (powers of 1024, as fio's default kb_base) */
static int f_pr_bs(struct np_pctx *c, yaml_node_t *v, const char *p, void *o)
{
	struct np_bench_profile *pr = o;
	int r = want_type(c, v, p, YAML_SCALAR_NODE);
	if (r < 0)
		return r;
	_cleanup_free_ char *s = strdup(scalar(v));
	if (!s)
		return -ENOMEM;
	size_t n = strlen(s);
	uint64_t mul = 1, val;
	if (n && strchr("kK", s[n - 1]))
		mul = 1024;
	else if (n && strchr("mM", s[n - 1]))
		mul = 1024 * 1024;
	if (mul > 1)
		s[n - 1] = '\0';
	if (np_parse_dec(s, 64u << 20, &val) < 0 || val * mul < 512 || val * mul > (64u << 20) || (val * mul) % 512)
		return fail(c, v, p, "expected a block size from 512 to 64m, a multiple of 512 (like 4k), got '%s'",
			    scalar(v));
	pr->block_bytes = val * mul;
	return 0;
}

/* the document's list replaces the default one */
static int profile_init(void *pr)
{
	*(struct np_bench_profile *)pr = (struct np_bench_profile){ .rw = strdup("randread"), .block_bytes = 4096,
								     .iodepth = 1, .jobs = 1, .seconds = 20 };
	return ((struct np_bench_profile *)pr)->rw ? 0 : -ENOMEM;
}

static int f_bl_profiles(struct np_pctx *c, yaml_node_t *v, const char *path, void *o)
{
	static const struct np_field f[] = {
		{ "name", f_pr_name },
		{ "rw", f_pr_rw },
		{ "blockSize", f_pr_bs },
		NP_FIELD_UINT("iodepth", struct np_bench_profile, iodepth, 1, 4096),
		NP_FIELD_UINT("jobs", struct np_bench_profile, jobs, 1, 64),
		NP_FIELD_NUM("seconds", struct np_bench_profile, seconds, 0.5, 600),
		{},
	};
	static const struct list_spec spec = { f, sizeof(struct np_bench_profile), profile_init,
					       offsetof(struct np_bench_profile, name), "name", "profile" };
	struct np_baseline_policy *b = B(o);
	if (v->type == YAML_SEQUENCE_NODE) { /* a policy's list replaces the default's */
		for (size_t i = 0; i < b->n_profiles; i++)
			np_bench_profile_free(&b->profiles[i]);
		b->n_profiles = 0;
	}
	int r = walk_list(c, v, path, &spec, (void **)&b->profiles, &b->n_profiles);
	if (r >= 0 && b->n_profiles == 0)
		r = fail(c, v, path, "at least one profile");
	return r;
}

static int f_baseline(struct np_pctx *c, yaml_node_t *v, const char *p, void *o)
{
	static const struct np_field f[] = {
		{ "directory", f_bl_dir },
		{ "rawDevice", f_bl_raw },
		NP_FIELD_NUM("fileSizeMiB", struct np_policy, baseline.file_mib, 1, 1 << 20),
		NP_FIELD_NUM("maxUtilPercent", struct np_policy, baseline.max_util_percent, 0, 100),
		NP_FIELD_NUM("busySampleSeconds", struct np_policy, baseline.busy_sample_seconds, 0.1, 60),
		NP_FIELD_NUM("wallSeconds", struct np_policy, baseline.wall_seconds, 1, 3600),
		NP_FIELD_UINT("repeats", struct np_policy, baseline.repeats, 1, 25),
		NP_FIELD_NUM("p99GrowthPercent", struct np_policy, baseline.p99_growth_percent, 0, 10000),
		NP_FIELD_NUM("iopsDropPercent", struct np_policy, baseline.iops_drop_percent, 0, 100),
		{ "profiles", f_bl_profiles },
		{},
	};
	int r = walk_map(c, v, p, f, o);
	for (size_t i = 0; r >= 0 && i < B(o)->n_profiles; i++)
		if (B(o)->profiles[i].seconds >= B(o)->wall_seconds)
			r = fail(c, v, p, "profile %s runs %g s: wallSeconds (%g) must be longer",
				 B(o)->profiles[i].name, B(o)->profiles[i].seconds, B(o)->wall_seconds);
	return r;
}

/* ---- top level ---- */

static int f_api_version(struct np_pctx *c, yaml_node_t *v, const char *p, void *o)
{
	(void)o;
	const char *s = scalar(v);
	if (!s || !streq(s, "nodeprint.io/v1"))
		return fail(c, v, p, "expected nodeprint.io/v1");
	return 0;
}

static int f_kind(struct np_pctx *c, yaml_node_t *v, const char *p, void *o)
{
	(void)o;
	const char *s = scalar(v);
	if (!s || !streq(s, "Policy"))
		return fail(c, v, p, "expected Policy");
	return 0;
}

/* kubernetes.io and k8s.io, and their subdomains (node.kubernetes.io, node-role.kubernetes.io, ...) */
static bool reserved_prefix(const char *prefix)
{
	static const char *const reserved[] = { "kubernetes.io", "k8s.io" };
	size_t n = strlen(prefix);
	for (size_t i = 0; i < ARRAY_SIZE(reserved); i++) {
		size_t m = strlen(reserved[i]);
		if (n == m ? strcasecmp(prefix, reserved[i]) == 0 :
			     n > m && prefix[n - m - 1] == '.' && strcasecmp(prefix + n - m, reserved[i]) == 0)
			return true;
	}
	return false;
}

static int f_prefix(struct np_pctx *c, yaml_node_t *v, const char *p, void *o)
{
	struct np_policy *pol = o;
	int r = get_str(c, v, p, &pol->label_prefix);
	if (r >= 0 && !np_dns_subdomain_valid(pol->label_prefix))
		return fail(c, v, p, "'%s' is not a DNS subdomain (like nodeprint.io)", pol->label_prefix);
	if (r >= 0 && reserved_prefix(pol->label_prefix))
		return fail(c, v, p, "'%s' is reserved for Kubernetes components (kubernetes.io, k8s.io and their "
			    "subdomains): nodeprint removes stale keys under its prefix and would delete theirs",
			    pol->label_prefix);
	return r;
}

static int f_valve(struct np_pctx *c, yaml_node_t *v, const char *p, void *o)
{
	static const struct np_field f[] = {
		NP_FIELD_NUM("maxTaintedPercent", struct np_policy, valve_max_tainted_percent, 0, 100),
		NP_FIELD_UINT("maxNewPerWindow", struct np_policy, valve_max_new_per_window, 0, 100000),
		NP_FIELD_NUM("windowSeconds", struct np_policy, valve_window_seconds, 1, 86400),
		NP_FIELD_NUM("slotTTLSeconds", struct np_policy, valve_slot_ttl_seconds, 10, 86400),
		NP_FIELD_NUM("retryMaxSeconds", struct np_policy, valve_retry_max_seconds, 0, 3600),
		{},
	};
	return walk_map(c, v, p, f, o);
}

static int f_events(struct np_pctx *c, yaml_node_t *v, const char *p, void *o)
{
	static const struct np_field f[] = {
		NP_FIELD_NUM("burst", struct np_policy, event_burst, 1, 1000),
		NP_FIELD_NUM("perMinute", struct np_policy, event_per_minute, 0, 6000),
		NP_FIELD_NUM("aggregateSeconds", struct np_policy, event_aggregate_seconds, 0, 86400),
		{},
	};
	return walk_map(c, v, p, f, o);
}

static const struct np_field top_fields[] = {
	{ "apiVersion", f_api_version },
	{ "kind", f_kind },
	{ "labelPrefix", f_prefix },
	NP_FIELD_NUM("heartbeatSeconds", struct np_policy, heartbeat_seconds, 10, 86400),
	NP_FIELD_NUM("taintHoldDownSeconds", struct np_policy, taint_hold_down_seconds, 0, 86400),
	{ "safetyValve", f_valve },
	NP_FIELD_BOOL("observe", struct np_policy, observe),
	{ "events", f_events },
	{ "classes", f_classes },
	{ "health", f_health },
	{ "actions", f_actions },
	{ "baseline", f_baseline },
	{},
};

/* ---- defaults, entry points ---- */

static const char default_head[] =
	"# nodeprint built-in default policy: no pins, conservative health rules.\n"
	"apiVersion: nodeprint.io/v1\n"
	"kind: Policy\n"
	"labelPrefix: nodeprint.io\n"
	"heartbeatSeconds: 600\n"
	"taintHoldDownSeconds: 300\n"
	"safetyValve:\n"
	"  maxTaintedPercent: 30\n"
	"events:\n"
	"  burst: 5\n"
	"  perMinute: 1\n"
	"  aggregateSeconds: 600\n"
	"classes: []\n"
	"health:\n";
/* then health.<key>: each rule's own lines (health.h), in rule order */
static const char default_tail[] =
	"actions:\n"
	"  firmware-unpinned:  {condition: BundlePinned, taint: NoSchedule, event: FirmwareDrift}\n"
	"  nvme-critical:      {condition: NVMeHealthy, taint: NoSchedule, event: NVMeCriticalWarning}\n"
	"  multipath-degraded: {condition: MultipathHealthy, taint: PreferNoSchedule, event: PathFailed}\n"
	"  path-flapping:      {condition: MultipathHealthy, taint: PreferNoSchedule, event: PathFlapping}\n"
	"  pcie-errors:        {condition: PCIeHealthy, taint: none, event: PCIeErrors}\n"
	"  link-downgraded:    {condition: PCIeHealthy, taint: none, event: LinkDowngraded}\n"
	"  volume-stall:       {condition: VolumePathsHealthy, taint: none, event: VolumePathStall}\n"
	"  offload-mismatch:   {condition: OffloadsCompliant, taint: none, event: OffloadDrift}\n"
	"  nic-drops:          {condition: NICHealthy, taint: none, event: NICDrops}\n"
	"  irq-skew:           {condition: NICHealthy, taint: none, event: IRQSkew}\n"
	"  timeout-chain:      {condition: StorageTimeoutsConsistent, taint: none, event: TimeoutChain}\n"
	"  numa-remote-irq:    {condition: NUMALocal, taint: none, event: NUMARemoteIRQ}\n"
	"  gpu-fault:          {condition: AcceleratorsHealthy, taint: NoSchedule, event: GPUFault}\n"
	"  gpu-reset-required: {condition: AcceleratorsHealthy, taint: none, event: GPUResetRequired}\n"
	"  gpu-missing:        {condition: AcceleratorsHealthy, taint: NoSchedule, event: GPUMissing}\n"
	"  rdma-port-down:     {condition: RDMAHealthy, taint: none, event: RDMAPortDown}\n"
	"  gpu-uncorrectable:  {condition: AcceleratorsHealthy, taint: none, event: GPUUncorrectableErrors}\n"
	"baseline:\n"
	"  directory: /var/lib/nodeprint/baseline\n"
	"  rawDevice: \"\"\n"
	"  fileSizeMiB: 1024\n"
	"  maxUtilPercent: 10\n"
	"  busySampleSeconds: 2\n"
	"  wallSeconds: 60\n"
	"  repeats: 3\n"
	"  p99GrowthPercent: 20\n"
	"  iopsDropPercent: 15\n"
	"  profiles:\n"
	"    - {name: randread-4k-qd1, rw: randread, blockSize: 4k, iodepth: 1, jobs: 1, seconds: 20}\n"
	"    - {name: randread-4k-qd32, rw: randread, blockSize: 4k, iodepth: 32, jobs: 1, seconds: 20}\n";

static char *default_yaml;

static void default_yaml_build(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return;
	fputs(default_head, f);
	if (np_health_default_yaml(f) < 0 || fputs(default_tail, f) < 0 || ferror(f)) {
		fclose(f);
		free(buf);
		return;
	}
	if (fclose(f) == 0)
		default_yaml = buf;
	else
		free(buf);
}

const char *np_policy_default_yaml(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, default_yaml_build);
	return default_yaml;
}

/* A key given twice in one mapping: YAML 1.2 forbids it and libyaml keeps both; the second would
 * silently win (or lose), so it is an error naming both places. Quadratic per mapping, so a
 * mapping may hold 1024 keys (a policy has a few dozen). */
static int no_duplicate_keys(struct np_pctx *c, yaml_document_t *doc)
{
	for (yaml_node_t *n = doc->nodes.start; n < doc->nodes.top; n++) {
		if (n->type != YAML_MAPPING_NODE)
			continue;
		if (n->data.mapping.pairs.top - n->data.mapping.pairs.start > 1024)
			return fail(c, n, "", "more than 1024 keys in one mapping");
		for (yaml_node_pair_t *a = n->data.mapping.pairs.start; a < n->data.mapping.pairs.top; a++)
			for (yaml_node_pair_t *b = a + 1; b < n->data.mapping.pairs.top; b++) {
				yaml_node_t *ka = yaml_document_get_node(doc, a->key), *kb = yaml_document_get_node(doc, b->key);
				const char *x = scalar(ka), *y = scalar(kb);
				if (x && y && streq(x, y))
					return fail(c, kb, y, "duplicate key (first at line %zu)", ka->start_mark.line + 1);
			}
	}
	return 0;
}

/* After the policy's document: nothing but empty documents (a trailing "---"). A second
 * document would be ignored, typos and all. Returns 0, or -EINVAL with c->err set. */
static int one_document(struct np_pctx *c, yaml_parser_t *parser, const char *source)
{
	yaml_document_t more;
	while (yaml_parser_load(parser, &more)) {
		yaml_node_t *mr = yaml_document_get_root_node(&more);
		bool end = !mr, empty = mr && mr->type == YAML_SCALAR_NODE && mr->data.scalar.length == 0;
		if (mr && !empty)
			c->err = np_asprintf("%s:%zu:%zu: a second YAML document: a policy is one document", source,
					     mr->start_mark.line + 1, mr->start_mark.column + 1);
		yaml_document_delete(&more);
		if (c->err)
			return -EINVAL;
		if (end)
			return 0;
	}
	c->err = np_asprintf("%s:%zu:%zu: not YAML after the policy: %s", source, parser->problem_mark.line + 1,
			     parser->problem_mark.column + 1, parser->problem ? parser->problem : "syntax error");
	return c->err ? -EINVAL : -ENOMEM;
}

/*
 * libyaml's scanner is quadratic in the nesting depth of flow collections: "health: [[[[...]]]]"
 * 40,000 deep (80 KB) took 9 s to load, 1 MB hours, and an agent reloading it would hang. Scan
 * the tokens first, which stops at the first level deeper than MAX_DEPTH (no policy needs it).
 * Returns 0 (a syntax error is left to the load, which names it), -EINVAL with c->err, -ENOMEM.
 */
static int nesting_bounded(struct np_pctx *c, const char *buf, size_t len, const char *source)
{
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	int depth = 0, r = 0;
	yaml_token_t t = { .type = YAML_NO_TOKEN };
	while (r == 0 && yaml_parser_scan(&parser, &t) && t.type != YAML_STREAM_END_TOKEN) {
		switch (t.type) {
		case YAML_FLOW_SEQUENCE_START_TOKEN:
		case YAML_FLOW_MAPPING_START_TOKEN:
		case YAML_BLOCK_SEQUENCE_START_TOKEN:
		case YAML_BLOCK_MAPPING_START_TOKEN:
			depth++;
			break;
		case YAML_FLOW_SEQUENCE_END_TOKEN:
		case YAML_FLOW_MAPPING_END_TOKEN:
		case YAML_BLOCK_END_TOKEN:
			depth--;
			break;
		default:
			break;
		}
		if (depth > MAX_DEPTH) {
			c->err = np_asprintf("%s:%zu:%zu: nested deeper than %d levels: not a policy", source,
					     t.start_mark.line + 1, t.start_mark.column + 1, MAX_DEPTH);
			r = c->err ? -EINVAL : -ENOMEM;
		}
		yaml_token_delete(&t);
	}
	if (t.type == YAML_STREAM_END_TOKEN)
		yaml_token_delete(&t);
	yaml_parser_delete(&parser);
	return r;
}

static int parse_doc(struct np_pctx *c, const char *buf, size_t len, const char *source)
{
	int r = nesting_bounded(c, buf, len, source);
	if (r < 0)
		return r;
	yaml_parser_t parser;
	yaml_document_t doc;
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		c->err = np_asprintf("%s:%zu:%zu: not YAML: %s%s%s", source, parser.problem_mark.line + 1,
				     parser.problem_mark.column + 1, parser.problem ? parser.problem : "syntax error",
				     parser.context ? " " : "", parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return -EINVAL;
	}
	int one = yaml_document_get_root_node(&doc) ? one_document(c, &parser, source) : 0;
	yaml_parser_delete(&parser);
	if (one < 0) {
		yaml_document_delete(&doc);
		return one;
	}
	c->doc = &doc;
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	r = no_duplicate_keys(c, &doc);
	if (r >= 0 && root && root->type != YAML_MAPPING_NODE) /* e.g. --check /etc/passwd */
		r = fail(c, root, "", "not a nodeprint policy: the file is %s, a policy is a mapping "
			 "(apiVersion: nodeprint.io/v1, kind: Policy, ...; `nodeprint policy --default` prints one)",
			 root->type == YAML_SCALAR_NODE ? "plain text" : "a list");
	if (r >= 0 && root)
		r = walk_map(c, root, "", top_fields, c->p); /* an empty document = all defaults */
	yaml_document_delete(&doc);
	c->doc = NULL;
	return r;
}

int np_policy_parse(const char *buf, size_t len, const char *source, struct np_policy *p, char **err)
{
	*err = NULL;
	*p = (struct np_policy){ 0 };
	if (len > MAX_POLICY_BYTES) {
		*err = np_asprintf("%s: larger than %u bytes", source, MAX_POLICY_BYTES);
		return -EFBIG;
	}
	if (memchr(buf, '\0', len)) {
		*err = np_asprintf("%s: binary data (NUL byte) in a YAML policy", source);
		return -EINVAL;
	}
	/* defaults the built-in document leaves out (docs/policy.md) */
	p->valve_window_seconds = 300;
	p->valve_slot_ttl_seconds = 300;
	p->valve_retry_max_seconds = 60;
	struct np_pctx c = { .source = source, .p = p };
	const char *def = np_policy_default_yaml();
	int r = def && (p->health = np_health_alloc()) ? 0 : -ENOMEM;
	if (r >= 0 && buf != def)
		r = parse_doc(&c, def, strlen(def), "built-in default");
	if (r >= 0)
		r = parse_doc(&c, buf, len, source);
	if (r >= 0 && !(p->source = strdup(source)))
		r = -ENOMEM;
	if (r < 0) {
		np_policy_free(p);
		*err = c.err ? c.err : np_asprintf("%s: %s", source, strerror(-r));
		return r;
	}
	return 0;
}

int np_policy_default(struct np_policy *p)
{
	_cleanup_free_ char *err = NULL;
	const char *def = np_policy_default_yaml();
	if (!def)
		return -ENOMEM;
	return np_policy_parse(def, strlen(def), "built-in default", p, &err);
}

int np_policy_load(const char *path, struct np_policy *p, char **err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	*err = NULL;
	if (fd < 0) {
		int r = negative_errno();
		*err = np_asprintf("%s: %s", path, strerror(-r));
		return r;
	}
	_cleanup_free_ char *buf = malloc(MAX_POLICY_BYTES + 1);
	if (!buf)
		return -ENOMEM;
	size_t n = 0;
	for (;;) {
		ssize_t k = read(fd, buf + n, MAX_POLICY_BYTES + 1 - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			int r = negative_errno();
			*err = np_asprintf("%s: %s", path, strerror(-r));
			return r;
		}
		if (k == 0 || (n += (size_t)k) > MAX_POLICY_BYTES)
			break;
	}
	return np_policy_parse(buf, n, path, p, err);
}

static void class_free(struct np_class *k)
{
	free(k->name);
	for (size_t i = 0; i < k->n_labels; i++) {
		free(k->labels[i].field);
		free(k->labels[i].pattern);
	}
	for (size_t i = 0; i < k->n_dmi; i++) {
		free(k->dmi[i].field);
		free(k->dmi[i].pattern);
	}
	free(k->labels);
	free(k->dmi);
	for (size_t i = 0; i < k->n_pins; i++) {
		free(k->pins[i].component);
		free(k->pins[i].key);
		np_strv_free(k->pins[i].allowed);
	}
	free(k->pins);
	for (size_t i = 0; i < k->n_offloads; i++) {
		free(k->offloads[i].driver);
		np_strv_free(k->offloads[i].must_off);
		np_strv_free(k->offloads[i].must_on);
	}
	free(k->offloads);
}

void np_policy_free(struct np_policy *p)
{
	free(p->source);
	free(p->label_prefix);
	for (size_t i = 0; i < p->n_classes; i++)
		class_free(&p->classes[i]);
	free(p->classes);
	for (size_t i = 0; i < p->n_actions; i++) {
		free(p->actions[i].finding);
		free(p->actions[i].condition);
		free(p->actions[i].taint_effect);
		free(p->actions[i].event_reason);
	}
	free(p->actions);
	free(p->baseline.directory);
	free(p->baseline.raw_device);
	for (size_t i = 0; i < p->baseline.n_profiles; i++)
		np_bench_profile_free(&p->baseline.profiles[i]);
	free(p->baseline.profiles);
	free(p->health);
	*p = (struct np_policy){ 0 };
}

const struct np_action *np_policy_action(const struct np_policy *p, const char *finding)
{
	for (size_t i = 0; i < p->n_actions; i++)
		if (streq(p->actions[i].finding, finding))
			return &p->actions[i];
	return NULL;
}
