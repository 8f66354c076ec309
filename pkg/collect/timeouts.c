// SPDX-License-Identifier: Apache-2.0
/*
 * timeouts.c - the timeout of every layer under a block device, from sysfs
 * under the host root (docs/report/timeouts.md gives each file's kernel
 * source): /sys/block/<dev>/queue/io_timeout, /sys/block/sdX/device/{timeout,
 * eh_timeout}, /sys/class/fc_remote_ports/<rport>/{dev_loss_tmo,
 * fast_io_fail_tmo}, /sys/class/iscsi_session/<session>/recovery_tmo,
 * /sys/class/nvme/<ctrl>/{transport,ctrl_loss_tmo,reconnect_delay,
 * fast_io_fail_tmo}, /sys/module/nvme_core/parameters/{io,admin}_timeout and
 * /sys/module/dm_multipath/parameters/queue_if_no_path_timeout_secs.
 */
#define _GNU_SOURCE
#include "timeouts.h"
#include "collector.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <ctype.h>
#include <stdarg.h>
#include <string.h>

int np_tmo_parse(const char *s, int64_t *out)
{
	if (!s)
		return -EINVAL;
	_cleanup_free_ char *t = strdup(s);
	if (!t)
		return -ENOMEM;
	np_strip(t);
	if (streq(t, "off") || streq(t, "-1")) {
		*out = NP_TMO_OFF;
		return 0;
	}
	uint64_t v;
	int r = np_parse_dec(t, INT32_MAX, &v);
	if (r < 0)
		return r;
	*out = (int64_t)v;
	return 0;
}

/* A path component of @path that starts with @prefix and is followed by a digit: strndup'd. */
static char *component(const char *path, const char *prefix)
{
	size_t pl = strlen(prefix);
	for (const char *p = path; p && *p;) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n > pl && strncmp(p, prefix, pl) == 0 && isdigit((unsigned char)p[pl]))
			return strndup(p, n);
		p = end ? end + 1 : NULL;
	}
	return NULL;
}

int np_tmo_path_port(const char *path, char **port, const char **transport)
{
	static const struct {
		const char *prefix, *transport;
	} kinds[] = { { "rport-", "fc" }, { "session", "iscsi" } };
	*port = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		char *c = component(path, kinds[i].prefix);
		if (c) {
			*port = c;
			*transport = kinds[i].transport;
			return 1;
		}
	}
	return 0;
}

/* Read @fmt... as a timeout into *@v: empty or absent = NP_TMO_ABSENT; unreadable or garbage recorded in @st. */
static void read_tmo(const struct np_host *h, struct np_status *st, int64_t *v, const char *fmt, ...)
	_printf_(4, 5);
static void read_tmo(const struct np_host *h, struct np_status *st, int64_t *v, const char *fmt, ...)
{
	_cleanup_free_ char *path = NULL, *line = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&path, fmt, ap) < 0)
		path = NULL;
	va_end(ap);
	*v = NP_TMO_ABSENT;
	if (!path)
		return;
	int r = np_host_attr(h, &line, "%s", path); /* empty or absent: NULL, not read */
	if (r == 0)
		return;
	if (r > 0)
		r = np_tmo_parse(line, v);
	if (r < 0) {
		*v = NP_TMO_ABSENT;
		np_status_set(st, r, "%s: %s", path, r == -EINVAL ? "not a timeout" : np_errno_reason(-r));
	}
}

int np_tmo_collect_dev(const struct np_host *h, const char *name, const char *kind, const char *ctrl,
		       struct np_tmo_dev *d)
{
	*d = (struct np_tmo_dev){ .io_timeout_ms = NP_TMO_ABSENT, .scsi_timeout_s = NP_TMO_ABSENT,
				  .scsi_eh_timeout_s = NP_TMO_ABSENT, .dev_loss_tmo_s = NP_TMO_ABSENT,
				  .fast_io_fail_tmo_s = NP_TMO_ABSENT, .recovery_tmo_s = NP_TMO_ABSENT,
				  .ctrl_loss_tmo_s = NP_TMO_ABSENT, .reconnect_delay_s = NP_TMO_ABSENT };
	d->name = strdup(name);
	d->kind = strdup(kind);
	if (!d->name || !d->kind)
		return -ENOMEM;
	read_tmo(h, &d->status, &d->io_timeout_ms, "/sys/block/%s/queue/io_timeout", name);
	if (streq(kind, "nvme")) {
		if (!ctrl)
			return 0;
		d->port = strdup(ctrl);
		if (!d->port)
			return -ENOMEM;
		if (np_host_attr(h, &d->transport, "/sys/class/nvme/%s/transport", ctrl) == -ENOMEM)
			return -ENOMEM;
		read_tmo(h, &d->status, &d->ctrl_loss_tmo_s, "/sys/class/nvme/%s/ctrl_loss_tmo", ctrl);
		read_tmo(h, &d->status, &d->reconnect_delay_s, "/sys/class/nvme/%s/reconnect_delay", ctrl);
		read_tmo(h, &d->status, &d->fast_io_fail_tmo_s, "/sys/class/nvme/%s/fast_io_fail_tmo", ctrl);
		return 0;
	}
	read_tmo(h, &d->status, &d->scsi_timeout_s, "/sys/block/%s/device/timeout", name);
	read_tmo(h, &d->status, &d->scsi_eh_timeout_s, "/sys/block/%s/device/eh_timeout", name);
	_cleanup_free_ char *link = np_asprintf("/sys/class/block/%s", name), *target = NULL;
	if (!link)
		return -ENOMEM;
	const char *transport = NULL;
	if (np_host_readlink(h, link, &target) < 0 || np_tmo_path_port(target, &d->port, &transport) == 0)
		return 0; /* no FC or iSCSI port above it: no loss timers */
	d->transport = strdup(transport);
	if (!d->transport)
		return -ENOMEM;
	if (streq(transport, "fc")) {
		read_tmo(h, &d->status, &d->dev_loss_tmo_s, "/sys/class/fc_remote_ports/%s/dev_loss_tmo", d->port);
		read_tmo(h, &d->status, &d->fast_io_fail_tmo_s, "/sys/class/fc_remote_ports/%s/fast_io_fail_tmo",
			 d->port);
	} else {
		read_tmo(h, &d->status, &d->recovery_tmo_s, "/sys/class/iscsi_session/%s/recovery_tmo", d->port);
	}
	return 0;
}

