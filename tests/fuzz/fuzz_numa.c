// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target: the numa section's parsers. Input: the first byte picks the parser, the rest is
 * its text: a CPU list (/sys/devices/system/node/nodeN/cpulist, effective_affinity_list) or a sysfs
 * path whose PCI function is wanted.
 */
#include "../../pkg/collect/numa.h"

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
	if (data[0] & 1) {
		char *bdf = NULL;
		if (np_pci_bdf_in_path(buf, &bdf) == 1 && (!bdf || strlen(bdf) != 12))
			abort();
		free(bdf);
	} else {
		unsigned *cpus = NULL;
		size_t n = 0;
		if (np_cpulist_parse(buf, &cpus, &n) == 0)
			for (size_t i = 1; i < n; i++)
				if (cpus[i] <= cpus[i - 1] || cpus[i] > NP_CPULIST_MAX)
					abort(); /* ascending, bounded */
		free(cpus);
	}
	free(buf);
	return 0;
}
