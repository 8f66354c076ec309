/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hostfs.h - every read of the node goes through one host root.
 *
 * The root is "/" on a plain host, a folder such as /host in a container that
 * mounts the host's /sys, /proc, /dev and /run/udev, or a fixture tree in tests.
 * Paths passed to these functions are absolute paths *on the host*
 * ("/proc/modules"); they are resolved inside the root, absolute symlinks
 * included (openat2 RESOLVE_IN_ROOT where the kernel has it).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Largest file np_host_read() accepts unless told otherwise: 16 MiB. */
#define NP_READ_MAX_DEFAULT (16u << 20)

struct np_fdcache;

struct np_host {
	int rootfd;     /* O_PATH descriptor of the root folder */
	char *root;     /* the root as given, e.g. "/" or "/host" */
	bool live;      /* root is "/": ioctls and netlink see the same kernel */
	struct np_fdcache *kept; /* sysfs/procfs files kept open between reads (np_host_keep_open()), or NULL */
};

/*
 * np_host_open() - open a host root.
 * @root: folder path; NULL means $NODEPRINT_HOST_ROOT, else "/".
 * Returns 0 and fills @h (release with np_host_close()), or -errno
 * (-ENOENT, -ENOTDIR, -EACCES) when the folder cannot be opened.
 */
int np_host_open(struct np_host *h, const char *root);
void np_host_close(struct np_host *h);

/*
 * np_host_keep_open() - from now on keep the files that np_host_read(), np_host_read_line() and
 * the np_dir_ readers open on sysfs or procfs, at most @max of them, and read them again with
 * pread(2) at offset 0 (fdcache.h tells why that reads what a new open would). A file that fails
 * to read is never kept; a kept one that fails is opened afresh once. Returns 0, -ENOMEM.
 * Only for a host whose reads come from one thread at a time (the agent's loop), and only where
 * something calls np_host_reopen_all() when devices come, go or are renamed.
 */
int np_host_keep_open(struct np_host *h, size_t max);

/* Close the kept files not read since the previous call (files read once, devices gone). Returns how many. */
size_t np_host_sweep_open(struct np_host *h);

/* Close every kept file: the next reads open them afresh (after a device event). */
void np_host_reopen_all(struct np_host *h);

/* Open @path under the root with @flags (O_RDONLY and friends). Returns fd or -errno. */
int np_host_openat(const struct np_host *h, const char *path, int flags);

/*
 * np_read_fd() - read @fd to its end. @max: the most bytes accepted; @hint: the expected size
 * (st_size, 0 = unknown) for the first allocation. Returns 0 with *@out a malloc'd,
 * NUL-terminated buffer (caller frees) and its length in *@len (may be NULL), -EFBIG when
 * there are more than @max bytes, -ENOMEM, or the -errno of read(2).
 */
int np_read_fd(int fd, size_t max, size_t hint, char **out, size_t *len);

/*
 * np_host_read() - read a whole file.
 * Returns 0 and a NUL-terminated malloc'd buffer in *@out (caller frees) with
 * its length in *@len (may be NULL), or -errno: -ENOENT, -EACCES, -EPERM,
 * -EFBIG when the file is larger than @max bytes (0 = NP_READ_MAX_DEFAULT).
 * Embedded NULs are kept; *@len counts them.
 */
int np_host_read(const struct np_host *h, const char *path, size_t max, char **out, size_t *len);

/*
 * np_host_read_line() - read a small sysfs attribute, trimmed of trailing
 * whitespace and NULs (first line only). Returns 0 and a malloc'd string, or -errno.
 */
int np_host_read_line(const struct np_host *h, const char *path, char **out);

