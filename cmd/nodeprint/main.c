// SPDX-License-Identifier: Apache-2.0
/*
 * nodeprint - the node's driver bundle and storage health, from its kernel
 * interfaces. `nodeprint inspect` works on any Linux machine, no cluster.
 */
#define _GNU_SOURCE
#include "../../pkg/agent/agent.h"
#include "../../pkg/agent/collect_ctx.h"
#include "../../pkg/agent/fleet.h"
#include "../../pkg/agent/plandiff.h"
#include "../../pkg/agent/reconcile.h"
#include "../../pkg/kube/api.h"
#include "../../pkg/kube/baselines.h"
#include "../../pkg/collect/collector.h"
#include "../../pkg/collect/pool.h"
#include "../../pkg/policy/blind.h"
#include "../../pkg/policy/desired.h"
#include "../../pkg/policy/policy.h"
#include "../../pkg/report/json_write.h"
#include "../../pkg/shared/log.h"
#include "../../pkg/shared/macro.h"
#include "../../pkg/shared/strutil.h"
#include "../../pkg/shared/version.h"
#include "baseline.h"
#include "cleanup.h"
#include "cli.h"
#include "kube.h"

#include <getopt.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: nodeprint COMMAND [OPTIONS]   (nodeprint COMMAND --help: its options)\n"
		"\n"
		"Commands:\n"
		"  inspect      print this node's findings, bundle, fingerprint, health and the plan\n"
		"  plan         print only the labels, taints, conditions and events it would set\n"
		"               (--cluster: the exact requests against the Node, writes nothing)\n"
		"  run          the agent: publish to the Kubernetes API until SIGTERM\n"
		"  cleanup      remove every key nodeprint wrote from the Nodes (uninstall)\n"
		"  fleet        nodes grouped by class and bundle, drift from the pins\n"
		"  baseline     storage micro-test per bundle: run, compare, show\n"
		"  policy       print the built-in policy (--default) or validate one (--check FILE)\n"
		"  collectors   list the collectors (report sections)\n"
		"  kube         talk to the API server (get-node, patch-node, list, taint, ...)\n"
		"  version      print the version\n"
		"\n"
		"Exit codes: 0 ok; 1 error; 2 bad usage (options, policy, host root); inspect and plan\n"
		"also 3 blind (a source could not be read), 4 findings or drift (docs/reference.md).\n");
}

/* Options of inspect and plan; @plan adds the cluster options. */
static void report_usage(FILE *f, bool plan)
{
	fprintf(f, "Usage: nodeprint %s [OPTIONS]\n\n", plan ? "plan" : "inspect");
	fprintf(f, "%s",
		plan ? "Print the labels, annotations, taints, conditions and Events the agent would set on\n"
		       "this node with the policy; with --cluster, the exact requests, diffed with the Node.\n\n"
		     : "Print a summary of findings, then this node's report: kernel, modules, NICs, block\n"
		       "devices, NVMe, multipath, volumes, PCIe, mounts, kernel log, the bundle and its\n"
		       "fingerprint; then the plan the agent would apply with the policy.\n\n");
	fprintf(f,
		"Options:\n"
		"  -o, --output FMT       text (default), json or yaml (json: docs/report.schema.json)\n"
		"      --host-root DIR    read the host under DIR, which must hold proc/ or sys/\n"
		"                         (env NODEPRINT_HOST_ROOT, default /)\n"
		"      --interval SEC     sample twice SEC seconds apart for rates (iostat -x style)\n"
		"      --stall-seconds SEC  in-flight I/O with no completion this long is a stall (default: policy, 10)\n"
		"      --stall-await-ms MS  also a stall: await over the interval above MS (default: policy, off)\n"
		"      --only LIST        comma-separated sections to read (see `collectors`); the report is\n"
		"                         then partial: other sections, the bundle labels and the conditions\n"
		"                         of unread sections are left out\n"
		"      --kubelet-dir DIR  kubelet root on the host (default /var/lib/kubelet)\n"
		"      --color WHEN       auto (default), always or never\n"
		"  -w, --wide             never truncate text to the terminal width ($COLUMNS)\n"
		"      --policy FILE      YAML policy (default: the built-in policy)\n"
		"      --node-name NAME   the Node the plan is for (env NODE_NAME, default the hostname)\n");
	if (plan)
		fprintf(f,
			"Against a cluster (reads the Node, writes nothing):\n"
			"      --cluster          use $KUBECONFIG, in-cluster config or ~/.kube/config\n"
			"      --kubeconfig FILE  this kubeconfig (implies --cluster)\n"
			"      --context NAME     this context (implies --cluster)\n");
	fprintf(f, "  -h, --help             this help\n\n");
	fprintf(f, "%s",
		"Exit codes: 0 no finding, every source read; 1 error; 2 bad usage (options, policy,\n"
		"host root); 3 blind: a source could not be read (its checks are Unknown), no finding;\n"
		"4 findings or bundle drift.\n");
}

