/* SPDX-License-Identifier: Apache-2.0 */
/* testutil.h - cmocka helpers shared by the unit tests. */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Absolute path of a file in the source tree (tests/fixtures/...). Static buffer. */
static inline const char *np_src(const char *rel)
{
	static char buf[4096];
	const char *root = getenv("NP_SRCDIR");
	snprintf(buf, sizeof(buf), "%s/%s", root ? root : NP_SRCDIR, rel);
	return buf;
}

/* Read a whole source-tree file into a malloc'd NUL-terminated buffer (fails the test if absent). */
static inline char *np_slurp(const char *rel, size_t *len)
{
	FILE *f = fopen(np_src(rel), "rb");
	assert_non_null(f);
	char *buf = NULL;
	size_t cap = 0, n = 0, k;
	do {
		if (n + 4096 > cap) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap + 1);
			assert_non_null(buf);
		}
		k = fread(buf + n, 1, cap - n, f);
		n += k;
	} while (k > 0);
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}
