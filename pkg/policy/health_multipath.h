/* SPDX-License-Identifier: Apache-2.0 */
/*
 * health_multipath.h - the thresholds of health.multipath (docs/policy.md): dm-multipath failed and flapping paths
 * (judged by health_multipath.c).
 */
#pragma once

#include "health.h"

#include <stdbool.h>
#include <stdint.h>

struct np_health_multipath {
	unsigned flaps; /* flaps in the window that make a map "flapping" */
	double window_seconds; /* that window (the kmsg section's flap tracker) */
	bool failed_paths;
};

NP_HEALTH_DECLARE(multipath);
