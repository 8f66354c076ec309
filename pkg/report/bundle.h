/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bundle.h - the node's driver bundle: a canonical, sorted list of
 * (component, key, value) that identifies kernel, module, NIC, NVMe, BIOS and
 * microcode versions, and its stable short hash (the fingerprint).
 *
 * Canonical form: one line per item, "component\tkey\tvalue\n", items sorted
 * bytewise, duplicates dropped. Hash: the first 12 hex digits of SHA-256 of
 * "nodeprint-bundle-v1\n" followed by the canonical form.
 */
#pragma once

#include <jansson.h>
#include <stddef.h>

struct np_bundle_item {
	char *component; /* "kernel", "module", "nic", "nvme", "bios", "cpu" */
	char *key;       /* e.g. "release", "virtio_net", "virtio_net 1af4:1041" */
	char *value;     /* e.g. "6.1.0-41-amd64", "fw 1.2 / drv 1.0" */
};

struct np_bundle {
	struct np_bundle_item *items;
	size_t n;
	char hash[13]; /* filled by np_bundle_finish() */
};

/* Add an item (strings copied; NULL or empty value becomes "unknown"). Returns 0 or -ENOMEM. */
int np_bundle_add(struct np_bundle *b, const char *component, const char *key, const char *value);
/* Sort, de-duplicate and compute the hash. Returns 0 or -ENOMEM/-EIO. */
int np_bundle_finish(struct np_bundle *b);
void np_bundle_free(struct np_bundle *b);
/* {"hash": "...", "components": [{"component","key","value"}...]} */
json_t *np_bundle_to_json(const struct np_bundle *b);
