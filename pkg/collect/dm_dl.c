// SPDX-License-Identifier: Apache-2.0
/* dm_dl.c - the libdevmapper entry points multipath.c calls, forwarded to a library loaded with dlopen(3). */
#define _GNU_SOURCE
#include "dm_dl.h"
#include "../shared/dl.h"
#include "../shared/strutil.h"

#include <dlfcn.h>
#include <errno.h>
#include <libdevmapper.h>
#include <stdlib.h>

#define LIBDM "libdevmapper.so.1.02.1"

static struct {
	struct dm_task *(*task_create)(int);
	void (*task_destroy)(struct dm_task *);
	int (*task_set_major)(struct dm_task *, int);
	int (*task_set_minor)(struct dm_task *, int);
	int (*task_no_open_count)(struct dm_task *);
	int (*task_run)(struct dm_task *);
	int (*task_get_errno)(struct dm_task *);
	int (*task_get_info)(struct dm_task *, struct dm_info *);
	void *(*get_next_target)(struct dm_task *, void *, uint64_t *, uint64_t *, char **, char **);
	int (*set_dev_dir)(const char *);
	void (*log_with_errno_init)(dm_log_with_errno_fn);
	void (*udev_set_sync_support)(int);
	void *lib;
} fn;

static void dm_quiet(int level, const char *file, int line, int dm_errno, const char *f, ...)
{
	(void)level, (void)file, (void)line, (void)dm_errno, (void)f;
}

int np_dm_load(char **why)
{
	*why = NULL;
	if (fn.lib)
		return 0;
	void *lib = dlopen(LIBDM, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		*why = np_asprintf("cannot load %s (Debian package libdevmapper1.02.1): %s", LIBDM, dlerror());
		return -ENOENT;
	}
	const struct np_dl_sym syms[] = {
		{ (void **)&fn.task_create, "dm_task_create" },
		{ (void **)&fn.task_destroy, "dm_task_destroy" },
		{ (void **)&fn.task_set_major, "dm_task_set_major" },
		{ (void **)&fn.task_set_minor, "dm_task_set_minor" },
		{ (void **)&fn.task_no_open_count, "dm_task_no_open_count" },
		{ (void **)&fn.task_run, "dm_task_run" },
		{ (void **)&fn.task_get_errno, "dm_task_get_errno" },
		{ (void **)&fn.task_get_info, "dm_task_get_info" },
		{ (void **)&fn.get_next_target, "dm_get_next_target" },
		{ (void **)&fn.set_dev_dir, "dm_set_dev_dir" },
		{ (void **)&fn.log_with_errno_init, "dm_log_with_errno_init" },
		{ (void **)&fn.udev_set_sync_support, "dm_udev_set_sync_support" },
	};
	const char *missing = np_dl_bind(lib, syms, sizeof(syms) / sizeof(syms[0]));
	if (missing) {
		*why = np_asprintf("%s has no %s", LIBDM, missing);
		dlclose(lib);
		return -ENOENT;
	}
	fn.lib = lib;
	fn.log_with_errno_init(dm_quiet);
	fn.udev_set_sync_support(0);
	return 0;
}

/* Before np_dm_load() succeeded every call fails as libdevmapper's do: NULL or 0. */
struct dm_task *dm_task_create(int type)
{
	return fn.lib ? fn.task_create(type) : NULL;
}

void dm_task_destroy(struct dm_task *dmt)
{
	if (fn.lib && dmt)
		fn.task_destroy(dmt);
}

int dm_task_set_major(struct dm_task *dmt, int major)
{
	return fn.lib ? fn.task_set_major(dmt, major) : 0;
}

int dm_task_set_minor(struct dm_task *dmt, int minor)
{
	return fn.lib ? fn.task_set_minor(dmt, minor) : 0;
}

int dm_task_no_open_count(struct dm_task *dmt)
{
	return fn.lib ? fn.task_no_open_count(dmt) : 0;
}

int dm_task_run(struct dm_task *dmt)
{
	return fn.lib ? fn.task_run(dmt) : 0;
}

int dm_task_get_errno(struct dm_task *dmt)
{
	return fn.lib ? fn.task_get_errno(dmt) : ENOSYS;
}

int dm_task_get_info(struct dm_task *dmt, struct dm_info *dmi)
{
	return fn.lib ? fn.task_get_info(dmt, dmi) : 0;
}

void *dm_get_next_target(struct dm_task *dmt, void *next, uint64_t *start, uint64_t *length, char **target_type,
			 char **params)
{
	if (!fn.lib) {
		*target_type = *params = NULL;
		return NULL;
	}
	return fn.get_next_target(dmt, next, start, length, target_type, params);
}

int dm_set_dev_dir(const char *dir)
{
	return fn.lib ? fn.set_dev_dir(dir) : 0;
}
