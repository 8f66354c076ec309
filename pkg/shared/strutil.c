// SPDX-License-Identifier: Apache-2.0
#define _GNU_SOURCE
#include "strutil.h"
#include "macro.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

char *np_strip(char *s)
{
	size_t n = strlen(s);
	while (n > 0 && is_ws(s[n - 1]))
		s[--n] = '\0';
	size_t i = 0;
	while (is_ws(s[i]))
		i++;
	if (i)
		memmove(s, s + i, n - i + 1);
	return s;
}

char *np_strndup_field(const char *s, size_t width)
{
	size_t n = strnlen(s, width);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	size_t i = 0;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	char *r = strndup(s + i, n - i);
	if (!r)
		return NULL;
	for (char *p = r; *p; p++)
		if (!isprint((unsigned char)*p))
			*p = '?';
	return r;
}

static const char *skip_ws(const char *s, const char **end)
{
	while (is_ws(*s))
		s++;
	const char *e = s + strlen(s);
	while (e > s && is_ws(e[-1]))
		e--;
	*end = e;
	return s;
}

int np_parse_dec(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	if (!s || !*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		unsigned d = (unsigned)(*s - '0');
		if (v > (max - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* @s without surrounding blanks: [start, *@e); NULL when @s is NULL or blank. */
static const char *span(const char *s, const char **e)
{
	if (!s)
		return NULL;
	s = skip_ws(s, e);
	return s == *e ? NULL : s;
}

/* After a strto*() call that started at a span ending at @e: -ERANGE, -EINVAL (stopped early) or 0. */
static int conv_done(const char *end, const char *e)
{
	if (errno == ERANGE)
		return -ERANGE;
	return end == e ? 0 : -EINVAL;
}

int np_parse_u64(const char *s, uint64_t *out)
{
	const char *e;
	s = span(s, &e);
	if (!s || *s == '-' || *s == '+')
		return -EINVAL;
	int base = 10;
	if (e - s > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!isxdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, base);
	int r = conv_done(end, e);
	if (r == 0)
		*out = v;
	return r;
}

int np_parse_s64(const char *s, int64_t *out)
{
	const char *e;
	s = span(s, &e);
	if (!s)
		return -EINVAL;
	const char *d = (*s == '-' || *s == '+') ? s + 1 : s;
	if (!isdigit((unsigned char)*d))
		return -EINVAL;
	errno = 0;
	char *end;
	long long v = strtoll(s, &end, 10);
	int r = conv_done(end, e);
	if (r == 0)
		*out = v;
	return r;
}

int np_parse_double(const char *s, double *out)
{
	const char *e;
	s = span(s, &e);
	if (!s)
		return -EINVAL;
	errno = 0;
	char *end;
	double v = strtod(s, &end);
	int r = conv_done(end, e);
	if (r == 0 && !isfinite(v))
		r = -ERANGE;
	if (r == 0)
		*out = v;
	return r;
}

bool np_next_line(const char *buf, size_t len, size_t *off, const char **line, size_t *l)
{
	if (*off >= len)
		return false;
	const char *p = buf + *off;
	const char *nl = memchr(p, '\n', len - *off);
	*l = nl ? (size_t)(nl - p) : len - *off;
	*line = p;
	*off += *l + 1;
	return true;
}

int np_strv_push_take(char ***v, size_t *n, char *s)
{
	if (!s)
		return -ENOMEM;
	char **nv = realloc(*v, (*n + 2) * sizeof(char *));
	if (!nv) {
		free(s);
		return -ENOMEM;
	}
	nv[*n] = s;
	nv[*n + 1] = NULL;
	*v = nv;
	(*n)++;
	return 0;
}

int np_strv_push(char ***v, size_t *n, const char *s)
{
	return np_strv_push_take(v, n, strdup(s));
}

void np_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

bool np_strv_contains(char *const *v, const char *s)
{
	for (; v && *v; v++)
		if (streq(*v, s))
			return true;
	return false;
}

int np_split(const char *s, const char *seps, char ***out, size_t *n)
{
	char **v = calloc(1, sizeof(char *));
	size_t cnt = 0;
	if (!v)
		return -ENOMEM;
	while (*s) {
		s += strspn(s, seps);
		size_t k = strcspn(s, seps);
		if (k == 0)
			break;
		int r = np_strv_push_take(&v, &cnt, strndup(s, k));
		if (r < 0) {
			np_strv_free(v);
			return r;
		}
		s += k;
	}
	*out = v;
	if (n)
		*n = cnt;
	return 0;
}

char *np_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *r;
	va_start(ap, fmt);
	int k = vasprintf(&r, fmt, ap);
	va_end(ap);
	return k < 0 ? NULL : r;
}

bool np_startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}
