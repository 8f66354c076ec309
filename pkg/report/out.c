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

/* ---- lines fitted to a width ---- */

struct fit {
	struct np_out *o;
	char *line;
	size_t len, cap;
};

/* Length of the SGR sequence (ESC [ digits/; m: nodeprint's colours) at @s, or 0. */
static size_t sgr_len(const char *s, size_t n)
{
	if (n < 3 || s[0] != '\033' || s[1] != '[')
		return 0;
	for (size_t i = 2; i < n; i++) {
		if (s[i] == 'm')
			return i + 1;
		if ((s[i] < '0' || s[i] > '9') && s[i] != ';')
			return 0;
	}
	return 0;
}

/*
 * Write @n bytes of @s, its control characters but tabs and colours made '?' (a value read from
 * the host, e.g. a DMI string or a drive's model, must not move the cursor or retitle the
 * terminal), cut to o->width display columns when set; "..." marks a cut.
 */
static void fit_line(struct fit *ft, char *s, size_t n)
{
	struct np_out *o = ft->o;
	size_t keep = n, cols = 0; /* keep: bytes before the column where "..." would start */
	bool esc = false;
	for (size_t i = 0; i < n; i++) {
		size_t l = sgr_len(s + i, n - i);
		if (l)
			i += l - 1;
		else if ((unsigned char)s[i] < 0x20 ? s[i] != '\t' : s[i] == 0x7f)
			s[i] = '?';
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (esc) { /* CSI: ESC [ parameters final-byte */
			esc = ch < 0x40 || ch > 0x7e || ch == '[';
			continue;
		}
		if (ch == 0x1b) {
			esc = true;
			continue;
		}
		if ((ch & 0xc0) == 0x80)
			continue; /* UTF-8 continuation byte */
		if (cols == (size_t)o->width - 3)
			keep = i;
		cols++;
	}
	if (!o->width || cols <= o->width) {
		fwrite(s, 1, n, o->dst);
		return;
	}
	fwrite(s, 1, keep, o->dst);
	fputs(o->color ? "...\033[0m" : "...", o->dst);
	o->truncated++;
}

static ssize_t fit_write(void *cookie, const char *buf, size_t size)
{
	struct fit *ft = cookie;
	for (size_t i = 0; i < size; i++) {
		if (buf[i] == '\n') {
			fit_line(ft, ft->line, ft->len);
			fputc('\n', ft->o->dst);
			ft->len = 0;
			continue;
		}
		if (ft->len + 1 > ft->cap) {
			size_t cap = ft->cap ? ft->cap * 2 : 256;
			char *nl = realloc(ft->line, cap);
			if (!nl)
				return -1;
			ft->line = nl;
			ft->cap = cap;
		}
		ft->line[ft->len++] = buf[i];
	}
	return (ssize_t)size;
}

static int fit_close(void *cookie)
{
	struct fit *ft = cookie;
	if (ft->len)
		fit_line(ft, ft->line, ft->len);
	free(ft->line);
	free(ft);
	return 0;
}

int np_out_fit_begin(struct np_out *o)
{
	if (o->width && o->width < 8)
		o->width = 8;
	struct fit *ft = calloc(1, sizeof(*ft));
	if (!ft)
		return -ENOMEM;
	ft->o = o;
	FILE *f = fopencookie(ft, "w", (cookie_io_functions_t){ .write = fit_write, .close = fit_close });
	if (!f) {
		free(ft);
		return -ENOMEM;
	}
	o->dst = o->f;
	o->f = f;
	o->fit = ft;
	return 0;
}

void np_out_fit_end(struct np_out *o)
{
	if (!o->fit)
		return;
	fclose(o->f);
	o->f = o->dst;
	o->fit = NULL;
}

/* ---- tables ---- */

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
	np_table_free(t);
}

void np_table_free(struct np_table *t)
{
	if (!t)
		return;
	for (size_t r = 0; r < t->nrows; r++) {
		for (unsigned c = 0; c < t->ncols; c++)
			free(t->rows[r][c]);
		free(t->rows[r]);
	}
	free(t->rows);
	free(t->tones);
	free(t);
}
