// SPDX-License-Identifier: Apache-2.0
/*
 * The storage micro-test: fio's JSON (real fio 3.33 captures, tests/fixtures/fio/README.md),
 * truncated and garbled copies, the record model (summary, JSON both ways), the baseline
 * policy keys and the canary verdict (pkg/policy/verdict.c).
 */
#include "testutil.h"
#include "../../pkg/collect/fio.h"
#include "../../pkg/policy/policy.h"
#include "../../pkg/policy/verdict.h"
#include "../../pkg/report/benchstore.h"

#include <math.h>
#include <unistd.h>

static void parse_fixture(const char *name, struct np_fio_result *res, int want)
{
	char path[256];
	snprintf(path, sizeof(path), "tests/fixtures/fio/%s", name);
	size_t len;
	char *buf = np_slurp(path, &len), *err = NULL;
	int r = np_fio_parse_json(buf, len, res, &err);
	if (r != want)
		fprintf(stderr, "%s: %d (%s)\n", name, r, err ? err : "");
	assert_int_equal(r, want);
	if (want < 0) {
		assert_non_null(err);
	} else {
		assert_null(err);
	}
	free(err);
	free(buf);
}

static void test_randread_qd1(void **state)
{
	(void)state;
	struct np_fio_result res;
	parse_fixture("randread-4k-qd1.json", &res, 0);
	assert_string_equal(res.fio_version, "fio-3.33");
	assert_true(fabs(res.fig.v[NP_BF_IOPS] - 9575.424575) < 1e-6);
	assert_true(res.fig.v[NP_BF_BW] == 39220939);
	assert_int_equal(res.ios, 19170);
	/* clat_ns percentiles, nanoseconds -> microseconds */
	assert_true(res.fig.v[NP_BF_P50] == 32.384);
	assert_true(res.fig.v[NP_BF_P95] == 63.232);
	assert_true(res.fig.v[NP_BF_P99] == 2146.304);
	assert_true(res.fig.v[NP_BF_P999] == 5931.008);
	assert_true(res.fig.v[NP_BF_MAX] == 15920.502);
}

static void test_randread_qd32(void **state)
{
	(void)state;
	struct np_fio_result res;
	parse_fixture("randread-4k-qd32.json", &res, 0);
	assert_true(fabs(res.fig.v[NP_BF_IOPS] - 63942.528736) < 1e-6);
	assert_int_equal(res.ios, 127949);
	assert_true(res.fig.v[NP_BF_P99] == 5079.04);
	assert_true(res.fig.v[NP_BF_P999] == 27394.048);
}

/* reads and writes: IOPS and bandwidth summed, latency of the direction with more I/O (reads here) */
static void test_randrw(void **state)
{
	(void)state;
	struct np_fio_result res;
	parse_fixture("randrw-4k-qd4.json", &res, 0);
	assert_true(fabs(res.fig.v[NP_BF_IOPS] - (9463.268366 + 9461.269365)) < 1e-6);
	assert_true(res.fig.v[NP_BF_BW] == 38761547.0 + 38753359.0);
	assert_int_equal(res.ios, 18936 + 18932);
	assert_true(res.fig.v[NP_BF_P99] == 1433.6);
	assert_true(res.fig.v[NP_BF_MAX] == 71150.177);
}

static void test_errors(void **state)
{
	(void)state;
	struct np_fio_result res;
	parse_fixture("error-job.json", &res, -EIO);
	parse_fixture("error-no-io.json", &res, -ENODATA);
}

static int parse_str(const char *s, size_t len, char **err)
{
	struct np_fio_result res;
	return np_fio_parse_json(s, len, &res, err);
}

/* every prefix of a real document is rejected with a reason, never accepted or crashed on */
static void test_truncated(void **state)
{
	(void)state;
	size_t len;
	char *buf = np_slurp("tests/fixtures/fio/randread-4k-qd1.json", &len);
	for (size_t cut = 0; cut < len - 2; cut += 7) {
		char *err = NULL;
		int r = parse_str(buf, cut, &err);
		assert_int_equal(r, -EINVAL);
		assert_non_null(err);
		free(err);
	}
	char *err = NULL;
	assert_int_equal(parse_str(buf, len / 2, &err), -EINVAL);
	assert_non_null(strstr(err, "not valid JSON (truncated?)"));
	free(err);
	free(buf);
}

