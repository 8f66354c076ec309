/* SPDX-License-Identifier: Apache-2.0 */
/* mounts.h - the "mounts" section of the node report. (stub: to be filled by its collector's owner) */
#pragma once

#include "bundle.h"
#include "out.h"
#include "status.h"

struct np_mounts {
	struct np_status status;
	int placeholder;
};

void np_mounts_free(struct np_mounts *s);
json_t *np_mounts_to_json(const struct np_mounts *s);
void np_mounts_print(const struct np_mounts *s, struct np_out *o);
int np_mounts_bundle(const struct np_mounts *s, struct np_bundle *b);
