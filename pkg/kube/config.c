// SPDX-License-Identifier: Apache-2.0
/* config.c - kubeconfig, in-cluster or ~/.kube/config, in that order. */
#include "config.h"
#include "incluster.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int np_kube_config_auto(const struct np_kube_source *src, struct np_kube_config *out, char **err)
{
	const char *env = getenv("KUBECONFIG");
	struct np_kubeconfig_opts o = { .kubeconfig = src->kubeconfig, .kubeconfig_env = env,
					.home = getenv("HOME"), .context = src->context };

	if ((src->kubeconfig && *src->kubeconfig) || (env && *env))
		return np_kubeconfig_load(&o, out, err);
	if (np_incluster_available()) {
		if (src->context && *src->context)
			return np_kube_seterr(err, -EINVAL, "--context %s: no kubeconfig given (in-cluster has no contexts)",
					      src->context);
		return np_incluster_load(getenv("KUBERNETES_SERVICE_HOST"), getenv("KUBERNETES_SERVICE_PORT"),
					 src->sa_prefix, out, err);
	}
	return np_kubeconfig_load(&o, out, err);
}
