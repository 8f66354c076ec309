// SPDX-License-Identifier: Apache-2.0
/* agent.c - the event loop: signals, poll timer, kernel log, policy reload, publish. */
#define _GNU_SOURCE
#include "agent.h"
#include "canary.h"
#include "collect_ctx.h"
#include "metrics.h"
#include "peers.h"
#include "publish.h"
#include "uevent.h"
#include "../collect/block.h"
#include "../collect/collector.h"
#include "../collect/kmsg.h"
#include "../collect/nvme.h"
#include "../kube/retry.h"
#include "../policy/blind.h"
#include "../policy/desired.h"
#include "../policy/health_gpu.h"
#include "../policy/label.h"
#include "../policy/policy.h"
#include "../policy/vocab.h"
#include "../shared/log.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>


struct agent {
	const struct np_agent_opts *o;
	struct np_host host;
	struct np_policy pol;
	struct timespec policy_mtime;
	bool policy_missing;             /* the policy file was gone at the last look (logged once) */
	struct np_kube_config cfg;
	struct np_kube_client *kc;
	struct np_publisher pub;
	struct np_kmsg_follower kmsg;
	bool have_kmsg;
	/* the sections' own state across cycles (stall detector, flap tracker, NVMe polls and last SMART
	 * page): owned by the sections through their hooks, reloaded with the policy */
	struct np_section_states *states;
	struct np_report prev;
	bool have_prev;
	time_t started, prev_at;
	double resync_at;                /* when the Node is next read in full (resync, jittered) */
	uint32_t rng;                    /* jitter of the first cycle and of each resync period */
	unsigned cycles;
	uint64_t facts_gen;              /* device and module events seen: the sections' cached facts go stale */
	uint64_t uevents_received;       /* np_uevent_received() when the kept files were last checked */
	int64_t kept_since_ms;           /* when the kept files were last all closed (np_host_reopen_all()) */
	int64_t facts_again_ms;          /* when to make them stale once more after the last event (0: no) */
	int epfd, sigfd, timerfd;
	int watchfd;                     /* the stall watch between cycles (np_block_watch_stalls()) */
	int64_t woke_us;                 /* CLOCK_MONOTONIC us when the loop last woke: event latency logs */
	int64_t kmsg_read_us;            /* CLOCK_MONOTONIC us of the last read of the kernel log */
	struct np_uevent_monitor *uevents; /* NULL when netlink is refused: polling only */
	bool kicked;                     /* an early cycle is armed */
	bool in_cycle;                   /* a cycle runs (kernel-log records are served between its steps) */
	bool stopping, reload;           /* SIGTERM/SIGINT, SIGHUP seen (maybe during an API backoff) */
	struct np_kube_clock clock;      /* the API client's: backoffs serve metrics and end on SIGTERM */
	int64_t last_cycle_ms;           /* CLOCK_MONOTONIC ms when the last cycle ended */
	struct pending_event {           /* kernel-log Events the API refused: sent again each cycle */
		struct np_event ev;
		time_t at;
	} *pending;
	size_t n_pending;
	struct np_desired last;          /* the last desired state, for metrics */
	struct np_agent_stats stats;
	struct np_metrics_server *metrics;
	struct np_canary canary;         /* on-demand `baseline compare` (--state-dir) */
	struct np_peer_gpus peers;       /* the GPU count the class's other Nodes carry (health.gpu.expectFromPeers) */
};

static time_t now_s(void)
{
	return time(NULL);
}

static int load_policy(struct agent *a, bool first)
{
	struct np_policy p;
	if (!a->o->policy_path)
		return first ? np_policy_default(&a->pol) : 0;
	struct stat st;
	bool have_st = stat(a->o->policy_path, &st) == 0;
	if (have_st && !first && st.st_mtim.tv_sec == a->policy_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == a->policy_mtime.tv_nsec)
		return 0;
	if (!have_st && !first && a->policy_missing)
		return 0; /* said once already */
	char *err = NULL;
	int r = np_policy_load(a->o->policy_path, &p, &err);
	if (r >= 0 && !first && !streq(p.label_prefix, a->pol.label_prefix)) {
		/* the keys under the old prefix would be left behind on the Node, owned by nobody */
		err = np_asprintf("%s: labelPrefix changed from %s to %s: a new prefix needs a restart of the agent",
				  a->o->policy_path, a->pol.label_prefix, p.label_prefix);
		np_policy_free(&p);
		r = -EINVAL;
	}
	if (r < 0) {
		/* a bad new policy keeps the last good one running */
		np_log(NP_LOG_ERROR, first ? "policy rejected" : "policy rejected, keeping the last good one",
		       "error=\"%s\"", err ? err : strerror(-r));
		free(err);
		if (!first && have_st)
			a->policy_mtime = st.st_mtim;
		a->policy_missing = !have_st;
		return first ? r : 0;
	}
	if (!first)
		np_policy_free(&a->pol);
	a->pol = p;
	a->policy_mtime = have_st ? st.st_mtim : (struct timespec){ 0 };
	a->policy_missing = false;
	np_log(NP_LOG_INFO, "policy loaded", "source=%s classes=%zu", a->o->policy_path, p.n_classes);
	return 0;
}

static int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t mono_ms(void)
{
	return mono_us() / 1000;
}

