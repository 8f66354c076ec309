// SPDX-License-Identifier: Apache-2.0
/* record.c - add a finding or an Event to a desired state (record.h). */
#define _GNU_SOURCE
#include "record.h"
#include "../shared/macro.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int np_desired_add_finding(struct np_desired *d, const char *id, const char *subject, const char *reason,
			   const char *fmt, ...)
{
	struct np_finding *f = GROW(d->findings, d->n_findings);
	if (!f)
		return -ENOMEM;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&f->message, fmt, ap) < 0)
		f->message = NULL;
	va_end(ap);
	f->id = strdup(id);
	f->subject = strdup(subject ? subject : "");
	f->reason = strdup(reason);
	return f->id && f->subject && f->reason && f->message ? 0 : -ENOMEM;
}

int np_desired_add_event(struct np_desired *d, const char *reason, const char *type, const char *message,
			 const char *kind, const char *name, const char *subject)
{
	struct np_event *e = GROW(d->events, d->n_events);
	if (!e)
		return -ENOMEM;
	e->reason = strdup(reason);
	e->type = strdup(type);
	e->message = strdup(message);
	e->kind = strdup(kind);
	e->name = strdup(name ? name : "");
	e->subject = strdup(subject ? subject : "");
	return e->reason && e->type && e->message && e->kind && e->name && e->subject ? 0 : -ENOMEM;
}
