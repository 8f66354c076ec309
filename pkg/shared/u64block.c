// SPDX-License-Identifier: Apache-2.0
/* u64block.c - see u64block.h. */
#include "u64block.h"

#include <errno.h>
#include <stdlib.h>

int np_u64_block_reserve(struct np_u64_block **b, size_t n)
{
	size_t cap = *b ? (*b)->cap : 0;
	if (n <= cap)
		return 0;
	size_t nc = cap ? cap : 256;
	while (nc < n) {
		if (nc > (SIZE_MAX - sizeof(**b)) / sizeof(uint64_t) / 2)
			return -ENOMEM;
		nc *= 2;
	}
	struct np_u64_block *nb = realloc(*b, sizeof(*nb) + nc * sizeof(uint64_t));
	if (!nb)
		return -ENOMEM;
	if (!*b)
		nb->refs = 1;
	nb->cap = nc;
	*b = nb;
	return 0;
}

struct np_u64_block *np_u64_block_ref(struct np_u64_block *b)
{
	if (b)
		__atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED);
	return b;
}

void np_u64_block_unref(struct np_u64_block *b)
{
	if (b && __atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(b);
}