struct opts {
	const char *cmd;            /* "inspect", "plan", "fleet" */
	const char *output;
	enum np_format fmt;
	bool wide;
	const char *host_root;
	const char *only;
	const char *kubelet_dir;
	const char *color;
	const char *policy;
	const char *node_name;
	struct np_kube_source kube; /* plan against a cluster: --kubeconfig, --context */
	bool cluster;               /* --cluster, --kubeconfig or --context given */
	double interval;
	double stall_seconds;
	double stall_await_ms;
};

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "host-root", required_argument, NULL, 'R' },
		{ "interval", required_argument, NULL, 'i' },
		{ "only", required_argument, NULL, 'O' },
		{ "stall-seconds", required_argument, NULL, 'S' },
		{ "stall-await-ms", required_argument, NULL, 'A' },
		{ "kubelet-dir", required_argument, NULL, 'K' },
		{ "color", required_argument, NULL, 'C' },
		{ "policy", required_argument, NULL, 'P' },
		{ "node-name", required_argument, NULL, 'N' },
		{ "kubeconfig", required_argument, NULL, 'k' },
		{ "context", required_argument, NULL, 'c' },
		{ "cluster", no_argument, NULL, 'X' },
		{ "wide", no_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int c;
	while ((c = getopt_long(argc, argv, ":o:wh", lo, NULL)) != -1) {
		switch (c) {
		case 'o':
			o->output = optarg;
			break;
		case 'R':
			o->host_root = optarg;
			break;
		case 'i':
			if (np_parse_double(optarg, &o->interval) < 0 || o->interval < 0 || o->interval > 3600) {
				fprintf(stderr, "nodeprint: --interval: expected seconds between 0 and 3600, got '%s'\n", optarg);
				return -EINVAL;
			}
			break;
		case 'O':
			o->only = optarg;
			break;
		case 'S':
			if (np_parse_double(optarg, &o->stall_seconds) < 0 || !(o->stall_seconds > 0) ||
			    o->stall_seconds > 86400) {
				fprintf(stderr, "nodeprint: --stall-seconds: expected seconds above 0, got '%s'\n", optarg);
				return -EINVAL;
			}
			break;
		case 'A':
			if (np_parse_double(optarg, &o->stall_await_ms) < 0 || o->stall_await_ms < 0 ||
			    o->stall_await_ms > 3600000) {
				fprintf(stderr, "nodeprint: --stall-await-ms: expected milliseconds >= 0, got '%s'\n", optarg);
				return -EINVAL;
			}
			break;
		case 'K':
			o->kubelet_dir = optarg;
			break;
		case 'C':
			o->color = optarg;
			break;
		case 'P':
			o->policy = optarg;
			break;
		case 'N':
			o->node_name = optarg;
			break;
		case 'k':
			o->kube.kubeconfig = optarg;
			o->cluster = true;
			break;
		case 'c':
			o->kube.context = optarg;
			o->cluster = true;
			break;
		case 'X':
			o->cluster = true;
			break;
		case 'w':
			o->wide = true;
			break;
		case 'h':
			report_usage(stdout, streq(o->cmd, "plan"));
			exit(0);
		default:
			np_cli_bad_option(o->cmd, c, argv);
			return -EINVAL;
		}
	}
	if (np_cli_format(o->cmd, o->output, &o->fmt) < 0)
		return -EINVAL;
	if (!streq(o->color, "auto") && !streq(o->color, "always") && !streq(o->color, "never")) {
		fprintf(stderr, "nodeprint %s: --color: expected auto, always or never, got '%s'\n", o->cmd, o->color);
		return -EINVAL;
	}
	return 0;
}

/* @only: --only's sections (NULL without it); @arg: its value. An empty list would read nothing and exit 0. */
static int check_only(char **only, const char *arg)
{
	if (arg && (!only || !*only)) {
		fprintf(stderr, "nodeprint: --only: no section in '%s' (see `nodeprint collectors`)\n", arg);
		return -EINVAL;
	}
	for (char **p = only; p && *p; p++) {
		if (!np_section_find(*p)) {
			fprintf(stderr, "nodeprint: --only: unknown section '%s' (see `nodeprint collectors`)\n", *p);
			return -EINVAL;
		}
	}
	return 0;
}

static int load_policy(const struct opts *o, struct np_policy *p)
{
	if (!o->policy)
		return np_policy_default(p);
	char *err = NULL;
	int r = np_policy_load(o->policy, p, &err);
	if (r < 0)
		fprintf(stderr, "nodeprint: policy: %s\n", err ? err : strerror(-r));
	free(err);
	return r;
}

