// SPDX-License-Identifier: Apache-2.0
#include "mounts.h"

void np_mounts_free(struct np_mounts *s)
{
	np_status_clear(&s->status);
}

json_t *np_mounts_to_json(const struct np_mounts *s)
{
	json_t *o = json_object();
	np_status_to_json(&s->status, o);
	return o;
}

void np_mounts_print(const struct np_mounts *s, struct np_out *o)
{
	(void)s;
	(void)o;
}

int np_mounts_bundle(const struct np_mounts *s, struct np_bundle *b)
{
	(void)s;
	(void)b;
	return 0;
}
