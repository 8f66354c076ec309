// SPDX-License-Identifier: Apache-2.0
/*
 * baseline.c - `nodeprint baseline run|compare|show`: the storage micro-test
 * (docs/baseline.md). Collects the bundle, runs fio through pkg/collect/fio,
 * keeps records in --state-dir (and, with --cluster, in the class's ConfigMap),
 * judges with pkg/policy/verdict.
 */
#define _GNU_SOURCE
#include "baseline.h"
#include "cli.h"
#include "../../pkg/collect/benchdev.h"
#include "../../pkg/collect/collector.h"
#include "../../pkg/collect/fio.h"
#include "../../pkg/agent/collect_ctx.h"
#include "../../pkg/agent/reconcile.h"
#include "../../pkg/kube/api.h"
#include "../../pkg/kube/config.h"
#include "../../pkg/kube/kubeconfig.h"
#include "../../pkg/kube/baselines.h"
#include "../../pkg/policy/desired.h"
#include "../../pkg/policy/verdict.h"
#include "../../pkg/report/benchstore.h"
#include "../../pkg/shared/macro.h"
#include "../../pkg/shared/strutil.h"

#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

/* Exit codes (docs/baseline.md). */
enum { EX_PASS = 0, EX_ERROR = 1, EX_USAGE = 2, EX_REGRESSED = 3, EX_UNDECIDED = 4, EX_BUSY = 5, EX_INTR = 130 };

struct bopts {
	const char *policy, *state_dir, *directory, *fio, *node_name, *host_root, *output, *only_profile;
	const char *namespace_;
	struct np_kube_source kube;
	bool cluster, pin, yes_raw;
	unsigned repeats; /* 0 = policy */
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: nodeprint baseline run|compare|show [OPTIONS]\n"
		"  run       run each profile (policy baseline.profiles) and store the result as this bundle's baseline\n"
		"  compare   run each profile and judge it against the pinned baseline of the same class and model\n"
		"  show      list the stored baselines and verdicts\n"
		"Options:\n"
		"  --policy FILE        YAML policy (default: built-in; docs/baseline.md)\n"
		"  --state-dir DIR      records are kept in DIR/baselines (default /var/lib/nodeprint)\n"
		"  --directory DIR      the test file's folder (default: policy baseline.directory)\n"
		"  --profile NAME       only this profile\n"
		"  --repeats N          runs per profile (default: policy baseline.repeats)\n"
		"  --pin                run: mark the result as the reference baseline of its class and model\n"
		"  --yes-raw            read the policy's baseline.rawDevice instead of a file (read-only profiles)\n"
		"  --fio PATH           the fio binary (default: fio on PATH)\n"
		"  --node-name NAME     this node (env NODE_NAME, default the hostname)\n"
		"  --host-root DIR      read the host under DIR (env NODEPRINT_HOST_ROOT)\n"
		"  --cluster            also read/write the class's ConfigMap nodeprint-baselines-<class>\n"
		"  --kubeconfig FILE    (implies --cluster)  --context NAME\n"
		"  --namespace NS       the ConfigMap's namespace (env POD_NAMESPACE, default nodeprint)\n"
		"  -o, --output FMT     text (default) or json\n"
		"Exit: 0 pass/stored, 3 regressed, 4 inconclusive or no baseline, 5 device busy (refused), 1 error.\n");
}

