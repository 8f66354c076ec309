// SPDX-License-Identifier: Apache-2.0
/* canary.c - the on-demand `baseline compare` child of the agent (see canary.h). */
#define _GNU_SOURCE
#include "canary.h"
#include "../policy/verdict.h"
#include "../report/benchstore.h"
#include "../shared/log.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>

/* The request annotation's value on @node, or NULL. */
static const char *request_of(const json_t *node, const char *prefix)
{
	_cleanup_free_ char *key = np_asprintf("%s/baseline-request", prefix);
	const json_t *ann = json_object_get(json_object_get(node, "metadata"), "annotations");
	return key ? json_string_value(json_object_get(ann, key)) : NULL;
}

static void reap(struct np_canary *c)
{
	int st;
	if (c->child <= 0 || waitpid(c->child, &st, WNOHANG) != c->child)
		return;
	int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	/* baseline compare's exit codes: 0 pass, 3 regressed, 4 undecided, 5 busy (docs/baseline.md) */
	np_log(code == 0 || code == 3 || code == 4 ? NP_LOG_INFO : NP_LOG_WARN, "baseline compare ended",
	       "pid=%d exit=%d request=\"%s\"%s", (int)c->child, code, c->request ? c->request : "",
	       code == 5 ? " why=\"device busy, refused\"" : "");
	c->child = 0;
}

static int start(struct np_canary *c, const struct np_agent_opts *o, const char *request)
{
	char **argv = NULL;
	size_t n = 0;
	const char *args[] = { "/proc/self/exe", "baseline", "compare", "--state-dir", o->state_dir,
			       "--node-name", o->node_name };
	int r = 0;
	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(args); i++)
		r = np_strv_push(&argv, &n, args[i]);
	const char *opt[][2] = { { "--policy", o->policy_path }, { "--host-root", o->host_root },
				 { "--kubeconfig", o->kube.kubeconfig }, { "--context", o->kube.context } };
	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(opt); i++)
		if (opt[i][1] && (r = np_strv_push(&argv, &n, opt[i][0])) >= 0)
			r = np_strv_push(&argv, &n, opt[i][1]);
	if (r >= 0 && !o->dry_run) /* records also go to the class's ConfigMap, for `nodeprint fleet` */
		r = np_strv_push(&argv, &n, "--cluster");
	if (r < 0) {
		np_strv_free(argv);
		return r;
	}
	pid_t pid = fork();
	if (pid == 0) {
		/* the agent blocks its signals for a signalfd: the child gets them back */
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		execv(argv[0], argv);
		_exit(127);
	}
	r = pid < 0 ? negative_errno() : 0;
	np_strv_free(argv);
	if (r < 0)
		return r;
	c->child = pid;
	free(c->request);
	c->request = strdup(request);
	np_log(NP_LOG_INFO, "baseline compare started on request", "pid=%d request=\"%s\"", (int)pid, request);
	return c->request ? 0 : -ENOMEM;
}

/* The newest verdict per profile of this node and bundle: the latest compare. */
static size_t latest(struct np_bench_record *v, size_t n, const char *node, const char *bundle)
{
	int64_t newest = 0;
	for (size_t i = 0; i < n; i++)
		if (v[i].kind == NP_BENCH_VERDICT && v[i].node && streq(v[i].node, node) && streq(v[i].bundle, bundle) &&
		    v[i].at_ms > newest)
			newest = v[i].at_ms;
	/* one compare writes its profiles within its run: keep those within the hour before the newest */
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		bool keep = v[i].kind == NP_BENCH_VERDICT && v[i].node && streq(v[i].node, node) &&
			    streq(v[i].bundle, bundle) && v[i].at_ms > newest - 3600 * 1000;
		if (keep) {
			struct np_bench_record t = v[k];
			v[k++] = v[i];
			v[i] = t;
		}
	}
	return k;
}

int np_canary_step(struct np_canary *c, const struct np_agent_opts *o, const struct np_policy *pol,
		   const json_t *node, const char *bundle, struct np_desired *d)
{
	if (!o->state_dir)
		return 0;
	reap(c);
	const char *req = request_of(node, pol->label_prefix);
	if (!req && c->child == 0) { /* consumed: the same value may ask again */
		free(c->request);
		c->request = NULL;
	}
	if (req && c->child == 0 && !(c->request && streq(c->request, req))) {
		int r = start(c, o, req);
		if (r < 0)
			np_log(NP_LOG_WARN, "baseline compare could not start", "error=\"%s\"", strerror(-r));
	}
	/* the request stays on the Node while its compare runs; the reconcile removes it afterwards */
	if (req && c->child > 0) {
		struct np_kv *kv = GROW(d->annotations, d->n_annotations);
		if (!kv)
			return -ENOMEM;
		kv->key = np_asprintf("%s/baseline-request", pol->label_prefix);
		kv->value = strdup(req);
		if (!kv->key || !kv->value)
			return -ENOMEM;
	}
	struct np_bench_record *v = NULL;
	size_t n = 0;
	int r = np_bench_store_load(o->state_dir, &v, &n, NULL);
	if (r < 0) {
		np_log(NP_LOG_WARN, "baseline records unreadable", "dir=%s error=\"%s\"", o->state_dir, strerror(-r));
		return r == -ENOMEM ? r : 0;
	}
	size_t k = latest(v, n, o->node_name, bundle);
	int64_t newest = 0;
	for (size_t i = 0; i < k; i++)
		newest = v[i].at_ms > newest ? v[i].at_ms : newest;
	if (!c->primed) { /* after a restart, the verdict already published is not announced again */
		c->announced_ms = newest;
		c->primed = true;
	}
	bool announce = k && newest > c->announced_ms;
	r = np_bench_desired(pol, v, k, o->node_name, announce, d);
	if (r >= 0 && announce)
		c->announced_ms = newest;
	np_bench_records_free(v, n);
	return r;
}

void np_canary_stop(struct np_canary *c)
{
	if (c->child > 0) {
		kill(c->child, SIGTERM);
		for (int i = 0; i < 50 && waitpid(c->child, NULL, WNOHANG) == 0; i++) {
			struct timespec ts = { 0, 100 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
		if (waitpid(c->child, NULL, WNOHANG) == 0) {
			kill(c->child, SIGKILL);
			waitpid(c->child, NULL, 0);
		}
	}
	free(c->request);
	*c = (struct np_canary){ 0 };
}
