// SPDX-License-Identifier: Apache-2.0
/*
 * Sections as descriptors (pkg/report/section.h): every NP_SECTION() line of the sources is one
 * registered section (none lost to a table size, no name twice), and the report's JSON, free,
 * fingerprint and print loop over exactly them. Health rules likewise (pkg/policy/health.h): every
 * NP_HEALTH() line is one rule whose policy keys parse and have a built-in default; struct
 * np_report has one member per line of pkg/report/sections.h. And the
 * pipeline is one-way: no package includes one above it.
 */
#include "testutil.h"
#include "../../pkg/collect/collector.h"
#include "../../pkg/policy/health.h"
#include "../../pkg/shared/macro.h"
#include "../../pkg/shared/strutil.h"

#include <dirent.h>

/* The first argument of every line of the .c and .h files of @dir that starts with one of @macros ("NP_X("). */
static size_t registrations(const char *dir, const char *const *macros, char names[][32], size_t max)
{
	DIR *d = opendir(np_src(dir));
	assert_non_null(d);
	size_t n = 0;
	for (struct dirent *de; (de = readdir(d));) {
		size_t l = strlen(de->d_name);
		if (l < 3 || (strcmp(de->d_name + l - 2, ".c") != 0 && strcmp(de->d_name + l - 2, ".h") != 0))
			continue;
		char rel[300];
		snprintf(rel, sizeof(rel), "%s/%s", dir, de->d_name);
		char *src = np_slurp(rel, NULL);
		for (char *p = src; (p = strchr(p, '\n')); p++)
			for (const char *const *m = macros; *m; m++)
				if (np_startswith(p + 1, *m)) {
					assert_true(n < max);
					sscanf(p + 1 + strlen(*m), "%31[a-z_0-9]", names[n++]);
				}
		free(src);
	}
	closedir(d);
	return n;
}

static void test_every_registration_is_a_section(void **state)
{
	(void)state;
	static const char *const macros[] = { "NP_SECTION(", "NP_SECTION_STATEFUL(", NULL };
	char names[128][32];
	size_t want = registrations("pkg/collect", macros, names, 128);
	size_t n;
	const struct np_section *const *s = np_sections(&n);
	assert_non_null(s);
	assert_true(want >= 10);
	assert_int_equal(n, want);
	assert_null(s[n]);
	for (size_t i = 0; i < want; i++) {
		const struct np_section *x = np_section_find(names[i]);
		if (!x)
			fail_msg("NP_SECTION(%s) is not registered", names[i]);
		assert_non_null(x->collect);
		assert_non_null(x->free);
		assert_non_null(x->to_json);
		assert_non_null(x->print);
		assert_non_null(x->bundle);
		/* state hooks come as a set: made, reloaded, freed */
		assert_true((x->state_new && x->state_reload && x->state_free) ||
			    (!x->state_new && !x->state_reload && !x->state_free));
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t j = i + 1; j < n; j++)
			assert_string_not_equal(s[i]->name, s[j]->name);
		if (i)
			assert_true(s[i - 1]->order < s[i]->order ||
				    (s[i - 1]->order == s[i]->order && strcmp(s[i - 1]->name, s[i]->name) < 0));
	}
	assert_null(np_section_find("nosuch"));
}

/*
 * Every NP_SECTION_SOURCE() and NP_SECTION_METRICS() line of pkg/report, and NP_SECTION_CONCURRENT()
 * line of pkg/collect, is the hook of the section it names (a misspelt name would be a hook no
 * descriptor picks up), and no section has one the sources do not register.
 */
