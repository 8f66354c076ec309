// SPDX-License-Identifier: Apache-2.0
#define _GNU_SOURCE
#include "hostfs.h"
#include "fdcache.h"
#include "macro.h"
#include "strutil.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <dirent.h>
#include <unistd.h>

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
	h->kept = NULL;
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
	np_fdcache_free(h->kept);
	h->kept = NULL;
}

int np_host_keep_open(struct np_host *h, size_t max)
{
	if (!h->kept && !(h->kept = np_fdcache_new(max)))
		return -ENOMEM;
	return 0;
}

size_t np_host_sweep_open(struct np_host *h)
{
	return np_fdcache_sweep(h->kept);
}

void np_host_reopen_all(struct np_host *h)
{
	np_fdcache_flush(h->kept);
}

static const char *relpath(const char *path)
{
	while (*path == '/')
		path++;
	return *path ? path : ".";
}

/*
 * Whether the kernel (or the seccomp filter) allows openat2(2), one flag per kind of open (from
 * the root, beneath a folder): cleared at the first ENOSYS or EPERM. Read and cleared atomically:
 * collectors may run on several threads (pkg/collect/pool.h).
 */
static int root_openat2 = 1, dir_openat2 = 1;

static bool openat2_allowed(int *flag)
{
	return __atomic_load_n(flag, __ATOMIC_RELAXED);
}

static void openat2_refused(int *flag)
{
	__atomic_store_n(flag, 0, __ATOMIC_RELAXED);
}

int np_host_openat(const struct np_host *h, const char *path, int flags)
{
	flags |= O_CLOEXEC;
	if (h->live) {
		int fd = open(path, flags);
		return fd < 0 ? negative_errno() : fd;
	}
	if (openat2_allowed(&root_openat2)) {
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
		openat2_refused(&root_openat2); /* old kernel or seccomp: fall back */
	}
	int fd = openat(h->rootfd, relpath(path), flags);
	return fd < 0 ? negative_errno() : fd;
}

/* read(2), or pread(2) at @off when @at: a kept file is read from its start every time. */
static ssize_t rd(int fd, void *buf, size_t n, bool at, size_t off)
{
	return at ? pread(fd, buf, n, (off_t)off) : read(fd, buf, n);
}

/* np_read_fd(); positional when @at, from offset @base. */
static int read_all(int fd, bool at, size_t base, size_t max, size_t hint, char **out, size_t *len)
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
		ssize_t k = rd(fd, buf + n, cap - n, at, base + n);
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

int np_read_fd(int fd, size_t max, size_t hint, char **out, size_t *len)
{
	return read_all(fd, false, 0, max, hint, out, len);
}

/* Largest attribute np_host_read_line() reads to its end when its first read holds no newline. */
#define NP_LINE_MAX (1u << 20)

/*
 * The first line of @fd. A sysfs attribute is one value that its first read(2) returns whole,
 * newline included (Documentation/filesystems/sysfs.rst): when that read holds a newline, or
 * returned less than was asked (the whole value: a virtio disk's serial has no newline; a
 * regular file of a captured tree reads short only at its end; a seq_file stops short only
 * after a whole record, its newline included), the line is complete and the read that would
 * return 0 is skipped; else the rest is read to the end.
 */
static int fd_read_line(int fd, bool at, char **out)
{
	char first[4096];
	ssize_t k;
	do
		k = rd(fd, first, sizeof(first), at, 0);
	while (k < 0 && errno == EINTR);
	if (k < 0)
		return negative_errno();
	_cleanup_free_ char *buf = NULL;
	size_t len = (size_t)k;
	if ((size_t)k == sizeof(first) && !memchr(first, '\n', (size_t)k) && !memchr(first, '\0', (size_t)k)) {
		_cleanup_free_ char *rest = NULL;
		size_t rlen;
		int r = read_all(fd, at, len, NP_LINE_MAX - len, 0, &rest, &rlen);
		if (r < 0)
			return r;
		if (!(buf = malloc(len + rlen + 1)))
			return -ENOMEM;
		memcpy(buf, first, len);
		memcpy(buf + len, rest, rlen + 1);
	} else {
		if (!(buf = malloc(len + 1)))
			return -ENOMEM;
		memcpy(buf, first, len);
		buf[len] = '\0';
	}
	buf[strcspn(buf, "\n")] = '\0';
	np_strip(buf);
	*out = TAKE_PTR(buf);
	return 0;
}

/* What to read of a file: all of it (at most @max bytes, into *@out and *@len), or its first line (@line). */
struct want {
	bool line;
	size_t max;
	char **out;
	size_t *len;
};

/* @hint: the size the whole file had at its last read (0: unknown), the first buffer's size. */
static int read_want(int fd, bool at, size_t hint, const struct want *w)
{
	return w->line ? fd_read_line(fd, at, w->out) : read_all(fd, at, 0, w->max, hint, w->out, w->len);
}

/*
 * A file worth keeping open: a regular file of sysfs or procfs (their seq_files show afresh at
 * offset 0), or a folder of theirs when @dir (listed afresh from offset 0: lseek(2) rewinds it).
 */
