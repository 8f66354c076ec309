// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: the kubelet's vol_data.json reader (Kubernetes pkg/volume/csi saveVolumeData()). */
#include "../../pkg/collect/volumes.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *d, *h, *s;
	if (np_parse_vol_data((const char *)data, size, &d, &h, &s) == 0) {
		free(d);
		free(h);
		free(s);
	}
	return 0;
}
