// SPDX-License-Identifier: Apache-2.0
/*
 * nvme.c - NVMe controllers: topology from sysfs under the host root
 * (Documentation/ABI/testing/sysfs-class-nvme; /sys/class/nvme-subsystem;
 * per-path ana_state of native multipath), identity and health from admin
 * commands issued with libnvme's ioctl helpers (nvme_identify_ctrl,
 * nvme_get_log_{fw_slot,smart,error}) on /dev/nvmeX opened inside the host
 * root; libnvme is loaded only then (nvme_dl.h). libnvme's own tree scan is
 * not used: it reads /sys directly.
 */
#define _GNU_SOURCE
#include "nvme.h"
#include "nvme_dl.h"
#include "collector.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <ctype.h>
#include <fcntl.h>
#include <libnvme.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

/* Our decoders use spec offsets; libnvme's structs must agree with them. */
_Static_assert(sizeof(struct nvme_smart_log) == NP_NVME_SMART_LOG_SIZE, "smart log size");
_Static_assert(offsetof(struct nvme_smart_log, data_units_read) == 32, "smart offsets");
_Static_assert(offsetof(struct nvme_smart_log, temp_sensor) == 200, "smart offsets");
_Static_assert(sizeof(struct nvme_firmware_slot) == NP_NVME_FW_LOG_SIZE, "fw log size");
_Static_assert(sizeof(struct nvme_error_log_page) == NP_NVME_ERROR_ENTRY_SIZE, "error entry size");
_Static_assert(offsetof(struct nvme_id_ctrl, wctemp) == 266, "id ctrl offsets");
_Static_assert(offsetof(struct nvme_id_ctrl, subnqn) == 768, "id ctrl offsets");

#define ERRLOG_MAX_ENTRIES 64u

