// SPDX-License-Identifier: Apache-2.0
/* baseline.c - the micro-test records: summary statistics, JSON both ways, the table. */
#define _GNU_SOURCE
#include "baseline.h"
#include "json.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const fig_keys[NP_BF_N] = {
	[NP_BF_IOPS] = "iops",          [NP_BF_BW] = "bandwidth_bytes_per_second",
	[NP_BF_P50] = "clat_p50_us",    [NP_BF_P95] = "clat_p95_us",
	[NP_BF_P99] = "clat_p99_us",    [NP_BF_P999] = "clat_p99_9_us",
	[NP_BF_MAX] = "clat_max_us",
};

const char *np_bench_fig_key(enum np_bench_fig f)
{
	return (unsigned)f < NP_BF_N ? fig_keys[f] : "?";
}

static const char *const rw_modes[] = { "read", "randread", "write", "randwrite", "rw", "randrw" };

bool np_bench_rw_valid(const char *rw)
{
	for (size_t i = 0; rw && i < ARRAY_SIZE(rw_modes); i++)
		if (streq(rw, rw_modes[i]))
			return true;
	return false;
}

bool np_bench_rw_readonly(const char *rw)
{
	return rw && (streq(rw, "read") || streq(rw, "randread"));
}

void np_bench_profile_free(struct np_bench_profile *p)
{
	free(p->name);
	free(p->rw);
	*p = (struct np_bench_profile){ 0 };
}

int np_bench_profile_dup(const struct np_bench_profile *p, struct np_bench_profile *out)
{
	*out = *p;
	out->name = p->name ? strdup(p->name) : NULL;
	out->rw = p->rw ? strdup(p->rw) : NULL;
	if ((p->name && !out->name) || (p->rw && !out->rw)) {
		np_bench_profile_free(out);
		return -ENOMEM;
	}
	return 0;
}

static const char *const verdict_names[] = {
	[NP_VERDICT_PASS] = "pass",
	[NP_VERDICT_REGRESSED] = "regressed",
	[NP_VERDICT_INCONCLUSIVE] = "inconclusive",
	[NP_VERDICT_NO_BASELINE] = "no-baseline",
};

const char *np_bench_verdict_name(enum np_bench_verdict v)
{
	return (unsigned)v < ARRAY_SIZE(verdict_names) ? verdict_names[v] : "?";
}

