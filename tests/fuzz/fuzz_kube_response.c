// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: API answers - Status, List pages, objects, watch lines, Retry-After, RFC 3339. */
#include "../../pkg/kube/api.h"
#include "../../pkg/kube/errors.h"
#include "../../pkg/kube/retry.h"
#include "../../pkg/kube/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *d = (const char *)data;
	struct np_kube_status st;
	json_t *o, *obj;
	const char *cont, *type;
	char *z = malloc(size + 1);
	uint64_t ms;
	time_t t;

	if (!z)
		return 0;
	memcpy(z, data, size);
	z[size] = '\0';
	np_kube_status_parse(d, size, &st);
	np_kube_errno(st.code, st.reason);
	np_kube_status_free(&st);
	if (np_kube_parse_list(d, size, &o, &cont) == 0)
		json_decref(o);
	if (np_kube_parse_object(d, size, "Node", &o) == 0)
		json_decref(o);
	if (np_kube_parse_watch_line(d, size, &o, &type, &obj) == 0)
		json_decref(o);
	np_parse_retry_after(z, 784111767, &ms);
	np_parse_rfc3339(z, &t);
	np_kube_name_valid(z);
	free(z);
	return 0;
}
