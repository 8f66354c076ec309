// SPDX-License-Identifier: Apache-2.0
/* pool.c - see pool.h. POSIX threads, one mutex and one condition for everything. */
#define _GNU_SOURCE
#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>

struct task {
	void (*fn)(void *arg);
	void *arg;
	struct task *next;
};

/* A running np_pool_for(): its bodies are taken one index at a time. */
struct loop {
	size_t n, next;   /* next: atomic, the next index to take (may pass n) */
	void (*fn)(void *arg, size_t i);
	void *arg;
	unsigned helpers; /* lanes other than the owner inside it (under the mutex) */
	struct loop *link;
};

struct np_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct task *head, *tail; /* submitted, not yet taken */
	unsigned pending;         /* submitted, not yet finished */
	struct loop *loops;       /* running loops that other lanes may help */
	bool stop;
	unsigned n;
	pthread_t th[];
};

/* Take bodies of @l until none is left. */
static void loop_run(struct loop *l)
{
	for (size_t i; (i = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED)) < l->n;)
		l->fn(l->arg, i);
}

/* A loop with bodies left, or NULL. Called with the mutex held. */
static struct loop *open_loop(struct np_pool *p)
{
	for (struct loop *l = p->loops; l; l = l->link)
		if (__atomic_load_n(&l->next, __ATOMIC_RELAXED) < l->n)
			return l;
	return NULL;
}

/*
 * One step of a lane, the mutex held: run a submitted task or help a loop (the mutex released
 * meanwhile). Returns false when there was nothing to do.
 */
static bool step(struct np_pool *p)
{
	struct task *t = p->head;
	if (t) {
		p->head = t->next;
		if (!p->head)
			p->tail = NULL;
		pthread_mutex_unlock(&p->mu);
		t->fn(t->arg);
		free(t);
		pthread_mutex_lock(&p->mu);
		if (--p->pending == 0)
			pthread_cond_broadcast(&p->cv);
		return true;
	}
	struct loop *l = open_loop(p);
	if (!l)
		return false;
	l->helpers++;
	pthread_mutex_unlock(&p->mu);
	loop_run(l);
	pthread_mutex_lock(&p->mu);
	if (--l->helpers == 0)
		pthread_cond_broadcast(&p->cv);
	return true;
}

static void *worker(void *arg)
{
	struct np_pool *p = arg;
	pthread_mutex_lock(&p->mu);
	while (!p->stop)
		if (!step(p))
			pthread_cond_wait(&p->cv, &p->mu);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

struct np_pool *np_pool_new(unsigned workers)
{
	if (!workers)
		return NULL;
	struct np_pool *p = calloc(1, sizeof(*p) + workers * sizeof(pthread_t));
	if (!p)
		return NULL;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	for (; p->n < workers; p->n++)
		if (pthread_create(&p->th[p->n], NULL, worker, p) != 0)
			break;
	if (!p->n) {
		np_pool_free(p);
		return NULL;
	}
	return p;
}

void np_pool_free(struct np_pool *p)
{
	if (!p)
		return;
	np_pool_wait(p);
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; i < p->n; i++)
		pthread_join(p->th[i], NULL);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

int np_pool_submit(struct np_pool *p, void (*fn)(void *arg), void *arg)
{
	struct task *t = p ? malloc(sizeof(*t)) : NULL;
	if (!t) {
		fn(arg);
		return p ? -ENOMEM : 0;
	}
	*t = (struct task){ .fn = fn, .arg = arg };
	pthread_mutex_lock(&p->mu);
	if (p->tail)
		p->tail->next = t;
	else
		p->head = t;
	p->tail = t;
	p->pending++;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return 0;
}

void np_pool_wait(struct np_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	while (p->pending)
		if (!step(p))
			pthread_cond_wait(&p->cv, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

void np_pool_for(struct np_pool *p, size_t n, void (*fn)(void *arg, size_t i), void *arg)
{
	struct loop l = { .n = n, .fn = fn, .arg = arg };
	if (!p) {
		loop_run(&l);
		return;
	}
	pthread_mutex_lock(&p->mu);
	l.link = p->loops;
	p->loops = &l;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	loop_run(&l);
	pthread_mutex_lock(&p->mu);
	for (struct loop **pp = &p->loops; *pp; pp = &(*pp)->link) /* no lane joins it from here */
		if (*pp == &l) {
			*pp = l.link;
			break;
		}
	while (l.helpers) /* the last bodies others took */
		pthread_cond_wait(&p->cv, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

unsigned np_pool_lanes(unsigned max)
{
	cpu_set_t set;
	int n = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;
	if (n < 1)
		n = 1;
	return (unsigned)n < max ? (unsigned)n : max;
}