static bool keepable(int fd, bool dir)
{
	struct statfs sf;
	struct stat st;
	if (fstatfs(fd, &sf) < 0 || (sf.f_type != SYSFS_MAGIC && sf.f_type != PROC_SUPER_MAGIC))
		return false;
	return fstat(fd, &st) == 0 && (dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode));
}

/*
 * Read host path @path as @w asks: by the kept descriptor when there is one (np_host_keep_open()),
 * else opened from @d and @rel when @d is given, from the root otherwise; a new descriptor is kept
 * when it may be and it read without error. A kept one that fails (its file went: -ENODEV, -EIO)
 * is dropped and the file opened afresh, so an error returned is always the one of a new open.
 */
static int read_path(const struct np_host *h, const char *path, const struct np_dir *d, const char *rel,
		     const struct want *w)
{
	size_t len = 0; /* a whole read's length, remembered with a kept descriptor */
	struct want kw = *w;
	if (!kw.line && !kw.len)
		kw.len = &len;
	if (h->kept) {
		size_t last = 0;
		int fd = np_fdcache_get(h->kept, path, &last);
		if (fd >= 0) {
			int r = read_want(fd, true, last, &kw);
			if (r >= 0 && !kw.line)
				np_fdcache_note_len(h->kept, path, *kw.len);
			if (r >= 0 || r == -ENOMEM || r == -EFBIG)
				return r;
			np_fdcache_drop(h->kept, path);
		}
	}
	_cleanup_close_ int fd = d ? np_dir_openat(d, rel, O_RDONLY) : np_host_openat(h, path, O_RDONLY);
	if (fd < 0)
		return fd;
	bool keep = h->kept && keepable(fd, false);
	int r = read_want(fd, keep, 0, &kw);
	if (r == -ESPIPE && keep) { /* opened nonseekable (some /proc files): read on, never kept */
		keep = false;
		r = read_want(fd, false, 0, &kw);
	}
	if (r >= 0 && keep && np_fdcache_put(h->kept, path, fd) == 0) {
		fd = -1; /* the cache owns it now */
		if (!kw.line)
			np_fdcache_note_len(h->kept, path, *kw.len);
	}
	return r;
}

int np_host_read(const struct np_host *h, const char *path, size_t max, char **out, size_t *len)
{
	struct want w = { .max = max ? max : NP_READ_MAX_DEFAULT, .out = out, .len = len };
	return read_path(h, path, NULL, NULL, &w);
}

int np_host_read_line(const struct np_host *h, const char *path, char **out)
{
	struct want w = { .line = true, .out = out };
	return read_path(h, path, NULL, NULL, &w);
}

