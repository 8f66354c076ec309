// SPDX-License-Identifier: Apache-2.0
#define _GNU_SOURCE
#include "multipath.h"
#include "expo.h"
#include "json.h"
#include "report.h"
#include "section.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void path_free(struct np_mpath_path *p)
{
	free(p->dev);
	free(p->major_minor);
	np_strv_free(p->args);
	free(p->checker_state);
	free(p->dev_state);
}

void np_mpath_map_free(struct np_mpath_map *m)
{
	for (size_t g = 0; g < m->n_groups; g++) {
		for (size_t i = 0; i < m->groups[g].n_paths; i++)
			path_free(&m->groups[g].paths[i]);
		free(m->groups[g].paths);
		free(m->groups[g].selector);
	}
	free(m->groups);
	free(m->name);
	free(m->dm);
	free(m->uuid);
	free(m->major_minor);
	free(m->hardware_handler);
	np_strv_free(m->features);
	free(m->mpathd_queueing);
	np_strv_free(m->slaves);
	np_status_clear(&m->status);
	memset(m, 0, sizeof(*m));
}

void np_multipath_free(struct np_multipath *s)
{
	for (size_t i = 0; i < s->n_maps; i++)
		np_mpath_map_free(&s->maps[i]);
	free(s->maps);
	s->maps = NULL;
	s->n_maps = 0;
	s->multipathd_available = false;
	np_status_clear(&s->multipathd);
	np_status_clear(&s->status);
}

void np_mpath_map_counts(const struct np_mpath_map *m, size_t *total, size_t *active, size_t *failed)
{
	size_t t = 0, a = 0, f = 0;
	for (size_t g = 0; g < m->n_groups; g++)
		for (size_t i = 0; i < m->groups[g].n_paths; i++) {
			const struct np_mpath_path *p = &m->groups[g].paths[i];
			t++;
			if (p->have_state && p->active)
				a++;
			else if (p->have_state)
				f++;
		}
	*total = t;
	*active = a;
	*failed = f;
}

static const char *group_state(char c)
{
	switch (c) {
	case 'A':
		return "active";
	case 'E':
		return "enabled";
	case 'D':
		return "disabled";
	default:
		return NULL;
	}
}

static json_t *path_to_json(const struct np_mpath_path *p)
{
	json_t *o = json_object();
	np_json_str(o, "dev", p->dev);
	np_json_str(o, "major_minor", p->major_minor);
	np_json_str(o, "state", p->have_state ? (p->active ? "active" : "failed") : NULL);
	if (p->have_state)
		np_json_u64(o, "fail_count", p->fail_count);
	else
		json_object_set_new(o, "fail_count", json_null());
	np_json_str(o, "checker_state", p->checker_state);
	np_json_str(o, "dev_state", p->dev_state);
	json_object_set_new(o, "args", np_json_strv(p->args));
	return o;
}

static json_t *group_to_json(const struct np_mpath_group *g)
{
	json_t *o = json_object();
	np_json_u64(o, "index", g->index);
	np_json_str(o, "selector", g->selector);
	if (g->have_priority)
		np_json_s64(o, "priority", g->priority);
	else
		json_object_set_new(o, "priority", json_null());
	np_json_str(o, "state", group_state(g->state));
	json_t *a = json_array();
	for (size_t i = 0; i < g->n_paths; i++)
		json_array_append_new(a, path_to_json(&g->paths[i]));
	json_object_set_new(o, "paths", a);
	return o;
}

