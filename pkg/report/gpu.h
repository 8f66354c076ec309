/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gpu.h - the "gpu" section: display controllers and processing accelerators
 * (PCI base class 0x03 and 0x12) with their bound driver and its version, and
 * NVIDIA's own driver version and per-GPU video BIOS from /proc/driver/nvidia
 * where that driver is loaded. Versions join the fingerprint (component
 * "gpu"). docs/report/gpu.md documents every field and its source.
 */
#pragma once

#include "bundle.h"
#include "out.h"
#include "status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What NVML said about one device; every number -1 when NVML did not answer it (NOT_SUPPORTED, ...). */
struct np_gpu_nvml {
	bool read;                 /* a handle was found for the device's PCI address */
	char *vbios;
	int64_t ecc_volatile_uncorrected, ecc_aggregate_uncorrected;
	int64_t retired_pages_dbe; /* pages retired for double-bit errors (pre-Ampere page retirement) */
	int64_t retired_pending;   /* 1 when a retirement waits for the next reset */
	int64_t remap_pending, remap_failed; /* row remapping (Ampere+): pending a reset / failed ever */
	int64_t pcie_width, pcie_gen;        /* current link */
	int64_t throttle_reasons;  /* nvmlClocksThrottleReason* bit mask */
};

struct np_gpu_dev {
	char *address;              /* PCI function */
	uint32_t class_code;        /* 24-bit class */
	uint16_t vendor_id, device_id;
	char *driver;               /* bound driver, NULL when none */
	char *driver_version;       /* /sys/module/<driver>/version, NULL when the module has none */
	char *model;                /* NVIDIA: "Model:" of /proc/driver/nvidia/gpus/<addr>/information */
	char *vbios;                /* NVIDIA: "Video BIOS:" of the same file */
	int config_dead;            /* 1: config space's first dword reads all ones (the device stopped answering:
				     * fell off the bus), 0: it answers, -1: not read */
	struct np_gpu_nvml nvml;    /* NVIDIA functions on the live host with libnvidia-ml.so.1 only */
};

struct np_gpu {
	struct np_status status;
	char *nvidia_version;       /* the version in /proc/driver/nvidia/version's NVRM line, NULL without it */
	char *nvml;                 /* "absent", "loaded", "not tried" (a capture) or why loading failed */
	char *nvml_driver;          /* nvmlSystemGetDriverVersion(), NULL without NVML */
	struct np_gpu_dev *devs;
	size_t n;
};

void np_gpu_free(struct np_gpu *s);
/* docs/report/gpu.md. Caller owns the reference. */
json_t *np_gpu_to_json(const struct np_gpu *s);
void np_gpu_print(const struct np_gpu *s, struct np_out *o);
/* "gpu" items: "<driver> <vendor:device>" = driver version, "nvidia" = NVRM version, "vbios <model>" = video BIOS. */
int np_gpu_bundle(const struct np_gpu *s, struct np_bundle *b);
