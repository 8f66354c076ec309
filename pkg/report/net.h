/* SPDX-License-Identifier: Apache-2.0 */
/* net.h - the "net" section of the node report. (stub: to be filled by its collector's owner) */
#pragma once

#include "bundle.h"
#include "out.h"
#include "status.h"

struct np_net {
	struct np_status status;
	int placeholder;
};

void np_net_free(struct np_net *s);
json_t *np_net_to_json(const struct np_net *s);
void np_net_print(const struct np_net *s, struct np_out *o);
int np_net_bundle(const struct np_net *s, struct np_bundle *b);