static void test_hooks_reach_their_section(void **state)
{
	(void)state;
	static const struct {
		const char *macro;
		size_t hook; /* offsetof(struct np_section, <hook>) */
		const char *dir;
		size_t least;
	} kinds[] = {
		{ "NP_SECTION_SOURCE(", offsetof(struct np_section, source), "pkg/report", 5 },
		{ "NP_SECTION_METRICS(", offsetof(struct np_section, metrics), "pkg/report", 5 },
		{ "NP_SECTION_CONCURRENT(", offsetof(struct np_section, concurrent), "pkg/collect", 1 },
	};
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
		const char *const macros[] = { kinds[k].macro, NULL };
		char names[128][32];
		size_t want = registrations(kinds[k].dir, macros, names, 128), have = 0;
		assert_true(want >= kinds[k].least);
		for (size_t i = 0; i < want; i++) {
			const struct np_section *x = np_section_find(names[i]);
			if (!x || !*(const void *const *)((const char *)x + kinds[k].hook))
				fail_msg("%s%s) is no section's hook", kinds[k].macro, names[i]);
		}
		for (const struct np_section *const *s = np_sections(NULL); *s; s++)
			have += *(const void *const *)((const char *)*s + kinds[k].hook) != NULL;
		assert_int_equal(have, want);
	}
	const struct np_section *nvme = np_section_find("nvme");
	assert_string_equal(nvme->source->reason, "NVMeUnreadable");
	assert_non_null(nvme->source->judge);
	assert_null(np_section_find("tcp")->source); /* no health check reads it */
	assert_non_null(np_section_find("kmsg")->metrics); /* nodeprint_gpu_xid_total */
	assert_null(np_section_find("kernel")->metrics);
	assert_non_null(np_section_find("block")->concurrent); /* the large host's longest section */
	assert_null(np_section_find("pci")->concurrent);       /* libudev's hwdb: the calling thread */
}

/* The report's JSON has one member per section, in their order, and nothing else but its header. */
static void test_report_loops_over_sections(void **state)
{
	(void)state;
	struct np_host h;
	assert_int_equal(np_host_open(&h, np_src("tests/fixtures/host-vm")), 0);
	struct np_collect_ctx ctx = { .host = &h };
	struct np_report r = { 0 };
	assert_int_equal(np_collect_all(&ctx, NULL, &r), 0);
	json_t *j = np_report_to_json(&r);
	size_t n;
	const struct np_section *const *s = np_sections(&n);
	static const char *const header[] = { "schemaVersion", "generator", "host_root", "collected_at_ms",
					      "duration_us", "fingerprint", "sources" };
	assert_int_equal(json_object_size(j), n + ARRAY_SIZE(header));
	size_t k = 0;
	const char *key;
	json_t *v;
	json_object_foreach(j, key, v) {
		if (k >= ARRAY_SIZE(header))
			assert_string_equal(key, s[k - ARRAY_SIZE(header)]->name);
		k++;
	}
	json_decref(j);
	/* the human report prints every section's heading once */
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct np_out o = { .f = f };
	np_report_print(&r, &o);
	fclose(f);
	assert_non_null(strstr(buf, "Kernel"));
	assert_non_null(strstr(buf, "Kernel log events"));
	assert_non_null(strstr(buf, "hash: "));
	free(buf);
	np_report_free(&r);
	assert_null(r.host_root);
	assert_null(r.kernel.release); /* each section's free ran */
	assert_null(r.pci.devices);
	np_host_close(&h);
}

/*
 * pkg/report/sections.h, the one line a section adds outside its own files, names exactly the
 * registered sections (a line without its NP_SECTION() would be a member nothing fills; a section
 * without its line does not compile), each once.
 */
static void test_sections_h_lists_every_section(void **state)
{
	(void)state;
	char *src = np_slurp("pkg/report/sections.h", NULL);
	size_t n, lines = 0;
	const struct np_section *const *s = np_sections(&n);
	bool seen[128] = { false };
	assert_true(n < ARRAY_SIZE(seen));
	for (char *p = src; (p = strchr(p, '\n')); p++) {
		char name[32];
		if (!np_startswith(p + 1, "#include \"") || sscanf(p + 11, "%31[a-z_0-9].h\"", name) != 1)
			continue;
		lines++;
		const struct np_section *x = np_section_find(name);
		if (!x)
			fail_msg("sections.h: %s.h is no registered section", name);
		size_t i = 0;
		while (s[i] != x)
			i++;
		assert_false(seen[i]);
		seen[i] = true;
	}
	free(src);
	assert_int_equal(lines, n);
}

/*
 * Every NP_HEALTH() line of pkg/policy is one registered rule, in order; its keys are health.<name>.*
 * of the policy (a typo is refused with that path), each has a value in the built-in policy and a
 * line in docs/policy.md, and each rule has its own thresholds in a parsed policy.
 */