static int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* "nvme<digits>" */
static bool is_ctrl_name(const char *s)
{
	if (!np_startswith(s, "nvme") || !isdigit((unsigned char)s[4]))
		return false;
	for (s += 4; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* Skip "<digits>" at *p; false when none. */
static bool digits(const char **p)
{
	const char *s = *p;
	while (isdigit((unsigned char)*s))
		s++;
	if (s == *p)
		return false;
	*p = s;
	return true;
}

/* "nvme<A>n<C>" */
static bool is_ns_name(const char *s)
{
	if (!np_startswith(s, "nvme"))
		return false;
	s += 4;
	return digits(&s) && *s++ == 'n' && digits(&s) && !*s;
}

char *np_nvme_path_head(const char *path)
{
	const char *s = path, *a, *c;
	if (!np_startswith(s, "nvme"))
		return NULL;
	s += 4;
	a = s;
	if (!digits(&s) || *s != 'c')
		return NULL;
	size_t alen = (size_t)(s - a);
	s++;
	if (!digits(&s) || *s != 'n')
		return NULL;
	c = ++s;
	if (!digits(&s) || *s)
		return NULL;
	return np_asprintf("nvme%.*sn%s", (int)alen, a, c);
}

static struct np_nvme_ns *ns_find_or_add(struct np_nvme_ctrl *c, const char *name)
{
	for (size_t i = 0; i < c->n_namespaces; i++)
		if (streq(c->namespaces[i].name, name))
			return &c->namespaces[i];
	struct np_nvme_ns *v = reallocarray(c->namespaces, c->n_namespaces + 1, sizeof(*v));
	if (!v)
		return NULL;
	c->namespaces = v;
	struct np_nvme_ns *ns = &v[c->n_namespaces];
	memset(ns, 0, sizeof(*ns));
	ns->name = strdup(name);
	if (!ns->name)
		return NULL;
	c->n_namespaces++;
	return ns;
}

/* nsid and size of a namespace block device (/sys/block/<name>/{nsid,size}). */
static void ns_facts(const struct np_host *h, struct np_nvme_ns *ns)
{
	_cleanup_free_ char *p = np_asprintf("/sys/block/%s/nsid", ns->name);
	uint64_t v;
	if (p && np_host_read_u64(h, p, &v) == 0 && v <= UINT32_MAX)
		ns->nsid = (uint32_t)v;
	free(p);
	p = np_asprintf("/sys/block/%s/size", ns->name);
	if (p && np_host_read_u64(h, p, &v) == 0 && v <= UINT64_MAX / 512) {
		ns->size_bytes = v * 512; /* the block layer's 512-byte sectors */
		ns->have_size = true;
	}
	/*
	 * Without native multipath the namespace disk is the per-controller disk, and the kernel shows
	 * ana_state on it (drivers/nvme/host/core.c nvme_ns_id_attrs_are_visible(), later nvme_ns_attrs_are_visible(): ANA on
	 * disks with nvme_bdev_ops when the controller uses ANA); a multipath head has none.
	 */
	if (!ns->n_paths)
		np_host_attr(h, &ns->ana_state, "/sys/block/%s/ana_state", ns->name);
}

static int add_path(const struct np_host *h, struct np_nvme_ctrl *c, const char *path)
{
	_cleanup_free_ char *head = np_nvme_path_head(path);
	if (!head)
		return 0;
	struct np_nvme_ns *ns = ns_find_or_add(c, head);
	if (!ns)
		return -ENOMEM;
	struct np_nvme_path *v = reallocarray(ns->paths, ns->n_paths + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	ns->paths = v;
	struct np_nvme_path *p = &v[ns->n_paths++];
	memset(p, 0, sizeof(*p));
	p->name = strdup(path);
	if (!p->name)
		return -ENOMEM;
	np_host_attr(h, &p->ana_state, "/sys/class/nvme/%s/%s/ana_state", c->name, path);
	return 0;
}

static int collect_namespaces(const struct np_host *h, struct np_nvme_ctrl *c)
{
	_cleanup_free_ char *dir = np_asprintf("/sys/class/nvme/%s", c->name);
	char **names = NULL;
	size_t n = 0;
	if (!dir)
		return -ENOMEM;
	int r = np_host_list(h, dir, &names, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n && r >= 0; i++) {
		if (is_ns_name(names[i]))
			r = ns_find_or_add(c, names[i]) ? 0 : -ENOMEM;
		else
			r = add_path(h, c, names[i]);
	}
	np_strv_free(names);
	for (size_t i = 0; i < c->n_namespaces; i++)
		ns_facts(h, &c->namespaces[i]);
	return r;
}

static void collect_sysfs(const struct np_host *h, struct np_nvme_ctrl *c)
{
	const char *n = c->name;
	np_host_attr(h, &c->model, "/sys/class/nvme/%s/model", n);
	np_host_attr(h, &c->serial, "/sys/class/nvme/%s/serial", n);
	np_host_attr(h, &c->firmware_rev, "/sys/class/nvme/%s/firmware_rev", n);
	np_host_attr(h, &c->state, "/sys/class/nvme/%s/state", n);
	np_host_attr(h, &c->transport, "/sys/class/nvme/%s/transport", n);
	np_host_attr(h, &c->address, "/sys/class/nvme/%s/address", n);
	np_host_attr(h, &c->subsystem_nqn, "/sys/class/nvme/%s/subsysnqn", n);
	np_host_attr(h, &c->cntlid, "/sys/class/nvme/%s/cntlid", n);
}

/* libnvme helpers return the NVMe status (> 0), or -1 with errno. */
static int nvme_rc(int rc)
{
	if (rc < 0)
		return negative_errno();
	return rc > 0 ? -EIO : 0;
}

static void rc_status(struct np_nvme_ctrl *c, int raw, const char *what)
{
	if (raw > 0)
		np_status_set(&c->status, -EIO, "%s: NVMe status 0x%x", what, (unsigned)raw);
	else
		np_status_set(&c->status, nvme_rc(raw), "%s: %s", what, np_errno_reason(nvme_rc(raw)));
}

/* Replace a sysfs string with the Identify value when Identify has one. */
static void prefer(char **dst, char **src)
{
	if (!*src)
		return;
	free(*dst);
	*dst = TAKE_PTR(*src);
}

static int do_identify(int fd, struct np_nvme_ctrl *c, struct np_nvme_id_ctrl *id)
{
	struct nvme_id_ctrl raw;
	int rc = nvme_identify_ctrl(fd, &raw);
	if (rc != 0) {
		rc_status(c, rc, "identify controller");
		return nvme_rc(rc);
	}
	int r = np_nvme_id_ctrl_decode(&raw, sizeof(raw), id);
	if (r < 0)
		return r;
	prefer(&c->model, &id->model);
	prefer(&c->serial, &id->serial);
	prefer(&c->firmware_rev, &id->firmware_rev);
	if (!c->subsystem_nqn)
		prefer(&c->subsystem_nqn, &id->subnqn);
	int t;
	if (np_nvme_threshold_celsius(id->wctemp_kelvin, &t) == 0) {
		c->have_wctemp = true;
		c->warning_temp_threshold_celsius = t;
	}
	if (np_nvme_threshold_celsius(id->cctemp_kelvin, &t) == 0) {
		c->have_cctemp = true;
		c->critical_temp_threshold_celsius = t;
	}
	return 0;
}

static void do_fw_slots(int fd, struct np_nvme_ctrl *c, unsigned nslots)
{
	struct nvme_firmware_slot fw;
	int rc = nvme_get_log_fw_slot(fd, true, &fw);
	if (rc != 0) {
		rc_status(c, rc, "firmware slot log");
		return;
	}
	if (np_nvme_fw_slot_decode(&fw, sizeof(fw), nslots, &c->fw) < 0)
		np_status_set(&c->status, -ENOMEM, "firmware slot log: out of memory");
}

static void do_errlog(int fd, struct np_nvme_ctrl *c, unsigned elpe, struct np_nvme_poll *poll)
{
	unsigned entries = elpe + 1 > ERRLOG_MAX_ENTRIES ? ERRLOG_MAX_ENTRIES : elpe + 1;
	_cleanup_free_ struct nvme_error_log_page *log = calloc(entries, sizeof(*log));
	if (!log) {
		np_status_set(&c->status, -ENOMEM, "error log: out of memory");
		return;
	}
	int rc = nvme_get_log_error(fd, entries, true, log);
	if (rc != 0) {
		rc_status(c, rc, "error log");
		return;
	}
	uint64_t maxc;
	int r = np_nvme_error_log_decode(log, entries * sizeof(*log), poll->last_error_count, &c->errors,
					 &c->n_errors, &maxc);
	if (r < 0) {
		np_status_set(&c->status, r, "error log: %s", np_errno_reason(r));
		return;
	}
	poll->last_error_count = maxc;
	const struct np_u128 *n = &c->smart.num_err_log_entries;
	poll->last_num_err_log_entries = n->hi ? UINT64_MAX : n->lo;
}

static void do_smart(int fd, struct np_nvme_ctrl *c, struct np_nvme_poll *poll, int64_t now_ms)
{
	struct nvme_smart_log log;
	int rc = nvme_get_log_smart(fd, NVME_NSID_ALL, true, &log);
	if (rc != 0) {
		rc_status(c, rc, "SMART log");
		return;
	}
	np_nvme_smart_decode(&log, sizeof(log), &c->smart);
	poll->last_smart = c->smart;
	poll->have_smart = true;
	poll->last_smart_ms = now_ms;
}

/* Open /dev/<name> inside the host root; it must be the char device sysfs names. */
static int open_ctrl(const struct np_host *h, struct np_nvme_ctrl *c, const char *devpath)
{
	_cleanup_free_ char *dev = NULL;
	np_host_attr(h, &dev, "/sys/class/nvme/%s/dev", c->name);
	unsigned maj, min;
	if (!dev || sscanf(dev, "%u:%u", &maj, &min) != 2)
		return -ENODEV;
	_cleanup_close_ int fd = np_host_openat(h, devpath, O_RDONLY | O_NONBLOCK);
	if (fd < 0)
		return fd;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return negative_errno();
	if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != maj || minor(st.st_rdev) != min)
		return -ENODEV; /* a fixture tree, or another kernel's /dev */
	int r = fd;
	fd = -1;
	return r;
}

static void collect_device(const struct np_host *h, struct np_nvme_ctrl *c, struct np_nvme_poll *poll,
			   int64_t now_ms)
{
	_cleanup_free_ char *devpath = np_asprintf("/dev/%s", c->name);
	if (!devpath) {
		np_status_set(&c->status, -ENOMEM, "out of memory");
		return;
	}
	_cleanup_close_ int fd = open_ctrl(h, c, devpath);
	if (fd < 0) {
		np_status_set(&c->status, fd, "%s (%s)",
			      fd == -ENODEV ? "unavailable: not the host's device node" : np_errno_reason(fd),
			      devpath);
		return;
	}
	_cleanup_free_ char *why = NULL;
	int r = np_nvme_load(&why);
	if (r < 0) {
		np_status_set(&c->status, r, "unavailable: %s", why ? why : np_errno_reason(r));
		return;
	}
	struct np_nvme_id_ctrl id = { 0 };
	if (do_identify(fd, c, &id) == -ENOMEM)
		np_status_set(&c->status, -ENOMEM, "identify controller: out of memory");
	do_fw_slots(fd, c, id.fw_slots);
	if (np_nvme_poll_smart_due(poll, now_ms))
		do_smart(fd, c, poll, now_ms);
	else {
		c->smart_skipped = true;
		if (poll->have_smart)
			c->smart = poll->last_smart; /* not due: the page read at the last due time */
	}
	if (np_nvme_poll_errlog_due(poll, &c->smart))
		do_errlog(fd, c, id.elpe, poll);
	np_nvme_id_ctrl_free(&id);
}

/*
 * np_nvme_collect_ctrl() - one controller, e.g. "nvme0".
 * Reads /sys/class/nvme/<name>/{model,serial,firmware_rev,state,transport,
 * address,subsysnqn,cntlid,dev} and its namespaces/paths; then, when
 * /dev/<name> under the host root is the character device sysfs names (same
 * dev_t: the same kernel), Identify Controller, the firmware slot log, the
 * SMART log (only when np_nvme_poll_smart_due(@poll, @now_ms)) and the error
 * log (only when its entry counter grew; only entries newer than the last
 * seen). @poll is updated; NULL = a fresh state (read everything).
 * Failures of the device part are recorded in @out->status ("unavailable:
 * permission (/dev/nvme0)") with the sysfs facts kept. Returns 0, or -errno
 * when the controller's sysfs folder cannot be read (-ENOENT) or -ENOMEM.
 * @out is filled even on failure; free it with np_nvme_ctrl_free().
 */
static int np_nvme_collect_ctrl(const struct np_host *h, const char *name, struct np_nvme_poll *poll,
			 int64_t now_ms, struct np_nvme_ctrl *out)
{
	struct np_nvme_poll fresh;
	int64_t t0 = mono_us();
	if (!poll) {
		np_nvme_poll_init(&fresh);
		poll = &fresh;
	}
	memset(out, 0, sizeof(*out));
	out->name = strdup(name);
	if (!out->name)
		return -ENOMEM;
	_cleanup_free_ char *dir = np_asprintf("/sys/class/nvme/%s", name);
	if (!dir)
		return -ENOMEM;
	if (!np_host_exists(h, dir)) {
		np_status_set(&out->status, -ENOENT, "%s: %s", dir, np_errno_reason(ENOENT));
		return -ENOENT;
	}
	collect_sysfs(h, out);
	/* a poll kept under this name may be another controller's (hot swap): never report its SMART */
	if (poll != &fresh)
		np_nvme_poll_identify(poll, out->serial, out->model);
	int r = collect_namespaces(h, out);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		np_status_set(&out->status, r, "namespaces: %s", np_errno_reason(r));
	collect_device(h, out, poll, now_ms);
	out->collect_us = mono_us() - t0;
	return 0;
}

static int collect_subsystems(const struct np_host *h, struct np_nvme *s)
{
	char **names = NULL;
	size_t n = 0;
	int r = np_host_list(h, "/sys/class/nvme-subsystem", &names, &n);
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	s->subsystems = calloc(n ? n : 1, sizeof(*s->subsystems));
	if (!s->subsystems) {
		np_strv_free(names);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct np_nvme_subsys *ss = &s->subsystems[s->n_subsystems++];
		ss->name = strdup(names[i]);
		np_host_attr(h, &ss->nqn, "/sys/class/nvme-subsystem/%s/subsysnqn", names[i]);
		np_host_attr(h, &ss->iopolicy, "/sys/class/nvme-subsystem/%s/iopolicy", names[i]);
		_cleanup_free_ char *dir = np_asprintf("/sys/class/nvme-subsystem/%s", names[i]);
		char **ents = NULL;
		size_t ne = 0;
		if (dir && np_host_list(h, dir, &ents, &ne) == 0) {
			for (size_t k = 0; k < ne; k++)
				if (is_ctrl_name(ents[k]))
					np_strv_push(&ss->controllers, &ss->n_controllers, ents[k]);
			np_strv_free(ents);
		}
	}
	np_strv_free(names);
	return 0;
}

static void link_subsystem(struct np_nvme *s, struct np_nvme_ctrl *c)
{
	for (size_t i = 0; i < s->n_subsystems; i++)
		if (np_strv_contains(s->subsystems[i].controllers, c->name) && s->subsystems[i].name) {
			c->subsystem = strdup(s->subsystems[i].name);
			return;
		}
}

static int collect_nvme(const struct np_collect_ctx *ctx, struct np_report *rep)
{
	const struct np_host *h = ctx->host;
	struct np_nvme *s = &rep->nvme;
	char **names = NULL;
	size_t n = 0;
	struct np_nvme_polls *polls = np_collect_state(ctx, "nvme"); /* NULL: a one-shot run reads all */
	int r = np_host_list(h, "/sys/class/nvme", &names, &n);
	if (r == -ENOENT && polls)
		np_nvme_polls_retain(polls, NULL); /* the driver unloaded: every controller is gone */
	if (r == -ENOENT)
		return 0; /* no NVMe driver loaded: an empty section, not an error */
	if (r < 0)
		return r;
	if (polls)
		np_nvme_polls_retain(polls, names); /* a controller the cycle no longer sees is forgotten */
	if (np_host_read_line(h, "/etc/nvme/hostnqn", &s->host_nqn) < 0)
		s->host_nqn = NULL;
	r = collect_subsystems(h, s);
	if (r < 0)
		np_status_set(&s->status, r, "/sys/class/nvme-subsystem: %s", np_errno_reason(r));
	s->controllers = calloc(n ? n : 1, sizeof(*s->controllers));
	if (!s->controllers) {
		np_strv_free(names);
		return -ENOMEM;
	}
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int64_t now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	for (size_t i = 0; i < n; i++) {
		if (!is_ctrl_name(names[i]))
			continue;
		struct np_nvme_ctrl *c = &s->controllers[s->n_controllers++];
		struct np_nvme_poll *poll = polls ? np_nvme_polls_get(polls, names[i]) : NULL;
		r = np_nvme_collect_ctrl(h, names[i], poll, now_ms, c);
		if (r == -ENOMEM)
			break;
		link_subsystem(s, c);
	}
	np_strv_free(names);
	return r == -ENOMEM ? r : 0;
}

/* State across the agent's cycles: per controller, when SMART was read, the page, the error-log position. */
static void nvme_state_reload(void *state, const struct np_collect_ctx *ctx)
{
	((struct np_nvme_polls *)state)->smart_interval_ms =
		ctx->smart_interval_s > 0 ? (int64_t)(ctx->smart_interval_s * 1000) : 0;
}

static void *nvme_state_new(const struct np_collect_ctx *ctx)
{
	struct np_nvme_polls *t = calloc(1, sizeof(*t));
	if (t)
		nvme_state_reload(t, ctx);
	return t;
}

static void nvme_state_free(void *state)
{
	np_nvme_polls_free(state);
	free(state);
}

NP_SECTION_STATEFUL(nvme, 50, 50, collect_nvme, NULL, nvme_state_new, nvme_state_reload, nvme_state_free);

struct np_nvme_poll *np_nvme_polls_get(struct np_nvme_polls *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->names[i], name) == 0)
			return &t->polls[i];
	char **nn = realloc(t->names, (t->n + 1) * sizeof(*nn));
	if (!nn)
		return NULL;
	t->names = nn;
	struct np_nvme_poll *np = realloc(t->polls, (t->n + 1) * sizeof(*np));
	if (!np)
		return NULL;
	t->polls = np;
	if (!(t->names[t->n] = strdup(name)))
		return NULL;
	np_nvme_poll_init(&t->polls[t->n]);
	if (t->smart_interval_ms > 0)
		t->polls[t->n].smart_interval_ms = t->smart_interval_ms;
	return &t->polls[t->n++];
}

void np_nvme_polls_retain(struct np_nvme_polls *t, char **names)
{
	size_t k = 0;
	for (size_t i = 0; i < t->n; i++) {
		if (!names || !np_strv_contains(names, t->names[i])) {
			free(t->names[i]);
			continue;
		}
		t->names[k] = t->names[i];
		t->polls[k++] = t->polls[i];
	}
	t->n = k;
}

void np_nvme_polls_free(struct np_nvme_polls *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->names[i]);
	free(t->names);
	free(t->polls);
	*t = (struct np_nvme_polls){ .smart_interval_ms = t->smart_interval_ms };
}
