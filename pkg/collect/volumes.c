// SPDX-License-Identifier: Apache-2.0
/*
 * volumes.c - which CSI volumes use which block devices: the host's
 * mountinfo joined with the kubelet's directory layout (see volumes.h).
 */
#define _GNU_SOURCE
#include "volumes.h"
#include "collector.h"
#include "mounts.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#define CSI_PLUGIN_DIR "/plugins/kubernetes.io/csi/"
#define VOL_DATA_MAX (64u << 10)
#define STACK_DEPTH_MAX 16

static char *json_str_dup(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));
	return v ? strdup(v) : NULL;
}

int np_parse_vol_data(const char *buf, size_t len, char **driver, char **handle, char **spec)
{
	*driver = *handle = *spec = NULL;
	json_t *o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return -EINVAL;
	}
	*driver = json_str_dup(o, "driverName");
	*handle = json_str_dup(o, "volumeHandle");
	*spec = json_str_dup(o, "specVolID");
	json_decref(o);
	return 0;
}

/* ---- block device stacks ---- */

static bool strv_has(char **v, const char *s)
{
	return v && np_strv_contains(v, s);
}

static int walk(const struct np_host *h, const char *top, const char *name, char ***out, size_t *n, int depth);

static int add_and_walk(const struct np_host *h, const char *top, const char *dev, char ***out, size_t *n, int depth)
{
	if (streq(dev, top) || strv_has(*out, dev))
		return 0;
	if (np_strv_push(out, n, dev) < 0)
		return -ENOMEM;
	return walk(h, top, dev, out, n, depth + 1);
}

/* A partition's disk: the parent folder of its sysfs node ("…/block/loop0/loop0p1" -> "loop0"). */
static int partition_parent(const struct np_host *h, const char *name, char **parent)
{
	char path[PATH_MAX];
	*parent = NULL;
	snprintf(path, sizeof(path), "/sys/class/block/%s/partition", name);
	if (!np_host_exists(h, path))
		return 0;
	snprintf(path, sizeof(path), "/sys/class/block/%s", name);
	_cleanup_free_ char *target = NULL;
	if (np_host_readlink(h, path, &target) < 0)
		return 0;
	char *last = strrchr(target, '/');
	if (!last || last == target)
		return 0;
	*last = '\0';
	char *prev = strrchr(target, '/');
	*parent = strdup(prev ? prev + 1 : target);
	return *parent ? 0 : -ENOMEM;
}

static int walk(const struct np_host *h, const char *top, const char *name, char ***out, size_t *n, int depth)
{
	if (depth > STACK_DEPTH_MAX)
		return 0;
	_cleanup_free_ char *parent = NULL;
	if (partition_parent(h, name, &parent) < 0)
		return -ENOMEM;
	if (parent && add_and_walk(h, top, parent, out, n, depth) < 0)
		return -ENOMEM;
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "/sys/class/block/%s/slaves", name);
	char **slaves = NULL;
	if (np_host_list(h, path, &slaves, NULL) < 0)
		return 0;
	int r = 0;
	for (char **s = slaves; *s && r >= 0; s++)
		r = add_and_walk(h, top, *s, out, n, depth);
	np_strv_free(slaves);
	return r;
}

int np_block_backing(const struct np_host *h, const char *name, char ***out, size_t *n)
{
	if (strchr(name, '/'))
		return 0;
	return walk(h, name, name, out, n, 0);
}

/* ---- kubelet layout ---- */

