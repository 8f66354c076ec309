// SPDX-License-Identifier: Apache-2.0
#define _GNU_SOURCE
#include "bundle.h"
#include "../shared/macro.h"

#include <errno.h>
#include <nettle/sha2.h>
#include <string.h>

int np_bundle_add(struct np_bundle *b, const char *component, const char *key, const char *value)
{
	struct np_bundle_item *ni = realloc(b->items, (b->n + 1) * sizeof(*ni));
	if (!ni)
		return -ENOMEM;
	b->items = ni;
	struct np_bundle_item *it = &b->items[b->n];
	it->component = strdup(component);
	it->key = strdup(key ? key : "");
	it->value = strdup(value && *value ? value : "unknown");
	if (!it->component || !it->key || !it->value) {
		free(it->component);
		free(it->key);
		free(it->value);
		return -ENOMEM;
	}
	b->n++;
	return 0;
}

static int item_cmp(const void *a, const void *b)
{
	const struct np_bundle_item *x = a, *y = b;
	int r = strcmp(x->component, y->component);
	if (!r)
		r = strcmp(x->key, y->key);
	if (!r)
		r = strcmp(x->value, y->value);
	return r;
}

static void item_free(struct np_bundle_item *it)
{
	free(it->component);
	free(it->key);
	free(it->value);
}

/* The canonical text (malloc'd, caller frees), or NULL on ENOMEM. */
static char *np_bundle_canonical(const struct np_bundle *b)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	for (size_t i = 0; i < b->n; i++)
		fprintf(f, "%s\t%s\t%s\n", b->items[i].component, b->items[i].key, b->items[i].value);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

int np_bundle_finish(struct np_bundle *b)
{
	if (b->n)
		qsort(b->items, b->n, sizeof(*b->items), item_cmp);
	size_t w = 0;
	for (size_t i = 0; i < b->n; i++) {
		if (w > 0 && item_cmp(&b->items[w - 1], &b->items[i]) == 0) {
			item_free(&b->items[i]);
			continue;
		}
		b->items[w++] = b->items[i];
	}
	b->n = w;
	_cleanup_free_ char *canon = np_bundle_canonical(b);
	if (!canon)
		return -ENOMEM;
	static const char tag[] = "nodeprint-bundle-v1\n";
	uint8_t md[SHA256_DIGEST_SIZE];
	struct sha256_ctx ctx;
	sha256_init(&ctx);
	sha256_update(&ctx, sizeof(tag) - 1, (const uint8_t *)tag);
	sha256_update(&ctx, strlen(canon), (const uint8_t *)canon);
	sha256_digest(&ctx, sizeof(md), md);
	for (unsigned i = 0; i < 6; i++)
		snprintf(b->hash + 2 * i, 3, "%02x", md[i]);
	return 0;
}

void np_bundle_free(struct np_bundle *b)
{
	for (size_t i = 0; i < b->n; i++)
		item_free(&b->items[i]);
	free(b->items);
	b->items = NULL;
	b->n = 0;
}

json_t *np_bundle_to_json(const struct np_bundle *b)
{
	json_t *o = json_object();
	json_t *a = json_array();
	for (size_t i = 0; i < b->n; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "component", b->items[i].component,
						   "key", b->items[i].key, "value", b->items[i].value));
	json_object_set_new(o, "hash", json_string(b->hash));
	json_object_set_new(o, "components", a);
	return o;
}
