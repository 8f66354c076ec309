// SPDX-License-Identifier: Apache-2.0
/* collect_ctx.c - policy + command line -> collection context (collect_ctx.h). */
#include "collect_ctx.h"
#include "../policy/health_block.h"
#include "../policy/health_multipath.h"

struct np_collect_ctx np_collect_ctx_build(const struct np_host *h, const struct np_policy *pol,
					   const struct np_ctx_overrides *ov)
{
	static const struct np_ctx_overrides none = { 0 };
	if (!ov)
		ov = &none;
	const struct np_health_block *hb = NP_HEALTH_OF(pol, block);
	const struct np_health_multipath *hm = NP_HEALTH_OF(pol, multipath);
	return (struct np_collect_ctx){
		.host = h,
		.interval_s = ov->interval_s > 0 ? ov->interval_s : 0,
		.kubelet_dir = ov->kubelet_dir ? ov->kubelet_dir : "/var/lib/kubelet",
		.kmsg_max = ov->kmsg_max ? ov->kmsg_max : 256,
		.stall_seconds = ov->stall_seconds > 0 ? ov->stall_seconds : hb->stall_seconds,
		.stall_await_ms = ov->set_stall_await ? ov->stall_await_ms
				  : hb->await_ms > 0 ? hb->await_ms : 0,
		.flap_window_s = hm->window_seconds,
		.smart_interval_s = ov->smart_interval_s > 0 ? ov->smart_interval_s : 0,
	};
}
