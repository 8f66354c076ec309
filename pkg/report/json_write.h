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
#include <stdio.h>

/*
 * np_json_write_compact() - write @j to @f. Returns 0, -ENOMEM, or -EIO
 * when @f reports an error. Reals are formatted by jansson itself.
 */
int np_json_write_compact(const json_t *j, FILE *f);