static json_t *map_to_json(const struct np_mpath_map *m)
{
	json_t *o = json_object();
	np_json_str(o, "name", m->name);
	np_json_str(o, "dm", m->dm);
	np_json_str(o, "uuid", m->uuid);
	np_json_str(o, "major_minor", m->major_minor);
	np_json_u64(o, "size_bytes", m->size_bytes);
	json_object_set_new(o, "features", np_json_strv(m->features));
	np_json_str(o, "hardware_handler", m->hardware_handler);
	json_object_set_new(o, "queueing", m->have_queue_io ? json_boolean(m->queue_io) : json_null());
	np_json_str(o, "multipathd_queueing", m->mpathd_queueing);
	if (m->have_queue_io)
		np_json_u64(o, "pg_init_count", m->pg_init_count);
	else
		json_object_set_new(o, "pg_init_count", json_null());
	json_t *a = json_array();
	for (size_t g = 0; g < m->n_groups; g++)
		json_array_append_new(a, group_to_json(&m->groups[g]));
	json_object_set_new(o, "path_groups", a);
	/* unknown is null, never 0: a map whose table could not be read has paths, uncounted */
	size_t t, act, f;
	np_mpath_map_counts(m, &t, &act, &f);
	bool states = m->paths_known && act + f == t;
	json_object_set_new(o, "paths_total", m->paths_known ? json_integer((json_int_t)t) : json_null());
	json_object_set_new(o, "paths_active", states ? json_integer((json_int_t)act) : json_null());
	json_object_set_new(o, "paths_failed", states ? json_integer((json_int_t)f) : json_null());
	json_object_set_new(o, "slaves", np_json_strv(m->slaves));
	np_json_s64(o, "collect_us", m->collect_us);
	np_status_to_json(&m->status, o);
	return o;
}

json_t *np_multipath_to_json(const struct np_multipath *s)
{
	json_t *o = json_object();
	json_t *a = json_array();
	for (size_t i = 0; i < s->n_maps; i++)
		json_array_append_new(a, map_to_json(&s->maps[i]));
	json_object_set_new(o, "maps", a);
	json_t *d = json_object();
	np_json_bool(d, "available", s->multipathd_available);
	np_json_str(d, "error", s->multipathd.err ? s->multipathd.error : NULL);
	json_object_set_new(d, "polling_interval_s", s->mpathd_polling_interval_s > 0
			    ? json_integer(s->mpathd_polling_interval_s) : json_null());
	json_object_set_new(o, "multipathd", d);
	np_status_to_json(&s->status, o);
	return o;
}

static void print_map(const struct np_mpath_map *m, struct np_out *o)
{
	size_t t, a, f;
	np_mpath_map_counts(m, &t, &a, &f);
	fprintf(o->f, "  %s (%s) %s %s\n", m->name ? m->name : "-", m->uuid ? m->uuid : "-",
		m->dm ? m->dm : "-", m->major_minor ? m->major_minor : "");
	size_t nf = 0;
	for (char **p = m->features; p && *p; p++)
		nf++;
	fprintf(o->f, "  size=%llu features='%zu", (unsigned long long)m->size_bytes, nf);
	for (char **p = m->features; p && *p; p++)
		fprintf(o->f, " %s", *p);
	char pt[24] = "unknown", pa[24] = "unknown", pf[24] = "unknown";
	if (m->paths_known)
		snprintf(pt, sizeof(pt), "%zu", t);
	if (m->paths_known && a + f == t) {
		snprintf(pa, sizeof(pa), "%zu", a);
		snprintf(pf, sizeof(pf), "%zu", f);
	}
	fprintf(o->f, "' hwhandler='%s' paths=%s active=%s failed=%s%s\n",
		m->hardware_handler ? m->hardware_handler : "0", pt, pa, pf,
		m->have_queue_io && m->queue_io ? " QUEUEING" : "");
	if (m->status.err)
		np_out_error(o, m->status.error);
	if (m->paths_known && t == 0 && !m->status.err)
		np_out_error(o, "no paths");
	if (!m->n_groups && m->slaves && m->slaves[0]) {
		fprintf(o->f, "  `- slaves:");
		for (char **p = m->slaves; *p; p++)
			fprintf(o->f, " %s", *p);
		fputc('\n', o->f);
	}
	for (size_t g = 0; g < m->n_groups; g++) {
		const struct np_mpath_group *gr = &m->groups[g];
		bool last_g = g + 1 == m->n_groups;
		char prio[24] = "-";
		if (gr->have_priority)
			snprintf(prio, sizeof(prio), "%lld", (long long)gr->priority);
		fprintf(o->f, "  %s-+- policy='%s' prio=%s status=%s\n", last_g ? "`" : "|",
			gr->selector ? gr->selector : "-", prio,
			group_state(gr->state) ? group_state(gr->state) : "unknown");
		for (size_t i = 0; i < gr->n_paths; i++) {
			const struct np_mpath_path *p = &gr->paths[i];
			fprintf(o->f, "  %s %s- %-6s %-7s %s %s fail_count=%llu\n", last_g ? " " : "|",
				i + 1 == gr->n_paths ? "`" : "|", p->dev ? p->dev : "-",
				p->major_minor ? p->major_minor : "-",
				p->have_state ? (p->active ? "active" : "failed") : "undef",
				p->checker_state ? p->checker_state : "-",
				(unsigned long long)p->fail_count);
		}
	}
}

