/* SPDX-License-Identifier: Apache-2.0 */
/*
 * auth.h - the credential a request carries, kept fresh: a static token, a token file
 * (service-account tokens rotate: re-read at least every minute and after any 401, as
 * client-go's cached file token source does), a client certificate, or an exec plugin's
 * credential (cached until status.expirationTimestamp, re-run after a 401).
 */
#pragma once

#include "exec.h"
#include "kubeconfig.h"

#include <stdint.h>
#include <time.h>

/* A token file is re-read when its copy is older than this (milliseconds). */
#define NP_KUBE_TOKEN_FILE_MAX_AGE_MS 60000u
/* An exec credential is renewed this many seconds before it expires. */
#define NP_KUBE_EXEC_EXPIRY_SKEW_S 10

struct np_kube_auth {
	const struct np_kube_config *cfg; /* borrowed */
	long exec_timeout_ms;
	char *file_token;                 /* last token read from cfg->token_file */
	uint64_t file_read_ms;            /* monotonic time of that read */
	bool file_valid;
	struct np_exec_credential exec;
	bool exec_valid;
	unsigned file_reads, exec_runs;   /* counters, for tests and logs */
};

/* Start with nothing cached. @cfg is borrowed and must outlive @a. */
void np_kube_auth_init(struct np_kube_auth *a, const struct np_kube_config *cfg, long exec_timeout_ms);
void np_kube_auth_free(struct np_kube_auth *a);

/*
 * np_kube_auth_prepare() - make sure the credential is fresh at monotonic @now_ms and wall
 * clock @now (seconds): re-reads the token file when stale, runs the exec plugin when it has no
 * unexpired credential. Returns 0, or -errno with a message in *@err (unreadable token file,
 * empty token file -EINVAL, plugin failure as np_exec_run()).
 */
int np_kube_auth_prepare(struct np_kube_auth *a, uint64_t now_ms, time_t now, char **err);

/* After a 401: forget the cached file token and exec credential. Returns true when something
 * can be refreshed (so one retry makes sense), false for static credentials. */
bool np_kube_auth_invalidate(struct np_kube_auth *a);

/* The bearer token to send (borrowed, valid until the next prepare/invalidate), or NULL. */
const char *np_kube_auth_token(const struct np_kube_auth *a);

/* The client certificate and key (PEM, borrowed) or NULL: the exec plugin's, else the kubeconfig's. */
const char *np_kube_auth_cert(const struct np_kube_auth *a, size_t *len);
const char *np_kube_auth_key(const struct np_kube_auth *a, size_t *len);
