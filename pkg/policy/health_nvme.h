/* SPDX-License-Identifier: Apache-2.0 */
/*
 * health_nvme.h - the thresholds of health.nvme (docs/policy.md): NVMe SMART/health
 * (judged by health_nvme.c).
 */
#pragma once

#include "health.h"

#include <stdbool.h>
#include <stdint.h>

struct np_health_nvme {
	uint32_t critical_warning_mask; /* SMART critical warning bits that count */
	bool spare_below_threshold;
	int percentage_used_max; /* -1 = off */
	bool media_errors_growth;
	bool error_log_growth;
};

NP_HEALTH_DECLARE(nvme);
