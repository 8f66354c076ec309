/* SPDX-License-Identifier: Apache-2.0 */
/* block.h - the "block" section of the node report. (stub: to be filled by its collector's owner) */
#pragma once

#include "bundle.h"
#include "out.h"
#include "status.h"

struct np_block {
	struct np_status status;
	int placeholder;
};

void np_block_free(struct np_block *s);
json_t *np_block_to_json(const struct np_block *s);
void np_block_print(const struct np_block *s, struct np_out *o);
int np_block_bundle(const struct np_block *s, struct np_bundle *b);
