// SPDX-License-Identifier: Apache-2.0
/*
 * health_timeouts.c - the timeout chain under dm-multipath maps and CSI volumes, judged under
 * health.timeouts: unbounded queueing under a CSI volume (UnboundedQueueing), queueing longer than
 * the application timeout under a CSI volume (QueueingOverAppTimeout), fast_io_fail_tmo not below
 * dev_loss_tmo / ctrl_loss_tmo (FastIOFailNotBelowLoss), a path failover slower than the device
 * timeout (FailoverOverDeviceTimeout).
 */
#define _GNU_SOURCE
#include "health_timeouts.h"
#include "record.h"
#include "vocab.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* multipathd's default checker interval (libmultipath/defaults.h DEFAULT_CHECKINT). */
#define MPATHD_DEFAULT_CHECKINT 5

static bool feature_int(char *const *features, const char *name, int64_t *out)
{
	for (char *const *f = features; f && *f; f++)
		if (streq(*f, name) && f[1])
			return np_parse_s64(f[1], out) == 0;
	return false;
}

static void bound(struct np_tmo_chain *c, int64_t s, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void bound(struct np_tmo_chain *c, int64_t s, const char *fmt, ...)
{
	/* the shortest finite bound wins; "for ever" only while nothing bounds it */
	if (c->queue_bound_s != NP_TMO_OFF && s != NP_TMO_OFF && c->queue_bound_s <= s)
		return;
	if (c->queue_bound_s != NP_TMO_OFF && s == NP_TMO_OFF && c->bound_by[0])
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->bound_by, sizeof(c->bound_by), fmt, ap);
	va_end(ap);
	c->queue_bound_s = s;
}

/* multipathd's queueing (print.c snprint_queueing()) as a bound. */
static void mpathd_bound(const struct np_report *r, const struct np_mpath_map *m, struct np_tmo_chain *c)
{
	const char *q = m->mpathd_queueing;
	int64_t n, poll = r->multipath.mpathd_polling_interval_s;
	char unit[8];
	if (!q) {
		bound(c, NP_TMO_OFF, "queue_if_no_path, no multipathd answering to bound it");
	} else if (streq(q, "on")) {
		bound(c, NP_TMO_OFF, "queue_if_no_path, multipathd no_path_retry queue");
	} else if (streq(q, "-")) {
		bound(c, NP_TMO_OFF, "queue_if_no_path, multipathd no_path_retry unset");
	} else if (streq(q, "off")) {
		bound(c, 0, "multipathd no_path_retry fail");
	} else if (sscanf(q, "%" SCNd64 " %7s", &n, unit) == 2 && n >= 0 && n < INT32_MAX && streq(unit, "chk")) {
		if (poll > 0)
			bound(c, n * poll, "multipathd no_path_retry %lld x polling_interval %lld s", (long long)n,
			      (long long)poll);
		else
			bound(c, n * MPATHD_DEFAULT_CHECKINT, "multipathd no_path_retry %lld x default polling_interval %d s",
			      (long long)n, MPATHD_DEFAULT_CHECKINT);
	} else if (sscanf(q, "%" SCNd64 " %7s", &n, unit) == 2 && n >= 0 && n < INT32_MAX && streq(unit, "sec")) {
		bound(c, n, "multipathd no_path_retry, %lld s left now", (long long)n);
	} else {
		bound(c, NP_TMO_OFF, "queue_if_no_path, multipathd queueing '%.40s'", q);
	}
}

static bool volume_uses(const struct np_volume *v, const char *dev)
{
	return dev && ((v->device && streq(v->device, dev)) || np_strv_contains(v->backing, dev));
}

