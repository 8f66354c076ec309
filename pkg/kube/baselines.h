/* SPDX-License-Identifier: Apache-2.0 */
/*
 * baselines.h - micro-test records in the cluster: one ConfigMap per node
 * class, "nodeprint-baselines-<class>" ("nodeprint-baselines" for nodes of no
 * class) in the agent's namespace, labelled app.kubernetes.io/component=
 * baselines; one data key per record (np_bench_record_key()), its value the
 * record's JSON (docs/baseline.md). Writes are read-modify-write guarded by
 * resourceVersion (a concurrent writer answers 409: read again, at most 5
 * tries). core/v1 ConfigMap: Kubernetes API reference, "ConfigMap v1".
 */
#pragma once

#include "transport.h"
#include "../report/baseline.h"

#include <stddef.h>

/* The ConfigMap's data is kept under this many bytes (the API's limit is 1 MiB): oldest records go first. */
#define NP_BASELINES_MAX_BYTES (768u << 10)

/* The ConfigMap name for @klass (NULL = no class), or NULL on ENOMEM. Characters a
 * DNS-1123 name cannot hold become '-', upper case is lowered. */
char *np_kube_baselines_name(const char *klass);

/*
 * np_kube_baselines_load() - the records of @klass's ConfigMap in @ns. A
 * missing ConfigMap is no records. Entries that do not parse are skipped and
 * counted in *@bad. Returns 0 with a malloc'd array in *@out (free with
 * np_bench_records_free()) and its length in *@n, or -errno with *@err.
 */
int np_kube_baselines_load(struct np_kube_client *c, const char *ns, const char *klass,
			   struct np_bench_record **out, size_t *n, size_t *bad, char **err);

/*
 * np_kube_baselines_store() - add or replace @n records (all of one class:
 * recs[0].klass) in their ConfigMap, creating it when missing. Returns 0 or
 * -errno with *@err.
 */
int np_kube_baselines_store(struct np_kube_client *c, const char *ns, const struct np_bench_record *recs,
			    size_t n, char **err);

/* Called for every ConfigMap of the LIST below with its records (borrowed). Returns 0 or -errno to stop. */
typedef int (*np_kube_baselines_cb)(const char *name, const struct np_bench_record *recs, size_t n, void *ud);

/*
 * np_kube_baselines_list() - every baselines ConfigMap of @ns (LIST with the
 * label selector above). Returns 0 or -errno with *@err.
 */
int np_kube_baselines_list(struct np_kube_client *c, const char *ns, np_kube_baselines_cb cb, void *ud, char **err);
