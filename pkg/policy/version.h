/* SPDX-License-Identifier: Apache-2.0 */
/*
 * version.h - version order as `sort -V` (GNU coreutils, gnulib filevercmp) and
 * dpkg (deb-version(7), "Version" in the Debian Policy Manual 5.6.12) define
 * it, and the policy's version patterns built on it.
 */
#pragma once

#include <stdbool.h>

/*
 * np_vercmp() - compare two versions in `sort -V` order. Runs of non-digits
 * compare character by character, letters before other characters, '~'
 * before everything, even the end of the string ("1.0~rc1" < "1.0"); runs of
 * digits compare as numbers, leading zeros ignored ("6.18.44" < "6.18.0100").
 * As filevercmp, a trailing file suffix (\.[A-Za-z~][A-Za-z0-9~]*)* is
 * compared only when the rest is equal. Returns < 0, 0 or > 0. Versions that
 * differ only in leading zeros compare equal (`sort` then falls back to
 * byte order; a policy calls them the same version).
 */
int np_vercmp(const char *a, const char *b);

/*
 * np_version_match() - does @value satisfy @pattern? A pattern is a glob
 * (fnmatch(3), e.g. "6.1.0-*") or a version range of space- or comma-separated
 * comparisons (">=6.1.0-25 <6.1.0-30"; operators >= <= == = != > <) in
 * np_vercmp() order. NULL on either side, or an unknown operator: false.
 */
bool np_version_match(const char *pattern, const char *value);

/*
 * np_version_pattern_error() - is @pattern (not NULL) a pattern np_version_match() judges as
 * written? A glob always is. A range is when each comparison is an operator followed by a
 * version: ">= 6.1.0" (the version its own comparison, without operator), "=>6.1" or a
 * trailing "<" would never match, so every node would drift. Returns NULL when it is, else a
 * static string saying what is wrong.
 */
const char *np_version_pattern_error(const char *pattern);
