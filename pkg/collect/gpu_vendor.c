// SPDX-License-Identifier: Apache-2.0
/*
 * gpu_vendor.c - what a GPU's own kernel driver says of it, without a vendor daemon:
 * NVIDIA's /proc/driver/nvidia/gpus/<addr>/information (the driver's nv-procfs.c) and
 * amdgpu's sysfs attributes (vbios_version, mem_info_vram_total/used, gpu_busy_percent,
 * ras/<block>_err_count: Documentation/gpu/amdgpu/driver-misc.rst, ras.rst, and
 * drivers/gpu/drm/amd/amdgpu/amdgpu_ras.c amdgpu_ras_sysfs_read()).
 */
#define _GNU_SOURCE
#include "gpu.h"
#include "../shared/macro.h"
#include "../shared/hostfs.h"
#include "../shared/strutil.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void np_gpu_dev_init(struct np_gpu_dev *d)
{
	*d = (struct np_gpu_dev){ .config_dead = -1, .irq = -1, .device_minor = -1, .excluded = -1,
				  .vram_total_bytes = -1, .vram_used_bytes = -1, .busy_percent = -1 };
}

/* A decimal number of the information file ("IRQ: \t\t 16"), or -1. */
static int64_t info_num(const char *buf, const char *key)
{
	_cleanup_free_ char *v = NULL;
	uint64_t n;
	if (np_nvidia_info_field(buf, key, &v) < 0 || np_parse_u64(v, &n) < 0 || n > INT64_MAX)
		return -1;
	return (int64_t)n;
}

int np_nvidia_info_parse(const char *buf, struct np_gpu_dev *d)
{
	static const struct {
		const char *key;
		size_t off;
	} strs[] = {
		{ "Model", offsetof(struct np_gpu_dev, model) },
		{ "Video BIOS", offsetof(struct np_gpu_dev, vbios) },
		{ "GPU UUID", offsetof(struct np_gpu_dev, uuid) },
		{ "Bus Type", offsetof(struct np_gpu_dev, bus_type) },
		{ "Bus Location", offsetof(struct np_gpu_dev, bus_location) },
	};
	for (size_t i = 0; i < ARRAY_SIZE(strs); i++) {
		char **dst = (char **)((char *)d + strs[i].off);
		char *v = NULL;
		int r = np_nvidia_info_field(buf, strs[i].key, &v);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			continue;
		if (!*v || strlen(v) > 128) { /* an empty or runaway value is no value */
			free(v);
			continue;
		}
		free(*dst);
		*dst = v;
	}
	d->irq = info_num(buf, "IRQ");
	d->device_minor = info_num(buf, "Device Minor");
	_cleanup_free_ char *ex = NULL;
	int r = np_nvidia_info_field(buf, "GPU Excluded", &ex);
	if (r == -ENOMEM)
		return r;
	d->excluded = r < 0 ? -1 : streq(ex, "Yes") ? 1 : streq(ex, "No") ? 0 : -1;
	return 0;
}

int np_amdgpu_ras_parse(const char *buf, int64_t *ue, int64_t *ce, int64_t *de)
{
	int64_t v[3] = { -1, -1, -1 }; /* ue, ce, de */
	*ue = *ce = *de = -1;
	if (strncmp(buf, "Query currently inaccessible", 28) == 0)
		return -EAGAIN;
	for (const char *l = buf; *l;) {
		const char *e = strchr(l, '\n');
		size_t n = e ? (size_t)(e - l) : strlen(l);
		char line[64];
		if (n >= sizeof(line) || n < 5 || l[2] != ':' || l[3] != ' ')
			return -EINVAL;
		memcpy(line, l, n);
		line[n] = '\0';
		int k = !strncmp(line, "ue", 2) ? 0 : !strncmp(line, "ce", 2) ? 1 : !strncmp(line, "de", 2) ? 2 : -1;
		uint64_t x;
		if (k < 0 || v[k] >= 0 || np_parse_u64(line + 4, &x) < 0 || x > INT64_MAX)
			return -EINVAL;
		v[k] = (int64_t)x;
		l = e ? e + 1 : l + n;
	}
	if (v[0] < 0 || v[1] < 0)
		return -EINVAL;
	*ue = v[0];
	*ce = v[1];
	*de = v[2];
	return 0;
}

