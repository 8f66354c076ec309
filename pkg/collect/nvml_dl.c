// SPDX-License-Identifier: Apache-2.0
/* nvml_dl.c - the NVML entry points nodeprint reads, forwarded to a library loaded with dlopen(3). */
#define _GNU_SOURCE
#include "nvml_dl.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define LIBNVML "libnvidia-ml.so.1"

/* NVML ABI (nvml.h): nvmlReturn_t is an int enum, 0 = NVML_SUCCESS; nvmlDevice_t an opaque pointer. */
typedef int nvml_ret;
typedef struct nvml_device *nvml_dev;
enum {
	NVML_SUCCESS = 0,
	NVML_MEMORY_ERROR_TYPE_UNCORRECTED = 1, /* nvmlMemoryErrorType_t */
	NVML_VOLATILE_ECC = 0,                  /* nvmlEccCounterType_t */
	NVML_AGGREGATE_ECC = 1,
	NVML_PAGE_RETIREMENT_CAUSE_DOUBLE_BIT_ECC_ERROR = 1, /* nvmlPageRetirementCause_t */
	NVML_STRING_BUFFER = 96,                /* >= NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE (80), VBIOS (32) */
};

static struct {
	nvml_ret (*init)(void);
	nvml_ret (*shutdown)(void);
	const char *(*error_string)(nvml_ret);
	nvml_ret (*driver_version)(char *, unsigned);
	nvml_ret (*by_pci)(const char *, nvml_dev *);
	nvml_ret (*vbios)(nvml_dev, char *, unsigned);
	nvml_ret (*ecc)(nvml_dev, int, int, unsigned long long *);
	nvml_ret (*retired)(nvml_dev, int, unsigned *, unsigned long long *);
	nvml_ret (*retired_pending)(nvml_dev, int *);
	nvml_ret (*remapped)(nvml_dev, unsigned *, unsigned *, unsigned *, unsigned *);
	nvml_ret (*width)(nvml_dev, unsigned *);
	nvml_ret (*gen)(nvml_dev, unsigned *);
	nvml_ret (*throttle)(nvml_dev, unsigned long long *);
	void *lib;
} fn;

int np_nvml_open(const char *path, char **why)
{
	*why = NULL;
	if (fn.lib)
		return 0;
	void *lib = dlopen(path ? path : LIBNVML, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		*why = strdup("absent");
		return -ENOENT;
	}
	struct {
		void **slot;
		const char *name;
	} syms[] = {
		{ (void **)&fn.init, "nvmlInit_v2" },
		{ (void **)&fn.shutdown, "nvmlShutdown" },
		{ (void **)&fn.error_string, "nvmlErrorString" },
		{ (void **)&fn.driver_version, "nvmlSystemGetDriverVersion" },
		{ (void **)&fn.by_pci, "nvmlDeviceGetHandleByPciBusId_v2" },
		{ (void **)&fn.vbios, "nvmlDeviceGetVbiosVersion" },
		{ (void **)&fn.ecc, "nvmlDeviceGetTotalEccErrors" },
		{ (void **)&fn.retired, "nvmlDeviceGetRetiredPages" },
		{ (void **)&fn.retired_pending, "nvmlDeviceGetRetiredPagesPendingStatus" },
		{ (void **)&fn.remapped, "nvmlDeviceGetRemappedRows" },
		{ (void **)&fn.width, "nvmlDeviceGetCurrPcieLinkWidth" },
		{ (void **)&fn.gen, "nvmlDeviceGetCurrPcieLinkGeneration" },
		{ (void **)&fn.throttle, "nvmlDeviceGetCurrentClocksThrottleReasons" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(syms); i++) {
		*syms[i].slot = dlsym(lib, syms[i].name);
		if (!*syms[i].slot) {
			dlclose(lib);
			*why = np_asprintf("%s has no %s", LIBNVML, syms[i].name);
			return -ENOSYS;
		}
	}
	nvml_ret r = fn.init();
	if (r != NVML_SUCCESS) {
		*why = np_asprintf("nvmlInit_v2: %s", fn.error_string(r));
		dlclose(lib);
		return -EIO;
	}
	fn.lib = lib;
	*why = strdup("loaded");
	return 0;
}

char *np_nvml_driver_version(void)
{
	char buf[NVML_STRING_BUFFER] = "";
	if (!fn.lib || fn.driver_version(buf, sizeof(buf)) != NVML_SUCCESS || !buf[0])
		return NULL;
	return strndup(buf, sizeof(buf));
}

int np_nvml_read_device(const char *pci, struct np_gpu_nvml *n)
{
	*n = (struct np_gpu_nvml){ .ecc_volatile_uncorrected = -1, .ecc_aggregate_uncorrected = -1,
				   .retired_pages_dbe = -1, .retired_pending = -1, .remap_pending = -1,
				   .remap_failed = -1, .pcie_width = -1, .pcie_gen = -1, .throttle_reasons = -1 };
	nvml_dev d;
	if (!fn.lib || fn.by_pci(pci, &d) != NVML_SUCCESS)
		return -ENODEV;
	n->read = true;
	char buf[NVML_STRING_BUFFER] = "";
	if (fn.vbios(d, buf, sizeof(buf)) == NVML_SUCCESS && buf[0] && !(n->vbios = strndup(buf, sizeof(buf))))
		return -ENOMEM;
	unsigned long long v;
	if (fn.ecc(d, NVML_MEMORY_ERROR_TYPE_UNCORRECTED, NVML_VOLATILE_ECC, &v) == NVML_SUCCESS)
		n->ecc_volatile_uncorrected = (int64_t)v;
	if (fn.ecc(d, NVML_MEMORY_ERROR_TYPE_UNCORRECTED, NVML_AGGREGATE_ECC, &v) == NVML_SUCCESS)
		n->ecc_aggregate_uncorrected = (int64_t)v;
	unsigned count = 0; /* addresses NULL with count 0: NVML returns the count (NVML_ERROR_INSUFFICIENT_SIZE when pages exist) */
	nvml_ret r = fn.retired(d, NVML_PAGE_RETIREMENT_CAUSE_DOUBLE_BIT_ECC_ERROR, &count, NULL);
	if (r == NVML_SUCCESS || r == 7 /* NVML_ERROR_INSUFFICIENT_SIZE */)
		n->retired_pages_dbe = count;
	int pending;
	if (fn.retired_pending(d, &pending) == NVML_SUCCESS)
		n->retired_pending = pending != 0;
	unsigned corr, unc, pend, fail;
	if (fn.remapped(d, &corr, &unc, &pend, &fail) == NVML_SUCCESS) {
		n->remap_pending = pend != 0;
		n->remap_failed = fail != 0;
	}
	unsigned u;
	if (fn.width(d, &u) == NVML_SUCCESS)
		n->pcie_width = u;
	if (fn.gen(d, &u) == NVML_SUCCESS)
		n->pcie_gen = u;
	if (fn.throttle(d, &v) == NVML_SUCCESS)
		n->throttle_reasons = (int64_t)v;
	return 0;
}

void np_nvml_close(void)
{
	if (!fn.lib)
		return;
	fn.shutdown();
	dlclose(fn.lib);
	fn.lib = NULL;
}