/* plan against a cluster: the client and the Node. Returns 0, or -errno after printing why. */
static int cluster_node(const struct opts *o, const char *name, struct np_kube_client **kc, json_t **node)
{
	struct np_kube_config cfg;
	char *err = NULL;
	int r = np_kube_config_auto(&o->kube, &cfg, &err);
	if (r >= 0)
		r = np_kube_client_new(&cfg, NULL, kc, &err);
	if (r < 0) {
		fprintf(stderr, "nodeprint: plan: no Kubernetes API configuration: %s\n", err ? err : strerror(-r));
	} else if ((r = np_kube_get_node(*kc, name, node, &err)) < 0) {
		fprintf(stderr, "nodeprint: plan: reading Node %s: %s\n", name, err ? err : strerror(-r));
	}
	free(err);
	return r;
}

/* One line per finding, before the report: what needs attention comes first. */
static void print_findings(const struct np_desired *plan, struct np_out *out)
{
	static const char *const hdr[] = { "finding", "subject", "reason", "message" };
	struct np_table *t = np_table_new(ARRAY_SIZE(hdr), hdr);
	size_t n = 0;
	np_out_heading(out, "Findings");
	for (size_t i = 0; t && i < plan->n_findings; i++) {
		const struct np_finding *f = &plan->findings[i];
		const char *cells[] = { f->id, f->subject, f->reason, f->message };
		if (streq(f->id, NP_FINDING_SOURCE_UNREADABLE))
			continue; /* the BLIND block above says it */
		np_table_add(t, NP_TONE_BAD, cells);
		n++;
	}
	if (!n) {
		np_table_free(t);
		fprintf(out->f, "  none (bundle-state %s)\n", plan->bundle_state ? plan->bundle_state : "-");
		return;
	}
	np_table_print_free(t, out);
	fprintf(out->f, "  %zu finding%s; the plan at the end says what the agent would do\n", n, n == 1 ? "" : "s");
}

/*
 * The JSON tree `inspect` and `plan` print, left to exit(2) instead of freed (they print once
 * and exit): on a large host it is some 100,000 small objects, and freeing them (glibc then
 * consolidates the freed chunks) cost as much as writing them. Kept reachable here, so a leak
 * checker does not count it as lost.
 */
static json_t *printed_tree;

static int print_plan(const struct opts *o, bool with_report, const struct np_report *rep,
		      const struct np_desired *plan, const json_t *against)
{
	if (o->fmt != NP_FMT_TEXT) {
		/* per-CPU arrays written from the report's memory, not built as jansson values */
		struct np_json_defer *d = np_cli_dump_compact(o->fmt) ? np_json_defer_begin() : NULL;
		json_t *j = with_report ? np_report_to_json(rep) : json_object();
		json_object_set_new(j, "plan", np_desired_to_json(plan));
		if (against)
			json_object_set(j, "cluster", (json_t *)against);
		int r = np_cli_dump(j, o->fmt);
		np_json_defer_end(d); /* its stand-ins are the tree's too: nothing is freed */
		json_decref(printed_tree);
		printed_tree = j;
		return r;
	}
	struct np_out out = { .f = stdout,
			      .color = streq(o->color, "always") ||
				       (streq(o->color, "auto") && isatty(STDOUT_FILENO) && !getenv("NO_COLOR")),
			      .width = o->wide ? 0 : np_cli_width() };
	if (np_out_fit_begin(&out) < 0)
		return -ENOMEM;
	if (with_report) {
		np_report_print_title(rep, &out);
		print_findings(plan, &out);
		np_report_print(rep, &out);
	}
	np_desired_print(plan, &out);
	int r = against ? np_plan_against_node_print(against, out.f) : 0;
	np_out_fit_end(&out);
	if (out.truncated)
		printf("\n%u lines were cut at %u columns (marked ...): --wide or a larger COLUMNS shows them whole\n",
		       out.truncated, out.width);
	return r;
}

/*
 * The host root must be a folder holding the host's proc/ or sys/ (a container mounts them under
 * /host): an empty folder would give a report of nothing, every section "unavailable".
 * Returns 0, or NP_EXIT_USAGE after printing why.
 */
static int check_host_root(const char *cmd, const struct np_host *h)
{
	if (np_host_exists(h, "/proc/sys") || np_host_exists(h, "/proc/self/mountinfo") || np_host_exists(h, "/sys/class") ||
	    np_host_exists(h, "/sys/devices"))
		return 0;
	if (np_host_exists(h, "/proc") || np_host_exists(h, "/sys"))
		fprintf(stderr, "nodeprint %s: --host-root %s: its proc/ and sys/ hold none of a host's files "
				"(no proc/sys, proc/self/mountinfo, sys/class or sys/devices): mount the host's /proc "
				"and /sys there\n", cmd, h->root);
	else
		fprintf(stderr, "nodeprint %s: --host-root %s: no proc/ or sys/ there, so not a host's root "
				"(mount the host's /proc and /sys under it)\n", cmd, h->root);
	return NP_EXIT_USAGE;
}

