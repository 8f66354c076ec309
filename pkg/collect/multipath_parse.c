// SPDX-License-Identifier: Apache-2.0
/*
 * multipath_parse.c - pure parsers: dm-multipath table and status params
 * (drivers/md/dm-mpath.c multipath_ctr()/multipath_status(), as also read by
 * multipath-tools libmultipath/dmparser.c) and multipathd's JSON
 * (libmultipath/print.h PRINT_JSON_* templates).
 */
#define _GNU_SOURCE
#include "multipath.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <jansson.h>
#include <string.h>

struct toks {
	char **v;
	size_t n, i;
	const char *why;
};

/* Append to a NULL-terminated vector whose length is not tracked. */
static int strv_push(char ***v, const char *s)
{
	size_t n = 0;
	for (char **p = *v; p && *p; p++)
		n++;
	return np_strv_push(v, &n, s);
}

static void toks_free(struct toks *t)
{
	np_strv_free(t->v);
}

static const char *next(struct toks *t)
{
	if (t->i >= t->n) {
		t->why = "truncated: a counted list ends early";
		return NULL;
	}
	return t->v[t->i++];
}

/* A count, bounded by the tokens left times @per (a count can never exceed what follows). */
static int count(struct toks *t, size_t per, size_t *out)
{
	const char *s = next(t);
	uint64_t v;
	if (!s)
		return -EINVAL;
	if (np_parse_u64(s, &v) < 0 || strchr(s, 'x')) {
		t->why = "a count is not a decimal number";
		return -EINVAL;
	}
	if (per && v > (t->n - t->i) / per + 1) {
		t->why = "a count exceeds the tokens that follow";
		return -EINVAL;
	}
	*out = (size_t)v;
	return 0;
}

static int skip(struct toks *t, size_t k)
{
	if (k > t->n - t->i) {
		t->why = "truncated: a counted list ends early";
		return -EINVAL;
	}
	t->i += k;
	return 0;
}

/* @k tokens joined by single spaces; NULL on ENOMEM. */
static char *join(struct toks *t, size_t k)
{
	size_t len = 1;
	for (size_t i = 0; i < k; i++)
		len += strlen(t->v[t->i + i]) + 1;
	char *s = malloc(len), *w = s;
	if (!s)
		return NULL;
	*w = '\0';
	for (size_t i = 0; i < k; i++)
		w += sprintf(w, "%s%s", i ? " " : "", t->v[t->i + i]);
	t->i += k;
	return s;
}

static int toks_init(struct toks *t, const char *s)
{
	memset(t, 0, sizeof(*t));
	if (!s)
		return -EINVAL;
	int r = np_split(s, " \t\n", &t->v, &t->n);
	if (r < 0)
		return r;
	return 0;
}

int np_dm_line_params(const char *line, char **name, char **target, char **params)
{
	_cleanup_free_ char *copy = strdup(line);
	if (!copy)
		return -ENOMEM;
	copy[strcspn(copy, "\n")] = '\0';
	char *p = copy, *nm = NULL;
	/* "name: 0 123 multipath ..." - a name may itself contain ':' but not ": " */
	char *colon = strstr(p, ": ");
	if (colon) {
		*colon = '\0';
		nm = p;
		p = colon + 2;
	}
	uint64_t start, len;
	char *save = NULL;
	char *a = strtok_r(p, " \t", &save), *b = strtok_r(NULL, " \t", &save);
	char *tg = strtok_r(NULL, " \t", &save);
	if (!a || !b || !tg || np_parse_u64(a, &start) < 0 || np_parse_u64(b, &len) < 0)
		return -EINVAL;
	char *rest = save ? save : "";
	rest += strspn(rest, " \t");
	*name = nm ? strdup(nm) : NULL;
	*target = strdup(tg);
	*params = strdup(rest);
	if ((nm && !*name) || !*target || !*params) {
		free(*name);
		free(*target);
		free(*params);
		return -ENOMEM;
	}
	return 0;
}

static void groups_free(struct np_mpath_group *g, size_t n)
{
	if (!g)
		return;
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < g[i].n_paths; k++) {
			free(g[i].paths[k].dev);
			free(g[i].paths[k].major_minor);
			np_strv_free(g[i].paths[k].args);
			free(g[i].paths[k].checker_state);
			free(g[i].paths[k].dev_state);
		}
		free(g[i].paths);
		free(g[i].selector);
	}
	free(g);
}

