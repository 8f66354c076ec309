// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: a PCI function's config space, walked for its Device Serial Number. */
#include "../../pkg/collect/pci.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t dsn;
	np_pci_config_dsn(data, size, &dsn); /* np_pci_config_dsn_read() over the bytes */
	return 0;
}