/*
 * np_host_attr() - read the attribute at the path formatted from @fmt into
 * *@dst (freeing what was there), with the one rule every collector follows:
 * the first line, trimmed; an empty value, an absent file (-ENOENT, -ENOTDIR,
 * -ENODEV) and an unreadable one all leave *@dst NULL, never "". Returns 1
 * when a value was read, 0 when empty or absent, or the -errno of a file
 * that exists but cannot be read (-EACCES, -EIO, ...: the caller records it
 * in its status), -ENOMEM.
 */
int np_host_attr(const struct np_host *h, char **dst, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Read a sysfs attribute holding one unsigned decimal (or 0x-hex) number. Returns 0 or -errno (-EINVAL if not a number). */
int np_host_read_u64(const struct np_host *h, const char *path, uint64_t *out);
int np_host_read_s64(const struct np_host *h, const char *path, int64_t *out);

/*
 * np_fd_reread_u64() - np_host_read_u64() of the attribute open at @fd, read again from its start
 * (pread(2) at offset 0: a sysfs attribute, like any seq_file, runs its show() again there, so a
 * descriptor held across reads returns the current value; fs/seq_file.c seq_read_iter()). Returns
 * 0 or -errno: -ENODEV once the attribute's device is gone (kernfs), -EINVAL if not a number.
 */
int np_fd_reread_u64(int fd, uint64_t *out);

/*
 * np_host_readlink() - target of a symlink under the root. Returns 0 and a
 * malloc'd string, or -errno (-EINVAL when @path is not a symlink).
 */
int np_host_readlink(const struct np_host *h, const char *path, char **out);

/* Last path component of a symlink's target ("../../bus/pci/drivers/nvme" -> "nvme"). */
int np_host_link_basename(const struct np_host *h, const char *path, char **out);

/* true when @path exists under the root. */
bool np_host_exists(const struct np_host *h, const char *path);

/*
 * np_host_list() - names in a folder, sorted by strverscmp, without "." and "..".
 * Returns 0 with a malloc'd NULL-terminated vector in *@out (free with
 * np_strv_free()) and its count in *@n, or -errno.
 */
int np_host_list(const struct np_host *h, const char *dir, char ***out, size_t *n);

/*
 * A folder of the host opened once (one path walk through the sysfs links
 * to it) and its names read relative to it: a device's two dozen attributes
 * cost a one-component walk each instead of a full path. On a root other
 * than "/" a name is resolved beneath the folder (openat2 RESOLVE_BENEATH);
 * a name whose walk leaves it (device -> ../../../virtio2) is opened from the
 * root by its full path, as np_host_openat() would. When the folder itself
 * cannot be opened, every name is tried by its full path (the same errors).
 */
struct np_dir {
	const struct np_host *h;
	int fd;     /* O_RDONLY|O_DIRECTORY (listed through it), or -errno when it could not be opened */
	char *path; /* the folder's host path, e.g. "/sys/class/block/sda" */
};

/*
 * np_dir_open() - open host folder @path into @d. Returns 0, or the -errno of
 * the open (@d is still usable, by full paths); -ENOMEM. Release @d with
 * np_dir_close() either way.
 */
int np_dir_open(const struct np_host *h, const char *path, struct np_dir *d);
void np_dir_close(struct np_dir *d);

/* Open @rel (relative to @d) with @flags. Returns fd or -errno. */
int np_dir_openat(const struct np_dir *d, const char *rel, int flags);

/* np_host_read_line(), np_host_read_u64(), np_host_attr() of @rel relative to @d. */
int np_dir_read_line(const struct np_dir *d, const char *rel, char **out);
int np_dir_read_u64(const struct np_dir *d, const char *rel, uint64_t *out);
int np_dir_attr(const struct np_dir *d, const char *rel, char **dst);

/* np_host_list() of @rel relative to @d, or of @d itself when @rel is NULL. */
int np_dir_list(const struct np_dir *d, const char *rel, char ***out, size_t *n);

/* np_host_readlink() of @name in @d: the link itself, never followed. */
int np_dir_readlink(const struct np_dir *d, const char *name, char **out);
