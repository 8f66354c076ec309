// SPDX-License-Identifier: Apache-2.0
/*
 * kube_it - the client (pkg/kube) against a real kube-apiserver behind the fault proxy
 * (docs/test-cluster.md), with kubectl as a second, independent writer. Run by
 * tests/kube/test_client.sh, which starts them and exports NP_KUBE_*; prints TAP. Every auth mode (token, tokenFile, client
 * certificate, exec plugin with token and with certificate, in-cluster with a fake
 * service-account folder), every failure mode (500, 429 + Retry-After, dropped connection,
 * 401 -> token file re-read / plugin re-run, 409), every patch type, taints changed while
 * kubectl changes the Node between our GET and PATCH, LIST pagination, events, watch.
 * Tokens that rotate are real bound service-account tokens (TokenRequest), revoked by deleting
 * the Secret they are bound to. Waits are checked in the proxy's request log, never timed here.
 */
#define _GNU_SOURCE
#include "../../pkg/kube/api.h"
#include "../../pkg/kube/config.h"
#include "../../pkg/kube/kubeconfig.h"
#include "../../pkg/kube/util.h"
#include "../../pkg/shared/macro.h"
#include "../../pkg/shared/strutil.h"
#include "../../pkg/shared/version.h"

#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int n_tests, n_failed;
static struct np_kube_client *admin;
/* a kubeconfig of the client's own ServiceAccount (client_identity()), for the API the agent's RBAC does not grant */
static char *client_kc;
static char tmpdir[256];
static char suffix[16];

