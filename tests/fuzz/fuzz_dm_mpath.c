// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target: dm-multipath table and status parsers. Input: a table
 * (params or a whole `dmsetup table` line), a newline, then a status.
 */
#include "../../pkg/collect/multipath.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void line(const char *s, struct np_mpath_map *m, int table)
{
	char *name = NULL, *target = NULL, *params = NULL;
	const char *why;
	if (np_dm_line_params(s, &name, &target, &params) == 0) {
		if (table)
			np_dm_mpath_parse_table(params, m, &why);
		else
			np_dm_mpath_parse_status(params, m, &why);
		free(name);
		free(target);
		free(params);
	} else if (table) {
		np_dm_mpath_parse_table(s, m, &why);
	} else {
		np_dm_mpath_parse_status(s, m, &why);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = strndup((const char *)data, size);
	if (!buf)
		return 0;
	char *nl = strchr(buf, '\n');
	char *status = nl ? nl + 1 : buf;
	if (nl)
		*nl = '\0';
	struct np_multipath s = { 0 };
	s.maps = calloc(2, sizeof(*s.maps));
	s.n_maps = 2;
	line(buf, &s.maps[0], 1);
	line(status, &s.maps[0], 0);
	line(status, &s.maps[1], 0); /* status alone builds its own groups */
	json_t *j = np_multipath_to_json(&s);
	char *out = json_dumps(j, 0);
	free(out);
	json_decref(j);
	np_multipath_free(&s);
	free(buf);
	return 0;
}
