// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target: NVIDIA Xid / NVSwitch SXid lines and the driver's load
 * line (pkg/collect/gpu_xid.h), the class table, and the kmsg section's
 * per-(device, code) series on the same bytes.
 */
#include "../../pkg/collect/gpu_xid.h"
#include "../../pkg/collect/kmsg.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *msg = strndup((const char *)data, size);
	if (!msg)
		return 0;
	struct np_xid x;
	if (np_xid_parse(msg, &x) == 0) {
		const char *origin;
		np_xid_class(&x, 0, &origin);
		np_xid_class(&x, 570, &origin);
		np_xid_class(&x, 580, &origin);
	}
	np_nvrm_driver_branch(msg);
	struct np_kmsg s = { .max_events = 4 };
	struct np_kmsg_record rec = { .seq = 1, .message = msg };
	for (int i = 0; i < 3; i++) {
		rec.seq++;
		np_kmsg_add_record(&s, &rec, 0, NULL);
	}
	json_decref(np_kmsg_to_json(&s));
	np_kmsg_free(&s);
	free(msg);
	return 0;
}