static int table_group(struct toks *t, struct np_mpath_group *g)
{
	size_t nsa, np, npa;
	const char *sel = next(t);
	if (!sel)
		return -EINVAL;
	if (count(t, 1, &nsa) < 0)
		return -EINVAL;
	t->i -= 2; /* selector = "<name> <#args> <args...>", as multipath -ll prints it */
	if (nsa > t->n - t->i - 2) {
		t->why = "truncated: a counted list ends early";
		return -EINVAL;
	}
	g->selector = join(t, nsa + 2);
	if (!g->selector)
		return -ENOMEM;
	if (count(t, 1, &np) < 0 || count(t, 0, &npa) < 0)
		return -EINVAL;
	if (np && npa > (t->n - t->i) / np) {
		t->why = "a count exceeds the tokens that follow";
		return -EINVAL;
	}
	g->paths = calloc(np ? np : 1, sizeof(*g->paths));
	if (!g->paths)
		return -ENOMEM;
	for (size_t k = 0; k < np; k++) {
		struct np_mpath_path *p = &g->paths[g->n_paths++];
		const char *dev = next(t);
		if (!dev)
			return -EINVAL;
		p->major_minor = strdup(dev);
		if (!p->major_minor)
			return -ENOMEM;
		if (skip(t, npa) < 0)
			return -EINVAL;
		for (size_t a = 0; a < npa; a++)
			if (strv_push(&p->args, t->v[t->i - npa + a]) < 0)
				return -ENOMEM;
	}
	return 0;
}

/* What a table parse builds before it replaces the map's (freed when the parse fails). */
struct table_parts {
	char **features;
	char *hw;
	struct np_mpath_group *groups;
	size_t n_groups;
};

static void table_parts_free(struct table_parts *x)
{
	groups_free(x->groups, x->n_groups);
	np_strv_free(x->features);
	free(x->hw);
}

static int table_parse(struct toks *t, struct table_parts *x)
{
	size_t nf, nh, ng, initial;
	if (count(t, 1, &nf) < 0 || skip(t, nf) < 0)
		return -EINVAL;
	for (size_t i = 0; i < nf; i++)
		if (strv_push(&x->features, t->v[t->i - nf + i]) < 0)
			return -ENOMEM;
	if (!x->features && !(x->features = calloc(1, sizeof(char *))))
		return -ENOMEM;
	if (count(t, 1, &nh) < 0)
		return -EINVAL;
	if (nh > t->n - t->i) {
		t->why = "truncated: a counted list ends early";
		return -EINVAL;
	}
	if (nh && !(x->hw = join(t, nh)))
		return -ENOMEM;
	if (count(t, 4, &ng) < 0 || count(t, 0, &initial) < 0)
		return -EINVAL;
	if (initial > ng) {
		t->why = "initial group beyond the group count";
		return -EINVAL;
	}
	x->groups = calloc(ng ? ng : 1, sizeof(*x->groups));
	if (!x->groups)
		return -ENOMEM;
	for (size_t g = 0; g < ng; g++) {
		x->groups[g].index = (unsigned)g + 1;
		x->n_groups++;
		int r = table_group(t, &x->groups[g]);
		if (r < 0)
			return r;
	}
	if (t->i != t->n) {
		t->why = "tokens left over after the last group";
		return -EINVAL;
	}
	return 0;
}

int np_dm_mpath_parse_table(const char *params, struct np_mpath_map *m, const char **why)
{
	_cleanup_(toks_free) struct toks t = { 0 };
	_cleanup_(table_parts_free) struct table_parts x = { 0 };
	int r = toks_init(&t, params);
	if (r >= 0)
		r = table_parse(&t, &x);
	if (why)
		*why = r == -EINVAL ? (t.why ? t.why : "malformed") : NULL;
	if (r < 0)
		return r;
	groups_free(m->groups, m->n_groups);
	np_strv_free(m->features);
	free(m->hardware_handler);
	m->groups = TAKE_PTR(x.groups);
	m->n_groups = x.n_groups;
	x.n_groups = 0;
	m->features = TAKE_PTR(x.features);
	m->hardware_handler = TAKE_PTR(x.hw);
	m->paths_known = true;
	return 0;
}

struct st_path {
	const char *dev;
	bool active;
	uint64_t fails;
};

struct st_group {
	char state;
	size_t first, n; /* range in the path array */
};

