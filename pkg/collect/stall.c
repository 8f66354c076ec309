// SPDX-License-Identifier: Apache-2.0
/*
 * stall.c - I/O stall detector over successive /proc/diskstats samples
 * (Documentation/admin-guide/iostats.rst fields 1, 4, 5, 8, 9, 12, 15, 16, 17).
 * Pure: no I/O, no clock; see stall.h for the rules.
 */
#define _GNU_SOURCE
#include "stall.h"
#include "../shared/macro.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct win_pt {
	int64_t t;
	uint64_t ticks; /* accumulated read+write+discard+flush ms */
	uint64_t compl; /* accumulated completions */
};

struct dev_state {
	char name[NP_DS_NAME_MAX + 1];
	unsigned major, minor;
	bool seen;
	struct np_ds_counters last;
	int64_t progress_ms;          /* since when nothing completed with I/O in flight (stall.h) */
	bool idle;                    /* the queue was empty at the last sample */
	uint64_t acc_ticks, acc_compl;
	struct win_pt *win;           /* await window (only when await_ms > 0) */
	size_t wn, wcap;
	struct np_stall_event ev[2];  /* indexed by enum np_stall_reason */
	bool active[2];
};

struct np_stall_detector {
	struct np_stall_cfg cfg;
	struct dev_state *dev;
	size_t n, cap;
	struct np_stall_event *ended; /* ring of the last NP_STALL_HISTORY_MAX ended stalls */
	size_t n_ended, ended_cap;
	struct np_stall_event *view;  /* ended + ongoing, rebuilt after each feed */
	size_t n_view;
	int64_t last_ms;
	bool has_last;
	unsigned began;               /* stalls that began at the last feed */
};

static const enum np_ds_field time_fields[] = { NP_DS_READ_MS, NP_DS_WRITE_MS, NP_DS_DISCARD_MS, NP_DS_FLUSH_MS };
static const enum np_ds_field done_fields[] = { NP_DS_READS, NP_DS_WRITES, NP_DS_DISCARDS, NP_DS_FLUSHES };

void np_stall_set_cfg(struct np_stall_detector *d, const struct np_stall_cfg *cfg)
{
	d->cfg = cfg ? *cfg : (struct np_stall_cfg){ 0 };
	if (d->cfg.stall_ms <= 0)
		d->cfg.stall_ms = NP_STALL_DEFAULT_MS;
	if (d->cfg.await_window_ms <= 0)
		d->cfg.await_window_ms = NP_STALL_DEFAULT_WINDOW_MS;
	if (!(d->cfg.await_ms > 0))
		d->cfg.await_ms = 0;
}

struct np_stall_detector *np_stall_new(const struct np_stall_cfg *cfg)
{
	struct np_stall_detector *d = calloc(1, sizeof(*d));
	if (d)
		np_stall_set_cfg(d, cfg);
	return d;
}

void np_stall_free(struct np_stall_detector *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		free(d->dev[i].win);
	free(d->dev);
	free(d->ended);
	free(d->view);
	free(d);
}

static int archive(struct np_stall_detector *d, const struct np_stall_event *ev)
{
	if (d->n_ended == NP_STALL_HISTORY_MAX) {
		memmove(d->ended, d->ended + 1, (d->n_ended - 1) * sizeof(*ev));
		d->n_ended--;
	}
	if (d->n_ended == d->ended_cap) {
		size_t nc = d->ended_cap ? d->ended_cap * 2 : 16;
		struct np_stall_event *p = reallocarray(d->ended, nc, sizeof(*p));
		if (!p)
			return -ENOMEM;
		d->ended = p;
		d->ended_cap = nc;
	}
	d->ended[d->n_ended++] = *ev;
	return 0;
}

static int end_stall(struct np_stall_detector *d, struct dev_state *st, enum np_stall_reason r, int64_t now)
{
	if (!st->active[r])
		return 0;
	struct np_stall_event *ev = &st->ev[r];
	ev->end_ms = now;
	ev->duration_ms = now - ev->start_ms;
	ev->ongoing = false;
	st->active[r] = false;
	return archive(d, ev);
}

static void begin_stall(struct np_stall_detector *d, struct dev_state *st, enum np_stall_reason r, int64_t start)
{
	d->began++;
	st->active[r] = true;
	st->ev[r] = (struct np_stall_event){ .major = st->major, .minor = st->minor, .reason = r,
					     .start_ms = start, .end_ms = -1, .ongoing = true };
	memcpy(st->ev[r].device, st->name, sizeof(st->ev[r].device) - 1);
}

