// SPDX-License-Identifier: Apache-2.0
#define _GNU_SOURCE
#include "status.h"
#include "../shared/macro.h"

#include <stdarg.h>
#include <string.h>

void np_status_set(struct np_status *st, int negerr, const char *fmt, ...)
{
	if (st->err)
		return;
	st->err = negerr < 0 ? -negerr : negerr;
	if (st->err == 0)
		st->err = EIO;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&st->error, fmt, ap) < 0)
		st->error = NULL;
	va_end(ap);
}

void np_status_clear(struct np_status *st)
{
	free(st->error);
	st->error = NULL;
	st->err = 0;
}

void np_status_to_json(const struct np_status *st, json_t *obj)
{
	if (!st->err)
		return;
	json_object_set_new(obj, "error", json_string(st->error ? st->error : np_errno_reason(st->err)));
	const char *name = strerrorname_np(st->err);
	json_object_set_new(obj, "errno", json_string(name ? name : "EIO"));
}

const char *np_errno_reason(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case EACCES:
	case EPERM:
		return "unavailable: permission";
	case ENOENT:
		return "unavailable: not present";
	case EFBIG:
		return "input too large";
	case EINVAL:
		return "malformed input";
	default:
		return strerror(err);
	}
}