/*
 * Run a cycle soon instead of at the next poll: the timer fires after KICK_MS (events of one
 * fault arrive in bursts: a path fails on every map, a device's uevents come in a row), and
 * never sooner than KICK_GAP_MS after the last cycle ended (a storm of device events costs at
 * most one collection a second); then it keeps its period. A kick while one is armed changes
 * nothing.
 */
#define START_SPREAD_MS 5000
/* udevd runs its rules (a queue setting, the udev database) after the kernel's uevent reached us */
#define FACTS_SETTLE_MS 5000
#define KICK_MS 200
#define KICK_GAP_MS 1000
static void kick(struct agent *a, const char *why)
{
	if (a->kicked || a->timerfd < 0)
		return;
	struct itimerspec its;
	if (timerfd_gettime(a->timerfd, &its) < 0)
		return;
	int64_t left_ms = (int64_t)its.it_value.tv_sec * 1000 + its.it_value.tv_nsec / 1000000;
	/* a record served during a cycle: counted from now, as if that cycle had just ended */
	int64_t delay_ms = (a->in_cycle ? mono_ms() : a->last_cycle_ms) + KICK_GAP_MS - mono_ms();
	if (delay_ms < KICK_MS)
		delay_ms = KICK_MS;
	if (left_ms <= delay_ms)
		return;
	its.it_value = (struct timespec){ delay_ms / 1000, (delay_ms % 1000) * 1000000L };
	if (timerfd_settime(a->timerfd, 0, &its, NULL) == 0) {
		a->kicked = true;
		np_log(NP_LOG_DEBUG, "early cycle", "reason=\"%s\" in_ms=%lld", why, (long long)delay_ms);
	}
}

#define PENDING_MAX 64

static void event_clear(struct np_event *e)
{
	char **f[] = { &e->reason, &e->type, &e->message, &e->kind, &e->name, &e->namespace_, &e->subject, &e->uid };
	for (size_t i = 0; i < ARRAY_SIZE(f); i++)
		free(*f[i]);
	*e = (struct np_event){ 0 };
}

/* Keep a copy of @e to send again (the oldest goes when PENDING_MAX are waiting). */
static void keep_pending(struct agent *a, const struct np_event *e, time_t at)
{
	if (a->n_pending == PENDING_MAX) {
		np_log(NP_LOG_WARN, "event dropped: too many waiting", "reason=%s", a->pending[0].ev.reason);
		event_clear(&a->pending[0].ev);
		memmove(a->pending, a->pending + 1, --a->n_pending * sizeof(*a->pending));
	}
	struct pending_event *np = realloc(a->pending, (a->n_pending + 1) * sizeof(*np));
	if (!np)
		return;
	a->pending = np;
	struct np_event *c = &np[a->n_pending].ev;
	*c = (struct np_event){ .reason = strdup(e->reason), .type = strdup(e->type),
				.message = e->message ? strdup(e->message) : NULL, .kind = strdup(e->kind),
				.name = strdup(e->name), .subject = e->subject ? strdup(e->subject) : NULL };
	if (!c->reason || !c->type || !c->kind || !c->name) {
		event_clear(c);
		return;
	}
	np[a->n_pending++].at = at;
}

/* Send the waiting kernel-log Events in order; stop at the first that fails again. */
static void flush_pending(struct agent *a)
{
	size_t sent = 0;
	for (; sent < a->n_pending; sent++) {
		char *err = NULL;
		int r = np_publish_event(&a->pub, &a->pending[sent].ev, a->pending[sent].at, &err);
		free(err);
		if (r < 0)
			break;
		event_clear(&a->pending[sent].ev);
	}
	memmove(a->pending, a->pending + sent, (a->n_pending - sent) * sizeof(*a->pending));
	a->n_pending -= sent;
}

