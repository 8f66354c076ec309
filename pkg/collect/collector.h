/* SPDX-License-Identifier: Apache-2.0 */
/*
 * collector.h - what every section's collector gets, and the runner.
 *
 * A collector reads one source of the node (through the host root only),
 * fills its own section of the report, and records its own failure in that
 * section's status; it never touches another section and knows nothing of
 * Kubernetes. Its file ends with NP_SECTION(...) (pkg/report/section.h), the
 * section's one registration: docs/HACKING.md, "Adding a section".
 */
#pragma once

#include "../report/report.h"
#include "../report/section.h"
#include "../shared/hostfs.h"

#include <stddef.h>

struct np_section_states;
struct np_collect_pass;
struct np_irq_table;

struct np_collect_ctx {
	const struct np_host *host;
	double interval_s;        /* > 0: sample twice, this far apart, for rates */
	const char *kubelet_dir;  /* host path of the kubelet root, default /var/lib/kubelet */
	unsigned kmsg_max;        /* kernel-log records to keep, default 256 */
	double stall_seconds;     /* in-flight I/O with no completion this long = stall */
	double stall_await_ms;    /* > 0: await over the window above this = stall (0 = off) */
	double flap_window_s;     /* path flaps are counted over this window; 0 = NP_KMSG_FLAP_WINDOW_MS */
	double smart_interval_s;  /* NVMe SMART re-read period of a stateful run; 0 = 60 s */
	/* The sections' state across the agent's cycles (np_section_states_new()); NULL: a one-shot
	 * run that reads everything and remembers nothing */
	struct np_section_states *states;
	/* Cached facts (facts.h) are read again when this changes: the agent counts the device and
	 * module events it sees; one-shot runs cache nothing */
	uint64_t facts_gen;
	double facts_max_age_s;   /* and at least this often; 0 = NP_FACTS_MAX_AGE_S (300 s), < 0 = every cycle */
	/* What one np_collect_all() pass reads once for several sections (/proc/interrupts);
	 * NULL outside a pass: each reader reads for itself */
	struct np_collect_pass *pass;
	/* Optional: called with @between_ud after each section np_collect_all() runs. The agent
	 * serves its kernel log there, so a path event waits for one section, not a collection. */
	void (*between)(void *ud);
	void *between_ud;
	/* > 1: a one-shot pass (no states, no between) collects the NP_SECTION_CONCURRENT() sections
	 * on worker threads beside the others, this many threads in all (np_pool_lanes()), when one
	 * of them has at least threads_min_items items; 0 or 1: every section on the calling thread,
	 * in order */
	unsigned threads;
	size_t threads_min_items; /* 0: NP_THREADS_MIN_ITEMS */
};

/* Items (a concurrent section's count) below which a pass stays on one thread: a small host's. */
#define NP_THREADS_MIN_ITEMS 64

/*
 * np_collect_interrupts() - /proc/interrupts under the host root, read and
 * parsed (np_parse_interrupts()) once per pass for every section that needs
 * it (net, numa). Returns 0 and the table in *@t, owned by the pass, or by
 * @own when @ctx has no pass (free @own with np_irq_table_free(); it stays
 * empty otherwise); or -errno as the read or the parse failed, the same for
 * every caller of the pass.
 */
int np_collect_interrupts(const struct np_collect_ctx *ctx, struct np_irq_table *own,
			  const struct np_irq_table **t);

/*
 * np_collect_read() - np_host_read() of @path (a string literal: the pass
 * keeps the pointer) under the host root, once per pass for every section
 * that reads it (mountinfo: mounts, volumes), with the same @max for every
 * caller. Returns 0 with the content in *@buf (NUL-terminated) and *@len,
 * owned by the pass (valid until np_collect_all() returns), or by *@own,
 * which the caller frees (NULL otherwise), when @ctx has no pass; or the
 * read's -errno, the same for every caller of the pass.
 */
int np_collect_read(const struct np_collect_ctx *ctx, const char *path, size_t max, char **own, const char **buf,
		    size_t *len);

struct np_mounts;

/*
 * np_collect_put_mounts() - the host's mount table the mounts section parsed in this pass (its
 * report member, valid until np_collect_all() returns) and the parse's result @r, left in the
 * pass for a later section (volumes) instead of a second parse of the same mountinfo; nothing
 * when @ctx has no pass. np_collect_get_mounts() returns it, its result in *@r, or NULL when the
 * pass has none (the mounts section not asked for, or not run yet).
 */
void np_collect_put_mounts(const struct np_collect_ctx *ctx, const struct np_mounts *m, int r);
const struct np_mounts *np_collect_get_mounts(const struct np_collect_ctx *ctx, int *r);

/*
 * np_collect_for() - @fn(@arg, i) for every i in [0, @n): a loop whose bodies
 * are independent (a section's devices), run on every idle thread of the pass
 * when it has workers (ctx->threads), else in order on this one. Returns when
 * all have run.
 */
void np_collect_for(const struct np_collect_ctx *ctx, size_t n, void (*fn)(void *arg, size_t i), void *arg);

/*
 * np_collect_list() - np_host_list() of the folder @path (a string literal:
 * the pass keeps the pointer) under the host root, once per pass for every
 * section that lists it (/sys/block: multipath, timeouts). Returns 0 with the
 * sorted names in *@names and their count in *@n, owned by the pass (valid
 * until np_collect_all() returns), or by *@own, which the caller frees with
 * np_strv_free() (NULL otherwise), when @ctx has no pass; or the listing's
 * -errno, the same for every caller of the pass.
 */
int np_collect_list(const struct np_collect_ctx *ctx, const char *path, char ***own, char *const **names,
		    size_t *n);

/*
 * np_section_states_new() - the state of every section that keeps one
 * (section.h state hooks), made for @ctx. Returns NULL on ENOMEM. The agent
 * keeps it for its lifetime and puts it in the context of every cycle.
 */
struct np_section_states *np_section_states_new(const struct np_collect_ctx *ctx);
/* A reloaded policy: every stateful section gets the new context (thresholds) for its next collect. */
void np_section_states_reload(struct np_section_states *s, const struct np_collect_ctx *ctx);
void np_section_states_free(struct np_section_states *s);

/* Section @name's state in @s (NULL when it keeps none, or @s is NULL). Its type is the section's. */
void *np_section_state(struct np_section_states *s, const char *name);
/* The same through a collection context: what a collect function calls for its own state. */
void *np_collect_state(const struct np_collect_ctx *ctx, const char *name);

/*
 * np_collect_all() - run every collector whose name is in @only (NULL = all)
 * into @r, sleep ctx->interval_s and resample when it is > 0, then compute the
 * fingerprint. Returns 0; section failures are recorded in their sections.
 * -ENOMEM only when the report itself could not be built.
 */
int np_collect_all(const struct np_collect_ctx *ctx, char *const *only, struct np_report *r);
