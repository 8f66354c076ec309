/* SPDX-License-Identifier: Apache-2.0 */
/*
 * health_block.h - the thresholds of health.block (docs/policy.md): I/O stalls under volumes
 * (judged by health_block.c).
 */
#pragma once

#include "health.h"

#include <stdbool.h>
#include <stdint.h>

struct np_health_block {
	double stall_seconds; /* in-flight I/O with no completion this long is a stall (the block section's detector) */
	double await_ms; /* also a stall: await over the window above this; < 0 = off */
};

NP_HEALTH_DECLARE(block);