/* Kernel-log path events become Events at once, feed the flap tracker and wake a cycle. */
static int on_kmsg_record(const struct np_kmsg_record *rec, void *ud)
{
	struct agent *a = ud;
	struct np_kmsg tmp = { .max_events = 4 };
	if (rec->facility != 0)
		return 0; /* only the kernel's own lines: any root process can write to /dev/kmsg */
	if (np_kmsg_add_record(&tmp, rec, 0, NULL) <= 0)
		return 0;
	int64_t classified_us = mono_us();
	const struct np_kmsg_event *e = &tmp.events[tmp.n - 1];
	if (e->kind == NP_KMSG_PATH_FAILED || e->kind == NP_KMSG_PATH_REINSTATED) {
		/* a failing path is the multipath-degraded finding seen early: the policy's action names
		 * its Event (none: no Event); the reinstatement is its Normal counterpart */
		const struct np_action *act = np_policy_action(&a->pol, NP_FINDING_MULTIPATH_DEGRADED);
		const char *failed = act && act->event_reason && *act->event_reason ? act->event_reason : NULL;
		if (e->kind == NP_KMSG_PATH_FAILED && !failed) {
			kick(a, "path failed");
			np_kmsg_free(&tmp);
			return 0;
		}
		struct np_event ev = { .reason = e->kind == NP_KMSG_PATH_FAILED ? (char *)failed : NP_EVENT_PATH_REINSTATED,
				       .type = e->kind == NP_KMSG_PATH_FAILED ? "Warning" : "Normal",
				       .message = e->message, .kind = "Node", .name = (char *)a->o->node_name,
				       .subject = e->device };
		char *err = NULL;
		time_t now = now_s();
		const struct np_kube_stats *ks = a->kc ? np_kube_client_stats(a->kc) : NULL;
		uint64_t throttled_ms = ks ? ks->throttled_ms : 0;
		unsigned connects = ks ? ks->connects : 0;
		int64_t sending_us = mono_us();
		if (a->kc && !a->o->dry_run && (a->n_pending || np_publish_event(&a->pub, &ev, now, &err) < 0)) {
			if (err)
				np_log(NP_LOG_WARN, "event not sent, kept for the next cycle", "reason=%s error=\"%s\"",
				       ev.reason, err);
			keep_pending(a, &ev, now);
		}
		int64_t done_us = mono_us();
		free(err);
		np_log(NP_LOG_INFO, "kernel log", "event=%s device=%s", ev.reason, e->device ? e->device : "-");
		/* where the time goes, CLOCK_MONOTONIC (printk stamps: up to a per-boot offset): record ->
		 * the loop wakes -> classified -> the publisher -> the request answered, of which the API
		 * client's rate limit held it throttle_ms and new connections were made */
		np_log(NP_LOG_DEBUG, "kernel log event latency",
		       "event=%s seq=%llu record_us=%llu wake_ms=%.3f classify_ms=%.3f queue_ms=%.3f request_ms=%.3f "
		       "throttle_ms=%llu connects=%u",
		       ev.reason, (unsigned long long)rec->seq, (unsigned long long)rec->ts_us,
		       (double)(a->woke_us - (int64_t)rec->ts_us) / 1000, (double)(classified_us - a->woke_us) / 1000,
		       (double)(sending_us - classified_us) / 1000, (double)(done_us - sending_us) / 1000,
		       (unsigned long long)((ks ? ks->throttled_ms : 0) - throttled_ms), (ks ? ks->connects : 0) - connects);
		a->woke_us = done_us; /* the next record of this read waited for this one */
		kick(a, ev.reason);
	}
	np_kmsg_free(&tmp);
	return 0;
}

static int skip_record(const struct np_kmsg_record *rec, void *ud)
{
	(void)rec;
	(void)ud;
	return 0;
}

/*
 * The Node as the API has it, read when the publisher holds no copy (start, after an error, at a
 * resync the publisher does itself). Returns 0, or -errno when it cannot be read: then the cycle
 * neither judges nor writes, because without the Node's labels the class would be guessed wrong
 * and a restart would flap labels, conditions and Events.
 */
static int have_node(struct agent *a)
{
	if (!a->kc || a->pub.node_obj)
		return 0;
	json_t *obj = NULL;
	char *err = NULL;
	int r = np_kube_get_node(a->kc, a->o->node_name, &obj, &err);
	if (r < 0) {
		np_log(NP_LOG_WARN, "cannot read the Node: this cycle judges and writes nothing", "node=%s error=\"%s\"",
		       a->o->node_name, err ? err : strerror(-r));
		a->stats.publish_errors++;
	} else {
		a->pub.node_obj = obj;
	}
	free(err);
	return r;
}

/* The policy's Event limits on the publisher's book (kept counts and buckets stay). */
static void apply_event_limits(struct agent *a)
{
	if (!a->kc)
		return;
	a->pub.book.burst = a->pol.event_burst;
	a->pub.book.per_second = a->pol.event_per_minute / 60;
	a->pub.book.aggregate_seconds = a->pol.event_aggregate_seconds;
}

static const struct np_finding *blind_of(const struct np_desired *d)
{
	for (size_t i = 0; i < d->n_findings; i++)
		if (streq(d->findings[i].id, NP_FINDING_SOURCE_UNREADABLE))
			return &d->findings[i];
	return NULL;
}

/* Blind is never healthy, and it is said once: when the set of sources that cannot be read changes. */
static void log_blind(const struct np_desired *before, const struct np_desired *now)
{
	const struct np_finding *b = blind_of(before), *n = blind_of(now);
	if (n && (!b || !streq(b->subject, n->subject)))
		np_log(NP_LOG_WARN, "blind: sources cannot be read, their checks are Unknown", "sources=%s why=\"%s\"",
		       n->subject, n->message);
	else if (!n && b)
		np_log(NP_LOG_INFO, "every source is readable again", "was=%s", b->subject);
}

/*
 * Kernel-log records that arrived during a collection or a publish, served between its steps, at
 * most every KMSG_SERVE_US: a warm cycle of ~1 ms ran a read(2) that found nothing after each of
 * its 17 sections; a record now waits at most that long, or to the cycle's end.
 */
#define KMSG_SERVE_US 2000
static void serve_kmsg(void *ud)
{
	struct agent *a = ud;
	if (!a->have_kmsg)
		return;
	int64_t now = mono_us();
	if (now - a->kmsg_read_us < KMSG_SERVE_US)
		return;
	a->woke_us = a->kmsg_read_us = now;
	np_kmsg_follower_read(&a->kmsg, on_kmsg_record, a);
}

/* This cycle's collection context: the policy's thresholds, the agent's options, the sections' state. */
static struct np_collect_ctx agent_ctx(struct agent *a)
{
	struct np_ctx_overrides ov = { .kubelet_dir = a->o->kubelet_dir, .smart_interval_s = a->o->smart_seconds };
	struct np_collect_ctx ctx = np_collect_ctx_build(&a->host, &a->pol, &ov);
	ctx.states = a->states;
	ctx.facts_gen = a->facts_gen;
	ctx.facts_max_age_s = a->o->facts_seconds > 0 ? a->o->facts_seconds : -1;
	ctx.between = serve_kmsg;
	ctx.between_ud = a;
	return ctx;
}

