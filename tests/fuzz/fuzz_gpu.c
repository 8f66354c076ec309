// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: /proc/driver/nvidia/version and gpus/<addr>/information parsers. */
#include "../../pkg/collect/gpu.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = strndup((const char *)data, size);
	if (!buf)
		return 0;
	char *v = NULL;
	if (np_nvidia_version_parse(buf, &v) == 0 && (!v || !*v || strlen(v) > 64))
		abort();
	free(v);
	v = NULL;
	np_nvidia_info_field(buf, "Video BIOS", &v);
	free(v);
	free(buf);
	return 0;
}
