// SPDX-License-Identifier: Apache-2.0
/*
 * diskstats.c - /proc/diskstats (Documentation/admin-guide/iostats.rst,
 * block/genhd.c diskstats_show()) and the iostat -x arithmetic of sysstat.
 */
#define _GNU_SOURCE
#include "diskstats.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Columns beyond the name that we look at: 17 counters (extra ones are ignored). */
#define MAX_TOKENS (4 + NP_DS_NFIELDS)

struct tok {
	const char *p;
	size_t n;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Split @line into at most MAX_TOKENS tokens; returns the total count (may exceed MAX_TOKENS). */
static size_t tokenize(const char *line, size_t len, struct tok *t)
{
	size_t n = 0, i = 0;
	while (i < len) {
		while (i < len && is_blank(line[i]))
			i++;
		if (i >= len)
			break;
		size_t s = i;
		while (i < len && !is_blank(line[i]))
			i++;
		if (n < MAX_TOKENS)
			t[n] = (struct tok){ line + s, i - s };
		n++;
	}
	return n;
}

static bool tok_is_number(const struct tok *t)
{
	if (t->n == 0)
		return false;
	for (size_t i = 0; i < t->n; i++)
		if (t->p[i] < '0' || t->p[i] > '9')
			return false;
	return true;
}

/* Strict unsigned decimal; -EINVAL when not all digits, -ERANGE on overflow. */
static int tok_u64(const struct tok *t, uint64_t *out)
{
	if (!tok_is_number(t))
		return -EINVAL;
	uint64_t v = 0;
	for (size_t i = 0; i < t->n; i++) {
		unsigned d = (unsigned)(t->p[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static int fail(const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return -EINVAL;
}

static int parse_name(const struct tok *t, struct np_diskstat *out, const char **why)
{
	if (t->n > NP_DS_NAME_MAX)
		return fail(why, "device name too long");
	for (size_t i = 0; i < t->n; i++)
		if ((unsigned char)t->p[i] < 0x21 || (unsigned char)t->p[i] > 0x7e)
			return fail(why, "non-printable byte in device name");
	memcpy(out->name, t->p, t->n);
	out->name[t->n] = '\0';
	return 0;
}

/* The 2.6.0-2.6.25 partition form: reads, sectors read, writes, sectors written. */
static const enum np_ds_field partition_form[] = { NP_DS_READS, NP_DS_SECTORS_READ, NP_DS_WRITES,
						   NP_DS_SECTORS_WRITTEN };

static int parse_counters(const struct tok *t, size_t ncounters, struct np_diskstat *out, const char **why)
{
	bool short_form = ncounters == ARRAY_SIZE(partition_form);
	size_t use = ncounters < NP_DS_NFIELDS ? ncounters : NP_DS_NFIELDS;
	for (size_t i = 0; i < use; i++) {
		uint64_t v;
		int r = tok_u64(&t[i], &v);
		if (r < 0)
			return fail(why, r == -ERANGE ? "counter out of range" : "counter is not a number");
		enum np_ds_field f = short_form ? partition_form[i] : (enum np_ds_field)i;
		out->c.v[f] = v;
		out->c.present |= 1u << f;
	}
	return 0;
}

int np_diskstats_parse_line(const char *line, size_t len, struct np_diskstat *out, const char **why)
{
	struct tok t[MAX_TOKENS];
	size_t n = tokenize(line, len, t);
	*out = (struct np_diskstat){ .ncols = n > UINT32_MAX ? UINT32_MAX : (unsigned)n };
	if (memchr(line, '\0', len))
		return fail(why, "NUL byte in line");
	if (n < 7)
		return fail(why, "fewer than 7 columns");
	uint64_t maj, min;
	if (tok_u64(&t[0], &maj) < 0 || tok_u64(&t[1], &min) < 0 || maj > UINT32_MAX || min > UINT32_MAX)
		return fail(why, "bad major:minor");
	out->major = (unsigned)maj;
	out->minor = (unsigned)min;
	/* 2.4 /proc/partitions style: "major minor #blocks name counters..." */
	size_t name_at = tok_is_number(&t[2]) && !tok_is_number(&t[3]) ? 3 : 2;
	int r = parse_name(&t[name_at], out, why);
	if (r < 0)
		return r;
	size_t first = name_at + 1;
	size_t avail = (n < MAX_TOKENS ? n : MAX_TOKENS) - first;
	if (avail < ARRAY_SIZE(partition_form))
		return fail(why, "fewer than 4 counters");
	return parse_counters(&t[first], avail, out, why);
}

static int push(struct np_diskstats *s, size_t *cap, const struct np_diskstat *d)
{
	if (s->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 32;
		struct np_diskstat *p = reallocarray(s->dev, nc, sizeof(*p));
		if (!p)
			return -ENOMEM;
		s->dev = p;
		*cap = nc;
	}
	s->dev[s->n++] = *d;
	return 0;
}

static void note_bad(struct np_diskstats *s, unsigned lineno, const char *why)
{
	if (!s->bad_lines++) {
		s->first_bad_line = lineno;
		snprintf(s->first_bad_reason, sizeof(s->first_bad_reason), "%s", why ? why : "unparsable");
	}
}

int np_diskstats_parse(const char *buf, size_t len, struct np_diskstats *out)
{
	size_t cap = 0;
	unsigned lineno = 0;
	*out = (struct np_diskstats){ 0 };
	const char *line;
	size_t ll;
	for (size_t off = 0; np_next_line(buf, len, &off, &line, &ll);) {
		lineno++;
		if (lineno > NP_DS_MAX_LINES)
			return -EFBIG;
		struct tok t[MAX_TOKENS];
		if (tokenize(line, ll, t) == 0 && !memchr(line, '\0', ll))
			continue; /* blank line */
		struct np_diskstat d;
		const char *why = NULL;
		if (np_diskstats_parse_line(line, ll, &d, &why) < 0) {
			note_bad(out, lineno, why);
			continue;
		}
		if (push(out, &cap, &d) < 0)
			return -ENOMEM;
	}
	return out->bad_lines ? -EINVAL : 0;
}

void np_diskstats_free(struct np_diskstats *s)
{
	free(s->dev);
	*s = (struct np_diskstats){ 0 };
}

const struct np_diskstat *np_diskstats_find(const struct np_diskstats *s, unsigned major, unsigned minor,
					    const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->dev[i].major == major && s->dev[i].minor == minor && (!name || streq(s->dev[i].name, name)))
			return &s->dev[i];
	return NULL;
}

int np_ds_delta(const struct np_ds_counters *old, const struct np_ds_counters *new, enum np_ds_field f,
		uint64_t *d)
{
	if (!np_ds_has(old, f) || !np_ds_has(new, f))
		return -ENODATA;
	uint64_t a = old->v[f], b = new->v[f];
	if (b >= a) {
		*d = b - a;
		return 0;
	}
	if (a <= UINT32_MAX) {
		uint64_t w = (b + (1ULL << 32) - a) & 0xffffffffULL;
		if (w < (1ULL << 31)) {
			*d = w;
			return 0;
		}
		return -ERANGE;
	}
	uint64_t w = b - a; /* modulo 2^64 */
	if (w < (1ULL << 63)) {
		*d = w;
		return 0;
	}
	return -ERANGE;
}

/* Per-operation average of @time over @ops (iostat's r_await etc.): 0 when nothing completed. */
static double await_of(uint64_t time_ms, uint64_t ops)
{
	return ops ? (double)time_ms / (double)ops : 0.0;
}

static const enum np_ds_field core_fields[] = {
	NP_DS_READS,  NP_DS_READS_MERGED,  NP_DS_SECTORS_READ,    NP_DS_READ_MS, NP_DS_WRITES,
	NP_DS_WRITES_MERGED, NP_DS_SECTORS_WRITTEN, NP_DS_WRITE_MS, NP_DS_IO_MS, NP_DS_WEIGHTED_IO_MS,
};

int np_ds_rates(const struct np_ds_counters *old, const struct np_ds_counters *new, double elapsed_ms,
		struct np_block_rates *out)
{
	uint64_t d[NP_DS_NFIELDS] = { 0 };
	if (!(elapsed_ms > 0))
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(core_fields); i++) {
		int r = np_ds_delta(old, new, core_fields[i], &d[core_fields[i]]);
		if (r < 0)
			return r;
	}
	*out = (struct np_block_rates){ 0 };
	out->has_discards = np_ds_delta(old, new, NP_DS_DISCARDS, &d[NP_DS_DISCARDS]) == 0 &&
			    np_ds_delta(old, new, NP_DS_SECTORS_DISCARDED, &d[NP_DS_SECTORS_DISCARDED]) == 0 &&
			    np_ds_delta(old, new, NP_DS_DISCARD_MS, &d[NP_DS_DISCARD_MS]) == 0;
	out->has_flushes = np_ds_delta(old, new, NP_DS_FLUSHES, &d[NP_DS_FLUSHES]) == 0 &&
			   np_ds_delta(old, new, NP_DS_FLUSH_MS, &d[NP_DS_FLUSH_MS]) == 0;
	double s = elapsed_ms / 1000.0;
	out->r_per_s = d[NP_DS_READS] / s;
	out->w_per_s = d[NP_DS_WRITES] / s;
	out->rrqm_per_s = d[NP_DS_READS_MERGED] / s;
	out->wrqm_per_s = d[NP_DS_WRITES_MERGED] / s;
	out->rkb_per_s = d[NP_DS_SECTORS_READ] / 2.0 / s;
	out->wkb_per_s = d[NP_DS_SECTORS_WRITTEN] / 2.0 / s;
	out->r_await_ms = await_of(d[NP_DS_READ_MS], d[NP_DS_READS]);
	out->w_await_ms = await_of(d[NP_DS_WRITE_MS], d[NP_DS_WRITES]);
	out->aqu_sz = d[NP_DS_WEIGHTED_IO_MS] / elapsed_ms;
	out->util_percent = d[NP_DS_IO_MS] / elapsed_ms * 100.0;
	if (out->has_discards) {
		out->d_per_s = d[NP_DS_DISCARDS] / s;
		out->dkb_per_s = d[NP_DS_SECTORS_DISCARDED] / 2.0 / s;
		out->d_await_ms = await_of(d[NP_DS_DISCARD_MS], d[NP_DS_DISCARDS]);
	}
	if (out->has_flushes) {
		out->f_per_s = d[NP_DS_FLUSHES] / s;
		out->f_await_ms = await_of(d[NP_DS_FLUSH_MS], d[NP_DS_FLUSHES]);
	}
	out->in_flight = np_ds_has(new, NP_DS_IN_FLIGHT) ? new->v[NP_DS_IN_FLIGHT] : 0;
	return 0;
}
