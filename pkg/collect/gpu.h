/* SPDX-License-Identifier: Apache-2.0 */
/* gpu.h - the gpu collector's parsers, public for tests and fuzzing. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * np_pci_config_dead() - 1 when the first dword of a config space image
 * (@buf, @len bytes: /sys/bus/pci/devices/X/config) reads all ones, as a
 * read of a device that left the bus completes (a configuration request no
 * function answers returns all ones to software: PCI Local Bus / PCIe Base
 * Spec), 0 when not, -EINVAL when @len < 4.
 */
int np_pci_config_dead(const uint8_t *buf, size_t len);

#include "../report/gpu.h"

/*
 * np_nvidia_version_parse() - the driver version in /proc/driver/nvidia/version,
 * whose first line is "NVRM version: NVIDIA UNIX <arch> Kernel Module  <version>  <date>"
 * (the driver's nv-procfs.c). Returns 0 and a malloc'd version ("535.104.05"),
 * -EINVAL when the line is not there, -ENOMEM.
 */
int np_nvidia_version_parse(const char *buf, char **out);

/*
 * np_nvidia_info_field() - the value of "@key:" in /proc/driver/nvidia/gpus/<addr>/information
 * ("Model: \t\t Tesla P40", "Video BIOS: \t 86.02.23.00.01"), trimmed. Returns 0 and a malloc'd
 * value, -ENOENT, -ENOMEM.
 */
int np_nvidia_info_field(const char *buf, const char *key, char **out);

/* np_gpu_dev_init() - a device with every optional field unknown (NULL, -1). */
void np_gpu_dev_init(struct np_gpu_dev *d);

/*
 * np_nvidia_info_parse() - the fields of /proc/driver/nvidia/gpus/<addr>/information
 * ("Key: \t value" lines, the NVIDIA kernel module's nv-procfs.c) into @d: model, vbios, uuid,
 * bus_type, bus_location (strings up to 128 bytes, replacing what @d held), irq, device_minor
 * (decimal) and excluded ("GPU Excluded: Yes|No", drivers from about R470 on). A key that is
 * absent or garbled leaves its field NULL / -1. Returns 0 or -ENOMEM.
 */
int np_nvidia_info_parse(const char *buf, struct np_gpu_dev *d);

/*
 * np_amdgpu_ras_parse() - an amdgpu ras/<block>_err_count file: "ue: N\nce: N\n", and "de: N\n"
 * on kernels that count deferred errors (amdgpu_ras.c amdgpu_ras_sysfs_read()). Returns 0 with
 * the counts (*@de -1 when absent), -EAGAIN for the driver's "Query currently inaccessible" (a GPU
 * reset is under way), -EINVAL for anything else (every count -1 then).
 */
int np_amdgpu_ras_parse(const char *buf, int64_t *ue, int64_t *ce, int64_t *de);

struct np_host;
/*
 * np_gpu_amdgpu() - @d's amdgpu sysfs attributes under /sys/bus/pci/devices/<address>/ through
 * @h: vbios_version (into d->vbios when it is unset), mem_info_vram_total / _used (bytes),
 * gpu_busy_percent (not read while power/runtime_status says the GPU is suspended: reading it
 * would resume the GPU), and each ras/<block>_err_count. A RAS file that cannot be read or
 * parsed is recorded in @st (its counts stay -1). Returns 0 or -ENOMEM.
 */
int np_gpu_amdgpu(const struct np_host *h, struct np_gpu_dev *d, struct np_status *st);
