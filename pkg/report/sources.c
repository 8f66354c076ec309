// SPDX-License-Identifier: Apache-2.0
/* sources.c - which inputs of a report could be read (blind is never healthy). */
#define _GNU_SOURCE
#include "sources.h"
#include "json.h"
#include "report.h"
#include "section.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void np_source_down(struct np_source *s, const struct np_status *st)
{
	if (!s->up)
		return;
	s->up = false;
	s->err = st->err ? st->err : EIO;
	s->detail = st->error;
}

void np_source_item_down(struct np_source *s, const char *item, const struct np_status *st, int err_if_none,
			 const char *why)
{
	struct np_status fallback = { .err = err_if_none, .error = (char *)why };
	if (s->up)
		s->item = item;
	np_source_down(s, st->err ? st : &fallback);
	s->failed++;
}

static int cmp_source(const void *a, const void *b)
{
	const struct np_section *x = *(const struct np_section *const *)a;
	const struct np_section *y = *(const struct np_section *const *)b;
	if (x->source->order != y->source->order)
		return x->source->order < y->source->order ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* The sections that are sources, in source order: NULL-terminated, owned by the module; NULL on ENOMEM. */
static const struct np_section *const *source_sections(size_t *n)
{
	static const struct np_section **sorted;
	static size_t count;
	if (!sorted) {
		size_t k;
		const struct np_section *const *all = np_sections(&k);
		const struct np_section **v = all ? calloc(k + 1, sizeof(*v)) : NULL;
		if (!v)
			return NULL;
		size_t m = 0;
		for (size_t i = 0; i < k; i++)
			if (all[i]->source)
				v[m++] = all[i];
		qsort(v, m, sizeof(*v), cmp_source);
		sorted = v;
		count = m;
	}
	*n = count;
	return sorted;
}

int np_report_sources(const struct np_report *r, struct np_sources *out)
{
	size_t n;
	const struct np_section *const *sec = source_sections(&n);
	*out = (struct np_sources){ 0 };
	if (!sec)
		return -ENOMEM;
	out->v = calloc(n + 1, sizeof(*out->v));
	if (!out->v)
		return -ENOMEM;
	out->n = n;
	int n_down = 0;
	for (size_t i = 0; i < n; i++) {
		const struct np_section_source *d = sec[i]->source;
		struct np_source *s = &out->v[i];
		*s = (struct np_source){ .name = sec[i]->name, .what = d->what, .up = true, .bundle = d->bundle };
		if (d->judge) {
			d->judge(r, s);
		} else {
			const struct np_status *st = (const void *)((const char *)r + sec[i]->status_offset);
			if (st->err)
				np_source_down(s, st);
		}
		if (!s->up && !s->reason)
			s->reason = d->reason;
		n_down += !s->up;
	}
	return n_down;
}

void np_sources_free(struct np_sources *s)
{
	free(s->v);
	*s = (struct np_sources){ 0 };
}

const struct np_source *np_sources_get(const struct np_sources *s, const char *name)
{
	for (size_t i = 0; name && i < s->n; i++)
		if (streq(s->v[i].name, name))
			return &s->v[i];
	return NULL;
}

json_t *np_sources_to_json(const struct np_sources *src)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < src->n; i++) {
		const struct np_source *s = &src->v[i];
		json_t *o = json_object();
		np_json_str(o, "source", s->name);
		json_object_set_new(o, "up", json_boolean(s->up));
		if (!s->up) {
			const char *name = strerrorname_np(s->err);
			np_json_str(o, "reason", s->reason);
			np_json_str(o, "errno", name ? name : "EIO");
			np_json_str(o, "error", s->detail ? s->detail : np_errno_reason(s->err));
			np_json_str(o, "item", s->item);
			json_object_set_new(o, "failed", json_integer(s->failed));
		}
		json_array_append_new(a, o);
	}
	return a;
}

void np_sources_print(const struct np_sources *src, struct np_out *o)
{
	unsigned n_down = 0;
	for (size_t i = 0; i < src->n; i++)
		n_down += !src->v[i].up;
	if (!n_down)
		return;
	np_out_heading(o, "BLIND: what nodeprint cannot see (its checks are Unknown, not healthy)");
	for (size_t i = 0; i < src->n; i++) {
		const struct np_source *s = &src->v[i];
		if (s->up)
			continue;
		const char *name = strerrorname_np(s->err);
		_cleanup_free_ char *msg = NULL;
		if (asprintf(&msg, "%s: %s: %s%s%s (%s)%s", s->reason, s->what, s->item ? s->item : "",
			     s->item ? ": " : "", s->detail ? s->detail : np_errno_reason(s->err),
			     name ? name : "EIO", s->failed > 1 ? ", and more" : "") < 0)
			msg = NULL;
		np_out_error(o, msg ? msg : s->reason);
	}
}
