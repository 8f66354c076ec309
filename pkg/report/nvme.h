/* SPDX-License-Identifier: Apache-2.0 */
/* nvme.h - the "nvme" section of the node report. (stub: to be filled by its collector's owner) */
#pragma once

#include "bundle.h"
#include "out.h"
#include "status.h"

struct np_nvme {
	struct np_status status;
	int placeholder;
};

void np_nvme_free(struct np_nvme *s);
json_t *np_nvme_to_json(const struct np_nvme *s);
void np_nvme_print(const struct np_nvme *s, struct np_out *o);
int np_nvme_bundle(const struct np_nvme *s, struct np_bundle *b);
