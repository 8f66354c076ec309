// SPDX-License-Identifier: Apache-2.0
/* retry.c - token bucket, exponential backoff with jitter, Retry-After. */
#define _GNU_SOURCE
#include "retry.h"
#include "../shared/macro.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define RETRY_AFTER_MAX_S 86400

void np_ratelimit_init(struct np_ratelimit *rl, double qps, unsigned burst, uint64_t now_ms)
{
	rl->qps = qps;
	rl->burst = burst ? burst : 1;
	rl->tokens = rl->burst;
	rl->last_ms = now_ms;
}

uint64_t np_ratelimit_reserve(struct np_ratelimit *rl, uint64_t now_ms)
{
	if (rl->qps <= 0)
		return 0;
	if (now_ms > rl->last_ms) {
		rl->tokens += (double)(now_ms - rl->last_ms) * rl->qps / 1000.0;
		if (rl->tokens > rl->burst)
			rl->tokens = rl->burst;
		rl->last_ms = now_ms;
	}
	rl->tokens -= 1.0;
	if (rl->tokens >= 0)
		return 0;
	return (uint64_t)ceil(-rl->tokens * 1000.0 / rl->qps);
}

uint64_t np_backoff_delay_ms(const struct np_backoff *b, unsigned retry, uint32_t rnd)
{
	uint64_t d = b->base_ms;

	for (unsigned i = 1; i < retry && d < b->cap_ms; i++)
		d *= 2;
	if (d > b->cap_ms)
		d = b->cap_ms;
	return np_jitter_ms(d, rnd);
}

uint64_t np_jitter_ms(uint64_t d, uint32_t rnd)
{
	return d / 2 + rnd % (d / 2 + 1);
}

uint32_t np_xorshift32(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

int np_parse_retry_after(const char *v, time_t now, uint64_t *ms)
{
	uint64_t s;
	struct tm tm = { 0 };
	const char *end;

	if (!v)
		return -EINVAL;
	while (*v == ' ' || *v == '\t')
		v++;
	if (*v >= '0' && *v <= '9') {
		size_t n = strspn(v, "0123456789");
		const char *rest = v + n;
		while (*rest == ' ' || *rest == '\t')
			rest++;
		if (*rest)
			return -EINVAL;
		s = n > 9 ? RETRY_AFTER_MAX_S : strtoull(v, NULL, 10); /* absurdly long: clamp */
		*ms = (s > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : s) * 1000;
		return 0;
	}
	end = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (!end || *end)
		return -EINVAL;
	time_t t = timegm(&tm);
	*ms = t <= now ? 0 : (uint64_t)(t - now > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : t - now) * 1000;
	return 0;
}
