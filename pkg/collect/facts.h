/* SPDX-License-Identifier: Apache-2.0 */
/*
 * facts.h - a section's cache of the facts that do not change between the
 * agent's cycles (a module's version, a PCI function's identity and link
 * capabilities, a NIC's driver and firmware, a disk's model and serial),
 * so that a warm cycle opens only what can change: counters, states, links.
 *
 * A section keeps one in its state (section.h hooks: np_facts_new() from
 * state_new, np_facts_free() from state_free) and reads its static
 * attributes through it; every other read goes to the host as before. A
 * one-shot command has no state: the functions below then read the host
 * directly (@f NULL), so `inspect` reads exactly what it read before.
 *
 * Every cached fact is dropped, and read again at its next use, when the
 * agent saw a device or module event since it was read (ctx->facts_gen,
 * bumped by pkg/agent from the kernel's uevents) and in any case when it is
 * older than ctx->facts_max_age_s (NP_FACTS_MAX_AGE_S by default: the bound
 * on how stale a fact changed without an event, e.g. a NIC firmware flashed
 * and activated without a reset, can be). A fact no collect asked for in the
 * last cycle is dropped too (a device that went away), so the cache holds
 * what one cycle reads, no more.
 */
#pragma once

#include "collector.h"

#include <stdint.h>

/* The default bound on a cached fact's age, seconds (docs/reference.md, "Agent cycles"). */
#define NP_FACTS_MAX_AGE_S 300.0

struct np_facts;

/* A new, empty cache. Returns NULL on ENOMEM. */
struct np_facts *np_facts_new(void);
void np_facts_free(struct np_facts *f);

/*
 * np_facts_begin() - call at the start of each collect: drops every fact
 * when @ctx's generation differs from the one they were read under or they
 * are older than the bound, else those the previous collect did not use.
 * Returns @f (may be NULL: nothing to do).
 */
struct np_facts *np_facts_begin(struct np_facts *f, const struct np_collect_ctx *ctx);

/*
 * np_facts_key() - a section's own proof that what it caches changed, read
 * this cycle (the modules section: a digest of /proc/modules' loaded set):
 * every fact @f holds is dropped when @key differs from the one given at the
 * previous collect. Call after np_facts_begin(); @f NULL does nothing.
 */
void np_facts_key(struct np_facts *f, uint64_t key);

/*
 * np_facts_epoch() - a count that moves whenever an answer @f serves may differ from the one it
 * served before: a fact dropped (np_facts_begin(), np_facts_key(), np_facts_forget(), a read that
 * ran out of memory) or an answer that was not kept (a failed read, see fact_stable() in facts.c).
 * Adding a fact read now does not move it. What a section derived only from @f's answers (and
 * inputs it compares itself) under one epoch, it may reuse while the epoch stays the same. 0 when
 * @f is NULL.
 */
uint64_t np_facts_epoch(const struct np_facts *f);

/*
 * np_facts_touch() - every fact @f holds counts as asked for in this collect: the section reused
 * what it derived from them (np_facts_epoch()) instead of asking again, so the next
 * np_facts_begin() keeps them. @f NULL does nothing.
 */
void np_facts_touch(struct np_facts *f);

/*
 * The hostfs readers (hostfs.h), with the same contract and results, served
 * from @f when it holds the path (a failed read is cached as its -errno
 * too); @f NULL reads the host. Returned strings and vectors are the
 * caller's, as from hostfs.
 */
int np_facts_attr(struct np_facts *f, const struct np_host *h, char **dst, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/*
 * np_facts_read() - np_host_read() of a whole file, without a copy: *@out is @f's buffer (valid
 * until the next np_facts_begin()), or, without @f, the one read, also in *@own for the caller to
 * free (*@own is NULL otherwise).
 */
int np_facts_read(struct np_facts *f, const struct np_host *h, const char *path, size_t max, char **own,
		  const char **out, size_t *len);
int np_facts_read_line(struct np_facts *f, const struct np_host *h, const char *path, char **out);
int np_facts_read_u64(struct np_facts *f, const struct np_host *h, const char *path, uint64_t *out);
int np_facts_read_s64(struct np_facts *f, const struct np_host *h, const char *path, int64_t *out);
int np_facts_link_basename(struct np_facts *f, const struct np_host *h, const char *path, char **out);
bool np_facts_exists(struct np_facts *f, const struct np_host *h, const char *path);
int np_facts_readlink(struct np_facts *f, const struct np_host *h, const char *path, char **out);
int np_facts_list(struct np_facts *f, const struct np_host *h, const char *dir, char ***out, size_t *n);

/*
 * np_facts_may_exist() - false only when @f holds the listing of folder @dir (read now if it did not)
 * and @name is not in it: the caller skips an open that would fail with ENOENT. True when @f is
 * NULL or the folder cannot be listed: try it.
 */
bool np_facts_may_exist(struct np_facts *f, const struct np_host *h, const char *dir, const char *name);

/*
 * np_facts_names() - the listing of folder @dir that @f holds (read now if it did not), for
 * several np_facts_may_exist() questions at the cost of one lookup: valid until the next
 * np_facts_begin(), np_facts_key() or np_facts_forget() on @f. NULL when @f is NULL or the
 * folder cannot be listed (or the listing was not kept): then every name may exist.
 */
struct np_facts_names;
const struct np_facts_names *np_facts_names(struct np_facts *f, const struct np_host *h, const char *dir);
/* false only when @l is a listing and @name is not in it. */
bool np_facts_names_has(const struct np_facts_names *l, const char *name);

/* The same for a name relative to an opened folder (hostfs.h np_dir), keyed by its host path. */
int np_facts_dir_attr(struct np_facts *f, const struct np_dir *d, const char *rel, char **dst);
int np_facts_dir_read_u64(struct np_facts *f, const struct np_dir *d, const char *rel, uint64_t *out);
int np_facts_dir_readlink(struct np_facts *f, const struct np_dir *d, const char *name, char **out);
int np_facts_dir_list(struct np_facts *f, const struct np_dir *d, const char *rel, char ***out, size_t *n);

/*
 * np_facts_blob() - a fact that is no file: @size bytes that @read (called with @buf, @size, @ud)
 * fills and returns >= 0 for, e.g. an ioctl's answer (net: ETHTOOL_GDRVINFO), kept under @key (a
 * name of the caller's, unique in @f) until the facts are dropped. Returns what @read returned,
 * the held bytes copied into @buf when @f holds them. A failed @read (< 0) is not kept: the next
 * collect calls it again. @f NULL calls @read.
 */
int np_facts_blob(struct np_facts *f, const char *key, void *buf, size_t size,
		  int (*read)(void *buf, size_t size, void *ud), void *ud);

/* Drop @f's attribute at the formatted path: a value read in passing ("coming") is no fact. */
void np_facts_forget(struct np_facts *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* How many facts @f holds (tests). */
size_t np_facts_count(const struct np_facts *f);

/* State hooks of a section whose whole state is its facts cache (NP_SECTION_STATEFUL). */
void *np_facts_state_new(const struct np_collect_ctx *ctx);
void np_facts_state_reload(void *state, const struct np_collect_ctx *ctx); /* nothing: each collect reads the bound */
void np_facts_state_free(void *state);
