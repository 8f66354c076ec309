/* SPDX-License-Identifier: Apache-2.0 */
/* strutil.h - strict number parsing, trimming and string vectors. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Trim leading and trailing whitespace and NULs in place; returns @s. */
char *np_strip(char *s);

/*
 * Copy a fixed-width field (NVMe identify strings, ethtool driver-info) that
 * may be space- or NUL-padded: stops at the first NUL, trims spaces at both
 * ends, replaces non-printable bytes with '?'. Returns a malloc'd string or NULL (ENOMEM).
 */
char *np_strndup_field(const char *s, size_t width);

/*
 * Strict parsers: the whole string (after trimming whitespace) must be a number.
 * np_parse_u64 takes decimal or 0x-hex. Return 0, -EINVAL (not a number, empty,
 * sign on unsigned) or -ERANGE (overflow).
 */
int np_parse_u64(const char *s, uint64_t *out);
/*
 * np_parse_dec() - the strictest form, for kernel fields: only decimal digits, no sign, no
 * space, no hex, value <= @max. Returns 0, -EINVAL or -ERANGE.
 */
int np_parse_dec(const char *s, uint64_t max, uint64_t *out);
int np_parse_s64(const char *s, int64_t *out);
int np_parse_double(const char *s, double *out);

/* NULL-terminated string vectors (char **). */
int np_strv_push(char ***v, size_t *n, const char *s);
int np_strv_push_take(char ***v, size_t *n, char *s);
void np_strv_free(char **v);
/* For _cleanup_(np_strv_freep): np_strv_free() of *@v. */
static inline void np_strv_freep(char ***v)
{
	np_strv_free(*v);
}
bool np_strv_contains(char *const *v, const char *s);

/* Split @s on any of @seps (runs collapsed). Returns 0 and a vector, or -ENOMEM. */
int np_split(const char *s, const char *seps, char ***out, size_t *n);

/* malloc'd printf; NULL on ENOMEM. */
char *np_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * np_next_line() - the line of @buf (@len bytes, no NUL needed) that starts
 * at *@off: *@line and *@l get its start and length without the '\n', and
 * *@off moves past it. Returns false at the end of the buffer.
 */
bool np_next_line(const char *buf, size_t len, size_t *off, const char **line, size_t *l);

/* true when @s starts with @prefix. */
bool np_startswith(const char *s, const char *prefix);
