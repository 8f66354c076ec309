// SPDX-License-Identifier: Apache-2.0
/*
 * The client's transport and operations: pacing functions (rate limit, backoff, Retry-After),
 * Status decoding and errno mapping, in-cluster config, credentials, and the whole request path
 * against a scripted HTTP responder on 127.0.0.1 (a thread of this test) with an injected clock,
 * so retries and waits are asserted as values, never timed.
 * (The same paths against the real test API server: tests/kube/test_client.sh.)
 */
#define _GNU_SOURCE
#include "testutil.h"
#include "../../pkg/agent/publish.h"
#include "../../pkg/kube/api.h"
#include "../../pkg/kube/auth.h"
#include "../../pkg/kube/incluster.h"
#include "../../pkg/kube/retry.h"
#include "../../pkg/kube/transport.h"
#include "../../pkg/kube/util.h"
#include "../../pkg/shared/macro.h"
#include "../../pkg/shared/strutil.h"
#include "../../pkg/shared/version.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------- pure functions ---------- */

static void test_ratelimit(void **state)
{
	(void)state;
	struct np_ratelimit rl;
	np_ratelimit_init(&rl, 5, 10, 1000);
	/* the burst goes at once */
	for (int i = 0; i < 10; i++)
		assert_int_equal(np_ratelimit_reserve(&rl, 1000), 0);
	/* then one every 200 ms: the 11th waits 200, the 12th 400 (debt accumulates) */
	assert_int_equal(np_ratelimit_reserve(&rl, 1000), 200);
	assert_int_equal(np_ratelimit_reserve(&rl, 1000), 400);
	/* 1 s later 5 tokens came back: debt of 2 paid, 3 left, so 3 go at once, then a wait */
	assert_int_equal(np_ratelimit_reserve(&rl, 2000), 0);
	assert_int_equal(np_ratelimit_reserve(&rl, 2000), 0);
	assert_int_equal(np_ratelimit_reserve(&rl, 2000), 0);
	assert_int_equal(np_ratelimit_reserve(&rl, 2000), 200);
	/* an idle hour refills only up to the burst */
	np_ratelimit_reserve(&rl, 2000 + 3600000);
	for (int i = 0; i < 9; i++)
		assert_int_equal(np_ratelimit_reserve(&rl, 2000 + 3600000), 0);
	assert_int_equal(np_ratelimit_reserve(&rl, 2000 + 3600000), 200);
	/* unlimited */
	np_ratelimit_init(&rl, -1, 1, 0);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(np_ratelimit_reserve(&rl, 0), 0);
}

static void test_backoff_bounds(void **state)
{
	(void)state;
	struct np_backoff b = { .max_attempts = 5, .base_ms = 250, .cap_ms = 8000, .max_total_ms = 30000 };
	static const uint64_t nominal[] = { 0, 250, 500, 1000, 2000, 4000, 8000, 8000, 8000 };
	uint32_t seeds[] = { 0, 1, 124, 125, 126, 0x7fffffff, 0xffffffff, 12345678 };
	for (unsigned retry = 1; retry < 9; retry++) {
		uint64_t lo = UINT64_MAX, hi = 0;
		for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
			uint64_t d = np_backoff_delay_ms(&b, retry, seeds[i]);
			assert_true(d >= nominal[retry] / 2);
			assert_true(d <= nominal[retry]);
			lo = d < lo ? d : lo;
			hi = d > hi ? d : hi;
		}
		assert_true(hi > lo); /* jitter spreads the retries of many agents */
	}
	assert_int_equal(np_backoff_delay_ms(&b, 1, 0), 125);
	assert_int_equal(np_backoff_delay_ms(&b, 1, 125), 250);
	assert_int_equal(np_backoff_delay_ms(&b, 60, 0), 4000); /* no overflow with many retries */
	/* the agent's resync periods: in [d/2, d], spread over it by the generator */
	uint32_t st = 0x9e3779b9;
	uint64_t lo = UINT64_MAX, hi = 0;
	for (int i = 0; i < 1000; i++) {
		uint64_t d = np_jitter_ms(300000, np_xorshift32(&st));
		assert_true(d >= 150000 && d <= 300000);
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	assert_true(lo < 160000 && hi > 290000);
	assert_int_equal(np_jitter_ms(0, 7), 0);
	assert_int_equal(np_jitter_ms(1, 0), 0);
}

static void test_retry_after(void **state)
{
	(void)state;
	uint64_t ms;
	assert_int_equal(np_parse_retry_after("3", 0, &ms), 0);
	assert_int_equal(ms, 3000);
	assert_int_equal(np_parse_retry_after(" 0 ", 0, &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(np_parse_retry_after("99999999999999999999", 0, &ms), 0);
	assert_int_equal(ms, 86400000); /* clamped to a day */
	/* RFC 9110's example date, 10 s after "now" */
	assert_int_equal(np_parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111767, &ms), 0);
	assert_int_equal(ms, 10000);
	assert_int_equal(np_parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111787, &ms), 0);
	assert_int_equal(ms, 0); /* in the past: now */
	assert_int_equal(np_parse_retry_after("-1", 0, &ms), -EINVAL);
	assert_int_equal(np_parse_retry_after("1.5", 0, &ms), -EINVAL);
	assert_int_equal(np_parse_retry_after("soon", 0, &ms), -EINVAL);
	assert_int_equal(np_parse_retry_after("", 0, &ms), -EINVAL);
}