static int parse(int argc, char **argv, struct bopts *o)
{
	static const struct option lo[] = {
		{ "policy", required_argument, NULL, 'P' },	{ "state-dir", required_argument, NULL, 's' },
		{ "directory", required_argument, NULL, 'd' },	{ "fio", required_argument, NULL, 'f' },
		{ "node-name", required_argument, NULL, 'N' },	{ "host-root", required_argument, NULL, 'R' },
		{ "output", required_argument, NULL, 'o' },	{ "profile", required_argument, NULL, 'p' },
		{ "repeats", required_argument, NULL, 'r' },	{ "pin", no_argument, NULL, 'I' },
		{ "yes-raw", no_argument, NULL, 'Y' },		{ "cluster", no_argument, NULL, 'X' },
		{ "kubeconfig", required_argument, NULL, 'k' }, { "context", required_argument, NULL, 'c' },
		{ "namespace", required_argument, NULL, 'n' },	{ "help", no_argument, NULL, 'h' },
		{},
	};
	int c;
	uint64_t v;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":o:h", lo, NULL)) != -1) {
		switch (c) {
		case 'P': o->policy = optarg; break;
		case 's': o->state_dir = optarg; break;
		case 'd': o->directory = optarg; break;
		case 'f': o->fio = optarg; break;
		case 'N': o->node_name = optarg; break;
		case 'R': o->host_root = optarg; break;
		case 'o': o->output = optarg; break;
		case 'p': o->only_profile = optarg; break;
		case 'I': o->pin = true; break;
		case 'Y': o->yes_raw = true; break;
		case 'X': o->cluster = true; break;
		case 'k': o->kube.kubeconfig = optarg; o->cluster = true; break;
		case 'c': o->kube.context = optarg; o->cluster = true; break;
		case 'n': o->namespace_ = optarg; break;
		case 'r':
			if (np_parse_dec(optarg, 25, &v) < 0 || v == 0) {
				fprintf(stderr, "nodeprint: baseline: --repeats 1..25\n");
				return -EINVAL;
			}
			o->repeats = (unsigned)v;
			break;
		case 'h': usage(stdout); exit(0);
		default: np_cli_bad_option("baseline", c, argv); return -EINVAL;
		}
	}
	if (!streq(o->output, "text") && !streq(o->output, "json")) {
		fprintf(stderr, "nodeprint: baseline: --output text or json\n");
		return -EINVAL;
	}
	return 0;
}

