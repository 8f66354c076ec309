// SPDX-License-Identifier: Apache-2.0
/*
 * rdma.c - RDMA devices from the host root: /sys/class/infiniband/<dev>/
 * {node_type,fw_ver,hca_type,board_id,node_guid,parent,device,device/driver},
 * ports/N/{state,phys_state,link_layer,rate,lid,gid_attrs/ndevs/0} and the
 * port counters in ports/N/counters/ and ports/N/hw_counters/
 * (Documentation/ABI/stable/sysfs-class-infiniband; drivers/infiniband/core/
 * sysfs.c), with a RoCE port's netdev flags and operstate from /sys/class/net
 * (Documentation/ABI/testing/sysfs-class-net). Counters are sampled twice
 * with --interval.
 */
#define _GNU_SOURCE
#include "rdma.h"
#include "collector.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <ctype.h>
#include <string.h>
#include <time.h>

#define IB "/sys/class/infiniband"
#define IFF_UP_FLAG 0x1 /* include/uapi/linux/if.h */

int np_rdma_state_parse(const char *s, int *code, char **name)
{
	uint64_t v = 0;
	size_t i = 0, digits = 0;
	*name = NULL;
	while (isdigit((unsigned char)s[i]) && digits < 4) {
		v = v * 10 + (uint64_t)(s[i++] - '0');
		digits++;
	}
	if (!digits || v > 255 || s[i] != ':' || s[i + 1] != ' ')
		return -EINVAL;
	const char *n = s + i + 2;
	size_t len = strlen(n);
	while (len && (n[len - 1] == '\n' || n[len - 1] == ' '))
		len--;
	if (!len || len > 64)
		return -EINVAL;
	for (size_t k = 0; k < len; k++)
		if (!isprint((unsigned char)n[k]))
			return -EINVAL;
	*name = strndup(n, len);
	if (!*name)
		return -ENOMEM;
	*code = (int)v;
	return 0;
}

int np_rdma_rate_parse(const char *s, double *gbps)
{
	double v = 0, scale = 0;
	size_t i = 0, digits = 0;
	for (; isdigit((unsigned char)s[i]) && digits < 9; i++, digits++)
		v = v * 10 + (s[i] - '0');
	if (!digits)
		return -EINVAL;
	if (s[i] == '.') {
		i++;
		scale = 1;
		for (digits = 0; isdigit((unsigned char)s[i]) && digits < 6; i++, digits++)
			v += (s[i] - '0') * (scale /= 10);
		if (!digits)
			return -EINVAL;
	}
	if (!np_startswith(s + i, " Gb/sec"))
		return -EINVAL;
	*gbps = v;
	return 0;
}

static int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* One "<n>: <name>" attribute; an unreadable or garbled one is recorded in @st. */
static int state_attr(const struct np_host *h, struct np_status *st, int *code, char **name, const char *what,
		      const char *fmt, const char *dev, unsigned port)
{
	_cleanup_free_ char *v = NULL;
	*code = -1;
	int r = np_host_attr(h, &v, fmt, dev, port);
	if (r > 0)
		r = np_rdma_state_parse(v, code, name);
	else if (r == 0)
		r = -ENOENT;
	if (r < 0 && r != -ENOMEM)
		np_status_set(st, r, "%s port %u: %s %s", dev, port, what,
			      r == -EINVAL ? "not understood" : np_errno_reason(-r));
	return r == -ENOMEM ? r : 0;
}

