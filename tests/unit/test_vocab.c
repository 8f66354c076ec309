// SPDX-License-Identifier: Apache-2.0
/*
 * One vocabulary (pkg/policy/vocab.h): docs/reference.md names every finding, condition type,
 * reason and Event reason of the table; the built-in policy's actions are the table's defaults;
 * the reasons blind sources give are documented too. A word added to the code and not to the
 * docs fails here.
 */
#include "testutil.h"
#include "../../pkg/policy/blind.h"
#include "../../pkg/policy/policy.h"
#include "../../pkg/policy/vocab.h"
#include "../../pkg/report/section.h"
#include "../../pkg/shared/macro.h"
#include "../../pkg/shared/strutil.h"

/* @word appears in @doc as code: `word` or `P/word` */
static bool documented(const char *doc, const char *word)
{
	char a[128], b[128];
	snprintf(a, sizeof(a), "`%s`", word);
	snprintf(b, sizeof(b), "`P/%s`", word);
	return strstr(doc, a) || strstr(doc, b);
}

static void test_reference_names_every_word(void **state)
{
	(void)state;
	char *doc = np_slurp("docs/reference.md", NULL);
	size_t n;
	const struct np_vocab_finding *f = np_vocab_findings(&n);
	assert_true(n >= 10);
	for (size_t i = 0; i < n; i++) {
		if (!documented(doc, f[i].id) && !strstr(doc, f[i].id))
			fail_msg("docs/reference.md lacks the finding %s", f[i].id);
		for (const char *const *r = f[i].reasons; *r; r++)
			if (!documented(doc, *r))
				fail_msg("docs/reference.md lacks the reason %s (finding %s)", *r, f[i].id);
	}
	static const char *const kinds[] = { "condition", "reason", "event" };
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++)
		for (const char *const *w = np_vocab_words(kinds[k]); *w; w++)
			if (!documented(doc, *w))
				fail_msg("docs/reference.md lacks the %s %s", kinds[k], *w);
	assert_true(documented(doc, NP_FINDING_SOURCE_UNREADABLE) || strstr(doc, NP_FINDING_SOURCE_UNREADABLE));
	/* the reasons of sources that cannot be read: every section down at once */
	struct np_report r = { 0 };
	for (const struct np_section *const *s = np_sections(NULL); *s; s++)
		np_status_set((struct np_status *)((char *)&r + (*s)->status_offset), -EIO, "x");
	struct np_sources src;
	int n_down = np_report_sources(&r, &src);
	assert_int_equal(n_down, src.n);
	assert_true(src.n >= 13);
	for (size_t i = 0; i < src.n; i++)
		if (!documented(doc, src.v[i].reason))
			fail_msg("docs/reference.md lacks the blind reason %s", src.v[i].reason);
	np_sources_free(&src);
	np_report_free(&r);
	free(doc);
}

/* Every source a finding reads is a registered section that is a source (NP_SECTION_SOURCE). */
static void test_finding_sources_are_sources(void **state)
{
	(void)state;
	size_t n;
	const struct np_vocab_finding *f = np_vocab_findings(&n);
	for (size_t i = 0; i < n; i++) {
		assert_non_null(f[i].sources);
		if (!*f[i].sources)
			fail_msg("finding %s reads no source: it would never be Unknown", f[i].id);
		for (const char *const *s = f[i].sources; *s; s++) {
			const struct np_section *sec = np_section_find(*s);
			if (!sec || !sec->source)
				fail_msg("finding %s reads %s, which is no source", f[i].id, *s);
			assert_true(np_vocab_reads(&f[i], *s));
		}
	}
	assert_false(np_vocab_reads(np_vocab_finding(NP_FINDING_NVME_CRITICAL), "kmsg"));
	assert_false(np_vocab_reads(NULL, "kmsg"));
}

/* The built-in policy's actions are the table's defaults, one per finding, and name only its words. */
static void test_default_policy_is_the_table(void **state)
{
	(void)state;
	struct np_policy p;
	assert_int_equal(np_policy_default(&p), 0);
	size_t n;
	const struct np_vocab_finding *f = np_vocab_findings(&n);
	assert_int_equal(p.n_actions, n);
	for (size_t i = 0; i < n; i++) {
		const struct np_action *a = np_policy_action(&p, f[i].id);
		if (!a)
			fail_msg("the default policy has no action for %s", f[i].id);
		assert_string_equal(a->condition, f[i].condition);
		assert_string_equal(a->event_reason, f[i].event);
		assert_string_equal(a->taint_effect ? a->taint_effect : "none", f[i].taint);
	}
	np_policy_free(&p);
	/* a policy may act only on the vocabulary's findings */
	const char *y = "actions: {no-such-finding: {condition: X}}\n";
	char *err = NULL;
	assert_int_equal(np_policy_parse(y, strlen(y), "t", &p, &err), -EINVAL);
	assert_non_null(strstr(err, "unknown finding"));
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_names_every_word),
		cmocka_unit_test(test_default_policy_is_the_table),
		cmocka_unit_test(test_finding_sources_are_sources),
	};
	return cmocka_run_group_tests_name("vocab", tests, NULL, NULL);
}