static int64_t wall_ms(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* What every record of this node is keyed by. */
struct who {
	char *bundle, *bundle_state, *klass, *kernel, *node;
	struct np_bench_device dev;
};

static void who_free(struct who *w)
{
	free(w->bundle);
	free(w->bundle_state);
	free(w->klass);
	free(w->kernel);
	free(w->node);
	np_bench_device_free(&w->dev);
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* The bundle, its class and state (the agent's own code) and the kernel; not the device. Returns 0 or -errno (printed). */
static int identify_bundle(const struct bopts *o, const struct np_policy *pol, const struct np_host *host,
			   const struct np_kv *labels, size_t n_labels, struct who *w)
{
	struct np_ctx_overrides ov = { .kmsg_max = 16 };
	struct np_collect_ctx ctx = np_collect_ctx_build(host, pol, &ov);
	struct np_report rep = { 0 };
	struct np_desired d = { 0 };
	char hn[256];
	const char *name = np_cli_node_name(o->node_name, hn, sizeof(hn));
	struct np_node_facts node = { .name = name, .labels = labels, .n_labels = n_labels };
	int r = np_collect_all(&ctx, NULL, &rep);
	if (r >= 0)
		r = np_policy_evaluate(pol, &rep, NULL, &node, &d);
	if (r >= 0) {
		w->bundle = strdup(rep.bundle.hash);
		w->bundle_state = dup_or_null(d.bundle_state);
		w->klass = dup_or_null(d.klass);
		w->kernel = dup_or_null(rep.kernel.release);
		w->node = strdup(name);
		if (!w->bundle || !w->node)
			r = -ENOMEM;
	}
	np_desired_free(&d);
	np_report_free(&rep);
	if (r < 0)
		fprintf(stderr, "nodeprint: baseline: collecting the bundle: %s\n", strerror(-r));
	return r;
}

/* The bundle, its class and state, the kernel, and the device under test. */
static int identify(const struct bopts *o, const struct np_policy *pol, const struct np_host *host,
		    const char *target, const struct np_kv *labels, size_t n_labels, struct who *w)
{
	int r = identify_bundle(o, pol, host, labels, n_labels, w);
	if (r < 0)
		return r;
	r = np_bench_device_of(host, target, &w->dev);
	if (r < 0)
		fprintf(stderr, "nodeprint: baseline: %s: no block device under it (%s)%s\n", target, strerror(-r),
			r == -ENODEV ? "; a tmpfs or overlay folder measures memory, not a disk" : "");
	return r;
}

/* Refuse a busy device: it is a canary, not a load test. Returns 0, -EBUSY (printed) or -errno. */
static int not_busy(const struct np_policy *pol, const struct np_host *host, const struct who *w)
{
	double util = 0;
	int r = np_bench_device_util(host, &w->dev, pol->baseline.busy_sample_seconds, &util);
	if (r < 0) {
		fprintf(stderr, "nodeprint: baseline: cannot tell how busy %s is (%s): refusing to run\n", w->dev.name,
			strerror(-r));
		return r;
	}
	if (util > pol->baseline.max_util_percent) {
		fprintf(stderr, "nodeprint: baseline: refused: %s is busy, %%util %.1f over %.0fs is above the policy's "
				"maxUtilPercent %.0f\n",
			w->dev.name, util, pol->baseline.busy_sample_seconds, pol->baseline.max_util_percent);
		return -EBUSY;
	}
	return 0;
}

/* Run one profile @n times into @rec. Returns 0, -EINTR, or -errno (printed). */
static int run_profile(const struct np_bench_profile *p, const struct np_fio_limits *lim, unsigned n,
		       const struct who *w, bool text, struct np_bench_record *rec)
{
	_cleanup_free_ struct np_bench_figures *runs = calloc(n, sizeof(*runs));
	if (!runs)
		return -ENOMEM;
	char fio_version[32] = "";
	for (unsigned i = 0; i < n; i++) {
		struct np_fio_result res;
		_cleanup_free_ char *err = NULL;
		int r = np_fio_run(p, lim, &res, &err);
		if (r < 0) {
			fprintf(stderr, "nodeprint: baseline: %s run %u/%u: %s\n", p->name, i + 1, n,
				err ? err : strerror(-r));
			return r;
		}
		runs[i] = res.fig;
		snprintf(fio_version, sizeof(fio_version), "%s", res.fio_version);
		if (text)
			fprintf(stderr, "  %s run %u/%u: %.0f IOPS, p99 %.0f us\n", p->name, i + 1, n,
				res.fig.v[NP_BF_IOPS], res.fig.v[NP_BF_P99]);
	}
	*rec = (struct np_bench_record){ .kind = NP_BENCH_BASELINE, .at_ms = wall_ms() };
	rec->bundle = strdup(w->bundle);
	rec->bundle_state = dup_or_null(w->bundle_state);
	rec->klass = dup_or_null(w->klass);
	rec->node = strdup(w->node);
	rec->kernel = dup_or_null(w->kernel);
	rec->device = strdup(w->dev.name);
	rec->model = dup_or_null(w->dev.model);
	rec->firmware = dup_or_null(w->dev.firmware);
	rec->fio_version = strdup(fio_version);
	int r = np_bench_profile_dup(p, &rec->profile);
	np_bench_summarize(rec, runs, n);
	if (r < 0 || !rec->bundle || !rec->node || !rec->device || !rec->fio_version)
		return -ENOMEM;
	return 0;
}

static int exit_for(int r)
{
	return r == -EINTR ? EX_INTR : r == -EBUSY ? EX_BUSY : EX_ERROR;
}

static void print_records(const struct bopts *o, const struct np_bench_record *v, size_t n)
{
	if (streq(o->output, "json")) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, np_bench_record_to_json(&v[i]));
		json_dumpf(a, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(a);
		return;
	}
	struct np_out out = { .f = stdout };
	np_bench_records_print(v, n, &out);
}

/* Cluster side (optional): the client, the Node's labels for the class. */
struct cluster {
	struct np_kube_client *kc;
	json_t *node;
	struct np_kv *labels;
	size_t n_labels;
	const char *ns;
};

static void cluster_free(struct cluster *c)
{
	free(c->labels);
	json_decref(c->node);
	np_kube_client_free(c->kc);
}

static int cluster_open(const struct bopts *o, struct cluster *c)
{
	struct np_kube_config cfg;
	_cleanup_free_ char *err = NULL;
	char hn[256];
	const char *name = np_cli_node_name(o->node_name, hn, sizeof(hn));
	c->ns = o->namespace_ ? o->namespace_ : getenv("POD_NAMESPACE") ? getenv("POD_NAMESPACE") : "nodeprint";
	int r = np_kube_config_auto(&o->kube, &cfg, &err);
	if (r >= 0)
		r = np_kube_client_new(&cfg, NULL, &c->kc, &err);
	if (r >= 0)
		r = np_kube_get_node(c->kc, name, &c->node, &err);
	if (r < 0) {
		fprintf(stderr, "nodeprint: baseline: cluster: %s\n", err ? err : strerror(-r));
		return r;
	}
	c->labels = np_node_label_facts(c->node, &c->n_labels);
	return 0;
}

/* Records of the class from its ConfigMap, appended to @v. Returns 0 or -errno (printed). */
static int cluster_load(struct cluster *c, const char *klass, struct np_bench_record **v, size_t *n)
{
	_cleanup_free_ char *err = NULL;
	struct np_bench_record *more = NULL;
	size_t m = 0, bad = 0;
	int r = np_kube_baselines_load(c->kc, c->ns, klass, &more, &m, &bad, &err);
	if (r < 0) {
		fprintf(stderr, "nodeprint: baseline: reading ConfigMap %s: %s\n", klass ? klass : "(unclassified)",
			err ? err : strerror(-r));
		return r;
	}
	if (bad)
		fprintf(stderr, "nodeprint: baseline: %zu unreadable entries in the class's ConfigMap skipped\n", bad);
	struct np_bench_record *nv = realloc(*v, (*n + m + 1) * sizeof(*nv));
	if (!nv) {
		np_bench_records_free(more, m);
		return -ENOMEM;
	}
	memcpy(nv + *n, more, m * sizeof(*more));
	free(more);
	*v = nv;
	*n += m;
	return 0;
}

static int cluster_save(struct cluster *c, const struct np_bench_record *v, size_t n)
{
	_cleanup_free_ char *err = NULL;
	int r = np_kube_baselines_store(c->kc, c->ns, v, n, &err);
	if (r < 0)
		fprintf(stderr, "nodeprint: baseline: writing the class's ConfigMap: %s\n", err ? err : strerror(-r));
	return r;
}

/*
 * One measuring session: SIGINT, SIGTERM and SIGHUP are held from the first
 * run to the last (np_fio_run() reads them through its signalfd, so one that
 * arrives between runs stops the next), and the test file, laid out once by
 * fio and shared by every run, is removed at the end whatever happened.
 */
struct session {
	sigset_t old;
	bool blocked;
	char *file;
};

static int session_begin(struct session *s)
{
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGINT);
	sigaddset(&m, SIGTERM);
	sigaddset(&m, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &m, &s->old) < 0)
		return negative_errno();
	s->blocked = true;
	return 0;
}

