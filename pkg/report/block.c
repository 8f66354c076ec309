// SPDX-License-Identifier: Apache-2.0
#include "block.h"

void np_block_free(struct np_block *s)
{
	np_status_clear(&s->status);
}

json_t *np_block_to_json(const struct np_block *s)
{
	json_t *o = json_object();
	np_status_to_json(&s->status, o);
	return o;
}

void np_block_print(const struct np_block *s, struct np_out *o)
{
	(void)s;
	(void)o;
}

int np_block_bundle(const struct np_block *s, struct np_bundle *b)
{
	(void)s;
	(void)b;
	return 0;
}