/* inspect (with_report) or plan: collect, judge, print. Returns an exit code (enum np_exit). */
static int run_report(int argc, char **argv, bool with_report)
{
	struct opts o = { .cmd = with_report ? "inspect" : "plan", .output = "text", .color = "auto",
			  .kubelet_dir = "/var/lib/kubelet", .stall_await_ms = -1 };
	if (parse_opts(argc, argv, &o) < 0)
		return NP_EXIT_USAGE;
	if (optind < argc) {
		fprintf(stderr, "nodeprint %s: unexpected argument '%s' (nodeprint %s --help)\n", o.cmd, argv[optind], o.cmd);
		return NP_EXIT_USAGE;
	}
	if (o.cluster && with_report) {
		fprintf(stderr, "nodeprint inspect: --cluster, --kubeconfig and --context are options of plan\n");
		return NP_EXIT_USAGE;
	}
	char **only = NULL;
	if (o.only && np_split(o.only, ",", &only, NULL) < 0)
		return NP_EXIT_ERROR;
	if (check_only(only, o.only) < 0) {
		np_strv_free(only);
		return NP_EXIT_USAGE;
	}
	struct np_policy pol;
	if (load_policy(&o, &pol) < 0) {
		np_strv_free(only);
		return NP_EXIT_USAGE;
	}
	struct np_host host;
	int r = np_host_open(&host, o.host_root);
	if (r < 0) {
		fprintf(stderr, "nodeprint %s: --host-root '%s': %s\n", o.cmd, o.host_root ? o.host_root : "/", strerror(-r));
		np_strv_free(only);
		np_policy_free(&pol);
		return NP_EXIT_USAGE;
	}
	if (check_host_root(o.cmd, &host) != 0) {
		np_strv_free(only);
		np_policy_free(&pol);
		np_host_close(&host);
		return NP_EXIT_USAGE;
	}
	/* the command line wins over the policy's health thresholds */
	struct np_ctx_overrides ov = { .interval_s = o.interval, .kubelet_dir = o.kubelet_dir,
				       .stall_seconds = o.stall_seconds, .set_stall_await = o.stall_await_ms >= 0,
				       .stall_await_ms = o.stall_await_ms };
	struct np_collect_ctx ctx = np_collect_ctx_build(&host, &pol, &ov);
	ctx.threads = np_pool_lanes(4); /* one pass: the concurrent sections on other CPUs (collector.h) */
	struct np_report rep = { 0 };
	struct np_desired plan = { 0 };
	char host_buf[256];
	struct np_node_facts node = { .name = np_cli_node_name(o.node_name, host_buf, sizeof(host_buf)) };
	struct np_kube_client *kc = NULL;
	json_t *node_obj = NULL, *against = NULL;
	_cleanup_free_ struct np_kv *labels = NULL;
	bool told = false; /* the cluster steps print their own errors */
	if (o.cluster) {
		r = cluster_node(&o, node.name, &kc, &node_obj);
		labels = r >= 0 ? np_node_label_facts(node_obj, &node.n_labels) : NULL;
		node.labels = labels;
		told = r < 0;
	}
	if (r >= 0)
		r = np_collect_all(&ctx, only, &rep);
	np_strv_free(only);
	if (r >= 0)
		r = np_policy_evaluate(&pol, &rep, NULL, &node, &plan);
	_cleanup_(np_sources_free) struct np_sources src = { 0 };
	bool blind = r >= 0 && np_report_sources(&rep, &src) != 0; /* exit 3: some checks are Unknown (or ENOMEM) */
	char *err = NULL;
	if (r >= 0 && node_obj) {
		r = np_plan_against_node(kc, &pol, &plan, node_obj, time(NULL), &against, &err);
		if (r < 0)
			fprintf(stderr, "nodeprint plan: %s\n", err ? err : strerror(-r));
		told = true;
		free(err);
	} else if (r < 0 && !told) {
		fprintf(stderr, "nodeprint %s: %s\n", o.cmd, strerror(-r));
	}
	if (r >= 0)
		r = print_plan(&o, with_report, &rep, &plan, against);
	size_t found = 0; /* findings about the node; what it could not read is exit 3 (blind) */
	for (size_t i = 0; i < plan.n_findings; i++)
		found += !streq(plan.findings[i].id, NP_FINDING_SOURCE_UNREADABLE);
	int code = r < 0 ? NP_EXIT_ERROR : found ? NP_EXIT_FINDINGS : blind ? NP_EXIT_BLIND : NP_EXIT_OK;
	json_decref(against);
	json_decref(node_obj);
	np_kube_client_free(kc);
	np_desired_free(&plan);
	np_report_free(&rep);
	np_policy_free(&pol);
	np_host_close(&host);
	if (fflush(stdout) != 0)
		return NP_EXIT_ERROR;
	return code;
}

