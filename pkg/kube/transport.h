/* SPDX-License-Identifier: Apache-2.0 */
/*
 * transport.h - one connection to the API server (libcurl easy handle, reused: keep-alive,
 * HTTP/2 when the server offers it over TLS), with TLS verification always on unless the
 * kubeconfig turns it off, User-Agent nodeprint/<version>, fresh credentials (auth.h),
 * a client-side rate limit and retries with backoff (retry.h), and Status errors (errors.h).
 *
 * Defaults (docs/kube-client.md): 5 QPS, burst 10; connect timeout 5 s, 30 s per attempt;
 * at most 5 attempts, backoff 250 ms doubling to 8 s with equal jitter, no retry starting
 * later than 30 s after the first attempt; responses up to 32 MiB.
 */
#pragma once

#include "errors.h"
#include "kubeconfig.h"
#include "retry.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Injectable time for tests: a monotonic clock in ms and a sleep. */
struct np_kube_clock {
	uint64_t (*now_ms)(void *ud);
	void (*sleep_ms)(void *ud, uint64_t ms);
	void *ud;
};

struct np_kube_client_opts {
	double qps;                  /* 0 = default 5; < 0 = unlimited */
	unsigned burst;              /* 0 = default 10 */
	long connect_timeout_ms;     /* 0 = default 5000 */
	long timeout_ms;             /* per attempt; 0 = default 30000 */
	struct np_backoff retry;     /* zero fields = defaults above */
	size_t max_response_bytes;   /* 0 = default 32 MiB */
	long exec_timeout_ms;        /* exec plugin; 0 = default 30000 */
	const struct np_kube_clock *clock; /* NULL = CLOCK_MONOTONIC and nanosleep */
	const char *accept;          /* Accept header; NULL = application/json (borrowed) */
};

/* Counters of one client since creation. */
struct np_kube_stats {
	unsigned requests;        /* HTTP attempts sent (retries included) */
	unsigned retries;         /* attempts after a retryable failure */
	unsigned auth_refreshes;  /* 401s answered by refreshing the credential */
	uint64_t throttled_ms;    /* time spent waiting for the rate limit */
	uint64_t backoff_ms;      /* time spent waiting between attempts */
	unsigned held_back;       /* requests not sent: a Retry-After given up on had not passed */
	/* attempts by HTTP verb and status code (0 = no answer), for metrics; at most 48 pairs */
	struct np_kube_code_count {
		char verb[8];
		long code;
		unsigned long n;
	} by_code[48];
	size_t n_by_code;
	unsigned connects;        /* new connections made (keep-alive: 1 for many requests) */
	unsigned http_version;    /* of the last answer: 10, 11, 20 (HTTP/2), 0 when none */
};

/* The outcome of one request. */
struct np_kube_response {
	long http_code;              /* of the last attempt; 0 when no answer */
	char *body;                  /* NUL-terminated body of the last attempt, or NULL */
	size_t len;
	unsigned attempts;
	struct np_kube_status status;/* decoded Status when the request failed with a body */
	char *error;                 /* human message when the request failed */
};

void np_kube_response_free(struct np_kube_response *r);

struct np_kube_client;

/*
 * np_kube_client_new() - a client for @cfg, which is moved into the client (zeroed on return,
 * success or not). @o may be NULL for the defaults. Returns 0, or -errno with a message in
 * *@err: -EINVAL (server not a http(s) URL, bad tls-server-name), -ENOMEM, -EIO (libcurl).
 */
int np_kube_client_new(struct np_kube_config *cfg, const struct np_kube_client_opts *o,
		       struct np_kube_client **out, char **err);
void np_kube_client_free(struct np_kube_client *c);

/*
 * np_kube_client_set_accept() - the Accept header of the client's next requests: @accept (borrowed,
 * must outlive its use), NULL for application/json. NP_KUBE_ACCEPT_METADATA asks a LIST for
 * metadata only (PartialObjectMetadataList, as client-go's metadata client does,
 * k8s.io/client-go/metadata), falling back to the whole objects where a server cannot.
 */
void np_kube_client_set_accept(struct np_kube_client *c, const char *accept);
#define NP_KUBE_ACCEPT_METADATA "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"

/* The configuration in use (borrowed) and the counters. */
const struct np_kube_config *np_kube_client_config(const struct np_kube_client *c);
const struct np_kube_stats *np_kube_client_stats(const struct np_kube_client *c);

/*
 * np_kube_request() - send @method @path (starting with '/', query included) with an optional
 * @body of @content_type, retrying as documented: 5xx (500, 502, 503, 504) and 429 after a
 * backoff or the server's Retry-After; connection failures (refused, reset, timed out, empty
 * reply) for every method except POST, which is retried only when the connection could not be
 * made; a 401 once at once after refreshing a token file or exec credential. A 429 or 503 whose
 * Retry-After the retries could not wait out (past the budget, or the last attempt) holds every
 * later request of the client until it has passed: they fail at once with -EBUSY, unsent.
 * Returns 0 for a 2xx answer (body in @resp), else the negative errno of errors.h (or of the
 * connection: -ECONNREFUSED, -ECONNRESET, -ETIMEDOUT, -EHOSTUNREACH, -EPROTO for TLS, -EFBIG
 * for an answer over the size bound) with @resp->error and @resp->status set.
 * Free @resp with np_kube_response_free() in every case.
 */
int np_kube_request(struct np_kube_client *c, const char *method, const char *path, const char *content_type,
		    const char *body, size_t body_len, struct np_kube_response *resp);

/*
 * np_kube_stream() - GET @path and hand every line of the answer to @line (a watch: one JSON
 * event per line), for at most @timeout_ms (0 = no client-side limit beyond the server's).
 * @line returns 0 to go on, or a negative errno to stop (returned). One attempt (a 401 gets one
 * credential refresh); the caller re-watches. Lines over 4 MiB fail with -EFBIG.
 * Returns 0 when the server ended the stream, or -errno as np_kube_request().
 */
int np_kube_stream(struct np_kube_client *c, const char *path, long timeout_ms,
		   int (*line)(const char *l, size_t len, void *ud), void *ud, struct np_kube_response *resp);
