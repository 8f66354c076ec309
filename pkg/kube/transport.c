// SPDX-License-Identifier: Apache-2.0
/*
 * transport.c - requests over one reused libcurl handle, with credentials, rate limit,
 * retries and Status decoding. libcurl options: https://curl.se/libcurl/c/curl_easy_setopt.html
 */
#define _GNU_SOURCE
#include "transport.h"
#include "auth.h"
#include "util.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"
#include "../shared/version.h"

#include <curl/curl.h>
#include "curl_dl.h"
#include <inttypes.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#define DEF_QPS 5.0
#define DEF_BURST 10
#define DEF_CONNECT_MS 5000
#define DEF_TIMEOUT_MS 30000
#define DEF_ATTEMPTS 5
#define DEF_BASE_MS 250
#define DEF_CAP_MS 8000
#define DEF_TOTAL_MS 30000
#define DEF_MAX_RESPONSE (32u << 20)
#define STREAM_LINE_MAX (4u << 20)

struct np_kube_client {
	struct np_kube_config cfg;
	struct np_kube_auth auth;
	struct np_kube_client_opts o;
	struct np_kube_clock clock;
	struct np_ratelimit rl;
	struct np_kube_stats stats;
	CURL *h;
	char *base;                  /* scheme://host:port[/prefix], host = tls-server-name when set */
	struct curl_slist *connect_to;
	uint32_t rng;
	uint64_t not_before_ms;      /* a Retry-After we gave up on: no request before (clock ms) */
};

/* what one attempt collected */
struct sink {
	char *buf;
	size_t len, cap, max;
	bool too_big;
	char *retry_after;
	int (*line)(const char *l, size_t len, void *ud);
	void *ud;
	int line_err;
};

static uint64_t real_now(void *ud)
{
	(void)ud;
	return np_now_ms();
}

static void real_sleep(void *ud, uint64_t ms)
{
	(void)ud;
	struct timespec ts = { .tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000 };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static const struct np_kube_clock real_clock = { real_now, real_sleep, NULL };

void np_kube_response_free(struct np_kube_response *r)
{
	free(r->body);
	free(r->error);
	np_kube_status_free(&r->status);
	memset(r, 0, sizeof(*r));
}

const struct np_kube_config *np_kube_client_config(const struct np_kube_client *c)
{
	return &c->cfg;
}

const struct np_kube_stats *np_kube_client_stats(const struct np_kube_client *c)
{
	return &c->stats;
}

static uint32_t rnd(struct np_kube_client *c)
{
	return np_xorshift32(&c->rng);
}

/* Split "https://host:port/prefix" and, with tls-server-name, aim the URL at that name while
 * CURLOPT_CONNECT_TO sends the connection to the real host (SNI and certificate check use it). */
static int parse_server(struct np_kube_client *c, char **err)
{
	const char *s = c->cfg.server, *auth, *slash, *port = NULL, *host_end;
	bool https = np_startswith(s, "https://");
	_cleanup_free_ char *host = NULL, *ct = NULL;

	if (!https && !np_startswith(s, "http://"))
		return np_kube_seterr(err, -EINVAL, "server %s: expected https://HOST[:PORT]", s);
	auth = s + (https ? 8 : 7);
	slash = strchr(auth, '/');
	host_end = slash ? slash : auth + strlen(auth);
	if (*auth == '[') {
		const char *rb = memchr(auth, ']', (size_t)(host_end - auth));
		if (!rb)
			return np_kube_seterr(err, -EINVAL, "server %s: unterminated IPv6 address", s);
		host = strndup(auth, (size_t)(rb + 1 - auth));
		if (rb[1] == ':')
			port = rb + 2;
	} else {
		const char *colon = memchr(auth, ':', (size_t)(host_end - auth));
		host = strndup(auth, (size_t)((colon ? colon : host_end) - auth));
		if (colon)
			port = colon + 1;
	}
	if (!host)
		return -ENOMEM;
	if (!*host || strpbrk(host, "@?# "))
		return np_kube_seterr(err, -EINVAL, "server %s: bad host", s);
	_cleanup_free_ char *portstr = port ? strndup(port, (size_t)(host_end - port)) : strdup(https ? "443" : "80");
	uint64_t pn;
	if (!portstr)
		return -ENOMEM;
	if (np_parse_u64(portstr, &pn) < 0 || pn == 0 || pn > 65535)
		return np_kube_seterr(err, -EINVAL, "server %s: bad port", s);
	const char *name = c->cfg.tls_server_name;
	if (name && (strpbrk(name, ":/@?#[] ") || !*name))
		return np_kube_seterr(err, -EINVAL, "tls-server-name '%s': expected a host name", name);
	c->base = np_asprintf("%s://%s:%" PRIu64 "%s", https ? "https" : "http", name ? name : host, pn,
			      slash ? slash : "");
	if (!c->base)
		return -ENOMEM;
	if (name) {
		ct = np_asprintf("%s:%" PRIu64 ":%s:%" PRIu64, name, pn, host, pn);
		if (!ct || !(c->connect_to = curl_slist_append(NULL, ct)))
			return -ENOMEM;
	}
	return 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct sink *s = ud;
	size_t len = size * n;

	if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
		free(s->retry_after);
		s->retry_after = strndup(p + 12, len - 12);
		if (s->retry_after)
			np_strip(s->retry_after);
	}
	return len;
}

