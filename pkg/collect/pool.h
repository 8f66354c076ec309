/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pool.h - the worker threads of one collection pass (np_collect_all() with
 * ctx->threads > 1: the one-shot commands). The calling thread is a lane too:
 * it runs what it submits when no worker has taken it yet, and helps the
 * parallel loops of the others while it waits, so a pass on 2 CPUs is never
 * slower than one thread by more than the threads' start.
 *
 * Everything the pool runs must be safe beside whatever else runs: sections
 * marked NP_SECTION_CONCURRENT() (section.h) and the loop bodies given to
 * np_pool_for() by them.
 */
#pragma once

#include <stddef.h>

struct np_pool;

/*
 * np_pool_new() - start @workers threads. Returns the pool, or NULL when
 * @workers is 0 or the threads cannot start: a NULL pool runs everything on
 * the calling thread, in order (np_pool_submit() at once, np_pool_for() as a
 * plain loop), so callers need no second path.
 */
struct np_pool *np_pool_new(unsigned workers);

/* np_pool_free() - wait for what was submitted (np_pool_wait()), stop and join the workers. */
void np_pool_free(struct np_pool *p);

/*
 * np_pool_submit() - run @fn(@arg) on a worker, or on the thread that calls
 * np_pool_wait() first if none is free. With a NULL pool, runs it now.
 * Returns 0, or -ENOMEM (then it ran now, on this thread).
 */
int np_pool_submit(struct np_pool *p, void (*fn)(void *arg), void *arg);

/* np_pool_wait() - run or help what was submitted until all of it has finished. */
void np_pool_wait(struct np_pool *p);

/*
 * np_pool_for() - @fn(@arg, i) for every i in [0, @n), on this thread and on
 * every lane of @p that is idle (a parallel loop: the bodies must be
 * independent). Returns when all have run. A NULL pool runs them in order.
 */
void np_pool_for(struct np_pool *p, size_t n, void (*fn)(void *arg, size_t i), void *arg);

/*
 * np_pool_lanes() - how many threads a pass should use: the CPUs this process
 * may run on (sched_getaffinity(2)), at most @max, at least 1.
 */
unsigned np_pool_lanes(unsigned max);
