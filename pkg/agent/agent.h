/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent.h - `nodeprint run`: the DaemonSet's loop. Single-threaded and
 * event-driven: epoll over a signalfd (SIGTERM/SIGINT finish the cycle in
 * flight and exit 0; SIGHUP reloads the policy), a timerfd for the poll, the
 * kernel log (/dev/kmsg: path events are sent as Events at once and wake a
 * cycle within 200 ms) and kernel uevents (a device added, removed or
 * changed, an NVMe asynchronous event: wake a cycle; the AEN also makes the
 * controller's SMART log due), plus the metrics socket.
 */
#pragma once

#include "../kube/config.h"

#include <stdbool.h>

struct np_agent_opts {
	const char *node_name;     /* required */
	const char *policy_path;   /* NULL = built-in default */
	const char *host_root;     /* NULL = $NODEPRINT_HOST_ROOT or / */
	const char *kubelet_dir;   /* default /var/lib/kubelet */
	struct np_kube_source kube;
	double poll_seconds;       /* collection and reconcile period, default 10 */
	double smart_seconds;      /* NVMe SMART / health log period, default 60 (0 = default) */
	double resync_seconds;     /* re-read the Node at least this often, default 300 */
	double facts_seconds;      /* re-read cached static facts at least this often (facts.h); 0 = every cycle */
	double settle_seconds;     /* no removal of own keys before this, default 60 */
	unsigned max_cycles;       /* stop after this many cycles (tests; 0 = run until signalled) */
	bool dry_run;              /* compute and log, never write */
	const char *metrics_address; /* "127.0.0.1:20270", ":20270"; NULL = no endpoint */
	bool metrics_all_devices;    /* block metrics for loop, ram and zram devices too */
	const char *state_dir;       /* baseline records; a <prefix>/baseline-request runs a compare (NULL = off) */
	bool health_only;            /* metrics_address serves /healthz and /readyz only (--health-address) */
};

/*
 * np_agent_run() - run until SIGTERM/SIGINT (or max_cycles). Returns 0 on a
 * clean stop, or a negative errno when it cannot start (no kube config, no
 * policy, no host root); API errors while running are logged and retried
 * at the next cycle, never fatal.
 */
int np_agent_run(const struct np_agent_opts *o);