void np_bench_record_free(struct np_bench_record *r)
{
	char **s[] = { &r->bundle, &r->bundle_state, &r->klass,       &r->node,     &r->kernel,
		       &r->device, &r->model,        &r->firmware,    &r->fio_version, &r->reference };
	for (size_t i = 0; i < ARRAY_SIZE(s); i++)
		free(*s[i]);
	np_bench_profile_free(&r->profile);
	*r = (struct np_bench_record){ 0 };
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

void np_bench_summarize(struct np_bench_record *r, const struct np_bench_figures *runs, unsigned n)
{
	r->repeats = n;
	if (n == 0)
		return;
	double *v = calloc(n, sizeof(*v)), stack[16];
	if (!v && n > ARRAY_SIZE(stack))
		n = ARRAY_SIZE(stack); /* no memory: summarise the first 16 */
	double *col = v ? v : stack;
	for (unsigned f = 0; f < NP_BF_N; f++) {
		for (unsigned i = 0; i < n; i++)
			col[i] = runs[i].v[f];
		qsort(col, n, sizeof(*col), cmp_double);
		r->min.v[f] = col[0];
		r->max.v[f] = col[n - 1];
		r->median.v[f] = n % 2 ? col[n / 2] : (col[n / 2 - 1] + col[n / 2]) / 2;
	}
	free(v);
}

static json_t *figures_json(const struct np_bench_figures *f)
{
	json_t *o = json_object();
	for (unsigned i = 0; i < NP_BF_N; i++)
		np_json_real(o, fig_keys[i], f->v[i]);
	return o;
}

json_t *np_bench_record_to_json(const struct np_bench_record *r)
{
	json_t *o = json_object();
	np_json_str(o, "kind", r->kind == NP_BENCH_VERDICT ? "verdict" : "baseline");
	np_json_str(o, "bundle", r->bundle);
	np_json_str(o, "bundle_state", r->bundle_state);
	np_json_str(o, "class", r->klass);
	np_json_str(o, "node", r->node);
	np_json_str(o, "kernel", r->kernel);
	np_json_str(o, "device", r->device);
	np_json_str(o, "model", r->model);
	np_json_str(o, "firmware", r->firmware);
	np_json_str(o, "fio_version", r->fio_version);
	json_t *p = json_object();
	np_json_str(p, "name", r->profile.name);
	np_json_str(p, "rw", r->profile.rw);
	np_json_u64(p, "block_bytes", r->profile.block_bytes);
	np_json_u64(p, "iodepth", r->profile.iodepth);
	np_json_u64(p, "jobs", r->profile.jobs);
	np_json_real(p, "seconds", r->profile.seconds);
	json_object_set_new(o, "profile", p);
	np_json_s64(o, "at_ms", r->at_ms);
	np_json_u64(o, "repeats", r->repeats);
	np_json_bool(o, "pinned", r->pinned);
	json_object_set_new(o, "median", figures_json(&r->median));
	json_object_set_new(o, "min", figures_json(&r->min));
	json_object_set_new(o, "max", figures_json(&r->max));
	if (r->kind == NP_BENCH_VERDICT) {
		np_json_str(o, "verdict", np_bench_verdict_name(r->verdict));
		np_json_str(o, "reference", r->reference);
		np_json_real(o, "p99_change_percent", r->p99_change_percent);
		np_json_real(o, "iops_change_percent", r->iops_change_percent);
	}
	return o;
}

/* ---- reading records back: input from a file or a ConfigMap, so every field is checked ---- */

#define FIELD_MAX 256

struct rd {
	char **err;
};

static int bad(struct rd *c, const char *field, const char *what)
{
	if (!*c->err)
		*c->err = np_asprintf("%s: %s", field, what);
	return -EINVAL;
}

/* An optional string: null/absent gives NULL; bounded, no control characters. */
static int rd_str(struct rd *c, const json_t *o, const char *key, bool required, char **dst)
{
	const json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return required ? bad(c, key, "missing") : 0;
	if (!json_is_string(v))
		return bad(c, key, "not a string");
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	if (n > FIELD_MAX || strlen(s) != n)
		return bad(c, key, "too long or NUL");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return bad(c, key, "control character");
	*dst = strdup(s);
	return *dst ? 0 : -ENOMEM;
}

static int rd_num(struct rd *c, const json_t *o, const char *key, double min, double max, double *dst)
{
	const json_t *v = json_object_get(o, key);
	if (!json_is_number(v))
		return bad(c, key, "missing or not a number");
	double d = json_number_value(v);
	if (!isfinite(d) || d < min || d > max)
		return bad(c, key, "out of range");
	*dst = d;
	return 0;
}

static int rd_figures(struct rd *c, const json_t *o, const char *key, struct np_bench_figures *f)
{
	const json_t *v = json_object_get(o, key);
	if (!json_is_object(v))
		return bad(c, key, "missing or not an object");
	for (unsigned i = 0; i < NP_BF_N; i++) {
		int r = rd_num(c, v, fig_keys[i], 0, 1e15, &f->v[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

static int rd_profile(struct rd *c, const json_t *o, struct np_bench_profile *p)
{
	const json_t *v = json_object_get(o, "profile");
	double d;
	if (!json_is_object(v))
		return bad(c, "profile", "missing or not an object");
	int r = rd_str(c, v, "name", true, &p->name);
	if (r >= 0)
		r = rd_str(c, v, "rw", true, &p->rw);
	if (r >= 0 && !np_bench_rw_valid(p->rw))
		r = bad(c, "profile.rw", "unknown fio rw mode");
	if (r >= 0 && (r = rd_num(c, v, "block_bytes", 512, 64 << 20, &d)) >= 0)
		p->block_bytes = (uint64_t)d;
	if (r >= 0 && (r = rd_num(c, v, "iodepth", 1, 4096, &d)) >= 0)
		p->iodepth = (unsigned)d;
	if (r >= 0 && (r = rd_num(c, v, "jobs", 1, 256, &d)) >= 0)
		p->jobs = (unsigned)d;
	if (r >= 0)
		r = rd_num(c, v, "seconds", 0, 86400, &p->seconds);
	return r;
}

int np_bench_record_from_json(const json_t *j, struct np_bench_record *r, char **err)
{
	struct rd c = { .err = err };
	_cleanup_free_ char *kind = NULL, *verdict = NULL;
	double d;
	*err = NULL;
	*r = (struct np_bench_record){ 0 };
	if (!json_is_object(j)) {
		*err = strdup("a record is a JSON object");
		return -EINVAL;
	}
	int ret = rd_str(&c, j, "kind", true, &kind);
	if (ret >= 0 && !streq(kind, "baseline") && !streq(kind, "verdict"))
		ret = bad(&c, "kind", "expected baseline or verdict");
	if (ret >= 0)
		r->kind = streq(kind, "verdict") ? NP_BENCH_VERDICT : NP_BENCH_BASELINE;
	struct {
		const char *key;
		bool required;
		char **dst;
	} strs[] = { { "bundle", true, &r->bundle }, { "bundle_state", false, &r->bundle_state },
		     { "class", false, &r->klass },  { "node", false, &r->node },
		     { "kernel", false, &r->kernel }, { "device", false, &r->device },
		     { "model", false, &r->model },  { "firmware", false, &r->firmware },
		     { "fio_version", false, &r->fio_version } };
	for (size_t i = 0; ret >= 0 && i < ARRAY_SIZE(strs); i++)
		ret = rd_str(&c, j, strs[i].key, strs[i].required, strs[i].dst);
	if (ret >= 0)
		ret = rd_profile(&c, j, &r->profile);
	if (ret >= 0 && (ret = rd_num(&c, j, "at_ms", 0, 1e16, &d)) >= 0)
		r->at_ms = (int64_t)d;
	if (ret >= 0 && (ret = rd_num(&c, j, "repeats", 1, 1000, &d)) >= 0)
		r->repeats = (unsigned)d;
	if (ret >= 0) {
		const json_t *p = json_object_get(j, "pinned");
		if (p && !json_is_boolean(p))
			ret = bad(&c, "pinned", "not a boolean");
		r->pinned = json_is_true(p);
	}
	if (ret >= 0)
		ret = rd_figures(&c, j, "median", &r->median);
	if (ret >= 0)
		ret = rd_figures(&c, j, "min", &r->min);
	if (ret >= 0)
		ret = rd_figures(&c, j, "max", &r->max);
	if (ret >= 0 && r->kind == NP_BENCH_VERDICT) {
		ret = rd_str(&c, j, "verdict", true, &verdict);
		bool known = false;
		for (size_t i = 0; ret >= 0 && i < ARRAY_SIZE(verdict_names); i++)
			if (streq(verdict, verdict_names[i])) {
				r->verdict = (enum np_bench_verdict)i;
				known = true;
			}
		if (ret >= 0 && !known)
			ret = bad(&c, "verdict", "unknown verdict");
		if (ret >= 0)
			ret = rd_str(&c, j, "reference", false, &r->reference);
		if (ret >= 0)
			ret = rd_num(&c, j, "p99_change_percent", -1e9, 1e9, &r->p99_change_percent);
		if (ret >= 0)
			ret = rd_num(&c, j, "iops_change_percent", -1e9, 1e9, &r->iops_change_percent);
	}
	if (ret < 0) {
		np_bench_record_free(r);
		if (!*err && ret == -ENOMEM)
			*err = strdup("out of memory");
	}
	return ret;
}

int np_bench_record_dup(const struct np_bench_record *src, struct np_bench_record *dst)
{
	json_t *j = np_bench_record_to_json(src);
	char *err = NULL;
	int r = j ? np_bench_record_from_json(j, dst, &err) : -ENOMEM;
	json_decref(j);
	free(err);
	return r;
}

char *np_bench_record_key(const struct np_bench_record *r)
{
	char *k = np_asprintf("%s.%s.%s.%s.%s", r->kind == NP_BENCH_VERDICT ? "verdict" : "baseline",
			      r->bundle ? r->bundle : "none", r->node ? r->node : "none",
			      r->device ? r->device : "none", r->profile.name ? r->profile.name : "none");
	for (char *p = k; p && *p; p++)
		if (!strchr("-_.", *p) && !(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9'))
			*p = '_';
	return k;
}

static int cmp_at(const void *a, const void *b)
{
	const struct np_bench_record *x = *(const struct np_bench_record *const *)a,
				     *y = *(const struct np_bench_record *const *)b;
	return x->at_ms < y->at_ms ? -1 : x->at_ms > y->at_ms;
}

/* "p99 412us (395-440)" style cell: median and min-max */
static char *spread_cell(const struct np_bench_record *r, enum np_bench_fig f, const char *fmt)
{
	_cleanup_free_ char *m = np_asprintf(fmt, r->median.v[f]), *lo = np_asprintf(fmt, r->min.v[f]),
			      *hi = np_asprintf(fmt, r->max.v[f]);
	return r->repeats > 1 ? np_asprintf("%s (%s-%s)", m, lo, hi) : np_asprintf("%s", m);
}

void np_bench_records_print(const struct np_bench_record *r, size_t n, struct np_out *o)
{
	static const char *const hdr[] = { "when (UTC)", "kind", "bundle", "class", "kernel", "device",
					   "model / firmware", "profile", "n", "IOPS (min-max)", "MiB/s",
					   "clat p50/p95 us", "p99 us (min-max)", "p99.9/max us", "verdict" };
	_cleanup_free_ const struct np_bench_record **v = calloc(n ? n : 1, sizeof(*v));
	struct np_table *t = np_table_new(ARRAY_SIZE(hdr), hdr);
	if (!v || !t) {
		np_table_print_free(t, o);
		return;
	}
	for (size_t i = 0; i < n; i++)
		v[i] = &r[i];
	qsort(v, n, sizeof(*v), cmp_at);
	for (size_t i = 0; i < n; i++) {
		const struct np_bench_record *e = v[i];
		char when[32] = "-";
		time_t s = (time_t)(e->at_ms / 1000);
		struct tm tm;
		if (gmtime_r(&s, &tm))
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		_cleanup_free_ char *mf = np_asprintf("%s / %s", e->model ? e->model : "-",
						      e->firmware ? e->firmware : "-");
		_cleanup_free_ char *iops = spread_cell(e, NP_BF_IOPS, "%.0f");
		_cleanup_free_ char *p99 = spread_cell(e, NP_BF_P99, "%.0f");
		_cleanup_free_ char *verdict =
			e->kind == NP_BENCH_VERDICT ?
				np_asprintf("%s (p99 %+.0f%%, IOPS %+.0f%% vs %s)", np_bench_verdict_name(e->verdict),
					    e->p99_change_percent, e->iops_change_percent,
					    e->reference ? e->reference : "-") :
				strdup(e->pinned ? "pinned baseline" : "baseline");
		_cleanup_free_ char *bw = np_asprintf("%.1f", e->median.v[NP_BF_BW] / (1024 * 1024));
		_cleanup_free_ char *lo = np_asprintf("%.0f/%.0f", e->median.v[NP_BF_P50], e->median.v[NP_BF_P95]);
		_cleanup_free_ char *hi = np_asprintf("%.0f/%.0f", e->median.v[NP_BF_P999], e->median.v[NP_BF_MAX]);
		const char *cells[] = { when, e->kind == NP_BENCH_VERDICT ? "verdict" : "baseline", e->bundle,
					e->klass, e->kernel, e->device, mf, e->profile.name,
					NULL, iops, bw, lo, p99, hi, verdict };
		char nbuf[16];
		snprintf(nbuf, sizeof(nbuf), "%u", e->repeats);
		cells[8] = nbuf;
		enum np_tone tone = e->kind != NP_BENCH_VERDICT	      ? NP_TONE_PLAIN :
				    e->verdict == NP_VERDICT_REGRESSED ? NP_TONE_BAD :
				    e->verdict == NP_VERDICT_PASS      ? NP_TONE_GOOD :
									 NP_TONE_WARN;
		np_table_add(t, tone, cells);
	}
	np_table_print_free(t, o);
}
