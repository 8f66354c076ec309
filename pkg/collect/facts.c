// SPDX-License-Identifier: Apache-2.0
/* facts.c - a section's cache of facts that do not change between cycles (facts.h). */
#define _GNU_SOURCE
#include "facts.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define FACT_PATH_MAX 4096

enum fact_kind { F_ATTR = 'a', F_LINE = 'r', F_U64 = 'u', F_S64 = 's', F_LINK = 'l', F_LIST = 'd', F_EXISTS = 'e', F_READ = 'f', F_BLOB = 'b' };

struct fact {
	struct fact *next;
	uint64_t used;   /* the pass that last asked for it */
	int r;           /* what the read returned */
	uint64_t u;      /* F_U64, F_S64 (as int64_t) */
	char *s;         /* F_ATTR, F_LINE, F_LINK, F_READ, F_BLOB */
	char **v;        /* F_LIST */
	char **sorted;   /* F_LIST: v's names in strcmp() order, built at the first np_facts_may_exist() */
	size_t n;        /* F_LIST: names; F_READ, F_BLOB: bytes */
	size_t hash;     /* hash() of the key */
	size_t klen;     /* strlen(key) */
	char key[];      /* kind, then the path */
};

struct np_facts {
	struct fact **b; /* buckets */
	size_t nb, n;
	bool valid;      /* gen and at_ms say when the facts held were read */
	uint64_t gen;
	int64_t at_ms;
	uint64_t pass;
	bool has_key;    /* np_facts_key() was called: key is the last one given */
	uint64_t key;
	uint64_t epoch;  /* np_facts_epoch() */
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void fact_free(struct fact *x)
{
	free(x->s);
	np_strv_free(x->v);
	free(x->sorted);
	free(x);
}

struct np_facts *np_facts_new(void)
{
	struct np_facts *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->nb = 64;
	f->b = calloc(f->nb, sizeof(*f->b));
	if (!f->b) {
		free(f);
		return NULL;
	}
	return f;
}

/* Drop the facts @keep says no to (NULL: all). */
static void sweep(struct np_facts *f, bool (*keep)(const struct np_facts *f, const struct fact *x))
{
	for (size_t i = 0; i < f->nb; i++)
		for (struct fact **p = &f->b[i]; *p;) {
			struct fact *x = *p;
			if (keep && keep(f, x)) {
				p = &x->next;
				continue;
			}
			*p = x->next;
			fact_free(x);
			f->n--;
			f->epoch++;
		}
}

void np_facts_free(struct np_facts *f)
{
	if (!f)
		return;
	sweep(f, NULL);
	free(f->b);
	free(f);
}

static bool used_last_pass(const struct np_facts *f, const struct fact *x)
{
	return x->used + 1 >= f->pass;
}

struct np_facts *np_facts_begin(struct np_facts *f, const struct np_collect_ctx *ctx)
{
	if (!f)
		return NULL;
	int64_t now = mono_ms();
	double age = ctx->facts_max_age_s ? ctx->facts_max_age_s : NP_FACTS_MAX_AGE_S; /* < 0: none kept */
	f->pass++;
	if (!f->valid || f->gen != ctx->facts_gen || (double)(now - f->at_ms) >= age * 1000) {
		sweep(f, NULL);
		f->valid = true;
		f->gen = ctx->facts_gen;
		f->at_ms = now;
	} else {
		sweep(f, used_last_pass);
	}
	return f;
}

void np_facts_key(struct np_facts *f, uint64_t key)
{
	if (!f)
		return;
	if (f->has_key && f->key != key)
		sweep(f, NULL);
	f->has_key = true;
	f->key = key;
}

size_t np_facts_count(const struct np_facts *f)
{
	return f ? f->n : 0;
}

uint64_t np_facts_epoch(const struct np_facts *f)
{
	return f ? f->epoch : 0;
}

void np_facts_touch(struct np_facts *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->nb; i++)
		for (struct fact *x = f->b[i]; x; x = x->next)
			x->used = f->pass;
}

