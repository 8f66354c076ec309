// SPDX-License-Identifier: Apache-2.0
/* vocab.c - the vocabulary table (vocab.h). */
#include "vocab.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <string.h>

#define REASONS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static const struct np_vocab_finding findings[] = {
	{ NP_FINDING_FIRMWARE_UNPINNED, REASONS(NP_REASON_DRIFT, NP_REASON_UNPINNED), NP_COND_BUNDLE_PINNED,
	  "NoSchedule", "FirmwareDrift" },
	{ NP_FINDING_NVME_CRITICAL,
	  REASONS(NP_REASON_CRITICAL_WARNING, NP_REASON_SPARE_BELOW_THRESHOLD, NP_REASON_WEAR_OUT,
		  NP_REASON_MEDIA_ERRORS, NP_REASON_ERROR_LOG_GROWTH),
	  NP_COND_NVME_HEALTHY, "NoSchedule", "NVMeCriticalWarning" },
	{ NP_FINDING_MULTIPATH_DEGRADED, REASONS(NP_REASON_PATH_FAILED), NP_COND_MULTIPATH_HEALTHY, "PreferNoSchedule",
	  NP_EVENT_PATH_FAILED },
	{ NP_FINDING_PATH_FLAPPING, REASONS(NP_REASON_PATH_FLAPPING), NP_COND_MULTIPATH_HEALTHY, "PreferNoSchedule",
	  "PathFlapping" },
	{ NP_FINDING_PCIE_ERRORS, REASONS(NP_REASON_AER_UNCORRECTABLE, NP_REASON_AER_CORRECTABLE_RATE),
	  NP_COND_PCIE_HEALTHY, "none", "PCIeErrors" },
	{ NP_FINDING_LINK_DOWNGRADED, REASONS(NP_REASON_LINK_DOWNGRADED), NP_COND_PCIE_HEALTHY, "none", "LinkDowngraded" },
	{ NP_FINDING_VOLUME_STALL, REASONS(NP_REASON_STALLED), NP_COND_VOLUME_PATHS_HEALTHY, "none",
	  NP_EVENT_VOLUME_PATH_STALL },
	{ NP_FINDING_OFFLOAD_MISMATCH, REASONS(NP_REASON_OFFLOAD_MISMATCH), NP_COND_OFFLOADS_COMPLIANT, "none",
	  "OffloadDrift" },
	{ NP_FINDING_NIC_DROPS, REASONS(NP_REASON_DROPS), NP_COND_NIC_HEALTHY, "none", "NICDrops" },
	{ NP_FINDING_IRQ_SKEW, REASONS(NP_REASON_IRQ_SKEW), NP_COND_NIC_HEALTHY, "none", "IRQSkew" },
};

const struct np_vocab_finding *np_vocab_findings(size_t *n)
{
	*n = ARRAY_SIZE(findings);
	return findings;
}

const struct np_vocab_finding *np_vocab_finding(const char *id)
{
	for (size_t i = 0; id && i < ARRAY_SIZE(findings); i++)
		if (streq(findings[i].id, id))
			return &findings[i];
	return NULL;
}

const char *const *np_vocab_words(const char *kind)
{
	static const char *const conditions[] = {
		NP_COND_BUNDLE_PINNED,	      NP_COND_NVME_HEALTHY,	 NP_COND_MULTIPATH_HEALTHY, NP_COND_PCIE_HEALTHY,
		NP_COND_VOLUME_PATHS_HEALTHY, NP_COND_OFFLOADS_COMPLIANT, NP_COND_NIC_HEALTHY,	    NP_COND_BUNDLE_REGRESSION,
		NULL,
	};
	static const char *const reasons[] = {
		NP_REASON_DRIFT,	  NP_REASON_UNPINNED,	       NP_REASON_CRITICAL_WARNING,
		NP_REASON_SPARE_BELOW_THRESHOLD, NP_REASON_WEAR_OUT,    NP_REASON_MEDIA_ERRORS,
		NP_REASON_ERROR_LOG_GROWTH, NP_REASON_PATH_FAILED,     NP_REASON_PATH_FLAPPING,
		NP_REASON_AER_UNCORRECTABLE, NP_REASON_AER_CORRECTABLE_RATE, NP_REASON_LINK_DOWNGRADED,
		NP_REASON_STALLED,	  NP_REASON_OFFLOAD_MISMATCH,  NP_REASON_DROPS,
		NP_REASON_IRQ_SKEW,	  NP_REASON_ALL_CHECKS_PASSED, NP_REASON_NO_PINS,
		NP_REASON_NO_CLASS,	  NP_REASON_REGRESSED,	       NP_REASON_WITHIN_BASELINE,
		NP_REASON_NOISY,	  NP_REASON_NO_BASELINE,       NULL,
	};
	static const char *const events[] = {
		"FirmwareDrift",	   "NVMeCriticalWarning",   NP_EVENT_PATH_FAILED, NP_EVENT_PATH_REINSTATED,
		"PathFlapping",		   NP_EVENT_VOLUME_PATH_STALL, "PCIeErrors",	  "LinkDowngraded",
		"OffloadDrift",		   "NICDrops",		    "IRQSkew",		  NP_EVENT_TAINT_REFUSED,
		NP_EVENT_SOURCE_UNREADABLE, NP_EVENT_BUNDLE_REGRESSION, NP_EVENT_BUNDLE_VERDICT, NULL,
	};
	if (streq(kind, "condition"))
		return conditions;
	if (streq(kind, "reason"))
		return reasons;
	if (streq(kind, "event"))
		return events;
	return NULL;
}