static int status_group(struct toks *t, struct st_group *g, struct st_path **paths, size_t *n_paths)
{
	const char *s = next(t);
	size_t nga, np, npa;
	if (!s)
		return -EINVAL;
	if (strlen(s) != 1 || !strchr("AED", s[0])) {
		t->why = "group state is not A, E or D";
		return -EINVAL;
	}
	g->state = s[0];
	if (count(t, 1, &nga) < 0 || skip(t, nga) < 0 || count(t, 3, &np) < 0 || count(t, 0, &npa) < 0)
		return -EINVAL;
	if (np && npa > (t->n - t->i) / np) {
		t->why = "a count exceeds the tokens that follow";
		return -EINVAL;
	}
	struct st_path *v = reallocarray(*paths, *n_paths + np + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	*paths = v;
	g->first = *n_paths;
	g->n = np;
	for (size_t k = 0; k < np; k++) {
		struct st_path *p = &v[(*n_paths)++];
		const char *af, *fc;
		p->dev = next(t);
		if (!p->dev || !(af = next(t)) || !(fc = next(t)))
			return -EINVAL;
		if (streq(af, "A"))
			p->active = true;
		else if (streq(af, "F"))
			p->active = false;
		else {
			t->why = "path state is not A or F";
			return -EINVAL;
		}
		if (np_parse_u64(fc, &p->fails) < 0) {
			t->why = "fail count is not a number";
			return -EINVAL;
		}
		if (skip(t, npa) < 0)
			return -EINVAL;
	}
	return 0;
}

struct built_groups {
	struct np_mpath_group *g;
	size_t n;
};

static void built_groups_free(struct built_groups *b)
{
	groups_free(b->g, b->n);
}

/* Build groups from the status alone (no table). */
static int status_build(struct np_mpath_map *m, const struct st_group *sg, size_t ng,
			const struct st_path *sp)
{
	_cleanup_(built_groups_free) struct built_groups b = { .g = calloc(ng ? ng : 1, sizeof(*b.g)) };
	if (!b.g)
		return -ENOMEM;
	for (size_t i = 0; i < ng; i++) {
		struct np_mpath_group *g = &b.g[b.n++];
		g->index = (unsigned)i + 1;
		g->paths = calloc(sg[i].n ? sg[i].n : 1, sizeof(*g->paths));
		if (!g->paths)
			return -ENOMEM;
		for (size_t k = 0; k < sg[i].n; k++) {
			g->paths[k].major_minor = strdup(sp[sg[i].first + k].dev);
			g->n_paths++;
			if (!g->paths[k].major_minor)
				return -ENOMEM;
		}
	}
	groups_free(m->groups, m->n_groups);
	m->groups = TAKE_PTR(b.g);
	m->n_groups = ng;
	b.n = 0;
	m->paths_known = true;
	return 0;
}

static int status_apply(struct np_mpath_map *m, const struct st_group *sg, size_t ng,
			const struct st_path *sp, const char **why)
{
	if (!m->n_groups) {
		int r = status_build(m, sg, ng, sp);
		if (r < 0)
			return r;
	}
	if (m->n_groups != ng) {
		*why = "status and table disagree on the number of path groups";
		return -EINVAL;
	}
	for (size_t i = 0; i < ng; i++) {
		if (m->groups[i].n_paths != sg[i].n) {
			*why = "status and table disagree on a group's paths";
			return -EINVAL;
		}
		for (size_t k = 0; k < sg[i].n; k++)
			if (!streq(m->groups[i].paths[k].major_minor, sp[sg[i].first + k].dev)) {
				*why = "status and table name different paths";
				return -EINVAL;
			}
	}
	for (size_t i = 0; i < ng; i++) {
		m->groups[i].state = sg[i].state;
		for (size_t k = 0; k < sg[i].n; k++) {
			struct np_mpath_path *p = &m->groups[i].paths[k];
			p->have_state = true;
			p->active = sp[sg[i].first + k].active;
			p->fail_count = sp[sg[i].first + k].fails;
		}
	}
	return 0;
}

static int status_parse(struct toks *t, struct np_mpath_map *m, const char **reason)
{
	size_t nf, nh, ng, nextg, n_paths = 0;
	uint64_t qio = 0, pgi = 0;
	bool have_q = false;
	if (count(t, 1, &nf) < 0)
		return -EINVAL;
	if (nf >= 2 && t->n - t->i >= 2 && np_parse_u64(t->v[t->i], &qio) == 0 &&
	    np_parse_u64(t->v[t->i + 1], &pgi) == 0)
		have_q = true;
	if (skip(t, nf) < 0 || count(t, 1, &nh) < 0 || skip(t, nh) < 0)
		return -EINVAL;
	if (count(t, 4, &ng) < 0 || count(t, 0, &nextg) < 0)
		return -EINVAL;
	_cleanup_free_ struct st_group *groups = calloc(ng ? ng : 1, sizeof(*groups));
	_cleanup_free_ struct st_path *paths = NULL;
	if (!groups)
		return -ENOMEM;
	for (size_t g = 0; g < ng; g++) {
		int r = status_group(t, &groups[g], &paths, &n_paths);
		if (r < 0)
			return r;
	}
	if (t->i != t->n) {
		t->why = "tokens left over after the last group";
		return -EINVAL;
	}
	int r = status_apply(m, groups, ng, paths, reason);
	if (r < 0)
		return r;
	m->have_queue_io = have_q;
	m->queue_io = qio != 0;
	m->pg_init_count = pgi;
	m->next_group = (unsigned)nextg;
	return 0;
}

int np_dm_mpath_parse_status(const char *params, struct np_mpath_map *m, const char **why)
{
	_cleanup_(toks_free) struct toks t = { 0 };
	const char *reason = NULL;
	int r = toks_init(&t, params);
	if (r >= 0)
		r = status_parse(&t, m, &reason);
	if (why)
		*why = r == -EINVAL ? (reason ? reason : t.why ? t.why : "malformed") : NULL;
	return r;
}

/* ---- multipathd show config ---- */

int np_multipathd_config_int(const char *cfg, const char *section, const char *key, int64_t *out)
{
	int depth = 0;
	bool inside = false;
	size_t kl = strlen(key), sl = strlen(section);
	for (const char *l = cfg; l && *l;) {
		const char *e = strchr(l, '\n');
		size_t n = e ? (size_t)(e - l) : strlen(l);
		while (n && (*l == ' ' || *l == '\t'))
			l++, n--;
		while (n && (l[n - 1] == ' ' || l[n - 1] == '\t' || l[n - 1] == '\r'))
			n--;
		bool opens = n >= 1 && l[n - 1] == '{', closes = n == 1 && l[0] == '}';
		if (opens) {
			if (depth == 0 && n > sl && strncmp(l, section, sl) == 0 && (l[sl] == ' ' || l[sl] == '\t'))
				inside = true;
			depth++;
		} else if (closes) {
			if (depth > 0 && --depth == 0)
				inside = false;
		} else if (inside && depth == 1 && n > kl && strncmp(l, key, kl) == 0 && (l[kl] == ' ' || l[kl] == '\t')) {
			_cleanup_free_ char *v = strndup(l + kl, n - kl);
			if (!v)
				return -ENOMEM;
			char *t = np_strip(v);
			size_t tl = strlen(t);
			if (tl >= 2 && t[0] == '"' && t[tl - 1] == '"') {
				t[tl - 1] = '\0';
				t++;
			}
			return np_parse_s64(t, out) < 0 ? -EINVAL : 0;
		}
		l = e ? e + 1 : NULL;
	}
	return -ENOENT;
}

/* ---- multipathd JSON ---- */

/* A string member, or a number printed as text; NULL when absent. */
static char *jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (json_is_string(v))
		return strdup(json_string_value(v));
	if (json_is_integer(v))
		return np_asprintf("%lld", (long long)json_integer_value(v));
	return NULL;
}

