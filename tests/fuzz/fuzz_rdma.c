// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: /sys/class/infiniband "<n>: <name>" attributes (state, phys_state, node_type) and rate. */
#include "../../pkg/collect/rdma.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = strndup((const char *)data, size);
	if (!buf)
		return 0;
	int code = -1;
	char *name = NULL;
	if (np_rdma_state_parse(buf, &code, &name) == 0 && (code < 0 || code > 255 || !name || !*name ||
							     strlen(name) > 64))
		abort();
	free(name);
	double g = -1;
	if (np_rdma_rate_parse(buf, &g) == 0 && g < 0)
		abort();
	free(buf);
	return 0;
}
