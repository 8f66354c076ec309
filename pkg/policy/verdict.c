// SPDX-License-Identifier: Apache-2.0
/* verdict.c - the canary verdict (see verdict.h). Pure: no I/O. */
#define _GNU_SOURCE
#include "verdict.h"
#include "vocab.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <math.h>
#include <string.h>

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && streq(a, b));
}

const struct np_bench_record *np_bench_reference(const struct np_bench_record *recs, size_t n,
						 const struct np_bench_record *cur)
{
	const struct np_bench_record *best = NULL;
	for (size_t i = 0; i < n; i++) {
		const struct np_bench_record *r = &recs[i];
		if (r->kind != NP_BENCH_BASELINE || !r->pinned || !same(r->klass, cur->klass) ||
		    !same(r->model, cur->model) || !same(r->profile.name, cur->profile.name))
			continue;
		if (!best || r->at_ms > best->at_ms)
			best = r;
	}
	return best;
}

static double change(double now, double before)
{
	return before > 0 ? (now - before) / before * 100 : (now > 0 ? INFINITY : 0);
}

int np_bench_judge(const struct np_bench_record *ref, const struct np_baseline_policy *b,
		   struct np_bench_record *cur)
{
	cur->kind = NP_BENCH_VERDICT;
	free(cur->reference);
	cur->reference = NULL;
	cur->p99_change_percent = cur->iops_change_percent = 0;
	if (!ref) {
		cur->verdict = NP_VERDICT_NO_BASELINE;
		return cur->verdict;
	}
	if (ref->bundle && !(cur->reference = strdup(ref->bundle)))
		return -ENOMEM;
	double p99 = change(cur->median.v[NP_BF_P99], ref->median.v[NP_BF_P99]);
	double iops = change(cur->median.v[NP_BF_IOPS], ref->median.v[NP_BF_IOPS]);
	cur->p99_change_percent = isfinite(p99) ? p99 : 1e9;
	cur->iops_change_percent = iops;
	bool p99_over = p99 > b->p99_growth_percent, iops_over = -iops > b->iops_drop_percent;
	/*
	 * the ranges apart: even the best run now is worse than the worst baseline run; a range says so
	 * only with NP_BENCH_MIN_RUNS runs on each side (of one run, min = max = that run, and one slow
	 * run would be "every run slower")
	 */
	bool enough = cur->repeats >= NP_BENCH_MIN_RUNS && ref->repeats >= NP_BENCH_MIN_RUNS;
	bool p99_apart = enough && cur->min.v[NP_BF_P99] > ref->max.v[NP_BF_P99];
	bool iops_apart = enough && cur->max.v[NP_BF_IOPS] < ref->min.v[NP_BF_IOPS];
	if ((p99_over && p99_apart) || (iops_over && iops_apart))
		cur->verdict = NP_VERDICT_REGRESSED;
	else if (p99_over || iops_over)
		cur->verdict = NP_VERDICT_INCONCLUSIVE;
	else
		cur->verdict = NP_VERDICT_PASS;
	return cur->verdict;
}

enum np_bench_verdict np_bench_overall(const struct np_bench_record *v, size_t n)
{
	enum np_bench_verdict o = n ? NP_VERDICT_PASS : NP_VERDICT_NO_BASELINE;
	for (size_t i = 0; i < n; i++) {
		if (v[i].verdict == NP_VERDICT_REGRESSED)
			return NP_VERDICT_REGRESSED;
		if (v[i].verdict != NP_VERDICT_PASS && o == NP_VERDICT_PASS)
			o = v[i].verdict;
	}
	return o;
}

char *np_bench_verdict_message(const struct np_bench_record *v, size_t n)
{
	char *msg = strdup("");
	for (size_t i = 0; msg && i < n; i++) {
		const struct np_bench_record *e = &v[i];
		char *line;
		if (e->verdict == NP_VERDICT_NO_BASELINE)
			line = np_asprintf("%s%s: no pinned baseline for class %s, model %s", *msg ? "; " : "",
					   e->profile.name, e->klass ? e->klass : "(none)", e->model ? e->model : "(unknown)");
		else
			line = np_asprintf("%s%s: %s, p99 %+.0f %% (median %.0f us, min-max %.0f-%.0f over %u runs), "
					   "IOPS %+.0f %% (median %.0f, min-max %.0f-%.0f) against bundle %s",
					   *msg ? "; " : "", e->profile.name, np_bench_verdict_name(e->verdict),
					   e->p99_change_percent, e->median.v[NP_BF_P99], e->min.v[NP_BF_P99],
					   e->max.v[NP_BF_P99], e->repeats, e->iops_change_percent, e->median.v[NP_BF_IOPS],
					   e->min.v[NP_BF_IOPS], e->max.v[NP_BF_IOPS], e->reference ? e->reference : "?");
		char *m = line ? np_asprintf("%s%s", msg, line) : NULL;
		free(line);
		free(msg);
		msg = m;
	}
	return msg;
}


int np_bench_desired(const struct np_policy *p, const struct np_bench_record *v, size_t n, const char *node,
		     bool announce, struct np_desired *d)
{
	if (n == 0)
		return 0;
	enum np_bench_verdict o = np_bench_overall(v, n);
	_cleanup_free_ char *msg = np_bench_verdict_message(v, n);
	if (!msg)
		return -ENOMEM;
	if (strlen(msg) > 1000)
		strcpy(msg + 990, " ...");
	struct np_condition *c = GROW(d->conditions, d->n_conditions);
	if (!c)
		return -ENOMEM;
	static const char *const status[] = { [NP_VERDICT_PASS] = "False", [NP_VERDICT_REGRESSED] = "True",
					      [NP_VERDICT_INCONCLUSIVE] = "Unknown", [NP_VERDICT_NO_BASELINE] = "Unknown" };
	static const char *const reason[] = { [NP_VERDICT_PASS] = NP_REASON_WITHIN_BASELINE,
					      [NP_VERDICT_REGRESSED] = NP_REASON_REGRESSED,
					      [NP_VERDICT_INCONCLUSIVE] = NP_REASON_NOISY,
					      [NP_VERDICT_NO_BASELINE] = NP_REASON_NO_BASELINE };
	c->type = strdup(NP_COND_BUNDLE_REGRESSION);
	c->status = strdup(status[o]);
	c->reason = strdup(reason[o]);
	c->message = strdup(msg);
	if (!c->type || !c->status || !c->reason || !c->message)
		return -ENOMEM;
	if (o == NP_VERDICT_PASS || o == NP_VERDICT_REGRESSED) {
		struct np_kv *kv = GROW(d->labels, d->n_labels);
		if (!kv)
			return -ENOMEM;
		kv->key = np_asprintf("%s/bundle-verdict", p->label_prefix);
		kv->value = strdup(np_bench_verdict_name(o));
		if (!kv->key || !kv->value)
			return -ENOMEM;
	}
	if (!announce)
		return 0;
	struct np_event *e = GROW(d->events, d->n_events);
	if (!e)
		return -ENOMEM;
	e->reason = strdup(o == NP_VERDICT_REGRESSED ? NP_EVENT_BUNDLE_REGRESSION : NP_EVENT_BUNDLE_VERDICT);
	e->type = strdup(o == NP_VERDICT_REGRESSED ? "Warning" : "Normal");
	e->message = strdup(msg);
	e->kind = strdup("Node");
	e->name = strdup(node ? node : "");
	e->subject = strdup(v[0].bundle ? v[0].bundle : "bundle");
	return e->reason && e->type && e->message && e->kind && e->name && e->subject ? 0 : -ENOMEM;
}
