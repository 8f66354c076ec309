// SPDX-License-Identifier: Apache-2.0
#include "pci.h"

void np_pci_free(struct np_pci *s)
{
	np_status_clear(&s->status);
}

json_t *np_pci_to_json(const struct np_pci *s)
{
	json_t *o = json_object();
	np_status_to_json(&s->status, o);
	return o;
}

void np_pci_print(const struct np_pci *s, struct np_out *o)
{
	(void)s;
	(void)o;
}

int np_pci_bundle(const struct np_pci *s, struct np_bundle *b)
{
	(void)s;
	(void)b;
	return 0;
}