/*
 * The next full read of the Node after @now: a period drawn in [resync/2, resync] (equal jitter),
 * so agents started together (a rollout, a pool booting, a restart of all) drift apart instead of
 * reading their Nodes in lockstep, and each still reads at least every resync seconds.
 */
static double next_resync(struct agent *a, time_t now)
{
	uint64_t ms = (uint64_t)(a->o->resync_seconds * 1000);
	return (double)now + (double)np_jitter_ms(ms, np_xorshift32(&a->rng)) / 1000.0;
}

static int cycle_once(struct agent *a);

/*
 * A GPU Node: its last report listed a GPU, or its Node carries <prefix>/gpu.count (kept, "0", once
 * every GPU is gone: desired.c). Only a GPU Node's agent LISTs its peers: the other Nodes of a
 * fleet make no request for it.
 */
static bool gpu_node(const struct agent *a, const struct np_node_facts *node)
{
	if (a->have_prev && a->prev.gpu.n)
		return true;
	_cleanup_free_ char *key = np_asprintf("%s/gpu.count", a->pol.label_prefix);
	for (size_t i = 0; key && i < node->n_labels; i++)
		if (streq(node->labels[i].key, key))
			return true;
	return false;
}

/*
 * The class's peers' GPU count for gpu-missing when the class pins none: the class is the one the
 * last cycle matched (none before the first), the LIST at most every peersRefreshSeconds, and only
 * on a GPU Node.
 */
static void peer_facts(struct agent *a, struct np_node_facts *node)
{
	const char *klass = a->last.klass;
	if (!a->kc || !klass || !NP_HEALTH_OF(&a->pol, gpu)->expect_from_peers || !gpu_node(a, node))
		return;
	for (size_t i = 0; i < a->pol.n_classes; i++)
		if (streq(a->pol.classes[i].name, klass) && a->pol.classes[i].expect_gpus >= 0)
			return; /* the class pins its count: no peer needed */
	char *err = NULL;
	int r = np_peer_gpus_refresh(&a->peers, a->kc, a->pol.label_prefix, klass, a->o->node_name,
				     (double)mono_ms() / 1000.0, NP_HEALTH_OF(&a->pol, gpu)->peers_refresh_seconds, &err);
	if (r < 0)
		np_log(NP_LOG_WARN, "listing the class's Nodes for their GPU count failed, retrying later",
		       "class=%s error=\"%s\"", klass, err ? err : "");
	else if (r > 0)
		np_log(NP_LOG_DEBUG, "peers' GPU count", "class=%s peers=%u gpus=%u node=%s", klass, a->peers.peers,
		       a->peers.gpus, a->peers.node ? a->peers.node : "");
	free(err);
	if (a->peers.listed && a->peers.klass && streq(a->peers.klass, klass)) {
		node->peer_gpus = a->peers.gpus;
		node->peer_gpus_node = a->peers.node;
		node->peer_class = a->peers.klass;
	}
}

static void sweep_kept(struct agent *a);

