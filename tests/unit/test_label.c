// SPDX-License-Identifier: Apache-2.0
/* Label keys and values: cases 01, 03 and 04 of ../shared/cases as regression tests. */
#include "testutil.h"
#include "../../pkg/policy/label.h"

static void expect(const char *raw, size_t tail, const char *want)
{
	char *v = np_label_value(raw, tail);
	assert_non_null(v);
	assert_string_equal(v, want);
	assert_true(np_label_value_valid(v));
	free(v);
}

/* case 01: kernel releases with '+' (NFD #308) */
static void test_case01_kernel_release_plus(void **state)
{
	(void)state;
	expect("4.9.140-l4t-r32.3.1+g47e7e1cb0b49", 0, "4.9.140-l4t-r32.3.1_g47e7e1cb0b49");
	expect("6.12.74+deb13+1-amd64", 0, "6.12.74_deb13_1-amd64");
	expect("5.14.0-284.11.1.el9_2.x86_64+debug", 0, "5.14.0-284.11.1.el9_2.x86_64_debug");
	assert_false(np_label_value_valid("4.9.140-l4t-r32.3.1+g47e7e1cb0b49"));
}

/* case 03: product names with '/', '(', ')', '@' and spaces */
static void test_case03_product_names(void **state)
{
	(void)state;
	expect("AMD Instinct MI250X / MI250", 0, "AMD_Instinct_MI250X_MI250");
	expect("NVIDIA TITAN X (Pascal)", 0, "NVIDIA_TITAN_X_Pascal");
	expect("Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz", 0, "Intel_R_Xeon_R_Gold_6338_CPU_2.00GHz");
	assert_false(np_label_key_valid("beta.amd.com/gpu.product-name.AMD_Instinct_MI250X_/_MI250"));
	assert_true(np_label_key_valid("nodeprint.io/nvme-firmware"));
}

/* case 04: values over 63 characters */
static void test_case04_long_values(void **state)
{
	(void)state;
	const char *raw = "NVIDIA-RTX-PRO-6000-Blackwell-Max-Q-Workstation-Edition-MIG-1g.24gb";
	assert_int_equal(strlen(raw), 67);
	char *v = np_label_value(raw, 11);
	assert_true(strlen(v) <= 63);
	assert_true(np_label_value_valid(v));
	assert_non_null(strstr(v, "MIG-1g.24gb"));
	/* deterministic: the same raw value gives the same label; another raw value another label */
	char *again = np_label_value(raw, 11);
	assert_string_equal(v, again);
	char *other = np_label_value("NVIDIA-RTX-PRO-6000-Blackwell-Max-Q-Workstation-Edition-MIG-2g.48gb", 11);
	assert_string_not_equal(v, other);
	free(v);
	free(again);
	free(other);

	/* 64 chars whose 63rd is '-': never ends in '-' */
	char s64[65];
	memset(s64, 'a', 64);
	s64[62] = '-';
	s64[64] = '\0';
	v = np_label_value(s64, 0);
	assert_true(strlen(v) <= 63);
	assert_true(np_label_value_valid(v));
	free(v);

	/* exactly 63 valid characters stay byte-identical */
	char s63[64];
	memset(s63, 'b', 63);
	s63[63] = '\0';
	expect(s63, 0, s63);
}

static void test_keys_and_hostile_values(void **state)
{
	(void)state;
	assert_true(np_label_value_valid(""));
	assert_false(np_label_key_valid(""));
	assert_false(np_label_key_valid("/x"));
	assert_false(np_label_key_valid("Nodeprint.io/x"));
	assert_false(np_label_key_valid("a/b/c"));
	assert_false(np_dns_subdomain_valid("a..b"));
	assert_false(np_dns_subdomain_valid("-a.b"));
	/* only invalid characters: nothing survives, an empty (valid) value */
	expect("\xff\xfe ()/", 0, "");
	expect("\x01\x02" "abc\x7f", 0, "abc");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_case01_kernel_release_plus),
		cmocka_unit_test(test_case03_product_names),
		cmocka_unit_test(test_case04_long_values),
		cmocka_unit_test(test_keys_and_hostile_values),
	};
	return cmocka_run_group_tests_name("label", tests, NULL, NULL);
}
