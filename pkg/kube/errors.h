/* SPDX-License-Identifier: Apache-2.0 */
/*
 * errors.h - API errors: the Status object of a failed request (meta/v1 Status:
 * https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/status/) and its
 * mapping to a negative errno, so callers test `r == -ESTALE` instead of HTTP codes.
 *
 *   HTTP  reason                     errno          meaning for a caller
 *   400   BadRequest                 -EBADMSG       the request (e.g. a patch body) is malformed
 *   401   Unauthorized               -EACCES        no valid credential (after one refresh)
 *   403   Forbidden                  -EPERM         authenticated, not allowed (RBAC)
 *   404   NotFound                   -ENOENT        no such object
 *   405   MethodNotAllowed           -EOPNOTSUPP
 *   406/415 NotAcceptable/Unsupported -EPROTONOSUPPORT (patch type not accepted)
 *   409   Conflict                   -ESTALE        stale resourceVersion: re-read and retry
 *   409   AlreadyExists              -EEXIST
 *   410   Gone / Expired             -ETIME         continue token or watch resourceVersion too old
 *   413   RequestEntityTooLarge      -E2BIG
 *   422   Invalid                    -EINVAL        validation failed, or a JSON patch `test` failed
 *   429   TooManyRequests            -EBUSY         still throttled after the retries
 *   500   InternalError              -EIO           (after the retries)
 *   503   ServiceUnavailable         -EAGAIN        (after the retries)
 *   504   Timeout (or reason Timeout) -ETIMEDOUT
 *   other 4xx -EPROTO, other 5xx -EIO.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct np_kube_status {
	int code;        /* Status.code, or the HTTP code when the body is not a Status */
	char *status;    /* "Failure" / "Success", or NULL */
	char *reason;    /* CamelCase reason ("Conflict", "NotFound"), or NULL */
	char *message;   /* human message (sanitised, at most 1 KiB), or NULL */
};

/*
 * np_kube_status_parse() - decode a response body that should be a Status (kind "Status").
 * Returns 0 and fills @st (free with np_kube_status_free()), -EINVAL when the body is not
 * JSON or not a Status (then @st->message holds the body's first bytes, sanitised, so a
 * proxy's HTML error is still shown), -ENOMEM.
 */
int np_kube_status_parse(const char *body, size_t len, struct np_kube_status *st);
void np_kube_status_free(struct np_kube_status *st);

/* np_kube_errno() - the negative errno of an HTTP status code and Status reason (table above); 0 for 2xx. */
int np_kube_errno(int http_code, const char *reason);
