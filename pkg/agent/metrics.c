// SPDX-License-Identifier: Apache-2.0
/* metrics.c - Prometheus exposition and the /metrics, /healthz, /readyz endpoint. */
#define _GNU_SOURCE
#include "metrics.h"
#include "mhd_dl.h"
#include "process.h"
#include "../policy/blind.h"
#include "../report/expo.h"
#include "../report/section.h"
#include "../shared/log.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"
#include "../shared/version.h"

#include <arpa/inet.h>
#include <limits.h>
#include <microhttpd.h>
#include <string.h>

void np_histogram_init(struct np_histogram *h)
{
	static const double b[NP_HIST_BUCKETS] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 10 };
	*h = (struct np_histogram){ 0 };
	memcpy(h->bounds, b, sizeof(b));
}

void np_histogram_init_cycle(struct np_histogram *h)
{
	static const double b[NP_HIST_BUCKETS] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 10, 60 };
	*h = (struct np_histogram){ 0 };
	memcpy(h->bounds, b, sizeof(b));
}

void np_histogram_observe(struct np_histogram *h, double s)
{
	for (size_t i = 0; i < NP_HIST_BUCKETS; i++)
		if (s <= h->bounds[i]) {
			h->counts[i]++;
			break;
		}
	h->count++;
	h->sum += s;
}

static size_t count_finding(const struct np_desired *d, const char *id)
{
	size_t c = 0;
	for (size_t j = 0; j < d->n_findings; j++)
		c += streq(d->findings[j].id, id);
	return c;
}

/*
 * One series per known finding (the policy's actions, source-unreadable) even when all is well,
 * so an alert on "> 0" and a dashboard see 0 rather than nothing; then any other id present.
 */
static void render_findings(FILE *f, const struct np_desired *d, const struct np_policy *pol)
{
	const char *ids[64];
	size_t n = 0;
	for (size_t i = 0; pol && i < pol->n_actions && n < ARRAY_SIZE(ids) - 1; i++)
		ids[n++] = pol->actions[i].finding;
	ids[n++] = NP_FINDING_SOURCE_UNREADABLE;
	for (size_t i = 0; i < d->n_findings && n < ARRAY_SIZE(ids); i++) {
		bool dup = false;
		for (size_t j = 0; j < n; j++)
			dup = dup || streq(ids[j], d->findings[i].id);
		if (!dup)
			ids[n++] = d->findings[i].id;
	}
	np_expo_help(f, "nodeprint_findings", "gauge", "Subjects (devices, maps, the bundle) with the finding now, by finding id.");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "nodeprint_findings{finding=\"%s\"} %zu\n", np_expo_esc(ids[i]), count_finding(d, ids[i]));
	np_expo_help(f, "nodeprint_finding_active", "gauge", "1 while the finding is present, 0 when clear, by finding id.");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "nodeprint_finding_active{finding=\"%s\"} %d\n", np_expo_esc(ids[i]), count_finding(d, ids[i]) > 0);
}

static void render_info(FILE *f, const struct np_report *r, const struct np_desired *d, const struct np_policy *pol)
{
	np_expo_help(f, "nodeprint_build_info", "gauge", "The running nodeprint, always 1.");
	fprintf(f, "nodeprint_build_info{version=\"%s\"} 1\n", NODEPRINT_VERSION);
	if (!r)
		return;
	np_expo_help(f, "nodeprint_bundle_info", "gauge", "The node's driver bundle fingerprint, always 1.");
	fprintf(f, "nodeprint_bundle_info{hash=\"%s\",state=\"%s\",class=\"%s\",kernel=\"%s\"} 1\n", np_expo_esc(r->bundle.hash),
		np_expo_esc(d && d->bundle_state ? d->bundle_state : "unknown"), np_expo_esc(d && d->klass ? d->klass : ""),
		np_expo_esc(r->kernel.release));
	if (d)
		render_findings(f, d, pol);
}

