/* SPDX-License-Identifier: Apache-2.0 */
/*
 * verdict.h - the canary verdict of `nodeprint baseline compare`, as pure
 * functions: which stored baseline a run is compared with, whether it
 * regressed (medians against the policy's thresholds, min-max spreads so a
 * noisy run is not called a regression), and what the Node then shows
 * (condition BundleRegression, label <prefix>/bundle-verdict, an Event).
 * docs/baseline.md, "The verdict".
 */
#pragma once

#include "desired.h"
#include "policy.h"
#include "../report/baseline.h"

/*
 * np_bench_reference() - the baseline @cur is compared with: among @recs
 * (@n records), the newest pinned baseline of the same class (both NULL
 * counts as the same), device model and profile name. NULL when none.
 */
const struct np_bench_record *np_bench_reference(const struct np_bench_record *recs, size_t n,
						 const struct np_bench_record *cur);

/* the fewest runs per record (`repeats`) whose min-max range may make a regression */
#define NP_BENCH_MIN_RUNS 3

/*
 * np_bench_judge() - set @cur's verdict, reference, p99_change_percent and
 * iops_change_percent against @ref (NULL: NO_BASELINE). Regressed when the
 * median p99 grew more than @b->p99_growth_percent and the fastest run's p99
 * is still above the slowest baseline run's, or the median IOPS dropped more
 * than @b->iops_drop_percent and the best run's IOPS is still below the
 * baseline's worst; INCONCLUSIVE when a median crosses its threshold but the
 * min-max ranges overlap (a noisy run) or either record has fewer than
 * NP_BENCH_MIN_RUNS runs (its range says nothing); PASS otherwise. Returns the
 * verdict, or -ENOMEM (copying the reference's bundle).
 */
int np_bench_judge(const struct np_bench_record *ref, const struct np_baseline_policy *b,
		   struct np_bench_record *cur);

/*
 * np_bench_overall() - one verdict from several profiles' verdicts: regressed
 * when any regressed, else inconclusive/no-baseline when any is, else pass
 * (PASS for @n == 0 is not meaningful: NO_BASELINE).
 */
enum np_bench_verdict np_bench_overall(const struct np_bench_record *v, size_t n);

/*
 * np_bench_desired() - add the verdict @v (@n per-profile records, the
 * latest compare) to @d: condition BundleRegression (True = regressed,
 * False = pass, Unknown = inconclusive or no baseline: this type's polarity is
 * the opposite of the others'), label <prefix>/bundle-verdict=pass|regressed
 * (absent otherwise), and, when @announce, an Event BundleRegression
 * (Warning) or BundleVerdictPass (Normal) on Node @node with the numbers.
 * Nothing when @n is 0. Returns 0 or -ENOMEM.
 */
int np_bench_desired(const struct np_policy *p, const struct np_bench_record *v, size_t n, const char *node,
		     bool announce, struct np_desired *d);

/* One line per profile: "randread-4k-qd1: p99 +34 % (412 -> 553 us, spread 540-560), IOPS -20 % ..." (malloc'd). */
char *np_bench_verdict_message(const struct np_bench_record *v, size_t n);