static void session_end(struct session *s)
{
	if (s->file) {
		unlink(s->file);
		free(s->file);
	}
	if (s->blocked) /* a signal still pending is delivered now, after the file is gone */
		sigprocmask(SIG_SETMASK, &s->old, NULL);
}

/* run (compare false) or compare. */
static int cmd_measure(const struct bopts *o, bool compare)
{
	struct np_policy pol;
	char *perr = NULL;
	int r = o->policy ? np_policy_load(o->policy, &pol, &perr) : np_policy_default(&pol);
	if (r < 0) {
		fprintf(stderr, "nodeprint: policy: %s\n", perr ? perr : strerror(-r));
		free(perr);
		return EX_USAGE;
	}
	const struct np_baseline_policy *bp = &pol.baseline;
	if (o->yes_raw && !bp->raw_device) {
		fprintf(stderr, "nodeprint: baseline: --yes-raw, but the policy names no baseline.rawDevice\n");
		np_policy_free(&pol);
		return EX_USAGE;
	}
	struct np_fio_limits lim = { .fio = o->fio, .directory = o->directory ? o->directory : bp->directory,
				     .raw_device = o->yes_raw ? bp->raw_device : NULL,
				     .file_bytes = (uint64_t)(bp->file_mib * 1024 * 1024), .wall_seconds = bp->wall_seconds };
	const char *target = lim.raw_device ? lim.raw_device : lim.directory;
	struct np_host host;
	struct who w = { 0 };
	struct cluster cl = { 0 };
	struct np_bench_record *recs = NULL, *stored = NULL;
	size_t n_recs = 0, n_stored = 0;
	unsigned repeats = o->repeats ? o->repeats : bp->repeats;
	bool text = streq(o->output, "text");
	int ex = EX_PASS;
	if ((r = np_host_open(&host, o->host_root)) < 0) {
		fprintf(stderr, "nodeprint: baseline: host root: %s\n", strerror(-r));
		np_policy_free(&pol);
		return EX_ERROR;
	}
	if (o->cluster)
		r = cluster_open(o, &cl);
	if (r >= 0)
		r = identify(o, &pol, &host, target, cl.labels, cl.n_labels, &w);
	if (r >= 0 && !lim.raw_device && (r = np_fio_remove_stale(lim.directory)) > 0)
		fprintf(stderr, "nodeprint: baseline: removed %d test file(s) left by a killed run\n", r);
	if (r == -ENOENT)
		fprintf(stderr, "nodeprint: baseline: directory %s does not exist\n", lim.directory);
	if (r >= 0 && !(recs = calloc(bp->n_profiles, sizeof(*recs))))
		r = -ENOMEM;
	if (r >= 0 && text)
		fprintf(stderr, "baseline: bundle %s (%s), class %s, kernel %s, device %s (%s, firmware %s)%s\n", w.bundle,
			w.bundle_state, w.klass ? w.klass : "(none)", w.kernel, w.dev.name,
			w.dev.model ? w.dev.model : "model unknown", w.dev.firmware ? w.dev.firmware : "unknown",
			lim.raw_device ? " RAW, read-only" : "");
	_cleanup_(session_end) struct session ses = { 0 };
	if (r >= 0)
		r = session_begin(&ses);
	for (size_t i = 0; r >= 0 && i < bp->n_profiles; i++) {
		const struct np_bench_profile *p = &bp->profiles[i];
		if (o->only_profile && !streq(o->only_profile, p->name))
			continue;
		r = not_busy(&pol, &host, &w);
		if (r >= 0 && !lim.raw_device && !ses.file) {
			_cleanup_free_ char *err = NULL;
			if ((r = np_fio_file_create(lim.directory, lim.file_bytes, &ses.file, &err)) < 0)
				fprintf(stderr, "nodeprint: baseline: %s\n", err ? err : strerror(-r));
			lim.file = ses.file;
		}
		if (r >= 0)
			r = run_profile(p, &lim, repeats, &w, text, &recs[n_recs]);
		if (r >= 0)
			recs[n_recs++].pinned = !compare && (o->pin || streq(w.bundle_state, "pinned"));
		else
			np_bench_record_free(&recs[n_recs]);
	}
	if (r >= 0 && n_recs == 0) {
		fprintf(stderr, "nodeprint: baseline: no profile named %s in the policy\n", o->only_profile);
		r = -EINVAL;
		ex = EX_USAGE;
	}
	if (r >= 0 && compare) {
		size_t bad = 0;
		r = np_bench_store_load(o->state_dir, &stored, &n_stored, &bad);
		if (r < 0)
			fprintf(stderr, "nodeprint: baseline: reading %s/baselines: %s\n", o->state_dir, strerror(-r));
		if (r >= 0 && o->cluster)
			r = cluster_load(&cl, w.klass, &stored, &n_stored);
		for (size_t i = 0; r >= 0 && i < n_recs; i++) {
			int v = np_bench_judge(np_bench_reference(stored, n_stored, &recs[i]), bp, &recs[i]);
			r = v < 0 ? v : 0;
		}
		enum np_bench_verdict all = np_bench_overall(recs, n_recs);
		ex = all == NP_VERDICT_PASS ? EX_PASS : all == NP_VERDICT_REGRESSED ? EX_REGRESSED : EX_UNDECIDED;
	}
	for (size_t i = 0; r >= 0 && i < n_recs; i++)
		if ((r = np_bench_store_save(o->state_dir, &recs[i])) < 0)
			fprintf(stderr, "nodeprint: baseline: saving to %s: %s\n", o->state_dir, strerror(-r));
	if (r >= 0 && o->cluster)
		r = cluster_save(&cl, recs, n_recs);
	if (r >= 0) {
		print_records(o, recs, n_recs);
		if (compare && text) {
			_cleanup_free_ char *msg = np_bench_verdict_message(recs, n_recs);
			printf("verdict: %s: %s\n", np_bench_verdict_name(np_bench_overall(recs, n_recs)), msg ? msg : "");
		}
	} else if (ex == EX_PASS) {
		ex = exit_for(r);
	}
	np_bench_records_free(recs, n_recs);
	np_bench_records_free(stored, n_stored);
	cluster_free(&cl);
	who_free(&w);
	np_host_close(&host);
	np_policy_free(&pol);
	return ex;
}

