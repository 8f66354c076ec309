/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json_write.h - compact JSON output of a jansson tree, byte for byte what
 * json_dumpf(JSON_COMPACT | JSON_PRESERVE_ORDER) writes (jansson 2.14
 * dump.c), at a fraction of its cost on large reports: one buffer flushed
 * in 64 KiB writes instead of a stdio call per token, integers formatted
 * without printf. A large host's per-CPU interrupt arrays are millions of
 * numbers (docs/performance.md).
 */
#pragma once

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

/*
 * np_json_write_compact() - write @j to @f, the stand-ins of the thread's
 * current deferral (below) as the arrays they stand for. Returns 0, -ENOMEM,
 * or -EIO when @f reports an error. Reals are formatted by jansson itself.
 */
int np_json_write_compact(const json_t *j, FILE *f);

/*
 * Deferred arrays. A large host's report holds a million per-CPU interrupt
 * counts: as jansson values they cost more than reading them (an allocation
 * each, built, written, freed) and most of the memory. While a deferral is
 * current on the calling thread, np_json_u64_array() returns an empty array
 * standing in for the numbers, and np_json_write_compact() writes them from
 * the caller's memory in its place, byte for byte what the real array gives.
 * Begin one only when the tree goes to np_json_write_compact() (not YAML, not
 * an indented json_dumpf(), which would see the empty stand-ins), keep the
 * numbers alive until the write, then end it.
 */
struct np_json_defer;

/*
 * np_json_defer_begin() - make a new deferral current on this thread.
 * Returns it (end it with np_json_defer_end()), or NULL on ENOMEM or when
 * one is already current: then arrays are built as usual.
 */
struct np_json_defer *np_json_defer_begin(void);

/* End @d (NULL: nothing), releasing its stand-ins; no deferral is current after. */
void np_json_defer_end(struct np_json_defer *d);

/*
 * np_json_u64_array() - a JSON array of the @n numbers at @v, each above
 * INT64_MAX written as INT64_MAX (jansson integers are signed). Under a
 * deferral the numbers are not copied: @v must stay valid until the write.
 * Returns a new reference, NULL on ENOMEM.
 */
json_t *np_json_u64_array(const uint64_t *v, size_t n);