static void test_garbage(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		const char *msg;
	} cases[] = {
		{ "", "printed nothing" },
		{ "fio: engine libaio not loadable\n", "no JSON document" },
		{ "{\"fio version\": \"fio-3.33\"}", "expected an object with" },
		{ "[1,2,3]", "no JSON document" },
		{ "{\"fio version\": \"x\", \"jobs\": []}", "expected one (group-reported) job, got 0" },
		{ "{\"fio version\": \"x\", \"jobs\": [{}]}", "lacks \"error\"" },
		{ "{\"fio version\": \"x\", \"jobs\": [{\"error\": 0, \"read\": 7}]}", "is not an object" },
		{ "{\"fio version\": \"x\", \"jobs\": [{\"error\": 0, \"read\": {\"iops\": -1, \"bw_bytes\": 1, "
		  "\"total_ios\": 1}}]}", "lacks iops" },
		{ "{\"fio version\": \"x\", \"jobs\": [{\"error\": 0, \"read\": {\"iops\": 1, \"bw_bytes\": 1, "
		  "\"total_ios\": 1, \"clat_ns\": {\"max\": 5}}}]}", "percentile missing" },
		{ "{\"fio version\": \"x\", \"jobs\": [{\"error\": 0, \"read\": {\"iops\": 1, \"bw_bytes\": 1, "
		  "\"total_ios\": 1, \"clat_ns\": {\"max\": 5, \"percentile\": {\"50.000000\": 1}}}}]}",
		  "no clat percentile 95" },
		{ "{\"fio version\": \"x\", \"jobs\": [{\"error\": 0}], \"jobs\": []}", "not valid JSON" },
		{ "{\"fio version\": \"x\", \"jobs\": [{\"error\": 0}]}", "completed no I/O" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *err = NULL;
		int r = parse_str(cases[i].in, strlen(cases[i].in), &err);
		if (!err || !strstr(err, cases[i].msg))
			fprintf(stderr, "case %zu: %d %s\n", i, r, err ? err : "(none)");
		assert_true(r < 0);
		assert_non_null(err);
		assert_non_null(strstr(err, cases[i].msg));
		free(err);
	}
	/* a NUL byte, and a document over the limit */
	char nul[] = "{\"a\":\0}";
	char *err = NULL;
	assert_int_equal(parse_str(nul, sizeof(nul) - 1, &err), -EINVAL);
	free(err);
	err = NULL;
	assert_int_equal(parse_str(nul, NP_FIO_OUTPUT_MAX + 1, &err), -EFBIG);
	free(err);
}

/* fio's notes before the document are skipped */
static void test_leading_notes(void **state)
{
	(void)state;
	size_t len;
	char *doc = np_slurp("tests/fixtures/fio/randread-4k-qd1.json", &len);
	const char note[] = "note: both iodepth >= 1 and synchronous I/O engine are selected\n";
	char *buf = malloc(sizeof(note) + len);
	memcpy(buf, note, sizeof(note) - 1);
	memcpy(buf + sizeof(note) - 1, doc, len);
	struct np_fio_result res;
	char *err = NULL;
	assert_int_equal(np_fio_parse_json(buf, sizeof(note) - 1 + len, &res, &err), 0);
	assert_int_equal(res.ios, 19170);
	free(buf);
	free(doc);
}

static struct np_bench_figures fig(double iops, double p99)
{
	struct np_bench_figures f = { 0 };
	f.v[NP_BF_IOPS] = iops;
	f.v[NP_BF_BW] = iops * 4096;
	f.v[NP_BF_P50] = p99 / 4;
	f.v[NP_BF_P95] = p99 / 2;
	f.v[NP_BF_P99] = p99;
	f.v[NP_BF_P999] = p99 * 2;
	f.v[NP_BF_MAX] = p99 * 4;
	return f;
}

