/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vocab.h - nodeprint's words on the Node, in one place: finding ids (also the
 * last part of taint keys, <labelPrefix>/<finding>), the reasons a finding
 * gives its condition, condition types, Event reasons and the default action
 * of each finding. The health rules (health_<key>.c), desired.c, blind.c, the agent and the default
 * policy use these names; tests/unit/test_vocab.c checks docs/reference.md and
 * the default policy against the table.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* finding ids */
#define NP_FINDING_FIRMWARE_UNPINNED "firmware-unpinned"
#define NP_FINDING_NVME_CRITICAL "nvme-critical"
#define NP_FINDING_MULTIPATH_DEGRADED "multipath-degraded"
#define NP_FINDING_PATH_FLAPPING "path-flapping"
#define NP_FINDING_PCIE_ERRORS "pcie-errors"
#define NP_FINDING_LINK_DOWNGRADED "link-downgraded"
#define NP_FINDING_VOLUME_STALL "volume-stall"
#define NP_FINDING_OFFLOAD_MISMATCH "offload-mismatch"
#define NP_FINDING_NIC_DROPS "nic-drops"
#define NP_FINDING_IRQ_SKEW "irq-skew"
#define NP_FINDING_TIMEOUT_CHAIN "timeout-chain"
#define NP_FINDING_NUMA_REMOTE_IRQ "numa-remote-irq"
#define NP_FINDING_GPU_FAULT "gpu-fault"           /* a GPU log series of class node-reboot or hardware */
#define NP_FINDING_GPU_RESET_REQUIRED "gpu-reset-required" /* ... of class gpu-reset */
#define NP_FINDING_GPU_MISSING "gpu-missing"       /* an expected GPU absent from the bus or not answering */
#define NP_FINDING_RDMA_PORT_DOWN "rdma-port-down" /* an RDMA port not ACTIVE while its link is wanted */
#define NP_FINDING_GPU_UNCORRECTABLE "gpu-uncorrectable" /* a GPU's driver counts uncorrectable errors (RAS, ECC) */
#define NP_FINDING_SOURCE_UNREADABLE "source-unreadable" /* not a policy action: always on (blind.h) */

/* condition types */
#define NP_COND_BUNDLE_PINNED "BundlePinned"
#define NP_COND_NVME_HEALTHY "NVMeHealthy"
#define NP_COND_MULTIPATH_HEALTHY "MultipathHealthy"
#define NP_COND_PCIE_HEALTHY "PCIeHealthy"
#define NP_COND_VOLUME_PATHS_HEALTHY "VolumePathsHealthy"
#define NP_COND_OFFLOADS_COMPLIANT "OffloadsCompliant"
#define NP_COND_NIC_HEALTHY "NICHealthy"
#define NP_COND_STORAGE_TIMEOUTS "StorageTimeoutsConsistent"
#define NP_COND_NUMA_LOCAL "NUMALocal"
#define NP_COND_ACCELERATORS_HEALTHY "AcceleratorsHealthy"
#define NP_COND_RDMA_HEALTHY "RDMAHealthy"
/* set by `baseline compare` verdicts, no finding; True is the bad state (docs/baseline.md) */
#define NP_COND_BUNDLE_REGRESSION "BundleRegression"