/* "nvme0n1" yes; "nvme0c1n1" (a hidden path node) and "nvme0" no. */
static bool nvme_disk(const char *n)
{
	unsigned a, b;
	int len = 0;
	return sscanf(n, "nvme%un%u%n", &a, &b, &len) == 2 && n[len] == '\0';
}

static int push(struct np_timeouts *s, size_t *cap, struct np_tmo_dev *d)
{
	if (s->n_devs == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		struct np_tmo_dev *n = realloc(s->devs, nc * sizeof(*n));
		if (!n)
			return -ENOMEM;
		s->devs = n;
		*cap = nc;
	}
	s->devs[s->n_devs++] = *d;
	return 0;
}

static int add_dev(const struct np_host *h, const char *name, const char *kind, const char *ctrl,
		   struct np_timeouts *s, size_t *cap)
{
	struct np_tmo_dev d;
	int r = np_tmo_collect_dev(h, name, kind, ctrl, &d);
	if (r >= 0)
		r = push(s, cap, &d);
	if (r < 0)
		np_tmo_dev_free(&d);
	return r;
}

/* An NVMe disk: one row per controller behind it (a native-multipath head has one per path). */
static int collect_nvme_disk(const struct np_host *h, const char *name, struct np_timeouts *s, size_t *cap)
{
	_cleanup_free_ char *dev = NULL, *link = np_asprintf("/sys/block/%s/device", name);
	char **ctrls = NULL, **names = NULL;
	size_t n = 0, n_names = 0;
	if (!link)
		return -ENOMEM;
	if (np_host_link_basename(h, link, &dev) < 0)
		dev = NULL;
	if (dev && np_startswith(dev, "nvme-subsys")) {
		_cleanup_free_ char *dir = np_asprintf("/sys/class/nvme-subsystem/%s", dev);
		if (dir && np_host_list(h, dir, &names, &n_names) >= 0)
			for (size_t i = 0; i < n_names; i++) {
				unsigned c;
				int len = 0;
				if (sscanf(names[i], "nvme%u%n", &c, &len) == 1 && names[i][len] == '\0' &&
				    np_strv_push(&ctrls, &n, names[i]) < 0)
					break;
			}
		np_strv_free(names);
	} else if (dev && np_startswith(dev, "nvme") && np_strv_push(&ctrls, &n, dev) < 0) {
		return -ENOMEM;
	}
	int r = 0;
	for (size_t i = 0; r >= 0 && i < (ctrls ? n : 1); i++)
		r = add_dev(h, name, "nvme", ctrls ? ctrls[i] : NULL, s, cap);
	np_strv_free(ctrls);
	return r;
}

static int collect_timeouts(const struct np_collect_ctx *ctx, struct np_report *rep)
{
	const struct np_host *h = ctx->host;
	struct np_timeouts *s = &rep->timeouts;
	read_tmo(h, &s->status, &s->nvme_io_timeout_s, "/sys/module/nvme_core/parameters/io_timeout");
	read_tmo(h, &s->status, &s->nvme_admin_timeout_s, "/sys/module/nvme_core/parameters/admin_timeout");
	read_tmo(h, &s->status, &s->dm_queue_timeout_s,
		 "/sys/module/dm_multipath/parameters/queue_if_no_path_timeout_secs");
	_cleanup_(np_strv_freep) char **own = NULL;
	char *const *names;
	size_t n = 0, cap = 0;
	int r = np_collect_list(ctx, "/sys/block", &own, &names, &n); /* multipath lists it too */
	if (r < 0)
		return r;
	for (size_t i = 0; r >= 0 && i < n; i++) {
		if (nvme_disk(names[i])) {
			r = collect_nvme_disk(h, names[i], s, &cap);
		} else if (np_startswith(names[i], "sd")) {
			r = add_dev(h, names[i], "scsi", NULL, s, &cap);
		}
	}
	return r == -ENOMEM ? r : 0;
}

NP_SECTION(timeouts, 57, 62, collect_timeouts, NULL);
