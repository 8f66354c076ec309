/* SPDX-License-Identifier: Apache-2.0 */
/*
 * findings.h - health findings from the report's sections under the policy's
 * thresholds (pure functions; one per area, in findings.c).
 */
#pragma once

#include "desired.h"

/*
 * Add every health finding of @r to @d. @cls, @hist and @node may be NULL (rates and
 * growth need @hist; the GPU count expected from the class's peers needs @node). Returns 0 or -ENOMEM.
 */
int np_findings_health(const struct np_policy *p, const struct np_class *cls, const struct np_report *r,
		       const struct np_eval_history *hist, const struct np_node_facts *node, struct np_desired *d);
