/* SPDX-License-Identifier: Apache-2.0 */
/*
 * collect_ctx.h - the one place that turns a policy (and a command line) into
 * the collection context, for `inspect`, `plan`, `run` and `baseline` alike,
 * so the commands never disagree on what a stall or a flap window is.
 */
#pragma once

#include "../collect/collector.h"
#include "../policy/policy.h"

/* What a command line may set over the policy; zero-initialised = the policy's everywhere. */
struct np_ctx_overrides {
	double interval_s;      /* > 0: sample twice, this far apart */
	double stall_seconds;   /* > 0 wins over health.block.stallSeconds */
	bool set_stall_await;   /* stall_await_ms wins over health.block.awaitMs (0 = off) */
	double stall_await_ms;
	const char *kubelet_dir;/* NULL = /var/lib/kubelet */
	unsigned kmsg_max;      /* 0 = 256 */
	double smart_interval_s;/* the agent's --smart-interval; 0 = 60 s */
};

/*
 * np_collect_ctx_build() - the context for collecting @h under @pol: the
 * policy's stall threshold and await limit (off when the policy says -1) and
 * its multipath flap window, each replaced by @ov's value when set (@ov may
 * be NULL). The result borrows @h and @ov->kubelet_dir; states is NULL
 * (the agent sets its own: np_section_states_new()).
 */
struct np_collect_ctx np_collect_ctx_build(const struct np_host *h, const struct np_policy *pol,
					   const struct np_ctx_overrides *ov);