static bool ok(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool ok(bool cond, const char *fmt, ...)
{
	va_list ap;
	printf("%s %d - ", cond ? "ok" : "not ok", ++n_tests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	n_failed += !cond;
	return cond;
}

static void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void diag(const char *fmt, ...)
{
	va_list ap;
	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static const char *env(const char *k)
{
	const char *v = getenv(k);
	if (!v || !*v) {
		printf("not ok 1 - %s is not set (run through tests/kube/test_client.sh)\n", k);
		exit(1);
	}
	return v;
}

static struct np_kube_client *client_from(const char *kubeconfig, const char *sa_prefix)
{
	struct np_kube_source src = { .kubeconfig = kubeconfig, .sa_prefix = sa_prefix };
	struct np_kube_config cfg;
	struct np_kube_client *c = NULL;
	char *err = NULL;
	/* zero QPS limit for the tests' speed; retries with the defaults */
	struct np_kube_client_opts o = { .qps = -1 };
	int r = np_kube_config_auto(&src, &cfg, &err);
	if (r >= 0)
		r = np_kube_client_new(&cfg, &o, &c, &err);
	if (r < 0)
		diag("client from %s: %s", kubeconfig ? kubeconfig : "in-cluster", err);
	free(err);
	return c;
}

/* a request of the admin client; returns the parsed body or NULL */
static json_t *adm(const char *method, const char *path, const char *ctype, const char *body, int *rc)
{
	struct np_kube_response resp;
	json_t *o = NULL;
	int r = np_kube_request(admin, method, path, ctype, body, body ? strlen(body) : 0, &resp);
	if (r == 0)
		o = json_loadb(resp.body, resp.len, 0, NULL);
	else
		diag("%s", resp.error);
	if (rc)
		*rc = r;
	np_kube_response_free(&resp);
	return o;
}

static int fault(const char *json)
{
	int r;
	json_decref(adm("POST", "/np-test/faults", "application/json", json, &r));
	return r;
}

static long long last_seq(void)
{
	json_t *o = adm("GET", "/np-test/requests?since=999999999999", NULL, NULL, NULL);
	long long s = (long long)json_integer_value(json_object_get(o, "last_seq"));
	json_decref(o);
	return s;
}

/* the log entries after @since whose path is @path (all paths when NULL) */
static json_t *log_since(long long since, const char *path)
{
	char p[64];
	snprintf(p, sizeof(p), "/np-test/requests?since=%lld", since);
	json_t *o = adm("GET", p, NULL, NULL, NULL), *out = json_array(), *e;
	size_t i;
	json_array_foreach(json_object_get(o, "requests"), i, e)
		if (!path || streq(json_string_value(json_object_get(e, "path")), path))
			json_array_append(out, e);
	json_decref(o);
	return out;
}

static int status_at(json_t *log, size_t i)
{
	return (int)json_integer_value(json_object_get(json_array_get(log, i), "status"));
}

/* RFC 3339 with fractions -> milliseconds since the epoch */
static long long log_ms(json_t *log, size_t i)
{
	const char *t = json_string_value(json_object_get(json_array_get(log, i), "time"));
	char whole[32];
	time_t s;
	if (!t || strlen(t) < 20)
		return -1;
	snprintf(whole, sizeof(whole), "%.19sZ", t);
	if (np_parse_rfc3339(whole, &s) < 0)
		return -1;
	long long ms = (long long)s * 1000;
	if (t[19] == '.') {
		int mult = 100;
		for (const char *p = t + 20; *p >= '0' && *p <= '9' && mult; p++, mult /= 10)
			ms += (*p - '0') * mult;
	}
	return ms;
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	_cleanup_free_ char *cmd = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		cmd = NULL;
	va_end(ap);
	if (!cmd)
		return -1;
	int r = system(cmd);
	return WIFEXITED(r) ? WEXITSTATUS(r) : -1;
}

static void write_file(const char *path, const char *content, mode_t mode)
{
	char tmp[600];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return;
	fputs(content, f);
	fclose(f);
	chmod(tmp, mode);
	rename(tmp, path);
}

static char *tpath(const char *rel)
{
	return np_asprintf("%s/%s", tmpdir, rel);
}

static void create_node(const char *name, const char *labels_json)
{
	_cleanup_free_ char *b = np_asprintf("{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"%s\",\"labels\":%s},"
					     "\"spec\":{\"taints\":[{\"key\":\"example.com/kubelet-owned\",\"effect\":\"PreferNoSchedule\"}]}}",
					     name, labels_json ? labels_json : "{}");
	int r;
	json_decref(adm("POST", "/api/v1/nodes", "application/json", b, &r));
	if (r < 0 && r != -EEXIST)
		diag("create node %s: %d", name, r);
}

static char *node_name(const char *base)
{
	return np_asprintf("%s-%s", base, suffix);
}

static const char *taint_keys(json_t *node, char *buf, size_t n)
{
	json_t *t;
	size_t i;
	buf[0] = '\0';
	json_array_foreach(json_object_get(json_object_get(node, "spec"), "taints"), i, t) {
		size_t l = strlen(buf);
		snprintf(buf + l, n - l, "%s%s", l ? "," : "", json_string_value(json_object_get(t, "key")));
	}
	return buf;
}

/* ServiceAccount @sa in namespace default, bound to the shipped ClusterRole nodeprint */
static void service_account(const char *sa)
{
	_cleanup_free_ char *sab = np_asprintf("{\"apiVersion\":\"v1\",\"kind\":\"ServiceAccount\",\"metadata\":{\"name\":\"%s\"}}", sa);
	_cleanup_free_ char *crb = np_asprintf("{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"ClusterRoleBinding\","
					       "\"metadata\":{\"name\":\"np-it-%s\"},\"roleRef\":{\"apiGroup\":\"rbac.authorization.k8s.io\","
					       "\"kind\":\"ClusterRole\",\"name\":\"nodeprint\"},\"subjects\":[{\"kind\":\"ServiceAccount\","
					       "\"name\":\"%s\",\"namespace\":\"default\"}]}", sa, sa);
	json_decref(adm("POST", "/api/v1/namespaces/default/serviceaccounts", "application/json", sab, NULL));
	json_decref(adm("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", "application/json", crb, NULL));
}

/*
 * A real bound service-account token of @sa (service_account()), bound to a new Secret @secret
 * (TokenRequest). Returns the token (free it) or NULL.
 */
static char *bound_token(const char *sa, const char *secret)
{
	_cleanup_free_ char *sec = np_asprintf("{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"%s\"}}", secret);
	int r;
	json_t *s = adm("POST", "/api/v1/namespaces/default/secrets", "application/json", sec, &r);
	const char *uid = json_string_value(json_object_get(json_object_get(s, "metadata"), "uid"));
	_cleanup_free_ char *tr = np_asprintf("{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"TokenRequest\",\"spec\":"
					      "{\"expirationSeconds\":3600,\"boundObjectRef\":{\"apiVersion\":\"v1\",\"kind\":\"Secret\","
					      "\"name\":\"%s\",\"uid\":\"%s\"}}}", secret, uid ? uid : "");
	json_decref(s);
	_cleanup_free_ char *path = np_asprintf("/api/v1/namespaces/default/serviceaccounts/%s/token", sa);
	json_t *t = adm("POST", path, "application/json", tr, &r);
	const char *tok = json_string_value(json_object_get(json_object_get(t, "status"), "token"));
	char *out = tok ? strdup(tok) : NULL;
	json_decref(t);
	if (!out)
		diag("TokenRequest for %s bound to Secret %s failed: %d", sa, secret, r);
	return out;
}

/*
 * Revoke a bound token as a cluster does: delete the Secret it is bound to. kube-apiserver keeps a
 * token it accepted in its cache for up to 10 s, so wait until it refuses @tok, asking the apiserver
 * directly (not through the proxy, whose log the tests read). Returns true once refused.
 */
static bool revoke_token(const char *secret, const char *tok)
{
	_cleanup_free_ char *p = np_asprintf("/api/v1/namespaces/default/secrets/%s", secret);
	json_decref(adm("DELETE", p, NULL, NULL, NULL));
	for (int i = 0; i < 60; i++) {
		if (sh("test \"$(curl -s -o /dev/null -w '%%{http_code}' --cacert \"$NP_KUBE_CA\" -H 'Authorization: Bearer %s' "
		       "\"$NP_KUBE_APISERVER_URL/api\")\" = 401", tok) == 0)
			return true;
		usleep(250 * 1000);
	}
	diag("token bound to Secret %s still accepted 15 s after the Secret was deleted", secret);
	return false;
}

/*
 * The scenarios of listing, events and watch test the client, not the agent: they use verbs the
 * shipped ClusterRole does not grant (watch, events.k8s.io, persistentvolumeclaims), so they run as
 * ServiceAccount np-it-client with the ClusterRole nodeprint plus one for exactly those. Writes its
 * kubeconfig (a bound token) and returns its path, or NULL.
 */
static char *client_identity(void)
{
	const char *role = "{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"ClusterRole\",\"metadata\":{\"name\":\"np-it-client\"},"
			   "\"rules\":[{\"apiGroups\":[\"\"],\"resources\":[\"nodes\"],\"verbs\":[\"watch\"]},"
			   "{\"apiGroups\":[\"\"],\"resources\":[\"persistentvolumes\",\"persistentvolumeclaims\"],\"verbs\":[\"get\"]},"
			   "{\"apiGroups\":[\"events.k8s.io\"],\"resources\":[\"events\"],\"verbs\":[\"create\",\"patch\"]}]}";
	const char *bind = "{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"ClusterRoleBinding\",\"metadata\":{\"name\":\"np-it-client-extra\"},"
			   "\"roleRef\":{\"apiGroup\":\"rbac.authorization.k8s.io\",\"kind\":\"ClusterRole\",\"name\":\"np-it-client\"},"
			   "\"subjects\":[{\"kind\":\"ServiceAccount\",\"name\":\"np-it-client\",\"namespace\":\"default\"}]}";
	service_account("np-it-client");
	json_decref(adm("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", "application/json", role, NULL));
	json_decref(adm("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", "application/json", bind, NULL));
	_cleanup_free_ char *tok = bound_token("np-it-client", "np-it-client");
	if (!tok)
		return NULL;
	char *kc = tpath("client.kubeconfig");
	_cleanup_free_ char *y = np_asprintf("clusters: [{name: t, cluster: {server: '%s', certificate-authority: '%s'}}]\n"
					     "users: [{name: u, user: {token: '%s'}}]\n"
					     "contexts: [{name: t, context: {cluster: t, user: u}}]\ncurrent-context: t\n",
					     env("NP_KUBE_SERVER"), env("NP_KUBE_CA"), tok);
	write_file(kc, y, 0600);
	return kc;
}

/* ---- auth modes ---- */

static void auth_modes(const char *node)
{
	const char *modes[][2] = { { "token", "NP_KUBE_AGENT_KUBECONFIG" },
				   { "tokenFile", "NP_KUBE_AGENT_TOKENFILE_KUBECONFIG" },
				   { "client certificate", "NP_KUBE_CERT_KUBECONFIG" } };
	for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
		struct np_kube_client *c = client_from(env(modes[i][1]), NULL);
		long long s = last_seq();
		json_t *n = NULL;
		char *err = NULL;
		int r = c ? np_kube_get_node(c, node, &n, &err) : -EINVAL;
		json_t *log = log_since(s, NULL);
		const char *user = json_string_value(json_object_get(json_array_get(log, 0), "user"));
		const char *ua = json_string_value(json_object_get(json_array_get(log, 0), "user_agent"));
		ok(r == 0 && user && *user && ua && streq(ua, "nodeprint/" NODEPRINT_VERSION), "auth %s: GET node as %s (%s)",
		   modes[i][0], user ? user : "?", r ? err : "ok");
		json_decref(log);
		json_decref(n);
		free(err);
		np_kube_client_free(c);
	}
}

/* one connection for many requests (keep-alive), HTTP/2 negotiated over TLS (ALPN) */
static void connection_reuse(const char *node)
{
	struct np_kube_client *c = client_from(env("NP_KUBE_AGENT_KUBECONFIG"), NULL);
	char *err = NULL;
	int r = 0;
	for (int i = 0; c && i < 10 && r == 0; i++)
		r = np_kube_get_node(c, node, NULL, &err);
	const struct np_kube_stats *s = c ? np_kube_client_stats(c) : NULL;
	ok(r == 0 && s && s->requests == 10 && s->connects == 1 && s->http_version == 20,
	   "10 requests over %u connection(s), HTTP version %u", s ? s->connects : 0, s ? s->http_version : 0);
	free(err);
	np_kube_client_free(c);
}

/* tokenFile: the kubelet rotates the bound token; the old one stops working -> 401 -> re-read */
static void token_rotation(const char *node)
{
	_cleanup_free_ char *tf = tpath("rot.token"), *kc = tpath("rot.kubeconfig");
	service_account("np-it-rotator");
	_cleanup_free_ char *t1 = bound_token("np-it-rotator", "np-it-rot-1"), *t2 = bound_token("np-it-rotator", "np-it-rot-2");
	_cleanup_free_ char *c1 = np_asprintf("%s\n", t1 ? t1 : ""), *c2 = np_asprintf("%s\n", t2 ? t2 : "");
	char *err = NULL;
	int r;
	write_file(tf, c1, 0600);
	_cleanup_free_ char *y = np_asprintf("clusters: [{name: t, cluster: {server: '%s', certificate-authority: '%s'}}]\n"
					     "users: [{name: u, user: {tokenFile: rot.token}}]\n"
					     "contexts: [{name: t, context: {cluster: t, user: u}}]\ncurrent-context: t\n",
					     env("NP_KUBE_SERVER"), env("NP_KUBE_CA"));
	write_file(kc, y, 0600);
	struct np_kube_client *c = client_from(kc, NULL);
	r = c ? np_kube_get_node(c, node, NULL, &err) : -EINVAL;
	ok(r == 0, "tokenFile relative to its kubeconfig: first bound token accepted%s%s", r ? ": " : "", r ? err : "");
	/* rotate: new file content, old token revoked (its Secret deleted) */
	write_file(tf, c2, 0600);
	bool gone = t1 && revoke_token("np-it-rot-1", t1);
	long long s = last_seq();
	r = c ? np_kube_get_node(c, node, NULL, &err) : -EINVAL;
	_cleanup_free_ char *p = np_asprintf("/api/v1/nodes/%s", node);
	json_t *log = log_since(s, p);
	ok(gone && r == 0 && json_array_size(log) == 2 && status_at(log, 0) == 401 && status_at(log, 1) == 200 &&
		   np_kube_client_stats(c)->auth_refreshes == 1,
	   "401 after rotation -> token file re-read -> 200 (log: %zu requests, %d then %d)", json_array_size(log),
	   status_at(log, 0), status_at(log, 1));
	json_decref(log);
	/* a revoked token with no new one: -EACCES after one refresh, no loop */
	gone = t2 && revoke_token("np-it-rot-2", t2);
	s = last_seq();
	r = c ? np_kube_get_node(c, node, NULL, &err) : -EINVAL;
	log = log_since(s, p);
	ok(gone && r == -EACCES && json_array_size(log) == 2, "revoked token: -EACCES after one re-read (%zu requests)",
	   json_array_size(log));
	json_decref(log);
	free(err);
	np_kube_client_free(c);
}

/* exec plugins: a token that expires on the server (re-run after 401), and a client certificate as raw PEM */
static void exec_plugins(const char *node)
{
	_cleanup_free_ char *plug = tpath("bin/plugin.sh"), *kc = tpath("exec.kubeconfig"), *runs = tpath("plugin.runs");
	_cleanup_free_ char *cur = tpath("plugin.token");
	char *err = NULL;
	int r;
	mkdir(tmpdir, 0700);
	_cleanup_free_ char *bindir = tpath("bin");
	mkdir(bindir, 0700);
	write_file(plug,
		   "#!/bin/sh\n"
		   "d=$(dirname \"$0\")/..\n"
		   "echo run >>\"$d/plugin.runs\"\n"
		   "if [ \"$1\" = cert ]; then\n"
		   "  python3 -c 'import json,sys; print(json.dumps({\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
		   "\"status\":{\"clientCertificateData\":open(sys.argv[1]).read(),\"clientKeyData\":open(sys.argv[2]).read()}}))' \"$NP_CERT\" \"$NP_KEY\"\n"
		   "  exit 0\n"
		   "fi\n"
		   "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"%s\"}}\\n' \"$(cat \"$d/plugin.token\")\"\n",
		   0700);
	service_account("np-it-exec");
	_cleanup_free_ char *t1 = bound_token("np-it-exec", "np-it-exec-1"), *t2 = bound_token("np-it-exec", "np-it-exec-2");
	write_file(cur, t1 ? t1 : "", 0600);
	unlink(runs);
	_cleanup_free_ char *y = np_asprintf(
		"clusters: [{name: t, cluster: {server: '%s', certificate-authority: '%s'}}]\n"
		"users:\n"
		"- name: tok\n  user:\n    exec: {apiVersion: client.authentication.k8s.io/v1, command: ./bin/plugin.sh, args: [token], interactiveMode: Never, env: null}\n"
		"- name: crt\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: ./bin/plugin.sh\n"
		"      args: [cert]\n      interactiveMode: Never\n      env: [{name: NP_CERT, value: '%s'}, {name: NP_KEY, value: '%s'}]\n"
		"contexts: [{name: tok, context: {cluster: t, user: tok}}, {name: crt, context: {cluster: t, user: crt}}]\ncurrent-context: tok\n",
		env("NP_KUBE_SERVER"), env("NP_KUBE_CA"), env("NP_KUBE_CLIENT_CERT"), env("NP_KUBE_CLIENT_KEY"));
	write_file(kc, y, 0600);
	struct np_kube_client *c = client_from(kc, NULL);
	r = c ? np_kube_get_node(c, node, NULL, &err) : -EINVAL;
	ok(r == 0, "exec plugin (v1, env: null, relative command): token accepted%s%s", r ? ": " : "", r ? err : "");
	write_file(cur, t2 ? t2 : "", 0600);
	bool gone = t1 && revoke_token("np-it-exec-1", t1);
	long long s = last_seq();
	r = c ? np_kube_get_node(c, node, NULL, &err) : -EINVAL;
	json_t *log = log_since(s, NULL);
	_cleanup_free_ char *rl = NULL;
	size_t nr = 0;
	if (np_read_file(runs, 4096, &rl, NULL) >= 0)
		for (char *p = rl; (p = strchr(p, '\n')); p++)
			nr++;
	ok(gone && r == 0 && nr == 2 && json_array_size(log) == 2 && status_at(log, 0) == 401 && status_at(log, 1) == 200,
	   "exec plugin re-run after a 401 (plugin runs: %zu, log %d then %d)", nr, status_at(log, 0), status_at(log, 1));
	json_decref(log);
	np_kube_client_free(c);

	struct np_kube_source src = { .kubeconfig = kc, .context = "crt" };
	struct np_kube_config cfg;
	struct np_kube_client_opts o = { .qps = -1 };
	c = NULL;
	r = np_kube_config_auto(&src, &cfg, &err);
	if (r >= 0)
		r = np_kube_client_new(&cfg, &o, &c, &err);
	s = last_seq();
	if (r >= 0)
		r = np_kube_get_node(c, node, NULL, &err);
	log = log_since(s, NULL);
	const char *user = json_string_value(json_object_get(json_array_get(log, 0), "user"));
	ok(r == 0 && user && streq(user, env("NP_KUBE_ADMIN_USER")), "exec plugin returning a client certificate as raw PEM: user %s%s%s",
	   user ? user : "?", r ? ": " : "", r ? err : "");
	json_decref(log);
	np_kube_client_free(c);
	free(err);
}

/* in-cluster: KUBERNETES_SERVICE_HOST/PORT and a fake service-account folder */
static void in_cluster(const char *node)
{
	_cleanup_free_ char *sa = tpath("sa/var/run/secrets/kubernetes.io/serviceaccount");
	char *err = NULL;
	const char *server = env("NP_KUBE_SERVER"), *port = strrchr(server, ':');
	sh("mkdir -p '%s' && cp '%s' '%s/ca.crt' && cp '%s' '%s/token' && echo nodeprint >'%s/namespace'", sa,
	   env("NP_KUBE_CA"), sa, env("NP_KUBE_AGENT_TOKEN_FILE"), sa, sa);
	unsetenv("KUBECONFIG");
	setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", port ? port + 1 : "", 1);
	_cleanup_free_ char *prefix = tpath("sa");
	struct np_kube_client *c = client_from(NULL, prefix);
	long long s = last_seq();
	int r = c ? np_kube_get_node(c, node, NULL, &err) : -EINVAL;
	json_t *log = log_since(s, NULL);
	const char *user = json_string_value(json_object_get(json_array_get(log, 0), "user"));
	ok(r == 0 && user && streq(user, env("NP_KUBE_AGENT_USER")) &&
		   streq(np_kube_client_config(c)->namespace ? np_kube_client_config(c)->namespace : "", "nodeprint"),
	   "in-cluster service account: GET node as %s", user ? user : "?");
	json_decref(log);
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	free(err);
	np_kube_client_free(c);
}

/* ---- failure modes ---- */

static void failures(const char *node)
{
	struct np_kube_client *c = client_from(env("NP_KUBE_AGENT_KUBECONFIG"), NULL);
	_cleanup_free_ char *p = np_asprintf("/api/v1/nodes/%s", node);
	_cleanup_free_ char *f = NULL;
	char *err = NULL;
	json_t *log;
	long long s;
	int r;
	if (!c)
		return;

	f = np_asprintf("{\"type\":\"500\",\"count\":2,\"path\":\"%s\"}", p);
	fault(f);
	s = last_seq();
	r = np_kube_get_node(c, node, NULL, &err);
	log = log_since(s, p);
	ok(r == 0 && json_array_size(log) == 3 && status_at(log, 0) == 500 && status_at(log, 1) == 500 && status_at(log, 2) == 200,
	   "500 twice -> retried -> 200 (%zu requests)", json_array_size(log));
	json_decref(log);

	free(f);
	f = np_asprintf("{\"type\":\"429\",\"count\":1,\"retry_after_s\":2,\"path\":\"%s\"}", p);
	fault(f);
	s = last_seq();
	r = np_kube_get_node(c, node, NULL, &err);
	log = log_since(s, p);
	long long gap = json_array_size(log) == 2 ? log_ms(log, 1) - log_ms(log, 0) : -1;
	/* the 429 is logged when answered, the retry when it arrives: the gap is the client's wait */
	ok(r == 0 && json_array_size(log) == 2 && status_at(log, 0) == 429 && status_at(log, 1) == 200 && gap >= 1900,
	   "429 + Retry-After: 2 -> the retry came %lld ms later (server's log)", gap);
	json_decref(log);

	free(f);
	f = np_asprintf("{\"type\":\"drop\",\"count\":1,\"path\":\"%s\"}", p);
	fault(f);
	s = last_seq();
	unsigned before = np_kube_client_stats(c)->retries;
	r = np_kube_get_node(c, node, NULL, &err);
	log = log_since(s, p);
	ok(r == 0 && json_array_size(log) >= 2 && status_at(log, 0) == 0 && status_at(log, json_array_size(log) - 1) == 200,
	   "dropped connection -> retried -> 200 (%zu requests, our retries %u)", json_array_size(log),
	   np_kube_client_stats(c)->retries - before);
	json_decref(log);

	free(f);
	f = np_asprintf("{\"type\":\"500\",\"count\":10,\"path\":\"%s\"}", p);
	fault(f);
	s = last_seq();
	r = np_kube_get_node(c, node, NULL, &err);
	log = log_since(s, p);
	ok(r == -EIO && json_array_size(log) == 5, "500 forever -> -EIO after 5 attempts (%zu requests): %s", json_array_size(log), err);
	json_decref(log);
	json_decref(adm("DELETE", "/np-test/faults", NULL, NULL, NULL));

	/* a static token cannot be refreshed: one 401 is final */
	free(f);
	f = np_asprintf("{\"type\":\"401\",\"count\":1,\"path\":\"%s\"}", p);
	fault(f);
	s = last_seq();
	r = np_kube_get_node(c, node, NULL, &err);
	log = log_since(s, p);
	ok(r == -EACCES && json_array_size(log) == 1, "401 with a static token -> -EACCES, no retry");
	json_decref(log);

	r = np_kube_get_node(c, "no-such-node", NULL, &err);
	ok(r == -ENOENT && strstr(err, "404 NotFound"), "404 -> -ENOENT with the Status message: %s", err);
	free(err);
	np_kube_client_free(c);
}

/* ---- patches ---- */

static const char *label_of(json_t *node, const char *k)
{
	return json_string_value(json_object_get(json_object_get(json_object_get(node, "metadata"), "labels"), k));
}

static json_t *condition_of(json_t *node, const char *type)
{
	json_t *c;
	size_t i;
	json_array_foreach(json_object_get(json_object_get(node, "status"), "conditions"), i, c)
		if (streq(json_string_value(json_object_get(c, "type")), type))
			return c;
	return NULL;
}

static void patches(const char *node)
{
	struct np_kube_client *c = client_from(env("NP_KUBE_AGENT_KUBECONFIG"), NULL);
	json_t *n = NULL;
	char *err = NULL;
	int r;
	if (!c)
		return;
	sh("kubectl --kubeconfig \"$NP_KUBE_KUBECONFIG\" label node %s team=storage >/dev/null", node);
	/* merge patch: our key added, another removed (null), the foreign label kept */
	r = np_kube_patch_node(c, node, false, NP_PATCH_MERGE,
			       "{\"metadata\":{\"labels\":{\"nodeprint.io/bundle\":\"abc123\",\"nodeprint.io/stale\":null}}}", &n, &err);
	ok(r == 0 && streq(label_of(n, "nodeprint.io/bundle") ? label_of(n, "nodeprint.io/bundle") : "", "abc123") &&
		   streq(label_of(n, "team") ? label_of(n, "team") : "", "storage"),
	   "merge patch: own label added, kubectl's label kept");
	json_decref(n);
	n = NULL;
	/* strategic merge patch on nodes/status: conditions merged by type */
	r = np_kube_patch_node(c, node, true, NP_PATCH_STRATEGIC,
			       "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"KubeletReady\","
			       "\"message\":\"kubelet is posting ready status\",\"lastHeartbeatTime\":\"2026-11-29T18:00:00Z\","
			       "\"lastTransitionTime\":\"2026-11-29T18:00:00Z\"}]}}", NULL, &err);
	r = r ? r : np_kube_patch_node(c, node, true, NP_PATCH_STRATEGIC,
				       "{\"status\":{\"conditions\":[{\"type\":\"NVMeHealthy\",\"status\":\"False\",\"reason\":\"CriticalWarning\","
				       "\"message\":\"nvme0: available_spare\",\"lastHeartbeatTime\":\"2026-11-29T18:05:00Z\","
				       "\"lastTransitionTime\":\"2026-11-29T18:05:00Z\"}]}}", &n, &err);
	json_t *ready = condition_of(n, "Ready"), *ours = condition_of(n, "NVMeHealthy");
	ok(r == 0 && ready && ours && streq(json_string_value(json_object_get(ours, "status")), "False"),
	   "strategic merge patch on nodes/status: our condition added, Ready kept%s%s", r ? ": " : "", r ? err : "");
	/* JSON patch with a test on resourceVersion: passes with the current one, 422 with a stale one */
	const char *rv = json_string_value(json_object_get(json_object_get(n, "metadata"), "resourceVersion"));
	_cleanup_free_ char *jp = np_asprintf("[{\"op\":\"test\",\"path\":\"/metadata/resourceVersion\",\"value\":\"%s\"},"
					      "{\"op\":\"add\",\"path\":\"/metadata/annotations\",\"value\":{\"nodeprint.io/fingerprint\":\"{}\"}}]",
					      rv ? rv : "");
	json_t *n2 = NULL;
	r = np_kube_patch_node(c, node, false, NP_PATCH_JSON, jp, &n2, &err);
	ok(r == 0, "JSON patch with a passing test op%s%s", r ? ": " : "", r ? err : "");
	r = np_kube_patch_node(c, node, false, NP_PATCH_JSON, jp, NULL, &err);
	ok(r == -EINVAL && strstr(err, "422"), "JSON patch whose test fails (stale resourceVersion) -> 422 -EINVAL: %s", err);
	/* merge patch carrying a stale resourceVersion -> 409 -ESTALE */
	_cleanup_free_ char *mp = np_asprintf("{\"metadata\":{\"resourceVersion\":\"%s\",\"labels\":{\"nodeprint.io/x\":\"y\"}}}", rv ? rv : "");
	r = np_kube_patch_node(c, node, false, NP_PATCH_MERGE, mp, NULL, &err);
	ok(r == -ESTALE && strstr(err, "409"), "merge patch with a stale resourceVersion -> 409 -ESTALE");
	/* an invalid label value -> 422 */
	r = np_kube_patch_node(c, node, false, NP_PATCH_MERGE, "{\"metadata\":{\"labels\":{\"nodeprint.io/bad\":\"a b\"}}}", NULL, &err);
	ok(r == -EINVAL, "invalid label value -> 422 -EINVAL: %s", err);
	json_decref(n2);
	json_decref(n);
	free(err);
	np_kube_client_free(c);
}

/* ---- taints with a concurrent writer ---- */

struct taint_ctx {
	const char *node;
	const char *add, *remove;
	int calls;
	bool meddle; /* run kubectl between our GET and PATCH, the first time */
};

static int edit(json_t *taints, void *ud)
{
	struct taint_ctx *t = ud;
	json_t *x;
	size_t i;
	if (t->calls++ == 0 && t->meddle)
		sh("kubectl --kubeconfig \"$NP_KUBE_KUBECONFIG\" taint nodes %s example.com/autoscaler=true:NoSchedule >/dev/null", t->node);
	bool changed = false;
	for (i = json_array_size(taints); i-- > 0;) {
		x = json_array_get(taints, i);
		if (t->remove && streq(json_string_value(json_object_get(x, "key")), t->remove)) {
			json_array_remove(taints, i);
			changed = true;
		}
	}
	if (t->add) {
		json_array_append_new(taints, json_pack("{s:s,s:s}", "key", t->add, "effect", "NoSchedule"));
		changed = true;
	}
	return changed;
}

static void taints(const char *node)
{
	struct np_kube_client *c = client_from(env("NP_KUBE_AGENT_KUBECONFIG"), NULL);
	char *err = NULL, keys[512];
	json_t *n = NULL;
	if (!c)
		return;
	_cleanup_free_ char *p = np_asprintf("/api/v1/nodes/%s", node);
	long long s = last_seq();
	struct taint_ctx t = { .node = node, .add = "nodeprint.io/nvme-critical", .meddle = true };
	int r = np_kube_node_taints_update(c, node, edit, &t, 0, &err);
	json_t *log = log_since(s, p);
	size_t conflicts = 0;
	for (size_t i = 0; i < json_array_size(log); i++)
		conflicts += status_at(log, i) == 409;
	np_kube_get_node(c, node, &n, &err);
	taint_keys(n, keys, sizeof(keys));
	ok(r == 1 && t.calls == 2 && conflicts == 1 && strstr(keys, "example.com/kubelet-owned") &&
		   strstr(keys, "example.com/autoscaler") && strstr(keys, "nodeprint.io/nvme-critical"),
	   "taint added while kubectl taints the Node between our GET and PATCH: 409 -> re-read, all kept [%s]", keys);
	json_decref(n);
	json_decref(log);
	/* remove ours while kubectl adds another: theirs stays */
	struct taint_ctx t2 = { .node = node, .remove = "nodeprint.io/nvme-critical", .meddle = false };
	sh("kubectl --kubeconfig \"$NP_KUBE_KUBECONFIG\" taint nodes %s example.com/maintenance=soon:NoExecute >/dev/null", node);
	r = np_kube_node_taints_update(c, node, edit, &t2, 0, &err);
	n = NULL;
	np_kube_get_node(c, node, &n, &err);
	taint_keys(n, keys, sizeof(keys));
	ok(r == 1 && !strstr(keys, "nodeprint.io/nvme-critical") && strstr(keys, "example.com/maintenance") &&
		   strstr(keys, "example.com/autoscaler") && strstr(keys, "example.com/kubelet-owned"),
	   "own taint removed, every foreign taint kept [%s]", keys);
	json_decref(n);
	/* kubectl sees the same list */
	int k = sh("kubectl --kubeconfig \"$NP_KUBE_KUBECONFIG\" get node %s -o jsonpath='{.spec.taints[*].key}' | grep -q example.com/maintenance", node);
	ok(k == 0, "kubectl (second client) reads the taints we wrote");
	/* an injected 409 on the PATCH: re-read and retry */
	_cleanup_free_ char *f = np_asprintf("{\"type\":\"409\",\"count\":1,\"method\":\"PATCH\",\"path\":\"%s\"}", p);
	fault(f);
	struct taint_ctx t3 = { .node = node, .add = "nodeprint.io/firmware-unpinned" };
	r = np_kube_node_taints_update(c, node, edit, &t3, 0, &err);
	ok(r == 1 && t3.calls == 2, "injected 409 on PATCH -> re-read and written (%d edits)", t3.calls);
	free(err);
	np_kube_client_free(c);
}

/* ---- list, pods, pv/pvc, events, watch ---- */

struct names {
	int pages, items;
};

static int count_page(json_t *page, void *ud)
{
	struct names *nm = ud;
	nm->pages++;
	nm->items += (int)json_array_size(json_object_get(page, "items"));
	return 0;
}

static void listing(void)
{
	struct np_kube_client *c = client_from(client_kc, NULL);
	char *err = NULL;
	if (!c)
		return;
	_cleanup_free_ char *sel = np_asprintf("np-it-batch=%s", suffix);
	_cleanup_free_ char *labels = np_asprintf("{\"np-it-batch\":\"%s\"}", suffix);
	for (int i = 0; i < 7; i++) {
		_cleanup_free_ char *base = np_asprintf("it-list-%d", i);
		_cleanup_free_ char *nm = node_name(base);
		create_node(nm, labels);
	}
	struct names n = { 0 };
	int r = np_kube_list(c, "/api/v1/nodes", sel, NULL, 3, count_page, &n, &err);
	ok(r == 0 && n.pages == 3 && n.items == 7, "LIST nodes by label, limit 3: %d pages, %d items", n.pages, n.items);
	_cleanup_free_ char *one = node_name("it-list-4");
	_cleanup_free_ char *fs = np_asprintf("metadata.name=%s", one);
	struct names m = { 0 };
	r = np_kube_list(c, "/api/v1/nodes", sel, fs, 0, count_page, &m, &err);
	ok(r == 0 && m.pages == 1 && m.items == 1, "LIST with a field selector: %d item", m.items);

	/* pods on a node */
	_cleanup_free_ char *pn = node_name("it-pods");
	create_node(pn, NULL);
	for (int i = 0; i < 3; i++) {
		_cleanup_free_ char *b = np_asprintf("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p%d-%s\",\"namespace\":\"%s\"},"
						     "\"spec\":{\"nodeName\":\"%s\",\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}",
						     i, suffix, i == 2 ? "kube-system" : "default", i == 1 ? "elsewhere" : pn);
		_cleanup_free_ char *path = np_asprintf("/api/v1/namespaces/%s/pods", i == 2 ? "kube-system" : "default");
		json_decref(adm("POST", path, "application/json", b, NULL));
	}
	struct names pods = { 0 };
	r = np_kube_list_pods_on_node(c, pn, 0, count_page, &pods, &err);
	ok(r == 0 && pods.items == 2, "pods on a node across namespaces (spec.nodeName): %d of 3", pods.items);

	/* PV and PVC */
	_cleanup_free_ char *pvb = np_asprintf("{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolume\",\"metadata\":{\"name\":\"pv-%s\"},"
					       "\"spec\":{\"capacity\":{\"storage\":\"1Gi\"},\"accessModes\":[\"ReadWriteOnce\"],"
					       "\"csi\":{\"driver\":\"example.csi\",\"volumeHandle\":\"vol-1\"}}}", suffix);
	_cleanup_free_ char *pvcb = np_asprintf("{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\",\"metadata\":{\"name\":\"pvc-%s\","
						"\"namespace\":\"default\"},\"spec\":{\"accessModes\":[\"ReadWriteOnce\"],\"volumeName\":\"pv-%s\","
						"\"resources\":{\"requests\":{\"storage\":\"1Gi\"}}}}", suffix, suffix);
	json_decref(adm("POST", "/api/v1/persistentvolumes", "application/json", pvb, NULL));
	json_decref(adm("POST", "/api/v1/namespaces/default/persistentvolumeclaims", "application/json", pvcb, NULL));
	_cleanup_free_ char *pvn = np_asprintf("pv-%s", suffix), *pvcn = np_asprintf("pvc-%s", suffix);
	json_t *pv = NULL, *pvc = NULL;
	r = np_kube_get_pv(c, pvn, &pv, &err);
	int r2 = np_kube_get_pvc(c, "default", pvcn, &pvc, &err);
	json_t *csi = json_object_get(json_object_get(pv, "spec"), "csi");
	ok(r == 0 && r2 == 0 && streq(json_string_value(json_object_get(csi, "volumeHandle")) ?: "", "vol-1") &&
		   streq(json_string_value(json_object_get(json_object_get(pvc, "spec"), "volumeName")) ?: "", pvn),
	   "GET persistentvolume and persistentvolumeclaim");
	json_decref(pv);
	json_decref(pvc);
	free(err);
	np_kube_client_free(c);
}

static void events(const char *node)
{
	struct np_kube_client *c = client_from(client_kc, NULL);
	char *err = NULL;
	if (!c)
		return;
	_cleanup_free_ char *name = np_asprintf("%s.core%s", node, suffix), *name2 = np_asprintf("%s.v1%s", node, suffix);
	json_t *ev = json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:s,s:s,s:s},s:s,s:s,s:s,s:{s:s},s:s,s:s,s:i}", "apiVersion", "v1", "kind",
			       "Event", "metadata", "name", name, "namespace", "default", "involvedObject", "apiVersion", "v1", "kind",
			       "Node", "name", node, "reason", "PathFailed", "message", "sdb: path failed", "type", "Warning",
			       "source", "component", "nodeprint", "firstTimestamp", "2026-11-29T18:00:00Z", "lastTimestamp",
			       "2026-11-29T18:00:00Z", "count", 1);
	json_t *out = NULL;
	int r = np_kube_create_event(c, NP_EVENTS_CORE_V1, "default", ev, &out, &err);
	ok(r == 0, "POST core/v1 Event%s%s", r ? ": " : "", r ? err : "");
	json_decref(out);
	out = NULL;
	r = np_kube_patch_event(c, NP_EVENTS_CORE_V1, "default", name, NP_PATCH_MERGE,
				"{\"count\":3,\"lastTimestamp\":\"2026-11-29T18:02:00Z\"}", &out, &err);
	ok(r == 0 && json_integer_value(json_object_get(out, "count")) == 3, "PATCH core/v1 Event count (repeat aggregated)");
	json_decref(out);
	json_decref(ev);
	ev = json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:s,s:s,s:s},s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "apiVersion", "events.k8s.io/v1", "kind",
		       "Event", "metadata", "name", name2, "namespace", "default", "regarding", "apiVersion", "v1", "kind", "Node",
		       "name", node, "reason", "NVMeCriticalWarning", "note", "nvme0: available_spare", "type", "Warning", "action",
		       "Observed", "reportingController", "nodeprint.io/agent", "reportingInstance", node, "eventTime",
		       "2026-11-29T18:00:00.000000Z");
	out = NULL;
	r = np_kube_create_event(c, NP_EVENTS_V1, "default", ev, &out, &err);
	ok(r == 0, "POST events.k8s.io/v1 Event%s%s", r ? ": " : "", r ? err : "");
	json_decref(out);
	out = NULL;
	r = np_kube_patch_event(c, NP_EVENTS_V1, "default", name2, NP_PATCH_MERGE,
				"{\"series\":{\"count\":2,\"lastObservedTime\":\"2026-11-29T18:01:00.000000Z\"}}", &out, &err);
	ok(r == 0, "PATCH events.k8s.io/v1 Event series%s%s", r ? ": " : "", r ? err : "");
	json_decref(out);
	json_decref(ev);
	int k = sh("kubectl --kubeconfig \"$NP_KUBE_KUBECONFIG\" get events -n default --field-selector involvedObject.name=%s "
		   "-o jsonpath='{.items[*].reason}' | grep -q PathFailed", node);
	ok(k == 0, "kubectl get events finds our Event by involvedObject");
	free(err);
	np_kube_client_free(c);
}

