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
