// SPDX-License-Identifier: Apache-2.0
#include "volumes.h"

void np_volumes_free(struct np_volumes *s)
{
	np_status_clear(&s->status);
}

json_t *np_volumes_to_json(const struct np_volumes *s)
{
	json_t *o = json_object();
	np_status_to_json(&s->status, o);
	return o;
}

void np_volumes_print(const struct np_volumes *s, struct np_out *o)
{
	(void)s;
	(void)o;
}

int np_volumes_bundle(const struct np_volumes *s, struct np_bundle *b)
{
	(void)s;
	(void)b;
	return 0;
}
