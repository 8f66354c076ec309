// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: raw NVMe pages - SMART (02h), firmware slot (03h), error log (01h), Identify Controller. */
#include "../../pkg/collect/nvme_smart.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct np_nvme_ctrl c = { 0 };
	np_nvme_smart_decode(data, size, &c.smart);
	np_nvme_fw_slot_decode(data, size, size ? data[0] & 7 : 0, &c.fw);
	uint64_t maxc;
	np_nvme_error_log_decode(data, size - size % 64, size > 8 ? data[8] : 0, &c.errors, &c.n_errors, &maxc);
	struct np_nvme_id_ctrl id;
	if (np_nvme_id_ctrl_decode(data, size, &id) == 0) {
		c.model = id.model;
		id.model = NULL;
		np_nvme_id_ctrl_free(&id);
	}
	json_t *j = np_nvme_ctrl_to_json(&c);
	char *s = json_dumps(j, 0);
	free(s);
	json_decref(j);
	np_nvme_ctrl_free(&c);
	return 0;
}