int np_tmo_chain_build(const struct np_report *r, const struct np_mpath_map *m, struct np_tmo_chain *c)
{
	*c = (struct np_tmo_chain){ .map = m, .pg_init_retries = -1, .queue_bound_s = 0 };
	if (!m->paths_known || !m->features)
		return -ENODATA;
	c->queue_if_no_path = np_strv_contains(m->features, "queue_if_no_path");
	if (!feature_int(m->features, "pg_init_retries", &c->pg_init_retries))
		c->pg_init_retries = -1;
	for (size_t i = 0; i < r->volumes.n; i++)
		if (volume_uses(&r->volumes.volumes[i], m->dm) && c->n_volumes++ == 0)
			c->volume = r->volumes.volumes[i].pv_name;
	if (!c->queue_if_no_path) {
		snprintf(c->bound_by, sizeof(c->bound_by), "no queue_if_no_path");
		return 0;
	}
	c->queue_bound_s = NP_TMO_OFF;
	int64_t kt = r->timeouts.dm_queue_timeout_s;
	if (kt > 0 && kt != NP_TMO_ABSENT)
		bound(c, kt, "kernel queue_if_no_path_timeout_secs %lld", (long long)kt);
	mpathd_bound(r, m, c);
	return 0;
}

/* How long a path takes to fail its I/O when its link is lost: NP_TMO_OFF = never, ABSENT = unknown. */
static int64_t failover_s(const struct np_tmo_dev *d, const char **what)
{
	if (!d->transport)
		return NP_TMO_ABSENT;
	if (streq(d->transport, "iscsi")) {
		*what = "recovery_tmo";
		return d->recovery_tmo_s;
	}
	int64_t loss = streq(d->transport, "fc") ? d->dev_loss_tmo_s : d->ctrl_loss_tmo_s;
	if (d->fast_io_fail_tmo_s != NP_TMO_ABSENT && d->fast_io_fail_tmo_s != NP_TMO_OFF) {
		*what = "fast_io_fail_tmo";
		return d->fast_io_fail_tmo_s;
	}
	*what = streq(d->transport, "fc") ? "dev_loss_tmo" : "ctrl_loss_tmo";
	return loss;
}

/* The device's command timeout, seconds: SCSI device/timeout, NVMe io_timeout, else the queue's. */
static int64_t device_timeout_s(const struct np_timeouts *t, const struct np_tmo_dev *d)
{
	if (d->scsi_timeout_s != NP_TMO_ABSENT)
		return d->scsi_timeout_s;
	if (streq(d->kind, "nvme") && t->nvme_io_timeout_s != NP_TMO_ABSENT)
		return t->nvme_io_timeout_s;
	if (d->io_timeout_ms != NP_TMO_ABSENT)
		return (d->io_timeout_ms + 999) / 1000;
	return NP_TMO_ABSENT;
}

static void describe_path(FILE *f, const struct np_timeouts *t, const char *dev, bool first)
{
	const struct np_tmo_dev *d = np_timeouts_find(t, dev);
	char a[32], b[32];
	fprintf(f, "%s%s", first ? "" : ", ", dev);
	if (!d) {
		fprintf(f, " ?");
		return;
	}
	int64_t dt = device_timeout_s(t, d);
	fprintf(f, " %s", np_tmo_fmt(dt, "s", a, sizeof(a)));
	if (d->scsi_eh_timeout_s != NP_TMO_ABSENT)
		fprintf(f, " (eh %s)", np_tmo_fmt(d->scsi_eh_timeout_s, "s", a, sizeof(a)));
	const char *what = NULL;
	int64_t fo = failover_s(d, &what);
	if (what)
		fprintf(f, " [%s %s %s %s]", d->transport, d->port ? d->port : "?", what,
			fo == NP_TMO_OFF ? "off" : np_tmo_fmt(fo, "s", b, sizeof(b)));
}