static void test_summarize(void **state)
{
	(void)state;
	struct np_bench_record r = { 0 };
	struct np_bench_figures runs[] = { fig(100, 900), fig(300, 100), fig(200, 500) };
	np_bench_summarize(&r, runs, 3);
	assert_int_equal(r.repeats, 3);
	assert_true(r.median.v[NP_BF_IOPS] == 200 && r.min.v[NP_BF_IOPS] == 100 && r.max.v[NP_BF_IOPS] == 300);
	assert_true(r.median.v[NP_BF_P99] == 500 && r.min.v[NP_BF_P99] == 100 && r.max.v[NP_BF_P99] == 900);
	/* an even count: the mean of the two middle values */
	np_bench_summarize(&r, runs, 2);
	assert_true(r.median.v[NP_BF_IOPS] == 200);
	assert_true(r.median.v[NP_BF_P99] == 500);
}

static void record(struct np_bench_record *r, const char *bundle, const char *klass, const char *model,
		   const struct np_bench_figures *runs, unsigned n, bool pinned, int64_t at)
{
	*r = (struct np_bench_record){ .kind = NP_BENCH_BASELINE, .pinned = pinned, .at_ms = at };
	r->bundle = strdup(bundle);
	r->klass = klass ? strdup(klass) : NULL;
	r->model = model ? strdup(model) : NULL;
	r->node = strdup("node-1");
	r->device = strdup("nvme0n1");
	r->profile = (struct np_bench_profile){ strdup("randread-4k-qd1"), strdup("randread"), 4096, 1, 1, 20 };
	np_bench_summarize(r, runs, n);
}

static const struct np_baseline_policy thresholds = { .p99_growth_percent = 20, .iops_drop_percent = 15 };

static void test_verdict(void **state)
{
	(void)state;
	struct np_bench_figures base[] = { fig(10000, 400), fig(9800, 420), fig(10100, 410) };
	struct np_bench_figures slow[] = { fig(7000, 560), fig(7100, 540), fig(6900, 555) };
	struct np_bench_figures same[] = { fig(9900, 415), fig(10050, 405), fig(9950, 425) };
	/* median p99 +30 % but one run as fast as the baseline: noisy, not a regression */
	struct np_bench_figures noisy[] = { fig(9900, 400), fig(9800, 540), fig(9700, 560) };
	struct np_bench_figures fewer[] = { fig(8000, 400), fig(8100, 410), fig(7900, 405) };
	struct np_bench_record ref, cur;
	record(&ref, "aaaaaaaaaaaa", "r740", "Samsung PM9A3", base, 3, true, 1);

	record(&cur, "bbbbbbbbbbbb", "r740", "Samsung PM9A3", slow, 3, false, 2);
	assert_int_equal(np_bench_judge(&ref, &thresholds, &cur), NP_VERDICT_REGRESSED);
	assert_int_equal(cur.kind, NP_BENCH_VERDICT);
	assert_string_equal(cur.reference, "aaaaaaaaaaaa");
	assert_true(fabs(cur.p99_change_percent - (555.0 - 410.0) / 410.0 * 100) < 1e-9);
	assert_true(fabs(cur.iops_change_percent - (7000.0 - 10000.0) / 10000.0 * 100) < 1e-9);
	np_bench_record_free(&cur);

	record(&cur, "aaaaaaaaaaaa", "r740", "Samsung PM9A3", same, 3, false, 2);
	assert_int_equal(np_bench_judge(&ref, &thresholds, &cur), NP_VERDICT_PASS);
	np_bench_record_free(&cur);

	record(&cur, "bbbbbbbbbbbb", "r740", "Samsung PM9A3", noisy, 3, false, 2);
	assert_int_equal(np_bench_judge(&ref, &thresholds, &cur), NP_VERDICT_INCONCLUSIVE);
	assert_true(cur.p99_change_percent > 20);
	np_bench_record_free(&cur);

	/* IOPS -20 %, ranges apart: a regression even with p99 unchanged */
	record(&cur, "bbbbbbbbbbbb", "r740", "Samsung PM9A3", fewer, 3, false, 2);
	assert_int_equal(np_bench_judge(&ref, &thresholds, &cur), NP_VERDICT_REGRESSED);
	assert_true(cur.p99_change_percent < 0);
	np_bench_record_free(&cur);

	/*
	 * fewer than NP_BENCH_MIN_RUNS runs on either side: a range of one or two runs is no spread, the
	 * same slow figures are inconclusive (with 3 they were a regression above)
	 */
	for (unsigned n = 1; n < NP_BENCH_MIN_RUNS; n++) {
		record(&cur, "bbbbbbbbbbbb", "r740", "Samsung PM9A3", slow, n, false, 2);
		assert_int_equal(np_bench_judge(&ref, &thresholds, &cur), NP_VERDICT_INCONCLUSIVE);
		assert_true(cur.iops_change_percent < -15);
		np_bench_record_free(&cur);
		struct np_bench_record few;
		record(&few, "aaaaaaaaaaaa", "r740", "Samsung PM9A3", base, n, true, 1);
		record(&cur, "bbbbbbbbbbbb", "r740", "Samsung PM9A3", slow, 3, false, 2);
		assert_int_equal(np_bench_judge(&few, &thresholds, &cur), NP_VERDICT_INCONCLUSIVE);
		np_bench_record_free(&cur);
		np_bench_record_free(&few);
	}

	record(&cur, "bbbbbbbbbbbb", "r740", "Samsung PM9A3", slow, 3, false, 2);
	assert_int_equal(np_bench_judge(NULL, &thresholds, &cur), NP_VERDICT_NO_BASELINE);
	assert_null(cur.reference);
	np_bench_record_free(&cur);
	np_bench_record_free(&ref);
}

