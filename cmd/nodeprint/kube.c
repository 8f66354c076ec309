// SPDX-License-Identifier: Apache-2.0
/*
 * `nodeprint kube`: the Kubernetes client from the command line, for debugging a cluster
 * connection and for the integration tests (tests/kube/test_client.sh). Prints JSON on
 * stdout; the client's counters ("kube: requests=N retries=N ...") on stderr.
 */
#define _GNU_SOURCE
#include "kube.h"
#include "cli.h"
#include "../../pkg/kube/api.h"
#include "../../pkg/kube/config.h"
#include "../../pkg/kube/util.h"
#include "../../pkg/shared/macro.h"
#include "../../pkg/shared/strutil.h"

#include <getopt.h>
#include <inttypes.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: nodeprint kube [OPTIONS] VERB ARGS\n"
		"  get-node NAME                     the Node as JSON\n"
		"  get PATH                          any object as JSON (e.g. /api/v1/persistentvolumes/pv1)\n"
		"  patch-node NAME PATCH             --type merge|strategic|json, --status for nodes/status\n"
		"  list PATH                         every item's metadata.name, page by page (--limit N,\n"
		"                                    --selector S, --field-selector S)\n"
		"  pods-on-node NODE                 names of the pods on NODE (namespace/name)\n"
		"  taint NAME KEY[=VALUE]:EFFECT     add a taint (read-modify-write, resourceVersion guarded)\n"
		"  taint NAME KEY-                   remove every taint with KEY\n"
		"  event NODE REASON MESSAGE         create an Event about the Node (--api core|events)\n"
		"  watch-node NAME                   print each watch event (--timeout S, --rv RV)\n"
		"Options: --kubeconfig FILE, --context NAME, --qps N, --burst N, --sa-prefix DIR\n");
}

struct kopts {
	struct np_kube_source src;
	const char *type, *selector, *field_selector, *api, *rv;
	bool status;
	unsigned limit, timeout_s, burst;
	double qps;
};

static int parse(int argc, char **argv, struct kopts *o)
{
	static const struct option lo[] = {
		{ "kubeconfig", required_argument, NULL, 'k' }, { "context", required_argument, NULL, 'c' },
		{ "qps", required_argument, NULL, 'q' },        { "burst", required_argument, NULL, 'b' },
		{ "sa-prefix", required_argument, NULL, 'S' },  { "type", required_argument, NULL, 't' },
		{ "status", no_argument, NULL, 's' },           { "selector", required_argument, NULL, 'l' },
		{ "field-selector", required_argument, NULL, 'f' }, { "limit", required_argument, NULL, 'n' },
		{ "api", required_argument, NULL, 'a' },        { "timeout", required_argument, NULL, 'T' },
		{ "rv", required_argument, NULL, 'r' },         { "help", no_argument, NULL, 'h' },
		{}
	};
	uint64_t v;
	int c;

	while ((c = getopt_long(argc, argv, ":l:h", lo, NULL)) != -1) {
		switch (c) {
		case 'k': o->src.kubeconfig = optarg; break;
		case 'c': o->src.context = optarg; break;
		case 'S': o->src.sa_prefix = optarg; break;
		case 't': o->type = optarg; break;
		case 's': o->status = true; break;
		case 'l': o->selector = optarg; break;
		case 'f': o->field_selector = optarg; break;
		case 'a': o->api = optarg; break;
		case 'r': o->rv = optarg; break;
		case 'q':
			if (np_parse_double(optarg, &o->qps) < 0) {
				fprintf(stderr, "nodeprint kube: --qps: expected a number, got '%s'\n", optarg);
				return -EINVAL;
			}
			break;
		case 'b': case 'n': case 'T':
			if (np_parse_u64(optarg, &v) < 0 || v > 1000000) {
				fprintf(stderr, "nodeprint kube: --%s: expected 0 to 1000000, got '%s'\n", c == 'b' ? "burst" : c == 'n' ? "limit" : "timeout", optarg);
				return -EINVAL;
			}
			*(c == 'b' ? &o->burst : c == 'n' ? &o->limit : &o->timeout_s) = (unsigned)v;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			np_cli_bad_option("kube", c, argv);
			return -EINVAL;
		}
	}
	return 0;
}

static int print_json(json_t *j)
{
	int r = json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0 ? -EIO : 0;
	fputc('\n', stdout);
	return r;
}

