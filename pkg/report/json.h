/* SPDX-License-Identifier: Apache-2.0 */
/* json.h - jansson helpers: NULL strings become JSON null, units live in key names. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * A JSON string for @v: NULL becomes null; bytes that are not valid UTF-8 or
 * are control characters other than tab/newline are replaced with '?', so
 * hostile hardware strings never make the document invalid. Never NULL.
 */
json_t *np_json_string(const char *v);

/*
 * np_json_quote() - the JSON text json_dumps() writes for np_json_string(@v): "null" for NULL, else
 * the string in quotes, '?' for what np_json_string() replaces, '"' and '\\' escaped, tab and
 * newline as \t and \n. Writes it to @dst when not NULL (no NUL added; room for the returned
 * length is the caller's) and returns its length in bytes, so a caller sizes first, then writes.
 */
size_t np_json_quote(char *dst, const char *v);

static inline void np_json_str(json_t *o, const char *key, const char *v)
{
	json_object_set_new(o, key, np_json_string(v));
}

/* jansson integers are signed 64-bit; values above INT64_MAX are emitted as a decimal string. */
static inline void np_json_u64(json_t *o, const char *key, uint64_t v)
{
	if (v > (uint64_t)INT64_MAX) {
		char buf[32];
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
		json_object_set_new(o, key, json_string(buf));
	} else {
		json_object_set_new(o, key, json_integer((json_int_t)v));
	}
}

static inline void np_json_s64(json_t *o, const char *key, int64_t v)
{
	json_object_set_new(o, key, json_integer(v));
}

static inline void np_json_bool(json_t *o, const char *key, bool v)
{
	json_object_set_new(o, key, json_boolean(v));
}

static inline void np_json_real(json_t *o, const char *key, double v)
{
	json_object_set_new(o, key, json_real(v));
}

/* Array of strings from a NULL-terminated vector (NULL vector -> []). */
static inline json_t *np_json_strv(char *const *v)
{
	json_t *a = json_array();
	for (; v && *v; v++)
		json_array_append_new(a, np_json_string(*v));
	return a;
}
