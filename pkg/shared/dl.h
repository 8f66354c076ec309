/* SPDX-License-Identifier: Apache-2.0 */
/* dl.h - binding a function table to a library opened with dlopen(3) (the *_dl.c modules). */
#pragma once

#include <stddef.h>

struct np_dl_sym {
	void **slot;      /* where the address goes */
	const char *name; /* the exported symbol */
};

/*
 * np_dl_bind() - dlsym() each of @syms[0..@n) in @lib into its slot.
 * Returns NULL when all were found, else the name of the first missing one
 * (a static string of @syms; the slots are then all NULL again).
 */
const char *np_dl_bind(void *lib, const struct np_dl_sym *syms, size_t n);
