// SPDX-License-Identifier: Apache-2.0
#define _GNU_SOURCE
#include "log.h"
#include "macro.h"
#include "strutil.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

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

/* The redaction applied to a formatted line (exposed for tests). Returns a malloc'd string or NULL. */
static char *np_log_redact(const char *kv)
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

/* Length of the valid UTF-8 sequence at @s (1..4), or 0 when it is not one (RFC 3629). */
static size_t utf8_len(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	size_t n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 : 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((n == 3 && s[0] == 0xe0 && s[1] < 0xa0) || (n == 4 && s[0] == 0xf0 && s[1] < 0x90) ||
	    (n == 4 && s[0] == 0xf4 && s[1] >= 0x90) || (n == 3 && s[0] == 0xed && s[1] >= 0xa0))
		return 0; /* overlong, beyond U+10FFFF, surrogates */
	return n;
}

/*
 * A quoted string for a log line, valid JSON and safe on a terminal: " and \ escaped, control
 * characters as \n, \t or \u00XX (no escape sequence reaches a terminal), bytes that are not
 * UTF-8 (a device's model string, a kernel-log line) as U+FFFD.
 */
static void put_quoted(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	fputc('"', f);
	while (*s) {
		size_t n = utf8_len(s);
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else if (*s == '\t')
			fputs("\\t", f);
		else if (*s < 0x20 || *s == 0x7f)
			fprintf(f, "\\u%04x", *s);
		else if (n == 0)
			fputs("\xef\xbf\xbd", f);
		else
			fwrite(s, 1, n, f);
		s += n ? n : 1;
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

/* Write string @v as a logfmt value: inside the format's quotes with " and \ escaped; bare
 * when it needs no quotes, else quoted here (a value from outside must never split a pair). */
static void put_value(FILE *f, const char *v, bool quoted)
{
	if (!v)
		v = "(null)";
	bool bare_ok = *v;
	for (const char *c = v; *c && bare_ok; c++)
		bare_ok = (unsigned char)*c > 0x20 && *c != 0x7f && *c != '"' && *c != '=' && *c != '\\';
	if (!quoted && bare_ok) {
		fputs(v, f);
		return;
	}
	if (!quoted)
		fputc('"', f);
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			fputc('\\', f);
		fputc(*v, f);
	}
	if (!quoted)
		fputc('"', f);
}

/*
 * vasprintf() for the kv format, with every %s escaped for logfmt (see put_value()). The other
 * conversions are printed by snprintf() with the same spec: flags, width and precision (also
 * '*'), length modifiers hh h l ll z j t L. Returns a malloc'd string or NULL.
 */
static char *format_kv(const char *fmt, va_list ap)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	if (!f)
		return NULL;
	bool quoted = false;
	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			quoted ^= *p == '"';
			fputc(*p, f);
			continue;
		}
		if (p[1] == '%') {
			fputc('%', f);
			p++;
			continue;
		}
		char spec[32], *w = spec, num[24];
		int prec = -1;
		*w++ = *p++;
		while (*p && strchr("-+ #0", *p) && w < spec + 8)
			*w++ = *p++;
		for (int part = 0; part < 2; part++) {
			if (part == 1) {
				if (*p != '.')
					break;
				*w++ = *p++;
			}
			if (*p == '*') {
				int n = va_arg(ap, int);
				if (part == 1)
					prec = n;
				snprintf(num, sizeof(num), "%d", n);
				for (char *c = num; *c && w < spec + 24; c++)
					*w++ = *c;
				p++;
			} else {
				if (part == 1)
					prec = atoi(p);
				while (isdigit((unsigned char)*p) && w < spec + 24)
					*w++ = *p++;
			}
		}
		char len1 = 0, len2 = 0;
		if (*p && strchr("hlzjtL", *p)) {
			len1 = *p;
			*w++ = *p++;
			if ((len1 == 'h' || len1 == 'l') && *p == len1) {
				len2 = *p;
				*w++ = *p++;
			}
		}
		char conv = *p;
		*w++ = conv;
		*w = '\0';
		char buf[128];
		buf[0] = '\0';
		switch (conv) {
		case 's': {
			const char *v = va_arg(ap, const char *);
			_cleanup_free_ char *cut = v && prec >= 0 ? strndup(v, (size_t)prec) : NULL;
			put_value(f, cut ? cut : v, quoted);
			break;
		}
		case 'd': case 'i': case 'u': case 'x': case 'X': case 'o': case 'c':
			if (len1 == 'l' && len2)
				snprintf(buf, sizeof(buf), spec, va_arg(ap, long long));
			else if (len1 == 'l')
				snprintf(buf, sizeof(buf), spec, va_arg(ap, long));
			else if (len1 == 'z' || len1 == 't')
				snprintf(buf, sizeof(buf), spec, va_arg(ap, size_t));
			else if (len1 == 'j')
				snprintf(buf, sizeof(buf), spec, va_arg(ap, intmax_t));
			else
				snprintf(buf, sizeof(buf), spec, va_arg(ap, int));
			break;
		case 'f': case 'F': case 'g': case 'G': case 'e': case 'E':
			if (len1 == 'L')
				snprintf(buf, sizeof(buf), spec, va_arg(ap, long double));
			else
				snprintf(buf, sizeof(buf), spec, va_arg(ap, double));
			break;
		case 'p':
			snprintf(buf, sizeof(buf), spec, va_arg(ap, void *));
			break;
		default: /* unknown or truncated spec: print it as text, take no argument */
			fputs(spec, f);
			if (!conv)
				p--;
			break;
		}
		if (*buf)
			put_value(f, buf, quoted);
	}
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* Write @n bytes of @buf to @fd, on through short writes and EINTR; a log line has nowhere to report a failure. */
static void write_all(int fd, const char *buf, size_t n)
{
	while (n) {
		ssize_t w = write(fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		buf += w;
		n -= (size_t)w;
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
		kv = format_kv(kv_fmt, ap);
		va_end(ap);
		for (char *c = kv; c && *c; c++) /* no control character reaches a terminal or a line */
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
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
	/* the line is built in memory and written with one write(2): unbuffered stdio wrote it in pieces
	 * (a byte per character of msg), each a system call - and a 9p round trip for an agent whose
	 * stderr is a file on a share - and a reader of the pipe could see half a line */
	_cleanup_free_ char *line = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&line, &len);
	if (!f)
		f = stderr; /* out of memory: the line in pieces rather than none */
	else
		flockfile(stderr);
	if (json_format) {
		fprintf(f, "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":", ts, names[level]);
		put_quoted(f, msg);
		if (safe)
			put_json_pairs(f, safe);
		fputs("}\n", f);
	} else {
		fprintf(f, "time=%s level=%s msg=", ts, names[level]);
		put_quoted(f, msg);
		if (safe && *safe)
			fprintf(f, " %s", safe);
		fputc('\n', f);
	}
	if (f == stderr)
		return;
	if (fclose(f) == 0)
		write_all(fileno(stderr), line, len);
	funlockfile(stderr);
}
