// SPDX-License-Identifier: Apache-2.0
/* exec.c - run a client.authentication.k8s.io credential plugin and decode its ExecCredential. */
#define _GNU_SOURCE
#include "exec.h"
#include "util.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#define EXEC_STDOUT_MAX (1u << 20)
#define EXEC_STDERR_KEEP 2048

extern char **environ;

static void strv_freep(char ***v)
{
	np_strv_free(*v);
}

void np_exec_credential_free(struct np_exec_credential *c)
{
	if (c->token)
		explicit_bzero(c->token, strlen(c->token));
	free(c->token);
	free(c->cert_pem);
	if (c->key_pem)
		explicit_bzero(c->key_pem, c->key_len);
	free(c->key_pem);
	memset(c, 0, sizeof(*c));
}

/* PEM as written by the plugin; a base64-wrapped PEM is unwrapped (shared/cases/32). */
static int pem_field(json_t *st, const char *key, char **out, size_t *len, char **err)
{
	json_t *v = json_object_get(st, key);
	const char *s;
	size_t n;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return np_kube_seterr(err, -EINVAL, "ExecCredential: status.%s: expected a string", key);
	s = json_string_value(v);
	n = json_string_length(v);
	if (n == 0)
		return 0;
	if (!strstr(s, "-----BEGIN")) {
		_cleanup_free_ char *dec = NULL;
		size_t dl;
		if (np_base64_decode(s, n, &dec, &dl) < 0 || !strstr(dec, "-----BEGIN"))
			return np_kube_seterr(err, -EINVAL, "ExecCredential: status.%s: expected PEM text", key);
		*out = TAKE_PTR(dec);
		*len = dl;
		return 0;
	}
	*out = strndup(s, n);
	*len = n;
	return *out ? 0 : -ENOMEM;
}

static int parse_status(json_t *st, struct np_exec_credential *out, char **err)
{
	json_t *tok = json_object_get(st, "token"), *exp = json_object_get(st, "expirationTimestamp");
	int r;

	if (tok && !json_is_null(tok)) {
		if (!json_is_string(tok))
			return np_kube_seterr(err, -EINVAL, "ExecCredential: status.token: expected a string");
		if (json_string_length(tok) > 0 && !(out->token = strdup(json_string_value(tok))))
			return -ENOMEM;
	}
	if ((r = pem_field(st, "clientCertificateData", &out->cert_pem, &out->cert_len, err)) < 0 ||
	    (r = pem_field(st, "clientKeyData", &out->key_pem, &out->key_len, err)) < 0)
		return r;
	if (!out->cert_pem != !out->key_pem)
		return np_kube_seterr(err, -EINVAL, "ExecCredential: status.%s is set without status.%s",
				      out->cert_pem ? "clientCertificateData" : "clientKeyData",
				      out->cert_pem ? "clientKeyData" : "clientCertificateData");
	if (!out->token && !out->cert_pem)
		return np_kube_seterr(err, -EINVAL, "ExecCredential: status has neither token nor clientCertificateData/clientKeyData");
	if (exp && !json_is_null(exp)) {
		if (!json_is_string(exp) || np_parse_rfc3339(json_string_value(exp), &out->expires) < 0)
			return np_kube_seterr(err, -EINVAL, "ExecCredential: status.expirationTimestamp: expected an RFC 3339 time");
	}
	return 0;
}

int np_exec_credential_parse(const char *api_version, const char *buf, size_t len,
			     struct np_exec_credential *out, char **err)
{
	json_t *root, *kind, *av, *st;
	json_error_t je;
	size_t i = 0;
	int r;

