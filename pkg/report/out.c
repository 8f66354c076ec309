// SPDX-License-Identifier: Apache-2.0
#define _GNU_SOURCE
#include "out.h"
#include "../shared/macro.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

static const char *tone_on(enum np_tone t)
{
	switch (t) {
	case NP_TONE_GOOD:
		return "\033[32m";
	case NP_TONE_WARN:
		return "\033[33m";
	case NP_TONE_BAD:
		return "\033[31m";
	case NP_TONE_DIM:
		return "\033[2m";
	default:
		return "";
	}
}

void np_out_heading(struct np_out *o, const char *title)
{
	fprintf(o->f, "\n%s== %s ==%s\n", o->color ? "\033[1m" : "", title, o->color ? "\033[0m" : "");
}

void np_out_kv(struct np_out *o, const char *key, const char *value)
{
	fprintf(o->f, "  %-22s %s\n", key, value && *value ? value : "-");
}

void np_out_kvf(struct np_out *o, const char *key, const char *fmt, ...)
{
	va_list ap;
	_cleanup_free_ char *v = NULL;
	va_start(ap, fmt);
	if (vasprintf(&v, fmt, ap) < 0)
		v = NULL;
	va_end(ap);
	np_out_kv(o, key, v);
}

void np_out_error(struct np_out *o, const char *msg)
{
	fprintf(o->f, "  %s! %s%s\n", o->color ? tone_on(NP_TONE_BAD) : "", msg, o->color ? "\033[0m" : "");
}

struct np_table {
	unsigned ncols;
	size_t nrows;
	char ***rows; /* rows[0] = headers */
	enum np_tone *tones;
};

static char **copy_row(unsigned n, const char *const *cells)
{
	char **row = calloc(n, sizeof(char *));
	if (!row)
		return NULL;
	for (unsigned i = 0; i < n; i++) {
		row[i] = strdup(cells[i] && *cells[i] ? cells[i] : "-");
		if (!row[i]) {
			while (i--)
				free(row[i]);
			free(row);
			return NULL;
		}
	}
	return row;
}

int np_table_add(struct np_table *t, enum np_tone tone, const char *const *cells)
{
	char ***nr = realloc(t->rows, (t->nrows + 1) * sizeof(char **));
	if (!nr)
		return -ENOMEM;
	t->rows = nr;
	enum np_tone *nt = realloc(t->tones, (t->nrows + 1) * sizeof(enum np_tone));
	if (!nt)
		return -ENOMEM;
	t->tones = nt;
	char **row = copy_row(t->ncols, cells);
	if (!row)
		return -ENOMEM;
	t->rows[t->nrows] = row;
	t->tones[t->nrows++] = tone;
	return 0;
}

struct np_table *np_table_new(unsigned ncols, const char *const *headers)
{
	struct np_table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->ncols = ncols;
	if (np_table_add(t, NP_TONE_PLAIN, headers) < 0) {
		free(t);
		return NULL;
	}
	return t;
}

void np_table_print_free(struct np_table *t, struct np_out *o)
{
	if (!t)
		return;
	size_t w[64] = { 0 };
	unsigned nc = t->ncols < 64 ? t->ncols : 64;
	for (size_t r = 0; r < t->nrows; r++)
		for (unsigned c = 0; c < nc; c++) {
			size_t l = strlen(t->rows[r][c]);
			if (l > w[c])
				w[c] = l;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		const char *on = r == 0 ? "\033[1m" : tone_on(t->tones[r]);
		bool col = o->color && *on;
		fprintf(o->f, "  %s", col ? on : "");
		for (unsigned c = 0; c < nc; c++) {
			if (c + 1 == nc)
				fprintf(o->f, "%s", t->rows[r][c]);
			else
				fprintf(o->f, "%-*s  ", (int)w[c], t->rows[r][c]);
		}
		fprintf(o->f, "%s\n", col ? "\033[0m" : "");
	}
	for (size_t r = 0; r < t->nrows; r++) {
		for (unsigned c = 0; c < t->ncols; c++)
			free(t->rows[r][c]);
		free(t->rows[r]);
	}
	free(t->rows);
	free(t->tones);
	free(t);
}