/* The kubelet root as the mount table names it (symlinks resolved), as a host path. */
static char *host_realpath(const struct np_host *h, const char *path)
{
	_cleanup_close_ int fd = np_host_openat(h, path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	char proc[64], buf[PATH_MAX], root[PATH_MAX];
	if (fd < 0)
		return strdup(path);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	ssize_t k = readlink(proc, buf, sizeof(buf) - 1);
	if (k <= 0)
		return strdup(path);
	buf[k] = '\0';
	if (!realpath(h->root, root) || streq(root, "/"))
		return strdup(buf);
	size_t rl = strlen(root);
	if (strncmp(buf, root, rl) != 0 || (buf[rl] != '/' && buf[rl] != '\0'))
		return strdup(path);
	return strdup(buf[rl] ? buf + rl : "/");
}

/* Split @rel on '/' into at most @max components; returns the count (more than @max = @max + 1). */
static size_t split_path(char *rel, char **comp, size_t max)
{
	size_t n = 0;
	char *save = NULL;
	for (char *t = strtok_r(rel, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
		if (n == max)
			return max + 1;
		comp[n++] = t;
	}
	return n;
}

static bool is_sha256_hex(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (!strchr("0123456789abcdef", s[n]))
			return false;
	return n == 64;
}

static struct np_volume *new_volume(struct np_volumes *out, enum np_volume_mode mode, const char *path)
{
	for (size_t i = 0; i < out->n; i++)
		if (out->volumes[i].mode == mode && streq(out->volumes[i].path, path))
			return &out->volumes[i]; /* stacked mounts: the last one is what is visible */
	struct np_volume *nv = reallocarray(out->volumes, out->n + 1, sizeof(*nv));
	if (!nv)
		return NULL;
	out->volumes = nv;
	struct np_volume *v = &out->volumes[out->n];
	*v = (struct np_volume){ .mode = mode, .path = strdup(path) };
	if (!v->path)
		return NULL;
	out->n++;
	return v;
}

static int set_dup(char **dst, const char *s)
{
	if (!s)
		return 0;
	char *c = strdup(s);
	if (!c)
		return -ENOMEM;
	free(*dst);
	*dst = c;
	return 0;
}

/* Read vol_data.json at @path into @v: driver, handle; the PV name when @v has none. */
static int read_vol_data(const struct np_host *h, const char *path, struct np_volume *v)
{
	_cleanup_free_ char *buf = NULL, *driver = NULL, *handle = NULL, *spec = NULL;
	size_t len;
	int r = np_host_read(h, path, VOL_DATA_MAX, &buf, &len);
	if (r >= 0)
		r = np_parse_vol_data(buf, len, &driver, &handle, &spec);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		np_status_set(&v->status, r, "%s: %s", path, r == -EINVAL ? "not a JSON object" : np_errno_reason(r));
		return 0;
	}
	if (driver && v->driver && !streq(driver, v->driver))
		np_status_set(&v->status, -EINVAL, "%s: driverName %s differs from the path's %s", path, driver,
			      v->driver);
	if (set_dup(&v->driver, driver) < 0 || set_dup(&v->volume_handle, handle) < 0)
		return -ENOMEM;
	if (!v->pv_name && set_dup(&v->pv_name, spec) < 0)
		return -ENOMEM;
	return 0;
}

static int sibling_vol_data(const struct np_host *h, const char *mount_point, struct np_volume *v)
{
	_cleanup_free_ char *dir = strdup(mount_point);
	if (!dir)
		return -ENOMEM;
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	_cleanup_free_ char *p = np_asprintf("%s/vol_data.json", dir);
	return p ? read_vol_data(h, p, v) : -ENOMEM;
}

/* pods/<uid>/volumes/kubernetes.io~csi/<pv>/mount */
static int from_pod_mount(const struct np_host *h, const struct np_mount *m, char *rel, struct np_volumes *out)
{
	char *c[6];
	if (split_path(rel, c, 5) != 5 || !streq(c[1], "volumes") || !streq(c[2], "kubernetes.io~csi") ||
	    !streq(c[4], "mount"))
		return 0;
	struct np_volume *v = new_volume(out, NP_VOLUME_FILESYSTEM, m->mount_point);
	if (!v || set_dup(&v->pod_uid, c[0]) < 0 || set_dup(&v->pv_name, c[3]) < 0)
		return -ENOMEM;
	v->mounted = true;
	v->major = m->major;
	v->minor = m->minor;
	return sibling_vol_data(h, m->mount_point, v);
}

/* plugins/kubernetes.io/csi/pv/<pv>/globalmount or plugins/kubernetes.io/csi/<driver>/<sha256>/globalmount */
static int from_staging_mount(const struct np_host *h, const struct np_mount *m, char *rel, struct np_volumes *out)
{
	char *c[4];
	if (split_path(rel, c, 3) != 3 || !streq(c[2], "globalmount"))
		return 0;
	bool legacy = streq(c[0], "pv");
	if (!legacy && !is_sha256_hex(c[1]))
		return 0;
	struct np_volume *v = new_volume(out, NP_VOLUME_STAGING, m->mount_point);
	if (!v)
		return -ENOMEM;
	if (set_dup(legacy ? &v->pv_name : &v->driver, c[legacy ? 1 : 0]) < 0)
		return -ENOMEM;
	v->mounted = true;
	v->major = m->major;
	v->minor = m->minor;
	return sibling_vol_data(h, m->mount_point, v);
}

/*
 * Some mount point of @mi could be a volume (from_mounts()): one holding "/pods/" or
 * CSI_PLUGIN_DIR, as every path below <kubelet root>/pods/ or <kubelet root>CSI_PLUGIN_DIR does.
 * Without one, the kubelet root need not be resolved (a readlink of /proc/self/fd: the
 * section's dearest call on a node without pods).
 */
static bool may_be_volumes(const struct np_mounts *mi)
{
	for (size_t i = 0; i < mi->n; i++)
		if (strstr(mi->mounts[i].mount_point, "/pods/") || strstr(mi->mounts[i].mount_point, CSI_PLUGIN_DIR))
			return true;
	return false;
}

static int from_mounts(const struct np_host *h, const char *kroot, const struct np_mounts *mi, struct np_volumes *out)
{
	_cleanup_free_ char *pods = np_asprintf("%s/pods/", streq(kroot, "/") ? "" : kroot);
	_cleanup_free_ char *plug = np_asprintf("%s" CSI_PLUGIN_DIR, streq(kroot, "/") ? "" : kroot);
	if (!pods || !plug)
		return -ENOMEM;
	for (size_t i = 0; i < mi->n; i++) {
		const struct np_mount *m = &mi->mounts[i];
		const char *pfx = np_startswith(m->mount_point, pods) ? pods :
				  np_startswith(m->mount_point, plug) ? plug : NULL;
		if (!pfx)
			continue;
		_cleanup_free_ char *rel = strdup(m->mount_point + strlen(pfx));
		if (!rel)
			return -ENOMEM;
		int r = pfx == pods ? from_pod_mount(h, m, rel, out) : from_staging_mount(h, m, rel, out);
		if (r < 0)
			return r;
	}
	return 0;
}

/* One pods/<uid>/volumeDevices/kubernetes.io~csi/<spec> entry: stat the device through the host root. */
static int from_block_file(const struct np_host *h, const char *kdir, const char *uid, const char *spec,
			   struct np_volumes *out)
{
	_cleanup_free_ char *path = np_asprintf("%s/pods/%s/volumeDevices/kubernetes.io~csi/%s", kdir, uid, spec);
	_cleanup_free_ char *data = np_asprintf("%s" CSI_PLUGIN_DIR "volumeDevices/%s/data/vol_data.json", kdir, spec);
	if (!path || !data)
		return -ENOMEM;
	struct np_volume *v = new_volume(out, NP_VOLUME_BLOCK, path);
	if (!v || set_dup(&v->pod_uid, uid) < 0 || set_dup(&v->pv_name, spec) < 0)
		return -ENOMEM;
	_cleanup_close_ int fd = np_host_openat(h, path, O_PATH | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		int r = fd < 0 ? fd : negative_errno();
		np_status_set(&v->status, r, "%s: %s", path, np_errno_reason(r));
	} else if (!S_ISBLK(st.st_mode)) {
		np_status_set(&v->status, -ENOTBLK, "%s: not a block device", path);
	} else {
		v->mounted = true;
		v->major = major(st.st_rdev);
		v->minor = minor(st.st_rdev);
	}
	if (!np_host_exists(h, data))
		return 0;
	return read_vol_data(h, data, v);
}

static int from_block_dirs(const struct np_host *h, const char *kdir, struct np_volumes *out)
{
	_cleanup_free_ char *pods_dir = np_asprintf("%s/pods", kdir);
	char **pods = NULL;
	if (!pods_dir)
		return -ENOMEM;
	if (np_host_list(h, pods_dir, &pods, NULL) < 0)
		return 0;
	int r = 0;
	for (char **p = pods; *p && r >= 0; p++) {
		_cleanup_free_ char *dir = np_asprintf("%s/%s/volumeDevices/kubernetes.io~csi", pods_dir, *p);
		char **specs = NULL;
		if (!dir) {
			r = -ENOMEM;
			break;
		}
		if (np_host_list(h, dir, &specs, NULL) < 0)
			continue;
		for (char **s = specs; *s && r >= 0; s++)
			r = from_block_file(h, kdir, *p, *s, out);
		np_strv_free(specs);
	}
	np_strv_free(pods);
	return r;
}

static int index_device(struct np_volumes *out, const char *name, size_t vi)
{
	struct np_volume_dev *d = NULL;
	for (size_t i = 0; i < out->n_devices && !d; i++)
		if (streq(out->devices[i].name, name))
			d = &out->devices[i];
	if (!d) {
		struct np_volume_dev *nd = reallocarray(out->devices, out->n_devices + 1, sizeof(*nd));
		if (!nd)
			return -ENOMEM;
		out->devices = nd;
		d = &out->devices[out->n_devices];
		*d = (struct np_volume_dev){ .name = strdup(name) };
		if (!d->name)
			return -ENOMEM;
		out->n_devices++;
	}
	for (size_t k = 0; k < d->n_volumes; k++)
		if (d->volumes[k] == vi)
			return 0;
	size_t *nv = reallocarray(d->volumes, d->n_volumes + 1, sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	d->volumes = nv;
	d->volumes[d->n_volumes++] = vi;
	return 0;
}

/* Name each volume's device, walk its stack, and index devices -> volumes. */
static int resolve_devices(const struct np_host *h, struct np_volumes *out)
{
	for (size_t i = 0; i < out->n; i++) {
		struct np_volume *v = &out->volumes[i];
		char path[64];
		if (!v->mounted || v->major == 0)
			continue;
		snprintf(path, sizeof(path), "/sys/dev/block/%u:%u", v->major, v->minor);
		if (np_host_link_basename(h, path, &v->device) < 0) {
			v->device = NULL;
			continue;
		}
		size_t nb = 0;
		if (np_block_backing(h, v->device, &v->backing, &nb) < 0 || index_device(out, v->device, i) < 0)
			return -ENOMEM;
		for (char **b = v->backing; b && *b; b++)
			if (index_device(out, *b, i) < 0)
				return -ENOMEM;
	}
	return 0;
}

int np_volumes_scan(const struct np_host *h, const char *kubelet_dir, const struct np_mounts *mi,
		    struct np_volumes *out)
{
	const char *kdir = kubelet_dir ? kubelet_dir : "/var/lib/kubelet";
	if (set_dup(&out->kubelet_dir, kdir) < 0)
		return -ENOMEM;
	out->kubelet_present = np_host_exists(h, kdir);
	if (!out->kubelet_present)
		return 0;
	int r = 0;
	if (may_be_volumes(mi)) { /* else no mount is one, wherever the kubelet root resolves to */
		_cleanup_free_ char *kroot = host_realpath(h, kdir);
		if (!kroot)
			return -ENOMEM;
		r = from_mounts(h, kroot, mi, out);
	}
	if (r >= 0)
		r = from_block_dirs(h, kdir, out);
	if (r >= 0)
		r = resolve_devices(h, out);
	return r;
}

static int collect_volumes(const struct np_collect_ctx *ctx, struct np_report *rep)
{
	struct np_volumes *s = &rep->volumes;
	struct np_mounts own = { 0 };
	int r;
	const struct np_mounts *mi = np_collect_get_mounts(ctx, &r); /* the mounts section's, this pass */
	if (!mi) {
		r = np_collect_mountinfo(ctx, &own);
		mi = &own;
	}
	if (r < 0 && r != -EINVAL)
		np_status_set(&s->status, r, "mountinfo: %s (filesystem and staging volumes unknown)",
			      np_errno_reason(r));
	r = np_volumes_scan(ctx->host, ctx->kubelet_dir, mi, s);
	np_mounts_free(&own);
	return r;
}

NP_SECTION(volumes, 90, 70, collect_volumes, NULL);
