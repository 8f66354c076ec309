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

#include <stddef.h>
#include <stdint.h>

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
};

struct np_gpu {
	struct np_status status;
	char *nvidia_version;       /* the version in /proc/driver/nvidia/version's NVRM line, NULL without it */
	struct np_gpu_dev *devs;
	size_t n;
};

void np_gpu_free(struct np_gpu *s);
/* docs/report/gpu.md. Caller owns the reference. */
json_t *np_gpu_to_json(const struct np_gpu *s);
void np_gpu_print(const struct np_gpu *s, struct np_out *o);
/* "gpu" items: "<driver> <vendor:device>" = driver version, "nvidia" = NVRM version, "vbios <model>" = video BIOS. */
int np_gpu_bundle(const struct np_gpu *s, struct np_bundle *b);
