// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target: /dev/kmsg records (Documentation/ABI/testing/dev-kmsg),
 * the stream splitter used for captures, the classifier and the event ring.
 */
#include "../../pkg/collect/kmsg.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int add(const struct np_kmsg_record *rec, void *ud)
{
	return np_kmsg_add_record(ud, rec, 1000, NULL) < 0 ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct np_kmsg_record rec;
	if (np_kmsg_parse_record((const char *)data, size, &rec) == 0) {
		struct np_kmsg_match m;
		if (np_kmsg_classify(rec.message, &m) > 0)
			np_kmsg_match_free(&m);
		np_kmsg_record_free(&rec);
	}
	struct np_kmsg s = { .max_events = 4 };
	np_kmsg_parse_stream((const char *)data, size, add, &s);
	json_decref(np_kmsg_to_json(&s));
	np_kmsg_free(&s);
	/* the classifier alone, on the raw bytes as one message */
	char *msg = strndup((const char *)data, size);
	if (msg) {
		struct np_kmsg_match m;
		if (np_kmsg_classify(np_kmsg_unescape(msg), &m) > 0)
			np_kmsg_match_free(&m);
		free(np_nvme_controller_of(msg));
		free(msg);
	}
	return 0;
}
