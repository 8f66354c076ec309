// SPDX-License-Identifier: Apache-2.0
/* section.c - the registered sections (section.h), gathered by the linker into "np_sections". */
#include "section.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <stdlib.h>
#include <string.h>

extern const struct np_section *const __start_np_sections[] __attribute__((weak));
extern const struct np_section *const __stop_np_sections[] __attribute__((weak));

static int cmp_section(const void *a, const void *b)
{
	const struct np_section *x = *(const struct np_section *const *)a;
	const struct np_section *y = *(const struct np_section *const *)b;
	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return strcmp(x->name, y->name);
}

const struct np_section *const *np_sections(size_t *n)
{
	static const struct np_section **sorted;
	static size_t count;
	if (!sorted) {
		size_t k = (size_t)(__stop_np_sections - __start_np_sections);
		const struct np_section **v = calloc(k + 1, sizeof(*v));
		if (!v)
			return NULL;
		for (size_t i = 0; i < k; i++)
			v[i] = __start_np_sections[i];
		qsort(v, k, sizeof(*v), cmp_section);
		sorted = v;
		count = k;
	}
	if (n)
		*n = count;
	return sorted;
}

const struct np_section *np_section_find(const char *name)
{
	const struct np_section *const *s = np_sections(NULL);
	for (; s && *s; s++)
		if (streq((*s)->name, name))
			return *s;
	return NULL;
}
