// SPDX-License-Identifier: Apache-2.0
#define _GNU_SOURCE
#include "collector.h"
#include "interrupts.h"
#include "pool.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

struct np_section_states {
	size_t n;
	void **state; /* indexed like np_sections() */
};

struct np_section_states *np_section_states_new(const struct np_collect_ctx *ctx)
{
	size_t n;
	const struct np_section *const *cs = np_sections(&n);
	struct np_section_states *s = cs ? calloc(1, sizeof(*s)) : NULL;
	if (!s)
		return NULL;
	s->n = n;
	s->state = calloc(n ? n : 1, sizeof(*s->state));
	if (!s->state) {
		free(s);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		if (cs[i]->state_new && !(s->state[i] = cs[i]->state_new(ctx))) {
			np_section_states_free(s);
			return NULL;
		}
	return s;
}

void np_section_states_reload(struct np_section_states *s, const struct np_collect_ctx *ctx)
{
	const struct np_section *const *cs = s ? np_sections(NULL) : NULL;
	for (size_t i = 0; cs && i < s->n; i++)
		if (s->state[i] && cs[i]->state_reload)
			cs[i]->state_reload(s->state[i], ctx);
}

void np_section_states_free(struct np_section_states *s)
{
	const struct np_section *const *cs = s ? np_sections(NULL) : NULL;
	for (size_t i = 0; cs && i < s->n; i++)
		if (s->state[i])
			cs[i]->state_free(s->state[i]);
	if (s)
		free(s->state);
	free(s);
}

void *np_section_state(struct np_section_states *s, const char *name)
{
	const struct np_section *const *cs = s ? np_sections(NULL) : NULL;
	for (size_t i = 0; cs && i < s->n; i++)
		if (streq(cs[i]->name, name))
			return s->state[i];
	return NULL;
}

void *np_collect_state(const struct np_collect_ctx *ctx, const char *name)
{
	return np_section_state(ctx->states, name);
}

struct np_collect_pass {
	pthread_mutex_t mu; /* the reads below, for sections on worker threads */
	struct np_pool *pool; /* NULL: one thread */
	bool irq_read;
	int irq_r;
	struct np_irq_table irq;
	struct pass_file {
		const char *path; /* the caller's: a string literal */
		int r;
		char *buf;
		size_t len;
	} files[4];
	size_t n_files;
	struct pass_list {
		const char *path; /* the caller's: a string literal */
		int r;
		char **names;
		size_t n;
	} lists[2];
	size_t n_lists;
	const struct np_mounts *mounts; /* np_collect_put_mounts(): the mounts section's report member */
	int mounts_r;
};

static void pass_free(struct np_collect_pass *p)
{
	np_pool_free(p->pool); /* waits for what runs there */
	np_irq_table_free(&p->irq);
	for (size_t i = 0; i < p->n_files; i++)
		free(p->files[i].buf);
	for (size_t i = 0; i < p->n_lists; i++)
		np_strv_free(p->lists[i].names);
	pthread_mutex_destroy(&p->mu);
	*p = (struct np_collect_pass){ 0 };
}

static void pass_unlock(struct np_collect_pass **p)
{
	if (*p)
		pthread_mutex_unlock(&(*p)->mu);
}

/* The pass of @ctx locked until the variable goes out of scope, or NULL outside a pass. */
static struct np_collect_pass *pass_lock(const struct np_collect_ctx *ctx)
{
	if (ctx->pass)
		pthread_mutex_lock(&ctx->pass->mu);
	return ctx->pass;
}

void np_collect_for(const struct np_collect_ctx *ctx, size_t n, void (*fn)(void *arg, size_t i), void *arg)
{
	np_pool_for(ctx->pass ? ctx->pass->pool : NULL, n, fn, arg);
}

int np_collect_read(const struct np_collect_ctx *ctx, const char *path, size_t max, char **own, const char **buf,
		    size_t *len)
{
	_cleanup_(pass_unlock) struct np_collect_pass *p = pass_lock(ctx);
	*own = NULL;
	for (size_t i = 0; p && i < p->n_files; i++)
		if (streq(p->files[i].path, path)) {
			*buf = p->files[i].buf;
			*len = p->files[i].len;
			return p->files[i].r;
		}
	if (!p || p->n_files == ARRAY_SIZE(p->files)) {
		int r = np_host_read(ctx->host, path, max, own, len);
		*buf = *own;
		return r;
	}
	struct pass_file *f = &p->files[p->n_files++];
	*f = (struct pass_file){ .path = path, .len = 0 };
	f->r = np_host_read(ctx->host, path, max, &f->buf, &f->len);
	*buf = f->buf;
	*len = f->len;
	return f->r;
}

void np_collect_put_mounts(const struct np_collect_ctx *ctx, const struct np_mounts *m, int r)
{
	_cleanup_(pass_unlock) struct np_collect_pass *p = pass_lock(ctx);
	if (p) {
		p->mounts = m;
		p->mounts_r = r;
	}
}

const struct np_mounts *np_collect_get_mounts(const struct np_collect_ctx *ctx, int *r)
{
	_cleanup_(pass_unlock) struct np_collect_pass *p = pass_lock(ctx);
	if (!p || !p->mounts)
		return NULL;
	*r = p->mounts_r;
	return p->mounts;
}

int np_collect_list(const struct np_collect_ctx *ctx, const char *path, char ***own, char *const **names, size_t *n)
{
	_cleanup_(pass_unlock) struct np_collect_pass *p = pass_lock(ctx);
	*own = NULL;
	for (size_t i = 0; p && i < p->n_lists; i++)
		if (streq(p->lists[i].path, path)) {
			*names = p->lists[i].names;
			*n = p->lists[i].n;
			return p->lists[i].r;
		}
	if (!p || p->n_lists == ARRAY_SIZE(p->lists)) {
		int r = np_host_list(ctx->host, path, own, n);
		*names = *own;
		return r;
	}
	struct pass_list *l = &p->lists[p->n_lists++];
	*l = (struct pass_list){ .path = path };
	l->r = np_host_list(ctx->host, path, &l->names, &l->n);
	*names = l->names;
	*n = l->n;
	return l->r;
}

int np_collect_interrupts(const struct np_collect_ctx *ctx, struct np_irq_table *own,
			  const struct np_irq_table **t)
{
	*own = (struct np_irq_table){ 0 };
	if (!ctx->pass) {
		*t = own;
		return np_read_interrupts(ctx->host, own);
	}
	_cleanup_(pass_unlock) struct np_collect_pass *p = pass_lock(ctx);
	if (!p->irq_read) {
		p->irq_r = np_read_interrupts(ctx->host, &p->irq);
		p->irq_read = true;
	}
	*t = &p->irq;
	return p->irq_r;
}

static int64_t now_us(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void run_one(const struct np_section *c, int (*fn)(const struct np_collect_ctx *, struct np_report *),
		    const struct np_collect_ctx *ctx, struct np_report *r)
{
	int rc = fn(ctx, r);
	if (rc < 0) {
		struct np_status *st = (struct np_status *)((char *)r + c->status_offset);
		np_status_set(st, rc, "%s: %s", c->name, np_errno_reason(rc));
	}
}

/* Some concurrent section of the pass has enough items for threads to pay (ctx->threads_min_items). */
static bool worth_threads(const struct np_section *const *cs, size_t n, char *const *only,
			  const struct np_collect_ctx *ctx)
{
	size_t least = ctx->threads_min_items ? ctx->threads_min_items : NP_THREADS_MIN_ITEMS;
	for (size_t i = 0; i < n; i++)
		if (cs[i]->concurrent && (!only || np_strv_contains(only, cs[i]->name)) &&
		    cs[i]->concurrent->items(ctx) >= least)
			return true;
	return false;
}

/* A section's first sample on a worker (np_pool_submit()). */
struct section_job {
	const struct np_section *c;
	const struct np_collect_ctx *ctx;
	struct np_report *r;
};

static void run_job(void *arg)
{
	const struct section_job *j = arg;
	run_one(j->c, j->c->collect, j->ctx, j->r);
}

int np_collect_all(const struct np_collect_ctx *ctx, char *const *only, struct np_report *r)
{
	size_t n;
	const struct np_section *const *cs = np_sections(&n);
	if (!cs)
		return -ENOMEM;
	int64_t t0 = now_us(CLOCK_MONOTONIC);
	r->collected_at_ms = now_us(CLOCK_REALTIME) / 1000;
	free(r->host_root);
	r->host_root = strdup(ctx->host->root);
	if (!r->host_root)
		return -ENOMEM;
	np_strv_free(r->only);
	r->only = NULL;
	for (size_t i = 0, k = 0; only && i < n; i++) /* the sections read, in collection order */
		if (np_strv_contains(only, cs[i]->name) && np_strv_push(&r->only, &k, cs[i]->name) < 0)
			return -ENOMEM;
	if (only && !r->only && !(r->only = calloc(1, sizeof(char *)))) /* none read: empty, not NULL */
		return -ENOMEM;
	struct np_collect_pass pass = { 0 };
	pthread_mutex_init(&pass.mu, NULL);
	struct np_collect_ctx pctx = *ctx;
	pctx.pass = &pass;
	/* a one-shot pass: the concurrent sections on workers, the others here in order, then this
	 * thread helps; each section writes only its member, so the report is the one of one thread */
	_cleanup_free_ struct section_job *jobs = NULL;
	if (ctx->threads > 1 && !ctx->states && !ctx->between && !ctx->host->kept && worth_threads(cs, n, only, ctx) &&
	    (jobs = calloc(n, sizeof(*jobs))))
		pass.pool = np_pool_new(ctx->threads - 1);
	for (size_t i = 0; pass.pool && i < n; i++)
		if (cs[i]->concurrent && (!only || np_strv_contains(only, cs[i]->name))) {
			jobs[i] = (struct section_job){ .c = cs[i], .ctx = &pctx, .r = r };
			np_pool_submit(pass.pool, run_job, &jobs[i]);
		}
	for (size_t i = 0; i < n; i++)
		if ((!pass.pool || !cs[i]->concurrent) && (!only || np_strv_contains(only, cs[i]->name))) {
			run_one(cs[i], cs[i]->collect, &pctx, r);
			if (ctx->between)
				ctx->between(ctx->between_ud);
		}
	pass_free(&pass); /* waits for the workers; the second sample below is a new read */
	if (ctx->interval_s > 0) {
		struct timespec ts = { .tv_sec = (time_t)ctx->interval_s,
				       .tv_nsec = (long)((ctx->interval_s - (time_t)ctx->interval_s) * 1e9) };
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		for (size_t i = 0; i < n; i++)
			if (cs[i]->resample && (!only || np_strv_contains(only, cs[i]->name)))
				run_one(cs[i], cs[i]->resample, ctx, r);
	}
	r->duration_us = now_us(CLOCK_MONOTONIC) - t0;
	return np_report_fingerprint(r);
}