/* One cycle, timed for nodeprint_cycle_duration_seconds. */
static int cycle(struct agent *a)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	a->in_cycle = true;
	int r = cycle_once(a);
	a->in_cycle = false;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	np_histogram_observe(&a->stats.cycle_seconds,
			     (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return r;
}

static int cycle_once(struct agent *a)
{
	if (a->facts_again_ms && mono_ms() >= a->facts_again_ms) {
		a->facts_gen++;
		a->facts_again_ms = 0;
	}
	int r = load_policy(a, false);
	apply_event_limits(a);
	if (have_node(a) < 0) {
		a->cycles++;
		return 0;
	}
	if (a->n_pending && !a->o->dry_run)
		flush_pending(a);
	if (a->kc && !a->o->dry_run) { /* counts the rate limit held back, once a token is there again */
		char *herr = NULL;
		if (np_publish_held_events(&a->pub, now_s(), &herr) < 0)
			np_log(NP_LOG_WARN, "held-back Event counts not sent, retrying next cycle", "error=\"%s\"",
			       herr ? herr : "");
		free(herr);
	}
	struct np_collect_ctx ctx = agent_ctx(a); /* as inspect and plan */
	np_section_states_reload(a->states, &ctx); /* a reloaded policy's thresholds reach the trackers */
	struct np_report rep = { 0 };
	struct np_desired d = { 0 };
	time_t now = now_s();
	struct np_eval_history hist = { .prev = a->have_prev ? &a->prev : NULL, .dt_seconds = (double)(now - a->prev_at) };
	size_t n_labels = 0;
	_cleanup_free_ struct np_kv *labels = a->kc ? np_node_label_facts(a->pub.node_obj, &n_labels) : NULL;
	struct np_node_facts node = { .name = a->o->node_name, .labels = labels, .n_labels = n_labels };
	peer_facts(a, &node);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (r >= 0)
		r = np_collect_all(&ctx, NULL, &rep);
	sweep_kept(a);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	np_histogram_observe(&a->stats.collect_seconds,
			     (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	if (r >= 0)
		r = np_policy_evaluate(&a->pol, &rep, &hist, &node, &d);
	if (r >= 0)
		r = np_canary_step(&a->canary, a->o, &a->pol, a->pub.node_obj, rep.bundle.hash, &d);
	if (r < 0) {
		np_report_free(&rep);
		return r;
	}
	bool settled = (double)(now - a->started) >= a->o->settle_seconds;
	/* another writer may have changed our keys: read the whole Node again now and then */
	if (a->kc && a->o->resync_seconds > 0 && (double)now >= a->resync_at) {
		a->pub.resync = true;
		a->resync_at = next_resync(a, now);
	}
	char *err = NULL;
	bool published = true;
	int64_t publish_us = mono_us();
	if (a->kc && !a->o->dry_run && np_publish(&a->pub, &a->pol, &d, now, settled, &err) < 0) {
		np_log(NP_LOG_WARN, "publish failed, retrying next cycle", "node=%s error=\"%s\"", a->o->node_name,
		       err ? err : "");
		a->stats.publish_errors++;
		published = false;
	}
	free(err);
	a->stats.cycles++;
	a->stats.ready = a->stats.ready || published;
	if (published) {
		struct timespec wall;
		clock_gettime(CLOCK_REALTIME, &wall);
		a->stats.last_success = (double)wall.tv_sec + (double)wall.tv_nsec / 1e9;
	}
	a->stats.events_sent = a->pub.events_sent;
	a->stats.events_suppressed = a->pub.book.suppressed;
	a->stats.valve_refusals = a->pub.valve_refusals;
	a->stats.api = a->kc ? np_kube_client_stats(a->kc) : NULL;
	publish_us = mono_us() - publish_us;
	np_log(NP_LOG_INFO, "cycle", "n=%u bundle=%s state=%s findings=%zu taints=%zu patches_total=%lu events_total=%lu "
	       "collect_ms=%.1f publish_ms=%.1f", a->cycles + 1, rep.bundle.hash, d.bundle_state, d.n_findings,
	       d.n_taints, a->pub.patches, a->pub.events_sent, (double)rep.duration_us / 1000, (double)publish_us / 1000);
	log_blind(&a->last, &d);
	np_desired_free(&a->last);
	a->last = d;
	if (a->have_prev)
		np_report_free(&a->prev);
	a->prev = rep;
	a->have_prev = true;
	a->prev_at = now;
	a->cycles++;
	a->last_cycle_ms = mono_ms();
	return 0;
}

/*
 * The sysfs and procfs files each cycle reads are kept open and read again from offset 0
 * (hostfs.h): no path walk, no file allocated and freed per read. At most a quarter of the
 * descriptors the agent may open, and KEEP_MAX; without, files are opened per read as before.
 */
#define KEEP_MAX 512
static void keep_open(struct agent *a)
{
	struct rlimit rl;
	size_t max = KEEP_MAX;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur / 4 < max)
		max = rl.rlim_cur / 4;
	if (max && np_host_keep_open(&a->host, max) == 0)
		a->kept_since_ms = mono_ms();
}

/* Close the host files kept open between cycles (np_host_keep_open()): the next reads open them afresh. */
static void reopen_kept(struct agent *a)
{
	np_host_reopen_all(&a->host);
	a->kept_since_ms = mono_ms();
}

/*
 * After a pass: the kept files it did not read are closed (read once, or their device went), and
 * all of them at least every facts bound, as the facts are read again: the bound also covers a
 * device event that never reached the agent.
 */
static void sweep_kept(struct agent *a)
{
	if (!a->host.kept)
		return;
	if (mono_ms() - a->kept_since_ms >= (int64_t)(a->o->facts_seconds * 1000))
		reopen_kept(a);
	else
		np_host_sweep_open(&a->host);
}

/* Device events: re-collect soon; an NVMe asynchronous event also makes its logs due now. */
static void on_uevents(struct agent *a)
{
	struct np_uevent ev;
	int r;
	while ((r = np_uevent_next(a->uevents, &ev)) > 0) {
		np_log(NP_LOG_DEBUG, "uevent", "action=%s subsystem=%s device=%s aen=0x%06x", ev.action, ev.subsystem,
		       ev.name, ev.aen);
		if (streq(ev.action, "lost")) /* a topology event: everything is read again soon */
			np_log(NP_LOG_WARN, "device events lost (uevent socket overflowed), facts read again", NULL);
		/* a device or module came, went or changed: cached facts are read again at the next cycle,
		 * and once more FACTS_SETTLE_MS later, after udevd's rules and database caught up */
		a->facts_gen++;
		a->facts_again_ms = mono_ms() + FACTS_SETTLE_MS;
		if (ev.kind == NP_UEVENT_NVME_AEN) {
			struct np_nvme_polls *polls = np_section_state(a->states, "nvme");
			struct np_nvme_poll *p = polls ? np_nvme_polls_get(polls, ev.name) : NULL;
			if (p)
				p->have_smart = false;
			np_log(NP_LOG_INFO, "NVMe asynchronous event", "controller=%s type=%u info=0x%02x log_page=0x%02x",
			       ev.name, ev.aen & 0x7, (ev.aen >> 8) & 0xff, (ev.aen >> 16) & 0xff);
		}
		if (ev.kind != NP_UEVENT_FACTS)
			kick(a, ev.kind == NP_UEVENT_NVME_AEN ? "nvme asynchronous event" : "device event");
	}
	if (r < 0)
		np_log(NP_LOG_WARN, "uevent read", "error=\"%s\"", strerror(-r));
	/* any device event, one the sections ignore too (a veth renamed), or a lost one: a kept file
	 * may belong to a device now under another name, open them all afresh */
	uint64_t n = np_uevent_received(a->uevents);
	if (r < 0 || n != a->uevents_received)
		reopen_kept(a);
	a->uevents_received = n;
}

/*
 * The stall watch: between cycles the block section's detector gets a /proc/diskstats sample
 * whenever one can show a stall begin (np_block_stall_next_ms()), unless the next cycle comes
 * first. WATCH_MIN_MS bounds its rate.
 */
#define WATCH_MIN_MS 100
static void arm_watch(struct agent *a)
{
	if (a->watchfd < 0)
		return;
	struct np_collect_ctx ctx = agent_ctx(a);
	int64_t next = np_block_stall_next_ms(&ctx), now = mono_ms();
	struct itimerspec cyc, its = { 0 }; /* zero: disarmed */
	if (next != INT64_MAX && timerfd_gettime(a->timerfd, &cyc) == 0) {
		int64_t cycle_at = now + (int64_t)cyc.it_value.tv_sec * 1000 + cyc.it_value.tv_nsec / 1000000;
		if (next < now + WATCH_MIN_MS)
			next = now + WATCH_MIN_MS;
		if (next < cycle_at)
			its.it_value = (struct timespec){ next / 1000, (next % 1000) * 1000000L };
	}
	timerfd_settime(a->watchfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/*
 * A stall the watch saw begin: its Events go out now, as the next cycle would send them (the
 * same collectors and policy on the sections the finding reads: block, and volumes for the PV,
 * claim and Pod), through the publisher's aggregation and rate limits; the cycle kicked after it
 * writes the condition and finds the Events already sent.
 */
static void publish_stalls(struct agent *a, const struct np_collect_ctx *ctx, int began)
{
	static char *const only[] = { "block", "volumes", NULL };
	if (!a->pub.primed) { /* before the first publish: the cycle announces it */
		kick(a, "stall");
		return;
	}
	int64_t t0 = mono_us();
	struct np_report rep = { 0 };
	struct np_desired d = { 0 };
	size_t n_labels = 0;
	_cleanup_free_ struct np_kv *labels = np_node_label_facts(a->pub.node_obj, &n_labels);
	struct np_node_facts node = { .name = a->o->node_name, .labels = labels, .n_labels = n_labels };
	int r = np_collect_all(ctx, only, &rep);
	if (r >= 0)
		r = np_policy_evaluate(&a->pol, &rep, NULL, &node, &d);
	int64_t t1 = mono_us();
	char *err = NULL;
	unsigned long sent = a->pub.events_sent;
	if (r >= 0)
		r = np_publish_finding_events(&a->pub, &d, now_s(), &err);
	if (r < 0 && r != -EAGAIN)
		np_log(NP_LOG_WARN, "stall Events not sent, the next cycle tries again", "error=\"%s\"",
		       err ? err : strerror(-r));
	np_log(NP_LOG_INFO, "stall seen between cycles", "began=%d events=%lu collect_ms=%.3f publish_ms=%.3f", began,
	       a->pub.events_sent - sent, (double)(t1 - t0) / 1000, (double)(mono_us() - t1) / 1000);
	free(err);
	np_desired_free(&d);
	np_report_free(&rep);
	kick(a, "stall");
}

static void on_watch(struct agent *a)
{
	uint64_t ticks;
	if (read(a->watchfd, &ticks, sizeof(ticks)) <= 0)
		return;
	struct np_collect_ctx ctx = agent_ctx(a);
	int r = np_block_watch_stalls(&ctx);
	if (r < 0) { /* unreadable: the next cycle says so (blind) and arms the watch again */
		np_log(NP_LOG_DEBUG, "stall watch", "error=\"%s\"", strerror(-r));
		return;
	}
	if (r > 0)
		publish_stalls(a, &ctx, r);
	arm_watch(a);
}

static int setup_fds(struct agent *a)
{
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return negative_errno();
	a->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	a->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	a->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (a->sigfd < 0 || a->timerfd < 0 || a->epfd < 0)
		return negative_errno();
	/* the stall watch only sends Events early: none without an API */
	if (a->kc && !a->o->dry_run && (a->watchfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK)) < 0)
		return negative_errno();
	double p = a->o->poll_seconds > 0 ? a->o->poll_seconds : 10;
	/* the first cycle within [1 ms, min(poll, START_SPREAD_MS)]: agents started together spread
	 * their first reads and writes, and their polls keep that phase */
	uint64_t spread = p * 1000 < START_SPREAD_MS ? (uint64_t)(p * 1000) : START_SPREAD_MS;
	uint64_t first = 1 + np_xorshift32(&a->rng) % spread;
	struct itimerspec its = { .it_interval = { (time_t)p, (long)((p - (time_t)p) * 1e9) },
				  .it_value = { (time_t)(first / 1000), (long)(first % 1000) * 1000000L } };
	if (timerfd_settime(a->timerfd, 0, &its, NULL) < 0)
		return negative_errno();
	int fds[] = { a->sigfd, a->timerfd, a->have_kmsg ? a->kmsg.fd : -1, a->metrics ? np_metrics_fd(a->metrics) : -1,
		      a->uevents ? np_uevent_fd(a->uevents) : -1, a->watchfd };
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = fds[i] };
		if (fds[i] < 0 || epoll_ctl(a->epfd, EPOLL_CTL_ADD, fds[i], &ev) == 0)
			continue;
		if (a->have_kmsg && fds[i] == a->kmsg.fd && errno == EPERM) {
			/* a host root whose dev/kmsg is a plain file (a capture): no live kernel log */
			np_log(NP_LOG_WARN, "kernel log is not a device here: read per cycle, not followed", NULL);
			np_kmsg_follower_close(&a->kmsg);
			a->have_kmsg = false;
			continue;
		}
		return negative_errno();
	}
	return 0;
}

static uint64_t clock_now(void *ud);
static void clock_sleep(void *ud, uint64_t ms);

static int setup_kube(struct agent *a)
{
	char *err = NULL;
	int r = np_kube_config_auto(&a->o->kube, &a->cfg, &err);
	a->clock = (struct np_kube_clock){ clock_now, clock_sleep, a };
	/* an attempt blocks the loop: 10 s at most, so probes and SIGTERM wait no longer than that */
	struct np_kube_client_opts co = { .timeout_ms = 10000, .clock = &a->clock };
	if (r >= 0)
		r = np_kube_client_new(&a->cfg, &co, &a->kc, &err);
	if (r < 0) {
		np_log(NP_LOG_ERROR, "no Kubernetes API", "error=\"%s\"", err ? err : strerror(-r));
		free(err);
		return r;
	}
	/* the safety valve's Leases live in the agent's namespace (the DaemonSet sets it from the Pod) */
	const char *ns = getenv("NODEPRINT_NAMESPACE");
	r = np_publisher_init(&a->pub, a->kc, a->o->node_name, ns && *ns ? ns : "nodeprint");
	a->pub.between = serve_kmsg; /* kernel-log Events go out between the cycle's writes too */
	a->pub.between_ud = a;
	if (a->o->poll_seconds > 0)
		a->pub.poll_seconds = a->o->poll_seconds; /* a Node refused a slot pauses from one poll up */
	apply_event_limits(a);
	return r;
}

/* Take the pending signals: SIGTERM/SIGINT set a->stopping, SIGHUP a->reload. */
static void read_signals(struct agent *a)
{
	struct signalfd_siginfo si;
	while (read(a->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			a->reload = true;
		} else if (!a->stopping) {
			np_log(NP_LOG_INFO, "stopping", "signal=%s", strsignal((int)si.ssi_signo));
			a->stopping = true;
		}
	}
}

/* Returns 1 to stop, 0 to go on. */
static int on_signal(struct agent *a)
{
	read_signals(a);
	if (a->reload) {
		a->reload = false;
		np_log(NP_LOG_INFO, "SIGHUP: reloading the policy", NULL);
		a->policy_mtime = (struct timespec){ 0 };
		a->policy_missing = false;
		load_policy(a, false);
	}
	return a->stopping;
}

static uint64_t clock_now(void *ud)
{
	(void)ud;
	return (uint64_t)mono_ms();
}

/*
 * The API client's backoff sleeps (retries, Retry-After): /metrics and /healthz are served
 * meanwhile, and the sleep ends at once when SIGTERM or SIGINT arrives, so the remaining
 * attempts fail fast and the agent stops well within the Pod's grace period.
 */
static void clock_sleep(void *ud, uint64_t ms)
{
	struct agent *a = ud;
	int64_t end = mono_ms() + (int64_t)(ms > INT32_MAX ? INT32_MAX : ms);
	while (!a->stopping) {
		int64_t left = end - mono_ms();
		if (left <= 0)
			return;
		int t = (int)left, mt = np_metrics_timeout_ms(a->metrics);
		if (mt >= 0 && mt < t)
			t = mt;
		struct pollfd p[] = { { .fd = a->sigfd, .events = POLLIN },
				      { .fd = a->metrics ? np_metrics_fd(a->metrics) : -1, .events = POLLIN } };
		if (poll(p, ARRAY_SIZE(p), t) > 0 && (p[0].revents & POLLIN))
			read_signals(a);
		if (a->metrics)
			np_metrics_run(a->metrics);
	}
}

static int loop(struct agent *a)
{
	while (!a->stopping) {
		struct epoll_event evs[8];
		int n = epoll_wait(a->epfd, evs, ARRAY_SIZE(evs), np_metrics_timeout_ms(a->metrics));
		a->woke_us = mono_us();
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return negative_errno();
		bool run_cycle = false;
		/* the kernel log first, whatever woke the loop: its Events wait for no other work. printk
		 * wakes /dev/kmsg's readers late (a deferred irq_work) while a uevent sent after the record
		 * (dm-multipath's path events) arrives at once: reading only when the log's fd was ready
		 * left that record for the next turn, after the uevent's work. A read with nothing new is
		 * one read(2) that returns EAGAIN. */
		if (a->have_kmsg) {
			a->kmsg_read_us = a->woke_us;
			np_kmsg_follower_read(&a->kmsg, on_kmsg_record, a);
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == a->sigfd && on_signal(a))
				return 0;
			if (fd == a->timerfd) {
				uint64_t ticks;
				run_cycle = read(a->timerfd, &ticks, sizeof(ticks)) > 0 || run_cycle;
				a->kicked = false;
			}
			if (a->uevents && fd == np_uevent_fd(a->uevents))
				on_uevents(a);
			if (fd == a->watchfd && fd >= 0)
				on_watch(a);
		}
		if (a->metrics) /* its fd, and its timeouts for idle and slow connections */
			np_metrics_run(a->metrics);
		if (run_cycle && !a->stopping) {
			int r = cycle(a);
			if (r < 0)
				np_log(NP_LOG_ERROR, "cycle failed", "error=\"%s\"", strerror(-r));
			arm_watch(a); /* the cycle's sample moved the detector's deadlines */
			if (a->o->max_cycles && a->cycles >= a->o->max_cycles)
				return 0;
		}
	}
	return 0;
}