static void test_reference(void **state)
{
	(void)state;
	struct np_bench_figures f[] = { fig(1, 1) };
	struct np_bench_record recs[5], cur;
	record(&recs[0], "old000000000", "r740", "PM9A3", f, 1, true, 100);
	record(&recs[1], "new000000000", "r740", "PM9A3", f, 1, true, 200);
	record(&recs[2], "unpinned0000", "r740", "PM9A3", f, 1, false, 300); /* not a reference */
	record(&recs[3], "othermodel00", "r740", "OTHER", f, 1, true, 400);  /* other model */
	record(&recs[4], "otherclass00", "r650", "PM9A3", f, 1, true, 500);  /* other class */
	record(&cur, "cur000000000", "r740", "PM9A3", f, 1, false, 600);
	const struct np_bench_record *ref = np_bench_reference(recs, 5, &cur);
	assert_non_null(ref);
	assert_string_equal(ref->bundle, "new000000000");
	free(cur.klass);
	cur.klass = NULL; /* no class: no reference among classed records */
	assert_null(np_bench_reference(recs, 5, &cur));
	for (size_t i = 0; i < 5; i++)
		np_bench_record_free(&recs[i]);
	np_bench_record_free(&cur);
}

static const char *kv(const struct np_kv *a, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(a[i].key, key))
			return a[i].value;
	return NULL;
}