static struct dev_state *find_dev(struct np_stall_detector *d, const struct np_diskstat *s, size_t hint)
{
	if (hint < d->n && d->dev[hint].major == s->major && d->dev[hint].minor == s->minor &&
	    streq(d->dev[hint].name, s->name))
		return &d->dev[hint];
	for (size_t i = 0; i < d->n; i++)
		if (d->dev[i].major == s->major && d->dev[i].minor == s->minor && streq(d->dev[i].name, s->name))
			return &d->dev[i];
	return NULL;
}

static struct dev_state *add_dev(struct np_stall_detector *d, const struct np_diskstat *s)
{
	if (d->n == d->cap) {
		size_t nc = d->cap ? d->cap * 2 : 16;
		struct dev_state *p = reallocarray(d->dev, nc, sizeof(*p));
		if (!p)
			return NULL;
		d->dev = p;
		d->cap = nc;
	}
	struct dev_state *st = &d->dev[d->n++];
	*st = (struct dev_state){ .major = s->major, .minor = s->minor };
	memcpy(st->name, s->name, sizeof(st->name));
	return st;
}

/* Accumulate the time and completion deltas; -ERANGE when a counter was reset. */
static int accumulate(struct dev_state *st, const struct np_ds_counters *c, uint64_t *dcompl)
{
	uint64_t dt = 0, dc = 0, x;
	for (size_t i = 0; i < ARRAY_SIZE(done_fields); i++) {
		int r = np_ds_delta(&st->last, c, done_fields[i], &x);
		if (r == -ERANGE)
			return r;
		dc += r == 0 ? x : 0;
		r = np_ds_delta(&st->last, c, time_fields[i], &x);
		if (r == -ERANGE)
			return r;
		dt += r == 0 ? x : 0;
	}
	st->acc_ticks += dt;
	st->acc_compl += dc;
	*dcompl = dc;
	return 0;
}

/* Add the current point to the await window, drop points no longer needed; returns -ENOMEM. */
static int window_push(struct dev_state *st, int64_t now, int64_t window)
{
	/* keep one point at or before now - window (the reference), drop older ones */
	size_t drop = 0;
	while (drop + 1 < st->wn && st->win[drop + 1].t <= now - window)
		drop++;
	if (drop) {
		memmove(st->win, st->win + drop, (st->wn - drop) * sizeof(*st->win));
		st->wn -= drop;
	}
	if (st->wn == st->wcap) {
		size_t nc = st->wcap ? st->wcap * 2 : 8;
		if (nc > 4096) { /* bounded: thin out by dropping the oldest */
			memmove(st->win, st->win + 1, (st->wn - 1) * sizeof(*st->win));
			st->wn--;
		} else {
			struct win_pt *p = reallocarray(st->win, nc, sizeof(*p));
			if (!p)
				return -ENOMEM;
			st->win = p;
			st->wcap = nc;
		}
	}
	st->win[st->wn++] = (struct win_pt){ now, st->acc_ticks, st->acc_compl };
	return 0;
}

static int check_await(struct np_stall_detector *d, struct dev_state *st, uint64_t in_flight, int64_t now)
{
	int r = window_push(st, now, d->cfg.await_window_ms);
	if (r < 0)
		return r;
	const struct win_pt *ref = &st->win[0], *cur = &st->win[st->wn - 1];
	uint64_t dc = cur->compl - ref->compl;
	double aw = dc ? (double)(cur->ticks - ref->ticks) / (double)dc : 0.0;
	if (dc && aw > d->cfg.await_ms) {
		if (!st->active[NP_STALL_AWAIT])
			begin_stall(d, st, NP_STALL_AWAIT, ref->t);
		struct np_stall_event *ev = &st->ev[NP_STALL_AWAIT];
		ev->await_ms = aw;
		ev->in_flight = in_flight;
		ev->duration_ms = now - ev->start_ms;
		return 0;
	}
	return end_stall(d, st, NP_STALL_AWAIT, now);
}

static int end_all(struct np_stall_detector *d, struct dev_state *st, int64_t now)
{
	int r = end_stall(d, st, NP_STALL_NO_COMPLETION, now);
	return r < 0 ? r : end_stall(d, st, NP_STALL_AWAIT, now);
}

