/* SPDX-License-Identifier: Apache-2.0 */
/* gpu.h - the gpu collector's parsers, public for tests and fuzzing. */
#pragma once

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
