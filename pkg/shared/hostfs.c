// SPDX-License-Identifier: Apache-2.0
#define _GNU_SOURCE
#include "hostfs.h"
#include "macro.h"
#include "strutil.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

int np_host_open(struct np_host *h, const char *root)
{
	if (!root || !*root)
		root = getenv("NODEPRINT_HOST_ROOT");
	if (!root || !*root)
		root = "/";
	int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	h->root = strdup(root);
	if (!h->root) {
		close(fd);
		return -ENOMEM;
	}
	h->rootfd = fd;
	char real[PATH_MAX];
	h->live = realpath(root, real) && streq(real, "/");
	return 0;
}

void np_host_close(struct np_host *h)
{
	if (h->rootfd >= 0)
		close(h->rootfd);
	h->rootfd = -1;
	free(h->root);
	h->root = NULL;
}

static const char *relpath(const char *path)
{
	while (*path == '/')
		path++;
	return *path ? path : ".";
}

int np_host_openat(const struct np_host *h, const char *path, int flags)
{
	static int have_openat2 = 1;
	flags |= O_CLOEXEC;
	if (h->live) {
		int fd = open(path, flags);
		return fd < 0 ? negative_errno() : fd;
	}
	if (have_openat2) {
		struct open_how how = { .flags = (uint64_t)flags, .resolve = RESOLVE_IN_ROOT };
		long fd;
		/*
		 * openat2(2): with RESOLVE_IN_ROOT a ".." met while any rename happens on the
		 * system fails with EAGAIN ("the caller may choose to retry"). sysfs links are
		 * full of ".." and a busy host renames all the time: retry, don't fail the read.
		 */
		for (int tries = 0; tries < 64; tries++) {
			fd = syscall(SYS_openat2, h->rootfd, relpath(path), &how, sizeof(how));
			if (fd >= 0 || errno != EAGAIN)
				break;
		}
		if (fd >= 0)
			return (int)fd;
		if (errno != ENOSYS && errno != EPERM)
			return negative_errno();
		have_openat2 = 0; /* old kernel or seccomp: fall back */
	}
	int fd = openat(h->rootfd, relpath(path), flags);
	return fd < 0 ? negative_errno() : fd;
}

int np_read_fd(int fd, size_t max, size_t hint, char **out, size_t *len)
{
	size_t cap = hint ? (hint < max ? hint : max) + 1 : 4096, n = 0;
	_cleanup_free_ char *buf = malloc(cap + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (n == cap) {
			if (cap >= max + 1)
				return -EFBIG;
			size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			char *nb = realloc(buf, ncap + 1);
			if (!nb)
				return -ENOMEM;
			buf = nb;
			cap = ncap;
		}
		ssize_t k = read(fd, buf + n, cap - n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return negative_errno();
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	if (n > max)
		return -EFBIG;
	buf[n] = '\0';
	if (len)
		*len = n;
	*out = TAKE_PTR(buf);
	return 0;
}

int np_host_read(const struct np_host *h, const char *path, size_t max, char **out, size_t *len)
{
	if (max == 0)
		max = NP_READ_MAX_DEFAULT;
	_cleanup_close_ int fd = np_host_openat(h, path, O_RDONLY);
	if (fd < 0)
		return fd;
	return np_read_fd(fd, max, 0, out, len);
}

int np_host_read_line(const struct np_host *h, const char *path, char **out)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = np_host_read(h, path, 1u << 20, &buf, &len);
	if (r < 0)
		return r;
	buf[strcspn(buf, "\n")] = '\0';
	np_strip(buf);
	*out = TAKE_PTR(buf);
	return 0;
}

int np_host_attr(const struct np_host *h, char **dst, const char *fmt, ...)
{
	_cleanup_free_ char *path = NULL;
	va_list ap;
	va_start(ap, fmt);
	int k = vasprintf(&path, fmt, ap);
	va_end(ap);
	free(*dst);
	*dst = NULL;
	if (k < 0) {
		path = NULL;
		return -ENOMEM;
	}
	char *v = NULL;
	int r = np_host_read_line(h, path, &v);
	if (r == -ENOENT || r == -ENOTDIR || r == -ENODEV)
		return 0;
	if (r < 0)
		return r;
	if (!*v) {
		free(v);
		return 0;
	}
	*dst = v;
	return 1;
}

int np_host_read_u64(const struct np_host *h, const char *path, uint64_t *out)
{
	_cleanup_free_ char *s = NULL;
	int r = np_host_read_line(h, path, &s);
	if (r < 0)
		return r;
	return np_parse_u64(s, out);
}

int np_host_read_s64(const struct np_host *h, const char *path, int64_t *out)
{
	_cleanup_free_ char *s = NULL;
	int r = np_host_read_line(h, path, &s);
	if (r < 0)
		return r;
	return np_parse_s64(s, out);
}

int np_host_readlink(const struct np_host *h, const char *path, char **out)
{
	char buf[PATH_MAX];
	ssize_t k;
	if (h->live) {
		k = readlink(path, buf, sizeof(buf) - 1);
	} else {
		/* resolve the parent inside the root, then read the link itself */
		_cleanup_free_ char *dir = strdup(path);
		if (!dir)
			return -ENOMEM;
		char *slash = strrchr(dir, '/');
		const char *base = path;
		if (slash) {
			*slash = '\0';
			base = path + (slash - dir) + 1;
		}
		_cleanup_close_ int dfd = np_host_openat(h, *dir ? dir : "/", O_PATH | O_DIRECTORY);
		if (dfd < 0)
			return dfd;
		k = readlinkat(dfd, base, buf, sizeof(buf) - 1);
	}
	if (k < 0)
		return negative_errno();
	buf[k] = '\0';
	*out = strdup(buf);
	return *out ? 0 : -ENOMEM;
}

int np_host_link_basename(const struct np_host *h, const char *path, char **out)
{
	_cleanup_free_ char *t = NULL;
	int r = np_host_readlink(h, path, &t);
	if (r < 0)
		return r;
	const char *b = strrchr(t, '/');
	*out = strdup(b ? b + 1 : t);
	return *out ? 0 : -ENOMEM;
}

bool np_host_exists(const struct np_host *h, const char *path)
{
	_cleanup_close_ int fd = np_host_openat(h, path, O_PATH);
	return fd >= 0;
}

static int cmp_ver(const void *a, const void *b)
{
	return strverscmp(*(char *const *)a, *(char *const *)b);
}

int np_host_list(const struct np_host *h, const char *dir, char ***out, size_t *n)
{
	int fd = np_host_openat(h, dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return fd;
	_cleanup_closedir_ DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return negative_errno();
	}
	char **v = NULL;
	size_t cnt = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		int r = np_strv_push(&v, &cnt, de->d_name);
		if (r < 0) {
			np_strv_free(v);
			return r;
		}
	}
	if (cnt)
		qsort(v, cnt, sizeof(char *), cmp_ver);
	else if (!v && !(v = calloc(1, sizeof(char *))))
		return -ENOMEM;
	*out = v;
	if (n)
		*n = cnt;
	return 0;
}
