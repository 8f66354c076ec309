/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stall.h - I/O stall detector: a pure, stateful module fed successive
 * /proc/diskstats samples (pkg/collect/diskstats.h) with monotonic timestamps.
 * It reads nothing itself: `inspect --interval` feeds it two samples, the agent
 * every poll, tests sequences built from captured lines.
 *
 * A device is stalled (reason "no_completion") while it has I/O in flight
 * (diskstats field 9) and its completions (reads + writes + discards + flushes
 * completed, fields 1, 5, 12, 16) have not changed for at least stall_ms since
 * the last sample that showed progress: a completion with I/O still in flight,
 * or, after a sample with an empty queue, the first sample that shows I/O in
 * flight again (submitted in between, it is counted from where it was seen: a
 * stall is never longer than the counters prove). The stall starts at that
 * sample and ends at the first sample that shows a completion or an empty
 * queue.
 *
 * Optionally (await_ms > 0) a device is also stalled (reason "await") while
 * its await over the last await_window_ms - (dread_ms + dwrite_ms + ddiscard_ms
 * + dflush_ms) / dcompletions, iostat's await with discards and flushes - is
 * above await_ms. A window with no completion has no await (the no-completion
 * rule covers it).
 */
#pragma once

#include "diskstats.h"

#include <stddef.h>
#include <stdint.h>

#define NP_STALL_DEFAULT_MS 10000
#define NP_STALL_DEFAULT_WINDOW_MS 10000
/* Ended stalls kept (oldest dropped first). */
#define NP_STALL_HISTORY_MAX 1024

struct np_stall_cfg {
	int64_t stall_ms;         /* no completion with I/O in flight this long = stall; <= 0: default */
	double await_ms;          /* > 0: await over the window above this = stall; 0: off */
	int64_t await_window_ms;  /* <= 0: default */
};

struct np_stall_detector;

/* A new detector (free with np_stall_free()); NULL on ENOMEM. */
struct np_stall_detector *np_stall_new(const struct np_stall_cfg *cfg);
void np_stall_free(struct np_stall_detector *d);

/*
 * np_stall_set_cfg() - new thresholds (a policy reload): the next feed judges
 * every device by them; the devices' progress history is kept, so a device
 * already without completions for longer than the new stall_ms is a stall
 * from its last progress sample on.
 */
void np_stall_set_cfg(struct np_stall_detector *d, const struct np_stall_cfg *cfg);

/*
 * np_stall_feed() - feed one sample taken at @now_ms (CLOCK_MONOTONIC
 * milliseconds). Devices are matched by name and major:minor; a device that
 * disappears ends its ongoing stalls at @now_ms; a counter reset (re-added
 * device) restarts its history. Lines without field 9 (7-column form) are
 * skipped. Returns 0, -EINVAL when @now_ms is earlier than the previous
 * sample's, -ENOMEM.
 */
int np_stall_feed(struct np_stall_detector *d, const struct np_diskstats *s, int64_t now_ms);

/*
 * np_stall_events() - every stall seen, ended ones first in the order they
 * ended then the ongoing ones. Returns the count and sets *@ev to an array
 * owned by the detector, valid until the next feed or free.
 */
size_t np_stall_events(const struct np_stall_detector *d, const struct np_stall_event **ev);

/* np_stall_began() - how many stalls (either reason) began at the last feed. */
unsigned np_stall_began(const struct np_stall_detector *d);

/*
 * np_stall_next_ms() - when the next sample is worth taking (CLOCK_MONOTONIC
 * ms): the earliest moment a device that had I/O in flight at the last sample,
 * and no ongoing no-completion stall, becomes stalled if nothing completes (its
 * last progress + stall_ms), and no later than @cadence_ms after the last
 * sample (> 0; a stall that starts on a device idle at the last sample).
 * INT64_MAX before the first feed, or with @cadence_ms <= 0 and no such device.
 */
int64_t np_stall_next_ms(const struct np_stall_detector *d, int64_t cadence_ms);

