/* SPDX-License-Identifier: Apache-2.0 */
/*
 * health_pcie.h - the thresholds of health.pcie (docs/policy.md): PCIe AER errors and link downgrades
 * (judged by health_pcie.c).
 */
#pragma once

#include "health.h"

#include <stdbool.h>
#include <stdint.h>

struct np_health_pcie {
	double aer_correctable_per_hour; /* < 0 = off */
	bool aer_uncorrectable;
	bool link_downgrade;
};

NP_HEALTH_DECLARE(pcie);
