// SPDX-License-Identifier: Apache-2.0
/* test_json_write.c - np_json_write_compact() writes what json_dumpf(JSON_COMPACT) writes, byte for byte. */
#include "testutil.h"
#include "../../pkg/report/json_write.h"

#include <stdint.h>

static char *write_mem(const json_t *j, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	assert_non_null(f);
	assert_int_equal(np_json_write_compact(j, f), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void assert_same_as_jansson(const json_t *j)
{
	size_t len;
	char *mine = write_mem(j, &len);
	char *ref = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	assert_non_null(ref);
	assert_int_equal(len, strlen(ref));
	assert_memory_equal(mine, ref, len);
	free(mine);
	free(ref);
}

static void test_every_type_and_escape(void **state)
{
	(void)state;
	json_t *o = json_object();
	json_object_set_new(o, "s", json_string("plain \"quoted\" back\\slash /slash"));
	json_object_set_new(o, "ctl", json_stringn("\b\f\n\r\t\x01\x1f\x7f end", sizeof("\b\f\n\r\t\x01\x1f\x7f end") - 1));
	json_object_set_new(o, "nul", json_stringn("a\0b", 3));
	json_object_set_new(o, "utf8", json_string("Gr\xc3\xbc\xc3\x9f" "e \xe2\x82\xac \xf0\x9f\x98\x80"));
	json_object_set_new(o, "key \"with\"\nescapes", json_true());
	json_object_set_new(o, "f", json_false());
	json_object_set_new(o, "n", json_null());
	json_object_set_new(o, "i0", json_integer(0));
	json_object_set_new(o, "imin", json_integer(INT64_MIN));
	json_object_set_new(o, "imax", json_integer(INT64_MAX));
	json_object_set_new(o, "ineg", json_integer(-42));
	json_object_set_new(o, "r", json_real(0.1));
	json_object_set_new(o, "r2", json_real(1e300));
	json_object_set_new(o, "r3", json_real(-2.5));
	json_object_set_new(o, "r4", json_real(100.0));
	json_object_set_new(o, "eo", json_object());
	json_object_set_new(o, "ea", json_array());
	json_t *a = json_array();
	for (int i = 0; i < 100000; i++) /* larger than the 64 KiB buffer */
		json_array_append_new(a, json_integer((json_int_t)i * 7919 - 50000));
	json_array_append_new(a, json_pack("{s:[i,{s:s}]}", "deep", 1, "x", "y"));
	json_object_set_new(o, "big", a);
	assert_same_as_jansson(o);
	json_decref(o);
	json_t *s = json_string("a string alone");
	assert_same_as_jansson(s);
	json_decref(s);
}

/* A real document: the report schema, key order kept. */
static void test_real_document(void **state)
{
	(void)state;
	json_error_t e;
	json_t *j = json_load_file(np_src("docs/report.schema.json"), JSON_DECODE_ANY, &e);
	assert_non_null(j);
	assert_same_as_jansson(j);
	json_decref(j);
}

/* A tree with per-CPU arrays: written deferred, the same bytes as the arrays built as jansson values. */
static json_t *irq_tree(const uint64_t *v, size_t n)
{
	json_t *o = json_object(), *a = json_array();
	for (size_t k = 0; k < 3; k++) {
		json_t *q = json_object();
		json_object_set_new(q, "irq", json_integer((json_int_t)k));
		json_object_set_new(q, "per_cpu", np_json_u64_array(v + k, n - k));
		json_object_set_new(q, "none", np_json_u64_array(v, 0));
		json_array_append_new(a, q);
	}
	json_object_set_new(o, "irqs", a);
	json_object_set_new(o, "empty", json_array()); /* a real empty array stays empty */
	return o;
}

static void test_deferred_arrays(void **state)
{
	(void)state;
	size_t n = 20000; /* more than the 64 KiB buffer holds */
	uint64_t *v = calloc(n, sizeof(*v));
	assert_non_null(v);
	for (size_t i = 0; i < n; i++) /* every digit count: below 10^8 (written 8 digits at once) and above */
		v[i] = i * 2654435761u % (i % 3 == 0 ? UINT64_MAX : i % 3 == 1 ? 100000000 : 1000 + i);
	v[1] = UINT64_MAX; /* above INT64_MAX: clamped, as jansson integers are signed */
	v[2] = (uint64_t)INT64_MAX;
	uint64_t edges[] = { 0,        7,         9,         10,        99,         100,       101,
			     999,      1000,      9999,      10000,     99999,      100000,    1000000,
			     1234567,  9999999,   10000000,  12345678,  99999999,   100000000, 100000001,
			     4294967295u, 1000000000000000000u };
	memcpy(v + 3, edges, sizeof(edges)); /* every digit count's edges */
	json_t *built = irq_tree(v, n);
	char *ref = json_dumps(built, JSON_COMPACT | JSON_PRESERVE_ORDER);
	assert_non_null(ref);
	assert_non_null(strstr(ref, ",9223372036854775807,9223372036854775807,"));
	struct np_json_defer *d = np_json_defer_begin();
	assert_non_null(d);
	assert_null(np_json_defer_begin()); /* one at a time */
	json_t *deferred = irq_tree(v, n);
	json_t *first = json_object_get(json_array_get(json_object_get(deferred, "irqs"), 0), "per_cpu");
	assert_int_equal(json_array_size(first), 0); /* a stand-in: nothing built */
	size_t len;
	char *mine = write_mem(deferred, &len);
	assert_int_equal(len, strlen(ref));
	assert_memory_equal(mine, ref, len);
	json_decref(deferred);
	np_json_defer_end(d);
	d = np_json_defer_begin(); /* ended: a new one may begin */
	assert_non_null(d);
	np_json_defer_end(d);
	free(mine);
	free(ref);
	json_decref(built);
	free(v);
}

static void test_write_error(void **state)
{
	(void)state;
	FILE *f = fopen("/dev/full", "w");
	if (!f)
		skip();
	setvbuf(f, NULL, _IONBF, 0);
	json_t *j = json_pack("[s]", "x");
	assert_int_equal(np_json_write_compact(j, f), -EIO);
	json_decref(j);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_type_and_escape),
		cmocka_unit_test(test_real_document),
		cmocka_unit_test(test_deferred_arrays),
		cmocka_unit_test(test_write_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
