// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target: the uevent classifier (pkg/agent/uevent.h) on ACTION, SUBSYSTEM, sysname and
 * NVME_AEN taken from the input as four NUL-separated fields (missing fields are NULL).
 */
#include "../../pkg/agent/uevent.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	const char *f[4] = { 0 };
	size_t n = 0;
	for (char *p = buf; n < 4 && p <= buf + size; p += strlen(p) + 1)
		f[n++] = p;
	struct np_uevent ev;
	np_uevent_classify(f[0], f[1], f[2], f[3], &ev);
	free(buf);
	return 0;
}
