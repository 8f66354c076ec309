/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log.h - structured logs on stderr: logfmt by default, one JSON object per
 * line with --log-format json. Every line has time, level and msg; the rest
 * comes as logfmt pairs ("node=%s n=%u"). Values of keys that name secrets
 * (token, password, secret, key, authorization, cert) and "Bearer ..." text
 * are replaced with "[redacted]": a token or key never reaches a log.
 */
#pragma once

#include <stdbool.h>

enum np_log_level { NP_LOG_DEBUG, NP_LOG_INFO, NP_LOG_WARN, NP_LOG_ERROR };

/* Set the threshold and the format; returns 0, or -EINVAL for an unknown name. */
int np_log_setup(const char *level, const char *format);

/*
 * np_log() - one line at @level with message @msg and logfmt pairs from
 * @kv_fmt (may be NULL). Quoting of values is the caller's ("err=\"%s\"");
 * embedded newlines are escaped.
 */
void np_log(enum np_log_level level, const char *msg, const char *kv_fmt, ...)
	__attribute__((format(printf, 3, 4)));

