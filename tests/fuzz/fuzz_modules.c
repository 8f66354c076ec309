// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: /proc/modules parser, its JSON and bundle forms. */
#include "../../pkg/collect/modules.h"
#include "../../pkg/report/json.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct np_modules s = { 0 };
	struct np_bundle b = { 0 };
	np_parse_proc_modules((const char *)data, size, &s);
	json_t *j = np_modules_to_json(&s);
	char *txt = json_dumps(j, 0);
	free(txt);
	json_decref(j);
	np_modules_bundle(&s, &b);
	np_bundle_free(&b);
	np_modules_free(&s);
	return 0;
}