static void policy_usage(FILE *f)
{
	fprintf(f, "Usage: nodeprint policy --default | --check FILE\n"
		   "  --default      print the built-in default policy (a starting point: docs/policy.md)\n"
		   "  --check FILE   validate FILE; errors name FILE:LINE:COLUMN and the field\n"
		   "Exit codes: 0 valid; 1 FILE is not a valid policy; 2 bad usage.\n");
}

static int cmd_policy(int argc, char **argv)
{
	if (argc == 2 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
		policy_usage(stdout);
		return NP_EXIT_OK;
	}
	if (argc == 2 && streq(argv[1], "--default")) {
		fputs(np_policy_default_yaml(), stdout);
		return NP_EXIT_OK;
	}
	if (argc == 3 && streq(argv[1], "--check")) {
		struct np_policy p;
		char *err = NULL;
		int r = np_policy_load(argv[2], &p, &err);
		if (r < 0) {
			fprintf(stderr, "%s\n", err ? err : strerror(-r));
			free(err);
			return NP_EXIT_ERROR;
		}
		printf("%s: ok (%zu classes)\n", argv[2], p.n_classes);
		np_policy_free(&p);
		return NP_EXIT_OK;
	}
	if (argc < 2)
		fprintf(stderr, "nodeprint policy: expected --default or --check FILE (nodeprint policy --help)\n");
	else if (streq(argv[1], "--check") && argc == 2)
		fprintf(stderr, "nodeprint policy: --check needs a FILE (nodeprint policy --help)\n");
	else if (streq(argv[1], "--default") || streq(argv[1], "--check"))
		fprintf(stderr, "nodeprint policy: unexpected argument '%s' (nodeprint policy --help)\n",
			argv[streq(argv[1], "--check") ? 3 : 2]);
	else
		fprintf(stderr, "nodeprint policy: unknown option '%s': expected --default or --check FILE "
				"(nodeprint policy --help)\n", argv[1]);
	return NP_EXIT_USAGE;
}

static void run_usage(FILE *f)
{
	fprintf(f, "Usage: nodeprint run [OPTIONS]\n\n"
		   "The DaemonSet agent: collect, judge and publish labels, the fingerprint annotation,\n"
		   "taints, conditions and Events on its own Node until SIGTERM (docs/reference.md).\n\n"
		   "  --node-name NAME     this Node (env NODE_NAME; required)\n"
		   "  --policy FILE        YAML policy, reloaded on change and SIGHUP (default: built-in)\n"
		   "  --kubeconfig FILE    (else $KUBECONFIG, in-cluster, ~/.kube/config)\n"
		   "  --context NAME       kubeconfig context\n"
		   "  --host-root DIR      read the host under DIR (env NODEPRINT_HOST_ROOT)\n"
		   "  --kubelet-dir DIR    kubelet root on the host (default /var/lib/kubelet)\n"
		   "  --poll SEC           collect and reconcile every SEC seconds (default 10; 0.1 to 86400)\n"
		   "  --smart-interval SEC read each NVMe SMART / health log every SEC seconds (default 60;\n"
		   "                       an NVMe asynchronous event reads it at once)\n"
		   "  --settle SEC         never remove own labels or taints in the first SEC seconds (default 60)\n"
		   "  --resync SEC         read the whole Node again at least every SEC seconds (each period\n"
		   "                       drawn in [SEC/2, SEC]), to repair our keys another writer changed\n"
		   "                       (default 300; 0 = only after errors)\n"
		   "  --facts-max-age SEC  read the facts that do not change (versions, firmware, identities,\n"
		   "                       link capabilities) again after a device or module event and at\n"
		   "                       least every SEC seconds; counters and states every cycle\n"
		   "                       (default 300; 0 = every cycle)\n"
		   "  --cycles N           stop after N cycles (tests)\n"
		   "  --dry-run            collect and judge, write nothing\n"
		   "  --metrics-address A  serve /metrics, /healthz, /readyz on A (e.g. :20270, 127.0.0.1:20270;\n"
		   "                       the chart's default port is 20270, docs/reference.md says why)\n"
		   "  --metrics-all-devices  block metrics for loop, ram and zram devices too (default: left out)\n"
		   "  --health-address A   serve only /healthz and /readyz on A (probes without metrics)\n"
		   "  --log-level LEVEL    debug, info (default), warn, error\n"
		   "  --log-format FMT     logfmt (default) or json\n"
		   "  --state-dir DIR      baseline records (docs/baseline.md); the annotation <prefix>/baseline-request\n"
		   "                       on the Node then runs `baseline compare` once (default: off)\n"
		   "  -h, --help           this help\n\n"
		   "Exit codes: 0 stopped by SIGTERM or --cycles; 1 error; 2 bad usage.\n");
}

