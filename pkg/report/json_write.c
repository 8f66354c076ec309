// SPDX-License-Identifier: Apache-2.0
/* json_write.c - see json_write.h. The escapes follow jansson 2.14 dump.c dump_string(). */
#define _GNU_SOURCE
#include "json_write.h"
#include "../shared/macro.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define FLUSH_AT (64u << 10)

/* One stand-in: the empty array @ph (a reference held) is written as the @n numbers at @v. */
struct deferred {
	const json_t *ph;
	const uint64_t *v;
	size_t n;
};

struct np_json_defer {
	struct deferred *v;
	size_t n, cap;
	bool sorted; /* by ph, for the writer's bisection */
};

static __thread struct np_json_defer *current;

struct np_json_defer *np_json_defer_begin(void)
{
	if (current)
		return NULL;
	current = calloc(1, sizeof(*current));
	return current;
}

void np_json_defer_end(struct np_json_defer *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		json_decref((json_t *)d->v[i].ph);
	free(d->v);
	if (current == d)
		current = NULL;
	free(d);
}

static json_t *u64_array_now(const uint64_t *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, json_integer(v[i] > (uint64_t)INT64_MAX ? INT64_MAX
											: (json_int_t)v[i])) < 0) {
			json_decref(a);
			a = NULL;
		}
	return a;
}

json_t *np_json_u64_array(const uint64_t *v, size_t n)
{
	struct np_json_defer *d = current;
	if (!d || !n)
		return u64_array_now(v, n);
	if (d->n == d->cap) {
		size_t nc = d->cap ? d->cap * 2 : 256;
		struct deferred *nv = realloc(d->v, nc * sizeof(*nv));
		if (!nv)
			return u64_array_now(v, n);
		d->v = nv;
		d->cap = nc;
	}
	json_t *ph = json_array();
	if (!ph)
		return NULL;
	/* the deferral's own reference keeps the address from being reused by another empty array */
	d->v[d->n++] = (struct deferred){ .ph = json_incref(ph), .v = v, .n = n };
	d->sorted = false;
	return ph;
}

static int cmp_deferred(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)((const struct deferred *)a)->ph, y = (uintptr_t)((const struct deferred *)b)->ph;
	return x < y ? -1 : x > y;
}

static const struct deferred *find_deferred(const json_t *j)
{
	struct np_json_defer *d = current;
	if (!d || !d->n)
		return NULL;
	if (!d->sorted) {
		qsort(d->v, d->n, sizeof(*d->v), cmp_deferred);
		d->sorted = true;
	}
	struct deferred key = { .ph = j };
	return bsearch(&key, d->v, d->n, sizeof(*d->v), cmp_deferred);
}

struct wbuf {
	FILE *f;
	char *p;
	size_t len, cap;
	int err;
};

static void w_flush(struct wbuf *w)
{
	if (w->len && !w->err && fwrite(w->p, 1, w->len, w->f) != w->len)
		w->err = -EIO;
	w->len = 0;
}

/* Room for @n more bytes; false (w->err set) when out of memory. */
static bool w_room(struct wbuf *w, size_t n)
{
	if (w->len + n <= w->cap)
		return true;
	w_flush(w);
	if (n <= w->cap)
		return !w->err;
	char *p = realloc(w->p, n);
	if (!p) {
		w->err = -ENOMEM;
		return false;
	}
	w->p = p;
	w->cap = n;
	return !w->err;
}

static void w_put(struct wbuf *w, const char *s, size_t n)
{
	if (w_room(w, n)) {
		memcpy(w->p + w->len, s, n);
		w->len += n;
	}
}

/* @v in decimal, ending at @e; returns where it starts (at most 20 characters before @e). */
static char *fmt_int(char *e, json_int_t v)
{
	char *s = e;
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	do
		*--s = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--s = '-';
	return s;
}

static void w_int(struct wbuf *w, json_int_t v)
{
	char tmp[24], *e = tmp + sizeof(tmp), *s = fmt_int(e, v);
	w_put(w, s, (size_t)(e - s));
}

/* Decimal digits of @v. */
static unsigned ndigits(uint64_t v)
{
	unsigned n = 1;
	for (; v >= 10000; v /= 10000)
		n += 4;
	return n + (v >= 10) + (v >= 100) + (v >= 1000);
}

/*
 * The 8 decimal digits of @v (< 10^8, leading zeros included) as the bytes of a little-endian
 * word, the first digit in the lowest byte: 4-digit halves, then 2-digit, then 1-digit lanes
 * (each split is a multiply-shift that is exact below 10^4, 10^2).
 */
