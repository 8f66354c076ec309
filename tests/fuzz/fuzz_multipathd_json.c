// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: multipathd `show maps json` replies, parsed and merged into a map. */
#include "../../pkg/collect/multipath.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct np_mpd d;
	if (np_multipathd_parse_json((const char *)data, size, &d) < 0)
		return 0;
	struct np_multipath s = { 0 };
	s.maps = calloc(1, sizeof(*s.maps));
	s.n_maps = 1;
	const char *why;
	s.maps[0].dm = strdup("dm-0");
	np_dm_mpath_parse_table("0 0 2 1 round-robin 0 1 1 8:0 1 round-robin 0 1 1 8:16 1", &s.maps[0], &why);
	np_multipathd_merge(&s, &d);
	np_multipath_free(&s);
	np_mpd_free(&d);
	return 0;
}