static int page_names(json_t *page, void *ud)
{
	json_t *it;
	size_t i;
	(*(unsigned *)ud)++;
	json_array_foreach(json_object_get(page, "items"), i, it) {
		json_t *md = json_object_get(it, "metadata");
		const char *ns = json_string_value(json_object_get(md, "namespace"));
		printf("%s%s%s\n", ns ? ns : "", ns ? "/" : "", json_string_value(json_object_get(md, "name")));
	}
	return 0;
}

struct taint_edit {
	char *key, *value, *effect;
	bool remove;
};

static int edit_taints(json_t *taints, void *ud)
{
	struct taint_edit *e = ud;
	bool changed = false;
	json_t *t;
	size_t i;

	for (i = json_array_size(taints); i-- > 0;) {
		t = json_array_get(taints, i);
		const char *k = json_string_value(json_object_get(t, "key"));
		const char *eff = json_string_value(json_object_get(t, "effect"));
		if (!k || !streq(k, e->key))
			continue;
		if (!e->remove && eff && streq(eff, e->effect))
			return 0; /* already there */
		if (e->remove) {
			json_array_remove(taints, i);
			changed = true;
		}
	}
	if (!e->remove) {
		t = json_pack("{s:s,s:s}", "key", e->key, "effect", e->effect);
		if (t && e->value)
			json_object_set_new(t, "value", json_string(e->value));
		if (!t || json_array_append_new(taints, t) < 0)
			return -ENOMEM;
		changed = true;
	}
	return changed ? 1 : 0;
}

static int parse_taint(const char *spec, struct taint_edit *e)
{
	size_t n = strlen(spec);

	if (n > 1 && spec[n - 1] == '-') {
		e->remove = true;
		e->key = strndup(spec, n - 1);
		return e->key ? 0 : -ENOMEM;
	}
	const char *colon = strrchr(spec, ':');
	if (!colon || (!streq(colon + 1, "NoSchedule") && !streq(colon + 1, "PreferNoSchedule") &&
		       !streq(colon + 1, "NoExecute")))
		return -EINVAL;
	e->effect = strdup(colon + 1);
	e->key = strndup(spec, (size_t)(colon - spec));
	char *eq = e->key ? strchr(e->key, '=') : NULL;
	if (eq) {
		*eq = '\0';
		e->value = strdup(eq + 1);
	}
	return e->key && e->effect ? 0 : -ENOMEM;
}

static int watch_print(const char *type, json_t *obj, void *ud)
{
	(void)ud;
	const char *rv = json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
	printf("%s %s\n", type, rv ? rv : "");
	fflush(stdout);
	return 0;
}