static int read_counters(const struct np_host *h, const char *dev, struct np_rdma_port *p, bool resample)
{
	static const char *const groups[] = { "counters", "hw_counters" };
	for (size_t g = 0; g < ARRAY_SIZE(groups); g++) {
		char **names = NULL;
		size_t n = 0;
		_cleanup_free_ char *dir = np_asprintf(IB "/%s/ports/%u/%s", dev, p->port, groups[g]);
		if (!dir)
			return -ENOMEM;
		if (np_host_list(h, dir, &names, &n) < 0)
			continue; /* this port has no such group (hw_counters: the driver defines none) */
		for (size_t i = 0; i < n; i++) {
			uint64_t v;
			_cleanup_free_ char *path = np_asprintf("%s/%s", dir, names[i]);
			if (!path) {
				np_strv_free(names);
				return -ENOMEM;
			}
			/* hw_counters/lifespan is the counters' cache time (ms), a setting, not a count */
			if ((g == 1 && streq(names[i], "lifespan")) || np_host_read_u64(h, path, &v) < 0)
				continue;
			if (resample) {
				for (size_t k = 0; k < p->n_counters; k++) {
					struct np_rdma_counter *c = &p->counters[k];
					if (c->hw == (g == 1) && streq(c->name, names[i]))
						c->value = v;
				}
				continue;
			}
			struct np_rdma_counter *nc = realloc(p->counters, (p->n_counters + 1) * sizeof(*nc));
			if (!nc) {
				np_strv_free(names);
				return -ENOMEM;
			}
			p->counters = nc;
			nc[p->n_counters] = (struct np_rdma_counter){ .name = strdup(names[i]), .hw = g == 1, .value = v,
								      .first = v, .per_second = -1 };
			if (!nc[p->n_counters++].name) {
				np_strv_free(names);
				return -ENOMEM;
			}
		}
		np_strv_free(names);
	}
	return 0;
}

static int collect_port(const struct np_host *h, const char *dev, struct np_rdma_port *p)
{
	_cleanup_free_ char *lid = NULL, *flags = NULL;
	uint64_t v;
	int r = state_attr(h, &p->status, &p->state, &p->state_name, "state", IB "/%s/ports/%u/state", dev, p->port);
	if (r >= 0)
		r = state_attr(h, &p->status, &p->phys_state, &p->phys_state_name, "phys_state",
			       IB "/%s/ports/%u/phys_state", dev, p->port);
	if (r < 0)
		return r;
	if ((r = np_host_attr(h, &p->link_layer, IB "/%s/ports/%u/link_layer", dev, p->port)) <= 0 && r != -ENOMEM)
		np_status_set(&p->status, r ? r : -ENOENT, "%s port %u: link_layer %s", dev, p->port,
			      np_errno_reason(r ? -r : ENOENT));
	if (r == -ENOMEM || np_host_attr(h, &p->rate, IB "/%s/ports/%u/rate", dev, p->port) == -ENOMEM ||
	    np_host_attr(h, &lid, IB "/%s/ports/%u/lid", dev, p->port) == -ENOMEM)
		return -ENOMEM;
	if (!p->rate || np_rdma_rate_parse(p->rate, &p->rate_gbps) < 0)
		p->rate_gbps = -1;
	p->lid = lid && np_parse_u64(lid, &v) >= 0 && v <= 0xffffffffu ? (int64_t)v : -1;
	/* a RoCE port's GID 0 netdev; InfiniBand ports have none (the read fails) */
	if (np_host_attr(h, &p->netdev, IB "/%s/ports/%u/gid_attrs/ndevs/0", dev, p->port) == -ENOMEM)
		return -ENOMEM;
	p->netdev_up = -1;
	if (p->netdev && !strchr(p->netdev, '/')) {
		if (np_host_attr(h, &flags, "/sys/class/net/%s/flags", p->netdev) == -ENOMEM ||
		    np_host_attr(h, &p->netdev_operstate, "/sys/class/net/%s/operstate", p->netdev) == -ENOMEM)
			return -ENOMEM;
		if (flags && np_parse_u64(flags, &v) >= 0)
			p->netdev_up = (v & IFF_UP_FLAG) != 0;
	}
	return read_counters(h, dev, p, false);
}

/* The device link (a PCI function, absent for virtual devices), its driver and IDs. */
static int collect_parent(const struct np_host *h, struct np_rdma_dev *d)
{
	_cleanup_free_ char *link = np_asprintf(IB "/%s/device", d->name);
	_cleanup_free_ char *drv = np_asprintf(IB "/%s/device/driver", d->name);
	if (!link || !drv)
		return -ENOMEM;
	if (np_host_link_basename(h, link, &d->device) < 0)
		d->device = NULL;
	if (d->device && np_host_link_basename(h, drv, &d->driver) < 0)
		d->driver = NULL;
	if (d->device && (np_host_attr(h, &d->vendor_id, IB "/%s/device/vendor", d->name) == -ENOMEM ||
			  np_host_attr(h, &d->device_id, IB "/%s/device/device", d->name) == -ENOMEM))
		return -ENOMEM;
	return np_host_attr(h, &d->parent, IB "/%s/parent", d->name) == -ENOMEM ? -ENOMEM : 0;
}

