// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target: the udev database parser (/run/udev/data/b<maj>:<min>),
 * \xNN unescaping, queue/scheduler parsing and transport detection on the
 * same bytes.
 */
#include "../../pkg/collect/block.h"
#include "../../pkg/shared/strutil.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char **props = NULL;
	size_t bad = 0;
	int r = np_udev_db_parse((const char *)data, size, &props, &bad);
	if (r == -ENOMEM)
		abort();
	const char *model = np_udev_prop(props, "ID_MODEL_ENC");
	if (model) {
		char *m = np_udev_unescape(model);
		free(m);
	}
	np_block_transport(np_udev_prop(props, "ID_PATH"), np_udev_prop(props, "ID_BUS"), NULL);
	np_strv_free(props);
	char *s = strndup((const char *)data, size);
	if (!s)
		return 0;
	char *active = NULL, **all = NULL;
	if (np_block_parse_scheduler(s, &active, &all) == 0) {
		if (!active || !all || !all[0])
			abort();
		free(active);
		np_strv_free(all);
	}
	np_block_transport(s, s, s);
	free(np_udev_unescape(s));
	free(s);
	return 0;
}