static void render_sources(FILE *f, const struct np_report *r)
{
	_cleanup_(np_sources_free) struct np_sources src = { 0 };
	np_report_sources(r, &src);
	np_expo_help(f, "nodeprint_source_up", "gauge",
	     "1 when every input of the source was read, 0 when not (its conditions are Unknown).");
	for (size_t i = 0; i < src.n; i++)
		fprintf(f, "nodeprint_source_up{source=\"%s\"} %d\n", src.v[i].name, src.v[i].up);
}

static void render_histogram(FILE *f, const char *name, const char *text, const struct np_histogram *h)
{
	np_expo_help(f, name, "histogram", text);
	uint64_t cum = 0;
	for (size_t i = 0; i < NP_HIST_BUCKETS; i++) {
		cum += h->counts[i];
		fprintf(f, "%s_bucket{le=\"%g\"} %llu\n", name, h->bounds[i], (unsigned long long)cum);
	}
	fprintf(f, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)h->count);
	fprintf(f, "%s_sum %.6f\n", name, h->sum);
	fprintf(f, "%s_count %llu\n", name, (unsigned long long)h->count);
}

static void render_agent(FILE *f, const struct np_agent_stats *st)
{
	render_histogram(f, "nodeprint_collection_duration_seconds", "Time to collect one report.", &st->collect_seconds);
	render_histogram(f, "nodeprint_cycle_duration_seconds",
			 "Time of one whole cycle: collect, judge and publish to the API.", &st->cycle_seconds);
	np_expo_help(f, "nodeprint_cycles_total", "counter", "Cycles run, successful or not.");
	fprintf(f, "nodeprint_cycles_total %lu\n", st->cycles);
	np_expo_help(f, "nodeprint_last_cycle_success_timestamp_seconds", "gauge",
	     "When a cycle last collected, judged and (with a cluster) published, Unix seconds; 0 = never. "
	     "An agent that answers but no longer cycles shows here.");
	fprintf(f, "nodeprint_last_cycle_success_timestamp_seconds %.3f\n", st->last_success);
	np_expo_help(f, "nodeprint_events_sent_total", "counter", "Kubernetes Events created or updated.");
	fprintf(f, "nodeprint_events_sent_total %lu\n", st->events_sent);
	np_expo_help(f, "nodeprint_events_suppressed_total", "counter", "Events held back by the per object and reason rate limit.");
	fprintf(f, "nodeprint_events_suppressed_total %lu\n", st->events_suppressed);
	np_expo_help(f, "nodeprint_safety_valve_refusals_total", "counter", "NoSchedule/NoExecute taints the safety valve refused.");
	fprintf(f, "nodeprint_safety_valve_refusals_total %lu\n", st->valve_refusals);
	np_expo_help(f, "nodeprint_multipath_path_flaps_total", "counter", "Multipath path failed-to-active transitions.");
	fprintf(f, "nodeprint_multipath_path_flaps_total %lu\n", st->flaps_total);
	if (!st->api)
		return;
	np_expo_help(f, "nodeprint_api_requests_total", "counter", "Kubernetes API requests by verb and HTTP status code (0 = no answer).");
	for (size_t i = 0; i < st->api->n_by_code; i++)
		fprintf(f, "nodeprint_api_requests_total{verb=\"%s\",code=\"%ld\"} %lu\n", np_expo_esc(st->api->by_code[i].verb),
			st->api->by_code[i].code, st->api->by_code[i].n);
}

int np_metrics_render(FILE *f, const struct np_report *r, const struct np_desired *d, const struct np_agent_stats *st)
{
	render_info(f, r, d, st ? st->policy : NULL);
	if (r) {
		render_sources(f, r);
		struct np_metrics_opts o = { .all_block_devices = st && st->all_block_devices };
		for (const struct np_section *const *s = np_sections(NULL); s && *s; s++)
			if ((*s)->metrics)
				(*s)->metrics->render(f, r, &o);
	}
	if (st)
		render_agent(f, st);
	np_process_metrics_render(f);
	return ferror(f) ? -EIO : 0;
}

/* ---- the endpoint ---- */

