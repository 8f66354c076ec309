/* SPDX-License-Identifier: Apache-2.0 */
/*
 * benchstore.h - micro-test records kept on the node: one JSON file per
 * record under <state-dir>/baselines/, named by np_bench_record_key(), written
 * whole (temporary file + rename) so a reader never sees half a record.
 */
#pragma once

#include "baseline.h"

#include <stddef.h>

/* Most records loaded from one folder (and bytes per file). */
#define NP_BENCH_STORE_MAX 4096
#define NP_BENCH_RECORD_MAX (64u << 10)

/*
 * np_bench_store_save() - write @r to <@state_dir>/baselines/<key>.json,
 * creating the folders (0755). A record with the same key is replaced.
 * Returns 0 or -errno.
 */
int np_bench_store_save(const char *state_dir, const struct np_bench_record *r);

/*
 * np_bench_store_load() - every record under <@state_dir>/baselines/. Files
 * that do not parse are skipped and counted in *@bad (may be NULL). Returns 0
 * with a malloc'd array in *@out (free with np_bench_records_free()) and its
 * length in *@n (0 and NULL when the folder does not exist), or -errno.
 */
int np_bench_store_load(const char *state_dir, struct np_bench_record **out, size_t *n, size_t *bad);

void np_bench_records_free(struct np_bench_record *r, size_t n);
