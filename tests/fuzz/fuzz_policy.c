// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: the YAML policy parser and the label-value sanitiser. */
#include "../../pkg/policy/label.h"
#include "../../pkg/policy/policy.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct np_policy p;
	char *err = NULL;
	if (np_policy_parse((const char *)data, size, "fuzz", &p, &err) == 0)
		np_policy_free(&p);
	free(err);
	char *s = strndup((const char *)data, size);
	if (s) {
		char *v = np_label_value(s, size % 20);
		if (v && !np_label_value_valid(v))
			abort(); /* the sanitiser must always produce a valid value */
		free(v);
		free(s);
	}
	return 0;
}
