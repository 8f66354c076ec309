// SPDX-License-Identifier: Apache-2.0
/*
 * pci.c - PCI devices: /sys/bus/pci/devices/<address>/{class,vendor,device,
 * subsystem_vendor,subsystem_device,driver,numa_node,current_link_speed,
 * current_link_width,max_link_speed,max_link_width}
 * (Documentation/ABI/testing/sysfs-bus-pci) and aer_dev_{correctable,nonfatal,
 * fatal} and aer_rootport_total_err_{cor,fatal,nonfatal}
 * (Documentation/ABI/testing/sysfs-bus-pci-devices-aer_stats); the Device
 * Serial Number of a function with AER counters from its config space. Names
 * come from the udev hwdb (libudev), keyed by the device's modalias.
 */
#define _GNU_SOURCE
#include "pci.h"
#include "collector.h"
#include "facts.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <libudev.h>
#include <string.h>
#include <unistd.h>

/* Append a counter; returns 0 or -ENOMEM. */
static int aer_push(struct np_aer_counters *a, const char *name, uint64_t count)
{
	char *copy = strdup(name);
	if (!copy)
		return -ENOMEM;
	struct np_aer_counter *v = realloc(a->c, (a->n + 1) * sizeof(*v));
	if (!v) {
		free(copy);
		return -ENOMEM;
	}
	a->c = v;
	a->c[a->n].name = copy;
	a->c[a->n].count = count;
	a->n++;
	return 0;
}

static bool aer_has(const struct np_aer_counters *a, const char *name)
{
	for (size_t i = 0; i < a->n; i++)
		if (streq(a->c[i].name, name))
			return true;
	return false;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if (!isprint((unsigned char)*s))
			return false;
	return true;
}

/* The TOTAL_ line that belongs in @file ("aer_dev_nonfatal" -> "TOTAL_ERR_NONFATAL"); NULL = any. */
static const char *aer_expected_total(const char *file)
{
	if (!file)
		return NULL;
	if (strstr(file, "correctable"))
		return "TOTAL_ERR_COR";
	if (strstr(file, "nonfatal"))
		return "TOTAL_ERR_NONFATAL";
	if (strstr(file, "fatal"))
		return "TOTAL_ERR_FATAL";
	return NULL;
}

/* One line (NUL-terminated copy). Returns NULL when valid, else why it is junk. */
static const char *aer_line(char *line, struct np_aer_counters *a, const char *want_total, int *err)
{
	np_strip(line);
	char *sp = strrchr(line, ' ');
	char *tab = strrchr(line, '\t');
	if (tab && (!sp || tab > sp))
		sp = tab;
	if (!sp)
		return "no \"name count\" pair";
	char *val = sp + 1;
	*sp = '\0';
	np_strip(line);
	uint64_t count;
	if (!all_digits(val) || np_parse_u64(val, &count) < 0)
		return "count is not a decimal number";
	if (!*line || !printable(line))
		return "bad counter name";
	if (aer_has(a, line))
		return "duplicate counter name";
	bool total = np_startswith(line, "TOTAL_ERR_");
	if (total && want_total && !streq(line, want_total))
		return "another file's total"; /* e.g. TOTAL_ERR_FATAL in aer_dev_nonfatal */
	*err = aer_push(a, line, count);
	if (total) {
		a->has_total = true;
		a->total = count;
	} else if (__builtin_add_overflow(a->bits_sum, count, &a->bits_sum)) {
		a->bits_sum = UINT64_MAX;
	}
	return NULL;
}

