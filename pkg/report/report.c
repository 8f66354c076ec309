// SPDX-License-Identifier: Apache-2.0
/* report.c - the whole report: every registered section (section.h), in its order. */
#include "report.h"
#include "json.h"
#include "section.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"
#include "../shared/version.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void np_report_free(struct np_report *r)
{
	free(r->host_root);
	r->host_root = NULL;
	np_strv_free(r->only);
	r->only = NULL;
	for (const struct np_section *const *s = np_sections(NULL); s && *s; s++)
		(*s)->free(r);
	np_bundle_free(&r->bundle);
}

int np_report_fingerprint(struct np_report *r)
{
	struct np_bundle *b = &r->bundle;
	np_bundle_free(b);
	const struct np_section *const *s = np_sections(NULL);
	if (!s)
		return -ENOMEM;
	for (; *s; s++) {
		int rc = (*s)->bundle(r, b);
		if (rc < 0)
			return rc;
	}
	return np_bundle_finish(b);
}

bool np_report_read(const struct np_report *r, const char *name)
{
	return !r->only || np_strv_contains(r->only, name);
}

json_t *np_report_to_json(const struct np_report *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "schemaVersion", json_integer(NP_SCHEMA_VERSION));
	np_json_str(o, "generator", "nodeprint/" NODEPRINT_VERSION);
	np_json_str(o, "host_root", r->host_root);
	np_json_s64(o, "collected_at_ms", r->collected_at_ms);
	np_json_s64(o, "duration_us", r->duration_us);
	json_t *fp = np_bundle_to_json(&r->bundle);
	if (r->only) { /* what was read, and a hash of only that */
		json_t *read = json_array();
		for (char **p = r->only; *p; p++)
			json_array_append_new(read, json_string(*p));
		json_object_set_new(o, "partial", json_true());
		json_object_set_new(o, "sections", read);
		json_object_set_new(fp, "partial", json_true());
	}
	json_object_set_new(o, "fingerprint", fp);
	_cleanup_(np_sources_free) struct np_sources src = { 0 };
	np_report_sources(r, &src); /* ENOMEM: an empty list */
	json_t *sj = np_sources_to_json(&src);
	for (size_t i = json_array_size(sj); r->only && i-- > 0;) /* a partial report lists what it read */
		if (!np_report_read(r, json_string_value(json_object_get(json_array_get(sj, i), "source"))))
			json_array_remove(sj, i);
	json_object_set_new(o, "sources", sj);
	for (const struct np_section *const *s = np_sections(NULL); s && *s; s++)
		if (np_report_read(r, (*s)->name))
			json_object_set_new(o, (*s)->name, (*s)->to_json(r));
	return o;
}

void np_report_print_title(const struct np_report *r, struct np_out *o)
{
	fprintf(o->f, "nodeprint %s  bundle %s  (%zu components)", NODEPRINT_VERSION,
		r->bundle.hash[0] ? r->bundle.hash : "-", r->bundle.n);
	if (r->only) {
		fputs("  PARTIAL, only:", o->f);
		for (char **p = r->only; *p; p++)
			fprintf(o->f, "%s%s", p == r->only ? " " : ",", *p);
	}
	fputc('\n', o->f);
	_cleanup_(np_sources_free) struct np_sources src = { 0 };
	np_report_sources(r, &src);
	np_sources_print(&src, o); /* the BLIND block: nothing when every source is up */
}

static int cmp_print(const void *a, const void *b)
{
	const struct np_section *x = *(const struct np_section *const *)a;
	const struct np_section *y = *(const struct np_section *const *)b;
	return x->print_order < y->print_order ? -1 : x->print_order > y->print_order ? 1 : strcmp(x->name, y->name);
}

void np_report_print(const struct np_report *r, struct np_out *o)
{
	size_t n;
	const struct np_section *const *all = np_sections(&n);
	const struct np_section **v = all ? malloc((n ? n : 1) * sizeof(*v)) : NULL;
	if (v) { /* the on-call playbook's order (print_order), not the collect order */
		memcpy(v, all, n * sizeof(*v));
		qsort(v, n, sizeof(*v), cmp_print);
		for (size_t i = 0; i < n; i++)
			if (np_report_read(r, v[i]->name))
				v[i]->print(r, o);
		free(v);
	}
	np_out_heading(o, r->only ? "Bundle (partial: only the sections read)" : "Bundle");
	for (size_t i = 0; i < r->bundle.n; i++)
		fprintf(o->f, "  %-8s %-32s %s\n", r->bundle.items[i].component, r->bundle.items[i].key,
			r->bundle.items[i].value);
	fprintf(o->f, "  hash: %s%s\n", r->bundle.hash, r->only ? " (partial: not the node's bundle hash)" : "");
}
