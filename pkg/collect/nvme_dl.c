// SPDX-License-Identifier: Apache-2.0
/* nvme_dl.c - libnvme's two exported admin-command entry points, forwarded to a library loaded with dlopen(3). */
#define _GNU_SOURCE
#include "nvme_dl.h"
#include "../shared/dl.h"
#include "../shared/strutil.h"

#include <dlfcn.h>
#include <errno.h>
#include <libnvme.h>
#include <stdlib.h>

#define LIBNVME "libnvme.so.1"

static struct {
	int (*identify)(struct nvme_identify_args *);
	int (*get_log_page)(int, __u32, struct nvme_get_log_args *);
	void *lib;
} fn;

int np_nvme_load(char **why)
{
	*why = NULL;
	if (fn.lib)
		return 0;
	void *lib = dlopen(LIBNVME, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		*why = np_asprintf("cannot load %s (Debian package libnvme1): %s", LIBNVME, dlerror());
		return -ENOENT;
	}
	const struct np_dl_sym syms[] = {
		{ (void **)&fn.identify, "nvme_identify" },
		{ (void **)&fn.get_log_page, "nvme_get_log_page" },
	};
	const char *missing = np_dl_bind(lib, syms, sizeof(syms) / sizeof(syms[0]));
	if (missing) {
		*why = np_asprintf("%s has no %s", LIBNVME, missing);
		dlclose(lib);
		return -ENOENT;
	}
	fn.lib = lib;
	return 0;
}

/* <nvme/ioctl.h>: the NVMe status (> 0), or -1 with errno. */
int nvme_identify(struct nvme_identify_args *args)
{
	if (!fn.identify) {
		errno = ENOSYS;
		return -1;
	}
	return fn.identify(args);
}

int nvme_get_log_page(int fd, __u32 xfer_len, struct nvme_get_log_args *args)
{
	if (!fn.get_log_page) {
		errno = ENOSYS;
		return -1;
	}
	return fn.get_log_page(fd, xfer_len, args);
}
