// SPDX-License-Identifier: Apache-2.0
/* flaps.c - multipath path flaps in a sliding window, two sources de-duplicated (see flaps.h). */
#define _GNU_SOURCE
#include "flaps.h"
#include "../report/json.h"
#include "../shared/macro.h"

#include <string.h>

void np_flaps_init(struct np_flaps *f, int64_t window_ms, int64_t dedup_ms)
{
	*f = (struct np_flaps){ .window_ms = window_ms > 0 ? window_ms : 1, .dedup_ms = dedup_ms > 0 ? dedup_ms : 0 };
}

static void path_free(struct np_flap_path *p)
{
	free(p->path);
	free(p->trans);
}

void np_flaps_free(struct np_flaps *f)
{
	for (size_t i = 0; i < f->n; i++) {
		for (size_t k = 0; k < f->maps[i].n_paths; k++)
			path_free(&f->maps[i].paths[k]);
		free(f->maps[i].paths);
		free(f->maps[i].map);
	}
	free(f->maps);
	f->maps = NULL;
	f->n = 0;
}

static struct np_flap_map *find_map(const struct np_flaps *f, const char *map)
{
	for (size_t i = 0; i < f->n; i++)
		if (streq(f->maps[i].map, map))
			return &f->maps[i];
	return NULL;
}

static struct np_flap_path *find_path(const struct np_flap_map *m, const char *path)
{
	for (size_t i = 0; i < m->n_paths; i++)
		if (streq(m->paths[i].path, path))
			return &m->paths[i];
	return NULL;
}

static struct np_flap_map *get_map(struct np_flaps *f, const char *map)
{
	struct np_flap_map *m = find_map(f, map);
	if (m)
		return m;
	char *name = strdup(map);
	struct np_flap_map *nm = name ? reallocarray(f->maps, f->n + 1, sizeof(*nm)) : NULL;
	if (!nm) {
		free(name);
		return NULL;
	}
	f->maps = nm;
	m = &f->maps[f->n++];
	*m = (struct np_flap_map){ .map = name };
	return m;
}

static struct np_flap_path *get_path(struct np_flap_map *m, const char *path)
{
	struct np_flap_path *p = find_path(m, path);
	if (p)
		return p;
	char *name = strdup(path);
	struct np_flap_path *np = name ? reallocarray(m->paths, m->n_paths + 1, sizeof(*np)) : NULL;
	if (!np) {
		free(name);
		return NULL;
	}
	m->paths = np;
	p = &m->paths[m->n_paths++];
	*p = (struct np_flap_path){ .path = name };
	return p;
}

/* Map of a kmsg observation without a map: the known map that has this path, else "?". */
static const char *resolve_map(const struct np_flaps *f, const char *map, const char *path)
{
	if (map)
		return map;
	for (size_t i = 0; i < f->n; i++)
		if (!streq(f->maps[i].map, "?") && find_path(&f->maps[i], path))
			return f->maps[i].map;
	return "?";
}

/* Forget transitions too old for the window and for pairing. */
static void prune(struct np_flaps *f, struct np_flap_path *p, int64_t now_ms)
{
	int64_t keep = f->window_ms > f->dedup_ms ? f->window_ms : f->dedup_ms;
	size_t w = 0;
	for (size_t i = 0; i < p->n_trans; i++)
		if (p->trans[i].t_ms > now_ms - 2 * keep)
			p->trans[w++] = p->trans[i];
	p->n_trans = w;
}

static int64_t dist(int64_t a, int64_t b)
{
	return a > b ? a - b : b - a;
}

/* A failed->active transition seen by @src at @t: pair it with the other source's, or count it. */
static int transition(struct np_flaps *f, struct np_flap_map *m, struct np_flap_path *p,
		      enum np_flap_source src, int64_t t)
{
	struct np_flap_transition *best = NULL;
	for (size_t i = 0; i < p->n_trans; i++) {
		struct np_flap_transition *x = &p->trans[i];
		if (x->source == src || x->paired || dist(x->t_ms, t) > f->dedup_ms)
			continue;
		if (!best || dist(x->t_ms, t) < dist(best->t_ms, t))
			best = x;
	}
	if (best) {
		best->paired = true;
		return 0;
	}
	struct np_flap_transition *nt = reallocarray(p->trans, p->n_trans + 1, sizeof(*nt));
	if (!nt)
		return -ENOMEM;
	p->trans = nt;
	p->trans[p->n_trans++] = (struct np_flap_transition){ .t_ms = t, .source = src };
	m->total++;
	return 1;
}

int np_flaps_observe(struct np_flaps *f, enum np_flap_source source, const char *map, const char *path,
		     enum np_path_state state, int64_t t_ms)
{
	if (!path || !*path || (source != NP_FLAP_POLL && source != NP_FLAP_KMSG) ||
	    (state != NP_PATH_ACTIVE && state != NP_PATH_FAILED))
		return -EINVAL;
	if (!map && source == NP_FLAP_POLL)
		return -EINVAL;
	struct np_flap_map *m = get_map(f, resolve_map(f, map, path));
	struct np_flap_path *p = m ? get_path(m, path) : NULL;
	if (!p)
		return -ENOMEM;
	prune(f, p, t_ms);
	enum np_path_state prev = p->state[source];
	p->state[source] = state;
	if (state != NP_PATH_ACTIVE)
		return 0;
	/* polling needs to have seen it failed; a reinstatement in the log implies the failure before it */
	if (prev == NP_PATH_FAILED || (source == NP_FLAP_KMSG && prev != NP_PATH_ACTIVE))
		return transition(f, m, p, source, t_ms);
	return 0;
}

int np_flaps_feed_kmsg(struct np_flaps *f, const struct np_kmsg_event *e)
{
	enum np_path_state st;
	if (e->kind == NP_KMSG_PATH_FAILED)
		st = NP_PATH_FAILED;
	else if (e->kind == NP_KMSG_PATH_REINSTATED)
		st = NP_PATH_ACTIVE;
	else
		return 0;
	uint64_t us = e->count ? e->last_monotonic_us : e->monotonic_us; /* the newest occurrence */
	return np_flaps_observe(f, NP_FLAP_KMSG, e->map, e->device, st, (int64_t)(us / 1000));
}

unsigned np_flaps_in_window(const struct np_flaps *f, const char *map, int64_t now_ms)
{
	const struct np_flap_map *m = find_map(f, map);
	unsigned n = 0;
	if (!m)
		return 0;
	for (size_t i = 0; i < m->n_paths; i++)
		for (size_t k = 0; k < m->paths[i].n_trans; k++) {
			int64_t t = m->paths[i].trans[k].t_ms;
			if (t > now_ms - f->window_ms && t <= now_ms)
				n++;
		}
	return n;
}

json_t *np_flaps_to_json(const struct np_flaps *f, int64_t now_ms)
{
	json_t *a = json_array();
	for (size_t i = 0; i < f->n; i++) {
		json_t *o = json_object();
		np_json_str(o, "map", f->maps[i].map);
		np_json_u64(o, "flaps_in_window", np_flaps_in_window(f, f->maps[i].map, now_ms));
		np_json_u64(o, "flaps_total", f->maps[i].total);
		np_json_s64(o, "window_ms", f->window_ms);
		json_array_append_new(a, o);
	}
	return a;
}
