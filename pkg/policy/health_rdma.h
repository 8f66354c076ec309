/* SPDX-License-Identifier: Apache-2.0 */
/*
 * health_rdma.h - the thresholds of health.rdma (docs/policy.md): RDMA ports down
 * (judged by health_rdma.c).
 */
#pragma once

#include "health.h"

#include <stdbool.h>
#include <stdint.h>

struct np_health_rdma {
	bool port_down; /* an RDMA port not ACTIVE while its netdev is up / its IB link is up */
};

NP_HEALTH_DECLARE(rdma);