static int emit_lines(struct sink *s)
{
	char *nl;
	size_t off = 0;

	while ((nl = memchr(s->buf + off, '\n', s->len - off))) {
		size_t l = (size_t)(nl - (s->buf + off));
		s->buf[off + l] = '\0';
		if (l > 0 && (s->line_err = s->line(s->buf + off, l, s->ud)) < 0)
			return s->line_err;
		off += l + 1;
	}
	memmove(s->buf, s->buf + off, s->len - off);
	s->len -= off;
	return 0;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct sink *s = ud;
	size_t len = size * n;

	if (s->len + len > s->max) {
		s->too_big = true;
		return 0;
	}
	if (s->len + len + 1 > s->cap) {
		size_t cap = (s->len + len + 1) * 2;
		char *nb = realloc(s->buf, cap);
		if (!nb)
			return 0;
		s->buf = nb;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, p, len);
	s->len += len;
	s->buf[s->len] = '\0';
	if (s->line && emit_lines(s) < 0)
		return 0;
	return len;
}

static int setup_handle(struct np_kube_client *c, CURL *h)
{
	const struct np_kube_config *k = &c->cfg;
	CURLcode e = CURLE_OK;

#define SET(opt, val) \
	if (e == CURLE_OK) \
	e = curl_easy_setopt(h, opt, val)
	SET(CURLOPT_USERAGENT, "nodeprint/" NODEPRINT_VERSION);
	SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_CONNECTTIMEOUT_MS, c->o.connect_timeout_ms);
	SET(CURLOPT_PROTOCOLS_STR, "https,http");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_ACCEPT_ENCODING, "");
	SET(CURLOPT_SSL_VERIFYPEER, k->insecure_skip_tls_verify ? 0L : 1L);
	SET(CURLOPT_SSL_VERIFYHOST, k->insecure_skip_tls_verify ? 0L : 2L);
	if (k->ca_pem) {
		struct curl_blob b = { .data = k->ca_pem, .len = k->ca_len, .flags = CURL_BLOB_COPY };
		SET(CURLOPT_CAINFO_BLOB, &b);
	}
	if (c->connect_to)
		SET(CURLOPT_CONNECT_TO, c->connect_to);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_WRITEFUNCTION, on_body);
#undef SET
	return e == CURLE_OK ? 0 : -EIO;
}

int np_kube_client_new(struct np_kube_config *cfg, const struct np_kube_client_opts *o,
		       struct np_kube_client **out, char **err)
{
	struct np_kube_client *c = calloc(1, sizeof(*c));
	int r;

