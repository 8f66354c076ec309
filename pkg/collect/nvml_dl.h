/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvml_dl.h - NVIDIA's NVML, loaded with dlopen("libnvidia-ml.so.1") only
 * where the driver installed it (as libcurl is loaded: pkg/kube/curl_dl.c).
 * Nothing of it is linked; a node without the library reads "absent".
 * Entry points and constants: NVML API Reference (docs.nvidia.com/deploy/nvml-api),
 * nvml.h of the driver's SDK; the ABI types are restated here (no header needed).
 * Not yet run against a real GPU: docs/report/gpu.md marks every NVML field unproven.
 */
#pragma once

#include "../report/gpu.h"

/*
 * np_nvml_open() - load the library (@path NULL = "libnvidia-ml.so.1") and
 * call nvmlInit_v2(). Returns 0, -ENOENT when the library is absent (the
 * normal case without an NVIDIA GPU), -ENOSYS when an entry point is missing,
 * -EIO when nvmlInit_v2 fails; *@why (caller frees, may be NULL on -ENOMEM)
 * says which.
 */
int np_nvml_open(const char *path, char **why);

/* The driver version NVML reports (malloc'd) or NULL. */
char *np_nvml_driver_version(void);

/*
 * np_nvml_read_device() - fill @n for the device at PCI address @pci
 * ("0000:3b:00.0"). Returns 0 (n->read true), -ENODEV when NVML has no
 * handle for it, -ENOMEM. Fields NVML does not answer stay -1 / NULL.
 */
int np_nvml_read_device(const char *pci, struct np_gpu_nvml *n);

/* nvmlShutdown() and dlclose(); safe to call when not open. */
void np_nvml_close(void);
