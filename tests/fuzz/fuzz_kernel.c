// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: os-release(5) and /proc/cpuinfo parsers. */
#include "../../pkg/collect/kernel.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct np_kernel k = { 0 };
	np_parse_os_release((const char *)data, size, &k);
	np_parse_cpuinfo((const char *)data, size, &k);
	char *t = np_taint_letters(size ? data[0] * 0x0101010101010101ULL : 0);
	free(t);
	np_kernel_free(&k);
	return 0;
}
