/* SPDX-License-Identifier: Apache-2.0 */
/*
 * blind.h - blind is never healthy: conditions whose inputs could not be read
 * become Unknown, and what the agent cannot see becomes one finding and one
 * Warning Event on the Node (pure functions).
 */
#pragma once

#include "desired.h"

/* NP_FINDING_SOURCE_UNREADABLE and NP_EVENT_SOURCE_UNREADABLE: vocab.h (not a policy action: always on). */
#include "vocab.h"

/*
 * np_policy_blind() - for every source of @r that is down (np_report_sources()),
 * turn each condition of @d that a finding reading it (the vocabulary's
 * sources, vocab.h) maps to (through @p's
 * actions) from True to Unknown, with the source's reason (KernelLogUnreadable,
 * NVMeAdminDenied, ...) and a message naming what could not be read. A False
 * condition stays False (a problem seen is a fact, even when another input is
 * missing). When a source is down, one finding "source-unreadable" whose
 * subject lists the sources down (so a new set is announced again, a steady
 * one is not) and one Warning Event SourceUnreadable on @node_name are added.
 * Call after the conditions are built. Returns the number of sources down, or
 * -ENOMEM.
 */
int np_policy_blind(const struct np_policy *p, const struct np_report *r, const char *node_name,
		    struct np_desired *d);
