// SPDX-License-Identifier: Apache-2.0
/*
 * gpu.c - display controllers and processing accelerators from
 * /sys/bus/pci/devices (class 0x03xxxx, 0x12xxxx; Documentation/ABI/testing/
 * sysfs-bus-pci), the bound driver's /sys/module/<driver>/version,
 * NVIDIA's /proc/driver/nvidia/version and gpus/<addr>/information, and
 * amdgpu's own attributes and RAS counters (gpu_vendor.c).
 */
#define _GNU_SOURCE
#include "gpu.h"
#include "nvml_dl.h"
#include "collector.h"
#include "facts.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <string.h>

int np_nvidia_version_parse(const char *buf, char **out)
{
	static const char lead[] = "NVRM version:";
	const char *p = strstr(buf, lead);
	if (!p || (p != buf && p[-1] != '\n'))
		return -EINVAL;
	const char *m = strstr(p, "Kernel Module");
	const char *eol = strchr(p, '\n');
	if (!m || (eol && m > eol))
		return -EINVAL;
	m += strlen("Kernel Module");
	while (*m == ' ' || *m == '\t')
		m++;
	size_t n = strcspn(m, " \t\n");
	if (!n || n > 64)
		return -EINVAL;
	*out = strndup(m, n);
	return *out ? 0 : -ENOMEM;
}

int np_nvidia_info_field(const char *buf, const char *key, char **out)
{
	size_t kl = strlen(key);
	for (const char *l = buf; l && *l;) {
		const char *e = strchr(l, '\n');
		size_t n = e ? (size_t)(e - l) : strlen(l);
		if (n > kl && strncmp(l, key, kl) == 0 && l[kl] == ':') {
			char *v = strndup(l + kl + 1, n - kl - 1);
			if (!v)
				return -ENOMEM;
			np_strip(v);
			*out = v;
			return 0;
		}
		l = e ? e + 1 : NULL;
	}
	return -ENOENT;
}

static int nvidia(struct np_facts *fx, const struct np_host *h, struct np_gpu *s)
{
	_cleanup_free_ char *buf = NULL;
	const char *data;
	int r = np_facts_read(fx, h, "/proc/driver/nvidia/version", 64 << 10, &buf, &data, NULL);
	if (r == -ENOENT)
		return 0; /* no NVIDIA driver */
	if (r >= 0)
		r = np_nvidia_version_parse(data, &s->nvidia_version);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		np_status_set(&s->status, r, "/proc/driver/nvidia/version: %s", r == -EINVAL ? "no NVRM version line"
												: np_errno_reason(-r));
	for (size_t i = 0; i < s->n; i++) {
		_cleanup_free_ char *info = NULL, *p = np_asprintf("/proc/driver/nvidia/gpus/%s/information",
								  s->devs[i].address);
		if (!p)
			return -ENOMEM;
		if (np_host_read(h, p, 64 << 10, &info, NULL) < 0)
			continue;
		if (np_nvidia_info_parse(info, &s->devs[i]) == -ENOMEM)
			return -ENOMEM;
	}
	return 0;
}

static int hex_attr(struct np_facts *fx, const struct np_host *h, const char *addr, const char *name, uint64_t max,
		    uint64_t *out)
{
	_cleanup_free_ char *v = NULL;
	int r = np_facts_attr(fx, h, &v, "/sys/bus/pci/devices/%s/%s", addr, name);
	if (r <= 0)
		return r < 0 ? r : -ENOENT;
	return np_parse_u64(v, out) < 0 || *out > max ? -EINVAL : 0;
}

int np_pci_config_dead(const uint8_t *buf, size_t len)
{
	if (len < 4)
		return -EINVAL;
	return buf[0] == 0xff && buf[1] == 0xff && buf[2] == 0xff && buf[3] == 0xff;
}

