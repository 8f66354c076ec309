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
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

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

/*
 * Bytes readable past the NUL of every line given to parse_irq_line(): parse_count() loads 8
 * bytes at a time. The buffers that hold lines have them, zeroed.
 */
#define LINE_SLACK 8

/* Parse a run of decimal digits ending at a blank or NUL. Returns 0, -EINVAL or -ERANGE; *@s advances. */
static int parse_count_slow(const char **s, uint64_t *out)
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

/*
 * parse_count_slow() of a count of fewer than 8 digits (nearly all: a million on a large host),
 * 8 bytes at a time (LINE_SLACK): which bytes are digits ('0' ^ c below 10, nibble by nibble, no
 * carry between bytes), then the digits summed in pairs, fours and eights by multiply-shifts.
 */
static int parse_count(const char **s, uint64_t *out)
{
	uint64_t w;
	memcpy(&w, *s, 8);
	if (__BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__)
		return parse_count_slow(s, out);
	uint64_t t = w ^ 0x3030303030303030ULL;
	uint64_t nondigit = (t & 0xF0F0F0F0F0F0F0F0ULL) |
			    (((t & 0x0F0F0F0F0F0F0F0FULL) + 0x0606060606060606ULL) & 0xF0F0F0F0F0F0F0F0ULL);
	if (!nondigit)
		return parse_count_slow(s, out); /* 8 digits or more */
	unsigned k = (unsigned)__builtin_ctzll(nondigit) / 8; /* the digits before the first other byte */
	if (k == 0)
		return -EINVAL;
	char end = (*s)[k];
	if (end && !is_blank(end) && end != '\r')
		return -EINVAL;
	uint64_t v = t << (64 - 8 * k); /* the k digits in the top bytes, the first one lowest */
	v = (v * 10 + (v >> 8)) & 0x00FF00FF00FF00FFULL;
	v = (v * 100 + (v >> 16)) & 0x0000FFFF0000FFFFULL;
	v = (v * 10000 + (v >> 32)) & 0xFFFFFFFFULL;
	*s += k;
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
	free(l->desc);
	free(l->action);
}

/*
 * Fill @l from one IRQ line, its counts into @slot (@ncpus slots; those past the counts are
 * zeroed). Returns 0 or -errno; @l owns what it got either way.
 */
static int parse_irq_line(char *line, size_t ncpus, uint64_t *slot, struct np_irq_line *l)
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
		slot[l->ncounts++] = v;
		if (__builtin_add_overflow(l->total, v, &l->total))
			return -ERANGE;
	}
	if (l->ncounts == 0)
		return -EINVAL;
	memset(slot + l->ncounts, 0, (ncpus - l->ncounts) * sizeof(*slot));
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
	np_u64_block_unref(t->counts);
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
 * The parse of one file, fed its lines in order (the header first): from one buffer
 * (np_parse_interrupts()) or read by pieces (np_read_interrupts()).
 */
struct irq_parse {
	struct np_irq_table *t;
	size_t cap;      /* lines allocated */
	unsigned lineno; /* 1-based number of the line fed last */
};

/* Line @line (@len bytes, NUL-terminated, writable) of the file. Returns 0 or -errno (the whole parse fails). */
static int feed_line(struct irq_parse *ps, char *line, size_t len)
{
	struct np_irq_table *t = ps->t;
	if (++ps->lineno == 1)
		return parse_header(line, t);
	char *e = line + len;
	while (line < e && is_ws(*line))
		line++;
	while (e > line && is_ws(e[-1]))
		e--;
	*e = '\0';
	if (!*line)
		return 0;
	/* the counts go straight into the table's block, ncpus slots a row; a skipped row's are reused */
	if (t->ncpus > SIZE_MAX / sizeof(uint64_t) / (t->nlines + 1) ||
	    np_u64_block_reserve(&t->counts, (t->nlines + 1) * t->ncpus) < 0)
		return -ENOMEM;
	struct np_irq_line l = { 0 };
	int r = parse_irq_line(line, t->ncpus, t->counts->v + t->nlines * t->ncpus, &l);
	if (r >= 0)
		r = push_line(t, &ps->cap, &l);
	if (r < 0)
		irq_line_free(&l);
	if (r == -ENOMEM)
		return r;
	if (r < 0 && t->skipped++ == 0)
		t->first_skipped = ps->lineno; /* one row is not the whole file */
	return 0;
}

