// SPDX-License-Identifier: Apache-2.0
/*
 * interrupts.c - /proc/interrupts and /proc/stat cpuN parsing (proc(5);
 * kernel/irq/proc.c show_interrupts(), fs/proc/stat.c show_stat()).
 */
#define _GNU_SOURCE
#include "interrupts.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <ctype.h>
#include <string.h>

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* isdigit() without the locale table: this runs once per byte of a 12 MiB file on a large host */
static bool is_dec(char c)
{
	return (unsigned)(c - '0') < 10;
}

/* Next line of [*p, end) as a malloc'd string; *p moves past it. NULL at end or ENOMEM (*oom set). */
static char *next_line(const char **p, const char *end, bool *oom)
{
	if (*p >= end)
		return NULL;
	const char *nl = memchr(*p, '\n', end - *p);
	const char *e = nl ? nl : end;
	char *line = strndup(*p, e - *p);
	*p = nl ? nl + 1 : end;
	if (!line)
		*oom = true;
	return line;
}

/* Parse a run of decimal digits ending at a blank or NUL. Returns 0, -EINVAL or -ERANGE; *@s advances. */
static int parse_count(const char **s, uint64_t *out)
{
	const char *p = *s, *safe = p + 19; /* 19 digits never overflow 64 bits: no check for them */
	uint64_t v = 0;
	if (!is_dec(*p))
		return -EINVAL;
	for (; p < safe && is_dec(*p); p++)
		v = v * 10 + (uint64_t)(*p - '0');
	for (; is_dec(*p); p++) {
		if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t)(*p - '0'), &v))
			return -ERANGE;
	}
	if (*p && !is_blank(*p) && *p != '\r')
		return -EINVAL;
	*s = p;
	*out = v;
	return 0;
}

static int parse_header(const char *line, struct np_irq_table *t)
{
	_cleanup_free_ char **words = NULL;
	size_t n = 0;
	int r = np_split(line, " \t\r", &words, &n);
	if (r < 0)
		return r;
	int rc = 0;
	if (n == 0)
		rc = -EINVAL;
	else if (n > NP_IRQ_MAX_CPUS)
		rc = -EFBIG;
	else if (!(t->cpu_ids = calloc(n, sizeof(*t->cpu_ids))))
		rc = -ENOMEM;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		uint64_t id;
		if (!np_startswith(words[i], "CPU") || !isdigit((unsigned char)words[i][3]) ||
		    np_parse_u64(words[i] + 3, &id) < 0 || id >= 1u << 20)
			rc = -EINVAL;
		else
			t->cpu_ids[i] = (unsigned)id;
	}
	np_strv_free(TAKE_PTR(words));
	if (rc == 0)
		t->ncpus = n;
	return rc;
}

static void irq_line_free(struct np_irq_line *l)
{
	free(l->irq);
	free(l->per_cpu);
	free(l->desc);
	free(l->action);
}

/* Fill @l from one IRQ line. Returns 0 or -errno; @l owns what it got either way. */
static int parse_irq_line(char *line, size_t ncpus, struct np_irq_line *l)
{
	char *colon = strchr(line, ':');
	if (!colon)
		return -EINVAL;
	*colon = '\0';
	np_strip(line);
	if (!*line || strpbrk(line, " \t"))
		return -EINVAL;
	if (!(l->irq = strdup(line)))
		return -ENOMEM;
	uint64_t num;
	l->num = np_parse_dec(line, UINT32_MAX, &num) >= 0 ? (int64_t)num : -1;
	if (!(l->per_cpu = calloc(ncpus, sizeof(*l->per_cpu))))
		return -ENOMEM;
	const char *p = colon + 1;
	for (;;) {
		while (is_blank(*p))
			p++;
		uint64_t v;
		int r = parse_count(&p, &v);
		if (r == -EINVAL)
			break; /* not all digits ("IO-APIC", "524288-edge"): the description starts here */
		if (r < 0)
			return r;
		if (l->ncounts == ncpus)
			return -EINVAL; /* more counts than CPU columns */
		l->per_cpu[l->ncounts++] = v;
		if (__builtin_add_overflow(l->total, v, &l->total))
			return -ERANGE;
	}
	if (l->ncounts == 0)
		return -EINVAL;
	if (!(l->desc = strdup(p)))
		return -ENOMEM;
	np_strip(l->desc);
	const char *sp = strrchr(l->desc, ' ');
	const char *tab = strrchr(l->desc, '\t');
	const char *last = sp > tab ? sp : tab;
	last = last ? last + 1 : l->desc;
	if (*last && !(l->action = strdup(last)))
		return -ENOMEM;
	return 0;
}

void np_irq_table_free(struct np_irq_table *t)
{
	for (size_t i = 0; i < t->nlines; i++)
		irq_line_free(&t->lines[i]);
	free(t->lines);
	free(t->cpu_ids);
	*t = (struct np_irq_table){ 0 };
}

static int push_line(struct np_irq_table *t, size_t *cap, struct np_irq_line *l)
{
	if (t->nlines == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		struct np_irq_line *nl = realloc(t->lines, nc * sizeof(*nl));
		if (!nl)
			return -ENOMEM;
		t->lines = nl;
		*cap = nc;
	}
	if (t->nsorted == t->nlines && l->num >= 0 && (!t->nlines || l->num > t->lines[t->nlines - 1].num))
		t->nsorted++;
	t->lines[t->nlines++] = *l;
	return 0;
}

