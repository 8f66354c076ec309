// SPDX-License-Identifier: Apache-2.0
/*
 * `nodeprint cleanup`: what an uninstall runs (the chart's post-delete hook Job, or by hand after
 * `kubectl delete -k manifests/`): every Node, or one, loses the labels, annotations, taints and
 * conditions nodeprint wrote, and nothing else (pkg/agent/cleanup.c).
 */
#define _GNU_SOURCE
#include "cleanup.h"
#include "cli.h"
#include "../../pkg/agent/cleanup.h"
#include "../../pkg/kube/config.h"
#include "../../pkg/policy/policy.h"
#include "../../pkg/policy/vocab.h"
#include "../../pkg/shared/macro.h"
#include "../../pkg/shared/strutil.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: nodeprint cleanup (--all | --node NAME) [OPTIONS]\n\n"
		"Remove from Nodes every key nodeprint wrote: labels and annotations under the prefix, taints\n"
		"whose key is under it, the policy's condition types and BundleRegression. Foreign keys are\n"
		"never touched.\n"
		"Run it after uninstalling (the Helm chart's post-delete hook does).\n\n"
		"  --all                  every Node\n"
		"  --node NAME            this Node only\n"
		"  --policy FILE          prefix and condition types from this policy (default: the built-in)\n"
		"  --label-prefix P       this prefix instead (e.g. nodeprint.io)\n"
		"  --condition-types L    these condition types instead (comma-separated)\n"
		"  --wait-for-pods SEL    first wait until no pod with label selector SEL is left in\n"
		"  --namespace NS         this namespace (the agents: their last cycle must not write again)\n"
		"  --timeout SEC          wait at most SEC seconds for them (default 120), then clean anyway\n"
		"  --dry-run              only say what would be removed\n"
		"  --kubeconfig FILE, --context NAME   (else $KUBECONFIG, in-cluster, ~/.kube/config)\n"
		"  -h, --help             this help\n\n"
		"Exit codes: 0 every Node cleaned; 1 an API error on some Node (the others are cleaned); 2 bad usage.\n");
}

struct copts {
	struct np_kube_source src;
	const char *node, *policy, *prefix, *types, *selector, *ns;
	bool all, dry_run;
	double timeout;
};

static int parse(int argc, char **argv, struct copts *o)
{
	static const struct option lo[] = {
		{ "all", no_argument, NULL, 'a' },          { "node", required_argument, NULL, 'n' },
		{ "policy", required_argument, NULL, 'P' }, { "label-prefix", required_argument, NULL, 'p' },
		{ "condition-types", required_argument, NULL, 'c' },
		{ "wait-for-pods", required_argument, NULL, 'w' }, { "namespace", required_argument, NULL, 'N' },
		{ "timeout", required_argument, NULL, 't' }, { "dry-run", no_argument, NULL, 'd' },
		{ "kubeconfig", required_argument, NULL, 'k' }, { "context", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },         {}
	};
	int c;
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (c) {
		case 'a': o->all = true; break;
		case 'n': o->node = optarg; break;
		case 'P': o->policy = optarg; break;
		case 'p': o->prefix = optarg; break;
		case 'c': o->types = optarg; break;
		case 'w': o->selector = optarg; break;
		case 'N': o->ns = optarg; break;
		case 'd': o->dry_run = true; break;
		case 'k': o->src.kubeconfig = optarg; break;
		case 'C': o->src.context = optarg; break;
		case 't':
			if (np_parse_double(optarg, &o->timeout) < 0 || o->timeout < 0 || o->timeout > 3600) {
				fprintf(stderr, "nodeprint cleanup: --timeout: expected 0 to 3600 seconds, got '%s'\n", optarg);
				return NP_EXIT_USAGE;
			}
			break;
		case 'h': usage(stdout); return NP_EXIT_OK;
		default: return np_cli_bad_option("cleanup", c, argv);
		}
	}
	if (optind < argc || o->all == !!o->node || (o->selector && !o->ns)) {
		fprintf(stderr, "nodeprint cleanup: %s (nodeprint cleanup --help)\n",
			optind < argc ? "unexpected argument" :
			o->selector && !o->ns && o->all != !!o->node ? "--wait-for-pods needs --namespace" :
								      "give --all or --node NAME");
		return NP_EXIT_USAGE;
	}
	return -1;
}