static uint64_t digits8(uint32_t v)
{
	uint64_t x = (uint64_t)(v / 10000) | (uint64_t)(v % 10000) << 32;
	uint64_t h = ((x * 10486) >> 20) & 0x0000007F0000007FULL; /* / 100 in each 32-bit lane */
	x = h | (x - h * 100) << 16;
	h = ((x * 103) >> 10) & 0x000F000F000F000FULL; /* / 10 in each 16-bit lane */
	x = h | (x - h * 10) << 8;
	return x | 0x3030303030303030ULL;
}

/* A deferred array: "[" numbers joined by "," "]", as jansson writes an array of integers. */
static void w_deferred(struct wbuf *w, const struct deferred *a)
{
	static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
				    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
				    "8081828384858687888990919293949596979899";
	w_put(w, "[", 1);
	for (size_t i = 0; i < a->n; i++) {
		if (!w_room(w, 21)) /* a comma and INT64_MAX's 19 digits */
			return;
		char *p = w->p + w->len;
		if (i)
			*p++ = ',';
		uint64_t v = a->v[i] > (uint64_t)INT64_MAX ? (uint64_t)INT64_MAX : a->v[i];
		unsigned nd = ndigits(v);
		if (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && v < 100000000) {
			/* the usual count: 8 digits in one store, the leading zeros shifted out */
			uint64_t d = digits8((uint32_t)v) >> (8 * (8 - nd));
			memcpy(p, &d, 8); /* room for 21 bytes: the 8 - nd bytes past the number are overwritten next */
			w->len = (size_t)(p + nd - w->p);
			continue;
		}
		char *e = p + nd;
		w->len = (size_t)(e - w->p);
		for (; v >= 100; v /= 100) {
			e -= 2;
			memcpy(e, pairs + (v % 100) * 2, 2);
		}
		if (v >= 10)
			memcpy(e - 2, pairs + v * 2, 2);
		else
			e[-1] = (char)('0' + v);
	}
	w_put(w, "]", 1);
}

static void w_string(struct wbuf *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	w_put(w, "\"", 1);
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		w_put(w, s + run, i - run);
		run = i + 1;
		char esc[6] = { '\\', 0 };
		size_t k = 2;
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			k = 6;
		}
		w_put(w, esc, k);
	}
	w_put(w, s + run, n - run);
	w_put(w, "\"", 1);
}

static void w_value(struct wbuf *w, const json_t *j, unsigned depth)
{
	if (w->err)
		return;
	if (depth > 2048) { /* jansson's JSON_PARSER_MAX_DEPTH; a report is never this deep */
		w->err = -ELOOP;
		return;
	}
	switch (json_typeof(j)) {
	case JSON_OBJECT: {
		const char *key;
		json_t *v;
		bool first = true;
		w_put(w, "{", 1);
		json_object_foreach ((json_t *)j, key, v) {
			if (!first)
				w_put(w, ",", 1);
			first = false;
			w_string(w, key, strlen(key));
			w_put(w, ":", 1);
			w_value(w, v, depth + 1);
		}
		w_put(w, "}", 1);
		break;
	}
	case JSON_ARRAY: {
		size_t n = json_array_size(j);
		const struct deferred *a = n ? NULL : find_deferred(j);
		if (a) {
			w_deferred(w, a);
			break;
		}
		w_put(w, "[", 1);
		for (size_t i = 0; i < n; i++) {
			if (i)
				w_put(w, ",", 1);
			w_value(w, json_array_get(j, i), depth + 1);
		}
		w_put(w, "]", 1);
		break;
	}
	case JSON_STRING:
		w_string(w, json_string_value(j), json_string_length(j));
		break;
	case JSON_INTEGER:
		w_int(w, json_integer_value(j));
		break;
	case JSON_REAL: {
		_cleanup_free_ char *s = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
		if (!s)
			w->err = -ENOMEM;
		else
			w_put(w, s, strlen(s));
		break;
	}
	case JSON_TRUE:
		w_put(w, "true", 4);
		break;
	case JSON_FALSE:
		w_put(w, "false", 5);
		break;
	case JSON_NULL:
		w_put(w, "null", 4);
		break;
	}
}

int np_json_write_compact(const json_t *j, FILE *f)
{
	struct wbuf w = { .f = f, .p = malloc(FLUSH_AT), .cap = FLUSH_AT };
	if (!w.p)
		return -ENOMEM;
	w_value(&w, j, 0);
	w_flush(&w);
	free(w.p);
	return w.err;
}
