/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config.h - which configuration the agent uses (the precedence of client-go's
 * BuildConfigFromFlags + default loading rules, documented in docs/kube-client.md):
 *   1. --kubeconfig FILE                         (kubeconfig.h)
 *   2. $KUBECONFIG                               (kubeconfig.h, several files merged)
 *   3. in-cluster, when KUBERNETES_SERVICE_HOST and _PORT are set (incluster.h)
 *   4. $HOME/.kube/config
 */
#pragma once

#include "kubeconfig.h"

struct np_kube_source {
	const char *kubeconfig;   /* --kubeconfig, or NULL */
	const char *context;      /* --context, or NULL */
	const char *sa_prefix;    /* folder prepended to the service-account path (tests), or NULL */
};

/*
 * np_kube_config_auto() - resolve the configuration from @src and the environment
 * (KUBECONFIG, KUBERNETES_SERVICE_HOST/PORT, HOME). Returns 0 and fills @out, or -errno with a
 * message in *@err (as np_kubeconfig_load() / np_incluster_load()).
 */
int np_kube_config_auto(const struct np_kube_source *src, struct np_kube_config *out, char **err);