char *np_tmo_chain_describe(const struct np_report *r, const struct np_tmo_chain *c, double app_s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	const struct np_mpath_map *m = c->map;
	const char *kind = "SCSI";
	for (size_t g = 0; g < m->n_groups; g++)
		for (size_t k = 0; k < m->groups[g].n_paths; k++) {
			const struct np_tmo_dev *d = np_timeouts_find(&r->timeouts, m->groups[g].paths[k].dev);
			if (d && streq(d->kind, "nvme"))
				kind = "NVMe";
		}
	fprintf(f, "%s ", kind);
	bool first = true;
	for (size_t g = 0; g < m->n_groups; g++)
		for (size_t k = 0; k < m->groups[g].n_paths; k++, first = false) {
			const struct np_mpath_path *p = &m->groups[g].paths[k];
			describe_path(f, &r->timeouts, p->dev ? p->dev : p->major_minor, first);
		}
	if (first)
		fprintf(f, "no paths");
	fprintf(f, " -> multipath %s ", m->name ? m->name : m->dm);
	if (c->queue_bound_s == NP_TMO_OFF)
		fprintf(f, "queues for ever (%s)", c->bound_by);
	else if (c->queue_bound_s == 0)
		fprintf(f, "fails I/O at once with no path (%s)", c->bound_by);
	else
		fprintf(f, "queues %lld s (%s)", (long long)c->queue_bound_s, c->bound_by);
	if (c->pg_init_retries >= 0)
		fprintf(f, ", pg_init_retries %lld", (long long)c->pg_init_retries);
	size_t total, active, failed;
	np_mpath_map_counts(m, &total, &active, &failed);
	if (c->queue_if_no_path && total && failed == total)
		fprintf(f, ", no active path: I/O queued now");
	if (app_s >= 0)
		fprintf(f, " -> app gives up at %.0f s", app_s);
	if (c->volume)
		fprintf(f, " (volume %s%s)", c->volume, c->n_volumes > 1 ? " and more" : "");
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int judge_map(const struct np_health_timeouts *h, const struct np_report *r, const struct np_mpath_map *m,
		     struct np_desired *d)
{
	struct np_tmo_chain c;
	if (np_tmo_chain_build(r, m, &c) < 0 || !c.n_volumes)
		return 0; /* unknown (the multipath source is blind then), or no CSI volume on it */
	const char *reason = NULL;
	if (h->unbounded_queueing && c.queue_bound_s == NP_TMO_OFF)
		reason = NP_REASON_UNBOUNDED_QUEUEING;
	else if (h->app_timeout_s >= 0 && c.queue_bound_s != NP_TMO_OFF && c.queue_bound_s > h->app_timeout_s)
		reason = NP_REASON_QUEUEING_OVER_APP;
	if (!reason)
		return 0;
	_cleanup_free_ char *chain = np_tmo_chain_describe(r, &c, h->app_timeout_s);
	if (!chain)
		return -ENOMEM;
	return np_desired_add_finding(d, NP_FINDING_TIMEOUT_CHAIN, m->name ? m->name : m->dm, reason, "%s", chain);
}

static bool mpath_member(const struct np_report *r, const char *dev)
{
	for (size_t i = 0; i < r->multipath.n_maps; i++) {
		const struct np_mpath_map *m = &r->multipath.maps[i];
		for (size_t g = 0; g < m->n_groups; g++)
			for (size_t k = 0; k < m->groups[g].n_paths; k++)
				if (m->groups[g].paths[k].dev && streq(m->groups[g].paths[k].dev, dev))
					return true;
	}
	return false;
}

/*
 * Does the failover of @port matter: an NVMe-oF controller (native multipath), or a port under a
 * disk that is a path of a dm-multipath map?
 */
static bool port_is_path(const struct np_report *r, const struct np_tmo_dev *dev)
{
	if (streq(dev->kind, "nvme"))
		return dev->transport && !streq(dev->transport, "pcie");
	for (size_t i = 0; i < r->timeouts.n_devs; i++) {
		const struct np_tmo_dev *o = &r->timeouts.devs[i];
		if (o->port && streq(o->port, dev->port) && mpath_member(r, o->name))
			return true;
	}
	return false;
}

static int judge_dev(const struct np_health_timeouts *h, const struct np_report *r, const struct np_tmo_dev *dev,
		     struct np_desired *d)
{
	char a[32], b[32];
	int rc = 0;
	if (!dev->transport || !dev->port)
		return 0;
	bool fc = streq(dev->transport, "fc");
	int64_t fast = dev->fast_io_fail_tmo_s, loss = fc ? dev->dev_loss_tmo_s : dev->ctrl_loss_tmo_s;
	if (h->fast_io_fail_below_loss && fast != NP_TMO_ABSENT && fast != NP_TMO_OFF && loss != NP_TMO_ABSENT &&
	    loss != NP_TMO_OFF && fast >= loss)
		rc = np_desired_add_finding(d, NP_FINDING_TIMEOUT_CHAIN, dev->port, NP_REASON_FAST_IO_FAIL_NOT_BELOW_LOSS,
					    "%s %s (%s): fast_io_fail_tmo %lld s >= %s %lld s: I/O is not failed over "
					    "before the path is removed", dev->transport, dev->port, dev->name,
					    (long long)fast, fc ? "dev_loss_tmo" : "ctrl_loss_tmo", (long long)loss);
	const char *what = NULL;
	int64_t fo = failover_s(dev, &what), dt = device_timeout_s(&r->timeouts, dev);
	if (rc >= 0 && h->failover_within_device_timeout && what && fo != NP_TMO_ABSENT && dt != NP_TMO_ABSENT &&
	    (fo == NP_TMO_OFF || fo > dt) && port_is_path(r, dev))
		rc = np_desired_add_finding(d, NP_FINDING_TIMEOUT_CHAIN, dev->port, NP_REASON_FAILOVER_OVER_DEVICE_TIMEOUT,
					    "%s %s (%s): path failover after %s %s, the device times out commands "
					    "after %s", dev->transport, dev->port, dev->name, what,
					    fo == NP_TMO_OFF ? "off (never)" : np_tmo_fmt(fo, "s", a, sizeof(a)),
					    np_tmo_fmt(dt, "s", b, sizeof(b)));
	return rc;
}

static int judge_timeouts(const struct np_health_timeouts *h, const struct np_health_in *in, struct np_desired *d)
{
	const struct np_report *r = in->r;
	int rc = 0;
	for (size_t i = 0; rc >= 0 && i < r->multipath.n_maps; i++)
		rc = judge_map(h, r, &r->multipath.maps[i], d);
	/* one finding per transport port: its disks share the port's timers */
	for (size_t i = 0; rc >= 0 && i < r->timeouts.n_devs; i++) {
		const struct np_tmo_dev *dev = &r->timeouts.devs[i];
		bool seen = false;
		for (size_t k = 0; k < i && !seen; k++)
			seen = r->timeouts.devs[k].port && dev->port && streq(r->timeouts.devs[k].port, dev->port);
		if (!seen)
			rc = judge_dev(h, r, dev, d);
	}
	return rc;
}

static const struct np_field fields[] = {
	NP_FIELD_NUM("appTimeoutSeconds", struct np_health_timeouts, app_timeout_s, -1, 86400),
	NP_FIELD_BOOL("unboundedQueueing", struct np_health_timeouts, unbounded_queueing),
	NP_FIELD_BOOL("fastIoFailBelowLoss", struct np_health_timeouts, fast_io_fail_below_loss),
	NP_FIELD_BOOL("failoverWithinDeviceTimeout", struct np_health_timeouts, failover_within_device_timeout),
	{},
};

NP_HEALTH(timeouts, 60, judge_timeouts, fields,
	"appTimeoutSeconds: 30\n"
	"unboundedQueueing: true\n"
	"fastIoFailBelowLoss: true\n"
	"failoverWithinDeviceTimeout: true\n");