struct wctx {
	int modified;
	char last_rv[32];
};

static int on_watch(const char *type, json_t *obj, void *ud)
{
	struct wctx *w = ud;
	const char *rv = json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
	if (streq(type, "MODIFIED"))
		w->modified++;
	if (rv)
		snprintf(w->last_rv, sizeof(w->last_rv), "%s", rv);
	return 0;
}

static void watching(const char *node)
{
	struct np_kube_client *c = client_from(client_kc, NULL);
	char *err = NULL;
	json_t *n = NULL;
	if (!c)
		return;
	np_kube_get_node(c, node, &n, &err);
	_cleanup_free_ char *rv = strdup(json_string_value(json_object_get(json_object_get(n, "metadata"), "resourceVersion")) ?: "");
	json_decref(n);
	/* two changes after that version, then watch from it: both arrive, then the server ends the watch */
	sh("kubectl --kubeconfig \"$NP_KUBE_KUBECONFIG\" label node %s np-it-watch=1 >/dev/null", node);
	sh("kubectl --kubeconfig \"$NP_KUBE_KUBECONFIG\" label node %s np-it-watch=2 --overwrite >/dev/null", node);
	struct wctx w = { 0 };
	int r = np_kube_watch_node(c, node, rv, 1, on_watch, &w, &err);
	ok(r == 0 && w.modified == 2, "watch from a resourceVersion: %d MODIFIED events, ended by timeoutSeconds%s%s", w.modified,
	   r ? ": " : "", r ? err : "");
	free(err);
	np_kube_client_free(c);
}

int main(void)
{
	snprintf(suffix, sizeof(suffix), "%lx", (unsigned long)time(NULL) % 0xfffff);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/np-kube-it-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	setenv("KUBECONFIG", "/nonexistent-np-it", 1); /* only explicit configs in these tests */
	admin = client_from(env("NP_KUBE_KUBECONFIG"), NULL);
	if (!admin) {
		printf("not ok 1 - admin client\n");
		return 1;
	}
	_cleanup_free_ char *node = node_name("it-node");
	create_node(node, NULL);
	client_kc = client_identity();
	ok(client_kc != NULL, "ServiceAccount np-it-client with a bound token (TokenRequest) for the client-only scenarios");
	auth_modes(node);
	connection_reuse(node);
	token_rotation(node);
	exec_plugins(node);
	in_cluster(node);
	failures(node);
	patches(node);
	taints(node);
	listing();
	events(node);
	watching(node);
	json_decref(adm("DELETE", "/np-test/faults", NULL, NULL, NULL));
	np_kube_client_free(admin);
	free(client_kc);
	sh("rm -rf '%s'", tmpdir);
	printf("1..%d\n", n_tests);
	return n_failed ? 1 : 0;
}
