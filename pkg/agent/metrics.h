/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics.h - Prometheus text exposition (format 0.0.4) of the last report
 * (what every source could read, then each section's families from its
 * metrics hook, section.h) and the agent's own counters, and the HTTP endpoint (libmicrohttpd, run
 * from the agent's epoll loop: no thread) serving /metrics, /healthz, /readyz.
 * Names: nodeprint_ prefix, base units as suffixes (_celsius, _ratio,
 * _seconds, _total), per https://prometheus.io/docs/practices/naming/.
 */
#pragma once

#include "../kube/transport.h"
#include "../policy/desired.h"
#include "../policy/policy.h"
#include "../report/report.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define NP_HIST_BUCKETS 10

struct np_histogram {
	double bounds[NP_HIST_BUCKETS]; /* upper bounds, seconds */
	uint64_t counts[NP_HIST_BUCKETS]; /* cumulative at render time, per bucket here */
	uint64_t count;
	double sum;
};

/* Collection-duration buckets: 1 ms .. 10 s. */
void np_histogram_init(struct np_histogram *h);
/* Cycle-duration buckets: 5 ms .. 60 s (a cycle may wait on API retries). */
void np_histogram_init_cycle(struct np_histogram *h);
void np_histogram_observe(struct np_histogram *h, double seconds);

struct np_agent_stats {
	struct np_histogram collect_seconds;
	struct np_histogram cycle_seconds; /* collect + judge + publish, np_histogram_init_cycle() */
	double last_success;              /* Unix seconds a cycle last collected, judged and (with a cluster) published; 0 = never */
	const struct np_policy *policy;   /* its actions name the known findings (a series each, 0 when clear) */
	bool all_block_devices;           /* --metrics-all-devices: loop, ram and zram devices too */
	unsigned long cycles, publish_errors;
	unsigned long events_sent, events_suppressed, valve_refusals;
	unsigned long flaps_total;        /* multipath failed->active transitions counted */
	const struct np_kube_stats *api;  /* NULL without a cluster */
	bool ready;                       /* a cycle has completed (and published, with a cluster) */
};

/*
 * np_metrics_render() - write the exposition of @r (may be NULL before the
 * first cycle), @d (may be NULL) and @st to @f. Returns 0 or -EIO.
 */
int np_metrics_render(FILE *f, const struct np_report *r, const struct np_desired *d, const struct np_agent_stats *st);

struct np_metrics_server;

/*
 * np_metrics_start() - listen on @addr ("127.0.0.1:20270", ":20270", "[::1]:20270").
 * The caller adds np_metrics_fd() to its epoll set and calls
 * np_metrics_run() when it is readable. The snapshot functions are called
 * on each request; @render NULL serves only /healthz and /readyz (/metrics is 404). Returns 0 or -errno (-EINVAL for a bad address,
 * -EADDRINUSE, ...).
 */
int np_metrics_start(const char *addr, struct np_metrics_server **out,
		     int (*render)(FILE *f, void *ud), bool (*ready)(void *ud), void *ud);
int np_metrics_fd(const struct np_metrics_server *s);
void np_metrics_run(struct np_metrics_server *s);
/*
 * np_metrics_timeout_ms() - how long the caller may wait before calling
 * np_metrics_run() even when the fd stays quiet (libmicrohttpd closes idle
 * and slow connections, 5 s, only when it runs): milliseconds, 0 = now, -1 =
 * no deadline. @s may be NULL (-1).
 */
int np_metrics_timeout_ms(struct np_metrics_server *s);
void np_metrics_stop(struct np_metrics_server *s);