static int feed_one(struct np_stall_detector *d, struct dev_state *st, const struct np_diskstat *s, bool fresh,
		    int64_t now)
{
	const struct np_ds_counters *c = &s->c;
	uint64_t in_flight = c->v[NP_DS_IN_FLIGHT], dcompl = 0;
	int r = fresh ? -ERANGE : accumulate(st, c, &dcompl);
	st->last = *c;
	if (r == -ERANGE) { /* first sample, or counters reset: start over */
		st->progress_ms = now;
		st->idle = in_flight == 0;
		st->wn = 0;
		r = end_all(d, st, now);
		if (r >= 0 && d->cfg.await_ms > 0)
			r = window_push(st, now, d->cfg.await_window_ms);
		return r;
	}
	if (dcompl > 0 || in_flight == 0) {
		st->progress_ms = now;
		st->idle = in_flight == 0;
		r = end_stall(d, st, NP_STALL_NO_COMPLETION, now);
	} else if (st->idle) { /* submitted after the empty queue: in flight from here, as far as we know */
		st->progress_ms = now;
		st->idle = false;
	} else if (now - st->progress_ms >= d->cfg.stall_ms) {
		if (!st->active[NP_STALL_NO_COMPLETION])
			begin_stall(d, st, NP_STALL_NO_COMPLETION, st->progress_ms);
		struct np_stall_event *ev = &st->ev[NP_STALL_NO_COMPLETION];
		ev->in_flight = in_flight;
		ev->duration_ms = now - ev->start_ms;
	}
	if (r >= 0 && d->cfg.await_ms > 0)
		r = check_await(d, st, in_flight, now);
	return r;
}

/* Devices absent from this sample: end their stalls and forget them. */
static int sweep(struct np_stall_detector *d, int64_t now)
{
	size_t w = 0;
	for (size_t i = 0; i < d->n; i++) {
		if (d->dev[i].seen) {
			d->dev[w++] = d->dev[i];
			continue;
		}
		int r = end_all(d, &d->dev[i], now);
		free(d->dev[i].win);
		if (r < 0)
			return r;
	}
	d->n = w;
	return 0;
}

static int rebuild_view(struct np_stall_detector *d)
{
	size_t n = d->n_ended;
	for (size_t i = 0; i < d->n; i++)
		n += d->dev[i].active[0] + d->dev[i].active[1];
	struct np_stall_event *v = n ? reallocarray(d->view, n, sizeof(*v)) : d->view;
	if (n && !v)
		return -ENOMEM;
	d->view = v;
	if (d->n_ended)
		memcpy(v, d->ended, d->n_ended * sizeof(*v));
	size_t k = d->n_ended;
	for (size_t i = 0; i < d->n; i++)
		for (int r = 0; r < 2; r++)
			if (d->dev[i].active[r])
				v[k++] = d->dev[i].ev[r];
	d->n_view = k;
	return 0;
}

int np_stall_feed(struct np_stall_detector *d, const struct np_diskstats *s, int64_t now_ms)
{
	if (d->has_last && now_ms < d->last_ms)
		return -EINVAL;
	d->has_last = true;
	d->last_ms = now_ms;
	d->began = 0;
	for (size_t i = 0; i < d->n; i++)
		d->dev[i].seen = false;
	for (size_t i = 0; i < s->n; i++) {
		const struct np_diskstat *ds = &s->dev[i];
		if (!np_ds_has(&ds->c, NP_DS_IN_FLIGHT))
			continue;
		struct dev_state *st = find_dev(d, ds, i);
		bool fresh = !st;
		if (fresh && !(st = add_dev(d, ds)))
			return -ENOMEM;
		if (st->seen)
			continue; /* duplicate line: the first one counts */
		st->seen = true;
		int r = feed_one(d, st, ds, fresh, now_ms);
		if (r < 0)
			return r;
	}
	int r = sweep(d, now_ms);
	return r < 0 ? r : rebuild_view(d);
}

size_t np_stall_events(const struct np_stall_detector *d, const struct np_stall_event **ev)
{
	*ev = d->view;
	return d->n_view;
}


unsigned np_stall_began(const struct np_stall_detector *d)
{
	return d->began;
}

int64_t np_stall_next_ms(const struct np_stall_detector *d, int64_t cadence_ms)
{
	if (!d->has_last)
		return INT64_MAX;
	int64_t next = cadence_ms > 0 ? d->last_ms + cadence_ms : INT64_MAX;
	for (size_t i = 0; i < d->n; i++) {
		const struct dev_state *st = &d->dev[i];
		int64_t due = st->progress_ms + d->cfg.stall_ms;
		if (st->last.v[NP_DS_IN_FLIGHT] && !st->active[NP_STALL_NO_COMPLETION] && due < next)
			next = due;
	}
	return next;
}
