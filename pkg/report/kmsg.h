/* SPDX-License-Identifier: Apache-2.0 */
/* kmsg.h - the "kmsg" section of the node report. (stub: to be filled by its collector's owner) */
#pragma once

#include "bundle.h"
#include "out.h"
#include "status.h"

struct np_kmsg {
	struct np_status status;
	int placeholder;
};

void np_kmsg_free(struct np_kmsg *s);
json_t *np_kmsg_to_json(const struct np_kmsg *s);
void np_kmsg_print(const struct np_kmsg *s, struct np_out *o);
int np_kmsg_bundle(const struct np_kmsg *s, struct np_bundle *b);