static void test_every_health_rule_is_registered(void **state)
{
	(void)state;
	static const char *const macros[] = { "NP_HEALTH(", NULL };
	char names[64][32];
	size_t want = registrations("pkg/policy", macros, names, 64), n;
	const struct np_health_rule *const *h = np_health_rules(&n);
	assert_non_null(h);
	assert_true(want >= 9);
	assert_int_equal(n, want);
	assert_null(h[n]);
	struct np_policy p;
	assert_int_equal(np_policy_default(&p), 0);
	const char *def = np_policy_default_yaml();
	char *doc = np_slurp("docs/policy.md", NULL);
	for (size_t i = 0; i < n; i++) {
		bool found = false;
		for (size_t k = 0; k < want; k++)
			found = found || streq(names[k], h[i]->name);
		if (!found)
			fail_msg("rule %s has no NP_HEALTH() line", h[i]->name);
		if (i)
			assert_true(h[i - 1]->order < h[i]->order ||
				    (h[i - 1]->order == h[i]->order && strcmp(h[i - 1]->name, h[i]->name) < 0));
		/* each rule's thresholds: its own bytes of the policy's block */
		char *cfg = np_policy_health(&p, h[i]);
		assert_non_null(cfg);
		if (i)
			assert_true(cfg >= (char *)np_policy_health(&p, h[i - 1]) + h[i - 1]->size);
		_cleanup_free_ char *head = np_asprintf("\n  %s:\n", h[i]->name);
		const char *at = strstr(def, head);
		if (!at)
			fail_msg("the built-in policy has no health.%s", h[i]->name);
		/* its block: the lines indented under "  <name>:" */
		const char *body = at + strlen(head) - 1, *end = body;
		while ((end = strchr(end + 1, '\n')) && strncmp(end, "\n    ", 5) == 0)
			;
		_cleanup_free_ char *block = strndup(body, end ? (size_t)(end - body) : strlen(body));
		for (const struct np_field *f = h[i]->fields; f->name; f++) {
			_cleanup_free_ char *key = np_asprintf("\n    %s: ", f->name);
			if (!strstr(block, key))
				fail_msg("health.%s.%s has no built-in default", h[i]->name, f->name);
			_cleanup_free_ char *quoted = np_asprintf("%s`", f->name);
			if (!strstr(doc, quoted))
				fail_msg("docs/policy.md does not document health.%s.%s", h[i]->name, f->name);
		}
		/* a typo under the rule's key is refused with its path */
		_cleanup_free_ char *yaml = np_asprintf("health: {%s: {nosuchKey: 1}}\n", h[i]->name);
		_cleanup_free_ char *want_err = np_asprintf("health.%s.nosuchKey: unknown field", h[i]->name);
		struct np_policy bad;
		char *err = NULL;
		assert_int_equal(np_policy_parse(yaml, strlen(yaml), "t", &bad, &err), -EINVAL);
		if (!strstr(err, want_err))
			fail_msg("%s: %s", yaml, err);
		free(err);
	}
	free(doc);
	np_policy_free(&p);
}

/*
 * The pipeline is one-way: pkg/shared includes no other package; pkg/report only shared;
 * pkg/collect, pkg/policy and pkg/kube only report and shared; pkg/agent any.
 */
static void test_pipeline_is_one_way(void **state)
{
	(void)state;
	static const struct {
		const char *dir;
		const char *const allowed[3];
	} layers[] = {
		{ "pkg/shared", { NULL } },
		{ "pkg/report", { "shared", NULL } },
		{ "pkg/collect", { "report", "shared", NULL } },
		{ "pkg/policy", { "report", "shared", NULL } },
		{ "pkg/kube", { "report", "shared", NULL } },
	};
	static const char *const macros[] = { "#include \"../", NULL };
	for (size_t i = 0; i < ARRAY_SIZE(layers); i++) {
		char names[1024][32];
		size_t n = registrations(layers[i].dir, macros, names, 1024);
		for (size_t k = 0; k < n; k++) {
			bool ok = false;
			for (const char *const *a = layers[i].allowed; *a; a++)
				ok = ok || streq(*a, names[k]);
			if (!ok)
				fail_msg("%s includes ../%s/: the pipeline is one-way", layers[i].dir, names[k]);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_registration_is_a_section),
		cmocka_unit_test(test_report_loops_over_sections),
		cmocka_unit_test(test_hooks_reach_their_section),
		cmocka_unit_test(test_sections_h_lists_every_section),
		cmocka_unit_test(test_every_health_rule_is_registered),
		cmocka_unit_test(test_pipeline_is_one_way),
	};
	return cmocka_run_group_tests_name("sections", tests, NULL, NULL);
}
