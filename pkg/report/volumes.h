/* SPDX-License-Identifier: Apache-2.0 */
/* volumes.h - the "volumes" section of the node report. (stub: to be filled by its collector's owner) */
#pragma once

#include "bundle.h"
#include "out.h"
#include "status.h"

struct np_volumes {
	struct np_status status;
	int placeholder;
};

void np_volumes_free(struct np_volumes *s);
json_t *np_volumes_to_json(const struct np_volumes *s);
void np_volumes_print(const struct np_volumes *s, struct np_out *o);
int np_volumes_bundle(const struct np_volumes *s, struct np_bundle *b);
