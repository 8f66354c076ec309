// SPDX-License-Identifier: Apache-2.0
/*
 * kubeconfig loading (kubectl's merge rules, relative paths, errors with file:line:column),
 * exec credential plugins (a real script run as the plugin) and the helpers they use.
 * Inputs from ../shared/cases/30 (relative cert paths) and 32 (exec plugins).
 */
#define _GNU_SOURCE
#include "testutil.h"
#include "../../pkg/kube/auth.h"
#include "../../pkg/kube/config.h"
#include "../../pkg/kube/exec.h"
#include "../../pkg/kube/kubeconfig.h"
#include "../../pkg/kube/util.h"

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char tmpdir[256];

static void put(const char *rel, const char *content, mode_t mode)
{
	char path[512], *slash;
	snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
	for (slash = strchr(path + strlen(tmpdir) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
	chmod(path, mode);
}

static const char *tp(const char *rel)
{
	static char buf[4][512];
	static int i;
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", tmpdir, rel);
	return buf[i];
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/np-kubeconfig-XXXXXX");
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

/* shared/cases/30: paths relative to the kubeconfig's folder, not the working directory. */
static const char case30[] = "apiVersion: v1\n"
			     "clusters:\n"
			     "- cluster:\n"
			     "    certificate-authority: dev-ca.crt\n"
			     "    server: https://203.0.113.10:6443\n"
			     "  name: dev\n"
			     "users:\n"
			     "- name: dev-user\n"
			     "  user:\n"
			     "    client-certificate: certs/dev/client.crt\n"
			     "    client-key: certs/dev/client.key\n"
			     "contexts:\n"
			     "- name: dev\n"
			     "  context: {cluster: dev, user: dev-user, namespace: kube-system}\n"
			     "current-context: dev\n";

static void test_case30_relative_paths(void **state)
{
	(void)state;
	struct np_kube_config c;
	char *err = NULL, cwd[512];

	put("etc/agent/kube/config", case30, 0600);
	put("etc/agent/kube/dev-ca.crt", "-----BEGIN CERTIFICATE-----\nCA-OF-DEV\n-----END CERTIFICATE-----\n", 0644);
	put("etc/agent/kube/certs/dev/client.crt", "-----BEGIN CERTIFICATE-----\nCLIENT\n-----END CERTIFICATE-----\n", 0644);
	put("etc/agent/kube/certs/dev/client.key", "-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n", 0600);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir("/"), 0); /* a DaemonSet's working directory */
	struct np_kubeconfig_opts o = { .kubeconfig = tp("etc/agent/kube/config") };
	int r = np_kubeconfig_load(&o, &c, &err);
	if (r < 0)
		fail_msg("%s", err);
	assert_string_equal(c.server, "https://203.0.113.10:6443");
	assert_string_equal(c.ca_pem, "-----BEGIN CERTIFICATE-----\nCA-OF-DEV\n-----END CERTIFICATE-----\n");
	assert_int_equal(c.ca_len, strlen(c.ca_pem));
	assert_string_equal(c.cert_pem, "-----BEGIN CERTIFICATE-----\nCLIENT\n-----END CERTIFICATE-----\n");
	assert_string_equal(c.key_pem, "-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n");
	assert_string_equal(c.namespace, "kube-system");
	assert_string_equal(c.context, "dev");
	assert_null(c.token);
	assert_false(c.insecure_skip_tls_verify);
	np_kube_config_free(&c);

	/* a missing file: the error holds the resolved absolute path, not the relative one */
	unlink(tp("etc/agent/kube/certs/dev/client.key"));
	assert_int_equal(np_kubeconfig_load(&o, &c, &err), -ENOENT);
	assert_non_null(strstr(err, tp("etc/agent/kube/certs/dev/client.key")));
	assert_non_null(strstr(err, "client-key"));
	assert_non_null(strstr(err, "users[0]"));
	free(err);
	assert_int_equal(chdir(cwd), 0);
}

/* shared/cases/32: exec users with env: null, args, interactiveMode, provideClusterInfo. */
static const char case32[] = "apiVersion: v1\n"
			     "clusters:\n"
			     "- name: c\n"
			     "  cluster: {server: 'https://127.0.0.1:6443/', insecure-skip-tls-verify: true}\n"
			     "contexts:\n"
			     "- name: one\n"
			     "  context: {cluster: c, user: example-one}\n"
			     "- name: two\n"
			     "  context: {cluster: c, user: example-two}\n"
			     "users:\n"
			     "- name: example-one\n"
			     "  user:\n"
			     "    exec:\n"
			     "      apiVersion: client.authentication.k8s.io/v1\n"
			     "      args:\n"
			     "      - lookup\n"
			     "      - account\n"
			     "      - example-one\n"
			     "      command: secret-tool\n"
			     "      env: null\n"
			     "      interactiveMode: Never\n"
			     "      provideClusterInfo: false\n"
			     "- name: example-two\n"
			     "  user:\n"
			     "    exec:\n"
			     "      apiVersion: client.authentication.k8s.io/v1\n"
			     "      command: k8s-secret.sh\n"
			     "      interactiveMode: Never\n"
			     "      provideClusterInfo: true\n";

static void test_case32_exec_config(void **state)
{
	(void)state;
	struct np_kube_config c;
	char *err = NULL;
	int r = np_kubeconfig_parse_buf("/etc/agent/config", case32, sizeof(case32) - 1, "one", &c, &err);
	if (r < 0)
		fail_msg("%s", err);
	assert_string_equal(c.server, "https://127.0.0.1:6443"); /* trailing slash dropped */
	assert_true(c.insecure_skip_tls_verify);
	assert_non_null(c.exec);
	assert_string_equal(c.exec->api_version, "client.authentication.k8s.io/v1");
	assert_string_equal(c.exec->command, "secret-tool"); /* no '/': looked up in PATH, not resolved */
	assert_non_null(c.exec->args);
	assert_string_equal(c.exec->args[0], "lookup");
	assert_string_equal(c.exec->args[1], "account");
	assert_string_equal(c.exec->args[2], "example-one");
	assert_null(c.exec->args[3]);
	assert_non_null(c.exec->env); /* env: null -> an empty list, not a crash */
	assert_null(c.exec->env[0]);
	assert_string_equal(c.exec->interactive_mode, "Never");
	assert_false(c.exec->provide_cluster_info);
	np_kube_config_free(&c);

	r = np_kubeconfig_parse_buf("/etc/agent/config", case32, sizeof(case32) - 1, "two", &c, &err);
	if (r < 0)
		fail_msg("%s", err);
	assert_true(c.exec->provide_cluster_info);
	assert_null(c.exec->args[0]);
	np_kube_config_free(&c);
}

/* the plugin output of shared/cases/32: raw PEM (not base64) in the status */
static void test_case32_exec_credential_pem(void **state)
{
	(void)state;
	static const char out[] =
		"{\"apiVersion\": \"client.authentication.k8s.io/v1\",\"kind\": \"ExecCredential\",\"status\": "
		"{\"clientCertificateData\": \"-----BEGIN CERTIFICATE-----****MASKED****-----END CERTIFICATE-----\","
		"\"clientKeyData\": \"-----BEGIN PRIVATE KEY-----******MASKED*****-----END PRIVATE KEY-----\"}}";
	struct np_exec_credential cr;
	char *err = NULL;

	assert_int_equal(np_exec_credential_parse("client.authentication.k8s.io/v1", out, sizeof(out) - 1, &cr, &err), 0);
	assert_null(cr.token);
	assert_string_equal(cr.cert_pem, "-----BEGIN CERTIFICATE-----****MASKED****-----END CERTIFICATE-----");
	assert_string_equal(cr.key_pem, "-----BEGIN PRIVATE KEY-----******MASKED*****-----END PRIVATE KEY-----");
	assert_int_equal(cr.expires, 0);
	np_exec_credential_free(&cr);

	/* empty stdout fails closed with a clear message (not "EOF at line 1 column 0") */
	assert_int_equal(np_exec_credential_parse("client.authentication.k8s.io/v1", "\n", 1, &cr, &err), -EINVAL);
	assert_non_null(strstr(err, "nothing"));
	/* the version must match the kubeconfig's */
	assert_int_equal(np_exec_credential_parse("client.authentication.k8s.io/v1beta1", out, sizeof(out) - 1, &cr, &err),
			 -EINVAL);
	assert_non_null(strstr(err, "apiVersion"));
	static const char nocred[] = "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{}}";
	assert_int_equal(np_exec_credential_parse(NULL, nocred, sizeof(nocred) - 1, &cr, &err), -EINVAL);
	assert_non_null(strstr(err, "neither token"));
	static const char certonly[] = "{\"apiVersion\":\"x\",\"kind\":\"ExecCredential\",\"status\":{\"clientCertificateData\":\"-----BEGIN C\"}}";
	assert_int_equal(np_exec_credential_parse(NULL, certonly, sizeof(certonly) - 1, &cr, &err), -EINVAL);
	assert_non_null(strstr(err, "without status.clientKeyData"));
	static const char tok[] = "{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":\"ExecCredential\","
				  "\"status\":{\"token\":\"abc\",\"expirationTimestamp\":\"2026-11-29T18:30:00Z\"}}";
	assert_int_equal(np_exec_credential_parse("client.authentication.k8s.io/v1beta1", tok, sizeof(tok) - 1, &cr, &err), 0);
	assert_string_equal(cr.token, "abc");
	assert_int_equal(cr.expires, 1795977000);
	np_exec_credential_free(&cr);
	free(err);
}

/* a real plugin: a shell script beside the kubeconfig, given as a relative path with a '/' */
static void test_exec_plugin_runs(void **state)
{
	(void)state;
	struct np_kube_config c;
	struct np_exec_credential cr;
	char *err = NULL;

	put("plug/bin/cred.sh",
	    "#!/bin/sh\n"
	    "case \"$KUBERNETES_EXEC_INFO\" in *'\"server\":\"https://10.0.0.1:6443\"'*) srv=yes;; *) srv=no;; esac\n"
	    "echo \"warning on stderr\" >&2\n"
	    "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":\"ExecCredential\","
	    "\"status\":{\"token\":\"%s-%s-%s\",\"expirationTimestamp\":\"2030-01-02T03:04:05+01:00\"}}' \"$1\" \"$NP_FOO\" \"$srv\"\n",
	    0755);
	put("plug/config",
	    "clusters: [{name: c, cluster: {server: 'https://10.0.0.1:6443', certificate-authority-data: 'LS0tLS1CRUdJTg=='}}]\n"
	    "users:\n"
	    "- name: u\n"
	    "  user:\n"
	    "    exec:\n"
	    "      apiVersion: client.authentication.k8s.io/v1beta1\n"
	    "      command: ./bin/cred.sh\n"
	    "      args: [first, second]\n"
	    "      env: [{name: NP_FOO, value: bar}]\n"
	    "      provideClusterInfo: true\n"
	    "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
	    "current-context: x\n",
	    0600);
	struct np_kubeconfig_opts o = { .kubeconfig = tp("plug/config") };
	int r = np_kubeconfig_load(&o, &c, &err);
	if (r < 0)
		fail_msg("%s", err);
	assert_string_equal(c.exec->command, tp("plug/./bin/cred.sh"));
	assert_string_equal(c.ca_pem, "-----BEGIN");
	r = np_exec_run(&c, 5000, &cr, &err);
	if (r < 0)
		fail_msg("%s", err);
	assert_string_equal(cr.token, "first-bar-yes");
	assert_int_equal(cr.expires, 1893549845); /* 2030-01-02T02:04:05Z */
	np_exec_credential_free(&cr);

	/* a failing plugin: its exit status and stderr are in the message */
	put("plug/bin/cred.sh", "#!/bin/sh\necho 'no credentials for you' >&2\nexit 3\n", 0755);
	assert_int_equal(np_exec_run(&c, 5000, &cr, &err), -EIO);
	assert_non_null(strstr(err, "status 3"));
	assert_non_null(strstr(err, "no credentials for you"));
	/* a plugin printing nothing */
	put("plug/bin/cred.sh", "#!/bin/sh\nexit 0\n", 0755);
	assert_int_equal(np_exec_run(&c, 5000, &cr, &err), -EINVAL);
	assert_non_null(strstr(err, "nothing to stdout"));
	/* a plugin that never answers is killed */
	put("plug/bin/cred.sh", "#!/bin/sh\nexec sleep 30\n", 0755);
	assert_int_equal(np_exec_run(&c, 300, &cr, &err), -ETIMEDOUT);
	/* a missing plugin */
	unlink(tp("plug/bin/cred.sh"));
	assert_int_equal(np_exec_run(&c, 5000, &cr, &err), -ENOENT);
	assert_non_null(strstr(err, "cred.sh"));
	free(err);
	np_kube_config_free(&c);
}

/* kubectl's merge: first file to set a name wins, current-context from the first file setting it. */
static void test_merge_rules(void **state)
{
	(void)state;
	struct np_kube_config c;
	char *err = NULL, env[1600];

	put("m/a/config",
	    "current-context: a-ctx\n"
	    "clusters: [{name: c1, cluster: {server: 'https://a.example:6443'}}]\n"
	    "users: [{name: u1, user: {token: token-from-a}}]\n"
	    "contexts: [{name: a-ctx, context: {cluster: c1, user: u1}}]\n",
	    0600);
	put("m/b/config",
	    "current-context: b-ctx\n"
	    "clusters:\n"
	    "- {name: c1, cluster: {server: 'https://b.example:6443'}}\n"
	    "- {name: c2, cluster: {server: 'https://c2.example', certificate-authority: ca.pem}}\n"
	    "users: [{name: u1, user: {token: token-from-b}}, {name: u2, user: {tokenFile: tok}}]\n"
	    "contexts: [{name: b-ctx, context: {cluster: c1, user: u2}}, {name: c2-ctx, context: {cluster: c2, user: u1}}]\n",
	    0600);
	put("m/b/ca.pem", "CA-B", 0644);
	put("m/empty", "", 0600);
	snprintf(env, sizeof(env), "%s::%s:%s:%s:%s", tp("m/empty"), tp("m/missing"), tp("m/a/config"),
		 tp("m/b/config"), tp("m/a/config"));
	struct np_kubeconfig_opts o = { .kubeconfig_env = env };
	int r = np_kubeconfig_load(&o, &c, &err);
	if (r < 0)
		fail_msg("%s", err);
	assert_string_equal(c.context, "a-ctx");
	assert_string_equal(c.server, "https://a.example:6443");
	assert_string_equal(c.token, "token-from-a");
	/* three files, the missing one skipped, the duplicate read once */
	char want[1600];
	snprintf(want, sizeof(want), "%s:%s:%s", tp("m/empty"), tp("m/a/config"), tp("m/b/config"));
	assert_string_equal(c.source, want);
	np_kube_config_free(&c);

	/* b-ctx lives in b only, but its cluster c1 is a's (first wins); tokenFile is relative to b */
	o.context = "b-ctx";
	assert_int_equal(np_kubeconfig_load(&o, &c, &err), 0);
	assert_string_equal(c.server, "https://a.example:6443");
	assert_null(c.token);
	assert_string_equal(c.token_file, tp("m/b/tok"));
	np_kube_config_free(&c);
	o.context = "c2-ctx";
	assert_int_equal(np_kubeconfig_load(&o, &c, &err), 0);
	assert_string_equal(c.server, "https://c2.example");
	assert_string_equal(c.ca_pem, "CA-B");
	assert_string_equal(c.token, "token-from-a");
	np_kube_config_free(&c);
	o.context = "nope";
	assert_int_equal(np_kubeconfig_load(&o, &c, &err), -ENOENT);
	assert_non_null(strstr(err, "no context named \"nope\""));

	/* --kubeconfig wins over KUBECONFIG and must exist */
	o = (struct np_kubeconfig_opts){ .kubeconfig = tp("m/b/config"), .kubeconfig_env = env };
	assert_int_equal(np_kubeconfig_load(&o, &c, &err), 0);
	assert_string_equal(c.context, "b-ctx");
	assert_string_equal(c.server, "https://b.example:6443");
	np_kube_config_free(&c);
	o.kubeconfig = tp("m/missing");
	assert_int_equal(np_kubeconfig_load(&o, &c, &err), -ENOENT);
	assert_non_null(strstr(err, "m/missing"));
	/* no file, only HOME: ~/.kube/config */
	put("home/.kube/config", case30, 0600);
	put("home/.kube/dev-ca.crt", "x", 0644);
	put("home/.kube/certs/dev/client.crt", "c", 0644);
	put("home/.kube/certs/dev/client.key", "k", 0644);
	o = (struct np_kubeconfig_opts){ .home = tp("home") };
	assert_int_equal(np_kubeconfig_load(&o, &c, &err), 0);
	assert_string_equal(c.server, "https://203.0.113.10:6443");
	np_kube_config_free(&c);
	free(err);
}

struct bad {
	const char *yaml, *ctx;
	int err;
	const char *msg; /* substring the message must hold */
};

static void test_malformed(void **state)
{
	(void)state;
	static const struct bad bad[] = {
		{ "clusters: [{name: c, cluster: {server: 'https://x', insecure-skip-tls-verify: true, certificate-authority: ca}}]\n"
		  "contexts: [{name: x, context: {cluster: c}}]\n", "x", -EINVAL,
		  "f.yaml:1:12: clusters[0] \"c\": insecure-skip-tls-verify: specifying a root certificates file with the insecure flag is not allowed" },
		{ "clusters: {name: c}\n", "x", -EINVAL, "f.yaml:1:11: .clusters: expected a list" },
		{ "clusters:\n- name: c\n  cluster:\n    server: [a, b]\n", "x", -EINVAL, "f.yaml:4:13: clusters[0].cluster.server: expected a string" },
		{ "users:\n- name: u\n  user:\n    exec:\n      command: x\n      apiVersion: client.authentication.k8s.io/v1alpha1\n", "x",
		  -EINVAL, "f.yaml:5:7: users[0].user.exec: apiVersion: expected client.authentication.k8s.io/v1 or /v1beta1" },
		{ "users:\n- name: u\n  user:\n    exec: {command: x, apiVersion: client.authentication.k8s.io/v1}\n", "x",
		  -EINVAL, "users[0].user.exec: interactiveMode: must be set" },
		{ "users:\n- name: u\n  user:\n    exec: {command: x, apiVersion: client.authentication.k8s.io/v1beta1, args: [{a: b}]}\n", "x",
		  -EINVAL, "f.yaml:4:81: users[0].user.exec.args[0]: expected a string" },
		{ "users:\n- name: u\n  user:\n    exec: {command: x, apiVersion: client.authentication.k8s.io/v1beta1, env: [{value: b}]}\n", "x",
		  -EINVAL, "users[0].user.exec.env[0]: name: expected a variable name" },
		{ "clusters: [{name: c, cluster: {server: 'https://x', insecure-skip-tls-verify: maybe}}]\n", "x", -EINVAL,
		  "f.yaml:1:79: clusters[0].cluster.insecure-skip-tls-verify: expected true or false" },
		{ "clusters:\n- name: c\n  cluster: {server: 'https://x', certificate-authority-data: 'not*base64'}\n"
		  "contexts: [{name: x, context: {cluster: c}}]\n", "x", -EINVAL,
		  "f.yaml:2:3: clusters[0] \"c\": certificate-authority-data: not valid base64" },
		{ "clusters: [{name: c, cluster: {server: 'https://x'}}]\n"
		  "users: [{name: u, user: {client-certificate-data: 'QUJD'}}]\n"
		  "contexts: [{name: x, context: {cluster: c, user: u}}]\n", "x", -EINVAL, "client-certificate: set without client-key" },
		{ "clusters: [{name: c, cluster: {server: 'https://x'}}, {name: c, cluster: {server: 'https://y'}}]\n", "x", -EINVAL,
		  "f.yaml:1:55: clusters[1]: duplicate name \"c\" (also at line 1)" },
		{ "clusters: [{name: c, cluster: {}}]\ncontexts: [{name: x, context: {cluster: c}}]\n", "x", -EINVAL,
		  "clusters[0] \"c\": server: missing" },
		{ "contexts: [{name: x, context: {cluster: nope}}]\n", "x", -ENOENT, "cluster: no cluster named \"nope\"" },
		{ "clusters: [{name: c, cluster: {server: 'https://x'}}]\n"
		  "contexts: [{name: x, context: {cluster: c, user: ghost}}]\n", "x", -ENOENT, "no user named \"ghost\"" },
		{ "clusters: [{name: c, cluster: {server: 'https://x'}}]\n"
		  "users: [{name: u, user: {auth-provider: {name: gcp}}}]\n"
		  "contexts: [{name: x, context: {cluster: c, user: u}}]\n", "x", -EOPNOTSUPP, "auth-provider: not supported" },
		{ "clusters: [{name: c, cluster: {server: 'ftp://x'}}]\ncontexts: [{name: x, context: {cluster: c}}]\n", "x",
		  -EINVAL, "server: expected https://HOST[:PORT], got 'ftp://x'" },
		{ "clusters: [{name: c\n", "x", -EINVAL, "f.yaml:2:1: invalid YAML" },
		{ "- just\n- a list\n", "x", -EINVAL, "f.yaml:1:1: (top level): expected a mapping" },
		{ "apiVersion: v1\n", NULL, -EINVAL, "current-context: not set" },
		{ "clusters: [{cluster: {}}]\n", "x", -EINVAL, "clusters[0]: name: missing" },
		{ "clusters: [\"\\0\"]\n", "x", -EINVAL, "clusters[0]: expected a mapping" },
		{ "users: [{name: u, user: {token: \"a\\0b\"}}]\n", "x", -EINVAL, "users[0].user.token: contains a NUL byte" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct np_kube_config c;
		char *err = NULL;
		int r = np_kubeconfig_parse_buf("/cfg/f.yaml", bad[i].yaml, strlen(bad[i].yaml), bad[i].ctx, &c, &err);
		if (r != bad[i].err || !err || !strstr(err, bad[i].msg))
			fail_msg("case %zu: got %d '%s', want %d '%s'", i, r, err ? err : "(none)", bad[i].err, bad[i].msg);
		assert_null(c.server); /* nothing half-filled on failure */
		free(err);
	}
}

/* *-data wins over the path (client-go), and the base64 is decoded */
static void test_data_wins(void **state)
{
	(void)state;
	static const char y[] = "clusters: [{name: c, cluster: {server: 'h.example:443', certificate-authority: /nonexistent, "
				"certificate-authority-data: 'Q0EtREFUQQ==', tls-server-name: kubernetes.default}}]\n"
				"users: [{name: u, user: {client-certificate-data: 'Q0VSVA', client-key-data: 'S0VZ', "
				"client-key: /nonexistent}}]\n"
				"contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n";
	struct np_kube_config c;
	char *err = NULL;
	int r = np_kubeconfig_parse_buf("/cfg/f.yaml", y, sizeof(y) - 1, NULL, &c, &err);
	if (r < 0)
		fail_msg("%s", err);
	assert_string_equal(c.server, "https://h.example:443"); /* no scheme: https */
	assert_string_equal(c.ca_pem, "CA-DATA");
	assert_int_equal(c.ca_len, 7);
	assert_string_equal(c.cert_pem, "CERT"); /* unpadded base64 accepted */
	assert_string_equal(c.key_pem, "KEY");
	assert_string_equal(c.tls_server_name, "kubernetes.default");
	np_kube_config_free(&c);
}

/* the plugin's expirationTimestamp is honoured: cached before it, re-run 10 s before it and after a 401 */
static void test_exec_expiry(void **state)
{
	(void)state;
	struct np_kube_config c;
	struct np_kube_auth a;
	char *err = NULL;

	put("exp/plug.sh",
	    "#!/bin/sh\n"
	    "n=$(($(cat \"$(dirname \"$0\")/runs\" 2>/dev/null || echo 0) + 1)); echo $n >\"$(dirname \"$0\")/runs\"\n"
	    "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":"
	    "{\"token\":\"run-%s\",\"expirationTimestamp\":\"2026-11-29T18:30:00Z\"}}' $n\n",
	    0755);
	put("exp/config",
	    "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
	    "users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: ./plug.sh, interactiveMode: Never}}}]\n"
	    "contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n",
	    0600);
	struct np_kubeconfig_opts o = { .kubeconfig = tp("exp/config") };
	assert_int_equal(np_kubeconfig_load(&o, &c, &err), 0);
	np_kube_auth_init(&a, &c, 5000);
	const time_t expiry = 1795977000; /* 2026-11-29T18:30:00Z */
	assert_int_equal(np_kube_auth_prepare(&a, 0, expiry - 600, &err), 0);
	assert_string_equal(np_kube_auth_token(&a), "run-1");
	assert_int_equal(np_kube_auth_prepare(&a, 0, expiry - 11, &err), 0);
	assert_string_equal(np_kube_auth_token(&a), "run-1"); /* still valid: cached */
	assert_int_equal(np_kube_auth_prepare(&a, 0, expiry - 10, &err), 0);
	assert_string_equal(np_kube_auth_token(&a), "run-2"); /* about to expire: re-run */
	assert_true(np_kube_auth_invalidate(&a));
	assert_int_equal(np_kube_auth_prepare(&a, 0, expiry - 600, &err), 0);
	assert_string_equal(np_kube_auth_token(&a), "run-3"); /* a 401: re-run */
	assert_int_equal(a.exec_runs, 3);
	np_kube_auth_free(&a);
	np_kube_config_free(&c);
	free(err);
}

/* --kubeconfig / KUBECONFIG / in-cluster / ~/.kube/config, in that order */
static void test_config_precedence(void **state)
{
	(void)state;
	struct np_kube_config c;
	char *err = NULL;

	put("prec/kc", "clusters: [{name: c, cluster: {server: 'https://from-kubeconfig:6443'}}]\n"
		       "contexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x\n", 0600);
	put("prec/sa/var/run/secrets/kubernetes.io/serviceaccount/token", "t", 0600);
	put("prec/sa/var/run/secrets/kubernetes.io/serviceaccount/ca.crt", "CA", 0600);
	put("prec/home/.kube/config", "clusters: [{name: c, cluster: {server: 'https://from-home:6443'}}]\n"
				      "contexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x\n", 0600);
	char *saved_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
	setenv("HOME", tp("prec/home"), 1);
	unsetenv("KUBECONFIG");
	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	struct np_kube_source src = { .sa_prefix = tp("prec/sa") };
	assert_int_equal(np_kube_config_auto(&src, &c, &err), 0);
	assert_string_equal(c.server, "https://10.96.0.1:443"); /* in-cluster before ~/.kube/config */
	np_kube_config_free(&c);
	src.context = "x";
	assert_int_equal(np_kube_config_auto(&src, &c, &err), -EINVAL); /* no contexts in-cluster */
	src.context = NULL;
	setenv("KUBECONFIG", tp("prec/kc"), 1);
	assert_int_equal(np_kube_config_auto(&src, &c, &err), 0);
	assert_string_equal(c.server, "https://from-kubeconfig:6443"); /* KUBECONFIG before in-cluster */
	np_kube_config_free(&c);
	unsetenv("KUBECONFIG");
	src.kubeconfig = tp("prec/kc");
	assert_int_equal(np_kube_config_auto(&src, &c, &err), 0);
	assert_string_equal(c.server, "https://from-kubeconfig:6443");
	np_kube_config_free(&c);
	src.kubeconfig = NULL;
	unsetenv("KUBERNETES_SERVICE_HOST");
	assert_int_equal(np_kube_config_auto(&src, &c, &err), 0);
	assert_string_equal(c.server, "https://from-home:6443");
	np_kube_config_free(&c);
	unsetenv("KUBERNETES_SERVICE_PORT");
	if (saved_home)
		setenv("HOME", saved_home, 1);
	free(saved_home);
	free(err);
}

static void test_base64(void **state)
{
	(void)state;
	char *out;
	size_t n;
	assert_int_equal(np_base64_decode("aGVsbG8=", 8, &out, &n), 0);
	assert_int_equal(n, 5);
	assert_memory_equal(out, "hello", 5);
	free(out);
	assert_int_equal(np_base64_decode("aGVs\nbG8", 8, &out, &n), 0);
	assert_memory_equal(out, "hello", 5);
	free(out);
	assert_int_equal(np_base64_decode("aGVsbG8==", 9, &out, &n), -EINVAL);
	assert_int_equal(np_base64_decode("aG=Vs", 5, &out, &n), -EINVAL);
	assert_int_equal(np_base64_decode("a", 1, &out, &n), -EINVAL);
	out = np_base64_encode("hello", 5);
	assert_string_equal(out, "aGVsbG8=");
	free(out);
}

static void test_rfc3339(void **state)
{
	(void)state;
	time_t t;
	assert_int_equal(np_parse_rfc3339("1970-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(np_parse_rfc3339("2026-11-29T18:30:00.123456Z", &t), 0);
	assert_int_equal(t, 1795977000);
	assert_int_equal(np_parse_rfc3339("2026-11-29T20:30:00+02:00", &t), 0);
	assert_int_equal(t, 1795977000);
	assert_int_equal(np_parse_rfc3339("2026-11-29 18:30:00", &t), -EINVAL);
	assert_int_equal(np_parse_rfc3339("2026-13-29T18:30:00Z", &t), -EINVAL);
	assert_int_equal(np_parse_rfc3339("2026-11-29T18:30:00Zjunk", &t), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_case30_relative_paths),
		cmocka_unit_test(test_case32_exec_config),
		cmocka_unit_test(test_case32_exec_credential_pem),
		cmocka_unit_test(test_exec_plugin_runs),
		cmocka_unit_test(test_merge_rules),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_data_wins),
		cmocka_unit_test(test_exec_expiry),
		cmocka_unit_test(test_config_precedence),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_rfc3339),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
