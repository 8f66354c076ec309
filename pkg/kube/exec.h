/* SPDX-License-Identifier: Apache-2.0 */
/*
 * exec.h - client.authentication.k8s.io exec credential plugins (v1 and v1beta1).
 * Source: https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins
 * and the ExecCredential type of k8s.io/client-go/pkg/apis/clientauthentication/v1.
 */
#pragma once

#include "kubeconfig.h"

#include <time.h>

/* What a plugin printed: a bearer token and/or a client certificate + key (PEM). */
struct np_exec_credential {
	char *token;        /* NULL when the plugin gave a certificate */
	char *cert_pem;     /* PEM text (as the plugin wrote it), or NULL */
	size_t cert_len;
	char *key_pem;
	size_t key_len;
	time_t expires;     /* status.expirationTimestamp in seconds since the epoch, 0 = none */
};

/*
 * np_exec_credential_parse() - decode a plugin's stdout: a JSON ExecCredential whose kind is
 * "ExecCredential" and whose apiVersion equals @api_version, with status.token or
 * status.clientCertificateData + status.clientKeyData (raw PEM; base64 of PEM is accepted too)
 * and an optional status.expirationTimestamp (RFC 3339).
 * Returns 0 and fills @out (free with np_exec_credential_free()), or -EINVAL with a message in
 * *@err (empty output, not JSON, wrong kind/apiVersion, no credential, certificate without key).
 */
int np_exec_credential_parse(const char *api_version, const char *buf, size_t len,
			     struct np_exec_credential *out, char **err);

/*
 * np_exec_run() - run the plugin of @cfg->exec: argv = command + args, environment = ours plus
 * exec.env plus KUBERNETES_EXEC_INFO (with the cluster from @cfg when provideClusterInfo), stdin
 * /dev/null (never interactive; interactiveMode Always is refused), stdout read up to 1 MiB, at
 * most @timeout_ms milliseconds (then killed). Returns 0 and the parsed credential, or -errno
 * with a message holding the command and the end of its stderr: -ENOENT (command not found),
 * -EIO (non-zero exit), -ETIMEDOUT, -EFBIG, -EINVAL (bad output), -EOPNOTSUPP (Always).
 */
int np_exec_run(const struct np_kube_config *cfg, long timeout_ms, struct np_exec_credential *out, char **err);

void np_exec_credential_free(struct np_exec_credential *c);
