// SPDX-License-Identifier: Apache-2.0
#define _GNU_SOURCE
#include "log.h"
#include "macro.h"
#include "strutil.h"

#include <ctype.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static enum np_log_level threshold = NP_LOG_INFO;
static bool json_format;

int np_log_setup(const char *level, const char *format)
{
	static const char *const names[] = { "debug", "info", "warn", "error" };
	if (level) {
		int found = -1;
		for (int i = 0; i < 4; i++)
			if (streq(level, names[i]))
				found = i;
		if (found < 0)
			return -EINVAL;
		threshold = (enum np_log_level)found;
	}
	if (format) {
		if (!streq(format, "logfmt") && !streq(format, "json"))
			return -EINVAL;
		json_format = streq(format, "json");
	}
	return 0;
}

static bool secret_key(const char *k, size_t n)
{
	static const char *const words[] = { "token", "password", "secret", "key", "authorization", "cert", "bearer" };
	_cleanup_free_ char *low = strndup(k, n);
	if (!low)
		return true;
	for (char *p = low; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (strstr(low, words[i]))
			return true;
	return false;
}

/* Length of a logfmt value at @s: quoted (with escapes) or up to the next space. */
static size_t value_len(const char *s)
{
	if (*s != '"')
		return strcspn(s, " ");
	size_t i = 1;
	while (s[i] && s[i] != '"')
		i += s[i] == '\\' && s[i + 1] ? 2 : 1;
	return s[i] ? i + 1 : i;
}

static bool has_bearer(const char *v, size_t n)
{
	for (size_t i = 0; i + 7 <= n; i++)
		if (strncasecmp(v + i, "bearer ", 7) == 0)
			return true;
	return false;
}

char *np_log_redact(const char *kv)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	if (!f)
		return NULL;
	const char *p = kv;
	while (*p) {
		if (*p == ' ') {
			fputc(*p++, f);
			continue;
		}
		size_t kl = strcspn(p, "= ");
		if (p[kl] != '=') { /* a bare word */
			fwrite(p, 1, kl, f);
			p += kl;
			continue;
		}
		size_t vl = value_len(p + kl + 1);
		const char *v = p + kl + 1;
		bool bearer = has_bearer(v, vl);
		if (secret_key(p, kl) || bearer)
			fprintf(f, "%.*s=\"[redacted]\"", (int)kl, p);
		else
			fwrite(p, 1, kl + 1 + vl, f);
		p = v + vl;
	}
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* Escape a message for a logfmt quoted value. */
static void put_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

/* logfmt pairs -> JSON members (values unquoted; numbers stay strings: logs are text). */
static void put_json_pairs(FILE *f, const char *kv)
{
	const char *p = kv;
	while (*p) {
		p += strspn(p, " ");
		size_t kl = strcspn(p, "= ");
		if (!kl)
			break;
		if (p[kl] != '=') {
			p += kl;
			continue;
		}
		const char *v = p + kl + 1;
		size_t vl = value_len(v);
		_cleanup_free_ char *val = (*v == '"') ? strndup(v + 1, vl >= 2 ? vl - 2 : 0) : strndup(v, vl);
		fprintf(f, ",\"%.*s\":", (int)kl, p);
		if (val) {
			char *w = val; /* undo the logfmt escapes, then JSON-escape */
			for (char *r = val; *r; r++) {
				if (*r == '\\' && r[1])
					r++;
				*w++ = *r;
			}
			*w = '\0';
			put_quoted(f, val);
		} else {
			fputs("null", f);
		}
		p = v + vl;
	}
}

void np_log(enum np_log_level level, const char *msg, const char *kv_fmt, ...)
{
	static const char *const names[] = { "debug", "info", "warn", "error" };
	if (level < threshold)
		return;
	_cleanup_free_ char *kv = NULL, *safe = NULL;
	if (kv_fmt) {
		va_list ap;
		va_start(ap, kv_fmt);
		if (vasprintf(&kv, kv_fmt, ap) < 0)
			kv = NULL;
		va_end(ap);
		for (char *c = kv; c && *c; c++)
			if (*c == '\n')
				*c = ' ';
		safe = kv ? np_log_redact(kv) : NULL;
	}
	char ts[40];
	struct timespec now;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	size_t k = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + k, sizeof(ts) - k, ".%03ldZ", now.tv_nsec / 1000000);
	flockfile(stderr);
	if (json_format) {
		fprintf(stderr, "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":", ts, names[level]);
		put_quoted(stderr, msg);
		if (safe)
			put_json_pairs(stderr, safe);
		fputs("}\n", stderr);
	} else {
		fprintf(stderr, "time=%s level=%s msg=", ts, names[level]);
		put_quoted(stderr, msg);
		if (safe && *safe)
			fprintf(stderr, " %s", safe);
		fputc('\n', stderr);
	}
	funlockfile(stderr);
}
