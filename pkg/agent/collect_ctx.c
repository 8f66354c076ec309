// SPDX-License-Identifier: Apache-2.0
/* collect_ctx.c - policy + command line -> collection context (collect_ctx.h). */
#include "collect_ctx.h"

struct np_collect_ctx np_collect_ctx_build(const struct np_host *h, const struct np_policy *pol,
					   const struct np_ctx_overrides *ov)
{
	static const struct np_ctx_overrides none = { 0 };
	if (!ov)
		ov = &none;
	const struct np_health *hp = &pol->health;
	return (struct np_collect_ctx){
		.host = h,
		.interval_s = ov->interval_s > 0 ? ov->interval_s : 0,
		.kubelet_dir = ov->kubelet_dir ? ov->kubelet_dir : "/var/lib/kubelet",
		.kmsg_max = ov->kmsg_max ? ov->kmsg_max : 256,
		.stall_seconds = ov->stall_seconds > 0 ? ov->stall_seconds : hp->block_stall_seconds,
		.stall_await_ms = ov->set_stall_await ? ov->stall_await_ms
				  : hp->block_await_ms > 0 ? hp->block_await_ms : 0,
		.flap_window_s = hp->multipath_window_seconds,
		.smart_interval_s = ov->smart_interval_s > 0 ? ov->smart_interval_s : 0,
	};
}