	if (!c) {
		np_kube_config_free(cfg);
		return -ENOMEM;
	}
	c->cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg));
	if (o)
		c->o = *o;
	if (c->o.qps == 0)
		c->o.qps = DEF_QPS;
	if (!c->o.burst)
		c->o.burst = DEF_BURST;
	if (c->o.connect_timeout_ms <= 0)
		c->o.connect_timeout_ms = DEF_CONNECT_MS;
	if (c->o.timeout_ms <= 0)
		c->o.timeout_ms = DEF_TIMEOUT_MS;
	if (!c->o.retry.max_attempts)
		c->o.retry.max_attempts = DEF_ATTEMPTS;
	if (!c->o.retry.base_ms)
		c->o.retry.base_ms = DEF_BASE_MS;
	if (!c->o.retry.cap_ms)
		c->o.retry.cap_ms = DEF_CAP_MS;
	if (!c->o.retry.max_total_ms)
		c->o.retry.max_total_ms = DEF_TOTAL_MS;
	if (!c->o.max_response_bytes)
		c->o.max_response_bytes = DEF_MAX_RESPONSE;
	c->clock = c->o.clock ? *c->o.clock : real_clock;
	np_ratelimit_init(&c->rl, c->o.qps, c->o.burst, c->clock.now_ms(c->clock.ud));
	np_kube_auth_init(&c->auth, &c->cfg, c->o.exec_timeout_ms);
	if (getrandom(&c->rng, sizeof(c->rng), GRND_NONBLOCK) != sizeof(c->rng) || !c->rng)
		c->rng = (uint32_t)np_now_ms() | 1;
	r = np_curl_load(err);
	if (r >= 0)
		curl_global_init(CURL_GLOBAL_DEFAULT);
	if (r >= 0)
		r = parse_server(c, err);
	if (r >= 0 && !(c->h = curl_easy_init()))
		r = -ENOMEM;
	if (r >= 0 && (r = setup_handle(c, c->h)) < 0)
		np_kube_seterr(err, r, "libcurl refused an option (libcurl too old?)");
	if (r < 0) {
		np_kube_client_free(c);
		return r;
	}
	*out = c;
	return 0;
}

void np_kube_client_free(struct np_kube_client *c)
{
	if (!c)
		return;
	if (c->h)
		curl_easy_cleanup(c->h);
	curl_slist_free_all(c->connect_to);
	np_kube_auth_free(&c->auth);
	np_kube_config_free(&c->cfg);
	free(c->base);
	free(c);
}

static int curl_errno(CURLcode e)
{
	switch (e) {
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
		return -EHOSTUNREACH;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return -ECONNRESET;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
		return -EPROTO;
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
		return -EINVAL;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

static bool retryable_conn(CURLcode e, const char *method)
{
	if (e == CURLE_COULDNT_CONNECT || e == CURLE_COULDNT_RESOLVE_HOST)
		return true; /* nothing reached the server */
	if (streq(method, "POST"))
		return false; /* the object may exist already */
	return e == CURLE_OPERATION_TIMEDOUT || e == CURLE_GOT_NOTHING || e == CURLE_SEND_ERROR ||
	       e == CURLE_RECV_ERROR || e == CURLE_PARTIAL_FILE || e == CURLE_HTTP2 || e == CURLE_HTTP2_STREAM ||
	       e == CURLE_SSL_CONNECT_ERROR;
}

static bool retryable_http(long code)
{
	return code == 429 || code == 500 || code == 502 || code == 503 || code == 504;
}

void np_kube_client_set_accept(struct np_kube_client *c, const char *accept)
{
	c->o.accept = accept;
}

/* One attempt. Returns the CURLcode; *@code gets the HTTP status. */
static CURLcode attempt(struct np_kube_client *c, CURL *h, const char *method, const char *url, const char *ctype,
			const char *body, size_t blen, long timeout_ms, struct sink *s, long *code, char *errbuf)
{
	struct curl_slist *hd = NULL;
	const char *tok = np_kube_auth_token(&c->auth);
	_cleanup_free_ char *authz = tok ? np_asprintf("Authorization: Bearer %s", tok) : NULL;
	_cleanup_free_ char *ct = ctype ? np_asprintf("Content-Type: %s", ctype) : NULL;
	_cleanup_free_ char *accept = np_asprintf("Accept: %s", c->o.accept ? c->o.accept : "application/json");
	size_t cl, kl;
	const char *cert = np_kube_auth_cert(&c->auth, &cl), *key = np_kube_auth_key(&c->auth, &kl);
	CURLcode e;

	hd = accept ? curl_slist_append(hd, accept) : NULL;
	if (authz)
		hd = curl_slist_append(hd, authz);
	if (ct)
		hd = curl_slist_append(hd, ct);
	if (!hd || !accept || (tok && !authz) || (ctype && !ct)) {
		curl_slist_free_all(hd);
		return CURLE_OUT_OF_MEMORY;
	}
	errbuf[0] = '\0';
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, s);
	if (cert && key) {
		struct curl_blob cb = { .data = (void *)cert, .len = cl, .flags = CURL_BLOB_COPY };
		struct curl_blob kb = { .data = (void *)key, .len = kl, .flags = CURL_BLOB_COPY };
		curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cb);
		curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
		curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &kb);
	}
	if (streq(method, "GET")) {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
	} else {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? blen : 0));
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, streq(method, "POST") ? NULL : method);
	}
	c->stats.requests++;
	e = curl_easy_perform(h);
	*code = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, code);
	long nc = 0, ver = 0;
	curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &nc);
	curl_easy_getinfo(h, CURLINFO_HTTP_VERSION, &ver);
	c->stats.connects += (unsigned)nc;
	c->stats.http_version = ver == CURL_HTTP_VERSION_2_0 ? 20 : ver == CURL_HTTP_VERSION_1_1 ? 11 : ver == CURL_HTTP_VERSION_1_0 ? 10 : 0;
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hd);
	return e;
}

