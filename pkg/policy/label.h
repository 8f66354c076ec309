/* SPDX-License-Identifier: Apache-2.0 */
/*
 * label.h - Kubernetes label keys and values, validated and derived from raw
 * hardware strings deterministically (the API server rejects the whole node
 * patch for one bad value, so nothing unvalidated is ever sent).
 *
 * Rules (k8s.io/apimachinery/pkg/util/validation): a value is empty or at most
 * 63 characters of [-A-Za-z0-9_.] that start and end alphanumeric; a key is
 * an optional DNS-subdomain prefix (at most 253) and '/', then a name with the
 * value's rules that is not empty.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define NP_LABEL_VALUE_MAX 63
#define NP_LABEL_PREFIX_MAX 253

/* true when @v is a valid label value. */
bool np_label_value_valid(const char *v);
/* true when @k is a valid label (or annotation/taint) key. */
bool np_label_key_valid(const char *k);
/* true when @s is a DNS-1123 subdomain (a key prefix such as "nodeprint.io"). */
bool np_dns_subdomain_valid(const char *s);

/*
 * np_label_value() - a valid label value derived from a raw string:
 * every run of characters outside [-A-Za-z0-9_.] becomes one '_', ends are
 * trimmed to alphanumerics, and a result over 63 characters keeps its head,
 * then '-' and 8 hex digits of SHA-256(raw), then (when @keep_tail > 0) '-'
 * and the last @keep_tail sanitised characters, the discriminating part.
 * A raw value that is already valid comes back byte-identical.
 * Returns a malloc'd string (caller frees), or NULL on ENOMEM.
 */
char *np_label_value(const char *raw, size_t keep_tail);
