// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target: `nodeprint fleet` over one LIST page - the Nodes' nodeprint labels and the
 * P/fingerprint annotation (JSON inside a string) grouped, judged by a class's pins, diffed against
 * the class's pinned bundle, rendered as JSON and text (pkg/agent/fleet.c).
 */
#define _GNU_SOURCE
#include "../../pkg/agent/fleet.h"
#include "../../pkg/kube/api.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const char policy[] = "classes:\n"
			     "  - name: r740\n"
			     "    pins: {kernel: {release: ['6.18.*']}, nic: {'*': ['driver 1.0.0 firmware none']},"
			     " nvme: {'QEMU NVMe Ctrl': ['>=7.2 <8']}}\n"
			     "  - name: lab\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct np_policy pol;
	static bool loaded;
	json_t *page, *node;
	const char *cont;
	size_t i;

	if (!loaded) {
		char *err = NULL;
		if (np_policy_parse(policy, strlen(policy), "fuzz.yaml", &pol, &err) < 0)
			abort();
		loaded = true;
	}
	if (np_kube_parse_list((const char *)data, size, &page, &cont) < 0)
		return 0;
	struct np_fleet f = { .pol = &pol, .show_bundle = size % 2 ? "aaaaaaaaaaaa" : NULL };
	json_array_foreach(json_object_get(page, "items"), i, node)
		if (np_fleet_add(&f, node) < 0)
			break;
	if (np_fleet_finish(&f) == 0) {
		json_t *j = np_fleet_to_json(&f);
		char *s = json_dumps(j, JSON_COMPACT);
		free(s);
		json_decref(j);
		FILE *out = fopen("/dev/null", "w");
		if (out) {
			np_fleet_print(&f, out);
			fclose(out);
		}
		np_fleet_nodes_with(&f, NP_FLEET_DRIFT);
	}
	np_fleet_free(&f);
	json_decref(page);
	return 0;
}
