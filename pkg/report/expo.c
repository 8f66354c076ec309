// SPDX-License-Identifier: Apache-2.0
/* expo.c - Prometheus text exposition helpers (expo.h). */
#include "expo.h"

void np_expo_help(FILE *f, const char *name, const char *type, const char *text)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

const char *np_expo_esc(const char *s)
{
	static char bufs[4][512];
	static int k;
	char *b = bufs[k++ & 3];
	size_t w = 0;
	for (; s && *s && w < sizeof(bufs[0]) - 3; s++) {
		if (*s == '\\' || *s == '"') {
			b[w++] = '\\';
			b[w++] = *s;
		} else if (*s == '\n') {
			b[w++] = '\\';
			b[w++] = 'n';
		} else {
			b[w++] = *s;
		}
	}
	b[w] = '\0';
	return b;
}