/* np_host_attr()'s rule on a read_line result @r with value @v (owned): absent or empty is 0, *@dst NULL. */
static int attr_take(int r, char *v, char **dst)
{
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

/* @r: a read_line result; *@s its line (freed here). */
static int line_u64(int r, char **s, uint64_t *out)
{
	_cleanup_free_ char *line = *s;
	return r < 0 ? r : np_parse_u64(line, out);
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
	return attr_take(r, v, dst);
}

int np_host_read_u64(const struct np_host *h, const char *path, uint64_t *out)
{
	char *s = NULL;
	int r = np_host_read_line(h, path, &s);
	return line_u64(r, &s, out);
}

int np_fd_reread_u64(int fd, uint64_t *out)
{
	char *s = NULL;
	int r = fd_read_line(fd, true, &s);
	return line_u64(r, &s, out);
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

/* The names in folder @fd from its current offset (getdents64(2): no fstat, no stdio DIR). */
static int fd_list(int fd, char ***out, size_t *n)
{
	char buf[16384] __attribute__((aligned(8)));
	char **v = NULL;
	size_t cnt = 0;
	for (;;) {
		long k = syscall(SYS_getdents64, fd, buf, sizeof(buf));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			int r = negative_errno();
			np_strv_free(v);
			return r;
		}
		if (k == 0)
			break;
		for (long off = 0; off < k;) {
			struct dirent64 *de = (struct dirent64 *)(buf + off);
			off += de->d_reclen;
			if (streq(de->d_name, ".") || streq(de->d_name, ".."))
				continue;
			int r = np_strv_push(&v, &cnt, de->d_name);
			if (r < 0) {
				np_strv_free(v);
				return r;
			}
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

/* fd_list() of the whole folder @fd, from its first entry. */
static int fd_list_all(int fd, char ***out, size_t *n)
{
	if (lseek(fd, 0, SEEK_SET) < 0)
		return negative_errno();
	return fd_list(fd, out, n);
}

/*
 * The folder at host path @path listed as read_path() reads a file: by a kept descriptor, rewound.
 * A sysfs folder that went lists empty, not as an error (kernfs walks the removed node's children,
 * none): an empty listing of a kept folder is redone from a new open, and an empty folder is never
 * kept (holders/ and slaves/ of a disk are opened per listing, as before).
 */
static int list_path(const struct np_host *h, const char *path, const struct np_dir *d, const char *rel, char ***out,
		     size_t *n)
{
	if (h->kept) {
		int fd = np_fdcache_get(h->kept, path, NULL);
		if (fd >= 0) {
			char **v = NULL;
			size_t k = 0;
			int r = fd_list_all(fd, &v, &k);
			if (r == -ENOMEM)
				return r;
			if (r >= 0 && k) {
				*out = v;
				if (n)
					*n = k;
				return r;
			}
			np_strv_free(v);
			np_fdcache_drop(h->kept, path);
		}
	}
	_cleanup_close_ int fd = d ? np_dir_openat(d, rel, O_RDONLY | O_DIRECTORY)
				   : np_host_openat(h, path, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return fd;
	size_t k = 0;
	int r = fd_list(fd, out, &k);
	if (n)
		*n = k;
	if (r >= 0 && k && h->kept && keepable(fd, true) && np_fdcache_put(h->kept, path, fd) == 0)
		fd = -1; /* the cache owns it now */
	return r;
}

int np_host_list(const struct np_host *h, const char *dir, char ***out, size_t *n)
{
	return list_path(h, dir, NULL, NULL, out, n);
}

/* ---- a folder opened once, its names read relative to it ---- */

int np_dir_open(const struct np_host *h, const char *path, struct np_dir *d)
{
	*d = (struct np_dir){ .h = h, .fd = -1 };
	if (!(d->path = strdup(path)))
		return -ENOMEM;
	d->fd = np_host_openat(h, path, O_RDONLY | O_DIRECTORY); /* readable: np_dir_list() reads it */
	return d->fd < 0 ? d->fd : 0;
}

void np_dir_close(struct np_dir *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
	free(d->path);
	d->path = NULL;
}

/* @rel by its full host path, from the root. */
static int dir_openat_full(const struct np_dir *d, const char *rel, int flags)
{
	_cleanup_free_ char *p = np_asprintf("%s/%s", d->path, rel);
	if (!p)
		return -ENOMEM;
	return np_host_openat(d->h, p, flags);
}

int np_dir_openat(const struct np_dir *d, const char *rel, int flags)
{
	flags |= O_CLOEXEC;
	if (d->fd < 0)
		return dir_openat_full(d, rel, flags);
	if (d->h->live) { /* the root is "/": nothing to stay inside */
		int fd = openat(d->fd, rel, flags);
		return fd < 0 ? negative_errno() : fd;
	}
	if (openat2_allowed(&dir_openat2)) {
		/* beneath the folder, which is inside the root; a walk that would leave it (a sysfs
		 * link up such as device -> ../../../virtio2) is redone from the root (EXDEV) */
		struct open_how how = { .flags = (uint64_t)flags, .resolve = RESOLVE_BENEATH };
		long fd = syscall(SYS_openat2, d->fd, rel, &how, sizeof(how));
		if (fd >= 0)
			return (int)fd;
		if (errno != ENOSYS && errno != EPERM && errno != EXDEV && errno != EAGAIN)
			return negative_errno();
		if (errno == ENOSYS || errno == EPERM)
			openat2_refused(&dir_openat2);
	}
	return dir_openat_full(d, rel, flags);
}

int np_dir_read_line(const struct np_dir *d, const char *rel, char **out)
{
	struct want w = { .line = true, .out = out };
	if (!d->h->kept)
		return read_path(d->h, NULL, d, rel, &w);
	_cleanup_free_ char *path = np_asprintf("%s/%s", d->path, rel); /* the key */
	return path ? read_path(d->h, path, d, rel, &w) : -ENOMEM;
}

int np_dir_read_u64(const struct np_dir *d, const char *rel, uint64_t *out)
{
	char *s = NULL;
	int r = np_dir_read_line(d, rel, &s);
	return line_u64(r, &s, out);
}

int np_dir_attr(const struct np_dir *d, const char *rel, char **dst)
{
	free(*dst);
	*dst = NULL;
	char *v = NULL;
	int r = np_dir_read_line(d, rel, &v);
	return attr_take(r, v, dst);
}

int np_dir_list(const struct np_dir *d, const char *rel, char ***out, size_t *n)
{
	if (rel) {
		if (!d->h->kept)
			return list_path(d->h, NULL, d, rel, out, n);
		_cleanup_free_ char *path = np_asprintf("%s/%s", d->path, rel); /* the key */
		return path ? list_path(d->h, path, d, rel, out, n) : -ENOMEM;
	}
	if (d->fd < 0)
		return np_host_list(d->h, d->path, out, n);
	if (lseek(d->fd, 0, SEEK_SET) < 0) /* from the first entry, whatever was listed before */
		return negative_errno();
	return fd_list(d->fd, out, n);
}

int np_dir_readlink(const struct np_dir *d, const char *name, char **out)
{
	if (d->fd < 0 || strchr(name, '/')) {
		_cleanup_free_ char *p = np_asprintf("%s/%s", d->path, name);
		return p ? np_host_readlink(d->h, p, out) : -ENOMEM;
	}
	char buf[PATH_MAX];
	ssize_t k = readlinkat(d->fd, name, buf, sizeof(buf) - 1);
	if (k < 0)
		return negative_errno();
	buf[k] = '\0';
	*out = strdup(buf);
	return *out ? 0 : -ENOMEM;
}
