// SPDX-License-Identifier: Apache-2.0
#include "multipath.h"

void np_multipath_free(struct np_multipath *s)
{
	np_status_clear(&s->status);
}

json_t *np_multipath_to_json(const struct np_multipath *s)
{
	json_t *o = json_object();
	np_status_to_json(&s->status, o);
	return o;
}

void np_multipath_print(const struct np_multipath *s, struct np_out *o)
{
	(void)s;
	(void)o;
}

int np_multipath_bundle(const struct np_multipath *s, struct np_bundle *b)
{
	(void)s;
	(void)b;
	return 0;
}
