/* SPDX-License-Identifier: Apache-2.0 */
/* pci.h - the "pci" section of the node report. (stub: to be filled by its collector's owner) */
#pragma once

#include "bundle.h"
#include "out.h"
#include "status.h"

struct np_pci {
	struct np_status status;
	int placeholder;
};

void np_pci_free(struct np_pci *s);
json_t *np_pci_to_json(const struct np_pci *s);
void np_pci_print(const struct np_pci *s, struct np_out *o);
int np_pci_bundle(const struct np_pci *s, struct np_bundle *b);
