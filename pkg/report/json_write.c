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

static void w_int(struct wbuf *w, json_int_t v)
{
	char tmp[24], *e = tmp + sizeof(tmp), *s = e;
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	do
		*--s = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--s = '-';
	w_put(w, s, (size_t)(e - s));
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