	memset(out, 0, sizeof(*out));
	while (i < len && strchr(" \t\r\n", buf[i]))
		i++;
	if (i == len)
		return np_kube_seterr(err, -EINVAL, "ExecCredential: the plugin wrote nothing to stdout");
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return np_kube_seterr(err, -EINVAL, "ExecCredential: not JSON: line %d column %d: %s", je.line,
				      je.column, je.text);
	kind = json_object_get(root, "kind");
	av = json_object_get(root, "apiVersion");
	st = json_object_get(root, "status");
	if (!json_is_object(root) || !json_is_string(kind) || !streq(json_string_value(kind), "ExecCredential"))
		r = np_kube_seterr(err, -EINVAL, "ExecCredential: kind: expected \"ExecCredential\"");
	else if (!json_is_string(av) || (api_version && !streq(json_string_value(av), api_version)))
		r = np_kube_seterr(err, -EINVAL, "ExecCredential: apiVersion: expected \"%s\", got \"%s\"",
				   api_version ? api_version : "client.authentication.k8s.io/v1",
				   json_is_string(av) ? json_string_value(av) : "");
	else if (!json_is_object(st))
		r = np_kube_seterr(err, -EINVAL, "ExecCredential: status: missing");
	else
		r = parse_status(st, out, err);
	json_decref(root);
	if (r < 0)
		np_exec_credential_free(out);
	return r;
}