/* BundleRegression: True = regressed (the opposite polarity of the other conditions) */
static void test_desired(void **state)
{
	(void)state;
	struct np_policy pol;
	assert_int_equal(np_policy_default(&pol), 0);
	struct np_bench_figures base[] = { fig(10000, 400), fig(9800, 420), fig(10100, 410) };
	struct np_bench_figures slow[] = { fig(7000, 560), fig(7100, 540), fig(6900, 555) };
	struct np_bench_record ref, v[2];
	record(&ref, "aaaaaaaaaaaa", NULL, "M", base, 3, true, 1);
	record(&v[0], "bbbbbbbbbbbb", NULL, "M", base, 3, false, 2);
	record(&v[1], "bbbbbbbbbbbb", NULL, "M", slow, 3, false, 2);
	np_bench_judge(&ref, &pol.baseline, &v[0]);
	np_bench_judge(&ref, &pol.baseline, &v[1]);

	struct np_desired d = { 0 };
	assert_int_equal(np_bench_desired(&pol, v, 1, "node-1", true, &d), 0);
	assert_int_equal(d.n_conditions, 1);
	assert_string_equal(d.conditions[0].type, "BundleRegression");
	assert_string_equal(d.conditions[0].status, "False");
	assert_string_equal(d.conditions[0].reason, "WithinBaseline");
	assert_string_equal(kv(d.labels, d.n_labels, "nodeprint.io/bundle-verdict"), "pass");
	assert_int_equal(d.n_events, 1);
	assert_string_equal(d.events[0].type, "Normal");
	np_desired_free(&d);

	d = (struct np_desired){ 0 };
	assert_int_equal(np_bench_desired(&pol, v, 2, "node-1", true, &d), 0);
	assert_string_equal(d.conditions[0].status, "True");
	assert_string_equal(d.conditions[0].reason, "Regressed");
	assert_non_null(strstr(d.conditions[0].message, "randread-4k-qd1: regressed, p99 +35 %"));
	assert_string_equal(kv(d.labels, d.n_labels, "nodeprint.io/bundle-verdict"), "regressed");
	assert_string_equal(d.events[0].reason, "BundleRegression");
	assert_string_equal(d.events[0].type, "Warning");
	assert_non_null(strstr(d.events[0].message, "min-max 540-560 over 3 runs"));
	np_desired_free(&d);

	/* no baseline: Unknown, no label, no Event without announce */
	np_bench_judge(NULL, &pol.baseline, &v[1]);
	d = (struct np_desired){ 0 };
	assert_int_equal(np_bench_desired(&pol, &v[1], 1, "node-1", false, &d), 0);
	assert_string_equal(d.conditions[0].status, "Unknown");
	assert_string_equal(d.conditions[0].reason, "NoBaseline");
	assert_null(kv(d.labels, d.n_labels, "nodeprint.io/bundle-verdict"));
	assert_int_equal(d.n_events, 0);
	np_desired_free(&d);
	np_bench_record_free(&ref);
	np_bench_record_free(&v[0]);
	np_bench_record_free(&v[1]);
	np_policy_free(&pol);
}

static void test_record_json(void **state)
{
	(void)state;
	struct np_bench_figures runs[] = { fig(7000, 560), fig(7100, 540), fig(6900, 555) };
	struct np_bench_record r, back;
	record(&r, "bbbbbbbbbbbb", "r740", "PM9A3", runs, 3, false, 1796637239459);
	r.kernel = strdup("6.1.0-57-amd64");
	struct np_bench_record ref;
	record(&ref, "aaaaaaaaaaaa", "r740", "PM9A3", runs, 1, true, 1);
	np_bench_judge(&ref, &thresholds, &r);
	json_t *j = np_bench_record_to_json(&r);
	char *err = NULL;
	assert_int_equal(np_bench_record_from_json(j, &back, &err), 0);
	assert_int_equal(back.kind, NP_BENCH_VERDICT);
	assert_string_equal(back.kernel, "6.1.0-57-amd64");
	assert_string_equal(back.reference, "aaaaaaaaaaaa");
	assert_int_equal(back.verdict, r.verdict);
	assert_int_equal(back.at_ms, 1796637239459);
	assert_int_equal(back.repeats, 3);
	assert_int_equal(back.profile.block_bytes, 4096);
	for (unsigned f = 0; f < NP_BF_N; f++)
		assert_true(back.median.v[f] == r.median.v[f] && back.min.v[f] == r.min.v[f] && back.max.v[f] == r.max.v[f]);
	char *key = np_bench_record_key(&back);
	assert_string_equal(key, "verdict.bbbbbbbbbbbb.node-1.nvme0n1.randread-4k-qd1");
	free(key);
	np_bench_record_free(&back);

	/* hostile stored records are refused with the field named */
	json_object_set_new(j, "repeats", json_integer(0));
	assert_int_equal(np_bench_record_from_json(j, &back, &err), -EINVAL);
	assert_string_equal(err, "repeats: out of range");
	free(err);
	json_object_set_new(j, "repeats", json_integer(3));
	json_object_set_new(json_object_get(j, "profile"), "rw", json_string("trim"));
	assert_int_equal(np_bench_record_from_json(j, &back, &err), -EINVAL);
	assert_string_equal(err, "profile.rw: unknown fio rw mode");
	free(err);
	json_object_set_new(json_object_get(j, "profile"), "rw", json_string("randread"));
	json_object_set_new(j, "model", json_string("a\nb"));
	assert_int_equal(np_bench_record_from_json(j, &back, &err), -EINVAL);
	assert_string_equal(err, "model: control character");
	free(err);
	json_decref(j);
	np_bench_record_free(&r);
	np_bench_record_free(&ref);
}

