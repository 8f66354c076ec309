/* SPDX-License-Identifier: Apache-2.0 */
/*
 * field.h - the policy's keys as table rows: a key, what it holds (a typed value
 * at an offset of the object walked, a nested table, or a function of
 * policy.c for the rest) and its accepted range. policy.c walks every mapping
 * of the YAML document through such a table (unknown keys are errors); a
 * health rule (health.h) declares its thresholds' table in its own
 * pkg/policy/health_<key>.c, so the policy's structs do not grow per section.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct np_pctx;      /* policy.c's parse state */
struct yaml_node_s;  /* libyaml's yaml_node_t */

typedef int (*np_field_fn)(struct np_pctx *c, struct yaml_node_s *val, const char *path, void *obj);

enum np_field_type {
	NP_F_FN,    /* fn(c, value, path, obj) */
	NP_F_BOOL,  /* bool at off: true/false (yes/no) */
	NP_F_NUM,   /* double at off, in [min, max] */
	NP_F_INT,   /* int at off, in [min, max] */
	NP_F_UINT,  /* unsigned at off, a whole number in [min, max] */
	NP_F_FLAGS, /* uint32_t at off: a list of names (or one), bit i for names[i]; "unknown <noun> 'x'" else */
	NP_F_SUB,   /* a mapping walked with the table sub, into the object at off */
};

struct np_field {
	const char *name;
	np_field_fn fn;                 /* NP_F_FN */
	enum np_field_type type;
	size_t off;                     /* every other type: offset in the object walked */
	double min, max;                /* NP_F_NUM, NP_F_INT, NP_F_UINT: the accepted range */
	const char *const *names;       /* NP_F_FLAGS: NULL-terminated, at most 32 */
	const char *noun;               /* NP_F_FLAGS: what a name is, for the error */
	const struct np_field *sub;     /* NP_F_SUB: its table, ended by a row without name */
};

/* Table rows: a key of type T's member @m, in [@lo, @hi]; a member of another C type does not compile. */
#define NP_FIELD_OFF(T, m, ctype) \
	(offsetof(T, m) + 0 * sizeof(char[__builtin_types_compatible_p(__typeof__(((T *)0)->m), ctype) ? 1 : -1]))
#define NP_FIELD_BOOL(key, T, m) { .name = key, .type = NP_F_BOOL, .off = NP_FIELD_OFF(T, m, bool) }
#define NP_FIELD_NUM(key, T, m, lo, hi) \
	{ .name = key, .type = NP_F_NUM, .off = NP_FIELD_OFF(T, m, double), .min = lo, .max = hi }
#define NP_FIELD_INT(key, T, m, lo, hi) \
	{ .name = key, .type = NP_F_INT, .off = NP_FIELD_OFF(T, m, int), .min = lo, .max = hi }
#define NP_FIELD_UINT(key, T, m, lo, hi) \
	{ .name = key, .type = NP_F_UINT, .off = NP_FIELD_OFF(T, m, unsigned), .min = lo, .max = hi }
#define NP_FIELD_FLAGS(key, T, m, names_, noun_) \
	{ .name = key, .type = NP_F_FLAGS, .off = NP_FIELD_OFF(T, m, uint32_t), .names = names_, .noun = noun_ }