/* After the last line: each row's counts (the block no longer moves). Returns 0 or -errno. */
static int parse_end(struct irq_parse *ps)
{
	struct np_irq_table *t = ps->t;
	if (ps->lineno == 0)
		return -EINVAL; /* no header */
	for (size_t i = 0; i < t->nlines; i++)
		t->lines[i].per_cpu = t->counts->v + i * t->ncpus;
	return t->skipped && !t->nlines ? -EINVAL : 0;
}

static int parse_interrupts(const char *buf, size_t len, struct np_irq_table *t)
{
	struct irq_parse ps = { .t = t };
	const char *p = buf, *end = buf + len;
	_cleanup_free_ char *scratch = NULL;
	size_t scap = 0;
	if (memchr(buf, '\0', len))
		return -EINVAL; /* binary input */
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		if (n + 1 + LINE_SLACK > scap) {
			char *nb = realloc(scratch, n + 1 + LINE_SLACK);
			if (!nb)
				return -ENOMEM;
			scratch = nb;
			scap = n + 1 + LINE_SLACK;
		}
		memcpy(scratch, p, n);
		memset(scratch + n, 0, 1 + LINE_SLACK);
		p = nl ? nl + 1 : end;
		int r = feed_line(&ps, scratch, n);
		if (r < 0)
			return r;
	}
	return parse_end(&ps);
}

int np_parse_interrupts(const char *buf, size_t len, struct np_irq_table *t)
{
	*t = (struct np_irq_table){ 0 };
	int r = parse_interrupts(buf, len, t);
	if (r < 0)
		np_irq_table_free(t);
	return r;
}

/* Bytes read from /proc/interrupts at a time: cache-sized, where the whole file is 12 MiB on a large host. */
#define IRQ_READ_CHUNK (256u << 10)

/*
 * The file read by pieces and parsed as it comes. The errors are np_parse_interrupts()'s of the
 * whole file read at once, in the same order: read(2)'s, -EFBIG, binary input, then the parse's.
 */
static int read_interrupts(int fd, size_t chunk, struct np_irq_table *t)
{
	struct irq_parse ps = { .t = t };
	size_t cap = chunk ? chunk : 1, have = 0, total = 0;
	bool binary = false;
	int perr = 0; /* the parse's first error: the rest is still read for the errors above */
	/* not zeroed whole: past the data only its slack is read, zeroed after every read (below) */
	_cleanup_free_ char *buf = malloc(cap + 1 + LINE_SLACK);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (have == cap) { /* one line longer than the buffer */
			char *nb = realloc(buf, cap * 2 + 1 + LINE_SLACK);
			if (!nb)
				return -ENOMEM;
			buf = nb;
			cap *= 2;
		}
		ssize_t k = read(fd, buf + have, cap - have);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return negative_errno();
		if (k == 0)
			break;
		memset(buf + have + k, 0, 1 + LINE_SLACK); /* the last line's NUL and slack */
		if ((total += (size_t)k) > NP_INTERRUPTS_MAX)
			return -EFBIG;
		if (memchr(buf + have, '\0', (size_t)k))
			binary = true;
		if (binary || perr) {
			have = 0;
			continue;
		}
		char *p = buf, *end = buf + have + (size_t)k, *nl;
		while (!perr && (nl = memchr(p, '\n', (size_t)(end - p)))) {
			*nl = '\0';
			perr = feed_line(&ps, p, (size_t)(nl - p));
			p = nl + 1;
		}
		have = perr ? 0 : (size_t)(end - p);
		memmove(buf, p, have);
	}
	if (binary)
		return -EINVAL;
	if (!perr && have) { /* the last line, without its newline */
		buf[have] = '\0';
		perr = feed_line(&ps, buf, have);
	}
	return perr < 0 ? perr : parse_end(&ps);
}

int np_read_interrupts_fd(int fd, size_t chunk, struct np_irq_table *t)
{
	*t = (struct np_irq_table){ 0 };
	int r = read_interrupts(fd, chunk, t);
	if (r < 0)
		np_irq_table_free(t);
	return r;
}

int np_read_interrupts(const struct np_host *h, struct np_irq_table *t)
{
	*t = (struct np_irq_table){ 0 };
	_cleanup_close_ int fd = np_host_openat(h, "/proc/interrupts", O_RDONLY);
	if (fd < 0)
		return fd;
	return np_read_interrupts_fd(fd, IRQ_READ_CHUNK, t);
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