/* KUBERNETES_EXEC_INFO: an ExecCredential with spec (interactive false, cluster when asked). */
static char *exec_info(const struct np_kube_config *cfg)
{
	const struct np_kube_exec *e = cfg->exec;
	json_t *spec = json_pack("{s:b}", "interactive", 0);
	json_t *o = json_pack("{s:s,s:s,s:o}", "apiVersion", e->api_version, "kind", "ExecCredential", "spec", spec);
	char *s;

	if (!o)
		return NULL;
	if (e->provide_cluster_info) {
		json_t *c = json_pack("{s:s,s:b}", "server", cfg->server ? cfg->server : "", "insecure-skip-tls-verify",
				      cfg->insecure_skip_tls_verify);
		if (c && cfg->tls_server_name)
			json_object_set_new(c, "tls-server-name", json_string(cfg->tls_server_name));
		if (c && cfg->ca_pem) {
			char *b = np_base64_encode(cfg->ca_pem, cfg->ca_len);
			if (b)
				json_object_set_new(c, "certificate-authority-data", json_string(b));
			free(b);
		}
		json_object_set_new(spec, "cluster", c);
	}
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

/* argv and environment of the plugin, built before fork() (the child only dups and execs) */
static int plugin_argv_envp(const struct np_kube_config *cfg, const char *info, char ***argv, char ***envp)
{
	const struct np_kube_exec *e = cfg->exec;
	size_t ne = 0, na = 0;
	int r = 0;

	for (char **p = environ; r >= 0 && p && *p; p++)
		if (!np_startswith(*p, "KUBERNETES_EXEC_INFO="))
			r = np_strv_push(envp, &ne, *p);
	for (char **p = e->env; r >= 0 && p && *p; p++)
		r = np_strv_push(envp, &ne, *p);
	if (r >= 0)
		r = np_strv_push_take(envp, &ne, np_asprintf("KUBERNETES_EXEC_INFO=%s", info));
	if (r >= 0)
		r = np_strv_push(argv, &na, e->command);
	for (char **p = e->args; r >= 0 && p && *p; p++)
		r = np_strv_push(argv, &na, *p);
	return r;
}

static void child(const char *command, char **argv, char **envp, int devnull, int out, int errfd)
{
	if (dup2(devnull, 0) < 0 || dup2(out, 1) < 0 || dup2(errfd, 2) < 0)
		_exit(127);
	execvpe(command, argv, envp);
	dprintf(2, "exec %s: %s\n", command, strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

/* Read both pipes until EOF or the deadline. */
static int collect(int ofd, int efd, long timeout_ms, char **obuf, size_t *olen, char *ebuf, size_t *elen)
{
	uint64_t deadline = np_now_ms() + (uint64_t)timeout_ms;
	size_t cap = 0;
	bool oopen = true, eopen = true;
	char tmp[4096];

	while (oopen || eopen) {
		struct pollfd p[2] = { { oopen ? ofd : -1, POLLIN, 0 }, { eopen ? efd : -1, POLLIN, 0 } };
		uint64_t now = np_now_ms();
		if (now >= deadline)
			return -ETIMEDOUT;
		int k = poll(p, 2, (int)(deadline - now));
		if (k < 0 && errno != EINTR)
			return negative_errno();
		if (k <= 0)
			continue;
		if (p[0].revents) {
			ssize_t r = read(ofd, tmp, sizeof(tmp));
			if (r <= 0) {
				oopen = false;
			} else {
				if (*olen + (size_t)r > EXEC_STDOUT_MAX)
					return -EFBIG;
				if (*olen + (size_t)r + 1 > cap) {
					cap = (*olen + (size_t)r + 1) * 2;
					char *nb = realloc(*obuf, cap);
					if (!nb)
						return -ENOMEM;
					*obuf = nb;
				}
				memcpy(*obuf + *olen, tmp, (size_t)r);
				*olen += (size_t)r;
				(*obuf)[*olen] = '\0';
			}
		}
		if (p[1].revents) {
			ssize_t r = read(efd, tmp, sizeof(tmp));
			if (r <= 0) {
				eopen = false;
			} else {
				/* keep the last EXEC_STDERR_KEEP bytes */
				size_t add = (size_t)r > EXEC_STDERR_KEEP ? EXEC_STDERR_KEEP : (size_t)r;
				const char *src = tmp + r - add;
				if (*elen + add > EXEC_STDERR_KEEP) {
					size_t drop = *elen + add - EXEC_STDERR_KEEP;
					memmove(ebuf, ebuf + drop, *elen - drop);
					*elen -= drop;
				}
				memcpy(ebuf + *elen, src, add);
				*elen += add;
			}
		}
	}
	return 0;
}

static void stderr_clean(char *e, size_t n)
{
	e[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)e[i] < 0x20 || e[i] == 0x7f)
			e[i] = ' ';
	np_strip(e);
}

int np_exec_run(const struct np_kube_config *cfg, long timeout_ms, struct np_exec_credential *out, char **err)
{
	const struct np_kube_exec *e = cfg->exec;
	_cleanup_free_ char *info = NULL, *obuf = NULL;
	_cleanup_(strv_freep) char **argv = NULL, **envp = NULL;
	char ebuf[EXEC_STDERR_KEEP + 1];
	size_t olen = 0, elen = 0;
	int op[2], ep[2], status = 0, r;
	pid_t pid;

	memset(out, 0, sizeof(*out));
	if (!e)
		return -EINVAL;
	if (e->interactive_mode && streq(e->interactive_mode, "Always"))
		return np_kube_seterr(err, -EOPNOTSUPP, "exec plugin %s: interactiveMode Always needs a terminal; nodeprint never has one",
				      e->command);
	if (!(info = exec_info(cfg)))
		return -ENOMEM;
	if ((r = plugin_argv_envp(cfg, info, &argv, &envp)) < 0)
		return r;
	_cleanup_close_ int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (devnull < 0)
		return negative_errno();
	if (pipe2(op, O_CLOEXEC) < 0)
		return negative_errno();
	if (pipe2(ep, O_CLOEXEC) < 0) {
		r = negative_errno();
		close(op[0]);
		close(op[1]);
		return r;
	}
	pid = fork();
	if (pid == 0)
		child(e->command, argv, envp, devnull, op[1], ep[1]);
	close(op[1]);
	close(ep[1]);
	if (pid < 0) {
		r = negative_errno();
		close(op[0]);
		close(ep[0]);
		return r;
	}
	r = collect(op[0], ep[0], timeout_ms, &obuf, &olen, ebuf, &elen);
	close(op[0]);
	close(ep[0]);
	if (r < 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	stderr_clean(ebuf, elen);
	if (r == -ETIMEDOUT)
		return np_kube_seterr(err, r, "exec plugin %s: no answer within %ld ms", e->command, timeout_ms);
	if (r < 0)
		return np_kube_seterr(err, r, "exec plugin %s: reading its output: %s", e->command, strerror(-r));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && olen == 0)
		return np_kube_seterr(err, -ENOENT, "exec plugin %s: command not found (%s)", e->command, ebuf);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return np_kube_seterr(err, -EIO, "exec plugin %s: exited with %s %d: %s", e->command,
				      WIFEXITED(status) ? "status" : "signal",
				      WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), ebuf);
	r = np_exec_credential_parse(e->api_version, obuf ? obuf : "", olen, out, err);
	if (r < 0 && err && *err) {
		char *m = np_asprintf("exec plugin %s: %s%s%s", e->command, *err, elen ? "; stderr: " : "", ebuf);
		if (m) {
			free(*err);
			*err = m;
		}
	}
	return r;
}