/* A decimal sysfs attribute of the device, or -1 (absent, unreadable, not a number). */
static int64_t dev_num(const struct np_host *h, const char *addr, const char *name, int *err)
{
	_cleanup_free_ char *v = NULL;
	uint64_t n;
	int r = np_host_attr(h, &v, "/sys/bus/pci/devices/%s/%s", addr, name);
	if (r == -ENOMEM)
		*err = r;
	if (r <= 0 || np_parse_u64(v, &n) < 0 || n > INT64_MAX)
		return -1;
	return (int64_t)n;
}

/* ras/<block>_err_count of @d (the folder exists only on RAS-capable GPUs). */
static int amdgpu_ras(const struct np_host *h, struct np_gpu_dev *d, struct np_status *st)
{
	_cleanup_free_ char *dir = np_asprintf("/sys/bus/pci/devices/%s/ras", d->address);
	char **names = NULL;
	size_t n = 0;
	if (!dir)
		return -ENOMEM;
	int r = np_host_list(h, dir, &names, &n);
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		np_status_set(st, r, "%s/ras: %s", d->address, np_errno_reason(r));
		return r == -ENOMEM ? r : 0;
	}
	d->ras_read = true;
	r = 0;
	for (size_t i = 0; r >= 0 && i < n; i++) {
		size_t len = strlen(names[i]);
		if (len <= 10 || len > 64 || strcmp(names[i] + len - 10, "_err_count"))
			continue;
		struct np_gpu_ras *x = realloc(d->ras, (d->n_ras + 1) * sizeof(*x));
		if (!x) {
			r = -ENOMEM;
			break;
		}
		d->ras = x;
		x = &d->ras[d->n_ras];
		*x = (struct np_gpu_ras){ .block = strndup(names[i], len - 10), .ue = -1, .ce = -1, .de = -1 };
		if (!x->block) {
			r = -ENOMEM;
			break;
		}
		d->n_ras++;
		_cleanup_free_ char *p = np_asprintf("%s/%s", dir, names[i]), *buf = NULL;
		int rr = p ? np_host_read(h, p, 4096, &buf, NULL) : -ENOMEM;
		if (rr >= 0)
			rr = np_amdgpu_ras_parse(buf, &x->ue, &x->ce, &x->de);
		if (rr == -ENOMEM)
			r = rr;
		else if (rr < 0) /* Blind is never healthy: an unreadable block says so */
			np_status_set(st, rr, "%s/ras/%s: %s", d->address, names[i],
				      rr == -EAGAIN ? "query currently inaccessible (GPU reset)" : np_errno_reason(rr));
	}
	np_strv_free(names);
	return r;
}

int np_gpu_amdgpu(const struct np_host *h, struct np_gpu_dev *d, struct np_status *st)
{
	int err = 0;
	if (!d->vbios && np_host_attr(h, &d->vbios, "/sys/bus/pci/devices/%s/vbios_version", d->address) == -ENOMEM)
		return -ENOMEM;
	d->vram_total_bytes = dev_num(h, d->address, "mem_info_vram_total", &err);
	d->vram_used_bytes = dev_num(h, d->address, "mem_info_vram_used", &err);
	/* gpu_busy_percent resumes a runtime-suspended GPU (amdgpu_pm.c, pm_runtime_get_sync): not asked then */
	_cleanup_free_ char *pm = NULL;
	if (np_host_attr(h, &pm, "/sys/bus/pci/devices/%s/power/runtime_status", d->address) == -ENOMEM)
		return -ENOMEM;
	if (!pm || (strncmp(pm, "suspend", 7) && strncmp(pm, "resum", 5)))
		d->busy_percent = dev_num(h, d->address, "gpu_busy_percent", &err);
	if (d->busy_percent > 100)
		d->busy_percent = -1;
	if (err)
		return err;
	return amdgpu_ras(h, d, st);
}
