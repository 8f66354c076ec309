// SPDX-License-Identifier: Apache-2.0
#include "modules.h"
#include "json.h"
#include "report.h"
#include "section.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <stdlib.h>
#include <string.h>

void np_module_free(struct np_module *m)
{
	free(m->name);
	np_strv_free(m->used_by);
	free(m->state);
	free(m->address);
	free(m->taint);
	free(m->version);
	free(m->srcversion);
	free(m->initstate);
	memset(m, 0, sizeof(*m));
}

void np_modules_free(struct np_modules *s)
{
	for (size_t i = 0; !s->packed && i < s->n; i++)
		np_module_free(&s->modules[i]);
	free(s->modules); /* packed: with all the modules point to */
	s->packed = false;
	s->modules = NULL;
	s->n = 0;
	s->loadable = false;
	s->lines_invalid = 0;
	np_status_clear(&s->status);
}

/* Bytes np_modules_dup() needs for @m's strings (@strs) and used_by vector (@ptrs, pointers). */
static void module_size(const struct np_module *m, size_t *strs, size_t *ptrs)
{
	const char *const str[] = { m->name, m->state, m->address, m->taint, m->version, m->srcversion, m->initstate };
	for (size_t i = 0; i < ARRAY_SIZE(str); i++)
		*strs += str[i] ? strlen(str[i]) + 1 : 0;
	if (!m->used_by)
		return;
	size_t k = 0;
	for (; m->used_by[k]; k++)
		*strs += strlen(m->used_by[k]) + 1;
	*ptrs += k + 1;
}

/* @src copied to the string area at *@at (advanced); NULL stays NULL. */
static char *put_str(const char *src, char **at)
{
	if (!src)
		return NULL;
	size_t n = strlen(src) + 1;
	char *d = memcpy(*at, src, n);
	*at += n;
	return d;
}

int np_modules_dup(const struct np_modules *src, struct np_modules *dst)
{
	*dst = (struct np_modules){ .loadable = src->loadable, .lines_invalid = src->lines_invalid,
				    .status.err = src->status.err };
	if (src->status.error && !(dst->status.error = strdup(src->status.error)))
		return -ENOMEM;
	if (!src->n)
		return 0;
	size_t strs = 0, ptrs = 0;
	for (size_t i = 0; i < src->n; i++)
		module_size(&src->modules[i], &strs, &ptrs);
	/* the modules, then the used_by vectors, then the strings: each part stays aligned */
	struct np_module *v = malloc(src->n * sizeof(*v) + ptrs * sizeof(char *) + strs);
	if (!v)
		return -ENOMEM;
	char **vec = (char **)(v + src->n);
	char *at = (char *)(vec + ptrs);
	for (size_t i = 0; i < src->n; i++) {
		const struct np_module *m = &src->modules[i];
		/* the numbers and flags; every string is copied, none shared */
		v[i] = (struct np_module){ .builtin = m->builtin, .has_size = m->has_size, .size_bytes = m->size_bytes,
					   .has_refcount = m->has_refcount, .refcount = m->refcount,
					   .permanent = m->permanent };
		v[i].name = put_str(m->name, &at);
		v[i].state = put_str(m->state, &at);
		v[i].address = put_str(m->address, &at);
		v[i].taint = put_str(m->taint, &at);
		v[i].version = put_str(m->version, &at);
		v[i].srcversion = put_str(m->srcversion, &at);
		v[i].initstate = put_str(m->initstate, &at);
		if (m->used_by) {
			v[i].used_by = vec;
			for (char **u = m->used_by; *u; u++)
				*vec++ = put_str(*u, &at);
			*vec++ = NULL;
		}
	}
	dst->modules = v;
	dst->n = src->n;
	dst->packed = true;
	return 0;
}

struct np_module *np_modules_find(const struct np_modules *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (streq(s->modules[i].name, name))
			return &s->modules[i];
	return NULL;
}

static json_t *module_to_json(const struct np_module *m)
{
	json_t *o = json_object();
	np_json_str(o, "name", m->name);
	if (m->has_size)
		np_json_u64(o, "size_bytes", m->size_bytes);
	else
		json_object_set_new(o, "size_bytes", json_null());
	if (m->has_refcount)
		np_json_s64(o, "refcount", m->refcount);
	else
		json_object_set_new(o, "refcount", json_null());
	json_object_set_new(o, "used_by", np_json_strv(m->used_by));
	np_json_bool(o, "permanent", m->permanent);
	np_json_str(o, "state", m->state);
	np_json_str(o, "address", m->address);
	np_json_str(o, "taint", m->taint);
	np_json_str(o, "version", m->version);
	np_json_str(o, "srcversion", m->srcversion);
	np_json_str(o, "initstate", m->initstate);
	np_json_bool(o, "builtin", m->builtin);
	return o;
}

json_t *np_modules_to_json(const struct np_modules *s)
{
	json_t *o = json_object();
	np_json_bool(o, "loadable", s->loadable);
	np_json_u64(o, "lines_invalid", s->lines_invalid);
	json_t *a = json_array();
	for (size_t i = 0; i < s->n; i++)
		json_array_append_new(a, module_to_json(&s->modules[i]));
	json_object_set_new(o, "modules", a);
	np_status_to_json(&s->status, o);
	return o;
}

static bool has_taint(const struct np_module *m)
{
	return m->taint && *m->taint;
}

void np_modules_print(const struct np_modules *s, struct np_out *o)
{
	static const char *const hdr[] = { "name", "version", "srcversion", "refs", "state", "taint" };
	np_out_heading(o, "Modules");
	if (s->status.err)
		np_out_error(o, s->status.error);
	struct np_table *t = np_table_new(ARRAY_SIZE(hdr), hdr);
	size_t shown = 0, builtin = 0;
	for (size_t i = 0; i < s->n; i++) {
		const struct np_module *m = &s->modules[i];
		builtin += m->builtin;
		if (!m->version && !has_taint(m))
			continue;
		char refs[24];
		if (m->has_refcount)
			snprintf(refs, sizeof(refs), "%lld", (long long)m->refcount);
		const char *cells[] = { m->name, m->version, m->srcversion,
					m->has_refcount ? refs : NULL,
					m->builtin ? "built-in" : m->state,
					has_taint(m) ? m->taint : NULL };
		if (t && np_table_add(t, has_taint(m) ? NP_TONE_WARN : NP_TONE_PLAIN, cells) >= 0)
			shown++;
	}
	if (t)
		np_table_print_free(t, o);
	fprintf(o->f, "  %zu modules (%zu loaded, %zu built-in%s); %zu shown (with a version or taint; -o json lists all)\n",
		s->n, s->n - builtin, builtin, s->loadable ? "" : "; kernel without loadable modules",
		shown);
}

int np_modules_bundle(const struct np_modules *s, struct np_bundle *b)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct np_module *m = &s->modules[i];
		int r = 0;
		if (m->version) {
			r = np_bundle_add(b, "module", m->name, m->version);
		} else if (m->srcversion && m->taint && strpbrk(m->taint, "OE")) {
			_cleanup_free_ char *v = np_asprintf("srcversion %s", m->srcversion);
			r = v ? np_bundle_add(b, "module", m->name, v) : -ENOMEM;
		}
		if (r < 0)
			return r;
	}
	return 0;
}

NP_SECTION_SOURCE(modules, 100, "kernel modules", "ModulesUnreadable", NULL);