/* FNV-1a over the key: @kind, then the @len bytes of @path. */
static size_t hash(char kind, const char *path, size_t len)
{
	uint64_t h = (1469598103934665603ull ^ (unsigned char)kind) * 1099511628211ull;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)path[i]) * 1099511628211ull;
	return (size_t)h;
}

static void grow(struct np_facts *f)
{
	size_t nb = f->nb * 2;
	struct fact **b = calloc(nb, sizeof(*b));
	if (!b)
		return; /* longer chains, still correct */
	for (size_t i = 0; i < f->nb; i++)
		while (f->b[i]) {
			struct fact *x = f->b[i];
			f->b[i] = x->next;
			size_t k = x->hash & (nb - 1);
			x->next = b[k];
			b[k] = x;
		}
	free(f->b);
	f->b = b;
	f->nb = nb;
}

/* The fact of @kind for @path: *@hit says whether it was held; NULL on ENOMEM (then read the host). */
static struct fact *get(struct np_facts *f, enum fact_kind kind, const char *path, bool *hit)
{
	size_t len = strlen(path);
	*hit = false;
	if (len > FACT_PATH_MAX)
		return NULL;
	size_t h = hash((char)kind, path, len);
	size_t k = h & (f->nb - 1);
	for (struct fact *x = f->b[k]; x; x = x->next)
		if (x->hash == h && x->klen == len + 1 && x->key[0] == (char)kind && !memcmp(x->key + 1, path, len)) {
			x->used = f->pass;
			*hit = true;
			return x;
		}
	struct fact *x = calloc(1, sizeof(*x) + len + 2);
	if (!x)
		return NULL;
	x->key[0] = (char)kind;
	memcpy(x->key + 1, path, len + 1);
	x->hash = h;
	x->klen = len + 1;
	x->used = f->pass;
	x->next = f->b[k];
	f->b[k] = x;
	if (++f->n > f->nb)
		grow(f);
	return x;
}

/* Forget @x again (its read ran out of memory: not a fact). */
static void forget(struct np_facts *f, struct fact *x)
{
	size_t k = x->hash & (f->nb - 1);
	for (struct fact **p = &f->b[k]; *p; p = &(*p)->next)
		if (*p == x) {
			*p = x->next;
			fact_free(x);
			f->n--;
			f->epoch++;
			return;
		}
}

/* Where a fact is read: a host path, or a name relative to an opened folder (hostfs.h np_dir). */
struct src {
	const struct np_host *h;
	const struct np_dir *d; /* NULL: by the host path */
	const char *rel;        /* with @d: the name in it (NULL: the folder itself, for F_LIST) */
	char path[FACT_PATH_MAX + 1]; /* the host path: the key */
	size_t max;             /* F_READ */
};

/* (the fields one by one: a compound literal would zero the whole path buffer at each lookup) */
static void src_init(struct src *s, const struct np_host *h, const struct np_dir *d, const char *rel)
{
	s->h = h;
	s->d = d;
	s->rel = rel;
	s->max = 0;
	s->path[0] = '\0';
}

static int src_host(struct src *s, const struct np_host *h, const char *path)
{
	size_t len = strlen(path);
	src_init(s, h, NULL, NULL);
	if (len > FACT_PATH_MAX)
		return -ENAMETOOLONG;
	memcpy(s->path, path, len + 1);
	return 0;
}

static int src_dir(struct src *s, const struct np_dir *d, const char *rel)
{
	src_init(s, d->h, d, rel);
	int n = rel ? snprintf(s->path, sizeof(s->path), "%s/%s", d->path, rel)
		    : snprintf(s->path, sizeof(s->path), "%s", d->path);
	return n < 0 || (size_t)n >= sizeof(s->path) ? -ENAMETOOLONG : 0;
}