static int collect_dev(const struct np_host *h, struct np_rdma_dev *d)
{
	static const struct {
		const char *attr;
		size_t off;
	} attrs[] = {
		{ "fw_ver", offsetof(struct np_rdma_dev, fw_ver) },
		{ "hca_type", offsetof(struct np_rdma_dev, hca_type) },
		{ "board_id", offsetof(struct np_rdma_dev, board_id) },
		{ "node_guid", offsetof(struct np_rdma_dev, node_guid) },
	};
	_cleanup_free_ char *nt = NULL;
	int code, r;
	for (size_t i = 0; i < ARRAY_SIZE(attrs); i++) {
		r = np_host_attr(h, (char **)((char *)d + attrs[i].off), IB "/%s/%s", d->name, attrs[i].attr);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			np_status_set(&d->status, r, "%s: %s %s", d->name, attrs[i].attr, np_errno_reason(-r));
	}
	r = np_host_attr(h, &nt, IB "/%s/node_type", d->name);
	if (r > 0 && (r = np_rdma_state_parse(nt, &code, &d->node_type)) == -EINVAL)
		np_status_set(&d->status, r, "%s: node_type not understood", d->name);
	if (r == -ENOMEM || collect_parent(h, d) < 0)
		return -ENOMEM;
	char **names = NULL;
	size_t n = 0;
	_cleanup_free_ char *dir = np_asprintf(IB "/%s/ports", d->name);
	if (!dir)
		return -ENOMEM;
	if ((r = np_host_list(h, dir, &names, &n)) < 0) {
		np_status_set(&d->status, r, "%s: ports %s", d->name, np_errno_reason(-r));
		return r == -ENOMEM ? r : 0;
	}
	d->ports = calloc(n ? n : 1, sizeof(*d->ports));
	r = d->ports ? 0 : -ENOMEM;
	for (size_t i = 0; r >= 0 && i < n; i++) {
		uint64_t port;
		if (np_parse_dec(names[i], 255, &port) < 0)
			continue;
		struct np_rdma_port *p = &d->ports[d->n_ports++];
		p->port = (unsigned)port;
		r = collect_port(h, d->name, p);
	}
	np_strv_free(names);
	return r;
}

static int collect_rdma(const struct np_collect_ctx *ctx, struct np_report *rep)
{
	struct np_rdma *s = &rep->rdma;
	char **names = NULL;
	size_t n = 0;
	int r = np_host_list(ctx->host, IB, &names, &n);
	s->first_us = mono_us();
	/* ib_core registers the class: without it there is no RDMA device, if /sys/module says it is not loaded */
	if (r == -ENOENT && np_host_exists(ctx->host, "/sys/module"))
		return 0;
	if (r < 0) {
		np_status_set(&s->status, r, IB ": %s", np_errno_reason(-r));
		return r;
	}
	s->devs = calloc(n ? n : 1, sizeof(*s->devs));
	r = s->devs ? 0 : -ENOMEM;
	for (size_t i = 0; r >= 0 && i < n; i++) {
		struct np_rdma_dev *d = &s->devs[s->n++];
		r = (d->name = strdup(names[i])) ? collect_dev(ctx->host, d) : -ENOMEM;
	}
	np_strv_free(names);
	return r;
}

static int resample_rdma(const struct np_collect_ctx *ctx, struct np_report *rep)
{
	struct np_rdma *s = &rep->rdma;
	if (s->status.err)
		return 0;
	for (size_t i = 0; i < s->n; i++)
		for (size_t k = 0; k < s->devs[i].n_ports; k++)
			if (read_counters(ctx->host, s->devs[i].name, &s->devs[i].ports[k], true) < 0)
				return -ENOMEM;
	s->interval_s = (double)(mono_us() - s->first_us) / 1e6;
	s->has_rates = true;
	for (size_t i = 0; i < s->n; i++)
		for (size_t k = 0; k < s->devs[i].n_ports; k++)
			for (size_t c = 0; c < s->devs[i].ports[k].n_counters; c++) {
				struct np_rdma_counter *x = &s->devs[i].ports[k].counters[c];
				if (s->interval_s > 0 && x->value >= x->first)
					x->per_second = (double)(x->value - x->first) / s->interval_s;
			}
	return 0;
}

NP_SECTION(rdma, 46, 36, collect_rdma, resample_rdma);
