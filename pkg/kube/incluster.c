// SPDX-License-Identifier: Apache-2.0
/* incluster.c - the service-account connection of a pod. */
#define _GNU_SOURCE
#include "incluster.h"
#include "util.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <inttypes.h>
#include <string.h>

bool np_incluster_available(void)
{
	const char *h = getenv("KUBERNETES_SERVICE_HOST"), *p = getenv("KUBERNETES_SERVICE_PORT");
	return h && *h && p && *p;
}

static int build(const char *host, const char *port, const char *prefix, struct np_kube_config *out, char **err)
{
	_cleanup_free_ char *dir = np_asprintf("%s%s", prefix ? prefix : "", NP_KUBE_SA_DIR);
	_cleanup_free_ char *ca = NULL, *nsfile = NULL, *ns = NULL;
	uint64_t p;
	int r;

	if (!dir)
		return -ENOMEM;
	if (!host || !*host || !port || !*port)
		return np_kube_seterr(err, -ENOENT, "in-cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set");
	if (np_parse_u64(port, &p) < 0 || p == 0 || p > 65535)
		return np_kube_seterr(err, -EINVAL, "in-cluster: KUBERNETES_SERVICE_PORT: expected a port number, got '%s'", port);
	if (strpbrk(host, "/?#@ []"))
		return np_kube_seterr(err, -EINVAL, "in-cluster: KUBERNETES_SERVICE_HOST: not a host name or address: '%s'", host);
	/* net.JoinHostPort: an IPv6 address goes in brackets */
	out->server = np_asprintf(strchr(host, ':') ? "https://[%s]:%" PRIu64 : "https://%s:%" PRIu64, host, p);
	out->token_file = np_asprintf("%s/token", dir);
	ca = np_asprintf("%s/ca.crt", dir);
	nsfile = np_asprintf("%s/namespace", dir);
	out->context = strdup("in-cluster");
	out->source = strdup(dir);
	if (!out->server || !out->token_file || !ca || !nsfile || !out->context || !out->source)
		return -ENOMEM;
	if (access(out->token_file, R_OK) < 0)
		return np_kube_seterr(err, negative_errno(), "in-cluster: token %s: %s", out->token_file, strerror(errno));
	r = np_read_file(ca, NP_KUBE_FILE_MAX, &out->ca_pem, &out->ca_len);
	if (r < 0)
		return np_kube_seterr(err, r, "in-cluster: CA %s: %s", ca, strerror(-r));
	if (np_read_file(nsfile, 4096, &ns, NULL) >= 0 && *np_strip(ns))
		out->namespace = strdup(np_strip(ns));
	return 0;
}

int np_incluster_load(const char *host, const char *port, const char *prefix, struct np_kube_config *out, char **err)
{
	int r;

	memset(out, 0, sizeof(*out));
	r = build(host, port, prefix, out, err);
	if (r < 0)
		np_kube_config_free(out);
	return r;
}