static void test_status_decoding(void **state)
{
	(void)state;
	/* a real kube-apiserver 409 body (optimistic concurrency) */
	static const char conflict[] =
		"{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":"
		"\"Operation cannot be fulfilled on nodes \\\"n1\\\": the object has been modified; please apply your "
		"changes to the latest version and try again\",\"reason\":\"Conflict\",\"details\":{\"name\":\"n1\","
		"\"kind\":\"nodes\"},\"code\":409}\n";
	struct np_kube_status st;
	assert_int_equal(np_kube_status_parse(conflict, sizeof(conflict) - 1, &st), 0);
	assert_int_equal(st.code, 409);
	assert_string_equal(st.reason, "Conflict");
	assert_string_equal(st.status, "Failure");
	assert_non_null(strstr(st.message, "the object has been modified"));
	assert_int_equal(np_kube_errno(st.code, st.reason), -ESTALE);
	np_kube_status_free(&st);
	/* a proxy's HTML page: not a Status, but its text is kept for the message */
	assert_int_equal(np_kube_status_parse("<html>\n502 Bad Gateway</html>", 29, &st), -EINVAL);
	assert_string_equal(st.message, "<html> 502 Bad Gateway</html>");
	np_kube_status_free(&st);
	assert_int_equal(np_kube_status_parse("{\"kind\":\"Node\"}", 15, &st), -EINVAL);
	np_kube_status_free(&st);
	assert_int_equal(np_kube_status_parse(NULL, 0, &st), -EINVAL);
	assert_null(st.message);

	assert_int_equal(np_kube_errno(200, NULL), 0);
	assert_int_equal(np_kube_errno(201, NULL), 0);
	assert_int_equal(np_kube_errno(400, "BadRequest"), -EBADMSG);
	assert_int_equal(np_kube_errno(401, "Unauthorized"), -EACCES);
	assert_int_equal(np_kube_errno(403, "Forbidden"), -EPERM);
	assert_int_equal(np_kube_errno(404, "NotFound"), -ENOENT);
	assert_int_equal(np_kube_errno(409, "AlreadyExists"), -EEXIST);
	assert_int_equal(np_kube_errno(410, "Expired"), -ETIME);
	assert_int_equal(np_kube_errno(415, "UnsupportedMediaType"), -EPROTONOSUPPORT);
	assert_int_equal(np_kube_errno(422, "Invalid"), -EINVAL);
	assert_int_equal(np_kube_errno(429, "TooManyRequests"), -EBUSY);
	assert_int_equal(np_kube_errno(500, "InternalError"), -EIO);
	assert_int_equal(np_kube_errno(503, "ServiceUnavailable"), -EAGAIN);
	assert_int_equal(np_kube_errno(500, "Timeout"), -ETIMEDOUT);
	assert_int_equal(np_kube_errno(418, NULL), -EPROTO);
}

static void test_names_and_decoders(void **state)
{
	(void)state;
	assert_true(np_kube_name_valid("node-1.example.com"));
	assert_true(np_kube_name_valid("a"));
	assert_false(np_kube_name_valid(""));
	assert_false(np_kube_name_valid("Node1"));
	assert_false(np_kube_name_valid("-a"));
	assert_false(np_kube_name_valid("a-"));
	assert_false(np_kube_name_valid("a..b"));
	assert_false(np_kube_name_valid("a/b"));
	assert_false(np_kube_name_valid("a?watch=1"));

	json_t *o, *obj;
	const char *cont, *type;
	static const char list[] = "{\"kind\":\"NodeList\",\"metadata\":{\"resourceVersion\":\"9\",\"continue\":\"eyJ2\"},"
				   "\"items\":[{\"metadata\":{\"name\":\"a\"}}]}";
	assert_int_equal(np_kube_parse_list(list, sizeof(list) - 1, &o, &cont), 0);
	assert_string_equal(cont, "eyJ2");
	assert_int_equal(json_array_size(json_object_get(o, "items")), 1);
	json_decref(o);
	static const char last[] = "{\"kind\":\"PodList\",\"metadata\":{\"continue\":\"\"},\"items\":null}";
	assert_int_equal(np_kube_parse_list(last, sizeof(last) - 1, &o, &cont), 0);
	assert_null(cont);
	assert_int_equal(json_array_size(json_object_get(o, "items")), 0);
	json_decref(o);
	assert_int_equal(np_kube_parse_list("{\"items\":{}}", 12, &o, &cont), -EBADMSG);
	assert_int_equal(np_kube_parse_list("[]", 2, &o, &cont), -EBADMSG);

	static const char ev[] = "{\"type\":\"MODIFIED\",\"object\":{\"kind\":\"Node\",\"metadata\":{\"resourceVersion\":\"12\"}}}";
	assert_int_equal(np_kube_parse_watch_line(ev, sizeof(ev) - 1, &o, &type, &obj), 0);
	assert_string_equal(type, "MODIFIED");
	assert_string_equal(json_string_value(json_object_get(obj, "kind")), "Node");
	json_decref(o);
	static const char gone[] = "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,\"reason\":\"Expired\"}}";
	assert_int_equal(np_kube_parse_watch_line(gone, sizeof(gone) - 1, &o, &type, &obj), -ETIME);
	assert_int_equal(np_kube_parse_object("{\"kind\":\"Pod\"}", 14, "Node", &o), -EBADMSG);
}

