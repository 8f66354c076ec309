/* SPDX-License-Identifier: Apache-2.0 */
/*
 * macro.h - small helpers in the style of systemd's src/fundamental/macro.h:
 * cleanup attributes instead of goto ladders, array sizes, errno helpers.
 */
#pragma once

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <dirent.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

static inline void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_closedir_ _cleanup_(closedirp)

/* Hand a pointer out of a cleanup-scoped variable: returns it and sets the variable to NULL. */
#define TAKE_PTR(p)                          \
	({                                   \
		__typeof__(p) _p_ = (p);     \
		(p) = NULL;                  \
		_p_;                         \
	})

/* Negative errno of the last failing libc call, never 0. */
static inline int negative_errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

/* Append one zeroed element to a malloc'd array @arr of @n elements: returns a pointer to it (and
 * increments @n), or NULL on ENOMEM with the array unchanged. */
#define GROW(arr, n)                                                             \
	({                                                                       \
		__typeof__(arr) _g = realloc((arr), ((n) + 1) * sizeof(*(arr)));   \
		if (_g) {                                                        \
			(arr) = _g;                                              \
			memset(&(arr)[(n)], 0, sizeof(*(arr)));                  \
		}                                                                \
		_g ? &(arr)[(n)++] : NULL;                                       \
	})

#define streq(a, b) (strcmp((a), (b)) == 0)
#define strneq(a, b, n) (strncmp((a), (b), (n)) == 0)
