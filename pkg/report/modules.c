// SPDX-License-Identifier: Apache-2.0
#include "modules.h"

void np_modules_free(struct np_modules *s)
{
	np_status_clear(&s->status);
}

json_t *np_modules_to_json(const struct np_modules *s)
{
	json_t *o = json_object();
	np_status_to_json(&s->status, o);
	return o;
}

void np_modules_print(const struct np_modules *s, struct np_out *o)
{
	(void)s;
	(void)o;
}

int np_modules_bundle(const struct np_modules *s, struct np_bundle *b)
{
	(void)s;
	(void)b;
	return 0;
}
