// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: the /proc/<pid>/mountinfo parser (proc(5)) and its octal unescaping. */
#include "../../pkg/collect/mounts.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct np_mounts s = { 0 };
	np_parse_mountinfo((const char *)data, size, &s);
	np_mounts_free(&s);
	char *c = strndup((const char *)data, size);
	if (c) {
		np_mountinfo_unescape(c);
		free(c);
	}
	return 0;
}
