/* SPDX-License-Identifier: Apache-2.0 */
/*
 * baseline.h - the storage micro-test model (`nodeprint baseline`): a profile,
 * the figures of one fio run, and a record (a baseline of a bundle, or a
 * compare verdict against one) with what it is keyed by: bundle hash, node
 * class, device model and firmware, kernel and profile. docs/baseline.md.
 */
#pragma once

#include "out.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* The figures of one run; latencies are fio's completion latency (clat), microseconds. */
enum np_bench_fig {
	NP_BF_IOPS,        /* I/O per second, reads + writes */
	NP_BF_BW,          /* bytes per second, reads + writes */
	NP_BF_P50,
	NP_BF_P95,
	NP_BF_P99,
	NP_BF_P999,
	NP_BF_MAX,
	NP_BF_N
};

struct np_bench_figures {
	double v[NP_BF_N];
};

/* JSON key of a figure ("iops", "bandwidth_bytes_per_second", "clat_p99_us", ...). */
const char *np_bench_fig_key(enum np_bench_fig f);

/* One fio job: what `baseline run` asks fio for (policy baseline.profiles[]). */
struct np_bench_profile {
	char *name;          /* [-A-Za-z0-9_.]+, at most 63 characters */
	char *rw;            /* fio rw=: read, randread, write, randwrite, rw, randrw */
	uint64_t block_bytes;/* fio bs= */
	unsigned iodepth;    /* fio iodepth= (libaio) */
	unsigned jobs;       /* fio numjobs=, reported as one group */
	double seconds;      /* fio runtime= (time_based) */
};

/* Does fio's rw= value @rw only read? (a raw device is only ever read) */
bool np_bench_rw_readonly(const char *rw);
/* Is @rw one of the values above? */
bool np_bench_rw_valid(const char *rw);
void np_bench_profile_free(struct np_bench_profile *p);
/* Deep copy. Returns 0 or -ENOMEM (@out zeroed on failure). */
int np_bench_profile_dup(const struct np_bench_profile *p, struct np_bench_profile *out);

/* What a record is. */
enum np_bench_kind { NP_BENCH_BASELINE, NP_BENCH_VERDICT };

/* The canary verdict of a compare; NO_BASELINE when nothing to compare with. */
enum np_bench_verdict { NP_VERDICT_PASS, NP_VERDICT_REGRESSED, NP_VERDICT_INCONCLUSIVE, NP_VERDICT_NO_BASELINE };

/* "pass", "regressed", "inconclusive", "no-baseline". */
const char *np_bench_verdict_name(enum np_bench_verdict v);

/*
 * One stored record: the medians of @repeats runs of one profile on one
 * device, with their min and max. Strings are malloc'd and owned; NULL means
 * unknown (class NULL: the node matched no class).
 */
struct np_bench_record {
	enum np_bench_kind kind;
	char *bundle;        /* the report's fingerprint, 12 hex digits */
	char *bundle_state;  /* pinned | drift | unknown, when it ran */
	char *klass;         /* node class, NULL when none */
	char *node;
	char *kernel;        /* kernel release */
	char *device;        /* block device name the file lives on, e.g. nvme0n1 */
	char *model, *firmware;
	char *fio_version;   /* "fio-3.33" */
	struct np_bench_profile profile;
	int64_t at_ms;       /* wall clock when it ended, Unix epoch milliseconds */
	unsigned repeats;
	bool pinned;         /* a reference baseline (`baseline run --pin`, or the bundle was pinned) */
	struct np_bench_figures median, min, max;
	/* verdicts only */
	enum np_bench_verdict verdict;
	char *reference;          /* bundle hash of the baseline compared with */
	double p99_change_percent;  /* median p99 against the baseline's, + = slower */
	double iops_change_percent; /* median IOPS against the baseline's, - = fewer */
};

void np_bench_record_free(struct np_bench_record *r);

/*
 * np_bench_summarize() - fill @r's median, min and max from @n runs (@n >= 1;
 * an even count takes the mean of the two middle values). Sets r->repeats.
 */
void np_bench_summarize(struct np_bench_record *r, const struct np_bench_figures *runs, unsigned n);

/* The record as JSON (docs/baseline.md, "Stored records"). Caller owns the reference. */
json_t *np_bench_record_to_json(const struct np_bench_record *r);

/*
 * np_bench_record_from_json() - the inverse, for records read back from the
 * state directory or a ConfigMap (input from outside: every field checked).
 * Returns 0 and fills @r (free with np_bench_record_free()), or -EINVAL with a
 * malloc'd reason in *@err (caller frees), or -ENOMEM.
 */
int np_bench_record_from_json(const json_t *j, struct np_bench_record *r, char **err);

/* A deep copy of @src into @dst (through the JSON form). Returns 0, -ENOMEM or -EINVAL (a record
 * that would not read back). */
int np_bench_record_dup(const struct np_bench_record *src, struct np_bench_record *dst);

/* The records as a table, one row per record, oldest first. */
void np_bench_records_print(const struct np_bench_record *r, size_t n, struct np_out *o);

/*
 * np_bench_record_key() - a stable name for @r, unique per kind, bundle,
 * node, device and profile: "<kind>.<bundle>.<node>.<device>.<profile>" with
 * every character outside [-A-Za-z0-9_.] as '_' (a ConfigMap data key and a
 * file name). Returns a malloc'd string or NULL (ENOMEM).
 */
char *np_bench_record_key(const struct np_bench_record *r);
