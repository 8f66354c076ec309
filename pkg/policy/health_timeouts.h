/* SPDX-License-Identifier: Apache-2.0 */
/*
 * health_timeouts.h - the timeout chain of a dm-multipath map (pure functions):
 * its paths' device timeouts and transport loss timers (the "timeouts"
 * section), how long the map queues I/O with no path left (its table's
 * queue_if_no_path, multipathd's no_path_retry, the kernel's
 * queue_if_no_path_timeout_secs: the "multipath" and "timeouts" sections),
 * the CSI volumes on it ("volumes"), judged against the policy's
 * application timeout (the rule "timeouts", health.h). docs/policy.md,
 * health.timeouts.
 */
#pragma once

#include "health.h"

#include <stdbool.h>
#include <stdint.h>

struct np_health_timeouts {
	double app_timeout_s;                /* the application's I/O timeout, seconds; < 0 = off */
	bool unbounded_queueing;             /* queue_if_no_path without a bound under a CSI volume */
	bool fast_io_fail_below_loss;        /* fast_io_fail_tmo must be below dev_loss_tmo / ctrl_loss_tmo */
	bool failover_within_device_timeout; /* a path's failover must not outlast its command timeout */
};

NP_HEALTH_DECLARE(timeouts);

struct np_tmo_chain {
	const struct np_mpath_map *map;
	const char *volume;        /* the first PV on the map (borrowed), NULL when none */
	size_t n_volumes;          /* CSI volumes on the map */
	bool queue_if_no_path;     /* table feature */
	int64_t pg_init_retries;   /* table feature "pg_init_retries N"; -1 when not set */
	int64_t queue_bound_s;     /* how long I/O queues with no usable path: NP_TMO_OFF = for ever, 0 = fails at once */
	char bound_by[160];        /* what sets that bound, for people */
};

/*
 * np_tmo_chain_build() - the chain of map @m of @r->multipath. Returns 0, or
 * -ENODATA when the map's table was not read (the chain is unknown, never
 * "no queueing").
 */
int np_tmo_chain_build(const struct np_report *r, const struct np_mpath_map *m, struct np_tmo_chain *c);

/*
 * np_tmo_chain_describe() - every layer with its value, in I/O order:
 * "SCSI sda 30 s, sdb 30 s -> multipath queues for ever (queue_if_no_path,
 * multipathd no_path_retry unset) -> app gives up at 30 s". @app_s < 0 leaves
 * the application out. Returns a malloc'd string (caller frees) or NULL (ENOMEM).
 */
char *np_tmo_chain_describe(const struct np_report *r, const struct np_tmo_chain *c, double app_s);