/* The device's config space liveness (first 64 bytes: readable without privilege). */
static int config_dead(const struct np_host *h, const char *addr, struct np_status *st)
{
	_cleanup_free_ char *path = np_asprintf("/sys/bus/pci/devices/%s/config", addr), *buf = NULL;
	size_t len = 0;
	if (!path)
		return -ENOMEM;
	int r = np_host_read(h, path, 4096, &buf, &len); /* 256 bytes unprivileged, 4096 as root */
	if (r == -ENOMEM)
		return r;
	int dead = r < 0 ? -1 : np_pci_config_dead((const uint8_t *)buf, len);
	if (dead < 0 && r != -ENOENT)
		np_status_set(st, r < 0 ? r : -EINVAL, "%s/config: %s", addr, r < 0 ? np_errno_reason(r) : "shorter than 4 bytes");
	return dead < 0 ? -1 : dead;
}

/*
 * Facts (facts.h): the PCI functions, their class, IDs and driver, the driver's module version, the
 * NVIDIA driver's version. Every cycle: the config space (a GPU fallen off the bus), NVML, the
 * vendor's health files.
 */
static int collect_gpu(const struct np_collect_ctx *ctx, struct np_report *rep)
{
	const struct np_host *h = ctx->host;
	struct np_gpu *s = &rep->gpu;
	struct np_facts *fx = np_facts_begin(np_collect_state(ctx, "gpu"), ctx);
	char **names = NULL;
	size_t n = 0;
	int r = np_facts_list(fx, h, "/sys/bus/pci/devices", &names, &n);
	if (r < 0)
		return (s->nvml = strdup("not tried")) ? r : -ENOMEM;
	s->devs = calloc(n ? n : 1, sizeof(*s->devs));
	if (!s->devs)
		r = -ENOMEM;
	for (size_t i = 0; r >= 0 && i < n; i++) {
		uint64_t cls, ven = 0, dev = 0;
		if (hex_attr(fx, h, names[i], "class", 0xffffff, &cls) < 0 || ((cls >> 16) != 0x03 && (cls >> 16) != 0x12))
			continue;
		/* a cached listing may name a function removed since (hot unplug, fallen off the bus and
		 * removed) before its uevent was seen: one gone from sysfs now is no GPU that answers */
		_cleanup_free_ char *dir = fx ? np_asprintf("/sys/bus/pci/devices/%s", names[i]) : NULL;
		if (fx && (!dir || !np_host_exists(h, dir))) {
			if (!dir)
				r = -ENOMEM;
			continue;
		}
		struct np_gpu_dev *d = &s->devs[s->n++];
		np_gpu_dev_init(d);
		d->class_code = (uint32_t)cls;
		if (hex_attr(fx, h, names[i], "vendor", 0xffff, &ven) < 0 || hex_attr(fx, h, names[i], "device", 0xffff, &dev) < 0)
			np_status_set(&s->status, -EINVAL, "%s: vendor or device id unreadable", names[i]);
		d->vendor_id = (uint16_t)ven;
		d->device_id = (uint16_t)dev;
		_cleanup_free_ char *link = np_asprintf("/sys/bus/pci/devices/%s/driver", names[i]);
		d->address = strdup(names[i]);
		if (!d->address || !link) {
			r = -ENOMEM;
			break;
		}
		if (np_facts_link_basename(fx, h, link, &d->driver) < 0)
			d->driver = NULL;
		d->config_dead = config_dead(h, names[i], &s->status);
		if (d->vendor_id == 0x10de && h->live) {
			if (!s->nvml) { /* the first NVIDIA function on the live host: load NVML, only now */
				np_nvml_open(NULL, &s->nvml);
				s->nvml_driver = np_nvml_driver_version();
			}
			(void)np_nvml_read_device(d->address, &d->nvml);
		}
		if (d->config_dead == -ENOMEM)
			r = -ENOMEM;
		if (d->driver && np_facts_attr(fx, h, &d->driver_version, "/sys/module/%s/version", d->driver) == -ENOMEM)
			r = -ENOMEM;
		if (r >= 0 && d->driver && streq(d->driver, "amdgpu"))
			r = np_gpu_amdgpu(h, d, &s->status);
	}
	np_strv_free(names);
	np_nvml_close();
	if (r >= 0 && !s->nvml && !(s->nvml = strdup(h->live ? "absent" : "not tried")))
		r = -ENOMEM;
	return r < 0 ? r : nvidia(fx, h, s);
}

NP_SECTION_STATEFUL(gpu, 32, 82, collect_gpu, NULL, np_facts_state_new, np_facts_state_reload, np_facts_state_free);
