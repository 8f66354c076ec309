/* SPDX-License-Identifier: Apache-2.0 */
/*
 * out.h - human output: section headings and aligned tables, colour only on a TTY.
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>

struct np_out {
	FILE *f;
	bool color;
	unsigned width;     /* columns a line may take; 0 = unlimited (np_out_fit_begin) */
	unsigned truncated; /* lines cut to the width so far (np_out_fit_end) */
	FILE *dst;          /* where np_out_fit_begin() sends the fitted lines */
	void *fit;          /* its line buffer */
};

/*
 * np_out_fit_begin() - make o->f a stream that passes each line to the former o->f with its
 * control characters (but tabs and SGR colours) replaced by '?', and, when o->width is set, cut
 * to o->width display columns (UTF-8 characters; colour escapes take none), the cut marked "..."
 * at its end. np_out_fit_end() flushes, restores o->f and counts the cut lines in o->truncated.
 * Returns 0 or -ENOMEM.
 */
int np_out_fit_begin(struct np_out *o);
void np_out_fit_end(struct np_out *o);

enum np_tone { NP_TONE_PLAIN, NP_TONE_GOOD, NP_TONE_WARN, NP_TONE_BAD, NP_TONE_DIM };

/* Print a section heading ("== Kernel =="), bold when coloured. */
void np_out_heading(struct np_out *o, const char *title);
/* Print "  key: value" lines aligned on a 22-column key. NULL value prints "-". */
void np_out_kv(struct np_out *o, const char *key, const char *value);
void np_out_kvf(struct np_out *o, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Print a section-level error line in red ("  ! unavailable: permission"). */
void np_out_error(struct np_out *o, const char *msg);

struct np_table;

/* A table of @ncols columns with headers; returns NULL on ENOMEM. */
struct np_table *np_table_new(unsigned ncols, const char *const *headers);
/* Add one row; @cells has ncols entries (NULL prints "-"); copied. @tone colours the row. Returns 0 or -ENOMEM. */
int np_table_add(struct np_table *t, enum np_tone tone, const char *const *cells);
/* Print with columns padded to their widest cell, indented by two spaces, then free. */
void np_table_print_free(struct np_table *t, struct np_out *o);
/* Free without printing; NULL is a no-op. */
void np_table_free(struct np_table *t);
