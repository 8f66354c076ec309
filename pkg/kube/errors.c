// SPDX-License-Identifier: Apache-2.0
/* errors.c - Status decoding and the HTTP -> errno table of errors.h. */
#define _GNU_SOURCE
#include "errors.h"
#include "../shared/macro.h"

#include <jansson.h>
#include <string.h>

#define STATUS_MESSAGE_MAX 1024

void np_kube_status_free(struct np_kube_status *st)
{
	free(st->status);
	free(st->reason);
	free(st->message);
	memset(st, 0, sizeof(*st));
}

/* printable ASCII and UTF-8 kept; control bytes become spaces; at most @max bytes */
static char *clean(const char *s, size_t n, size_t max)
{
	char *o;

	if (n > max)
		n = max;
	o = malloc(n + 1);
	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i++)
		o[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
	o[n] = '\0';
	return o;
}

static int str_field(json_t *o, const char *key, char **out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v))
		return 0;
	*out = clean(json_string_value(v), json_string_length(v), STATUS_MESSAGE_MAX);
	return *out ? 0 : -ENOMEM;
}

int np_kube_status_parse(const char *body, size_t len, struct np_kube_status *st)
{
	json_t *o, *kind, *code;
	int r;

	memset(st, 0, sizeof(*st));
	o = body && len ? json_loadb(body, len, 0, NULL) : NULL;
	kind = json_object_get(o, "kind");
	if (!json_is_object(o) || !json_is_string(kind) || !streq(json_string_value(kind), "Status")) {
		json_decref(o);
		if (body && len && !(st->message = clean(body, len, 200)))
			return -ENOMEM;
		return -EINVAL;
	}
	code = json_object_get(o, "code");
	if (json_is_integer(code) && json_integer_value(code) >= 0 && json_integer_value(code) < 1000)
		st->code = (int)json_integer_value(code);
	r = str_field(o, "status", &st->status);
	if (r >= 0)
		r = str_field(o, "reason", &st->reason);
	if (r >= 0)
		r = str_field(o, "message", &st->message);
	json_decref(o);
	if (r < 0)
		np_kube_status_free(st);
	return r;
}

int np_kube_errno(int code, const char *reason)
{
	if (code >= 200 && code < 300)
		return 0;
	if (reason && streq(reason, "Timeout"))
		return -ETIMEDOUT;
	switch (code) {
	case 400:
		return -EBADMSG;
	case 401:
		return -EACCES;
	case 403:
		return -EPERM;
	case 404:
		return -ENOENT;
	case 405:
		return -EOPNOTSUPP;
	case 406:
	case 415:
		return -EPROTONOSUPPORT;
	case 409:
		return reason && streq(reason, "AlreadyExists") ? -EEXIST : -ESTALE;
	case 410:
		return -ETIME;
	case 413:
		return -E2BIG;
	case 422:
		return -EINVAL;
	case 429:
		return -EBUSY;
	case 503:
		return -EAGAIN;
	case 504:
		return -ETIMEDOUT;
	}
	if (code >= 500 && code < 600)
		return -EIO;
	return -EPROTO;
}