static int cmd_run(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "node-name", required_argument, NULL, 'N' }, { "policy", required_argument, NULL, 'P' },
		{ "kubeconfig", required_argument, NULL, 'k' }, { "context", required_argument, NULL, 'c' },
		{ "host-root", required_argument, NULL, 'R' }, { "kubelet-dir", required_argument, NULL, 'K' },
		{ "poll", required_argument, NULL, 'p' },      { "settle", required_argument, NULL, 's' },
		{ "cycles", required_argument, NULL, 'n' },    { "dry-run", no_argument, NULL, 'd' },
		{ "sa-root", required_argument, NULL, 'S' },   { "help", no_argument, NULL, 'h' },
		{ "log-level", required_argument, NULL, 'L' }, { "log-format", required_argument, NULL, 'F' },
		{ "metrics-address", required_argument, NULL, 'M' },
		{ "metrics-all-devices", no_argument, NULL, 'D' },
		{ "health-address", required_argument, NULL, 'H' },
		{ "smart-interval", required_argument, NULL, 'I' },
		{ "resync", required_argument, NULL, 'r' },
		{ "facts-max-age", required_argument, NULL, 'A' },
		{ "state-dir", required_argument, NULL, 'B' },
		{}
	};
	struct np_agent_opts o = { .node_name = getenv("NODE_NAME"), .kubelet_dir = "/var/lib/kubelet",
				   .poll_seconds = 10, .smart_seconds = 60, .resync_seconds = 300, .settle_seconds = 60,
				   .facts_seconds = 300 };
	int c;
	double v;
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (c) {
		case 'N': o.node_name = optarg; break;
		case 'P': o.policy_path = optarg; break;
		case 'k': o.kube.kubeconfig = optarg; break;
		case 'c': o.kube.context = optarg; break;
		case 'S': o.kube.sa_prefix = optarg; break;
		case 'R': o.host_root = optarg; break;
		case 'K': o.kubelet_dir = optarg; break;
		case 'd': o.dry_run = true; break;
		case 'M':
		case 'H':
			if (o.metrics_address) {
				fprintf(stderr, "nodeprint run: --metrics-address and --health-address are one endpoint: give one\n");
				return NP_EXIT_USAGE;
			}
			o.metrics_address = optarg;
			o.health_only = c == 'H';
			break;
		case 'D': o.metrics_all_devices = true; break;
		case 'B': o.state_dir = optarg; break;
		case 'L':
		case 'F':
			if (np_log_setup(c == 'L' ? optarg : NULL, c == 'F' ? optarg : NULL) < 0) {
				fprintf(stderr, "nodeprint run: --log-level debug|info|warn|error, --log-format logfmt|json; got '%s'\n", optarg);
				return NP_EXIT_USAGE;
			}
			break;
		case 'p':
		case 's':
		case 'n':
		case 'I':
		case 'r':
		case 'A':
			if (np_parse_double(optarg, &v) < 0 || v < 0 || v > 86400) {
				fprintf(stderr, "nodeprint run: --%s: '%s' is not a number of %s from 0 to 86400\n",
					c == 'p' ? "poll" : c == 's' ? "settle" : c == 'I' ? "smart-interval" :
					c == 'r' ? "resync" : c == 'A' ? "facts-max-age" : "cycles", optarg, c == 'n' ? "cycles" : "seconds");
				return NP_EXIT_USAGE;
			}
			/* a poll or SMART period below what the agent can honour is refused, never rounded */
			if ((c == 'p' && v < 0.1) || (c == 'I' && v < 1)) {
				fprintf(stderr, "nodeprint run: %s %s: the shortest period is %s seconds\n",
					c == 'p' ? "--poll" : "--smart-interval", optarg, c == 'p' ? "0.1" : "1");
				return NP_EXIT_USAGE;
			}
			if (c == 'p')
				o.poll_seconds = v;
			else if (c == 's')
				o.settle_seconds = v;
			else if (c == 'I')
				o.smart_seconds = v;
			else if (c == 'r')
				o.resync_seconds = v;
			else if (c == 'A')
				o.facts_seconds = v;
			else
				o.max_cycles = (unsigned)v;
			break;
		case 'h': run_usage(stdout); return NP_EXIT_OK;
		default: return np_cli_bad_option("run", c, argv);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "nodeprint run: unexpected argument '%s' (nodeprint run --help)\n", argv[optind]);
		return NP_EXIT_USAGE;
	}
	int r = np_agent_run(&o);
	return r < 0 ? NP_EXIT_ERROR : NP_EXIT_OK;
}

static int fleet_page(json_t *page, void *ud)
{
	size_t i;
	json_t *node;
	json_array_foreach(json_object_get(page, "items"), i, node) {
		int r = np_fleet_add(ud, node);
		if (r < 0)
			return r;
	}
	return 0;
}

static int fleet_baselines(const char *name, const struct np_bench_record *recs, size_t n, void *ud)
{
	(void)name;
	return np_fleet_add_baselines(ud, recs, n);
}

