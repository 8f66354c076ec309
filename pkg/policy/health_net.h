/* SPDX-License-Identifier: Apache-2.0 */
/*
 * health_net.h - the thresholds of health.net (docs/policy.md): NIC offloads, IRQ skew and drops
 * (judged by health_net.c).
 */
#pragma once

#include "health.h"

#include <stdbool.h>
#include <stdint.h>

struct np_health_net {
	double drops_per_second; /* packets per second between two reports over this; < 0 = off */
	double irq_skew_percent; /* a multi-queue NIC's interrupts on one CPU above this; < 0 = off */
};

NP_HEALTH_DECLARE(net);
