/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gpu.h - the "gpu" section: display controllers and processing accelerators
 * (PCI base class 0x03 and 0x12) with their bound driver and its version, and
 * NVIDIA's own driver version and per-GPU video BIOS from /proc/driver/nvidia
 * where that driver is loaded. Versions join the fingerprint (component
 * "gpu"). docs/report/gpu.md documents every field and its source.
 */
#ifndef NP_REPORT_GPU_H
#define NP_REPORT_GPU_H

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

/* One amdgpu RAS block's error counts (ras/<block>_err_count); -1 when the file did not give it. */
struct np_gpu_ras {
	char *block;                /* "umc", "gfx", "sdma", "mmhub", ... */
	int64_t ue, ce, de;         /* uncorrectable, correctable, deferred (de: newer kernels only) */
};

struct np_gpu_dev {
	char *address;              /* PCI function */
	uint32_t class_code;        /* 24-bit class */
	uint16_t vendor_id, device_id;
	char *driver;               /* bound driver, NULL when none */
	char *driver_version;       /* /sys/module/<driver>/version, NULL when the module has none */
	char *model;                /* NVIDIA: "Model:" of /proc/driver/nvidia/gpus/<addr>/information */
	char *vbios;                /* NVIDIA: "Video BIOS:" of the same file; amdgpu: vbios_version */
	/* NVIDIA's information file, each NULL / -1 when it does not say */
	char *uuid;                 /* "GPU UUID:" */
	char *bus_type;             /* "Bus Type:" (PCIe) */
	char *bus_location;         /* "Bus Location:" (the PCI address the driver uses) */
	int64_t irq;                /* "IRQ:" */
	int64_t device_minor;       /* "Device Minor:" (/dev/nvidiaN) */
	int excluded;               /* "GPU Excluded:" Yes 1, No 0, -1 absent (older drivers) */
	/* amdgpu's sysfs attributes, -1 when absent or unreadable */
	int64_t vram_total_bytes, vram_used_bytes; /* mem_info_vram_total, mem_info_vram_used */
	int64_t busy_percent;       /* gpu_busy_percent; not read while the GPU is runtime-suspended */
	struct np_gpu_ras *ras;     /* ras/<block>_err_count, in the folder's order */
	size_t n_ras;
	bool ras_read;              /* the ras/ folder was listed (RAS-capable GPU) */
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
/*
 * np_gpu_uncorrectable() - the uncorrectable errors @d's driver counts since it loaded: the sum of
 * its amdgpu RAS blocks' "ue" and NVML's volatile uncorrected ECC count, or -1 when it reports none.
 */
int64_t np_gpu_uncorrectable(const struct np_gpu_dev *d);
/* docs/report/gpu.md. Caller owns the reference. */
json_t *np_gpu_to_json(const struct np_gpu *s);
void np_gpu_print(const struct np_gpu *s, struct np_out *o);
/* "gpu" items: "<driver> <vendor:device>" = driver version, "nvidia" = NVRM version, "vbios <model>" = video BIOS. */
int np_gpu_bundle(const struct np_gpu *s, struct np_bundle *b);

#endif /* NP_REPORT_GPU_H */

/* Its member of struct np_report: report.h reads this header a second time for it (sections.h). */
#ifdef NP_REPORT_MEMBER
NP_REPORT_MEMBER(gpu)
#endif
