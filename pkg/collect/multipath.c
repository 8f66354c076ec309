// SPDX-License-Identifier: Apache-2.0
/*
 * multipath.c - dm-multipath maps: found in sysfs under the host root
 * (/sys/block/dm-N/dm/{name,uuid} with uuid prefix "mpath-", dev, size,
 * slaves/; Documentation/ABI/testing/sysfs-block-dm), table and status read
 * with libdevmapper (DM_DEVICE_TABLE / DM_DEVICE_STATUS, by major:minor;
 * loaded only then: dm_dl.h) when the host root is the live host, path names from /sys/dev/block/M:m, and
 * multipathd's checker state from `show maps json` on its socket.
 */
#define _GNU_SOURCE
#include "multipath.h"
#include "collector.h"
#include "dm_dl.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <fcntl.h>
#include <libdevmapper.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#define MPATHD_SOCKET "/org/kernel/linux/storage/multipathd" /* libmpathcmd DEFAULT_SOCKET */
#define MPATHD_REPLY_MAX (16u << 20)
#define MPATHD_TIMEOUT_MS 2000

static int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- multipathd socket (libmpathcmd framing) ---- */

static int wait_fd(int fd, short ev, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = ev };
	int r;
	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return negative_errno();
	return r == 0 ? -ETIMEDOUT : 0;
}