int np_parse_aer_counters(const char *buf, size_t len, struct np_aer_counters *a,
			  struct np_status *st, const char *file)
{
	int ret = 0;
	unsigned lineno = 0;
	a->present = true;
	const char *p;
	size_t l;
	for (size_t off = 0; np_next_line(buf, len, &off, &p, &l);) {
		lineno++;
		const char *why = NULL;
		int err = 0;
		if (memchr(p, '\0', l)) {
			why = "NUL byte";
		} else {
			_cleanup_free_ char *line = strndup(p, l);
			if (!line)
				return -ENOMEM;
			if (!*np_strip(line))
				continue; /* blank line */
			why = aer_line(line, a, aer_expected_total(file), &err);
		}
		if (err < 0)
			return err;
		if (why) {
			a->lines_invalid++;
			np_status_set(st, -EINVAL, "%s line %u: %s", file, lineno, why);
			ret = -EINVAL;
		}
	}
	/* the kernel counts the total once per error and each bit once: they differ when one error set
	 * several bits, or when the file is not what it claims; said, not judged */
	a->total_disagrees = a->has_total && a->total != a->bits_sum;
	return ret;
}

int np_parse_link_speed(const char *s, double *gts)
{
	*gts = 0;
	while (*s == ' ')
		s++;
	if (np_startswith(s, "Unknown"))
		return 0;
	const char *p = s;
	while (isdigit((unsigned char)*p))
		p++;
	if (p == s)
		return -EINVAL;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (!np_startswith(p, " GT/s") || (p[5] != '\0' && p[5] != ' '))
		return -EINVAL;
	char num[32];
	size_t n = (size_t)(p - s);
	if (n >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, n);
	num[n] = '\0';
	double v;
	if (np_parse_double(num, &v) < 0 || v <= 0)
		return -EINVAL;
	*gts = v;
	return 0;
}

static uint32_t cfg_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#define PCI_EXT_CAP_START 0x100u
#define PCI_EXT_CAP_ID_DSN 0x0003u
#define PCI_EXT_CAP_TTL ((NP_PCI_CFG_SPACE_EXP_SIZE - PCI_EXT_CAP_START) / 8) /* the kernel's bound: 480 */

int np_pci_config_dsn_read(np_pci_cfg_read_fn rd, void *ud, uint64_t *dsn)
{
	uint32_t pos = PCI_EXT_CAP_START, hdr, lo, hi;
	for (unsigned ttl = PCI_EXT_CAP_TTL; ttl > 0 && pos >= PCI_EXT_CAP_START; ttl--) {
		int r = rd(ud, pos, &hdr);
		if (r < 0)
			return r;
		if (hdr == 0 || hdr == 0xffffffffu)
			return 0;
		if ((hdr & 0xffff) == PCI_EXT_CAP_ID_DSN) {
			if ((r = rd(ud, pos + 4, &lo)) < 0 || (r = rd(ud, pos + 8, &hi)) < 0)
				return r == -ENODATA ? 0 : r; /* cut off by the end of the space: no number */
			*dsn = (uint64_t)hi << 32 | lo;
			return 1;
		}
		pos = (hdr >> 20) & 0xffc;
	}
	return 0;
}

struct cfg_buf {
	const uint8_t *buf;
	size_t len;
};

static int buf_read(void *ud, unsigned off, uint32_t *val)
{
	const struct cfg_buf *b = ud;
	if (off > b->len || b->len - off < 4)
		return -ENODATA;
	*val = cfg_le32(b->buf + off);
	return 0;
}

int np_pci_config_dsn(const uint8_t *buf, size_t len, uint64_t *dsn)
{
	struct cfg_buf b = { buf, len };
	return np_pci_config_dsn_read(buf_read, &b, dsn);
}

int np_pci_modalias(char *buf, size_t len, const struct np_pci_device *d)
{
	return snprintf(buf, len, "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X", d->vendor_id,
			d->device_id, d->subsystem_vendor_id, d->subsystem_device_id,
			(d->class_code >> 16) & 0xff, (d->class_code >> 8) & 0xff, d->class_code & 0xff);
}

/* A path buffer: on the stack, not a malloc per attribute per function per cycle. */
typedef char path_buf[PATH_MAX];

/* Path of attribute @attr of device @addr, in @buf; NULL when it does not fit. */
static const char *attr_path(path_buf buf, const char *addr, const char *attr)
{
	int n = snprintf(buf, sizeof(path_buf), "/sys/bus/pci/devices/%s/%s", addr, attr);
	return n > 0 && (size_t)n < sizeof(path_buf) ? buf : NULL;
}

