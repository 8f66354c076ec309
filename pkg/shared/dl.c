// SPDX-License-Identifier: Apache-2.0
/* dl.c - see dl.h. */
#define _GNU_SOURCE
#include "dl.h"

#include <dlfcn.h>

const char *np_dl_bind(void *lib, const struct np_dl_sym *syms, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		*syms[i].slot = dlsym(lib, syms[i].name);
		if (!*syms[i].slot) {
			for (size_t k = 0; k < i; k++)
				*syms[k].slot = NULL;
			return syms[i].name;
		}
	}
	return NULL;
}