struct show_ctx {
	struct np_bench_record **v;
	size_t *n;
};

/* Copies of one ConfigMap's records appended to the list (through their JSON form). */
static int show_add(const char *name, const struct np_bench_record *recs, size_t m, void *ud)
{
	struct show_ctx *sc = ud;
	(void)name;
	struct np_bench_record *nv = realloc(*sc->v, (*sc->n + m + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	*sc->v = nv;
	for (size_t i = 0; i < m; i++) {
		int r = np_bench_record_dup(&recs[i], &nv[*sc->n]);
		if (r == -ENOMEM)
			return r;
		if (r >= 0)
			(*sc->n)++;
	}
	return 0;
}

/*
 * The ConfigMap of this Node's class, for an identity that may not list ConfigMaps (the agent's: the
 * shipped Role grants get, create, update only). The class is the policy's, judged on this host and
 * the Node's labels as `baseline compare` does. @why is the refused LIST's error. Returns 0 or -errno
 * (printed).
 */
static int show_own_class(const struct bopts *o, struct cluster *cl, struct np_bench_record **v, size_t *n,
			  const char *why)
{
	struct np_policy pol;
	struct np_host host;
	struct who w = { 0 };
	_cleanup_free_ char *perr = NULL;
	int r = o->policy ? np_policy_load(o->policy, &pol, &perr) : np_policy_default(&pol);
	if (r < 0) {
		fprintf(stderr, "nodeprint: policy: %s\n", perr ? perr : strerror(-r));
		return r;
	}
	r = np_host_open(&host, o->host_root);
	if (r < 0) {
		fprintf(stderr, "nodeprint: baseline: host root: %s\n", strerror(-r));
		np_policy_free(&pol);
		return r;
	}
	r = identify_bundle(o, &pol, &host, cl->labels, cl->n_labels, &w);
	if (r >= 0) {
		fprintf(stderr, "nodeprint: baseline: not allowed to list ConfigMaps (%s); showing only this Node's class, %s\n",
			why ? why : "403", w.klass ? w.klass : "none");
		r = cluster_load(cl, w.klass, v, n);
	}
	who_free(&w);
	np_host_close(&host);
	np_policy_free(&pol);
	return r;
}

static int cmd_show(const struct bopts *o)
{
	struct np_bench_record *v = NULL;
	size_t n = 0, bad = 0;
	int r = np_bench_store_load(o->state_dir, &v, &n, &bad);
	if (r < 0) {
		fprintf(stderr, "nodeprint: baseline: reading %s/baselines: %s\n", o->state_dir, strerror(-r));
		return EX_ERROR;
	}
	if (o->cluster) {
		/* every class's ConfigMap, else (the agent's own identity: its Role may get, not list) this Node's */
		struct cluster cl = { 0 };
		struct show_ctx sc = { &v, &n };
		_cleanup_free_ char *err = NULL;
		r = cluster_open(o, &cl);
		if (r >= 0 && (r = np_kube_baselines_list(cl.kc, cl.ns, show_add, &sc, &err)) == -EPERM)
			r = show_own_class(o, &cl, &v, &n, err);
		else if (r < 0)
			fprintf(stderr, "nodeprint: baseline: listing the baselines ConfigMaps: %s\n", err ? err : strerror(-r));
		cluster_free(&cl);
		if (r < 0) {
			np_bench_records_free(v, n);
			return EX_ERROR;
		}
	}
	if (bad)
		fprintf(stderr, "nodeprint: baseline: %zu unreadable record file(s) skipped\n", bad);
	print_records(o, v, n);
	np_bench_records_free(v, n);
	return EX_PASS;
}

int np_cmd_baseline(int argc, char **argv)
{
	if (argc < 2 || streq(argv[1], "--help") || streq(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EX_USAGE : 0;
	}
	struct bopts o = { .output = "text", .state_dir = "/var/lib/nodeprint" };
	const char *verb = argv[1];
	if (parse(argc - 1, argv + 1, &o) < 0)
		return EX_USAGE;
	if (optind < argc - 1) {
		fprintf(stderr, "nodeprint: baseline: unexpected argument '%s'\n", argv[optind + 1]);
		return EX_USAGE;
	}
	if (streq(verb, "run"))
		return cmd_measure(&o, false);
	if (streq(verb, "compare"))
		return cmd_measure(&o, true);
	if (streq(verb, "show"))
		return cmd_show(&o);
	fprintf(stderr, "nodeprint: baseline: unknown verb '%s' (run, compare, show)\n", verb);
	return EX_USAGE;
}