/* Record a failed read on the device unless the attribute is simply absent. */
static int note(struct np_pci_device *d, const char *attr, int r)
{
	if (r < 0 && r != -ENOENT)
		np_status_set(&d->status, r, "%s: %s", attr, np_errno_reason(r));
	return r;
}

static int read_hex(struct np_facts *fx, const struct np_host *h, struct np_pci_device *d, const char *attr,
		    uint64_t max, uint64_t *out)
{
	path_buf p_buf;
	const char *p = attr_path(p_buf, d->address, attr);
	if (!p)
		return -ENOMEM;
	int r = np_facts_read_u64(fx, h, p, out);
	if (r >= 0 && *out > max)
		r = -ERANGE;
	if (r < 0)
		np_status_set(&d->status, r, "%s: %s", attr, np_errno_reason(r));
	return r;
}

static void read_ids(struct np_facts *fx, const struct np_host *h, struct np_pci_device *d)
{
	uint64_t cls, ven, dev, sven = 0, sdev = 0;
	if (read_hex(fx, h, d, "class", 0xffffff, &cls) < 0 || read_hex(fx, h, d, "vendor", 0xffff, &ven) < 0 ||
	    read_hex(fx, h, d, "device", 0xffff, &dev) < 0)
		return;
	/* subsystem IDs exist for every function since 2.6; keep 0 when absent */
	read_hex(fx, h, d, "subsystem_vendor", 0xffff, &sven);
	read_hex(fx, h, d, "subsystem_device", 0xffff, &sdev);
	d->class_code = (uint32_t)cls;
	d->vendor_id = (uint16_t)ven;
	d->device_id = (uint16_t)dev;
	d->subsystem_vendor_id = (uint16_t)sven;
	d->subsystem_device_id = (uint16_t)sdev;
	d->has_ids = true;
}

static void read_speed(struct np_facts *fx, const struct np_host *h, struct np_pci_device *d, const char *attr,
		       struct np_pci_speed *sp)
{
	path_buf p_buf;
	const char *p = attr_path(p_buf, d->address, attr);
	if (!p || note(d, attr, np_facts_read_line(fx, h, p, &sp->text)) < 0)
		return;
	if (np_parse_link_speed(sp->text, &sp->gts) < 0)
		np_status_set(&d->status, -EINVAL, "%s: unrecognised speed \"%s\"", attr, sp->text);
}

/* include/linux/pci.h enum pcie_link_width: 0xff when Link Capabilities/Status read 0 */
#define PCIE_LNK_WIDTH_UNKNOWN 0xff

static void read_width(struct np_facts *fx, const struct np_host *h, struct np_pci_device *d, const char *attr,
		       bool *has, uint64_t *w)
{
	path_buf p_buf;
	const char *p = attr_path(p_buf, d->address, attr);
	if (p && note(d, attr, np_facts_read_u64(fx, h, p, w)) >= 0)
		*has = *w != PCIE_LNK_WIDTH_UNKNOWN;
}

static void read_aer(const struct np_host *h, struct np_pci_device *d, const char *attr,
		     struct np_aer_counters *a)
{
	path_buf p_buf;
	const char *p = attr_path(p_buf, d->address, attr);
	_cleanup_free_ char *buf = NULL;
	size_t len;
	if (!p || note(d, attr, np_host_read(h, p, NP_AER_FILE_MAX, &buf, &len)) < 0)
		return;
	np_parse_aer_counters(buf, len, a, &d->status, attr);
}

/* What np_pci_config_dsn_read() told of a config file, kept as a fact (np_facts_blob()). */
struct dsn_fact {
	int found; /* its return; -ENOENT: no config file */
	uint64_t dsn;
};

static int fd_read(void *ud, unsigned off, uint32_t *val)
{
	uint8_t b[4];
	ssize_t n = pread(*(const int *)ud, b, sizeof(b), off);
	if (n < 0)
		return negative_errno();
	if (n < (ssize_t)sizeof(b))
		return -ENODATA;
	*val = cfg_le32(b);
	return 0;
}

