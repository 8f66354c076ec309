/* SPDX-License-Identifier: Apache-2.0 */
/*
 * record.h - how the pure functions of pkg/policy write into a desired state:
 * a finding, an Event. The one module the health rules (health_<key>.c), blind.c and desired.c all
 * use (so desired.c calls the rules through health.c and nothing calls back).
 */
#pragma once

#include "desired.h"

/*
 * np_desired_add_finding() - add a finding to @d: id and reason from the
 * vocabulary (vocab.h), the subject it is about, a message from @fmt (strings
 * copied). Returns 0 or -ENOMEM.
 */
int np_desired_add_finding(struct np_desired *d, const char *id, const char *subject, const char *reason,
			   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/*
 * np_desired_add_event() - add an Event of @type (Normal | Warning) on the
 * object @kind/@name (strings copied; @name NULL = ""). Returns 0 or -ENOMEM.
 */
int np_desired_add_event(struct np_desired *d, const char *reason, const char *type, const char *message,
			 const char *kind, const char *name, const char *subject);