static int render_metrics(FILE *f, void *ud)
{
	struct agent *a = ud;
	a->stats.flaps_total = 0; /* the kmsg section's tracker lives as long as the agent: a counter */
	for (size_t i = 0; a->have_prev && i < a->prev.kmsg.n_flaps; i++)
		a->stats.flaps_total += a->prev.kmsg.flaps[i].total;
	return np_metrics_render(f, a->have_prev ? &a->prev : NULL, a->have_prev ? &a->last : NULL, &a->stats);
}

static bool metrics_ready(void *ud)
{
	return ((struct agent *)ud)->stats.ready;
}

static void agent_free(struct agent *a)
{
	np_canary_stop(&a->canary);
	np_metrics_stop(a->metrics);
	np_uevent_close(a->uevents);
	np_peer_gpus_free(&a->peers);
	np_desired_free(&a->last);
	for (size_t i = 0; i < a->n_pending; i++)
		event_clear(&a->pending[i].ev);
	free(a->pending);
	if (a->kc)
		np_publisher_free(&a->pub);
	np_kube_client_free(a->kc);
	if (a->have_kmsg)
		np_kmsg_follower_close(&a->kmsg);
	np_section_states_free(a->states);
	if (a->have_prev)
		np_report_free(&a->prev);
	np_policy_free(&a->pol);
	np_host_close(&a->host);
	int fds[] = { a->epfd, a->sigfd, a->timerfd, a->watchfd };
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

int np_agent_run(const struct np_agent_opts *o)
{
	struct agent a = { .o = o, .epfd = -1, .sigfd = -1, .timerfd = -1, .watchfd = -1, .started = now_s() };
	if (getrandom(&a.rng, sizeof(a.rng), GRND_NONBLOCK) != sizeof(a.rng) || !a.rng)
		a.rng = (uint32_t)getpid() * 2654435761u | 1; /* spread, not secrecy */
	a.resync_at = o->resync_seconds > 0 ? next_resync(&a, a.started) : 0; /* the first publish reads it */
	np_histogram_init(&a.stats.collect_seconds);
	np_histogram_init_cycle(&a.stats.cycle_seconds);
	a.stats.policy = &a.pol;
	a.stats.all_block_devices = o->metrics_all_devices;
	if (!o->node_name || !*o->node_name) {
		np_log(NP_LOG_ERROR, "no node name: set --node-name or NODE_NAME (downward API spec.nodeName)", NULL);
		return -EINVAL;
	}
	if (!np_dns_subdomain_valid(o->node_name)) {
		np_log(NP_LOG_ERROR, "the node name is not a Node's name (a DNS subdomain: lower-case letters, digits, "
		       "'-' and '.', at most 253 characters)", "node=%s", o->node_name);
		return -EINVAL;
	}
	int r = np_host_open(&a.host, o->host_root);
	if (r < 0) {
		np_log(NP_LOG_ERROR, "host root", "error=\"%s\"", strerror(-r));
		return r;
	}
	r = load_policy(&a, true);
	if (r >= 0) {
		struct np_collect_ctx ctx = agent_ctx(&a);
		a.states = np_section_states_new(&ctx);
		if (!a.states)
			r = -ENOMEM;
	}
	if (r >= 0 && !o->dry_run)
		r = setup_kube(&a);
	if (r >= 0) {
		a.have_kmsg = np_kmsg_follower_open(&a.kmsg, &a.host, NULL) >= 0;
		if (a.have_kmsg) /* skip the backlog: the first cycle's report has it */
			np_kmsg_follower_read(&a.kmsg, skip_record, NULL);
		int ur = np_uevent_open(&a.uevents);
		if (ur < 0)
			np_log(NP_LOG_WARN, "no device events (netlink uevents), polling only", "error=\"%s\"",
			       strerror(-ur));
		else if (o->facts_seconds > 0) /* kept files need the events that say when to reopen them */
			keep_open(&a);
		if (o->metrics_address) { /* --health-address: the same endpoint without /metrics */
			r = np_metrics_start(o->metrics_address, &a.metrics, o->health_only ? NULL : render_metrics,
					     metrics_ready, &a);
			if (r < 0)
				np_log(NP_LOG_ERROR, "metrics endpoint", "address=%s error=\"%s\"", o->metrics_address,
				       strerror(-r));
		}
		if (r >= 0 && (r = setup_fds(&a)) < 0)
			np_log(NP_LOG_ERROR, "event loop", "error=\"%s\"", strerror(-r));
	}
	if (r >= 0) {
		np_log(NP_LOG_INFO, "started", "node=%s poll=%gs smart=%gs policy=%s kmsg=%s uevents=%s", o->node_name,
		       o->poll_seconds, o->smart_seconds, o->policy_path ? o->policy_path : "built-in",
		       a.have_kmsg ? "yes" : "no", a.uevents ? "yes" : "no");
		r = loop(&a);
	}
	agent_free(&a);
	return r;
}