/* An integer member, or a string holding one. */
static bool jint(json_t *o, const char *key, int64_t *out)
{
	json_t *v = json_object_get(o, key);
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return true;
	}
	if (json_is_string(v) && np_parse_s64(json_string_value(v), out) == 0)
		return true;
	return false;
}

static int parse_group(json_t *jg, struct np_mpd_group *g)
{
	g->have_pri = jint(jg, "pri", &g->pri);
	if (!jint(jg, "group", &g->group))
		g->group = 0;
	g->dm_st = jstr(jg, "dm_st");
	json_t *jp = json_object_get(jg, "paths");
	if (!json_is_array(jp))
		return 0;
	size_t n = json_array_size(jp);
	g->paths = calloc(n ? n : 1, sizeof(*g->paths));
	if (!g->paths)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_t *p = json_array_get(jp, i);
		if (!json_is_object(p))
			continue;
		struct np_mpd_path *d = &g->paths[g->n_paths++];
		d->dev = jstr(p, "dev");
		d->dev_t = jstr(p, "dev_t");
		d->dm_st = jstr(p, "dm_st");
		d->dev_st = jstr(p, "dev_st");
		d->chk_st = jstr(p, "chk_st");
	}
	return 0;
}

static int parse_map(json_t *jm, struct np_mpd_map *m)
{
	m->name = jstr(jm, "name");
	m->uuid = jstr(jm, "uuid");
	m->sysfs = jstr(jm, "sysfs");
	m->have_paths_active = jint(jm, "paths", &m->paths_active);
	if (!jint(jm, "path_faults", &m->path_faults))
		m->path_faults = 0;
	m->queueing = jstr(jm, "queueing");
	json_t *jg = json_object_get(jm, "path_groups");
	if (!json_is_array(jg))
		return 0;
	size_t n = json_array_size(jg);
	m->groups = calloc(n ? n : 1, sizeof(*m->groups));
	if (!m->groups)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_t *g = json_array_get(jg, i);
		if (!json_is_object(g))
			continue;
		int r = parse_group(g, &m->groups[m->n_groups++]);
		if (r < 0)
			return r;
	}
	return 0;
}