struct dsn_src {
	const struct np_host *h;
	const char *path;
};

static int read_dsn(void *buf, size_t size, void *ud)
{
	const struct dsn_src *s = ud;
	struct dsn_fact *f = buf;
	(void)size;
	_cleanup_close_ int fd = np_host_openat(s->h, s->path, O_RDONLY | O_CLOEXEC);
	*f = (struct dsn_fact){ .found = fd };
	if (fd >= 0)
		f->found = np_pci_config_dsn_read(fd_read, &fd, &f->dsn);
	/* an answer is kept; a failed read (-EACCES, -EIO) is not: read again at the next collect */
	return f->found >= 0 || f->found == -ENODATA || f->found == -ENOENT ? 0 : f->found;
}

/*
 * The Device Serial Number (config space, np_pci_config_dsn_read()): with the IDs, the identity the AER
 * counters are compared under between cycles (np_pci_same_device()). Read as root only (the
 * extended space); an unreadable config file leaves it unknown, recorded nowhere: it is no health
 * input.
 */
static void read_serial(struct np_facts *fx, const struct np_host *h, struct np_pci_device *d)
{
	path_buf p_buf;
	const char *p = attr_path(p_buf, d->address, "config");
	_cleanup_free_ char *key = np_asprintf("pci-dsn:%s", d->address);
	if (!p || !key)
		return;
	struct dsn_fact f;
	struct dsn_src src = { .h = h, .path = p };
	if (np_facts_blob(fx, key, &f, sizeof(f), read_dsn, &src) < 0 || f.found < 0)
		return;
	d->dsn_read = true;
	d->has_dsn = f.found > 0;
	d->dsn = f.dsn;
}

/* aer_rootport_total_err_{cor,fatal,nonfatal}: one decimal each, root ports only. */
static void read_rootport_totals(const struct np_host *h, struct np_pci_device *d)
{
	static const char *const attr[] = { "aer_rootport_total_err_cor", "aer_rootport_total_err_fatal",
					    "aer_rootport_total_err_nonfatal" };
	for (size_t i = 0; i < ARRAY_SIZE(attr); i++) {
		path_buf p_buf;
		const char *p = attr_path(p_buf, d->address, attr[i]);
		if (p && note(d, attr[i], np_host_read_u64(h, p, &d->rootport_total[i])) >= 0)
			d->has_rootport_total[i] = true;
	}
}

static void read_driver_numa(struct np_facts *fx, const struct np_host *h, struct np_pci_device *d)
{
	path_buf drv_buf, numa_buf;
	const char *drv = attr_path(drv_buf, d->address, "driver");
	const char *numa = attr_path(numa_buf, d->address, "numa_node");
	if (!drv || !numa)
		return;
	note(d, "driver", np_facts_link_basename(fx, h, drv, &d->driver));
	int64_t n;
	if (note(d, "numa_node", np_facts_read_s64(fx, h, numa, &n)) >= 0 && n >= 0) {
		d->has_numa = true;
		d->numa_node = n;
	}
}

/*
 * SR-IOV (Documentation/PCI/pci-iov-howto.rst, drivers/pci/iov.c): sriov_totalvfs, sriov_numvfs,
 * one virtfnN link per enabled VF; each VF's driver link. A device without sriov_totalvfs is no PF.
 */
static void read_sriov(const struct np_host *h, struct np_pci_device *d)
{
	path_buf tot_buf, num_buf;
	const char *tot = attr_path(tot_buf, d->address, "sriov_totalvfs");
	const char *num = attr_path(num_buf, d->address, "sriov_numvfs");
	if (!tot || !num || note(d, "sriov_totalvfs", np_host_read_u64(h, tot, &d->sriov_totalvfs)) < 0)
		return;
	d->has_sriov = true;
	if (note(d, "sriov_numvfs", np_host_read_u64(h, num, &d->sriov_numvfs)) < 0 || d->sriov_numvfs > 4096)
		return;
	d->vfs = calloc(d->sriov_numvfs ? d->sriov_numvfs : 1, sizeof(*d->vfs));
	for (uint64_t k = 0; d->vfs && k < d->sriov_numvfs; k++) {
		char name[32];
		snprintf(name, sizeof(name), "virtfn%llu", (unsigned long long)k);
		path_buf link_buf;
		const char *link = attr_path(link_buf, d->address, name);
		struct np_pci_vf *vf = &d->vfs[d->n_vfs];
		if (!link || note(d, name, np_host_link_basename(h, link, &vf->address)) < 0)
			continue;
		d->n_vfs++;
		path_buf drv_buf;
		const char *drv = attr_path(drv_buf, vf->address, "driver");
		if (!drv || np_host_link_basename(h, drv, &vf->driver) < 0)
			vf->driver = NULL;
	}
}