const struct np_irq_line *np_irq_table_find(const struct np_irq_table *t, unsigned irq)
{
	size_t lo = 0, hi = t->nsorted;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->lines[mid].num == (int64_t)irq)
			return &t->lines[mid];
		if (t->lines[mid].num < (int64_t)irq)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = t->nsorted; i < t->nlines; i++)
		if (t->lines[i].num == (int64_t)irq)
			return &t->lines[i];
	return NULL;
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/*
 * Next line of [*p, end) without its surrounding whitespace (np_strip()'s), copied into the
 * reused buffer *@buf (*@cap bytes, grown as needed): 4,096 rows of 256 counts are 12 MiB,
 * not worth an allocation per row. *p moves past the line. Returns the line, NULL at the end
 * or on ENOMEM (*oom set).
 */
static char *next_line_into(const char **p, const char *end, char **buf, size_t *cap, bool *oom)
{
	if (*p >= end)
		return NULL;
	const char *nl = memchr(*p, '\n', end - *p);
	const char *s = *p, *e = nl ? nl : end;
	*p = nl ? nl + 1 : end;
	while (s < e && is_ws(*s))
		s++;
	while (e > s && is_ws(e[-1]))
		e--;
	size_t n = (size_t)(e - s);
	if (n + 1 > *cap) {
		char *nb = realloc(*buf, n + 1);
		if (!nb) {
			*oom = true;
			return NULL;
		}
		*buf = nb;
		*cap = n + 1;
	}
	memcpy(*buf, s, n);
	(*buf)[n] = '\0';
	return *buf;
}

static int parse_interrupts(const char *buf, size_t len, struct np_irq_table *t)
{
	const char *p = buf, *end = buf + len;
	bool oom = false;
	size_t cap = 0, lcap = 0;
	_cleanup_free_ char *scratch = NULL;
	if (memchr(buf, '\0', len))
		return -EINVAL; /* binary input */
	_cleanup_free_ char *hdr = next_line(&p, end, &oom);
	if (!hdr)
		return oom ? -ENOMEM : -EINVAL;
	int r = parse_header(hdr, t);
	if (r < 0)
		return r;
	for (unsigned lineno = 2;; lineno++) {
		char *line = next_line_into(&p, end, &scratch, &lcap, &oom);
		if (!line)
			break;
		if (!*line)
			continue;
		struct np_irq_line l = { 0 };
		r = parse_irq_line(line, t->ncpus, &l);
		if (r >= 0)
			r = push_line(t, &cap, &l);
		if (r < 0)
			irq_line_free(&l);
		if (r == -ENOMEM)
			return r;
		if (r < 0 && t->skipped++ == 0)
			t->first_skipped = lineno; /* one row is not the whole file */
	}
	if (oom)
		return -ENOMEM;
	return t->skipped && !t->nlines ? -EINVAL : 0;
}

int np_parse_interrupts(const char *buf, size_t len, struct np_irq_table *t)
{
	*t = (struct np_irq_table){ 0 };
	int r = parse_interrupts(buf, len, t);
	if (r < 0)
		np_irq_table_free(t);
	return r;
}

/* One "cpuN ..." line; returns 1 when parsed, 0 when not a cpuN line, -errno on garbage. */
static int parse_cpu_line(const char *line, struct np_cpu_sample *c)
{
	if (!np_startswith(line, "cpu") || !isdigit((unsigned char)line[3]))
		return 0;
	_cleanup_free_ char **w = NULL;
	size_t n = 0;
	int r = np_split(line, " \t\r", &w, &n);
	if (r < 0)
		return r;
	uint64_t v[8] = { 0 }, id = 0;
	if (n < 8)
		r = -EINVAL; /* name + at least user..softirq */
	if (r >= 0)
		r = np_parse_u64(w[0] + 3, &id);
	if (r >= 0 && id >= NP_IRQ_MAX_CPUS)
		r = -EINVAL;
	for (size_t i = 0; r >= 0 && i < 8 && i + 1 < n; i++)
		r = np_parse_u64(w[i + 1], &v[i]);
	np_strv_free(TAKE_PTR(w));
	if (r < 0)
		return r;
	c->cpu = (unsigned)id;
	c->softirq = v[6];
	c->steal = v[7];
	c->total = 0;
	for (size_t i = 0; i < 8; i++)
		if (__builtin_add_overflow(c->total, v[i], &c->total))
			return -ERANGE;
	return 1;
}

int np_parse_stat_cpus(const char *buf, size_t len, struct np_cpu_sample **out, size_t *n)
{
	const char *p = buf, *end = buf + len;
	bool oom = false;
	_cleanup_free_ struct np_cpu_sample *v = NULL;
	uint64_t seen[NP_IRQ_MAX_CPUS / 64] = { 0 }; /* parse_cpu_line() keeps cpu < NP_IRQ_MAX_CPUS */
	size_t cnt = 0, cap = 0;
	*out = NULL;
	*n = 0;
	if (memchr(buf, '\0', len))
		return -EINVAL;
	for (;;) {
		_cleanup_free_ char *line = next_line(&p, end, &oom);
		if (!line)
			break;
		struct np_cpu_sample c;
		int r = parse_cpu_line(line, &c);
		if (r < 0)
			return r;
		if (r == 0)
			continue;
		if (seen[c.cpu / 64] & (1ULL << (c.cpu % 64)))
			return -EINVAL; /* a duplicate */
		seen[c.cpu / 64] |= 1ULL << (c.cpu % 64);
		if (cnt == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct np_cpu_sample *nv = realloc(v, nc * sizeof(*nv));
			if (!nv)
				return -ENOMEM;
			v = nv;
			cap = nc;
		}
		v[cnt++] = c;
	}
	if (oom)
		return -ENOMEM;
	if (cnt == 0)
		return -EINVAL;
	*out = TAKE_PTR(v);
	*n = cnt;
	return 0;
}

double np_softirq_percent(uint64_t softirq, uint64_t total)
{
	if (total == 0)
		return -1;
	return (double)softirq * 100.0 / (double)total;
}
