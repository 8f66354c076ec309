// SPDX-License-Identifier: Apache-2.0
/*
 * block.c - every block device of /sys/class/block: identity (udev database,
 * else sysfs), queue settings (Documentation/ABI/stable/sysfs-block), holders
 * and slaves, /proc/diskstats counters (diskstats.h) and, with --interval, the
 * iostat -x rates and I/O stalls (stall.h) between two samples.
 */
#define _GNU_SOURCE
#include "block.h"
#include "collector.h"
#include "facts.h"
#include "diskstats.h"
#include "stall.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <assert.h>
#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <sys/resource.h>
#include <sys/vfs.h>
#include <string.h>
#include <time.h>

int np_udev_db_parse(const char *buf, size_t len, char ***props, size_t *bad)
{
	char **v = calloc(1, sizeof(char *));
	size_t n = 0, nbad = 0;
	if (!v)
		return -ENOMEM;
	const char *line;
	size_t ll;
	for (size_t off = 0; np_next_line(buf, len, &off, &line, &ll);) {
		if (ll == 0)
			continue;
		if (ll < 2 || line[1] != ':' || !isalpha((unsigned char)line[0]) || memchr(line, '\0', ll)) {
			nbad++;
			continue;
		}
		if (line[0] != 'E')
			continue;
		const char *eq = memchr(line + 2, '=', ll - 2);
		if (!eq || eq == line + 2) {
			nbad++;
			continue;
		}
		_cleanup_free_ char *kv = strndup(line + 2, ll - 2);
		if (!kv || np_strv_push(&v, &n, kv) < 0) {
			np_strv_free(v);
			return -ENOMEM;
		}
	}
	*props = v;
	if (bad)
		*bad = nbad;
	return nbad ? -EINVAL : 0;
}