/* hwdb names of @d; leaves them NULL when the database has none. */
static void hwdb_names(struct udev_hwdb *hw, struct np_pci_device *d)
{
	char key[96];
	const char *sub = NULL, *cls = NULL;
	np_pci_modalias(key, sizeof(key), d);
	struct udev_list_entry *e;
	udev_list_entry_foreach(e, udev_hwdb_get_properties_list_entry(hw, key, 0)) {
		const char *n = udev_list_entry_get_name(e), *v = udev_list_entry_get_value(e);
		if (streq(n, "ID_VENDOR_FROM_DATABASE") && !d->vendor_name)
			d->vendor_name = strdup(v);
		else if (streq(n, "ID_MODEL_FROM_DATABASE") && !d->device_name)
			d->device_name = strdup(v);
		else if (streq(n, "ID_PCI_SUBCLASS_FROM_DATABASE"))
			sub = v;
		else if (streq(n, "ID_PCI_CLASS_FROM_DATABASE"))
			cls = v;
	}
	if (sub || cls)
		d->class_name = strdup(sub ? sub : cls);
}

/* "0000:00:1c.0": domain:bus:device.function, as sysfs names PCI devices */
static bool is_pci_address(const char *s)
{
	unsigned dom, bus, dev, fn;
	char end;
	return strlen(s) == 12 && sscanf(s, "%4x:%2x:%2x.%1x%c", &dom, &bus, &dev, &fn, &end) == 4;
}

/*
 * The bridge above @d: the parent folder of its sysfs device path, when that is a PCI device
 * ("../../../devices/pci0000:00/0000:00:1c.0/0000:01:00.0" -> "0000:00:1c.0"; a host bridge
 * "pci0000:00" gives none).
 */
static void read_upstream(struct np_facts *fx, const struct np_host *h, struct np_pci_device *d)
{
	_cleanup_free_ char *path = np_asprintf("/sys/bus/pci/devices/%s", d->address);
	_cleanup_free_ char *target = NULL;
	if (!path || np_facts_readlink(fx, h, path, &target) < 0)
		return;
	char *last = strrchr(target, '/');
	if (!last)
		return;
	*last = '\0';
	char *parent = strrchr(target, '/');
	parent = parent ? parent + 1 : target;
	if (is_pci_address(parent))
		d->upstream = strdup(parent);
}

/*
 * Facts (facts.h): the IDs, the bridge above, the driver (a bind or unbind is a uevent), the link's
 * capabilities (max speed and width), the Device Serial Number. Every cycle: the link's current speed and width, AER counters,
 * SR-IOV, NUMA node.
 */
