// SPDX-License-Identifier: Apache-2.0
#include "net.h"

void np_net_free(struct np_net *s)
{
	np_status_clear(&s->status);
}

json_t *np_net_to_json(const struct np_net *s)
{
	json_t *o = json_object();
	np_status_to_json(&s->status, o);
	return o;
}

void np_net_print(const struct np_net *s, struct np_out *o)
{
	(void)s;
	(void)o;
}

int np_net_bundle(const struct np_net *s, struct np_bundle *b)
{
	(void)s;
	(void)b;
	return 0;
}
