/* SPDX-License-Identifier: Apache-2.0 */
/* util.h - small helpers of the Kubernetes client: base64, bounded file reads, RFC 3339 times, errors. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Largest file the client reads (kubeconfig, certificate, key, token): 1 MiB. */
#define NP_KUBE_FILE_MAX (1u << 20)

/*
 * np_kube_seterr() - replace *@err (if @err is not NULL) with a malloc'd
 * message built from @fmt. Returns @negerr so callers can `return np_kube_seterr(...)`.
 */
int np_kube_seterr(char **err, int negerr, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * np_base64_decode() - decode standard base64 (RFC 4648 section 4), as used by
 * kubeconfig "*-data" fields. Whitespace is skipped; padding is optional at the
 * very end. Returns 0 with a malloc'd buffer (NUL-terminated, length in *@len),
 * -EINVAL on a character outside the alphabet or bad padding, -ENOMEM.
 */
int np_base64_decode(const char *in, size_t inlen, char **out, size_t *len);

/* np_base64_encode() - standard base64 with padding. Returns a malloc'd string or NULL (ENOMEM). */
char *np_base64_encode(const void *in, size_t len);

/*
 * np_read_file() - read a whole regular file of at most @max bytes (a local
 * file of the agent's own filesystem, not of the host root). Returns 0 with a
 * malloc'd NUL-terminated buffer and its length, or -errno (-EFBIG above @max, -EINVAL for a
 * device node, -EISDIR).
 */
int np_read_file(const char *path, size_t max, char **out, size_t *len);

/*
 * np_parse_rfc3339() - parse a Kubernetes timestamp (RFC 3339, e.g.
 * "2026-11-29T18:00:00Z", fractional seconds and +hh:mm offsets accepted).
 * Returns 0 and seconds since the epoch in *@out, or -EINVAL.
 */
int np_parse_rfc3339(const char *s, time_t *out);

/*
 * np_path_resolve() - @path made absolute against folder @dir when relative
 * (kubeconfig rule: relative to the kubeconfig file's own folder).
 * Returns a malloc'd string or NULL (ENOMEM).
 */
char *np_path_resolve(const char *dir, const char *path);

/* Monotonic clock in milliseconds (CLOCK_MONOTONIC). */
uint64_t np_now_ms(void);