static void collect_device(struct np_facts *fx, const struct np_host *h, struct udev_hwdb *hw,
			   struct np_pci_device *d)
{
	/* the attributes a function has are facts too: those its folder lacks are not opened (one
	 * lookup of the folder's listing for all of them) */
	char dir[PATH_MAX];
	int k = snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s", d->address);
	const struct np_facts_names *names = k > 0 && (size_t)k < sizeof(dir) ? np_facts_names(fx, h, dir) : NULL;
#define HAS(name) np_facts_names_has(names, name)
	read_ids(fx, h, d);
	read_upstream(fx, h, d);
	read_driver_numa(fx, h, d);
	if (HAS("sriov_totalvfs"))
		read_sriov(h, d);
	if (HAS("current_link_speed"))
		read_speed(NULL, h, d, "current_link_speed", &d->cur_speed);
	if (HAS("max_link_speed"))
		read_speed(fx, h, d, "max_link_speed", &d->max_speed);
	if (HAS("current_link_width"))
		read_width(NULL, h, d, "current_link_width", &d->has_cur_width, &d->cur_width);
	if (HAS("max_link_width"))
		read_width(fx, h, d, "max_link_width", &d->has_max_width, &d->max_width);
	if (HAS("aer_dev_correctable"))
		read_aer(h, d, "aer_dev_correctable", &d->aer_cor);
	if (HAS("aer_dev_nonfatal"))
		read_aer(h, d, "aer_dev_nonfatal", &d->aer_nonfatal);
	if (HAS("aer_dev_fatal"))
		read_aer(h, d, "aer_dev_fatal", &d->aer_fatal);
	if (HAS("aer_rootport_total_err_cor"))
		read_rootport_totals(h, d);
	if (d->aer_cor.present || d->aer_nonfatal.present || d->aer_fatal.present)
		read_serial(fx, h, d);
#undef HAS
	if (hw && d->has_ids)
		hwdb_names(hw, d);
}

/*
 * The agent's pci state: its facts, and the hwdb, opened at the first collect and kept (the hwdb is a
 * vendor database of this image, not node state: opening it, five paths tried and the file mapped
 * and checked, each cycle bought nothing).
 */
struct pci_state {
	struct np_facts *fx;
	struct udev *u;
	struct udev_hwdb *hw;
	bool hw_tried;
};

static void *pci_state_new(const struct np_collect_ctx *ctx)
{
	(void)ctx;
	struct pci_state *st = calloc(1, sizeof(*st));
	if (st && !(st->fx = np_facts_new())) {
		free(st);
		return NULL;
	}
	return st;
}

static void pci_state_free(void *state)
{
	struct pci_state *st = state;
	if (!st)
		return;
	np_facts_free(st->fx);
	udev_hwdb_unref(st->hw);
	udev_unref(st->u);
	free(st);
}

/* Open the hwdb into *@u, *@hw (NULL when there is none: names are then left out). */
static void hwdb_open(struct udev **u, struct udev_hwdb **hw)
{
	*u = udev_new();
	*hw = *u ? udev_hwdb_new(*u) : NULL;
}

static int collect_pci(const struct np_collect_ctx *ctx, struct np_report *rep)
{
	struct np_pci *s = &rep->pci;
	struct pci_state *st = np_collect_state(ctx, "pci");
	struct np_facts *fx = np_facts_begin(st ? st->fx : NULL, ctx);
	char **names = NULL;
	size_t n = 0;
	int r = np_host_list(ctx->host, "/sys/bus/pci/devices", &names, &n);
	if (r < 0) {
		np_status_set(&s->status, r, "/sys/bus/pci/devices: %s", np_errno_reason(r));
		return r;
	}
	s->devices = calloc(n ? n : 1, sizeof(*s->devices));
	if (!s->devices) {
		np_strv_free(names);
		return -ENOMEM;
	}
	/* the hwdb is a vendor database, not node state: the one of this image serves */
	struct udev *own_u = NULL;
	struct udev_hwdb *own_hw = NULL, *hw;
	if (st) {
		if (!st->hw_tried)
			hwdb_open(&st->u, &st->hw);
		st->hw_tried = true;
		hw = st->hw;
	} else {
		hwdb_open(&own_u, &own_hw);
		hw = own_hw;
	}
	s->hwdb = hw != NULL;
	for (size_t i = 0; i < n; i++) {
		struct np_pci_device *d = &s->devices[s->n++];
		d->address = TAKE_PTR(names[i]);
		collect_device(fx, ctx->host, hw, d);
	}
	udev_hwdb_unref(own_hw);
	udev_unref(own_u);
	np_strv_free(names);
	return 0;
}

NP_SECTION_STATEFUL(pci, 30, 80, collect_pci, NULL, pci_state_new, np_facts_state_reload, pci_state_free);
