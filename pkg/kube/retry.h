/* SPDX-License-Identifier: Apache-2.0 */
/*
 * retry.h - pure functions of the request pacing: a token-bucket rate limit (client-go's
 * flowcontrol QPS/burst), exponential backoff with jitter, and Retry-After parsing
 * (RFC 9110 section 10.2.3). No clock is read here: callers pass the time in.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* Token bucket: @burst requests at once, then @qps per second on average. */
struct np_ratelimit {
	double qps;        /* <= 0: unlimited */
	double burst;
	double tokens;
	uint64_t last_ms;
};

void np_ratelimit_init(struct np_ratelimit *rl, double qps, unsigned burst, uint64_t now_ms);

/*
 * np_ratelimit_reserve() - take one token at monotonic time @now_ms. Returns the number of
 * milliseconds the caller must wait before sending (0 = now). The token is taken even when
 * a wait is due (the bucket goes into debt), so callers reserve once per request.
 */
uint64_t np_ratelimit_reserve(struct np_ratelimit *rl, uint64_t now_ms);

/* Retries of one request. */
struct np_backoff {
	unsigned max_attempts;  /* attempts in total, the first included (>= 1) */
	uint64_t base_ms;       /* delay before the first retry, before jitter */
	uint64_t cap_ms;        /* largest delay between two attempts */
	uint64_t max_total_ms;  /* no retry starts later than this after the first attempt */
};

/*
 * np_backoff_delay_ms() - delay before retry number @retry (1 = the first retry):
 * d = min(cap, base * 2^(retry-1)), then np_jitter_ms(d, rnd). The result lies in [d/2, d].
 * @rnd is any random 32-bit value.
 */
uint64_t np_backoff_delay_ms(const struct np_backoff *b, unsigned retry, uint32_t rnd);

/*
 * np_jitter_ms() - "equal jitter" of a period @d (any unit): d/2 + (rnd % (d/2 + 1)), in
 * [d/2, d]. Periods drawn this way keep many clients that started together from acting in
 * lockstep while bounding each one's period by @d. @rnd is any random 32-bit value.
 */
uint64_t np_jitter_ms(uint64_t d, uint32_t rnd);

/*
 * np_xorshift32() - the next value of the xorshift32 generator whose state is *@s (seed it
 * non-zero, e.g. from getrandom(2)); jitter needs spread, not secrecy. Returns it.
 */
uint32_t np_xorshift32(uint32_t *s);

/*
 * np_parse_retry_after() - a Retry-After header value: delay-seconds (a non-negative
 * integer) or an HTTP-date (IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT") compared with
 * wall clock @now. Returns 0 and the delay in milliseconds (0 for a date in the past),
 * or -EINVAL. Values above one day are clamped to one day.
 */
int np_parse_retry_after(const char *v, time_t now, uint64_t *ms);
