// SPDX-License-Identifier: Apache-2.0
/* util.c - base64, bounded reads, RFC 3339 and error helpers of the Kubernetes client. */
#define _GNU_SOURCE
#include "util.h"
#include "../shared/hostfs.h"
#include "../shared/macro.h"

#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

int np_kube_seterr(char **err, int negerr, const char *fmt, ...)
{
	va_list ap;
	char *m = NULL;

	if (!err)
		return negerr;
	va_start(ap, fmt);
	if (vasprintf(&m, fmt, ap) < 0)
		m = NULL;
	va_end(ap);
	free(*err);
	*err = m;
	return negerr;
}

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int np_base64_decode(const char *in, size_t inlen, char **out, size_t *len)
{
	_cleanup_free_ char *buf = malloc(inlen / 4 * 3 + 4);
	uint32_t acc = 0;
	size_t n = 0, pad = 0;
	unsigned bits = 0;

	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < inlen; i++) {
		unsigned char c = in[i];
		if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		int v = b64val(c);
		if (v < 0 || pad)
			return -EINVAL;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	/* leftover bits: 0 (complete), 2 (one '=' due) or 4 (two '=' due); 6 is impossible */
	if (bits == 6 || pad > 2 || (pad && pad != bits / 2))
		return -EINVAL;
	if (bits && (acc & ((1u << bits) - 1)))
		return -EINVAL; /* non-canonical trailing bits */
	buf[n] = '\0';
	*len = n;
	*out = TAKE_PTR(buf);
	return 0;
}

char *np_base64_encode(const void *in, size_t len)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = in;
	char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		*o++ = a[(v >> 18) & 63];
		*o++ = a[(v >> 12) & 63];
		*o++ = i + 1 < len ? a[(v >> 6) & 63] : '=';
		*o++ = i + 2 < len ? a[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

int np_read_file(const char *path, size_t max, char **out, size_t *len)
{
	/* O_NONBLOCK: opening a FIFO without a writer must not hang; cleared below */
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;

	if (fd < 0)
		return negative_errno();
	if (fstat(fd, &st) < 0)
		return negative_errno();
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode))
		return -EINVAL; /* devices (/dev/zero, /dev/stdin on a tty) are never credentials */
	if (fcntl(fd, F_SETFL, 0) < 0)
		return negative_errno();
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max)
		return -EFBIG;
	return np_read_fd(fd, max, S_ISREG(st.st_mode) ? (size_t)st.st_size : 0, out, len);
}

static int parse_digits(const char **s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++, (*s)++) {
		if (**s < '0' || **s > '9')
			return -EINVAL;
		v = v * 10 + (**s - '0');
	}
	*out = v;
	return 0;
}

static int expect(const char **s, const char *chars)
{
	if (!**s || !strchr(chars, **s))
		return -EINVAL;
	(*s)++;
	return 0;
}

int np_parse_rfc3339(const char *s, time_t *out)
{
	struct tm tm = { 0 };
	int y, mo, d, h, mi, se, oh = 0, om = 0, sign = 0;

	if (!s || parse_digits(&s, 4, &y) < 0 || expect(&s, "-") < 0 || parse_digits(&s, 2, &mo) < 0 ||
	    expect(&s, "-") < 0 || parse_digits(&s, 2, &d) < 0 || expect(&s, "Tt ") < 0 ||
	    parse_digits(&s, 2, &h) < 0 || expect(&s, ":") < 0 || parse_digits(&s, 2, &mi) < 0 ||
	    expect(&s, ":") < 0 || parse_digits(&s, 2, &se) < 0)
		return -EINVAL;
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return -EINVAL;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s++ == '-' ? -1 : 1;
		if (parse_digits(&s, 2, &oh) < 0 || expect(&s, ":") < 0 || parse_digits(&s, 2, &om) < 0)
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	if (*s || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60 || oh > 23 || om > 59)
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	time_t t = timegm(&tm);
	if (t == (time_t)-1 && !(y == 1969 && mo == 12 && d == 31))
		return -EINVAL;
	*out = t - sign * (oh * 3600 + om * 60);
	return 0;
}

char *np_path_resolve(const char *dir, const char *path)
{
	char *r = NULL;

	if (path[0] == '/' || !dir || !*dir)
		return strdup(path);
	if (asprintf(&r, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", path) < 0)
		return NULL;
	return r;
}

uint64_t np_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