static void sink_reset(struct sink *s)
{
	free(s->buf);
	free(s->retry_after);
	s->buf = s->retry_after = NULL;
	s->len = s->cap = 0;
	s->too_big = false;
	s->line_err = 0;
}

/* Fill @resp with the failure of the last attempt; returns its errno. */
static int fail(struct np_kube_response *resp, const char *method, const char *path, CURLcode e, long code,
		struct sink *s, const char *errbuf, unsigned attempts)
{
	const char *after = attempts > 1 ? " (after retries)" : "";
	int r;

	np_kube_status_free(&resp->status);
	if (s->too_big)
		return np_kube_seterr(&resp->error, -EFBIG, "%s %s: answer larger than %zu bytes", method, path, s->max);
	if (e != CURLE_OK && e != CURLE_WRITE_ERROR)
		return np_kube_seterr(&resp->error, curl_errno(e), "%s %s: %s%s", method, path,
				      *errbuf ? errbuf : curl_easy_strerror(e), after);
	np_kube_status_parse(s->buf, s->len, &resp->status);
	if (!resp->status.code)
		resp->status.code = (int)code;
	r = np_kube_errno((int)code, resp->status.reason);
	return np_kube_seterr(&resp->error, r ? r : -EIO, "%s %s: %ld %s: %s%s", method, path, code,
			      resp->status.reason ? resp->status.reason : "", resp->status.message ? resp->status.message : "",
			      after);
}

static void wait_ms(struct np_kube_client *c, uint64_t ms)
{
	if (ms)
		c->clock.sleep_ms(c->clock.ud, ms);
}

/* Count one attempt by verb and status code (a full table counts nothing more: metrics only). */
static void count_code(struct np_kube_stats *st, const char *method, long code)
{
	for (size_t i = 0; i < st->n_by_code; i++)
		if (st->by_code[i].code == code && strcmp(st->by_code[i].verb, method) == 0) {
			st->by_code[i].n++;
			return;
		}
	if (st->n_by_code == sizeof(st->by_code) / sizeof(st->by_code[0]))
		return;
	struct np_kube_code_count *cc = &st->by_code[st->n_by_code++];
	snprintf(cc->verb, sizeof(cc->verb), "%s", method);
	cc->code = code;
	cc->n = 1;
}