/* reasons a finding gives its condition (False) */
#define NP_REASON_DRIFT "Drift"
#define NP_REASON_UNPINNED "Unpinned"
#define NP_REASON_CRITICAL_WARNING "CriticalWarning"
#define NP_REASON_SPARE_BELOW_THRESHOLD "SpareBelowThreshold"
#define NP_REASON_WEAR_OUT "WearOut"
#define NP_REASON_MEDIA_ERRORS "MediaErrors"
#define NP_REASON_ERROR_LOG_GROWTH "ErrorLogGrowth"
#define NP_REASON_PATH_FAILED "PathFailed"
#define NP_REASON_PATH_FLAPPING "PathFlapping"
#define NP_REASON_AER_UNCORRECTABLE "AERUncorrectable"
#define NP_REASON_AER_CORRECTABLE_RATE "AERCorrectableRate"
#define NP_REASON_LINK_DOWNGRADED "LinkDowngraded"
#define NP_REASON_STALLED "Stalled"
#define NP_REASON_OFFLOAD_MISMATCH "OffloadMismatch"
#define NP_REASON_DROPS "Drops"
#define NP_REASON_IRQ_SKEW "IRQSkew"
#define NP_REASON_UNBOUNDED_QUEUEING "UnboundedQueueing"
#define NP_REASON_QUEUEING_OVER_APP "QueueingOverAppTimeout"
#define NP_REASON_FAST_IO_FAIL_NOT_BELOW_LOSS "FastIOFailNotBelowLoss"
#define NP_REASON_FAILOVER_OVER_DEVICE_TIMEOUT "FailoverOverDeviceTimeout"
#define NP_REASON_REMOTE_IRQS "RemoteIRQs"
#define NP_REASON_NODE_REBOOT_REQUIRED "NodeRebootRequired"
#define NP_REASON_GPU_HARDWARE_FAULT "GPUHardwareFault"
#define NP_REASON_GPU_RESET_REQUIRED "GPUResetRequired"
#define NP_REASON_GPU_MISSING "GPUMissing"
#define NP_REASON_GPU_NOT_RESPONDING "GPUNotResponding"
#define NP_REASON_PORT_DOWN "PortDown"               /* RoCE: not ACTIVE while its netdev is up */
#define NP_REASON_NO_SUBNET_MANAGER "NoSubnetManager" /* InfiniBand: LinkUp but not ACTIVE */
#define NP_REASON_GPU_UNCORRECTABLE "GPUUncorrectableErrors"
/* reasons of a condition without a finding */
#define NP_REASON_ALL_CHECKS_PASSED "AllChecksPassed"
#define NP_REASON_NO_PINS "NoPins"
#define NP_REASON_NO_CLASS "NoClass"
/* BundleRegression's reasons (pkg/policy/verdict.c) */
#define NP_REASON_REGRESSED "Regressed"
#define NP_REASON_WITHIN_BASELINE "WithinBaseline"
#define NP_REASON_NOISY "Noisy"
#define NP_REASON_NO_BASELINE "NoBaseline"

/* Event reasons that are no finding's action */
#define NP_EVENT_PATH_FAILED "PathFailed"         /* the kernel logged Failing path (at once, from /dev/kmsg) */
#define NP_EVENT_PATH_REINSTATED "PathReinstated" /* ... Reinstating path */
#define NP_EVENT_VOLUME_PATH_STALL "VolumePathStall" /* on the PV, claim and Pod of a stalled device */
#define NP_EVENT_TAINT_REFUSED "TaintRefused"     /* the safety valve refused a taint */
#define NP_EVENT_TAINT_OBSERVED "TaintObserved"   /* observe mode held a taint back */
#define NP_EVENT_TAINT_DISABLED "TaintDisabled"   /* the Node's opt-out label held a hard taint back */
#define NP_EVENT_SOURCE_UNREADABLE "SourceUnreadable"
#define NP_EVENT_BUNDLE_REGRESSION "BundleRegression" /* a new compare verdict: regressed (Warning) */
#define NP_EVENT_BUNDLE_VERDICT "BundleVerdict"       /* ... any other verdict (Normal) */

/* A finding: its id, the reasons it gives, and its default action (the built-in policy). */
struct np_vocab_finding {
	const char *id;
	const char *const *reasons;   /* NULL-terminated */
	const char *condition;        /* default condition type */
	const char *taint;            /* default taint effect: NoSchedule, PreferNoSchedule, none */
	const char *event;            /* default Event reason */
	/*
	 * The sources (report sections registered with NP_SECTION_SOURCE()) it
	 * reads, NULL-terminated: when one is down its condition is Unknown,
	 * never True (blind.h), and a partial report judges it only when every
	 * one was read. The rows' order is the order in which a source's
	 * conditions turn Unknown and are named in the SourceUnreadable message.
	 */
	const char *const *sources;
};

/* The policy's findings (source-unreadable excluded: it is no action). *@n gets the count. Static. */
const struct np_vocab_finding *np_vocab_findings(size_t *n);
/* The finding @id, or NULL. */
const struct np_vocab_finding *np_vocab_finding(const char *id);
/* True when finding @f (may be NULL) reads source @source (a section name). */
bool np_vocab_reads(const struct np_vocab_finding *f, const char *source);

/*
 * Every word of the vocabulary, by kind: NULL-terminated lists, made once
 * (not thread-safe at the first call; NULL on ENOMEM or an unknown kind).
 * "condition": the condition types (the rows' and BundleRegression);
 * "reason": every condition reason (the rows' and AllChecksPassed, NoPins,
 * NoClass and BundleRegression's); "event": every Event reason (the rows'
 * default events and the others above). A finding's words are its row's only.
 */
const char *const *np_vocab_words(const char *kind);