static int run_verb(struct np_kube_client *c, struct kopts *o, int argc, char **argv, char **err)
{
	const char *verb = argv[0];
	json_t *j = NULL;
	int r;

#define NEED(n) \
	if (argc != (n) + 1) \
	return np_kube_seterr(err, -EINVAL, "%s: expected %d argument(s)", verb, n)
	if (streq(verb, "get-node")) {
		NEED(1);
		if ((r = np_kube_get_node(c, argv[1], &j, err)) >= 0)
			r = print_json(j);
	} else if (streq(verb, "get")) {
		NEED(1);
		if ((r = np_kube_get(c, argv[1], &j, err)) >= 0)
			r = print_json(j);
	} else if (streq(verb, "patch-node")) {
		NEED(2);
		const char *t = o->type ? o->type : "merge";
		enum np_patch_type pt = streq(t, "json") ? NP_PATCH_JSON : streq(t, "strategic") ? NP_PATCH_STRATEGIC : NP_PATCH_MERGE;
		if (!streq(t, "json") && !streq(t, "strategic") && !streq(t, "merge"))
			return np_kube_seterr(err, -EINVAL, "--type: expected merge, strategic or json");
		if ((r = np_kube_patch_node(c, argv[1], o->status, pt, argv[2], &j, err)) >= 0)
			r = print_json(j);
	} else if (streq(verb, "list") || streq(verb, "pods-on-node")) {
		NEED(1);
		unsigned pages = 0;
		r = streq(verb, "list") ? np_kube_list(c, argv[1], o->selector, o->field_selector, o->limit, page_names, &pages, err)
					: np_kube_list_pods_on_node(c, argv[1], o->limit, page_names, &pages, err);
		fprintf(stderr, "kube: pages=%u\n", pages);
	} else if (streq(verb, "taint")) {
		NEED(2);
		struct taint_edit e = { 0 };
		r = parse_taint(argv[2], &e);
		if (r == -EINVAL)
			np_kube_seterr(err, r, "taint '%s': expected KEY[=VALUE]:EFFECT or KEY-", argv[2]);
		if (r >= 0)
			r = np_kube_node_taints_update(c, argv[1], edit_taints, &e, 0, err);
		if (r >= 0)
			printf("%s\n", r ? "changed" : "unchanged");
		free(e.key);
		free(e.value);
		free(e.effect);
	} else if (streq(verb, "event")) {
		NEED(3);
		bool v1 = o->api && streq(o->api, "events");
		_cleanup_free_ char *name = np_asprintf("%s.np%" PRIx64, argv[1], (uint64_t)time(NULL) * 1000003u ^ (uint64_t)getpid());
		char ts[32];
		time_t now = time(NULL);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
		json_t *ref = json_pack("{s:s,s:s,s:s}", "apiVersion", "v1", "kind", "Node", "name", argv[1]);
		json_t *ev = v1 ? json_pack("{s:s,s:s,s:{s:s,s:s},s:O,s:s,s:s,s:s,s:s,s:s,s:s}", "apiVersion", "events.k8s.io/v1",
					    "kind", "Event", "metadata", "name", name, "namespace", "default", "regarding", ref,
					    "reason", argv[2], "note", argv[3], "type", "Warning", "action", "Observed",
					    "reportingController", "nodeprint.io/agent", "reportingInstance", argv[1])
				: json_pack("{s:s,s:s,s:{s:s,s:s},s:O,s:s,s:s,s:s,s:{s:s,s:s},s:s,s:s,s:i}", "apiVersion", "v1", "kind",
					    "Event", "metadata", "name", name, "namespace", "default", "involvedObject", ref,
					    "reason", argv[2], "message", argv[3], "type", "Warning", "source", "component",
					    "nodeprint", "host", argv[1], "firstTimestamp", ts, "lastTimestamp", ts, "count", 1);
		if (v1 && ev)
			json_object_set_new(ev, "eventTime", json_string(ts));
		r = ev ? np_kube_create_event(c, v1 ? NP_EVENTS_V1 : NP_EVENTS_CORE_V1, "default", ev, &j, err) : -ENOMEM;
		if (r >= 0)
			r = print_json(j);
		json_decref(ev);
		json_decref(ref);
	} else if (streq(verb, "watch-node")) {
		NEED(1);
		r = np_kube_watch_node(c, argv[1], o->rv, o->timeout_s, watch_print, NULL, err);
	} else {
		return np_kube_seterr(err, -EINVAL, "unknown verb '%s'", verb);
	}
#undef NEED
	json_decref(j);
	return r;
}

int np_cmd_kube(int argc, char **argv)
{
	struct kopts o = { 0 };
	struct np_kube_config cfg;
	struct np_kube_client *c = NULL;
	char *err = NULL;
	int r;

	if (parse(argc, argv, &o) < 0)
		return NP_EXIT_USAGE;
	if (optind >= argc) {
		fprintf(stderr, "nodeprint kube: expected a VERB (nodeprint kube --help)\n");
		return NP_EXIT_USAGE;
	}
	struct np_kube_client_opts co = { .qps = o.qps, .burst = o.burst };
	r = np_kube_config_auto(&o.src, &cfg, &err);
	if (r >= 0)
		r = np_kube_client_new(&cfg, &co, &c, &err);
	if (r >= 0)
		r = run_verb(c, &o, argc - optind, argv + optind, &err);
	if (c) {
		const struct np_kube_stats *s = np_kube_client_stats(c);
		fprintf(stderr, "kube: requests=%u retries=%u auth_refreshes=%u throttled_ms=%" PRIu64 " backoff_ms=%" PRIu64
			" connects=%u http_version=%u\n", s->requests, s->retries, s->auth_refreshes, s->throttled_ms, s->backoff_ms,
			s->connects, s->http_version);
	}
	if (r < 0)
		fprintf(stderr, "nodeprint kube: %s (%s)\n", err ? err : strerror(-r), strerrorname_np(-r));
	free(err);
	np_kube_client_free(c);
	if (fflush(stdout) != 0)
		return 1;
	return r < 0 ? 1 : 0;
}
