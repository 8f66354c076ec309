/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fdcache.h - descriptors of sysfs and procfs files kept open between passes.
 *
 * A warm agent reads the same few dozen kernel files every cycle. Opening one
 * walks its path (sysfs links included) and allocates a file, then closing it
 * frees both: about half of what the read costs. A seq_file (sysfs attributes,
 * /proc/diskstats, /proc/PID/mountinfo) shows its content afresh when read
 * again from offset 0 (fs/seq_file.c: seq_read_iter() resets its iterator at
 * a zero offset), so a kept descriptor read with pread(2) at 0 gives what a
 * new open would. A kept descriptor never holds a device back: kernfs and
 * procfs drain only reads in progress when a file goes, and a read on a file
 * that went fails (-ENODEV from kernfs, -EIO from procfs).
 *
 * The map is keyed by the host path; the caller decides what may be kept
 * (hostfs.c: regular files on sysfs or procfs that read without error) and
 * when everything must be opened afresh (a device renamed keeps its files,
 * under a new path: np_fdcache_flush() on every device event).
 * Not thread-safe: one thread uses a cache at a time.
 */
#pragma once

#include <stddef.h>

struct np_fdcache;

/*
 * np_fdcache_new() - an empty cache keeping at most @max descriptors.
 * Returns it (free with np_fdcache_free(), which closes them), or NULL when out of memory.
 */
struct np_fdcache *np_fdcache_new(size_t max);
void np_fdcache_free(struct np_fdcache *c);

/*
 * The kept descriptor of @path (still owned by the cache, marked used), or -ENOENT. *@len (when
 * not NULL) gets the length its last whole read returned (np_fdcache_note_len(); 0: unknown), the
 * size to ask for next time.
 */
int np_fdcache_get(struct np_fdcache *c, const char *path, size_t *len);

/* Remember @len bytes as the last whole read of @path's kept descriptor (nothing when not kept). */
void np_fdcache_note_len(struct np_fdcache *c, const char *path, size_t len);

/*
 * np_fdcache_put() - keep @fd as @path's descriptor. Returns 0 when kept (the cache owns @fd now),
 * -ENOSPC when the cache is full or -ENOMEM (the caller keeps @fd and closes it).
 */
int np_fdcache_put(struct np_fdcache *c, const char *path, int fd);

/* Close and forget @path's descriptor, if any. */
void np_fdcache_drop(struct np_fdcache *c, const char *path);

/* Close every descriptor not used (np_fdcache_get() or _put()) since the previous sweep. Returns how many it closed. */
size_t np_fdcache_sweep(struct np_fdcache *c);

/* Close every descriptor: the next reads open their files afresh. */
void np_fdcache_flush(struct np_fdcache *c);

/* Descriptors kept now. */
size_t np_fdcache_count(const struct np_fdcache *c);