static void fleet_usage(void)
{
	printf("Usage: nodeprint fleet [--kubeconfig F] [--context C] [--policy FILE] [--selector LABELS]\n"
	       "                       [--class C] [--bundle HASH] [--fail-on drift,unknown]\n"
	       "                       [--page-size N] [--namespace NS] [-o text|json|yaml]\n\n"
	       "Every Node's class and bundle (from the labels and fingerprint annotation the agents\n"
	       "wrote), grouped; each group judged pinned, drift or unknown by the policy's pins (the\n"
	       "agents' bundle-state label for a class without pins); per class the pinned bundle (the\n"
	       "pinned one on most nodes) and what each other bundle changes, component by component;\n"
	       "what --policy would taint; per class the pinned bundle's storage baseline and each other\n"
	       "bundle's verdicts (--namespace NS: where the nodeprint-baselines-* ConfigMaps are,\n"
	       "default nodeprint; docs/baseline.md). Reads only.\n"
	       "  --class C        only Nodes labelled with class C (added to --selector)\n"
	       "  --bundle HASH    only that bundle's groups, with their Nodes' names\n"
	       "  --fail-on LIST   drift: exit 4 when a shown Node drifts; unknown: exit 3 when one is\n"
	       "                   unknown (no bundle label, no readable annotation); both: 4 wins\n"
	       "Exit codes: 0 printed; 1 error (API); 2 bad usage; 3 unknown, 4 drift (with --fail-on).\n");
}

/* --fail-on drift,unknown. Returns 0 or -EINVAL. */
static int fleet_fail_on(const char *arg, bool *drift, bool *unknown)
{
	_cleanup_free_ char *dup = strdup(arg);
	char *save = NULL;
	if (!dup)
		return -ENOMEM;
	for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (streq(t, "drift"))
			*drift = true;
		else if (streq(t, "unknown"))
			*unknown = true;
		else
			return -EINVAL;
	}
	return *drift || *unknown ? 0 : -EINVAL;
}

static int cmd_fleet(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "kubeconfig", required_argument, NULL, 'k' }, { "context", required_argument, NULL, 'c' },
		{ "policy", required_argument, NULL, 'P' },     { "output", required_argument, NULL, 'o' },
		{ "page-size", required_argument, NULL, 'l' },  { "selector", required_argument, NULL, 'l' + 1 },
		{ "namespace", required_argument, NULL, 'n' },  { "class", required_argument, NULL, 'C' },
		{ "bundle", required_argument, NULL, 'b' },     { "fail-on", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },             {}
	};
	struct np_kube_source src = { 0 };
	struct opts o = { .cmd = "fleet", .output = "text" };
	const char *selector = NULL, *ns = getenv("POD_NAMESPACE") ? getenv("POD_NAMESPACE") : "nodeprint";
	const char *klass = NULL, *bundle = NULL;
	bool fail_drift = false, fail_unknown = false;
	uint64_t page = 500;
	int c;
	while ((c = getopt_long(argc, argv, ":o:h", lo, NULL)) != -1) {
		switch (c) {
		case 'k': src.kubeconfig = optarg; break;
		case 'c': src.context = optarg; break;
		case 'P': o.policy = optarg; break;
		case 'o': o.output = optarg; break;
		case 'l' + 1: selector = optarg; break;
		case 'n': ns = optarg; break;
		case 'C': klass = optarg; break;
		case 'b': bundle = optarg; break;
		case 'F':
			if (fleet_fail_on(optarg, &fail_drift, &fail_unknown) < 0) {
				fprintf(stderr, "nodeprint fleet: --fail-on: expected drift, unknown or drift,unknown, "
						"got '%s'\n", optarg);
				return NP_EXIT_USAGE;
			}
			break;
		case 'l':
			if (np_parse_u64(optarg, &page) < 0 || page == 0 || page > 5000) {
				fprintf(stderr, "nodeprint fleet: --page-size: expected 1 to 5000, got '%s'\n", optarg);
				return NP_EXIT_USAGE;
			}
			break;
		case 'h': fleet_usage(); return NP_EXIT_OK;
		default: return np_cli_bad_option("fleet", c, argv);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "nodeprint fleet: unexpected argument '%s' (nodeprint fleet --help)\n", argv[optind]);
		return NP_EXIT_USAGE;
	}
	if (np_cli_format("fleet", o.output, &o.fmt) < 0)
		return NP_EXIT_USAGE;
	struct np_policy pol;
	if (load_policy(&o, &pol) < 0)
		return 2;
	/* --class is a label selector: the API server sends only that class's Nodes */
	_cleanup_free_ char *sel = klass ? np_asprintf("%s%s%s/class=%s", selector ? selector : "", selector ? "," : "",
						       pol.label_prefix, klass)
					 : NULL;
	struct np_kube_config cfg;
	struct np_kube_client *kc = NULL;
	char *err = NULL;
	int r = klass && !sel ? -ENOMEM : np_kube_config_auto(&src, &cfg, &err);
	/* pages are read one after another, never in parallel: the agent's 5 QPS would make 5,000
	 * Nodes in pages of 100 wait 8 s for tokens (docs/scale.md); 50 QPS, burst 100 as a CLI */
	struct np_kube_client_opts co = { .qps = 50, .burst = 100 };
	if (r >= 0)
		r = np_kube_client_new(&cfg, &co, &kc, &err);
	struct np_fleet f = { .pol = &pol, .show_bundle = bundle };
	if (r >= 0) { /* only metadata travels: labels and annotations are all fleet reads of a Node */
		np_kube_client_set_accept(kc, NP_KUBE_ACCEPT_METADATA);
		r = np_kube_list(kc, "/api/v1/nodes", sel ? sel : selector, NULL, (unsigned)page, fleet_page, &f, &err);
		np_kube_client_set_accept(kc, NULL);
	}
	if (r >= 0)
		r = np_fleet_finish(&f);
	if (r >= 0) { /* the baselines are an addition: a refusal to list them is shown, not fatal */
		char *berr = NULL;
		int br = np_kube_baselines_list(kc, ns, fleet_baselines, &f, &berr);
		if (br < 0)
			f.bench_error = berr ? berr : strdup(strerror(-br));
		else
			free(berr);
		if (br == -ENOMEM)
			r = br;
	}
	if (r < 0) {
		fprintf(stderr, "nodeprint fleet: %s\n", err ? err : strerror(-r));
	} else if (o.fmt != NP_FMT_TEXT) {
		json_t *j = np_fleet_to_json(&f);
		r = np_cli_dump(j, o.fmt);
		json_decref(j);
	} else {
		np_fleet_print(&f, stdout);
		r = fflush(stdout) == 0 ? 0 : -errno;
	}
	int rc = r < 0 ? NP_EXIT_ERROR : NP_EXIT_OK;
	if (r >= 0 && fail_drift && np_fleet_nodes_with(&f, NP_FLEET_DRIFT))
		rc = NP_EXIT_FINDINGS;
	else if (r >= 0 && fail_unknown && np_fleet_nodes_with(&f, NP_FLEET_UNKNOWN))
		rc = NP_EXIT_BLIND;
	free(err);
	np_fleet_free(&f);
	np_kube_client_free(kc);
	np_policy_free(&pol);
	return rc;
}

