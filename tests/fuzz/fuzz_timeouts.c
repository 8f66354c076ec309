// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target: the timeouts section's parsers. Input: the first byte picks the parser, the rest
 * is its text: a sysfs timeout attribute, a block device's sysfs path (transport port), or
 * multipathd's `show config` (whose "defaults" polling_interval is asked for).
 */
#include "../../pkg/collect/multipath.h"
#include "../../pkg/collect/timeouts.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	char *buf = strndup((const char *)data + 1, size - 1);
	if (!buf)
		return 0;
	int64_t v;
	char *port = NULL;
	const char *transport = NULL;
	switch (data[0] % 3) {
	case 0:
		np_tmo_parse(buf, &v);
		break;
	case 1:
		if (np_tmo_path_port(buf, &port, &transport) == 1 && (!port || !transport))
			abort();
		free(port);
		break;
	default:
		np_multipathd_config_int(buf, "defaults", "polling_interval", &v);
		break;
	}
	free(buf);
	return 0;
}