struct np_metrics_server {
	struct MHD_Daemon *d;
	int (*render)(FILE *f, void *ud);
	bool (*ready)(void *ud);
	void *ud;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *type, char *body, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	enum MHD_Result ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *version, const char *upload, size_t *upload_len, void **con_cls)
{
	(void)version;
	(void)upload;
	(void)upload_len;
	(void)con_cls;
	struct np_metrics_server *s = cls;
	if (!streq(method, "GET") && !streq(method, "HEAD"))
		return reply(c, 405, "text/plain", strdup("method not allowed\n"), 19);
	if (streq(url, "/healthz"))
		return reply(c, 200, "text/plain", strdup("ok\n"), 3);
	if (streq(url, "/readyz")) {
		bool ok = s->ready(s->ud);
		char *b = strdup(ok ? "ok\n" : "not ready: no cycle completed yet\n");
		return reply(c, ok ? 200 : 503, "text/plain", b, b ? strlen(b) : 0);
	}
	if (!streq(url, "/metrics") || !s->render) /* --health-address: probes only */
		return reply(c, 404, "text/plain", strdup("not found\n"), 10);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return MHD_NO;
	int r = s->render(f, s->ud);
	if (fclose(f) != 0 || r < 0) {
		free(buf);
		return reply(c, 500, "text/plain", strdup("render failed\n"), 14);
	}
	return reply(c, 200, "text/plain; version=0.0.4; charset=utf-8", buf, len);
}

static int parse_addr(const char *addr, struct sockaddr_storage *ss)
{
	_cleanup_free_ char *host = NULL;
	const char *colon = strrchr(addr, ':');
	uint64_t port;
	if (!colon || np_parse_u64(colon + 1, &port) < 0 || port == 0 || port > 65535)
		return -EINVAL;
	host = strndup(addr, (size_t)(colon - addr));
	if (!host)
		return -ENOMEM;
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[') {
		size_t l = strlen(host);
		if (l < 2 || host[l - 1] != ']')
			return -EINVAL;
		host[l - 1] = '\0';
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		return inet_pton(AF_INET6, host + 1, &a6->sin6_addr) == 1 ? 0 : -EINVAL;
	}
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	a4->sin_family = AF_INET;
	a4->sin_port = htons((uint16_t)port);
	if (!*host)
		return 0; /* ":20270": every IPv4 address */
	return inet_pton(AF_INET, host, &a4->sin_addr) == 1 ? 0 : -EINVAL;
}

int np_metrics_start(const char *addr, struct np_metrics_server **out,
		     int (*render)(FILE *f, void *ud), bool (*ready)(void *ud), void *ud)
{
	struct sockaddr_storage ss;
	int r = parse_addr(addr, &ss);
	if (r < 0)
		return r;
	const char *why = NULL;
	r = np_mhd_load(&why);
	if (r < 0) {
		np_log(NP_LOG_ERROR, "metrics endpoint", "error=\"%s\"", why);
		return r;
	}
	struct np_metrics_server *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	*s = (struct np_metrics_server){ .render = render, .ready = ready, .ud = ud };
	unsigned flags = MHD_USE_EPOLL | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
	s->d = MHD_start_daemon(flags, 0, NULL, NULL, handle, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				MHD_OPTION_CONNECTION_LIMIT, 16u, MHD_OPTION_PER_IP_CONNECTION_LIMIT, 4u,
				MHD_OPTION_CONNECTION_TIMEOUT, 5u, MHD_OPTION_END);
	if (!s->d) {
		int e = errno ? -errno : -EADDRINUSE;
		free(s);
		return e;
	}
	*out = s;
	return 0;
}

int np_metrics_fd(const struct np_metrics_server *s)
{
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_EPOLL_FD);
	return i ? i->epoll_fd : -1;
}

void np_metrics_run(struct np_metrics_server *s)
{
	MHD_run(s->d);
}

int np_metrics_timeout_ms(struct np_metrics_server *s)
{
	MHD_UNSIGNED_LONG_LONG t;
	if (!s || MHD_get_timeout(s->d, &t) != MHD_YES)
		return -1;
	return t > INT_MAX ? INT_MAX : (int)t;
}

void np_metrics_stop(struct np_metrics_server *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->d);
	free(s);
}