/* answers recorded from the test API server (k8s.io/apiserver), kept as fuzz seeds */
static void test_real_captures(void **state)
{
	(void)state;
	static const struct {
		const char *file, *reason;
		int code, err;
		const char *msg;
	} st[] = {
		{ "real-status-404.json", "NotFound", 404, -ENOENT, "nodes \"ghost\" not found" },
		{ "real-status-409.json", "Conflict", 409, -ESTALE, "the object has been modified" },
		{ "real-status-422-label.json", "Invalid", 422, -EINVAL, "metadata.labels: Invalid value: \"b c\"" },
		{ "real-status-422-jsonpatch-test.json", "Invalid", 422, -EINVAL, "the server rejected our request" },
	};
	for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
		char rel[128];
		size_t len;
		struct np_kube_status s;
		snprintf(rel, sizeof(rel), "tests/fuzz/corpus/kube_response/%s", st[i].file);
		char *body = np_slurp(rel, &len);
		assert_int_equal(np_kube_status_parse(body, len, &s), 0);
		assert_int_equal(s.code, st[i].code);
		assert_string_equal(s.reason, st[i].reason);
		assert_non_null(strstr(s.message, st[i].msg));
		assert_int_equal(np_kube_errno(s.code, s.reason), st[i].err);
		np_kube_status_free(&s);
		free(body);
	}
	size_t len;
	json_t *o;
	const char *cont;
	char *body = np_slurp("tests/fuzz/corpus/kube_response/real-nodelist-page1.json", &len);
	assert_int_equal(np_kube_parse_list(body, len, &o, &cont), 0);
	assert_int_equal(json_array_size(json_object_get(o, "items")), 2);
	assert_non_null(cont);
	assert_true(np_startswith(cont, "eyJ2Ijoi")); /* base64 of {"v": ... the apiserver's continue token */
	json_decref(o);
	free(body);
	body = np_slurp("tests/fuzz/corpus/kube_response/real-node.json", &len);
	assert_int_equal(np_kube_parse_object(body, len, "Node", &o), 0);
	json_t *t = json_array_get(json_object_get(json_object_get(o, "spec"), "taints"), 0);
	assert_string_equal(json_string_value(json_object_get(t, "key")), "example.com/x");
	assert_string_equal(json_string_value(json_object_get(t, "effect")), "NoSchedule");
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "metadata"), "resourceVersion")), "11");
	json_decref(o);
	free(body);
	body = np_slurp("tests/fuzz/corpus/kube_response/real-watch-line.json", &len);
	const char *type;
	json_t *obj;
	assert_int_equal(np_kube_parse_watch_line(body, len, &o, &type, &obj), 0);
	assert_string_equal(json_string_value(json_object_get(obj, "kind")), "Node");
	json_decref(o);
	free(body);
}

/* ---------- in-cluster and credentials ---------- */

static char tmpdir[256];

