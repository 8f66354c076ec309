/* SPDX-License-Identifier: Apache-2.0 */
/*
 * u64block.h - one block of 64-bit counts shared by reference: the parsed
 * /proc/interrupts table fills it, and the report's IRQ lines point into it
 * instead of copying their rows (a million counts on a large host).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct np_u64_block {
	unsigned refs;  /* atomic: the last np_u64_block_unref() frees the block */
	size_t cap;     /* slots in v */
	uint64_t v[];
};

/*
 * np_u64_block_reserve() - make *@b hold at least @n slots, growing it (by doubling) or creating
 * it with one reference. Only its sole owner may grow it: the block moves, so pointers into it
 * are taken after the last growth. Returns 0 or -ENOMEM (*@b unchanged).
 */
int np_u64_block_reserve(struct np_u64_block **b, size_t n);

/* A new reference to @b (may be NULL); returns @b. */
struct np_u64_block *np_u64_block_ref(struct np_u64_block *b);

/* Drop a reference to @b (may be NULL); the last one frees it. */
void np_u64_block_unref(struct np_u64_block *b);