static void test_store(void **state)
{
	(void)state;
	char dir[] = "/tmp/np-test-store-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct np_bench_figures runs[] = { fig(7000, 560) };
	struct np_bench_record r;
	record(&r, "bbbbbbbbbbbb", "r740", "PM9A3", runs, 1, true, 5);
	assert_int_equal(np_bench_store_save(dir, &r), 0);
	r.at_ms = 6; /* same key: replaced, not added */
	assert_int_equal(np_bench_store_save(dir, &r), 0);
	char junk[300];
	snprintf(junk, sizeof(junk), "%s/baselines/junk.json", dir);
	FILE *f = fopen(junk, "w");
	fputs("{\"kind\": \"baseline\"", f);
	fclose(f);
	struct np_bench_record *v;
	size_t n, bad;
	assert_int_equal(np_bench_store_load(dir, &v, &n, &bad), 0);
	assert_int_equal(n, 1);
	assert_int_equal(bad, 1);
	assert_int_equal(v[0].at_ms, 6);
	assert_true(v[0].pinned);
	np_bench_records_free(v, n);
	np_bench_record_free(&r);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_policy_keys(void **state)
{
	(void)state;
	struct np_policy p;
	assert_int_equal(np_policy_default(&p), 0);
	assert_int_equal(p.baseline.n_profiles, 2);
	assert_string_equal(p.baseline.profiles[1].name, "randread-4k-qd32");
	assert_int_equal(p.baseline.profiles[1].iodepth, 32);
	assert_int_equal(p.baseline.profiles[1].block_bytes, 4096);
	assert_true(p.baseline.profiles[0].seconds == 20);
	assert_int_equal(p.baseline.repeats, 3);
	assert_true(p.baseline.p99_growth_percent == 20 && p.baseline.iops_drop_percent == 15);
	assert_null(p.baseline.raw_device);
	np_policy_free(&p);

	static const char doc[] = "baseline:\n  wallSeconds: 8\n  rawDevice: /dev/nvme0n1\n  profiles:\n"
				  "    - {name: seq, rw: read, blockSize: 1m, iodepth: 4, seconds: 3}\n";
	char *err = NULL;
	assert_int_equal(np_policy_parse(doc, sizeof(doc) - 1, "t.yaml", &p, &err), 0);
	assert_int_equal(p.baseline.n_profiles, 1); /* the document's list replaces the default */
	assert_int_equal(p.baseline.profiles[0].block_bytes, 1 << 20);
	assert_string_equal(p.baseline.raw_device, "/dev/nvme0n1");
	np_policy_free(&p);

	static const struct {
		const char *doc, *msg;
	} bad[] = {
		{ "baseline:\n  profiles:\n    - {name: x, blockSize: 1000}\n", "a multiple of 512" },
		{ "baseline:\n  profiles:\n    - {name: x, rw: trim}\n", "expected read, randread" },
		{ "baseline:\n  profiles:\n    - {name: 'a b'}\n", "a profile name is" },
		{ "baseline:\n  profiles:\n    - {name: x, seconds: 30}\n  wallSeconds: 30\n", "wallSeconds (30) must be longer" },
		{ "baseline:\n  rawDevice: nvme0n1\n", "expected a /dev/ path" },
		{ "baseline:\n  directory: relative\n", "expected an absolute path" },
		{ "baseline:\n  profiles: []\n", "at least one profile" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		assert_int_equal(np_policy_parse(bad[i].doc, strlen(bad[i].doc), "t.yaml", &p, &err), -EINVAL);
		if (!strstr(err, bad[i].msg))
			fprintf(stderr, "case %zu: %s\n", i, err);
		assert_non_null(strstr(err, bad[i].msg));
		free(err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_randread_qd1),  cmocka_unit_test(test_randread_qd32),
		cmocka_unit_test(test_randrw),	      cmocka_unit_test(test_errors),
		cmocka_unit_test(test_truncated),     cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_leading_notes), cmocka_unit_test(test_summarize),
		cmocka_unit_test(test_verdict),	      cmocka_unit_test(test_reference),
		cmocka_unit_test(test_desired),	      cmocka_unit_test(test_record_json),
		cmocka_unit_test(test_store),	      cmocka_unit_test(test_policy_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
