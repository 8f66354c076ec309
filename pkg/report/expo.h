/* SPDX-License-Identifier: Apache-2.0 */
/*
 * expo.h - the Prometheus text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/): a family's
 * HELP and TYPE lines and label values escaped. Used by the sections' metrics
 * hooks (section.h) and the agent's own families (pkg/agent/metrics.c).
 */
#pragma once

#include <stdio.h>

/* "# HELP @name @text" and "# TYPE @name @type" (counter, gauge, histogram). */
void np_expo_help(FILE *f, const char *name, const char *type, const char *text);

/*
 * np_expo_esc() - @s (NULL: "") escaped for a label value (\\, \", \n), cut
 * at about 500 bytes. Returns one of four static rotating buffers: valid until
 * the fourth call after this one; not thread-safe.
 */
const char *np_expo_esc(const char *s);
