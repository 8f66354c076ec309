/* SPDX-License-Identifier: Apache-2.0 */
/*
 * incluster.h - the pod's own service account as a connection (client-go rest.InClusterConfig):
 * https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT, the token and CA from
 * /var/run/secrets/kubernetes.io/serviceaccount/ (token, ca.crt, namespace).
 * Source: https://kubernetes.io/docs/tasks/run-application/access-api-from-pod/
 */
#pragma once

#include "kubeconfig.h"

#define NP_KUBE_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/*
 * np_incluster_load() - build the in-cluster config. @host and @port are the values of
 * KUBERNETES_SERVICE_HOST/PORT (an IPv6 address is put in brackets); @prefix is prepended to
 * the service-account folder (NULL or "" in a pod; a test folder in tests). The token stays a
 * file (token_file), re-read by auth.h; the CA is read now; the namespace file is optional.
 * Returns 0 and fills @out, or -errno with a message in *@err: -ENOENT (variables unset, no
 * token file), -EINVAL (bad port), and the read errors of the CA.
 */
int np_incluster_load(const char *host, const char *port, const char *prefix, struct np_kube_config *out, char **err);

/* np_incluster_available() - true when KUBERNETES_SERVICE_HOST and _PORT are both set and non-empty. */
bool np_incluster_available(void);
