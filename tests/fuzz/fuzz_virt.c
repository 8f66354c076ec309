// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: a virtio device's features attribute. */
#include "../../pkg/collect/virt.h"
#include "../../pkg/shared/strutil.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = strndup((const char *)data, size);
	if (!buf)
		return 0;
	char **bits = NULL;
	size_t n = 0;
	if (np_virtio_features_parse(buf, &bits, &n) == 0 && n > 128)
		abort();
	np_strv_free(bits);
	free(buf);
	return 0;
}