void np_multipath_print(const struct np_multipath *s, struct np_out *o)
{
	np_out_heading(o, "Multipath");
	if (s->status.err)
		np_out_error(o, s->status.error);
	if (!s->n_maps)
		np_out_kv(o, "maps", "none");
	for (size_t i = 0; i < s->n_maps; i++)
		print_map(&s->maps[i], o);
	np_out_kv(o, "multipathd", s->multipathd_available ? "answering" :
				   s->multipathd.err ? s->multipathd.error : "not asked");
}

int np_multipath_bundle(const struct np_multipath *s, struct np_bundle *b)
{
	(void)s;
	(void)b;
	return 0;
}

static void multipath_metrics(FILE *f, const struct np_report *r, const struct np_metrics_opts *o)
{
	const struct np_multipath *mp = &r->multipath;
	(void)o;
	np_expo_help(f, "nodeprint_multipath_paths", "gauge", "Paths of a multipath map by state.");
	for (size_t i = 0; i < mp->n_maps; i++) {
		const struct np_mpath_map *m = &mp->maps[i];
		unsigned active = 0, failed = 0, unknown = 0;
		for (size_t g = 0; g < m->n_groups; g++)
			for (size_t k = 0; k < m->groups[g].n_paths; k++) {
				const struct np_mpath_path *p = &m->groups[g].paths[k];
				if (!p->have_state)
					unknown++;
				else if (p->active)
					active++;
				else
					failed++;
			}
		const char *name = np_expo_esc(m->name ? m->name : m->dm ? m->dm : "");
		if (!m->paths_known) { /* the table was not read: its slaves are paths of unknown state, never 0 active */
			for (char **s = m->slaves; s && *s; s++)
				unknown++;
			fprintf(f, "nodeprint_multipath_paths{map=\"%s\",state=\"unknown\"} %u\n", name, unknown);
			continue;
		}
		fprintf(f, "nodeprint_multipath_paths{map=\"%s\",state=\"active\"} %u\n", name, active);
		fprintf(f, "nodeprint_multipath_paths{map=\"%s\",state=\"failed\"} %u\n", name, failed);
		if (unknown)
			fprintf(f, "nodeprint_multipath_paths{map=\"%s\",state=\"unknown\"} %u\n", name, unknown);
	}
}

static void multipath_judge(const struct np_report *r, struct np_source *s)
{
	const struct np_multipath *m = &r->multipath;
	if (m->status.err)
		np_source_down(s, &m->status);
	for (size_t i = 0; i < m->n_maps; i++)
		if (m->maps[i].status.err)
			np_source_item_down(s, m->maps[i].name ? m->maps[i].name : m->maps[i].dm, &m->maps[i].status, 0, NULL);
}

NP_SECTION_SOURCE(multipath, 30, "multipath tables", "MultipathTableUnreadable", multipath_judge);
NP_SECTION_METRICS(multipath, multipath_metrics);
