// SPDX-License-Identifier: Apache-2.0
/* auth.c - fresh credentials: token file re-reads, exec plugin caching, 401 invalidation. */
#define _GNU_SOURCE
#include "auth.h"
#include "util.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <string.h>

void np_kube_auth_init(struct np_kube_auth *a, const struct np_kube_config *cfg, long exec_timeout_ms)
{
	memset(a, 0, sizeof(*a));
	a->cfg = cfg;
	a->exec_timeout_ms = exec_timeout_ms > 0 ? exec_timeout_ms : 30000;
}

static void drop_file_token(struct np_kube_auth *a)
{
	if (a->file_token)
		explicit_bzero(a->file_token, strlen(a->file_token));
	free(a->file_token);
	a->file_token = NULL;
	a->file_valid = false;
}

void np_kube_auth_free(struct np_kube_auth *a)
{
	drop_file_token(a);
	np_exec_credential_free(&a->exec);
	a->exec_valid = false;
}

static int read_token_file(struct np_kube_auth *a, uint64_t now_ms, char **err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = np_read_file(a->cfg->token_file, NP_KUBE_FILE_MAX, &buf, &len);

	a->file_reads++;
	if (r < 0)
		return np_kube_seterr(err, r, "token file %s: %s", a->cfg->token_file, strerror(-r));
	char *t = np_strip(buf);
	if (!*t || strpbrk(t, "\r\n"))
		return np_kube_seterr(err, -EINVAL, "token file %s: %s", a->cfg->token_file,
				      *t ? "holds more than one line" : "is empty");
	drop_file_token(a);
	memmove(buf, t, strlen(t) + 1);
	a->file_token = TAKE_PTR(buf);
	a->file_read_ms = now_ms;
	a->file_valid = true;
	return 0;
}

int np_kube_auth_prepare(struct np_kube_auth *a, uint64_t now_ms, time_t now, char **err)
{
	const struct np_kube_config *c = a->cfg;
	int r;

	if (c->token_file && (!a->file_valid || now_ms - a->file_read_ms >= NP_KUBE_TOKEN_FILE_MAX_AGE_MS)) {
		r = read_token_file(a, now_ms, err);
		/* a rotation in progress: keep using the last good token until the next try */
		if (r < 0 && !a->file_token)
			return r;
	}
	if (c->exec && (!a->exec_valid || (a->exec.expires && now >= a->exec.expires - NP_KUBE_EXEC_EXPIRY_SKEW_S))) {
		struct np_exec_credential cr;
		a->exec_runs++;
		r = np_exec_run(c, a->exec_timeout_ms, &cr, err);
		if (r < 0)
			return r;
		np_exec_credential_free(&a->exec);
		a->exec = cr;
		a->exec_valid = true;
	}
	return 0;
}

bool np_kube_auth_invalidate(struct np_kube_auth *a)
{
	bool can = false;

	if (a->cfg->token_file) {
		a->file_valid = false; /* re-read before the next request; the old copy stays as fallback */
		can = true;
	}
	if (a->cfg->exec) {
		a->exec_valid = false;
		can = true;
	}
	return can;
}

const char *np_kube_auth_token(const struct np_kube_auth *a)
{
	if (a->cfg->exec)
		return a->exec.token;
	if (a->file_token)
		return a->file_token;
	return a->cfg->token;
}

const char *np_kube_auth_cert(const struct np_kube_auth *a, size_t *len)
{
	if (a->exec.cert_pem) {
		*len = a->exec.cert_len;
		return a->exec.cert_pem;
	}
	*len = a->cfg->cert_len;
	return a->cfg->cert_pem;
}

const char *np_kube_auth_key(const struct np_kube_auth *a, size_t *len)
{
	if (a->exec.key_pem) {
		*len = a->exec.key_len;
		return a->exec.key_pem;
	}
	*len = a->cfg->key_len;
	return a->cfg->key_pem;
}
