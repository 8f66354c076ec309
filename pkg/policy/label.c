// SPDX-License-Identifier: Apache-2.0
#define _GNU_SOURCE
#include "label.h"
#include "../shared/macro.h"

#include <ctype.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <string.h>

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_value_char(char c)
{
	return is_alnum(c) || c == '-' || c == '_' || c == '.';
}

/* A label name of length @n: 1..63 of [-A-Za-z0-9_.], alphanumeric ends. */
static bool name_valid(const char *s, size_t n, bool allow_empty)
{
	if (n == 0)
		return allow_empty;
	if (n > NP_LABEL_VALUE_MAX || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_value_char(s[i]))
			return false;
	return true;
}

bool np_label_value_valid(const char *v)
{
	return v && name_valid(v, strlen(v), true);
}

bool np_dns_subdomain_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > NP_LABEL_PREFIX_MAX)
		return false;
	/* labels of [a-z0-9-] starting and ending alphanumeric, joined by '.' */
	const char *p = s;
	while (*p) {
		size_t k = strcspn(p, ".");
		if (k == 0 || k > 63)
			return false;
		for (size_t i = 0; i < k; i++) {
			char c = p[i];
			bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
			if (!ok)
				return false;
		}
		if (p[0] == '-' || p[k - 1] == '-')
			return false;
		p += k;
		if (*p == '.') {
			p++;
			if (!*p)
				return false;
		}
	}
	return true;
}

bool np_label_key_valid(const char *k)
{
	if (!k)
		return false;
	const char *slash = strchr(k, '/');
	if (!slash)
		return name_valid(k, strlen(k), false);
	if (strchr(slash + 1, '/'))
		return false;
	_cleanup_free_ char *prefix = strndup(k, (size_t)(slash - k));
	if (!prefix || !np_dns_subdomain_valid(prefix))
		return false;
	return name_valid(slash + 1, strlen(slash + 1), false);
}

/* Replace runs of invalid characters with one '_', trim ends to alphanumerics. */
static char *sanitize(const char *raw)
{
	size_t n = strlen(raw);
	char *out = malloc(n + 1);
	if (!out)
		return NULL;
	size_t w = 0;
	bool in_bad = false;
	for (size_t i = 0; i < n; i++) {
		if (is_value_char(raw[i])) {
			out[w++] = raw[i];
			in_bad = false;
		} else if (!in_bad) {
			out[w++] = '_';
			in_bad = true;
		}
	}
	out[w] = '\0';
	size_t a = 0;
	while (a < w && !is_alnum(out[a]))
		a++;
	while (w > a && !is_alnum(out[w - 1]))
		w--;
	memmove(out, out + a, w - a);
	out[w - a] = '\0';
	return out;
}

static void short_hash(const char *raw, char hex[9])
{
	uint8_t md[SHA256_DIGEST_SIZE];
	struct sha256_ctx ctx;
	sha256_init(&ctx);
	sha256_update(&ctx, strlen(raw), (const uint8_t *)raw);
	sha256_digest(&ctx, sizeof(md), md);
	snprintf(hex, 9, "%02x%02x%02x%02x", md[0], md[1], md[2], md[3]);
}

char *np_label_value(const char *raw, size_t keep_tail)
{
	if (np_label_value_valid(raw))
		return strdup(raw);
	_cleanup_free_ char *s = sanitize(raw);
	if (!s)
		return NULL;
	size_t n = strlen(s);
	if (n <= NP_LABEL_VALUE_MAX)
		return TAKE_PTR(s);
	char hex[9];
	short_hash(raw, hex);
	if (keep_tail > 40)
		keep_tail = 40;
	const char *tail = s + n - keep_tail;
	while (*tail && !is_alnum(*tail))
		tail++; /* the tail must start alphanumeric after its '-' */
	size_t tl = strlen(tail);
	size_t head = NP_LABEL_VALUE_MAX - 9 - (tl ? tl + 1 : 0);
	while (head > 0 && !is_alnum(s[head - 1]))
		head--;
	char out[NP_LABEL_VALUE_MAX + 1];
	if (tl)
		snprintf(out, sizeof(out), "%.*s-%s-%s", (int)head, s, hex, tail);
	else
		snprintf(out, sizeof(out), "%.*s-%s", (int)head, s, hex);
	if (head == 0) /* nothing of the head survived: the value is the hash (and tail) */
		memmove(out, out + 1, strlen(out));
	return strdup(out);
}
