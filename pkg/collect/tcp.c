// SPDX-License-Identifier: Apache-2.0
/*
 * tcp.c - TCP counters of the host's network namespace: /proc/1/net/snmp
 * (Tcp:) and /proc/1/net/netstat (TcpExt:) under the host root (PID 1's
 * namespace is the host's, whatever namespace nodeprint runs in), sampled
 * twice with --interval for rates.
 */
#define _GNU_SOURCE
#include "tcp.h"
#include "collector.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <string.h>
#include <time.h>

/* The first line at or after @from that starts with "@proto: ": its text after that, up to *@eol. */
static const char *proto_line(const char *from, const char *end, const char *proto, const char **eol)
{
	size_t pl = strlen(proto);
	for (const char *p = from; p && p < end;) {
		const char *e = memchr(p, '\n', (size_t)(end - p));
		if (!e)
			e = end;
		if ((size_t)(e - p) > pl + 1 && strncmp(p, proto, pl) == 0 && p[pl] == ':' && p[pl + 1] == ' ') {
			*eol = e;
			return p + pl + 2;
		}
		p = e + 1;
	}
	return NULL;
}

/* [@p, *@end) as a C string would end it: at its first NUL. */
static void cut_at_nul(const char *p, const char **end)
{
	const char *z = memchr(p, '\0', (size_t)(*end - p));
	if (z)
		*end = z;
}

/* The next word (separated by spaces) of [*@p, @end) in @w, @n; false when none is left. */
static bool next_word(const char **p, const char *end, const char **w, size_t *n)
{
	while (*p < end && **p == ' ')
		(*p)++;
	if (*p >= end)
		return false;
	*w = *p;
	while (*p < end && **p != ' ')
		(*p)++;
	*n = (size_t)(*p - *w);
	return true;
}

static size_t count_words(const char *p, const char *end)
{
	const char *w;
	size_t n, k = 0;
	while (next_word(&p, end, &w, &n))
		k++;
	return k;
}

/* A value word as np_parse_s64() reads a C string: from a stack copy when it is short. */
static int parse_word(const char *w, size_t n, int64_t *out)
{
	char small[32];
	_cleanup_free_ char *big = NULL;
	char *num = small;
	if (n < sizeof(small)) {
		memcpy(small, w, n);
		small[n] = '\0';
	} else if (!(num = big = strndup(w, n))) {
		return -ENOMEM;
	}
	return np_parse_s64(num, out) < 0 ? -EINVAL : 0;
}

/* The header and value lines walked once, side by side, word by word: no copy of either line. */
int np_snmp_get_many(const char *buf, size_t len, const char *proto, const char *const *names, size_t n,
		     int64_t *out, int *rc)
{
	const char *end = buf + len, *he, *ve;
	for (size_t i = 0; i < n; i++)
		rc[i] = -ENOENT;
	const char *h = proto_line(buf, end, proto, &he);
	if (!h)
		return 0;
	const char *v = he < end ? proto_line(he + 1, end, proto, &ve) : NULL;
	bool ok = v && ve != he;
	if (ok) {
		cut_at_nul(h, &he);
		cut_at_nul(v, &ve);
		ok = count_words(h, he) == count_words(v, ve);
	}
	if (!ok) {
		for (size_t i = 0; i < n; i++)
			rc[i] = -EINVAL;
		return 0;
	}
	size_t hn, vn, left = n;
	const char *hw, *vw;
	while (left && next_word(&h, he, &hw, &hn) && next_word(&v, ve, &vw, &vn)) {
		for (size_t i = 0; i < n; i++) {
			if (rc[i] != -ENOENT || strlen(names[i]) != hn || memcmp(hw, names[i], hn) != 0)
				continue; /* only a name's first column counts */
			if ((rc[i] = parse_word(vw, vn, &out[i])) == -ENOMEM)
				return -ENOMEM;
			left--;
		}
	}
	return 0;
}

int np_snmp_get(const char *buf, size_t len, const char *proto, const char *name, int64_t *out)
{
	int rc;
	int r = np_snmp_get_many(buf, len, proto, &name, 1, out, &rc);
	return r < 0 ? r : rc;
}

