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
#include <unistd.h>

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

/*
 * A private copy of a fixture tree (a real capture) under /tmp, for tests that remove or change one
 * file of it. @out gets the folder (at least 64 bytes). Remove it with np_fixture_drop().
 */
static inline void np_fixture_copy(const char *rel, char *out, size_t outlen)
{
	snprintf(out, outlen, "/tmp/np-fixture-XXXXXX");
	assert_non_null(mkdtemp(out));
	char cmd[8192];
	snprintf(cmd, sizeof(cmd), "cp -a '%s/.' '%s/'", np_src(rel), out);
	assert_int_equal(system(cmd), 0);
}

static inline void np_fixture_drop(const char *dir)
{
	char cmd[512];
	assert_true(strncmp(dir, "/tmp/np-fixture-", 16) == 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}