static int write_all(int fd, const void *buf, size_t len, int timeout_ms)
{
	const char *p = buf;
	while (len) {
		int r = wait_fd(fd, POLLOUT, timeout_ms);
		if (r < 0)
			return r;
		ssize_t k = send(fd, p, len, MSG_NOSIGNAL);
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (k < 0)
			return negative_errno();
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

static int read_all(int fd, void *buf, size_t len, int timeout_ms)
{
	char *p = buf;
	while (len) {
		int r = wait_fd(fd, POLLIN, timeout_ms);
		if (r < 0)
			return r;
		ssize_t k = recv(fd, p, len, 0);
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (k < 0)
			return negative_errno();
		if (k == 0)
			return -EPROTO; /* closed mid-reply */
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

/*
 * np_multipathd_query() - send @cmd to multipathd on its abstract unix
 * socket "@/org/kernel/linux/storage/multipathd" with libmpathcmd's framing
 * (a native size_t length including the NUL, then the bytes; the reply the
 * same way). Waits at most @timeout_ms per step. Returns 0 and a malloc'd
 * NUL-terminated reply (caller frees), or -errno: -ECONNREFUSED/-ENOENT
 * (not running), -ETIMEDOUT, -EFBIG (reply > 16 MiB), -EPROTO.
 * @spare (may be NULL): a socket a refused connect left unconnected, used
 * instead of a new one (taken, -1 after); a refused connect puts its socket
 * there. A unix stream socket whose connect() was refused stays unconnected
 * (net/unix/af_unix.c unix_stream_connect()) and connects again as a new one
 * would: a node without multipathd is asked every cycle, as before, without a
 * socket made and closed each time.
 */
static int np_multipathd_query(const char *cmd, int timeout_ms, char **reply, size_t *len, int *spare)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	/* abstract name: sun_path[0] = '\0', length counts exactly the name */
	memcpy(sa.sun_path + 1, MPATHD_SOCKET, strlen(MPATHD_SOCKET));
	socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(MPATHD_SOCKET));
	_cleanup_close_ int fd = -1;
	if (spare && *spare >= 0) {
		fd = *spare;
		*spare = -1;
	} else {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	}
	if (fd < 0)
		return negative_errno();
	if (connect(fd, (struct sockaddr *)&sa, salen) < 0) {
		if (errno != EINPROGRESS && errno != EAGAIN) {
			int r = negative_errno();
			if (spare && (r == -ECONNREFUSED || r == -ENOENT)) {
				*spare = fd; /* unconnected: the next cycle's */
				fd = -1;
			}
			return r;
		}
		int r = wait_fd(fd, POLLOUT, timeout_ms);
		if (r < 0)
			return r;
	}
	size_t n = strlen(cmd) + 1;
	int r = write_all(fd, &n, sizeof(n), timeout_ms);
	if (r >= 0)
		r = write_all(fd, cmd, n, timeout_ms);
	size_t rlen = 0;
	if (r >= 0)
		r = read_all(fd, &rlen, sizeof(rlen), timeout_ms);
	if (r < 0)
		return r;
	if (rlen > MPATHD_REPLY_MAX)
		return -EFBIG;
	_cleanup_free_ char *buf = malloc(rlen + 1);
	if (!buf)
		return -ENOMEM;
	r = read_all(fd, buf, rlen, timeout_ms);
	if (r < 0)
		return r;
	buf[rlen] = '\0';
	while (rlen && buf[rlen - 1] == '\0')
		rlen--;
	*reply = TAKE_PTR(buf);
	if (len)
		*len = rlen;
	return 0;
}

/* ---- libdevmapper ---- */

/*
 * Params of the first "multipath" target of the map @maj:@min for @task
 * (DM_DEVICE_TABLE or DM_DEVICE_STATUS). Returns 0 and a malloc'd string,
 * -ENODEV (no such map), -EMEDIUMTYPE (no multipath target), -EIO/-errno.
 */
static int dm_params(int task, unsigned maj, unsigned min, char **out)
{
	struct dm_task *dmt = dm_task_create(task);
	if (!dmt)
		return -ENOMEM;
	int r = -EIO;
	if (!dm_task_set_major(dmt, (int)maj) || !dm_task_set_minor(dmt, (int)min) ||
	    !dm_task_no_open_count(dmt))
		goto out;
	if (!dm_task_run(dmt)) {
		int e = dm_task_get_errno(dmt);
		r = e > 0 ? -e : -EIO;
		goto out;
	}
	struct dm_info info;
	if (!dm_task_get_info(dmt, &info) || !info.exists) {
		r = -ENODEV;
		goto out;
	}
	void *next = NULL;
	uint64_t start, length;
	char *type = NULL, *params = NULL;
	r = -EMEDIUMTYPE;
	do {
		next = dm_get_next_target(dmt, next, &start, &length, &type, &params);
		if (type && streq(type, "multipath")) {
			*out = strdup(params ? params : "");
			r = *out ? 0 : -ENOMEM;
			break;
		}
	} while (next);
out:
	dm_task_destroy(dmt);
	return r;
}

/* maj:min -> kernel name through /sys/dev/block/M:m */
void np_mpath_path_names(const struct np_host *h, struct np_mpath_map *m)
{
	for (size_t g = 0; g < m->n_groups; g++)
		for (size_t k = 0; k < m->groups[g].n_paths; k++) {
			struct np_mpath_path *p = &m->groups[g].paths[k];
			if (p->dev || !p->major_minor)
				continue;
			_cleanup_free_ char *link = np_asprintf("/sys/dev/block/%s", p->major_minor);
			if (link && np_host_link_basename(h, link, &p->dev) < 0)
				p->dev = NULL;
		}
}

/*
 * Can device-mapper ioctls reach the host's kernel? On the live host, yes. In a container that
 * mounts the host's /dev under the host root (the DaemonSet), /dev/mapper/control there is the
 * kernel's device (a container shares the kernel): libdevmapper is pointed at it with
 * dm_set_dev_dir() by dm_open(). A fixture tree has no character device there: sysfs facts only.
 */
static bool dm_reachable(const struct np_host *h)
{
	if (h->live)
		return true;
	_cleanup_close_ int fd = np_host_openat(h, "/dev/mapper/control", O_PATH);
	struct stat st;
	return fd >= 0 && fstat(fd, &st) == 0 && S_ISCHR(st.st_mode);
}

/* Load libdevmapper and point it at the host root's /dev. Returns 0 or -errno with *@why set. */
static int dm_open(const struct np_host *h, char **why)
{
	int r = np_dm_load(why);
	if (r < 0 || h->live)
		return r;
	_cleanup_free_ char *dev = np_asprintf("%s/dev", h->root);
	if (!dev)
		return -ENOMEM;
	if (!dm_set_dev_dir(dev)) {
		*why = np_asprintf("dm_set_dev_dir(%s) failed", dev);
		return -EINVAL;
	}
	return 0;
}

static void read_dm(const struct np_host *h, struct np_mpath_map *m)
{
	unsigned maj, min;
	if (!m->major_minor || sscanf(m->major_minor, "%u:%u", &maj, &min) != 2) {
		np_status_set(&m->status, -EINVAL, "%s: no dev number in sysfs", m->dm);
		return;
	}
	if (!dm_reachable(h)) {
		np_status_set(&m->status, -EOPNOTSUPP,
			      "table/status unavailable: no device-mapper control device for this host root (sysfs facts only)");
		return;
	}
	_cleanup_free_ char *table = NULL, *status = NULL, *dlwhy = NULL;
	int r = dm_open(h, &dlwhy);
	if (r < 0) {
		np_status_set(&m->status, r, "table/status unavailable: %s", dlwhy ? dlwhy : np_errno_reason(r));
		return;
	}
	const char *why = NULL;
	r = dm_params(DM_DEVICE_TABLE, maj, min, &table);
	if (r < 0) {
		np_status_set(&m->status, r, "table: %s", np_errno_reason(r));
		return;
	}
	r = np_dm_mpath_parse_table(table, m, &why);
	if (r < 0) {
		np_status_set(&m->status, r, "table: %s: %s", why ? why : np_errno_reason(r), table);
		return;
	}
	r = dm_params(DM_DEVICE_STATUS, maj, min, &status);
	if (r >= 0)
		r = np_dm_mpath_parse_status(status, m, &why);
	if (r < 0)
		np_status_set(&m->status, r, "status: %s", why ? why : np_errno_reason(r));
}

/*
 * np_mpath_collect_map() - one map from /sys/block/<dm> under the host root:
 * returns 0 when it is not a multipath map (dm/uuid without "mpath-"; @m
 * untouched), 1 when @m was filled (sysfs facts; table and status through
 * libdevmapper on the live host, else an EOPNOTSUPP status), -ENOMEM.
 * Free @m with np_mpath_map_free().
 */
static int np_mpath_collect_map(const struct np_host *h, const char *dm, struct np_mpath_map *m)
{
	int64_t t0 = mono_us();
	_cleanup_free_ char *uuid = NULL;
	np_host_attr(h, &uuid, "/sys/block/%s/dm/uuid", dm);
	if (!uuid || !np_startswith(uuid, "mpath-"))
		return 0;
	memset(m, 0, sizeof(*m));
	m->uuid = TAKE_PTR(uuid);
	m->dm = strdup(dm);
	if (!m->dm)
		return -ENOMEM;
	np_host_attr(h, &m->name, "/sys/block/%s/dm/name", dm);
	np_host_attr(h, &m->major_minor, "/sys/block/%s/dev", dm);
	_cleanup_free_ char *p = np_asprintf("/sys/block/%s/size", dm);
	uint64_t sectors;
	if (p && np_host_read_u64(h, p, &sectors) == 0 && sectors <= UINT64_MAX / 512)
		m->size_bytes = sectors * 512;
	free(p);
	p = np_asprintf("/sys/block/%s/slaves", dm);
	size_t n;
	if (!p || np_host_list(h, p, &m->slaves, &n) < 0)
		m->slaves = NULL;
	read_dm(h, m);
	np_mpath_path_names(h, m);
	m->collect_us = mono_us() - t0;
	return 1;
}

static void ask_multipathd(struct np_multipath *s, int *spare)
{
	_cleanup_free_ char *reply = NULL;
	size_t len;
	int r = np_multipathd_query("show maps json", MPATHD_TIMEOUT_MS, &reply, &len, spare);
	if (r < 0) {
		np_status_set(&s->multipathd, r, "multipathd socket: %s",
			      r == -ECONNREFUSED || r == -ENOENT ? "not running" : np_errno_reason(r));
		return;
	}
	struct np_mpd d;
	r = np_multipathd_parse_json(reply, len, &d);
	if (r < 0) {
		np_status_set(&s->multipathd, r, "multipathd: unexpected reply to 'show maps json': %.60s",
			      reply);
		return;
	}
	s->multipathd_available = true;
	np_multipathd_merge(s, &d);
	np_mpd_free(&d);
	/* no_path_retry counts checker intervals: their length, for the timeout chain */
	_cleanup_free_ char *cfg = NULL;
	int64_t v;
	if (np_multipathd_query("show config", MPATHD_TIMEOUT_MS, &cfg, NULL, spare) >= 0 &&
	    np_multipathd_config_int(cfg, "defaults", "polling_interval", &v) >= 0 && v > 0)
		s->mpathd_polling_interval_s = v;
}

/* The agent's multipath state: the socket a refused connect left (np_multipathd_query() @spare). */
struct mpath_state {
	int spare;
};

static void *mpath_state_new(const struct np_collect_ctx *ctx)
{
	(void)ctx;
	struct mpath_state *st = malloc(sizeof(*st));
	if (st)
		st->spare = -1;
	return st;
}

static void mpath_state_reload(void *state, const struct np_collect_ctx *ctx)
{
	(void)state;
	(void)ctx;
}

static void mpath_state_free(void *state)
{
	struct mpath_state *st = state;
	if (st && st->spare >= 0)
		close(st->spare);
	free(st);
}

static int collect_multipath(const struct np_collect_ctx *ctx, struct np_report *rep)
{
	const struct np_host *h = ctx->host;
	struct np_multipath *s = &rep->multipath;
	struct mpath_state *st = np_collect_state(ctx, "multipath");
	_cleanup_(np_strv_freep) char **own = NULL;
	char *const *names;
	size_t n = 0;
	int r = np_collect_list(ctx, "/sys/block", &own, &names, &n); /* timeouts lists it too */
	if (r < 0)
		return r;
	s->maps = calloc(n ? n : 1, sizeof(*s->maps));
	if (!s->maps)
		return -ENOMEM;
	for (size_t i = 0; i < n && r >= 0; i++) {
		if (!np_startswith(names[i], "dm-"))
			continue;
		r = np_mpath_collect_map(h, names[i], &s->maps[s->n_maps]);
		if (r > 0)
			s->n_maps++;
	}
	if (r == -ENOMEM)
		return r;
	if (h->live || dm_reachable(h)) /* its abstract socket is in the host's netns (hostNetwork) */
		ask_multipathd(s, st ? &st->spare : NULL);
	else
		np_status_set(&s->multipathd, -EOPNOTSUPP, "not asked: host root is not the live host");
	return 0;
}

NP_SECTION_STATEFUL(multipath, 55, 60, collect_multipath, NULL, mpath_state_new, mpath_state_reload,
		    mpath_state_free);
