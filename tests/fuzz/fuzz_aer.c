// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: aer_dev_* counter files and link speed strings of the pci collector. */
#include "../../pkg/collect/pci.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct np_aer_counters a = { 0 };
	struct np_status st = { 0 };
	np_parse_aer_counters((const char *)data, size, &a, &st, "aer_dev_correctable");
	json_t *j = np_aer_counters_to_json(&a);
	char *txt = json_dumps(j, 0);
	free(txt);
	json_decref(j);
	np_aer_counters_free(&a);
	np_status_clear(&st);

	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	double gts;
	np_parse_link_speed(s, &gts);
	free(s);
	return 0;
}
