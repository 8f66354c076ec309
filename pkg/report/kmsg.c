// SPDX-License-Identifier: Apache-2.0
#include "kmsg.h"

void np_kmsg_free(struct np_kmsg *s)
{
	np_status_clear(&s->status);
}

json_t *np_kmsg_to_json(const struct np_kmsg *s)
{
	json_t *o = json_object();
	np_status_to_json(&s->status, o);
	return o;
}

void np_kmsg_print(const struct np_kmsg *s, struct np_out *o)
{
	(void)s;
	(void)o;
}

int np_kmsg_bundle(const struct np_kmsg *s, struct np_bundle *b)
{
	(void)s;
	(void)b;
	return 0;
}
