// SPDX-License-Identifier: Apache-2.0
/*
 * virt.c - steal time per CPU (/proc/stat cpuN lines, 8th column; proc(5)),
 * sampled twice with --interval, and the virtio devices
 * (/sys/bus/virtio/devices/virtioN/{device,vendor,features,driver};
 * drivers/virtio/virtio.c), under the host root.
 */
#define _GNU_SOURCE
#include "virt.h"
#include "collector.h"
#include "facts.h"
#include "interrupts.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <string.h>
#include <time.h>

int np_virtio_features_parse(const char *s, char ***bits, size_t *n)
{
	size_t len = strlen(s);
	*bits = NULL;
	*n = 0;
	while (len && (s[len - 1] == '\n' || s[len - 1] == ' '))
		len--;
	if (!len || len > 128)
		return -EINVAL;
	for (size_t i = 0; i < len; i++)
		if (s[i] != '0' && s[i] != '1')
			return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '1')
			continue;
		char num[8];
		snprintf(num, sizeof(num), "%zu", i);
		if (np_strv_push(bits, n, num) < 0) {
			np_strv_free(*bits);
			*bits = NULL;
			*n = 0;
			return -ENOMEM;
		}
	}
	return 0;
}

const char *np_virtio_type(unsigned id)
{
	static const char *const types[] = {
		[1] = "net",	  [2] = "block", [3] = "console", [4] = "rng",	 [5] = "balloon", [8] = "scsi",
		[9] = "9p",	  [16] = "gpu",	 [18] = "input",   [19] = "vsock", [20] = "crypto",  [23] = "iommu",
		[24] = "mem",	  [25] = "sound", [26] = "fs",	   [27] = "pmem",
	};
	return id < ARRAY_SIZE(types) ? types[id] : NULL;
}

static int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* /proc/stat, read once per collection pass (net reads it too); the second sample reads it again. */
static int read_cpus(const struct np_collect_ctx *ctx, struct np_cpu_sample **out, size_t *n)
{
	_cleanup_free_ char *own = NULL;
	const char *buf;
	size_t len = 0;
	int r = np_collect_read(ctx, "/proc/stat", 0, &own, &buf, &len);
	return r < 0 ? r : np_parse_stat_cpus(buf, len, out, n);
}

static int hex_attr(struct np_facts *fx, const struct np_host *h, const char *dev, const char *name, unsigned *out)
{
	_cleanup_free_ char *v = NULL;
	uint64_t x;
	int r = np_facts_attr(fx, h, &v, "/sys/bus/virtio/devices/%s/%s", dev, name);
	if (r <= 0)
		return r < 0 ? r : -ENOENT;
	r = np_parse_u64(v, &x); /* device_show(), vendor_show(): "0x%04x" */
	if (r < 0 || x > 0xffffffffu)
		return -EINVAL;
	*out = (unsigned)x;
	return 0;
}

/* The virtio devices, their IDs, drivers and features are facts (facts.h); the steal time is not. */
static int collect_virtio(struct np_facts *fx, const struct np_host *h, struct np_virt *s)
{
	char **names = NULL;
	size_t n = 0;
	if (np_facts_list(fx, h, "/sys/bus/virtio/devices", &names, &n) < 0)
		return 0; /* no virtio bus: not a virtio guest */
	s->virtio = calloc(n ? n : 1, sizeof(*s->virtio));
	int r = s->virtio ? 0 : -ENOMEM;
	for (size_t i = 0; r >= 0 && i < n; i++) {
		struct np_virtio_dev *d = &s->virtio[s->n_virtio++];
		_cleanup_free_ char *feat = NULL, *link = np_asprintf("/sys/bus/virtio/devices/%s/driver", names[i]);
		d->name = strdup(names[i]);
		if (!d->name || !link) {
			r = -ENOMEM;
			break;
		}
		int k = hex_attr(fx, h, names[i], "device", &d->device_id);
		if (k >= 0)
			k = hex_attr(fx, h, names[i], "vendor", &d->vendor_id);
		if (k >= 0 && np_virtio_type(d->device_id) && !(d->type = strdup(np_virtio_type(d->device_id))))
			k = -ENOMEM;
		if (np_facts_link_basename(fx, h, link, &d->driver) < 0)
			d->driver = NULL;
		if (k >= 0 && (k = np_facts_attr(fx, h, &feat, "/sys/bus/virtio/devices/%s/features", names[i])) > 0)
			k = np_virtio_features_parse(feat, &d->features, &d->n_features);
		if (k == -ENOMEM)
			r = k;
		else if (k < 0)
			np_status_set(&s->status, k, "%s: device, vendor or features not understood", names[i]);
	}
	np_strv_free(names);
	return r;
}

static int collect_virt(const struct np_collect_ctx *ctx, struct np_report *rep)
{
	struct np_virt *s = &rep->virt;
	_cleanup_free_ struct np_cpu_sample *c = NULL;
	size_t n = 0;
	int r = read_cpus(ctx, &c, &n);
	s->first_us = mono_us();
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		np_status_set(&s->status, r, "/proc/stat: %s", r == -EINVAL ? "no cpuN line understood" : np_errno_reason(-r));
	s->cpus = calloc(n ? n : 1, sizeof(*s->cpus));
	if (!s->cpus)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		s->cpus[s->n_cpus++] = (struct np_virt_cpu){ .cpu = c[i].cpu, .steal_ticks = c[i].steal,
							     .total_ticks = c[i].total, .steal_percent = -1,
							     .first_steal = c[i].steal, .first_total = c[i].total };
	return collect_virtio(np_facts_begin(np_collect_state(ctx, "virt"), ctx), ctx->host, s);
}

static int resample_virt(const struct np_collect_ctx *ctx, struct np_report *rep)
{
	struct np_virt *s = &rep->virt;
	_cleanup_free_ struct np_cpu_sample *c = NULL;
	size_t n = 0;
	if (s->status.err || read_cpus(ctx, &c, &n) < 0)
		return 0;
	s->interval_s = (double)(mono_us() - s->first_us) / 1e6;
	s->has_rates = true;
	for (size_t i = 0; i < s->n_cpus; i++) {
		struct np_virt_cpu *v = &s->cpus[i];
		for (size_t k = 0; k < n; k++) {
			if (c[k].cpu != v->cpu)
				continue;
			v->steal_ticks = c[k].steal;
			v->total_ticks = c[k].total;
			if (c[k].total > v->first_total && c[k].steal >= v->first_steal)
				v->steal_percent = 100.0 * (double)(c[k].steal - v->first_steal) /
						   (double)(c[k].total - v->first_total);
		}
	}
	return 0;
}

NP_SECTION_STATEFUL(virt, 44, 34, collect_virt, resample_virt, np_facts_state_new, np_facts_state_reload,
		    np_facts_state_free);
