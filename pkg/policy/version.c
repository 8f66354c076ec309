// SPDX-License-Identifier: Apache-2.0
/* version.c - `sort -V` / dpkg version order (version.h) and the policy's version patterns. */
#define _GNU_SOURCE
#include "version.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <fnmatch.h>
#include <limits.h>
#include <string.h>

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Weight of the character at @pos of a @len-long string: '~' < end < letters < other characters. */
static int weight(const char *s, size_t pos, size_t len)
{
	if (pos == len)
		return -1;
	unsigned char c = (unsigned char)s[pos];
	if (is_digit((char)c))
		return 0;
	if (is_alpha((char)c))
		return c;
	if (c == '~')
		return -2;
	return c + UCHAR_MAX + 1;
}

/* Length of @s without its file suffix (\.[A-Za-z~][A-Za-z0-9~]*)*$, the longest that matches. */
static size_t without_suffix(const char *s, size_t len)
{
	size_t keep = 0;
	for (size_t i = 0; i < len;) {
		keep = ++i;
		while (i + 1 < len && s[i] == '.' && (is_alpha(s[i + 1]) || s[i + 1] == '~'))
			for (i += 2; i < len && (is_alpha(s[i]) || is_digit(s[i]) || s[i] == '~'); i++)
				;
	}
	return keep;
}

/* dpkg's verrevcmp over [a, a+al) and [b, b+bl). */
static int compare_runs(const char *a, size_t al, const char *b, size_t bl)
{
	size_t i = 0, j = 0;
	while (i < al || j < bl) {
		while ((i < al && !is_digit(a[i])) || (j < bl && !is_digit(b[j]))) {
			int wa = weight(a, i, al), wb = weight(b, j, bl);
			if (wa != wb)
				return wa - wb;
			i++;
			j++;
		}
		while (i < al && a[i] == '0')
			i++;
		while (j < bl && b[j] == '0')
			j++;
		int first = 0;
		for (; i < al && j < bl && is_digit(a[i]) && is_digit(b[j]); i++, j++)
			if (!first)
				first = a[i] - b[j];
		if (i < al && is_digit(a[i]))
			return 1; /* more digits: a larger number */
		if (j < bl && is_digit(b[j]))
			return -1;
		if (first)
			return first;
	}
	return 0;
}

int np_vercmp(const char *a, const char *b)
{
	size_t al = strlen(a), bl = strlen(b);
	if (!al || !bl)
		return (int)!!al - (int)!!bl;
	size_t ap = without_suffix(a, al), bp = without_suffix(b, bl);
	int r = compare_runs(a, ap, b, bp);
	if (r || (ap == al && bp == bl))
		return r;
	return compare_runs(a, al, b, bl);
}

static const char *const ops[] = { ">=", "<=", "==", "!=", ">", "<", "=" };

/* Index in ops[] of the operator @tok starts with (its length in *@len), or -1. */
static int op_of(const char *tok, size_t *len)
{
	for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
		*len = strlen(ops[i]);
		if (strncmp(tok, ops[i], *len) == 0)
			return (int)i;
	}
	return -1;
}

/* One comparison "<op><version>"; false when the op is not recognised. */
static bool compare_one(const char *tok, const char *value)
{
	size_t l;
	int i = op_of(tok, &l);
	if (i < 0)
		return false;
	int c = np_vercmp(value, tok + l);
	switch (i) {
	case 0: return c >= 0;
	case 1: return c <= 0;
	case 2: case 6: return c == 0;
	case 3: return c != 0;
	case 4: return c > 0;
	default: return c < 0;
	}
}

const char *np_version_pattern_error(const char *pattern)
{
	if (!strchr("<>=!", pattern[0]))
		return NULL;
	for (const char *p = pattern + strspn(pattern, " ,"); *p; p += strspn(p, " ,")) {
		size_t l, vl;
		if (op_of(p, &l) < 0)
			return "every comparison of a range starts with >=, <=, ==, !=, >, < or =";
		vl = strcspn(p + l, " ,");
		if (vl == 0)
			return "an operator without a version (write >=6.1.0, no space after the operator)";
		if (strchr("<>=!", p[l]))
			return "an unknown operator (>=, <=, ==, !=, >, < or =)";
		p += l + vl;
	}
	return NULL;
}

bool np_version_match(const char *pattern, const char *value)
{
	if (!pattern || !value)
		return false;
	if (!strchr("<>=!", pattern[0]))
		return fnmatch(pattern, value, 0) == 0;
	char **toks = NULL;
	size_t n = 0;
	if (np_split(pattern, " ,", &toks, &n) < 0)
		return false;
	bool ok = n > 0;
	for (size_t i = 0; ok && i < n; i++)
		ok = compare_one(toks[i], value);
	np_strv_free(toks);
	return ok;
}
