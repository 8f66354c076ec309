/* SPDX-License-Identifier: Apache-2.0 */
/* modules.h - the "modules" section of the node report. (stub: to be filled by its collector's owner) */
#pragma once

#include "bundle.h"
#include "out.h"
#include "status.h"

struct np_modules {
	struct np_status status;
	int placeholder;
};

void np_modules_free(struct np_modules *s);
json_t *np_modules_to_json(const struct np_modules *s);
void np_modules_print(const struct np_modules *s, struct np_out *o);
int np_modules_bundle(const struct np_modules *s, struct np_bundle *b);