/* The prefix and condition types: from the options, else the policy (file or built-in). */
static int keys(const struct copts *o, char **prefix, char ***types)
{
	struct np_policy p;
	char *err = NULL;
	int r = o->policy ? np_policy_load(o->policy, &p, &err) : np_policy_default(&p);
	if (r < 0) {
		fprintf(stderr, "nodeprint cleanup: policy: %s\n", err ? err : strerror(-r));
		free(err);
		return r;
	}
	size_t n = 0;
	*prefix = strdup(o->prefix ? o->prefix : p.label_prefix);
	if (o->types)
		r = np_split(o->types, ",", types, NULL);
	for (size_t i = 0; r >= 0 && !o->types && i < p.n_actions; i++) {
		const char *t = p.actions[i].condition;
		if (t && *t && !np_strv_contains(*types, t))
			r = np_strv_push(types, &n, t);
	}
	/* set from `baseline compare` verdicts, not from an action (docs/baseline.md) */
	if (r >= 0 && !o->types)
		r = np_strv_push(types, &n, NP_COND_BUNDLE_REGRESSION);
	np_policy_free(&p);
	return !*prefix ? -ENOMEM : r;
}

struct names {
	char **v;
	size_t n;
};

static int collect_names(json_t *page, void *ud)
{
	struct names *nm = ud;
	size_t i;
	json_t *it;
	json_array_foreach(json_object_get(page, "items"), i, it) {
		const char *name = json_string_value(json_object_get(json_object_get(it, "metadata"), "name"));
		if (name && np_strv_push(&nm->v, &nm->n, name) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Wait until no pod matches; true when none is left, false after the timeout. */
static bool wait_pods(struct np_kube_client *kc, const struct copts *o)
{
	_cleanup_free_ char *path = np_asprintf("/api/v1/namespaces/%s/pods", o->ns);
	for (time_t end = time(NULL) + (time_t)o->timeout;;) {
		struct names pods = { 0 };
		char *err = NULL;
		int r = path ? np_kube_list(kc, path, o->selector, NULL, 0, collect_names, &pods, &err) : -ENOMEM;
		size_t left = pods.n;
		np_strv_free(pods.v);
		if (r >= 0 && !left)
			return true;
		if (time(NULL) >= end) {
			fprintf(stderr, "nodeprint cleanup: %s: %s; cleaning anyway\n", o->selector,
				r < 0 ? (err ? err : strerror(-r)) : "agent pods are still there after the timeout");
			free(err);
			return false;
		}
		free(err);
		sleep(2);
	}
}

static void plural(char *buf, size_t len, unsigned n, const char *what)
{
	snprintf(buf, len, "%u %s%s", n, what, n == 1 ? "" : "s");
}

int np_cmd_cleanup(int argc, char **argv)
{
	struct copts o = { .timeout = 120 };
	int rc = parse(argc, argv, &o);
	if (rc >= 0)
		return rc;
	_cleanup_free_ char *prefix = NULL;
	char **types = NULL;
	if (keys(&o, &prefix, &types) < 0) {
		np_strv_free(types);
		return NP_EXIT_USAGE;
	}
	struct np_kube_config cfg;
	struct np_kube_client *kc = NULL;
	char *err = NULL;
	struct names nodes = { 0 };
	int r = np_kube_config_auto(&o.src, &cfg, &err);
	if (r >= 0)
		r = np_kube_client_new(&cfg, NULL, &kc, &err);
	if (r >= 0 && o.selector)
		wait_pods(kc, &o);
	if (r >= 0 && o.all)
		r = np_kube_list(kc, "/api/v1/nodes", NULL, NULL, 0, collect_names, &nodes, &err);
	else if (r >= 0)
		r = np_strv_push(&nodes.v, &nodes.n, o.node);
	if (r < 0) {
		fprintf(stderr, "nodeprint cleanup: %s\n", err ? err : strerror(-r));
		free(err);
		np_kube_client_free(kc);
		np_strv_free(types);
		return NP_EXIT_ERROR;
	}
	rc = NP_EXIT_OK;
	for (size_t i = 0; i < nodes.n; i++) {
		struct np_cleanup_counts n;
		char *e = NULL;
		r = np_cleanup_node(kc, nodes.v[i], prefix, types, o.dry_run, &n, &e);
		if (r < 0) {
			fprintf(stderr, "nodeprint cleanup: %s: %s\n", nodes.v[i], e ? e : strerror(-r));
			free(e);
			rc = NP_EXIT_ERROR;
			continue;
		}
		char l[32], a[32], t[32], c[32];
		plural(l, sizeof(l), n.labels, "label");
		plural(a, sizeof(a), n.annotations, "annotation");
		plural(t, sizeof(t), n.taints, "taint");
		plural(c, sizeof(c), n.conditions, "condition");
		printf("%s: %s %s, %s, %s, %s (%s/)\n", nodes.v[i], o.dry_run ? "would remove" : "removed", l, a, t, c, prefix);
	}
	np_strv_free(nodes.v);
	np_strv_free(types);
	np_kube_client_free(kc);
	return rc;
}
