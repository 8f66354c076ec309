// SPDX-License-Identifier: Apache-2.0
#include "nvme.h"

void np_nvme_free(struct np_nvme *s)
{
	np_status_clear(&s->status);
}

json_t *np_nvme_to_json(const struct np_nvme *s)
{
	json_t *o = json_object();
	np_status_to_json(&s->status, o);
	return o;
}

void np_nvme_print(const struct np_nvme *s, struct np_out *o)
{
	(void)s;
	(void)o;
}

int np_nvme_bundle(const struct np_nvme *s, struct np_bundle *b)
{
	(void)s;
	(void)b;
	return 0;
}
