/* SPDX-License-Identifier: Apache-2.0 */
/*
 * status.h - how a section (or one item in it) records its own failure
 * without losing what the other sections found.
 */
#pragma once

#include <jansson.h>

struct np_status {
	int err;      /* 0, or the positive errno of the failure */
	char *error;  /* human message, e.g. "unavailable: permission (/dev/nvme0)"; NULL when err == 0 */
};

/*
 * np_status_set() - record a failure. @negerr is a negative errno (a positive
 * one is accepted too). The message is built from @fmt; the first failure wins
 * (later calls are ignored) so the root cause is kept.
 */
void np_status_set(struct np_status *st, int negerr, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void np_status_clear(struct np_status *st);

/* Add "error" and "errno" (the symbolic name, e.g. "EACCES") to @obj when set. */
void np_status_to_json(const struct np_status *st, json_t *obj);

/* "unavailable: permission" for EACCES/EPERM, "unavailable: not present" for ENOENT, else strerror. */
const char *np_errno_reason(int err);
