/* SPDX-License-Identifier: Apache-2.0 */
/* collectutil.h - run one section's collector on a fixture tree (a real capture). */
#pragma once

#include "testutil.h"
#include "../../pkg/collect/collector.h"

/* Collect only section @section from tests/fixtures/<@rel> into @r (zeroed by the caller); the run must succeed. */
static inline void np_collect_fixture(const char *rel, const char *section, struct np_report *r)
{
	struct np_host h;
	assert_int_equal(np_host_open(&h, np_src(rel)), 0);
	struct np_collect_ctx ctx = { .host = &h };
	char *only[] = { (char *)section, NULL };
	assert_int_equal(np_collect_all(&ctx, only, r), 0);
	np_host_close(&h);
}

/* Section @section of one pass with @ctx, as JSON text with sorted keys (the caller frees it). */
static inline char *np_collect_section_json(struct np_collect_ctx *ctx, const char *section)
{
	char *only[] = { (char *)section, NULL };
	struct np_report r = { 0 };
	assert_int_equal(np_collect_all(ctx, only, &r), 0);
	json_t *j = np_report_to_json(&r);
	char *s = json_dumps(json_object_get(j, section), JSON_SORT_KEYS);
	json_decref(j);
	np_report_free(&r);
	assert_non_null(s);
	return s;
}