/* collectors and version take no option but --help. Returns -1 to go on, else an exit code. */
static int no_options(const char *cmd, int argc, char **argv, const char *help)
{
	if (argc == 1)
		return -1;
	if (argc == 2 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
		printf("Usage: nodeprint %s\n%s", cmd, help);
		return NP_EXIT_OK;
	}
	fprintf(stderr, "nodeprint %s: unexpected argument '%s' (nodeprint %s --help)\n", cmd, argv[1], cmd);
	return NP_EXIT_USAGE;
}

static int cmd_collectors(int argc, char **argv)
{
	int r = no_options("collectors", argc, argv, "The report sections, in collection order (for --only).\n");
	if (r >= 0)
		return r;
	for (const struct np_section *const *s = np_sections(NULL); s && *s; s++)
		printf("%s\n", (*s)->name);
	return NP_EXIT_OK;
}

static int cmd_version(int argc, char **argv)
{
	int r = no_options("version", argc, argv, "Print \"nodeprint VERSION\".\n");
	if (r >= 0)
		return r;
	printf("nodeprint %s\n", NODEPRINT_VERSION);
	return NP_EXIT_OK;
}

static int dispatch(const char *cmd, int argc, char **argv)
{
	if (streq(cmd, "inspect"))
		return run_report(argc, argv, true);
	if (streq(cmd, "plan"))
		return run_report(argc, argv, false);
	if (streq(cmd, "policy"))
		return cmd_policy(argc, argv);
	if (streq(cmd, "run"))
		return cmd_run(argc, argv);
	if (streq(cmd, "fleet"))
		return cmd_fleet(argc, argv);
	if (streq(cmd, "cleanup"))
		return np_cmd_cleanup(argc, argv);
	if (streq(cmd, "baseline"))
		return np_cmd_baseline(argc, argv);
	if (streq(cmd, "collectors"))
		return cmd_collectors(argc, argv);
	if (streq(cmd, "kube"))
		return np_cmd_kube(argc, argv);
	if (streq(cmd, "version") || streq(cmd, "--version") || streq(cmd, "-V"))
		return cmd_version(argc, argv);
	fprintf(stderr, "nodeprint: unknown command '%s' (nodeprint --help lists them)\n", cmd);
	return NP_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return NP_EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (streq(cmd, "help") || streq(cmd, "--help") || streq(cmd, "-h")) {
		if (argc == 2) {
			usage(stdout);
			return NP_EXIT_OK;
		}
		/* nodeprint help COMMAND = nodeprint COMMAND --help */
		char *argv2[] = { argv[2], "--help", NULL };
		return dispatch(argv[2], 2, argv2);
	}
	return dispatch(cmd, argc - 1, argv + 1);
}