/* Read the fact of @kind at @s into @x: its r and its value, as the hostfs reader gives them. */
static void fill(struct fact *x, enum fact_kind kind, const struct src *s)
{
	const struct np_dir *d = s->d;
	switch (kind) {
	case F_ATTR:
		x->r = d ? np_dir_attr(d, s->rel, &x->s) : np_host_attr(s->h, &x->s, "%s", s->path);
		break;
	case F_LINE:
		x->r = d ? np_dir_read_line(d, s->rel, &x->s) : np_host_read_line(s->h, s->path, &x->s);
		break;
	case F_U64:
		x->r = d ? np_dir_read_u64(d, s->rel, &x->u) : np_host_read_u64(s->h, s->path, &x->u);
		break;
	case F_S64:
		x->r = np_host_read_s64(s->h, s->path, (int64_t *)&x->u);
		break;
	case F_LINK:
		x->r = d ? np_dir_readlink(d, s->rel, &x->s) : np_host_readlink(s->h, s->path, &x->s);
		break;
	case F_LIST:
		x->r = d ? np_dir_list(d, s->rel, &x->v, &x->n) : np_host_list(s->h, s->path, &x->v, &x->n);
		break;
	case F_EXISTS:
		x->r = np_host_exists(s->h, s->path);
		break;
	case F_READ:
		x->r = np_host_read(s->h, s->path, s->max, &x->s, &x->n);
		break;
	case F_BLOB: /* np_facts_blob() reads its own */
		x->r = -EINVAL;
		break;
	}
}

/*
 * Whether a read that returned @r is kept until the facts are dropped: a value, or an absence the
 * kernel states (no such file, not a folder). A failed read (-EACCES, -EIO, -EAGAIN, -EISDIR,
 * garbled...) is the cycle's answer only: the next cycle reads again, so a check that was Unknown
 * because of it recovers at the next cycle, not at the bound.
 */
static bool fact_stable(int r)
{
	return r >= 0 || r == -ENOENT || r == -ENOTDIR;
}

/*
 * The fact of @kind at @s: @f's (read now when it did not hold it; the caller copies its values,
 * *@own false), or, without @f or memory for it, read into @tmp (the caller takes its values,
 * *@own true).
 */
static struct fact *fetch(struct np_facts *f, enum fact_kind kind, const struct src *s, struct fact *tmp, bool *own)
{
	bool hit;
	struct fact *x = f ? get(f, kind, s->path, &hit) : NULL;
	*tmp = (struct fact){ 0 };
	if (x && !hit) {
		fill(x, kind, s);
		if (x->r == -ENOMEM) { /* not a fact: read again below */
			forget(f, x);
			x = NULL;
		} else if (!fact_stable(x->r)) { /* this cycle's answer, not kept: read again next cycle */
			*tmp = (struct fact){ .r = x->r, .u = x->u, .s = TAKE_PTR(x->s), .v = TAKE_PTR(x->v), .n = x->n };
			forget(f, x);
			*own = true;
			return tmp;
		}
	}
	*own = !x;
	if (x)
		return x;
	if (f) /* no memory to keep it: an answer that is not kept */
		f->epoch++;
	fill(tmp, kind, s);
	return tmp;
}

/* A string value out of @x: taken when @own, else copied. Returns @x->r, or -ENOMEM. */
static int str_out(struct fact *x, bool own, char **out)
{
	if (own) {
		*out = TAKE_PTR(x->s);
		return x->r;
	}
	return !x->s || (*out = strdup(x->s)) ? x->r : -ENOMEM;
}

/* np_facts_attr(), np_facts_dir_attr(): np_host_attr()'s contract (*@dst freed first). */
static int attr_out(struct np_facts *f, const struct src *s, char **dst)
{
	struct fact tmp, *x;
	bool own;
	free(*dst);
	*dst = NULL;
	x = fetch(f, F_ATTR, s, &tmp, &own);
	return x->r > 0 ? str_out(x, own, dst) : x->r;
}

int np_facts_attr(struct np_facts *f, const struct np_host *h, char **dst, const char *fmt, ...)
{
	char path[FACT_PATH_MAX + 1];
	va_list ap;
	va_start(ap, fmt);
	int len = vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	struct src s;
	if (len < 0 || (size_t)len >= sizeof(path) || src_host(&s, h, path) < 0) {
		free(*dst);
		*dst = NULL;
		return -ENAMETOOLONG;
	}
	return attr_out(f, &s, dst);
}