const char *np_udev_prop(char *const *props, const char *key)
{
	size_t kl = strlen(key);
	for (; props && *props; props++)
		if (strneq(*props, key, kl) && (*props)[kl] == '=')
			return *props + kl + 1;
	return NULL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

char *np_udev_unescape(const char *s)
{
	char *out = malloc(strlen(s) + 1), *w = out;
	if (!out)
		return NULL;
	for (const char *p = s; *p; p++) {
		int hi, lo;
		if (p[0] == '\\' && p[1] == 'x' && (hi = hexval(p[2])) >= 0 && (lo = hexval(p[3])) >= 0) {
			*w++ = (char)(hi << 4 | lo);
			p += 3;
		} else {
			*w++ = *p;
		}
	}
	*w = '\0';
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			*p = '?';
	return np_strip(out);
}

int np_block_parse_scheduler(const char *s, char **active, char ***all)
{
	char **v = NULL;
	size_t n = 0, nbr = 0;
	_cleanup_free_ char *act = NULL;
	int r = np_split(s, " \t\n", &v, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(v[i]);
		if (l >= 2 && v[i][0] == '[' && v[i][l - 1] == ']') {
			memmove(v[i], v[i] + 1, l - 2);
			v[i][l - 2] = '\0';
			nbr++;
			free(act);
			act = strdup(v[i]);
			if (!act) {
				np_strv_free(v);
				return -ENOMEM;
			}
		}
	}
	if (n == 0 || nbr > 1 || (nbr == 0 && n > 1)) {
		np_strv_free(v);
		return -EINVAL;
	}
	if (!act && !(act = strdup(v[0]))) {
		np_strv_free(v);
		return -ENOMEM;
	}
	*active = TAKE_PTR(act);
	*all = v;
	return 0;
}

const char *np_block_transport(const char *id_path, const char *id_bus, const char *syspath)
{
	static const struct {
		const char *needle, *name;
	} by_path[] = {
		{ "-nvme-", "nvme" }, { "-ata-", "sata" }, { "-sas-", "sas" },  { "-iscsi-", "iscsi" },
		{ "-fc-", "fc" },     { "-usb-", "usb" },  { "-virtio-", "virtio" }, { "-mmc-", "mmc" },
	}, by_sys[] = {
		{ "/nvme/", "nvme" },      { "/nvme-subsystem/", "nvme" }, { "/usb", "usb" },
		{ "/session", "iscsi" },   { "/rport-", "fc" },            { "/end_device-", "sas" },
		{ "/ata", "sata" },        { "/virtio", "virtio" },        { "/mmc_host/", "mmc" },
		{ "/vbd-", "xen" },        { "/port-", "sas" },
	};
	if (id_path)
		for (size_t i = 0; i < ARRAY_SIZE(by_path); i++)
			if (strstr(id_path, by_path[i].needle))
				return by_path[i].name;
	if (id_bus) {
		if (streq(id_bus, "ata"))
			return "sata";
		if (streq(id_bus, "usb") || streq(id_bus, "nvme"))
			return id_bus[0] == 'u' ? "usb" : "nvme";
	}
	if (syspath)
		for (size_t i = 0; i < ARRAY_SIZE(by_sys); i++)
			if (strstr(syspath, by_sys[i].needle))
				return by_sys[i].name;
	return NULL;
}

static bool name_is(const char *name, const char *prefix)
{
	size_t l = strlen(prefix);
	return strneq(name, prefix, l) && isdigit((unsigned char)name[l]);
}

const char *np_block_kind(const char *name, bool is_partition, bool has_dm, bool has_md)
{
	if (is_partition)
		return "partition";
	if (has_dm || name_is(name, "dm-"))
		return "dm";
	if (has_md || name_is(name, "md"))
		return "md";
	static const char *const simple[] = { "loop", "zram", "nbd", "rbd", "ram", "sr" };
	static const char *const kinds[] = { "loop", "zram", "nbd", "rbd", "ram", "rom" };
	for (size_t i = 0; i < ARRAY_SIZE(simple); i++)
		if (name_is(name, simple[i]))
			return kinds[i];
	if (name_is(name, "nvme") && strchr(name + 4, 'n'))
		return "nvme";
	return "disk";
}

/* ---- the collector ---- */

static void strv_freep(char ***v)
{
	np_strv_free(*v);
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Record a read failure other than "absent" in the device's status, with the attribute's host path. */
static void note_err(struct np_block_dev *d, int r, const struct np_dir *dir, const char *rel)
{
	if (r < 0 && r != -ENOENT && r != -ENOTDIR)
		np_status_set(&d->status, r, "%s/%s: %s", dir->path, rel, np_errno_reason(r));
}

/* @fx: the facts cache (facts.h) for an attribute that does not change between cycles, else NULL */
static void attr_str(struct np_facts *fx, const struct np_dir *dir, struct np_block_dev *d, const char *rel,
		     char **dst)
{
	char *v = NULL;
	int r = np_facts_dir_attr(fx, dir, rel, &v);
	if (r < 0)
		note_err(d, r, dir, rel);
	if (r > 0) {
		free(*dst);
		*dst = v;
	}
}

static void attr_num(struct np_facts *fx, const struct np_dir *dir, struct np_block_dev *d, const char *rel,
		     int64_t *dst)
{
	uint64_t v;
	int r = np_facts_dir_read_u64(fx, dir, rel, &v);
	note_err(d, r, dir, rel);
	if (r >= 0 && v <= INT64_MAX)
		*dst = (int64_t)v;
}

/* The names of a device's folder that decide what else is read from it. */
enum ent {
	ENT_PARTITION,
	ENT_DM,
	ENT_MD,
	ENT_DEVICE,
	ENT_SERIAL,
	ENT_WWID,
	ENT_HOLDERS,
	ENT_SLAVES,
	ENT_N
};

static const char *const ent_names[ENT_N] = {
	[ENT_PARTITION] = "partition", [ENT_DM] = "dm",	       [ENT_MD] = "md",
	[ENT_DEVICE] = "device",       [ENT_SERIAL] = "serial", [ENT_WWID] = "wwid",
	[ENT_HOLDERS] = "holders",     [ENT_SLAVES] = "slaves",
};

/* Which of those names a device's folder holds, from its listing, looked at once. */
struct ents {
	bool has[ENT_N];
};

/* np_facts_blob() reader: @buf a struct ents, @ud the device's folder (struct np_dir). */
static int ents_read(void *buf, size_t size, void *ud)
{
	struct ents *e = buf;
	_cleanup_(strv_freep) char **names = NULL;
	int r = np_dir_list(ud, NULL, &names, NULL);
	if (r < 0)
		return r;
	assert(size == sizeof(*e));
	*e = (struct ents){ 0 };
	for (char **p = names; *p; p++)
		for (size_t i = 0; i < ENT_N; i++)
			if (streq(*p, ent_names[i])) {
				e->has[i] = true;
				break;
			}
	return 0;
}

/*
 * What a device's folder holds, listed once: the names it does not hold are not opened (a loop
 * device has no device/, a whole disk no partition, dm or md). @e NULL when the listing failed, or
 * for another folder than the one listed: then every name is tried.
 */
static bool has_entry(const struct ents *e, enum ent name)
{
	return !e || e->has[name];
}

static void attr_list(struct np_facts *fx, struct np_dir *dir, struct np_block_dev *d, const struct ents *ents,
		      enum ent name, char ***dst)
{
	const char *rel = ent_names[name];
	if (!has_entry(ents, name)) {
		*dst = calloc(1, sizeof(char *)); /* none, as for a missing folder below */
		return;
	}
	int r = np_facts_dir_list(fx, dir, rel, dst, NULL);
	if (r == -ENOENT) {
		/* no holders/ or slaves/ folder means none (fixture trees in git cannot keep empty folders) */
		*dst = calloc(1, sizeof(char *));
		return;
	}
	note_err(d, r, dir, rel);
}

static void read_dev(struct np_facts *fx, const struct np_dir *dir, struct np_block_dev *d)
{
	_cleanup_free_ char *dev = NULL;
	attr_str(fx, dir, d, "dev", &dev);
	unsigned maj, min;
	char c;
	if (dev && sscanf(dev, "%u:%u%c", &maj, &min, &c) == 2) {
		d->major = maj;
		d->minor = min;
		d->has_dev = true;
	} else if (dev) {
		np_status_set(&d->status, -EINVAL, "%s/dev: not major:minor", dir->path);
	}
}

/*
 * The folders of one device, each opened once (hostfs.h np_dir): its own, its disk's (a
 * partition's queue and identity are its disk's: the device itself otherwise) and that disk's
 * device/ (a link up, out of the folder: opened on its own).
 */
struct devdirs {
	struct np_dir base, disk, hw;
	const struct np_dir *q; /* &base, or &disk for a partition */
	struct np_facts *fx;    /* the agent's facts (facts.h), NULL in a one-shot run */
};

/*
 * Open @path into @d; with facts, only its path: what is read every cycle (size, ro) is held open
 * (struct held), and a fact is read again only after an event, by full path, where opening the
 * folder would cost one more open. Returns 0 or -ENOMEM (np_dir_open()'s other errors leave @d
 * usable by full paths).
 */
static int dir_init(struct devdirs *dd, const struct np_host *h, const char *path, struct np_dir *d)
{
	if (!dd->fx)
		return np_dir_open(h, path, d) == -ENOMEM ? -ENOMEM : 0;
	*d = (struct np_dir){ .h = h, .fd = -1, .path = strdup(path) };
	return d->path ? 0 : -ENOMEM;
}

static void devdirs_close(struct devdirs *dd)
{
	np_dir_close(&dd->base);
	np_dir_close(&dd->disk);
	np_dir_close(&dd->hw);
}

static void read_queue(struct devdirs *dd, struct np_block_dev *d, const struct ents *qents)
{
	int64_t rota = -1;
	attr_num(dd->fx, dd->q, d, "queue/rotational", &rota);
	d->rotational = rota < 0 ? -1 : rota != 0;
	_cleanup_free_ char *sched = NULL;
	attr_str(dd->fx, dd->q, d, "queue/scheduler", &sched);
	if (sched) {
		int r = np_block_parse_scheduler(sched, &d->scheduler, &d->schedulers);
		if (r < 0)
			np_status_set(&d->status, r, "%s/queue/scheduler: cannot parse", dd->q->path);
	}
	attr_num(dd->fx, dd->q, d, "queue/nr_requests", &d->nr_requests);
	if (has_entry(qents, ENT_DEVICE))
		attr_num(dd->fx, &dd->hw, d, "queue_depth", &d->queue_depth);
	attr_str(dd->fx, dd->q, d, "queue/write_cache", &d->write_cache);
	attr_num(dd->fx, dd->q, d, "queue/logical_block_size", &d->logical_block_size);
	attr_num(dd->fx, dd->q, d, "queue/physical_block_size", &d->physical_block_size);
}

static void read_udev(struct np_facts *fx, const struct np_host *h, struct np_block_dev *d)
{
	if (!d->has_dev)
		return;
	_cleanup_free_ char *p = np_asprintf("/run/udev/data/b%u:%u", d->major, d->minor);
	_cleanup_free_ char *buf = NULL;
	const char *data;
	size_t len, bad = 0;
	if (!p)
		return;
	int r = np_facts_read(fx, h, p, NP_UDEV_DB_MAX, &buf, &data, &len);
	if (r < 0 && r != -ENOENT && r != -ENOTDIR)
		np_status_set(&d->status, r, "%s: %s", p, np_errno_reason(r));
	if (r < 0)
		return;
	r = np_udev_db_parse(data, len, &d->udev, &bad);
	if (r == -EINVAL)
		np_status_set(&d->status, r, "%s: %zu malformed lines", p, bad);
}

/* First of the udev properties @keys present, decoded when its name ends in _ENC. */
static char *udev_pick(char *const *props, const char *const *keys)
{
	for (; *keys; keys++) {
		const char *v = np_udev_prop(props, *keys);
		if (!v || !*v)
			continue;
		char *s = np_udev_unescape(v);
		if (s && !*s) {
			free(s);
			continue;
		}
		return s;
	}
	return NULL;
}

int np_udev_identity(char *const *props, char **vendor, char **model, char **serial, char **wwn)
{
	static const char *const kv[] = { "ID_VENDOR_ENC", "ID_VENDOR", NULL };
	static const char *const km[] = { "ID_MODEL_ENC", "ID_MODEL", NULL };
	static const char *const ks[] = { "ID_SERIAL_SHORT", "ID_SERIAL", NULL };
	static const char *const kw[] = { "ID_WWN_WITH_EXTENSION", "ID_WWN", NULL };
	*vendor = udev_pick(props, kv);
	*model = udev_pick(props, km);
	*serial = udev_pick(props, ks);
	*wwn = udev_pick(props, kw);
	return !!*vendor + !!*model + !!*serial + !!*wwn;
}

/*
 * A device's size and ro attributes, held open across the agent's cycles: the two values read
 * every cycle (a resize to or from 0 sectors and BLKROSET send no uevent) cost one pread(2) each
 * (np_fd_reread_u64(): sysfs runs the attribute's show() again at offset 0, so the value is as
 * fresh as a new open's) instead of a walk through the /sys/class/block link, an open, a read and
 * a close. A descriptor stays bound to its device's kernfs node: once that device is gone, its
 * read fails (-ENODEV) and the attribute is opened again by name, as before, in the same cycle;
 * and every descriptor is closed when the agent saw a device event (ctx->facts_gen), so a device
 * removed and added again under its name is read through its new node either way. Only a sysfs
 * attribute is held: a file of a captured tree may be replaced, which a held one would not see.
 */
enum { HELD_SIZE, HELD_RO, HELD_N };

struct held {
	char *name;       /* the device's; NULL: a free slot */
	int fd[HELD_N];   /* -1: not open */
};

/* At most this many devices' attributes are held (2 descriptors each); others are read by path. */
#define HELD_MAX 256

/*
 * How many devices' attributes may be held: HELD_MAX, and their descriptors within a quarter of
 * RLIMIT_NOFILE's soft limit (the agent's kept hostfs files take another quarter, agent.c), so the
 * files a cycle opens by name still open under a low limit instead of failing with EMFILE.
 */
static size_t held_max(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur / 4 / HELD_N < HELD_MAX)
		return rl.rlim_cur / 4 / HELD_N;
	return HELD_MAX;
}

static void held_close(struct held *hd)
{
	free(hd->name);
	hd->name = NULL;
	for (size_t i = 0; i < HELD_N; i++) {
		if (hd->fd[i] >= 0)
			close(hd->fd[i]);
		hd->fd[i] = -1;
	}
}

/*
 * attr_num() of an attribute read every cycle: through @hd's descriptor @i, opened at the first
 * read and kept while reads through it succeed; @hd NULL reads by path.
 */
static void held_num(struct held *hd, int i, const struct np_dir *dir, struct np_block_dev *d, const char *rel,
		     int64_t *dst)
{
	if (!hd) {
		attr_num(NULL, dir, d, rel, dst);
		return;
	}
	uint64_t v;
	int r = hd->fd[i] >= 0 ? np_fd_reread_u64(hd->fd[i], &v) : -EBADF;
	if (r < 0 && hd->fd[i] >= 0) { /* gone, or failing: what a new open reads is the answer */
		close(hd->fd[i]);
		hd->fd[i] = -1;
	}
	if (r < 0) {
		int fd = np_dir_openat(dir, rel, O_RDONLY);
		struct statfs sf;
		r = fd < 0 ? fd : np_fd_reread_u64(fd, &v);
		if (r >= 0 && fstatfs(fd, &sf) == 0 && sf.f_type == SYSFS_MAGIC)
			hd->fd[i] = fd;
		else if (fd >= 0)
			close(fd);
	}
	note_err(d, r, dir, rel);
	if (r >= 0 && v <= INT64_MAX)
		*dst = (int64_t)v;
}

/* @link: the target of the disk's /sys/class/block link (its device path), or NULL. */
static void read_identity(struct devdirs *dd, struct np_block_dev *d, const struct ents *ents,
			  const struct ents *qents, const char *link)
{
	if (d->udev) {
		np_udev_identity(d->udev, &d->vendor, &d->model, &d->serial, &d->wwn);
		const char *ip = np_udev_prop(d->udev, "ID_PATH");
		d->id_path = ip ? strdup(ip) : NULL;
	}
	bool from_udev = d->vendor || d->model || d->serial || d->wwn;
	bool dev = has_entry(qents, ENT_DEVICE);
	if (!d->vendor && dev)
		attr_str(dd->fx, &dd->hw, d, "vendor", &d->vendor);
	if (!d->model && dev)
		attr_str(dd->fx, &dd->hw, d, "model", &d->model);
	if (!d->serial && has_entry(qents, ENT_SERIAL))
		attr_str(dd->fx, dd->q, d, "serial", &d->serial);
	if (!d->serial && dev)
		attr_str(dd->fx, &dd->hw, d, "serial", &d->serial);
	if (!d->wwn && has_entry(ents, ENT_WWID))
		attr_str(dd->fx, &dd->base, d, "wwid", &d->wwn);
	if (!d->wwn && dev)
		attr_str(dd->fx, &dd->hw, d, "wwid", &d->wwn);
	bool any = d->vendor || d->model || d->serial || d->wwn;
	d->identity_source = any ? strdup(from_udev ? "udev" : "sysfs") : NULL;
	const char *t = np_block_transport(d->id_path, np_udev_prop(d->udev, "ID_BUS"), link);
	d->transport = t ? strdup(t) : NULL;
}

/* The disk a partition belongs to: the folder above it in its device path @link. */
static char *partition_parent(const char *link)
{
	const char *end = link ? strrchr(link, '/') : NULL;
	if (!end)
		return NULL;
	const char *start = end;
	while (start > link && start[-1] != '/')
		start--;
	return strndup(start, (size_t)(end - start));
}

/* @name is in @dir: in its listing @ents, or, when it could not be listed, found there. */
static bool dir_has(const struct np_dir *dir, const struct ents *ents, enum ent name)
{
	if (ents)
		return ents->has[name];
	_cleanup_close_ int fd = np_dir_openat(dir, ent_names[name], O_PATH);
	return fd >= 0;
}

/*
 * Device @d of /sys/class/block (@cls: that folder, opened once for every device). With the agent's
 * facts (@fx, facts.h) everything but the size and read-only flag is a fact: identity, kind, queue
 * settings (a udev rule sets them at the device's uevent, and the agent reads them again after it;
 * one written by hand shows within the facts bound), holders and slaves (a map or array made or
 * removed is a uevent), the udev database.
 */
static void read_device(struct np_facts *fx, struct held *hd, const struct np_host *h, const struct np_dir *cls,
			struct np_block_dev *d)
{
	_cleanup_free_ char *base = np_asprintf("/sys/class/block/%s", d->name);
	_cleanup_free_ char *link = NULL, *disk_link = NULL;
	_cleanup_(devdirs_close) struct devdirs dd = { .base.fd = -1, .disk.fd = -1, .hw.fd = -1, .fx = fx };
	if (!base || dir_init(&dd, h, base, &dd.base) < 0) {
		np_status_set(&d->status, -ENOMEM, "out of memory");
		return;
	}
	dd.q = &dd.base;
	read_dev(fx, &dd.base, d);
	int64_t sectors = -1, v = -1;
	held_num(hd, HELD_SIZE, &dd.base, d, "size", &sectors);
	d->size_bytes = sectors >= 0 && sectors <= INT64_MAX / 512 ? sectors * 512 : -1;
	held_num(hd, HELD_RO, &dd.base, d, "ro", &v);
	d->read_only = v > 0;
	v = -1;
	attr_num(fx, &dd.base, d, "removable", &v);
	d->removable = v > 0;
	/* the listing is a fact (a folder's names change with its device: a uevent); only the few
	 * names that decide what else is read are kept of it */
	char key[sizeof("block-ents ") + NAME_MAX]; /* a folder's name: at most NAME_MAX bytes */
	snprintf(key, sizeof(key), "block-ents %s", d->name);
	struct ents listed, *ents = NULL; /* NULL: try every name */
	if (np_facts_blob(fx, key, &listed, sizeof(listed), ents_read, &dd.base) >= 0)
		ents = &listed;
	if (np_facts_dir_readlink(fx, cls, d->name, &link) < 0)
		link = NULL;
	bool part = dir_has(&dd.base, ents, ENT_PARTITION);
	if (part)
		d->parent = partition_parent(link);
	bool dm = dir_has(&dd.base, ents, ENT_DM);
	bool md = dir_has(&dd.base, ents, ENT_MD);
	d->kind = strdup(np_block_kind(d->name, part, dm, md));
	if (dm) {
		attr_str(fx, &dd.base, d, "dm/name", &d->dm_name);
		attr_str(fx, &dd.base, d, "dm/uuid", &d->dm_uuid);
	}
	if (d->parent) {
		_cleanup_free_ char *qbase = np_asprintf("/sys/class/block/%s", d->parent);
		if (!qbase || dir_init(&dd, h, qbase, &dd.disk) < 0)
			return;
		dd.q = &dd.disk;
		if (np_facts_dir_readlink(fx, cls, d->parent, &disk_link) < 0)
			disk_link = NULL;
	}
	const struct ents *qents = d->parent ? NULL : ents; /* a partition's queue and identity are its disk's */
	if (has_entry(qents, ENT_DEVICE)) {
		_cleanup_free_ char *hw = np_asprintf("%s/device", dd.q->path);
		if (!hw || dir_init(&dd, h, hw, &dd.hw) < 0)
			return;
	}
	read_queue(&dd, d, qents);
	attr_list(fx, &dd.base, d, ents, ENT_HOLDERS, &d->holders);
	attr_list(fx, &dd.base, d, ents, ENT_SLAVES, &d->slaves);
	read_udev(fx, h, d);
	read_identity(&dd, d, ents, qents, d->parent ? disk_link : link);
}

struct read_args {
	struct np_facts *fx;
	struct held *held; /* one per device, NULL past n_held or in a one-shot run */
	size_t n_held;
	const struct np_host *h;
	const struct np_dir *cls;
	struct np_block *b;
};

/* read_device() of device @i (np_collect_for()): it writes only that device */
static void read_one(void *arg, size_t i)
{
	const struct read_args *a = arg;
	read_device(a->fx, i < a->n_held ? &a->held[i] : NULL, a->h, a->cls, &a->b->devices[i]);
}

/*
 * /proc/diskstats, whole, into *@buf (np_host_read()'s contract). @held: the agent's descriptor of
 * it, kept across samples (NULL: none; -1: not open): read again from its start (lseek(2) to 0
 * restarts a seq_file, fs/seq_file.c seq_lseek(): every line as fresh as a new open's), instead
 * of a path walk, an open and a close per sample. Opened by path, and kept when it is procfs (a
 * captured tree's file may be replaced), when not open or when a read through it failed.
 */
static int diskstats_read(const struct np_host *h, int *held, char **buf, size_t *len)
{
	if (held && *held >= 0) {
		if (lseek(*held, 0, SEEK_SET) == 0 && np_read_fd(*held, NP_READ_MAX_DEFAULT, 0, buf, len) >= 0)
			return 0;
		close(*held);
		*held = -1;
	}
	int fd = np_host_openat(h, "/proc/diskstats", O_RDONLY);
	if (fd < 0)
		return fd;
	struct statfs sf;
	int r = np_read_fd(fd, NP_READ_MAX_DEFAULT, 0, buf, len);
	if (r >= 0 && held && fstatfs(fd, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC)
		*held = fd;
	else
		close(fd);
	return r;
}

static int read_diskstats(const struct np_host *h, int *held, struct np_block *b, struct np_diskstats *ds)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = diskstats_read(h, held, &buf, &len);
	b->sampled_at_ms = mono_ms();
	if (r < 0) {
		np_status_set(&b->status, r, "/proc/diskstats: %s", np_errno_reason(r));
		return r;
	}
	r = np_diskstats_parse(buf, len, ds);
	if (r == -EINVAL)
		np_status_set(&b->status, r, "/proc/diskstats: %zu lines rejected, first at line %u: %s",
			      ds->bad_lines, ds->first_bad_line, ds->first_bad_reason);
	else if (r == -EFBIG)
		np_status_set(&b->status, r, "/proc/diskstats: more than %u lines, the rest ignored",
			      NP_DS_MAX_LINES);
	else if (r < 0)
		return r;
	return 0;
}

static int add_device(struct np_block *b, size_t *cap, const char *name)
{
	if (b->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct np_block_dev *p = reallocarray(b->devices, nc, sizeof(*p));
		if (!p)
			return -ENOMEM;
		b->devices = p;
		*cap = nc;
	}
	struct np_block_dev *d = &b->devices[b->n];
	*d = (struct np_block_dev){ .rotational = -1, .size_bytes = -1, .nr_requests = -1, .queue_depth = -1,
				    .logical_block_size = -1, .physical_block_size = -1 };
	d->name = strdup(name);
	if (!d->name)
		return -ENOMEM;
	b->n++;
	return 0;
}

/* Order of device indices of @ctx (a struct np_block) by name. */
static int cmp_dev_name(const void *a, const void *b, void *ctx)
{
	const struct np_block *blk = ctx;
	return strcmp(blk->devices[*(const size_t *)a].name, blk->devices[*(const size_t *)b].name);
}

/* Order of line indices of @ctx (a struct np_diskstats) by name, major, minor, then place in the file. */
static int cmp_line(const void *a, const void *b, void *ctx)
{
	const struct np_diskstats *ds = ctx;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	const struct np_diskstat *p = &ds->dev[x], *q = &ds->dev[y];
	int c = strcmp(p->name, q->name);
	if (c)
		return c;
	if (p->major != q->major)
		return p->major < q->major ? -1 : 1;
	if (p->minor != q->minor)
		return p->minor < q->minor ? -1 : 1;
	return (x > y) - (x < y);
}

/*
 * first[i]: the first diskstats line with line i's name and major:minor. A line that matches no
 * sysfs device joins the device made for the first line of its kind (an earlier line of the same
 * kind cannot have matched sysfs where this one does not).
 */
static int first_of_kind(const struct np_diskstats *ds, size_t *first)
{
	_cleanup_free_ size_t *ord = calloc(ds->n ? ds->n : 1, sizeof(*ord));
	if (!ord)
		return -ENOMEM;
	for (size_t i = 0; i < ds->n; i++)
		ord[i] = i;
	qsort_r(ord, ds->n, sizeof(*ord), cmp_line, (void *)ds);
	for (size_t i = 0; i < ds->n; i++) {
		const struct np_diskstat *p = &ds->dev[ord[i]], *q = i ? &ds->dev[ord[i - 1]] : NULL;
		bool same = q && streq(p->name, q->name) && p->major == q->major && p->minor == q->minor;
		first[ord[i]] = same ? first[ord[i - 1]] : ord[i];
	}
	return 0;
}

/* The sysfs device named @name (@idx: the @n sysfs device indices sorted by name), or NULL. */
static struct np_block_dev *sysfs_dev(const struct np_block *b, const size_t *idx, size_t n, const char *name)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(b->devices[idx[mid]].name, name);
		if (!c)
			return &b->devices[idx[mid]];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * Join the counters; diskstats lines with no sysfs device are kept as devices of their own. A sysfs
 * entry without a readable `dev` is the same device as the line of its name. Linear but for the
 * sorts: 1,024 disks were a million name comparisons.
 */
static int join_stats(struct np_block *b, size_t *cap, const struct np_diskstats *ds)
{
	size_t nsys = b->n;
	_cleanup_free_ size_t *idx = calloc(nsys ? nsys : 1, sizeof(*idx));
	_cleanup_free_ size_t *first = calloc(ds->n ? ds->n : 1, sizeof(*first));
	_cleanup_free_ size_t *dev_of = calloc(ds->n ? ds->n : 1, sizeof(*dev_of));
	if (!idx || !first || !dev_of || first_of_kind(ds, first) < 0)
		return -ENOMEM;
	for (size_t j = 0; j < nsys; j++)
		idx[j] = j;
	qsort_r(idx, nsys, sizeof(*idx), cmp_dev_name, b);
	for (size_t i = 0; i < ds->n; i++) {
		const struct np_diskstat *s = &ds->dev[i];
		struct np_block_dev *d = sysfs_dev(b, idx, nsys, s->name);
		if (d && d->has_dev && (d->major != s->major || d->minor != s->minor))
			d = NULL;
		if (d && !d->has_dev) {
			d->major = s->major;
			d->minor = s->minor;
			d->has_dev = true;
		} else if (!d && first[i] != i) {
			d = &b->devices[dev_of[first[i]]];
		} else if (!d) {
			int r = add_device(b, cap, s->name);
			if (r < 0)
				return r;
			d = &b->devices[b->n - 1];
			d->major = s->major;
			d->minor = s->minor;
			d->has_dev = true;
			np_status_set(&d->status, -ENOENT, "in /proc/diskstats but not in /sys/class/block");
		}
		dev_of[i] = (size_t)(d - b->devices);
		d->has_stats = true;
		d->stats = s->c;
	}
	return 0;
}

/* ---- state across the agent's cycles: the stall detector (stalls span cycles) ---- */

static struct np_stall_cfg stall_cfg(const struct np_collect_ctx *ctx)
{
	double s = ctx->stall_seconds > 0 ? ctx->stall_seconds : NP_STALL_DEFAULT_MS / 1000.0;
	return (struct np_stall_cfg){ .stall_ms = (int64_t)(s * 1000),
				      .await_ms = ctx->stall_await_ms > 0 ? ctx->stall_await_ms : 0 };
}

/* The section's state: the stall detector, its devices' facts (facts.h) and held attributes. */
struct block_state {
	struct np_stall_detector *det;
	struct np_facts *fx;
	struct held *held; /* in the order of the last cycle's devices */
	size_t n_held;
	uint64_t held_gen; /* the facts generation they were opened under */
	int ds_fd;         /* /proc/diskstats (diskstats_read()), -1: not open */
};

static void held_free(struct block_state *k)
{
	for (size_t i = 0; i < k->n_held; i++)
		held_close(&k->held[i]);
	free(k->held);
	k->held = NULL;
	k->n_held = 0;
}

/*
 * Line @k's held attributes up with this cycle's first @n devices of @b: a device keeps its
 * descriptors, one gone has them closed, all are closed after a device event (see struct held).
 * Without memory, nothing is held: every attribute is read by path.
 */
static void held_align(struct block_state *k, const struct np_block *b, size_t n, uint64_t gen)
{
	if (k->held_gen != gen)
		held_free(k);
	k->held_gen = gen;
	size_t max = held_max();
	n = n < max ? n : max;
	struct held *nh = n ? calloc(n, sizeof(*nh)) : NULL;
	for (size_t i = 0, j = 0; nh && i < n; i++) {
		nh[i] = (struct held){ .fd = { -1, -1 } };
		/* the names come sorted as last cycle: look on from the last match, then from the start */
		for (size_t t = 0; t < k->n_held && !nh[i].name; t++, j++) {
			struct held *o = &k->held[j % k->n_held];
			if (o->name && streq(o->name, b->devices[i].name)) {
				nh[i] = *o;
				*o = (struct held){ .fd = { -1, -1 } };
			}
		}
		if (!nh[i].name && !(nh[i].name = strdup(b->devices[i].name))) {
			for (size_t x = 0; x <= i; x++)
				held_close(&nh[x]);
			free(nh);
			nh = NULL;
		}
	}
	held_free(k);
	k->held = nh;
	k->n_held = nh ? n : 0;
}

static void block_state_free(void *state)
{
	struct block_state *k = state;
	np_stall_free(k->det);
	np_facts_free(k->fx);
	held_free(k);
	if (k->ds_fd >= 0)
		close(k->ds_fd);
	free(k);
}

static void *block_state_new(const struct np_collect_ctx *ctx)
{
	struct np_stall_cfg cfg = stall_cfg(ctx);
	struct block_state *k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	k->ds_fd = -1;
	k->det = np_stall_new(&cfg);
	k->fx = np_facts_new();
	if (!k->det || !k->fx) {
		block_state_free(k);
		return NULL;
	}
	return k;
}

static void block_state_reload(void *state, const struct np_collect_ctx *ctx)
{
	struct np_stall_cfg cfg = stall_cfg(ctx);
	np_stall_set_cfg(((struct block_state *)state)->det, &cfg);
}

/* The agent's stall detector (in its block state), or NULL in a one-shot run. */
static struct np_stall_detector *detector(const struct np_collect_ctx *ctx)
{
	struct block_state *k = np_collect_state(ctx, "block");
	return k ? k->det : NULL;
}

static int copy_stalls(struct np_block *b, const struct np_stall_detector *det);

/* Feed one sample to the long-lived detector; its stalls (ended and ongoing) are the section's. */
static int track_stalls(struct np_block *b, struct np_stall_detector *det, const struct np_diskstats *ds)
{
	int r = np_stall_feed(det, ds, b->sampled_at_ms);
	if (r < 0)
		return r;
	free(b->stalls);
	b->stalls = NULL;
	b->n_stalls = 0;
	return copy_stalls(b, det);
}

int np_block_watch_stalls(const struct np_collect_ctx *ctx)
{
	struct block_state *k = np_collect_state(ctx, "block");
	if (!k)
		return -ENODATA;
	struct np_block b = { 0 }; /* read_diskstats() writes its status and sample time here */
	struct np_diskstats ds;
	int r = read_diskstats(ctx->host, &k->ds_fd, &b, &ds);
	if (r >= 0) {
		r = np_stall_feed(k->det, &ds, b.sampled_at_ms);
		np_diskstats_free(&ds);
	}
	np_block_free(&b);
	return r < 0 ? r : (int)np_stall_began(k->det);
}

int64_t np_block_stall_next_ms(const struct np_collect_ctx *ctx)
{
	const struct np_stall_detector *det = detector(ctx);
	struct np_stall_cfg cfg = stall_cfg(ctx);
	return det ? np_stall_next_ms(det, cfg.stall_ms / 2) : INT64_MAX;
}

/* The devices /sys/class/block lists, for the pass's choice of threads (section.h); 0 when unreadable. */
static size_t block_items(const struct np_collect_ctx *ctx)
{
	_cleanup_(strv_freep) char **names = NULL;
	size_t n = 0;
	return np_host_list(ctx->host, "/sys/class/block", &names, &n) < 0 ? 0 : n;
}

static int collect_block(const struct np_collect_ctx *ctx, struct np_report *rep)
{
	const struct np_host *h = ctx->host;
	struct np_block *b = &rep->block;
	struct block_state *kept = np_collect_state(ctx, "block");
	struct np_facts *fx = np_facts_begin(kept ? kept->fx : NULL, ctx);
	_cleanup_(strv_freep) char **names = NULL;
	size_t n = 0, cap = 0;
	b->stall_seconds = ctx->stall_seconds > 0 ? ctx->stall_seconds : NP_STALL_DEFAULT_MS / 1000.0;
	b->stall_await_ms = ctx->stall_await_ms > 0 ? ctx->stall_await_ms : 0;
	_cleanup_(np_dir_close) struct np_dir cls = { .fd = -1 };
	int r = np_dir_open(h, "/sys/class/block", &cls);
	if (r >= 0)
		r = np_dir_list(&cls, NULL, &names, &n);
	if (r < 0)
		np_status_set(&b->status, r, "/sys/class/block: %s", np_errno_reason(r));
	int added = 0;
	for (size_t i = 0; i < n && added >= 0; i++)
		added = add_device(b, &cap, names[i]);
	if (kept)
		held_align(kept, b, b->n, ctx->facts_gen);
	struct read_args ra = { .fx = fx, .h = h, .cls = &cls, .b = b, .held = kept ? kept->held : NULL,
				.n_held = kept ? kept->n_held : 0 };
	np_collect_for(ctx, b->n, read_one, &ra); /* each device on its own: any thread of the pass */
	if (added < 0)
		return added;
	struct np_diskstats ds;
	r = read_diskstats(h, kept ? &kept->ds_fd : NULL, b, &ds);
	if (r < 0)
		return b->n ? 0 : r;
	if (!ds.n && b->n) /* the kernel lists every disk it has: no line is no stall check, not a clean one */
		np_status_set(&b->status, -ENODATA, "/proc/diskstats: empty, though /sys/class/block lists %zu devices",
			      b->n);
	r = join_stats(b, &cap, &ds);
	if (r >= 0 && kept)
		r = track_stalls(b, kept->det, &ds);
	np_diskstats_free(&ds);
	return r;
}

/* The first sample, rebuilt from the devices' counters, for the stall detector. */
static int snapshot_of(const struct np_block *b, struct np_diskstats *out)
{
	*out = (struct np_diskstats){ 0 };
	out->dev = calloc(b->n ? b->n : 1, sizeof(*out->dev));
	if (!out->dev)
		return -ENOMEM;
	for (size_t i = 0; i < b->n; i++) {
		const struct np_block_dev *d = &b->devices[i];
		if (!d->has_stats)
			continue;
		struct np_diskstat *s = &out->dev[out->n++];
		s->major = d->major;
		s->minor = d->minor;
		snprintf(s->name, sizeof(s->name), "%s", d->name);
		s->c = d->stats;
	}
	return 0;
}

static void rate_one(struct np_block_dev *d, const struct np_diskstats *now, double elapsed_ms)
{
	if (!d->has_stats)
		return;
	const struct np_diskstat *s = np_diskstats_find(now, d->major, d->minor, d->name);
	if (!s) {
		np_status_set(&d->status, -ENODEV, "disappeared from /proc/diskstats between the samples");
		return;
	}
	int r = np_ds_rates(&d->stats, &s->c, elapsed_ms, &d->rates);
	if (r == -ERANGE)
		np_status_set(&d->status, r, "counters went backwards between the samples (device re-added?)");
	d->has_rates = r == 0;
	d->stats = s->c;
}

static int copy_stalls(struct np_block *b, const struct np_stall_detector *det)
{
	const struct np_stall_event *ev;
	size_t n = np_stall_events(det, &ev);
	if (!n)
		return 0;
	b->stalls = calloc(n, sizeof(*b->stalls));
	if (!b->stalls)
		return -ENOMEM;
	memcpy(b->stalls, ev, n * sizeof(*ev));
	b->n_stalls = n;
	return 0;
}

static int resample_block(const struct np_collect_ctx *ctx, struct np_report *rep)
{
	struct np_block *b = &rep->block;
	struct np_diskstats first, now;
	int64_t t0 = b->sampled_at_ms;
	if (!b->n)
		return 0;
	int r = snapshot_of(b, &first);
	if (r < 0)
		return r;
	struct block_state *kept = np_collect_state(ctx, "block");
	r = read_diskstats(ctx->host, kept ? &kept->ds_fd : NULL, b, &now);
	if (r < 0) {
		np_diskstats_free(&first);
		return 0; /* recorded in the section status; the first sample stands */
	}
	double elapsed = (double)(b->sampled_at_ms - t0);
	b->interval_s = elapsed / 1000.0;
	for (size_t i = 0; i < b->n; i++)
		rate_one(&b->devices[i], &now, elapsed);
	if (kept) { /* the agent's detector already has the first sample */
		r = track_stalls(b, kept->det, &now);
		np_diskstats_free(&first);
		np_diskstats_free(&now);
		return r;
	}
	struct np_stall_cfg cfg = stall_cfg(ctx);
	struct np_stall_detector *det = np_stall_new(&cfg);
	r = det ? 0 : -ENOMEM;
	if (r >= 0)
		r = np_stall_feed(det, &first, t0);
	if (r >= 0)
		r = np_stall_feed(det, &now, b->sampled_at_ms);
	if (r >= 0)
		r = copy_stalls(b, det);
	np_stall_free(det);
	np_diskstats_free(&first);
	np_diskstats_free(&now);
	return r;
}

NP_SECTION_STATEFUL(block, 40, 40, collect_block, resample_block, block_state_new, block_state_reload, block_state_free);
NP_SECTION_CONCURRENT(block, block_items);