static int run(struct np_kube_client *c, CURL *h, const char *method, const char *path, const char *ctype,
	       const char *body, size_t blen, struct sink *s, long timeout_ms, bool retries, struct np_kube_response *resp)
{
	_cleanup_free_ char *url = np_asprintf("%s%s", c->base, path);
	uint64_t start = c->clock.now_ms(c->clock.ud);
	bool auth_retried = false;
	char errbuf[CURL_ERROR_SIZE];
	unsigned n = 0;
	int r;

	if (!url)
		return -ENOMEM;
	if (path[0] != '/')
		return np_kube_seterr(&resp->error, -EINVAL, "%s %s: path must start with '/'", method, path);
	if (start < c->not_before_ms) { /* the server asked for quiet after an earlier request */
		c->stats.held_back++;
		return np_kube_seterr(&resp->error, -EBUSY, "%s %s: not sent: the server asked for no request for "
				      "another %" PRIu64 " ms (Retry-After)", method, path, c->not_before_ms - start);
	}
	for (;;) {
		long code = 0;
		uint64_t delay, now = c->clock.now_ms(c->clock.ud);
		uint64_t w = np_ratelimit_reserve(&c->rl, now);
		CURLcode e;

		c->stats.throttled_ms += w;
		wait_ms(c, w);
		now = c->clock.now_ms(c->clock.ud);
		r = np_kube_auth_prepare(&c->auth, now, time(NULL), &resp->error);
		if (r < 0)
			return r;
		sink_reset(s);
		n++;
		resp->attempts = n;
		e = attempt(c, h, method, url, ctype, body, blen, timeout_ms, s, &code, errbuf);
		resp->http_code = code;
		count_code(&c->stats, method, code);
		if (e == CURLE_OK && code >= 200 && code < 300)
			return 0;
		if (e == CURLE_WRITE_ERROR && s->line_err < 0)
			return s->line_err; /* the stream's consumer stopped */
		if (e == CURLE_OK && code == 401 && !auth_retried && np_kube_auth_invalidate(&c->auth)) {
			auth_retried = true; /* a rotated token or expired exec credential: once, at once */
			c->stats.auth_refreshes++;
			n--;
			continue;
		}
		bool again = retries && ((e == CURLE_OK && retryable_http(code)) ||
					 (e != CURLE_OK && e != CURLE_WRITE_ERROR && retryable_conn(e, method)));
		uint64_t ra;
		bool asked = e == CURLE_OK && s->retry_after && np_parse_retry_after(s->retry_after, time(NULL), &ra) == 0;
		now = c->clock.now_ms(c->clock.ud);
		if (asked && (code == 429 || code == 503) && (!again || n >= c->o.retry.max_attempts || now + ra - start > c->o.retry.max_total_ms))
			c->not_before_ms = now + ra; /* given up: the next requests wait for it too */
		if (!again || n >= c->o.retry.max_attempts)
			return fail(resp, method, path, e, code, s, errbuf, n);
		delay = asked ? ra : np_backoff_delay_ms(&c->o.retry, n, rnd(c));
		if (now + delay - start > c->o.retry.max_total_ms) {
			r = fail(resp, method, path, e, code, s, errbuf, n);
			char *m = np_asprintf("%s; giving up: next retry in %" PRIu64 " ms is past the %" PRIu64 " ms budget",
					      resp->error ? resp->error : "", delay, c->o.retry.max_total_ms);
			if (m) {
				free(resp->error);
				resp->error = m;
			}
			return r;
		}
		c->stats.retries++;
		c->stats.backoff_ms += delay;
		wait_ms(c, delay);
	}
}

int np_kube_request(struct np_kube_client *c, const char *method, const char *path, const char *content_type,
		    const char *body, size_t body_len, struct np_kube_response *resp)
{
	struct sink s = { .max = c->o.max_response_bytes };
	int r;

	memset(resp, 0, sizeof(*resp));
	r = run(c, c->h, method, path, content_type, body, body_len, &s, c->o.timeout_ms, true, resp);
	if (r == 0) {
		resp->body = s.buf ? TAKE_PTR(s.buf) : strdup("");
		resp->len = s.len;
		if (!resp->body)
			r = -ENOMEM;
	} else if (!resp->body && s.buf) {
		resp->body = TAKE_PTR(s.buf);
		resp->len = s.len;
	}
	sink_reset(&s);
	return r;
}

int np_kube_stream(struct np_kube_client *c, const char *path, long timeout_ms,
		   int (*line)(const char *l, size_t len, void *ud), void *ud, struct np_kube_response *resp)
{
	struct sink s = { .max = STREAM_LINE_MAX, .line = line, .ud = ud };
	CURL *h = curl_easy_init();
	int r;

	memset(resp, 0, sizeof(*resp));
	if (!h)
		return -ENOMEM;
	r = setup_handle(c, h);
	if (r >= 0)
		r = run(c, h, "GET", path, NULL, NULL, 0, &s, timeout_ms > 0 ? timeout_ms : 0, false, resp);
	if (r == 0 && s.len > 0 && (r = s.line(s.buf, s.len, ud)) > 0)
		r = 0; /* a last line without newline */
	curl_easy_cleanup(h);
	sink_reset(&s);
	return r;
}
