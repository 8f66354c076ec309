// SPDX-License-Identifier: Apache-2.0
/* vocab.c - the vocabulary table (vocab.h). */
#include "vocab.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <stdlib.h>
#include <string.h>

#define REASONS(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define SOURCES(...) ((const char *const[]){ __VA_ARGS__, NULL })

static const struct np_vocab_finding findings[] = {
	{ NP_FINDING_FIRMWARE_UNPINNED, REASONS(NP_REASON_DRIFT, NP_REASON_UNPINNED), NP_COND_BUNDLE_PINNED,
	  "NoSchedule", "FirmwareDrift", SOURCES("kernel", "modules") },
	{ NP_FINDING_NVME_CRITICAL,
	  REASONS(NP_REASON_CRITICAL_WARNING, NP_REASON_SPARE_BELOW_THRESHOLD, NP_REASON_WEAR_OUT,
		  NP_REASON_MEDIA_ERRORS, NP_REASON_ERROR_LOG_GROWTH),
	  NP_COND_NVME_HEALTHY, "NoSchedule", "NVMeCriticalWarning", SOURCES("nvme") },
	{ NP_FINDING_MULTIPATH_DEGRADED, REASONS(NP_REASON_PATH_FAILED), NP_COND_MULTIPATH_HEALTHY, "PreferNoSchedule",
	  NP_EVENT_PATH_FAILED, SOURCES("multipath") },
	{ NP_FINDING_PATH_FLAPPING, REASONS(NP_REASON_PATH_FLAPPING), NP_COND_MULTIPATH_HEALTHY, "PreferNoSchedule",
	  "PathFlapping", SOURCES("kmsg") },
	{ NP_FINDING_PCIE_ERRORS, REASONS(NP_REASON_AER_UNCORRECTABLE, NP_REASON_AER_CORRECTABLE_RATE),
	  NP_COND_PCIE_HEALTHY, "none", "PCIeErrors", SOURCES("pci") },
	{ NP_FINDING_LINK_DOWNGRADED, REASONS(NP_REASON_LINK_DOWNGRADED), NP_COND_PCIE_HEALTHY, "none", "LinkDowngraded", SOURCES("pci") },
	{ NP_FINDING_VOLUME_STALL, REASONS(NP_REASON_STALLED), NP_COND_VOLUME_PATHS_HEALTHY, "none",
	  NP_EVENT_VOLUME_PATH_STALL, SOURCES("block") },
	{ NP_FINDING_NIC_DROPS, REASONS(NP_REASON_DROPS), NP_COND_NIC_HEALTHY, "none", "NICDrops", SOURCES("net") },
	{ NP_FINDING_IRQ_SKEW, REASONS(NP_REASON_IRQ_SKEW), NP_COND_NIC_HEALTHY, "none", "IRQSkew", SOURCES("net") },
	{ NP_FINDING_OFFLOAD_MISMATCH, REASONS(NP_REASON_OFFLOAD_MISMATCH), NP_COND_OFFLOADS_COMPLIANT, "none",
	  "OffloadDrift", SOURCES("net") },
	{ NP_FINDING_TIMEOUT_CHAIN,
	  REASONS(NP_REASON_UNBOUNDED_QUEUEING, NP_REASON_QUEUEING_OVER_APP, NP_REASON_FAST_IO_FAIL_NOT_BELOW_LOSS,
		  NP_REASON_FAILOVER_OVER_DEVICE_TIMEOUT),
	  NP_COND_STORAGE_TIMEOUTS, "none", "TimeoutChain", SOURCES("multipath", "volumes", "timeouts") },
	{ NP_FINDING_NUMA_REMOTE_IRQ, REASONS(NP_REASON_REMOTE_IRQS), NP_COND_NUMA_LOCAL, "none", "NUMARemoteIRQ", SOURCES("numa") },
	{ NP_FINDING_GPU_FAULT, REASONS(NP_REASON_NODE_REBOOT_REQUIRED, NP_REASON_GPU_HARDWARE_FAULT),
	  NP_COND_ACCELERATORS_HEALTHY, "NoSchedule", "GPUFault", SOURCES("kmsg") },
	{ NP_FINDING_GPU_MISSING, REASONS(NP_REASON_GPU_MISSING, NP_REASON_GPU_NOT_RESPONDING), NP_COND_ACCELERATORS_HEALTHY,
	  "NoSchedule", "GPUMissing", SOURCES("gpu") },
	{ NP_FINDING_GPU_RESET_REQUIRED, REASONS(NP_REASON_GPU_RESET_REQUIRED), NP_COND_ACCELERATORS_HEALTHY, "none",
	  "GPUResetRequired", SOURCES("kmsg") },
	{ NP_FINDING_RDMA_PORT_DOWN, REASONS(NP_REASON_PORT_DOWN, NP_REASON_NO_SUBNET_MANAGER), NP_COND_RDMA_HEALTHY,
	  "none", "RDMAPortDown", SOURCES("rdma") },
	{ NP_FINDING_GPU_UNCORRECTABLE, REASONS(NP_REASON_GPU_UNCORRECTABLE), NP_COND_ACCELERATORS_HEALTHY, "none",
	  "GPUUncorrectableErrors", SOURCES("gpu") },
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

bool np_vocab_reads(const struct np_vocab_finding *f, const char *source)
{
	return f && np_strv_contains((char *const *)f->sources, source);
}

/* The words that are no finding's: conditions, condition reasons and Event reasons of their own. */
static const char *const other_conditions[] = { NP_COND_BUNDLE_REGRESSION, NULL };
static const char *const other_reasons[] = {
	NP_REASON_ALL_CHECKS_PASSED, NP_REASON_NO_PINS,		NP_REASON_NO_CLASS, NP_REASON_REGRESSED,
	NP_REASON_WITHIN_BASELINE,   NP_REASON_NOISY,		NP_REASON_NO_BASELINE, NULL,
};
static const char *const other_events[] = {
	NP_EVENT_PATH_REINSTATED,   NP_EVENT_TAINT_REFUSED,	 NP_EVENT_TAINT_OBSERVED,
	NP_EVENT_TAINT_DISABLED, /* the safety valve's gate (pkg/agent/valve.h) */
	NP_EVENT_SOURCE_UNREADABLE, NP_EVENT_BUNDLE_REGRESSION, NP_EVENT_BUNDLE_VERDICT, NULL,
};

/* Append @w to the NULL-terminated @v (room for it) unless it is there. */
static void add_word(const char **v, const char *w)
{
	while (*v && !streq(*v, w))
		v++;
	*v = w;
}

/* The rows' words of one kind in table order, then @others; malloc'd once, NULL on ENOMEM. */
static const char **words_of(size_t kind, const char *const *others)
{
	size_t cap = 1;
	for (const char *const *o = others; *o; o++)
		cap++;
	for (size_t i = 0; i < ARRAY_SIZE(findings); i++)
		for (const char *const *r = findings[i].reasons; *r; r++)
			cap++;
	const char **v = calloc(cap, sizeof(*v));
	for (size_t i = 0; v && i < ARRAY_SIZE(findings); i++) {
		if (kind == 0)
			add_word(v, findings[i].condition);
		for (const char *const *r = findings[i].reasons; kind == 1 && *r; r++)
			add_word(v, *r);
		if (kind == 2)
			add_word(v, findings[i].event);
	}
	for (const char *const *o = others; v && *o; o++)
		add_word(v, *o);
	return v;
}

const char *const *np_vocab_words(const char *kind)
{
	static const char *const kinds[] = { "condition", "reason", "event" };
	static const char *const *const others[] = { other_conditions, other_reasons, other_events };
	static const char **lists[ARRAY_SIZE(kinds)];
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++)
		if (streq(kind, kinds[k])) {
			if (!lists[k])
				lists[k] = words_of(k, others[k]);
			return lists[k];
		}
	return NULL;
}