int np_facts_dir_attr(struct np_facts *f, const struct np_dir *d, const char *rel, char **dst)
{
	struct src s;
	if (src_dir(&s, d, rel) < 0) {
		free(*dst);
		*dst = NULL;
		return -ENAMETOOLONG;
	}
	return attr_out(f, &s, dst);
}

void np_facts_forget(struct np_facts *f, const char *fmt, ...)
{
	char path[FACT_PATH_MAX + 1];
	va_list ap;
	if (!f)
		return;
	va_start(ap, fmt);
	int len = vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	bool hit;
	struct fact *x = len >= 0 && (size_t)len < sizeof(path) ? get(f, F_ATTR, path, &hit) : NULL;
	if (x)
		forget(f, x);
}

int np_facts_blob(struct np_facts *f, const char *key, void *buf, size_t size,
		  int (*read)(void *buf, size_t size, void *ud), void *ud)
{
	bool hit;
	struct fact *x = f ? get(f, F_BLOB, key, &hit) : NULL;
	if (x && hit && x->n == size) {
		memcpy(buf, x->s, size);
		return x->r;
	}
	int r = read(buf, size, ud);
	if (!x) {
		if (f)
			f->epoch++;
		return r;
	}
	if (hit) /* held with another size: replaced */
		f->epoch++;
	free(x->s);
	x->s = r >= 0 ? malloc(size ? size : 1) : NULL;
	if (!x->s) { /* a failed read is this cycle's answer only (see fact_stable()); or no memory */
		forget(f, x);
		return r;
	}
	memcpy(x->s, buf, size);
	x->n = size;
	x->r = r;
	return r;
}

/* A number of @kind at @s. */
static int num_out(struct np_facts *f, enum fact_kind kind, const struct src *s, uint64_t *out)
{
	struct fact tmp, *x;
	bool own;
	x = fetch(f, kind, s, &tmp, &own);
	if (x->r >= 0)
		*out = x->u;
	return x->r;
}

int np_facts_read_u64(struct np_facts *f, const struct np_host *h, const char *path, uint64_t *out)
{
	struct src s;
	return src_host(&s, h, path) < 0 ? -ENAMETOOLONG : num_out(f, F_U64, &s, out);
}

int np_facts_dir_read_u64(struct np_facts *f, const struct np_dir *d, const char *rel, uint64_t *out)
{
	struct src s;
	return src_dir(&s, d, rel) < 0 ? -ENAMETOOLONG : num_out(f, F_U64, &s, out);
}

int np_facts_read_s64(struct np_facts *f, const struct np_host *h, const char *path, int64_t *out)
{
	struct src s;
	return src_host(&s, h, path) < 0 ? -ENAMETOOLONG : num_out(f, F_S64, &s, (uint64_t *)out);
}

bool np_facts_exists(struct np_facts *f, const struct np_host *h, const char *path)
{
	struct src s;
	uint64_t unused;
	if (src_host(&s, h, path) < 0)
		return np_host_exists(h, path);
	return num_out(f, F_EXISTS, &s, &unused) > 0;
}

/* A string of @kind at @s (F_LINE, F_LINK), or -errno. */
static int read_str(struct np_facts *f, enum fact_kind kind, const struct src *s, char **out)
{
	struct fact tmp, *x;
	bool own;
	x = fetch(f, kind, s, &tmp, &own);
	return x->r < 0 ? x->r : str_out(x, own, out);
}

int np_facts_readlink(struct np_facts *f, const struct np_host *h, const char *path, char **out)
{
	struct src s;
	return src_host(&s, h, path) < 0 ? -ENAMETOOLONG : read_str(f, F_LINK, &s, out);
}

int np_facts_dir_readlink(struct np_facts *f, const struct np_dir *d, const char *name, char **out)
{
	struct src s;
	return src_dir(&s, d, name) < 0 ? -ENAMETOOLONG : read_str(f, F_LINK, &s, out);
}

int np_facts_read_line(struct np_facts *f, const struct np_host *h, const char *path, char **out)
{
	struct src s;
	return src_host(&s, h, path) < 0 ? -ENAMETOOLONG : read_str(f, F_LINE, &s, out);
}

