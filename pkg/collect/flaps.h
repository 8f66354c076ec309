/* SPDX-License-Identifier: Apache-2.0 */
/*
 * flaps.h - multipath path flaps: per map, failed -> active transitions of
 * its paths counted in a sliding window, fed from two sources that see the
 * same transitions at different times:
 *   - status polling (dm-multipath status, drivers/md/dm-mpath.c
 *     multipath_status(): per path "A" active / "F" failed), which sees a
 *     transition only at the next poll and misses a flap shorter than the
 *     poll interval;
 *   - the kernel log (kmsg events path_failed / path_reinstated, from
 *     dm-mpath.c fail_path()/reinstate_path()), which sees every transition
 *     when it happens but may be read late and may lack the map (older
 *     kernels print no map prefix).
 * A transition reported by both sources counts once: a transition from one
 * source pairs with an unpaired transition of the same path from the other
 * source within dedup_ms of it. Pure: no I/O, the caller supplies times, all
 * in one clock (milliseconds of CLOCK_MONOTONIC; kmsg stamps are that clock).
 */
#pragma once

#include "../report/kmsg.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum np_flap_source { NP_FLAP_POLL = 0, NP_FLAP_KMSG = 1 };
enum np_path_state { NP_PATH_UNKNOWN = 0, NP_PATH_ACTIVE, NP_PATH_FAILED };

struct np_flap_transition {
	int64_t t_ms;
	enum np_flap_source source;
	bool paired;          /* the other source reported it too (counted once) */
};

struct np_flap_path {
	char *path;                         /* "8:16" (major:minor, as dm and the kernel log name it) */
	enum np_path_state state[2];        /* last state per source */
	struct np_flap_transition *trans;   /* counted failed->active transitions still of interest */
	size_t n_trans;
};

struct np_flap_map {
	char *map;                          /* map key as the caller names it ("253:0", or "mpatha") */
	struct np_flap_path *paths;
	size_t n_paths;
	uint64_t total;                     /* transitions counted since the tracker started */
};

struct np_flaps {
	int64_t window_ms;  /* sliding window for np_flaps_in_window() */
	int64_t dedup_ms;   /* max distance between the two sources' views of one transition (>= poll interval) */
	struct np_flap_map *maps;
	size_t n;
};

/* Start a tracker. @window_ms > 0; @dedup_ms >= 0 (typically the poll interval plus a second). */
void np_flaps_init(struct np_flaps *f, int64_t window_ms, int64_t dedup_ms);
void np_flaps_free(struct np_flaps *f);

/*
 * np_flaps_observe() - one observation: @path of @map is active (or failed)
 * at @t_ms according to @source. For the kernel log @map may be NULL (no
 * map prefix): the path is looked up in the maps already known, else kept
 * under the map "?". Returns 1 when a new flap was counted, 0 when not (no
 * transition, or the other source already counted this one), -EINVAL for a
 * missing path, -ENOMEM.
 */
int np_flaps_observe(struct np_flaps *f, enum np_flap_source source, const char *map, const char *path,
		     enum np_path_state state, int64_t t_ms);

/*
 * np_flaps_feed_kmsg() - feed a kmsg event: path_failed / path_reinstated
 * with e->device as the path, e->map as the map (NULL allowed) and
 * e->monotonic_us / 1000 as the time. Other kinds are ignored (returns 0).
 * Returns as np_flaps_observe().
 */
int np_flaps_feed_kmsg(struct np_flaps *f, const struct np_kmsg_event *e);

/* Flaps of @map counted in (now_ms - window_ms, now_ms]; 0 for an unknown map. */
unsigned np_flaps_in_window(const struct np_flaps *f, const char *map, int64_t now_ms);

/* [{"map","flaps_in_window","flaps_total","window_ms"}] for every map. Caller owns the reference. */
json_t *np_flaps_to_json(const struct np_flaps *f, int64_t now_ms);