int np_multipathd_parse_json(const char *buf, size_t len, struct np_mpd *out)
{
	memset(out, 0, sizeof(*out));
	json_error_t err;
	json_t *root = json_loadb(buf, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	if (!root)
		return -EINVAL;
	json_t *maps = json_is_object(root) ? json_object_get(root, "maps") : NULL;
	if (!json_is_array(maps)) {
		json_decref(root);
		return -EINVAL;
	}
	if (!jint(root, "major_version", &out->major_version))
		out->major_version = -1;
	if (!jint(root, "minor_version", &out->minor_version))
		out->minor_version = -1;
	size_t n = json_array_size(maps);
	int r = 0;
	out->maps = calloc(n ? n : 1, sizeof(*out->maps));
	if (!out->maps)
		r = -ENOMEM;
	for (size_t i = 0; i < n && r >= 0; i++) {
		json_t *m = json_array_get(maps, i);
		if (json_is_object(m))
			r = parse_map(m, &out->maps[out->n_maps++]);
	}
	json_decref(root);
	if (r < 0)
		np_mpd_free(out);
	return r;
}

void np_mpd_free(struct np_mpd *d)
{
	for (size_t i = 0; i < d->n_maps; i++) {
		struct np_mpd_map *m = &d->maps[i];
		for (size_t g = 0; g < m->n_groups; g++) {
			for (size_t k = 0; k < m->groups[g].n_paths; k++) {
				struct np_mpd_path *p = &m->groups[g].paths[k];
				free(p->dev);
				free(p->dev_t);
				free(p->dm_st);
				free(p->dev_st);
				free(p->chk_st);
			}
			free(m->groups[g].paths);
			free(m->groups[g].dm_st);
		}
		free(m->groups);
		free(m->name);
		free(m->uuid);
		free(m->sysfs);
		free(m->queueing);
	}
	free(d->maps);
	memset(d, 0, sizeof(*d));
}

static bool eq(const char *a, const char *b)
{
	return a && b && streq(a, b);
}

static const struct np_mpd_map *find_map(const struct np_mpd *d, const struct np_mpath_map *m)
{
	for (size_t i = 0; i < d->n_maps; i++)
		if (eq(d->maps[i].sysfs, m->dm) || eq(d->maps[i].uuid, m->uuid) ||
		    (m->uuid && np_startswith(m->uuid, "mpath-") && eq(d->maps[i].uuid, m->uuid + 6)) ||
		    eq(d->maps[i].name, m->name))
			return &d->maps[i];
	return NULL;
}

static const struct np_mpd_path *find_path(const struct np_mpd_map *dm, const struct np_mpath_path *p)
{
	for (size_t g = 0; g < dm->n_groups; g++)
		for (size_t k = 0; k < dm->groups[g].n_paths; k++) {
			const struct np_mpd_path *q = &dm->groups[g].paths[k];
			if (eq(q->dev_t, p->major_minor) || eq(q->dev, p->dev))
				return q;
		}
	return NULL;
}

static void set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = v ? strdup(v) : NULL;
}

size_t np_multipathd_merge(struct np_multipath *s, const struct np_mpd *d)
{
	size_t matched = 0;
	for (size_t i = 0; i < s->n_maps; i++) {
		struct np_mpath_map *m = &s->maps[i];
		const struct np_mpd_map *dm = find_map(d, m);
		if (!dm)
			continue;
		set_str(&m->mpathd_queueing, dm->queueing);
		for (size_t g = 0; g < m->n_groups; g++) {
			if (g < dm->n_groups && dm->groups[g].have_pri) {
				m->groups[g].have_priority = true;
				m->groups[g].priority = dm->groups[g].pri;
			}
			for (size_t k = 0; k < m->groups[g].n_paths; k++) {
				struct np_mpath_path *p = &m->groups[g].paths[k];
				const struct np_mpd_path *q = find_path(dm, p);
				if (!q)
					continue;
				set_str(&p->checker_state, q->chk_st);
				set_str(&p->dev_state, q->dev_st);
				if (!p->dev && q->dev)
					p->dev = strdup(q->dev);
				matched++;
			}
		}
	}
	return matched;
}
