/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kubeconfig.h - the connection settings of one API server and one identity,
 * from kubeconfig files (kubectl's format and merge rules) or from the
 * in-cluster service account (incluster.h).
 *
 * Format: https://kubernetes.io/docs/concepts/configuration/organize-cluster-access-kubeconfig/
 * and client-go's tools/clientcmd/api/v1 types (Config, Cluster, AuthInfo, Context, ExecConfig).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* users[].user.exec: a client.authentication.k8s.io credential plugin. */
struct np_kube_exec {
	char *api_version;        /* client.authentication.k8s.io/v1 or /v1beta1 */
	char *command;            /* a relative command containing '/' is made absolute (kubeconfig folder) */
	char **args;              /* NULL-terminated, may be empty */
	char **env;               /* "NAME=value", NULL-terminated; `env: null` is empty */
	char *interactive_mode;   /* Never, IfAvailable, Always (NULL = unset) */
	bool provide_cluster_info;
};

/* One resolved connection: everything kept in memory except the token file, re-read on use. */
struct np_kube_config {
	char *server;             /* "https://host:port", no trailing slash */
	char *tls_server_name;    /* name checked in the server's certificate (and sent as SNI), or NULL */
	bool insecure_skip_tls_verify;
	char *ca_pem;             /* CA bundle (PEM) or NULL for the system store */
	size_t ca_len;
	char *cert_pem;           /* client certificate (PEM) or NULL */
	size_t cert_len;
	char *key_pem;            /* client key (PEM) or NULL */
	size_t key_len;
	char *token;              /* static bearer token or NULL */
	char *token_file;         /* absolute path of a bearer token file (re-read), or NULL */
	struct np_kube_exec *exec;/* credential plugin, or NULL */
	char *namespace;          /* context's namespace or NULL */
	char *context;            /* selected context name ("in-cluster" for the service account) */
	char *source;             /* file(s) the settings came from, for messages */
};

/* Where to look for kubeconfig files and which context to use. */
struct np_kubeconfig_opts {
	const char *kubeconfig;   /* --kubeconfig FILE: only this file, it must exist */
	const char *kubeconfig_env; /* value of $KUBECONFIG (':'-separated list); NULL = not set */
	const char *home;         /* $HOME, for ~/.kube/config when nothing else is given */
	const char *context;      /* --context NAME, or NULL for current-context */
};

/*
 * np_kubeconfig_load() - load kubeconfig file(s) the way kubectl does and resolve one context.
 * Files: @o->kubeconfig alone if set; else every file in @o->kubeconfig_env (missing files
 * skipped, duplicates once); else $HOME/.kube/config. Merge: for clusters, users and contexts the
 * first file defining a name wins (whole entry); current-context comes from the first file that
 * sets it. Paths in a file are relative to that file's folder; "*-data" wins over a path.
 * Returns 0 and fills @out (free with np_kube_config_free()), or -errno with a malloc'd message in
 * *@err naming the file, line:column and field: -ENOENT (no file, unknown context/cluster/user,
 * unreadable certificate), -EINVAL (malformed YAML or field, insecure + CA, cert without key),
 * -EFBIG (file over 1 MiB), -ENOMEM.
 */
int np_kubeconfig_load(const struct np_kubeconfig_opts *o, struct np_kube_config *out, char **err);

/*
 * np_kubeconfig_parse_buf() - the same on one in-memory file (tests, fuzzing): @path names it in
 * messages and its folder resolves relative paths; @context as in the options.
 */
int np_kubeconfig_parse_buf(const char *path, const char *buf, size_t len, const char *context,
			    struct np_kube_config *out, char **err);

/* Release everything a config holds (the struct itself is the caller's). */
void np_kube_config_free(struct np_kube_config *c);
