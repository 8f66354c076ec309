/* SPDX-License-Identifier: Apache-2.0 */
/*
 * health_numa.h - the thresholds of health.numa (docs/policy.md): NUMA-remote interrupt load
 * (judged by health_numa.c).
 */
#pragma once

#include "health.h"

#include <stdbool.h>
#include <stdint.h>

struct np_health_numa {
	double remote_irq_percent; /* a device's interrupt load on remote-node CPUs above this; < 0 = off */
};

NP_HEALTH_DECLARE(numa);