static int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Both files, then every counter; a counter missing from this kernel stays !have. */
static int sample(const struct np_host *h, struct np_tcp *s)
{
	static const char *const files[][2] = { { "/proc/1/net/snmp", "/proc/net/snmp" },
						 { "/proc/1/net/netstat", "/proc/net/netstat" } };
	_cleanup_free_ char *snmp = NULL, *netstat = NULL;
	char **dst[] = { &snmp, &netstat };
	size_t lens[2] = { 0 };
	for (size_t f = 0; f < 2; f++) {
		int r = np_host_read(h, files[f][0], 0, dst[f], &lens[f]);
		if (r == -ENOENT)
			r = np_host_read(h, files[f][1], 0, dst[f], &lens[f]);
		if (r < 0) {
			np_status_set(&s->status, r, "%s: %s", files[f][0], np_errno_reason(-r));
			return r;
		}
	}
	/* each protocol's lines walked once for all its counters (np_snmp_get_many()) */
	int rc[NP_TCP__N];
	for (size_t i = 0; i < NP_TCP__N; i++)
		rc[i] = -ENOENT;
	for (size_t f = 0; f < 2; f++) {
		const char *proto = f ? "TcpExt" : "Tcp", *names[NP_TCP__N];
		size_t idx[NP_TCP__N], k = 0;
		int64_t v[NP_TCP__N];
		int got[NP_TCP__N];
		for (size_t i = 0; i < NP_TCP__N; i++)
			if (streq(np_tcp_counter_proto(i), proto)) {
				idx[k] = i;
				names[k++] = np_tcp_counter_name(i);
			}
		int r = np_snmp_get_many(f ? netstat : snmp, lens[f], proto, names, k, v, got);
		if (r < 0)
			return r;
		for (size_t j = 0; j < k; j++) {
			rc[idx[j]] = got[j];
			if (got[j] == 0)
				s->v[idx[j]] = v[j];
		}
	}
	for (size_t i = 0; i < NP_TCP__N; i++) {
		bool ext = streq(np_tcp_counter_proto(i), "TcpExt");
		int r = rc[i];
		s->have[i] = r == 0;
		if (r == -EINVAL)
			np_status_set(&s->status, r, "%s: %s line not understood", ext ? files[1][0] : files[0][0],
				      np_tcp_counter_proto(i));
		if (r == -ENOMEM)
			return r;
	}
	return 0;
}

static int collect_tcp(const struct np_collect_ctx *ctx, struct np_report *rep)
{
	struct np_tcp *s = &rep->tcp;
	s->retrans_percent = -1;
	int r = sample(ctx->host, s);
	memcpy(s->first, s->v, sizeof(s->first));
	s->first_us = mono_us();
	return r;
}

static int resample_tcp(const struct np_collect_ctx *ctx, struct np_report *rep)
{
	struct np_tcp *s = &rep->tcp;
	if (s->status.err)
		return 0;
	bool had[NP_TCP__N];
	memcpy(had, s->have, sizeof(had));
	int r = sample(ctx->host, s);
	if (r < 0)
		return r;
	s->interval_s = (double)(mono_us() - s->first_us) / 1e6;
	if (s->interval_s <= 0)
		return 0;
	s->has_rates = true;
	for (size_t i = 0; i < NP_TCP__N; i++) {
		s->have[i] = s->have[i] && had[i];
		s->rate[i] = s->have[i] && s->v[i] >= s->first[i] ? (double)(s->v[i] - s->first[i]) / s->interval_s : 0;
	}
	int64_t out = s->v[NP_TCP_OUT_SEGS] - s->first[NP_TCP_OUT_SEGS];
	if (s->have[NP_TCP_OUT_SEGS] && s->have[NP_TCP_RETRANS_SEGS] && out > 0)
		s->retrans_percent = 100.0 * (double)(s->v[NP_TCP_RETRANS_SEGS] - s->first[NP_TCP_RETRANS_SEGS]) / (double)out;
	return 0;
}

NP_SECTION(tcp, 42, 32, collect_tcp, resample_tcp);