int np_facts_read(struct np_facts *f, const struct np_host *h, const char *path, size_t max, char **own,
		  const char **out, size_t *len)
{
	struct src s;
	struct fact tmp, *x;
	bool mine;
	*own = NULL;
	if (src_host(&s, h, path) < 0)
		return -ENAMETOOLONG;
	s.max = max;
	x = fetch(f, F_READ, &s, &tmp, &mine);
	if (x->r < 0)
		return x->r;
	*out = mine ? (*own = TAKE_PTR(x->s)) : x->s;
	if (len)
		*len = x->n;
	return x->r;
}

int np_facts_link_basename(struct np_facts *f, const struct np_host *h, const char *path, char **out)
{
	_cleanup_free_ char *target = NULL;
	int r = np_facts_readlink(f, h, path, &target);
	if (r < 0)
		return r;
	const char *b = strrchr(target, '/');
	return (*out = strdup(b ? b + 1 : target)) ? 0 : -ENOMEM;
}

/* A listing of @s (F_LIST): a copy of the names, or the vector itself when @own. */
static int list_out(struct np_facts *f, const struct src *s, char ***out, size_t *n)
{
	struct fact tmp, *x;
	bool own;
	x = fetch(f, F_LIST, s, &tmp, &own);
	if (x->r < 0)
		return x->r;
	if (own) {
		*out = TAKE_PTR(x->v);
	} else {
		char **v = calloc(x->n + 1, sizeof(*v));
		if (!v)
			return -ENOMEM;
		for (size_t i = 0; i < x->n; i++)
			if (!(v[i] = strdup(x->v[i]))) {
				np_strv_free(v);
				return -ENOMEM;
			}
		*out = v;
	}
	if (n)
		*n = x->n;
	return x->r;
}

int np_facts_list(struct np_facts *f, const struct np_host *h, const char *dir, char ***out, size_t *n)
{
	struct src s;
	return src_host(&s, h, dir) < 0 ? -ENAMETOOLONG : list_out(f, &s, out, n);
}

int np_facts_dir_list(struct np_facts *f, const struct np_dir *d, const char *rel, char ***out, size_t *n)
{
	struct src s;
	return src_dir(&s, d, rel) < 0 ? -ENAMETOOLONG : list_out(f, &s, out, n);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether held listing @x names @name: by bisection of its sorted index (built now, once per fact). */
static bool list_has(struct fact *x, const char *name)
{
	if (!x->sorted && x->n && (x->sorted = malloc(x->n * sizeof(*x->sorted)))) {
		memcpy(x->sorted, x->v, x->n * sizeof(*x->sorted));
		qsort(x->sorted, x->n, sizeof(*x->sorted), cmp_name);
	}
	if (!x->sorted) /* empty, or no memory for the index */
		return np_strv_contains(x->v, name);
	return bsearch(&name, x->sorted, x->n, sizeof(*x->sorted), cmp_name) != NULL;
}

const struct np_facts_names *np_facts_names(struct np_facts *f, const struct np_host *h, const char *dir)
{
	struct src s;
	struct fact tmp, *x;
	bool own;
	if (!f || src_host(&s, h, dir) < 0)
		return NULL;
	x = fetch(f, F_LIST, &s, &tmp, &own);
	if (own) { /* not kept: no listing to go by */
		np_strv_free(x->v);
		return NULL;
	}
	return x->r < 0 ? NULL : (const struct np_facts_names *)x;
}

bool np_facts_names_has(const struct np_facts_names *l, const char *name)
{
	return !l || list_has((struct fact *)l, name);
}

bool np_facts_may_exist(struct np_facts *f, const struct np_host *h, const char *dir, const char *name)
{
	return np_facts_names_has(np_facts_names(f, h, dir), name);
}

void *np_facts_state_new(const struct np_collect_ctx *ctx)
{
	(void)ctx;
	return np_facts_new();
}

void np_facts_state_reload(void *state, const struct np_collect_ctx *ctx)
{
	(void)state;
	(void)ctx;
}

void np_facts_state_free(void *state)
{
	np_facts_free(state);
}
