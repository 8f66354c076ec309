/* SPDX-License-Identifier: Apache-2.0 */
/*
 * health_gpu.h - the thresholds of health.gpu (docs/policy.md): GPU faults, missing GPUs and uncorrectable errors
 * (judged by health_gpu.c).
 */
#pragma once

#include "health.h"

#include <stdbool.h>
#include <stdint.h>

struct np_health_gpu {
	int uncorrectable_max; /* a GPU's uncorrectable error count above this is a finding; -1 = off */
	bool expect_from_peers; /* no expect.gpus: expect the largest gpu.count of the class's other Nodes */
	double peers_refresh_seconds; /* the agent lists its class's Nodes at most this often for that */
};

NP_HEALTH_DECLARE(gpu);