static void put(const char *rel, const char *content)
{
	char path[512], *slash;
	snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
	for (slash = strchr(path + strlen(tmpdir) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	/* write-and-rename, as the kubelet's atomic writer swaps the token */
	char tmp[600];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
	assert_int_equal(rename(tmp, path), 0);
}

static const char *tp(const char *rel)
{
	static char buf[4][512];
	static int i;
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", tmpdir, rel);
	return buf[i];
}

static void test_incluster(void **state)
{
	(void)state;
	struct np_kube_config c;
	char *err = NULL;

	put("sa/var/run/secrets/kubernetes.io/serviceaccount/token", "tok-1\n");
	put("sa/var/run/secrets/kubernetes.io/serviceaccount/ca.crt", "-----BEGIN CERTIFICATE-----\nSA\n");
	put("sa/var/run/secrets/kubernetes.io/serviceaccount/namespace", "nodeprint-system");
	assert_int_equal(np_incluster_load("fd00:10:96::1", "443", tp("sa"), &c, &err), 0);
	assert_string_equal(c.server, "https://[fd00:10:96::1]:443");
	assert_string_equal(c.token_file, tp("sa/var/run/secrets/kubernetes.io/serviceaccount/token"));
	assert_null(c.token); /* never copied: re-read as it rotates */
	assert_string_equal(c.ca_pem, "-----BEGIN CERTIFICATE-----\nSA\n");
	assert_string_equal(c.namespace, "nodeprint-system");
	assert_string_equal(c.context, "in-cluster");
	np_kube_config_free(&c);
	assert_int_equal(np_incluster_load("10.96.0.1", "6443", tp("sa"), &c, &err), 0);
	assert_string_equal(c.server, "https://10.96.0.1:6443");
	np_kube_config_free(&c);
	assert_int_equal(np_incluster_load("10.96.0.1", "http", tp("sa"), &c, &err), -EINVAL);
	assert_non_null(strstr(err, "KUBERNETES_SERVICE_PORT"));
	assert_int_equal(np_incluster_load(NULL, "443", tp("sa"), &c, &err), -ENOENT);
	assert_int_equal(np_incluster_load("10.96.0.1", "443", tp("nowhere"), &c, &err), -ENOENT);
	assert_non_null(strstr(err, "nowhere/var/run/secrets/kubernetes.io/serviceaccount/token"));
	free(err);
}

static void test_token_file_rotation(void **state)
{
	(void)state;
	struct np_kube_config cfg = { 0 };
	struct np_kube_auth a;
	char *err = NULL;

	put("rot/token", "first\n");
	cfg.token_file = strdup(tp("rot/token"));
	np_kube_auth_init(&a, &cfg, 0);
	assert_int_equal(np_kube_auth_prepare(&a, 1000, 0, &err), 0);
	assert_string_equal(np_kube_auth_token(&a), "first");
	put("rot/token", "second");
	/* 59 s later the cached copy is still used */
	assert_int_equal(np_kube_auth_prepare(&a, 1000 + 59000, 0, &err), 0);
	assert_string_equal(np_kube_auth_token(&a), "first");
	assert_int_equal(a.file_reads, 1);
	/* at 60 s it is re-read */
	assert_int_equal(np_kube_auth_prepare(&a, 1000 + 60000, 0, &err), 0);
	assert_string_equal(np_kube_auth_token(&a), "second");
	/* a 401 forces a re-read at once */
	put("rot/token", "third");
	assert_true(np_kube_auth_invalidate(&a));
	assert_int_equal(np_kube_auth_prepare(&a, 1000 + 60001, 0, &err), 0);
	assert_string_equal(np_kube_auth_token(&a), "third");
	assert_int_equal(a.file_reads, 3);
	/* mid-rotation the file is empty: the last good token stays in use */
	put("rot/token", "");
	assert_true(np_kube_auth_invalidate(&a));
	assert_int_equal(np_kube_auth_prepare(&a, 1000 + 60002, 0, &err), 0);
	assert_string_equal(np_kube_auth_token(&a), "third");
	assert_non_null(strstr(err, "is empty"));
	np_kube_auth_free(&a);
	/* with no earlier token, an empty file is an error */
	np_kube_auth_init(&a, &cfg, 0);
	assert_int_equal(np_kube_auth_prepare(&a, 0, 0, &err), -EINVAL);
	np_kube_auth_free(&a);
	/* a static token cannot be refreshed: no point retrying a 401 */
	struct np_kube_config st = { .token = "static" };
	np_kube_auth_init(&a, &st, 0);
	assert_false(np_kube_auth_invalidate(&a));
	assert_string_equal(np_kube_auth_token(&a), "static");
	free(cfg.token_file);
	free(err);
}

/* ---------- scripted HTTP responder ---------- */

struct reply {
	const char *head;  /* "500 Internal Server Error\r\nRetry-After: 3" or "drop" */
	const char *body;
};

#define MAXREQ 32
struct seen {
	char line[512];
	char auth[256];
	char ctype[128];
	char ua[128];
	char body[2048];
};

static struct {
	int lfd, port;
	const struct reply *script;
	size_t nscript;
	struct seen seen[MAXREQ];
	size_t nseen;
	pthread_t th;
} srv;

static void header_value(const char *req, const char *name, char *out, size_t n)
{
	const char *p = strcasestr(req, name);
	out[0] = '\0';
	if (!p)
		return;
	p += strlen(name);
	while (*p == ' ')
		p++;
	size_t l = strcspn(p, "\r\n");
	snprintf(out, n, "%.*s", (int)l, p);
}

static void *serve(void *arg)
{
	(void)arg;
	int fd = -1;
	for (size_t i = 0; i < srv.nscript; i++) {
		char req[8192];
		size_t n = 0;
		char *eoh = NULL;
		for (;;) {
			if (fd < 0 && (fd = accept(srv.lfd, NULL, NULL)) < 0)
				return NULL;
			ssize_t k = read(fd, req + n, sizeof(req) - 1 - n);
			if (k <= 0) { /* the client closed a kept-alive connection: take the next one */
				close(fd);
				fd = -1;
				n = 0;
				continue;
			}
			n += (size_t)k;
			req[n] = '\0';
			if ((eoh = strstr(req, "\r\n\r\n"))) {
				char cl[32];
				header_value(req, "\nContent-Length:", cl, sizeof(cl));
				size_t want = (size_t)(eoh + 4 - req) + (size_t)atol(cl);
				while (n < want && n < sizeof(req) - 1) {
					k = read(fd, req + n, sizeof(req) - 1 - n);
					if (k <= 0)
						break;
					n += (size_t)k;
				}
				req[n] = '\0';
				break;
			}
		}
		struct seen *s = &srv.seen[srv.nseen < MAXREQ ? srv.nseen++ : MAXREQ - 1];
		snprintf(s->line, sizeof(s->line), "%.*s", (int)strcspn(req, "\r\n"), req);
		header_value(req, "\nAuthorization:", s->auth, sizeof(s->auth));
		header_value(req, "\nContent-Type:", s->ctype, sizeof(s->ctype));
		header_value(req, "\nUser-Agent:", s->ua, sizeof(s->ua));
		snprintf(s->body, sizeof(s->body), "%s", eoh + 4);
		const struct reply *r = &srv.script[i];
		if (streq(r->head, "drop")) {
			close(fd);
			fd = -1;
			continue;
		}
		char *out = NULL;
		int len = asprintf(&out, "HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
				   r->head, strlen(r->body ? r->body : ""), r->body ? r->body : "");
		/* a short write means the client went away: its problem shows in its result */
		if (len > 0 && write(fd, out, (size_t)len) != len)
			fprintf(stderr, "# responder: short write\n");
		free(out);
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void start(const struct reply *script, size_t n)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	memset(srv.seen, 0, sizeof(srv.seen));
	srv.nseen = 0;
	srv.script = script;
	srv.nscript = n;
	srv.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(srv.lfd >= 0);
	assert_int_equal(bind(srv.lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(srv.lfd, 8), 0);
	assert_int_equal(getsockname(srv.lfd, (struct sockaddr *)&a, &al), 0);
	srv.port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&srv.th, NULL, serve, NULL), 0);
}

static void stop(void)
{
	shutdown(srv.lfd, SHUT_RDWR);
	close(srv.lfd);
	pthread_join(srv.th, NULL);
}

/* the injected clock: sleeping advances time and is recorded */
static struct {
	uint64_t now;
	uint64_t sleeps[32];
	size_t n;
} fake;

static uint64_t fake_now(void *ud)
{
	(void)ud;
	return fake.now;
}

static void fake_sleep(void *ud, uint64_t ms)
{
	(void)ud;
	if (fake.n < 32)
		fake.sleeps[fake.n++] = ms;
	fake.now += ms;
}

static const struct np_kube_clock fclock = { fake_now, fake_sleep, NULL };

static struct np_kube_client *client(const char *token_file, double qps, size_t max_body)
{
	struct np_kube_config cfg = { 0 };
	struct np_kube_client_opts o = { .qps = qps ? qps : -1, .clock = &fclock, .max_response_bytes = max_body,
					 .timeout_ms = 5000 };
	struct np_kube_client *c = NULL;
	char *err = NULL;
	cfg.server = np_asprintf("http://127.0.0.1:%d", srv.port);
	if (token_file)
		cfg.token_file = strdup(token_file);
	else
		cfg.token = strdup("tok");
	memset(&fake, 0, sizeof(fake));
	fake.now = 1000000;
	int r = np_kube_client_new(&cfg, &o, &c, &err);
	if (r < 0)
		fail_msg("%s", err);
	return c;
}

#define NODE(rv, taints) "{\"kind\":\"Node\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"n1\",\"resourceVersion\":\"" rv "\"},\"spec\":{\"taints\":" taints "}}"
#define STATUS(code, reason) "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":\"m\",\"reason\":\"" reason "\",\"code\":" #code "}"

static void test_retry_5xx_then_ok(void **state)
{
	(void)state;
	static const struct reply s[] = { { "500 Internal Server Error", STATUS(500, "InternalError") },
					  { "503 Service Unavailable", STATUS(503, "ServiceUnavailable") },
					  { "200 OK", NODE("7", "[]") } };
	start(s, 3);
	struct np_kube_client *c = client(NULL, 0, 0);
	json_t *node = NULL;
	char *err = NULL;
	assert_int_equal(np_kube_get_node(c, "n1", &node, &err), 0);
	stop();
	assert_string_equal(json_string_value(json_object_get(json_object_get(node, "metadata"), "resourceVersion")), "7");
	json_decref(node);
	assert_int_equal(srv.nseen, 3);
	assert_string_equal(srv.seen[0].line, "GET /api/v1/nodes/n1 HTTP/1.1");
	assert_string_equal(srv.seen[0].auth, "Bearer tok");
	assert_string_equal(srv.seen[0].ua, "nodeprint/" NODEPRINT_VERSION);
	/* two backoffs: 250 ms then 500 ms nominal, each jittered into [d/2, d] */
	assert_int_equal(fake.n, 2);
	assert_true(fake.sleeps[0] >= 125 && fake.sleeps[0] <= 250);
	assert_true(fake.sleeps[1] >= 250 && fake.sleeps[1] <= 500);
	assert_int_equal(np_kube_client_stats(c)->retries, 2);
	assert_int_equal(np_kube_client_stats(c)->requests, 3);
	np_kube_client_free(c);
}

static void test_retry_gives_up(void **state)
{
	(void)state;
	static const struct reply s[] = { { "500 Internal Server Error", STATUS(500, "InternalError") },
					  { "500 Internal Server Error", STATUS(500, "InternalError") },
					  { "500 Internal Server Error", STATUS(500, "InternalError") },
					  { "500 Internal Server Error", STATUS(500, "InternalError") },
					  { "500 Internal Server Error", STATUS(500, "InternalError") } };
	start(s, 5);
	struct np_kube_client *c = client(NULL, 0, 0);
	struct np_kube_response resp;
	assert_int_equal(np_kube_request(c, "GET", "/api/v1/nodes/n1", NULL, NULL, 0, &resp), -EIO);
	stop();
	assert_int_equal(resp.attempts, 5); /* bounded attempts */
	assert_int_equal(resp.http_code, 500);
	assert_string_equal(resp.status.reason, "InternalError");
	assert_non_null(strstr(resp.error, "after retries"));
	np_kube_response_free(&resp);
	np_kube_client_free(c);
}

static void test_429_retry_after(void **state)
{
	(void)state;
	static const struct reply s[] = { { "429 Too Many Requests\r\nRetry-After: 3", STATUS(429, "TooManyRequests") },
					  { "200 OK", NODE("8", "[]") },
					  { "429 Too Many Requests\r\nRetry-After: 120", STATUS(429, "TooManyRequests") },
					  { "200 OK", NODE("9", "[]") } };
	start(s, 4);
	struct np_kube_client *c = client(NULL, 0, 0);
	char *err = NULL;
	assert_int_equal(np_kube_get_node(c, "n1", NULL, &err), 0);
	assert_int_equal(fake.n, 1);
	assert_int_equal(fake.sleeps[0], 3000); /* the server's Retry-After, not our backoff */
	/* a Retry-After beyond the 30 s budget: give up at once with -EBUSY */
	assert_int_equal(np_kube_get_node(c, "n1", NULL, &err), -EBUSY);
	assert_int_equal(fake.n, 1);
	assert_non_null(strstr(err, "budget"));
	free(err);
	err = NULL;
	/* the next cycles' requests within those 120 s are not sent at all */
	fake.now += 60000;
	assert_int_equal(np_kube_get_node(c, "n1", NULL, &err), -EBUSY);
	assert_non_null(strstr(err, "Retry-After"));
	free(err);
	err = NULL;
	struct np_kube_response resp;
	fake.now += 59000;
	assert_int_equal(np_kube_request(c, "PATCH", "/api/v1/nodes/n1", "application/merge-patch+json", "{}", 2, &resp),
			 -EBUSY);
	np_kube_response_free(&resp);
	assert_int_equal(srv.nseen, 3);
	assert_int_equal(np_kube_client_stats(c)->held_back, 2);
	assert_int_equal(np_kube_client_stats(c)->requests, 3);
	/* once it has passed, requests go again */
	fake.now += 1000;
	assert_int_equal(np_kube_get_node(c, "n1", NULL, &err), 0);
	stop();
	assert_int_equal(srv.nseen, 4);
	np_kube_client_free(c);
}

static void test_dropped_connection(void **state)
{
	(void)state;
	/* libcurl itself re-sends once when a kept-alive connection turns out dead: two drops */
	static const struct reply s[] = { { "drop", NULL }, { "200 OK", NODE("9", "[]") }, { "drop", NULL }, { "drop", NULL } };
	start(s, 4);
	struct np_kube_client *c = client(NULL, 0, 0);
	char *err = NULL;
	/* a GET is retried after a dropped connection */
	assert_int_equal(np_kube_get_node(c, "n1", NULL, &err), 0);
	assert_int_equal(np_kube_client_stats(c)->retries, 1);
	/* a POST is not: the Event may have been created */
	json_t *ev = json_pack("{s:s}", "kind", "Event");
	assert_int_equal(np_kube_create_event(c, NP_EVENTS_CORE_V1, "default", ev, NULL, &err), -ECONNRESET);
	json_decref(ev);
	stop();
	assert_true(srv.nseen >= 3);
	assert_int_equal(np_kube_client_stats(c)->retries, 1); /* ours: only the GET's */
	assert_string_equal(srv.seen[2].line, "POST /api/v1/namespaces/default/events HTTP/1.1");
	assert_string_equal(srv.seen[2].body, "{\"kind\":\"Event\"}");
	free(err);
	np_kube_client_free(c);
}

static void test_401_rereads_token(void **state)
{
	(void)state;
	static const struct reply s[] = { { "200 OK", NODE("1", "[]") },
					  { "401 Unauthorized", STATUS(401, "Unauthorized") },
					  { "200 OK", NODE("1", "[]") },
					  { "200 OK", NODE("1", "[]") },
					  { "401 Unauthorized", STATUS(401, "Unauthorized") },
					  { "401 Unauthorized", STATUS(401, "Unauthorized") } };
	put("t401/token", "t1");
	start(s, 6);
	struct np_kube_client *c = client(tp("t401/token"), 0, 0);
	char *err = NULL;
	assert_int_equal(np_kube_get_node(c, "n1", NULL, &err), 0);
	put("t401/token", "t2"); /* the kubelet rotated the bound token */
	assert_int_equal(np_kube_get_node(c, "n1", NULL, &err), 0);
	fake.now += 61000; /* a minute later the file is re-read without a 401 */
	put("t401/token", "t3");
	assert_int_equal(np_kube_get_node(c, "n1", NULL, &err), 0);
	/* a 401 that persists after the re-read is -EACCES, not a loop */
	assert_int_equal(np_kube_get_node(c, "n1", NULL, &err), -EACCES);
	stop();
	assert_int_equal(srv.nseen, 6);
	assert_string_equal(srv.seen[0].auth, "Bearer t1");
	assert_string_equal(srv.seen[1].auth, "Bearer t1");
	assert_string_equal(srv.seen[2].auth, "Bearer t2");
	assert_string_equal(srv.seen[3].auth, "Bearer t3");
	assert_int_equal(np_kube_client_stats(c)->auth_refreshes, 2);
	assert_non_null(strstr(err, "401 Unauthorized"));
	free(err);
	np_kube_client_free(c);
}

static void test_errors_and_limits(void **state)
{
	(void)state;
	static const struct reply s[] = {
		{ "404 Not Found", "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":\"nodes \\\"ghost\\\" not found\",\"reason\":\"NotFound\",\"details\":{\"name\":\"ghost\",\"kind\":\"nodes\"},\"code\":404}" },
		{ "409 Conflict", STATUS(409, "Conflict") },
		{ "200 OK", "{\"kind\":\"Node\",\"padding\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}" },
		{ "200 OK", "{\"kind\":\"Pod\"}" },
	};
	start(s, 4);
	struct np_kube_client *c = client(NULL, 0, 300);
	char *err = NULL;
	assert_int_equal(np_kube_get_node(c, "ghost", NULL, &err), -ENOENT);
	assert_non_null(strstr(err, "404 NotFound: nodes \"ghost\" not found"));
	/* a conflict is the caller's to resolve: no retry */
	assert_int_equal(np_kube_patch_node(c, "n1", false, NP_PATCH_MERGE, "{}", NULL, &err), -ESTALE);
	assert_int_equal(np_kube_client_stats(c)->retries, 0);
	assert_int_equal(np_kube_get_node(c, "n1", NULL, &err), -EFBIG);
	assert_int_equal(np_kube_get_node(c, "n1", NULL, &err), -EBADMSG); /* not a Node */
	/* no request for a bad name */
	assert_int_equal(np_kube_get_node(c, "../secrets", NULL, &err), -EINVAL);
	stop();
	assert_int_equal(srv.nseen, 4);
	assert_string_equal(srv.seen[1].line, "PATCH /api/v1/nodes/n1 HTTP/1.1");
	assert_string_equal(srv.seen[1].ctype, "application/merge-patch+json");
	free(err);
	np_kube_client_free(c);
}

static void test_rate_limit_in_client(void **state)
{
	(void)state;
	static const struct reply s[] = { { "200 OK", NODE("1", "[]") }, { "200 OK", NODE("1", "[]") },
					  { "200 OK", NODE("1", "[]") }, { "200 OK", NODE("1", "[]") } };
	start(s, 4);
	struct np_kube_client *c = client(NULL, 1, 0); /* 1 QPS, burst 10 by default */
	struct np_kube_client_opts o = { .qps = 1, .burst = 2, .clock = &fclock };
	struct np_kube_config cfg = { .server = np_asprintf("http://127.0.0.1:%d", srv.port) };
	char *err = NULL;
	np_kube_client_free(c);
	memset(&fake, 0, sizeof(fake));
	assert_int_equal(np_kube_client_new(&cfg, &o, &c, &err), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(np_kube_get_node(c, "n1", NULL, &err), 0);
	stop();
	/* burst 2 at once, then one per second */
	assert_int_equal(fake.n, 2);
	assert_int_equal(fake.sleeps[0], 1000);
	assert_int_equal(fake.sleeps[1], 1000);
	assert_int_equal(np_kube_client_stats(c)->throttled_ms, 2000);
	assert_string_equal(srv.seen[0].auth, ""); /* anonymous: no header at all */
	np_kube_client_free(c);
}

struct pages {
	int n;
	char names[8][16];
	int count;
};

static int on_page(json_t *page, void *ud)
{
	struct pages *p = ud;
	json_t *it;
	size_t i;
	p->n++;
	json_array_foreach(json_object_get(page, "items"), i, it)
		snprintf(p->names[p->count++ & 7], 16, "%s", json_string_value(json_object_get(json_object_get(it, "metadata"), "name")));
	return 0;
}

static void test_list_pagination(void **state)
{
	(void)state;
	static const struct reply s[] = {
		{ "200 OK", "{\"kind\":\"PodList\",\"metadata\":{\"continue\":\"c/1=\"},\"items\":[{\"metadata\":{\"name\":\"p1\"}},{\"metadata\":{\"name\":\"p2\"}}]}" },
		{ "200 OK", "{\"kind\":\"PodList\",\"metadata\":{},\"items\":[{\"metadata\":{\"name\":\"p3\"}}]}" },
		{ "200 OK", "{\"kind\":\"NodeList\",\"metadata\":{},\"items\":[]}" },
	};
	start(s, 3);
	struct np_kube_client *c = client(NULL, 0, 0);
	struct pages p = { 0 };
	char *err = NULL;
	assert_int_equal(np_kube_list_pods_on_node(c, "n1", 2, on_page, &p, &err), 0);
	assert_int_equal(p.n, 2);
	assert_int_equal(p.count, 3);
	assert_string_equal(p.names[2], "p3");
	assert_int_equal(np_kube_list(c, "/api/v1/nodes", "nodeprint.io/class in (gpu,storage)", NULL, 0, on_page, &p, &err), 0);
	stop();
	assert_string_equal(srv.seen[0].line, "GET /api/v1/pods?limit=2&fieldSelector=spec.nodeName%3Dn1 HTTP/1.1");
	assert_string_equal(srv.seen[1].line, "GET /api/v1/pods?limit=2&fieldSelector=spec.nodeName%3Dn1&continue=c%2F1%3D HTTP/1.1");
	assert_string_equal(srv.seen[2].line,
			    "GET /api/v1/nodes?limit=500&labelSelector=nodeprint.io%2Fclass%20in%20%28gpu%2Cstorage%29 HTTP/1.1");
	np_kube_client_free(c);
}

struct wseen {
	char types[8][16];
	int n;
};

static int on_event(const char *type, json_t *obj, void *ud)
{
	struct wseen *w = ud;
	(void)obj;
	snprintf(w->types[w->n++ & 7], 16, "%s", type);
	return 0;
}

static void test_watch(void **state)
{
	(void)state;
	static const struct reply s[] = {
		{ "200 OK", "{\"type\":\"ADDED\",\"object\":" NODE("10", "[]") "}\n{\"type\":\"MODIFIED\",\"object\":" NODE("11", "[]")
			    "}\n{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Node\",\"metadata\":{\"resourceVersion\":\"12\"}}}\n" },
		{ "200 OK", "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,\"reason\":\"Expired\",\"message\":\"too old resource version\"}}\n" },
	};
	start(s, 2);
	struct np_kube_client *c = client(NULL, 0, 0);
	struct wseen w = { 0 };
	char *err = NULL;
	assert_int_equal(np_kube_watch_node(c, "n1", "10", 60, on_event, &w, &err), 0);
	assert_int_equal(w.n, 3);
	assert_string_equal(w.types[0], "ADDED");
	assert_string_equal(w.types[1], "MODIFIED");
	assert_string_equal(w.types[2], "BOOKMARK");
	assert_int_equal(np_kube_watch_node(c, "n1", "1", 60, on_event, &w, &err), -ETIME);
	stop();
	assert_string_equal(srv.seen[0].line, "GET /api/v1/nodes?fieldSelector=metadata.name%3Dn1&watch=1&allowWatchBookmarks=true"
					      "&timeoutSeconds=60&resourceVersion=10 HTTP/1.1");
	assert_non_null(strstr(err, "too old"));
	free(err);
	np_kube_client_free(c);
}

static int add_ours(json_t *taints, void *ud)
{
	(void)ud;
	json_t *t;
	size_t i;
	json_array_foreach(taints, i, t)
		if (streq(json_string_value(json_object_get(t, "key")), "nodeprint.io/nvme-critical"))
			return 0;
	json_array_append_new(taints, json_pack("{s:s,s:s}", "key", "nodeprint.io/nvme-critical", "effect", "NoSchedule"));
	return 1;
}

static void test_taints_conflict_reread(void **state)
{
	(void)state;
	static const struct reply s[] = {
		{ "200 OK", NODE("5", "[{\"key\":\"node.kubernetes.io/unschedulable\",\"effect\":\"NoSchedule\"}]") },
		{ "409 Conflict", STATUS(409, "Conflict") },
		/* another writer added a taint meanwhile */
		{ "200 OK", NODE("6", "[{\"key\":\"node.kubernetes.io/unschedulable\",\"effect\":\"NoSchedule\"},{\"key\":\"autoscaler\",\"effect\":\"NoExecute\"}]") },
		{ "200 OK", NODE("7", "[]") },
		/* already there: no write */
		{ "200 OK", NODE("7", "[{\"key\":\"nodeprint.io/nvme-critical\",\"effect\":\"NoSchedule\"}]") },
	};
	start(s, 5);
	struct np_kube_client *c = client(NULL, 0, 0);
	char *err = NULL;
	assert_int_equal(np_kube_node_taints_update(c, "n1", add_ours, NULL, 0, &err), 1);
	assert_int_equal(np_kube_node_taints_update(c, "n1", add_ours, NULL, 0, &err), 0);
	stop();
	assert_int_equal(srv.nseen, 5);
	assert_string_equal(srv.seen[1].body,
			    "{\"metadata\":{\"resourceVersion\":\"5\"},\"spec\":{\"taints\":[{\"key\":\"node.kubernetes.io/unschedulable\","
			    "\"effect\":\"NoSchedule\"},{\"key\":\"nodeprint.io/nvme-critical\",\"effect\":\"NoSchedule\"}]}}");
	/* after the 409: re-read, the other writer's taint kept, the new version sent */
	assert_string_equal(srv.seen[3].body,
			    "{\"metadata\":{\"resourceVersion\":\"6\"},\"spec\":{\"taints\":[{\"key\":\"node.kubernetes.io/unschedulable\","
			    "\"effect\":\"NoSchedule\"},{\"key\":\"autoscaler\",\"effect\":\"NoExecute\"},{\"key\":\"nodeprint.io/nvme-critical\","
			    "\"effect\":\"NoSchedule\"}]}}");
	free(err);
	np_kube_client_free(c);
}

/*
 * A VolumePathStall about a claim names it by its volume ("pv:NAME"): the publisher GETs the PV and
 * sends the Event about spec.claimRef's PVC with its uid. The PVC itself is never read (RBAC grants
 * no get on it): a claimRef without uid (a PV not bound yet; kube-apiserver's PV controller writes
 * the uid when it binds, which an API server without controllers never did) gives an Event without one.
 */
static void test_event_claim_from_pv(void **state)
{
	(void)state;
	static const struct reply s[] = {
		{ "200 OK", "{\"kind\":\"PersistentVolume\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"pv-1\",\"uid\":\"u-pv\"},"
			    "\"spec\":{\"claimRef\":{\"kind\":\"PersistentVolumeClaim\",\"namespace\":\"apps\",\"name\":\"data\","
			    "\"uid\":\"u-claim\"}}}" },
		{ "201 Created", "{\"kind\":\"Event\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"data.1\",\"namespace\":\"apps\"}}" },
		{ "200 OK", "{\"kind\":\"PersistentVolume\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"pv-2\",\"uid\":\"u-pv2\"},"
			    "\"spec\":{\"claimRef\":{\"kind\":\"PersistentVolumeClaim\",\"namespace\":\"apps\",\"name\":\"logs\"}}}" },
		{ "201 Created", "{\"kind\":\"Event\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"logs.1\",\"namespace\":\"apps\"}}" },
	};
	start(s, 4);
	struct np_kube_client *c = client(NULL, 0, 0);
	struct np_publisher p;
	char *err = NULL;
	assert_int_equal(np_publisher_init(&p, c, "n1", "nodeprint"), 0);
	struct np_event e = { .reason = "VolumePathStall", .type = "Warning", .message = "sdb: stalled",
			      .kind = "PersistentVolumeClaim", .name = "pv:pv-1", .subject = "sdb" };
	assert_int_equal(np_publish_event(&p, &e, 1000, &err), 0);
	e.name = "pv:pv-2";
	e.subject = "sdc";
	assert_int_equal(np_publish_event(&p, &e, 1000, &err), 0);
	stop();
	assert_int_equal(srv.nseen, 4);
	assert_string_equal(srv.seen[0].line, "GET /api/v1/persistentvolumes/pv-1 HTTP/1.1");
	assert_string_equal(srv.seen[1].line, "POST /api/v1/namespaces/apps/events HTTP/1.1");
	json_auto_t *ev = json_loads(srv.seen[1].body, 0, NULL);
	json_t *io = json_object_get(ev, "involvedObject");
	assert_string_equal(json_string_value(json_object_get(io, "kind")), "PersistentVolumeClaim");
	assert_string_equal(json_string_value(json_object_get(io, "name")), "data");
	assert_string_equal(json_string_value(json_object_get(io, "uid")), "u-claim");
	/* no uid in the reference: no PVC GET, the Event goes without a uid */
	assert_string_equal(srv.seen[2].line, "GET /api/v1/persistentvolumes/pv-2 HTTP/1.1");
	assert_string_equal(srv.seen[3].line, "POST /api/v1/namespaces/apps/events HTTP/1.1");
	json_auto_t *ev2 = json_loads(srv.seen[3].body, 0, NULL);
	io = json_object_get(ev2, "involvedObject");
	assert_string_equal(json_string_value(json_object_get(io, "name")), "logs");
	assert_null(json_object_get(io, "uid"));
	free(err);
	np_publisher_free(&p);
	np_kube_client_free(c);
}

static void test_client_new_checks(void **state)
{
	(void)state;
	static const char *const bad[] = { "ftp://x", "https://", "https://h:0", "https://h:99999", "https://[::1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct np_kube_config cfg = { .server = strdup(bad[i]) };
		struct np_kube_client *c = NULL;
		char *err = NULL;
		assert_int_equal(np_kube_client_new(&cfg, NULL, &c, &err), -EINVAL);
		assert_null(cfg.server); /* moved in, freed */
		assert_non_null(err);
		free(err);
	}
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/np-kube-transport-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ratelimit),
		cmocka_unit_test(test_event_claim_from_pv),
		cmocka_unit_test(test_backoff_bounds),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_status_decoding),
		cmocka_unit_test(test_names_and_decoders),
		cmocka_unit_test(test_real_captures),
		cmocka_unit_test(test_incluster),
		cmocka_unit_test(test_token_file_rotation),
		cmocka_unit_test(test_retry_5xx_then_ok),
		cmocka_unit_test(test_retry_gives_up),
		cmocka_unit_test(test_429_retry_after),
		cmocka_unit_test(test_dropped_connection),
		cmocka_unit_test(test_401_rereads_token),
		cmocka_unit_test(test_errors_and_limits),
		cmocka_unit_test(test_rate_limit_in_client),
		cmocka_unit_test(test_list_pagination),
		cmocka_unit_test(test_watch),
		cmocka_unit_test(test_taints_conflict_reread),
		cmocka_unit_test(test_client_new_checks),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
