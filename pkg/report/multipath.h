/* SPDX-License-Identifier: Apache-2.0 */
/* multipath.h - the "multipath" section of the node report. (stub: to be filled by its collector's owner) */
#pragma once

#include "bundle.h"
#include "out.h"
#include "status.h"

struct np_multipath {
	struct np_status status;
	int placeholder;
};

void np_multipath_free(struct np_multipath *s);
json_t *np_multipath_to_json(const struct np_multipath *s);
void np_multipath_print(const struct np_multipath *s, struct np_out *o);
int np_multipath_bundle(const struct np_multipath *s, struct np_bundle *b);
