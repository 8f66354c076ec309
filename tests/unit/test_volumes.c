// SPDX-License-Identifier: Apache-2.0
/*
 * CSI volume mapping on a real kubelet-shaped tree built in a temporary
 * folder with real devices of this machine (needs root): a loop device with
 * a partition added through BLKPG (addpart), staged in the per-driver hashed layout and bind-mounted into a pod,
 * a whole loop device staged in the older pv/<name> layout, a block volume
 * whose publish file is a bind mount of a loop device node (as CSI drivers
 * do), a tmpfs-backed CSI volume and a dangling block volume. The layout
 * follows Kubernetes pkg/volume/csi (csi_mounter.go, csi_attacher.go,
 * csi_block.go). Expected devices come from stat(2) and from the loop
 * devices this test attached, never from the code under test.
 */
#define _GNU_SOURCE
#include "testutil.h"
#include "../../pkg/collect/collector.h"
#include "../../pkg/collect/volumes.h"
#include "../../pkg/shared/strutil.h"

#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* paths here are short (/tmp/np-vol-XXXXXX/kubelet/...); buffers are sized far above them */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#define UID1 "0e7c2b1a-1111-4d6e-9f00-000000000001"
#define UID2 "0e7c2b1a-2222-4d6e-9f00-000000000002"
#define UID3 "0e7c2b1a-3333-4d6e-9f00-000000000003"
#define UID4 "0e7c2b1a-4444-4d6e-9f00-000000000004"

static struct tree {
	char dir[64];
	char kubelet[128];
	char loop_part[64];  /* /dev/loopN (partitioned) */
	char loop_whole[64];
	char loop_block[64];
	char sha[65];
	char mounts[8][512]; /* unmounted in reverse order */
	int n_mounts;
	bool ok;
} T;

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int r = system(cmd);
	if (r != 0)
		fprintf(stderr, "# command failed (%d): %s\n", r, cmd);
	return r;
}

static int sh_out(char *out, size_t size, const char *cmd)
{
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	if (!fgets(out, (int)size, p))
		out[0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	return pclose(p) == 0 && out[0] ? 0 : -1;
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static int do_mount(const char *opts, const char *src, const char *dst)
{
	if (sh("mount %s '%s' '%s'", opts, src, dst) != 0)
		return -1;
	snprintf(T.mounts[T.n_mounts++], sizeof(T.mounts[0]), "%s", dst);
	return 0;
}

static int build(void)
{
	char p[1024], q[1024], cmd[512];
	snprintf(T.dir, sizeof(T.dir), "/tmp/np-vol-XXXXXX");
	if (!mkdtemp(T.dir))
		return -1;
	snprintf(T.kubelet, sizeof(T.kubelet), "%s/kubelet", T.dir);

	/* 1. partitioned loop device, ext4 on p1, staged at <driver>/<sha256(handle)>/globalmount, bound into pod 1 */
	snprintf(p, sizeof(p), "%s/part.img", T.dir);
	if (sh("truncate -s 32M '%s'", p) != 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "losetup -f --show -P '%s'", p);
	if (sh_out(T.loop_part, sizeof(T.loop_part), cmd) < 0)
		return -1;
	/* BLKPG_ADD_PARTITION (util-linux addpart): a real partition even on kernels without table parsers */
	if (sh("addpart %s 1 2048 63488", T.loop_part) != 0)
		return -1;
	for (int i = 0; i < 50; i++) {
		snprintf(p, sizeof(p), "%sp1", T.loop_part);
		if (access(p, F_OK) == 0)
			break;
		usleep(20000);
	}
	if (sh("mkfs.ext4 -q -F %sp1", T.loop_part) != 0)
		return -1;
	if (sh_out(T.sha, sizeof(T.sha), "printf %s vol-handle-1 | sha256sum | cut -c1-64") < 0)
		return -1;
	snprintf(p, sizeof(p), "%s/plugins/kubernetes.io/csi/ebs.csi.aws.com/%s", T.kubelet, T.sha);
	if (sh("mkdir -p '%s/globalmount'", p) != 0)
		return -1;
	snprintf(q, sizeof(q), "%s/vol_data.json", p);
	if (write_file(q, "{\"driverName\":\"ebs.csi.aws.com\",\"volumeHandle\":\"vol-handle-1\",\"specVolID\":\"pvc-1111\"}") < 0)
		return -1;
	snprintf(q, sizeof(q), "%s/globalmount", p);
	snprintf(cmd, sizeof(cmd), "%sp1", T.loop_part);
	if (do_mount("", cmd, q) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s/pods/" UID1 "/volumes/kubernetes.io~csi/pvc-1111", T.kubelet);
	if (sh("mkdir -p '%s/mount'", p) != 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "%s/vol_data.json", p);
	if (write_file(cmd, "{\"attachmentID\":\"csi-x\",\"driverName\":\"ebs.csi.aws.com\",\"nodeName\":\"n1\","
			    "\"specVolID\":\"pvc-1111\",\"volumeHandle\":\"vol-handle-1\",\"volumeLifecycleMode\":\"Persistent\"}") < 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "%s/mount", p);
	if (do_mount("--bind", q, cmd) < 0)
		return -1;

	/* 2. whole loop device staged in the older pv/<name>/globalmount layout, bound into pod 2 */
	snprintf(p, sizeof(p), "%s/whole.img", T.dir);
	if (sh("truncate -s 16M '%s' && mkfs.ext4 -q -F '%s'", p, p) != 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "losetup -f --show '%s'", p);
	if (sh_out(T.loop_whole, sizeof(T.loop_whole), cmd) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s/plugins/kubernetes.io/csi/pv/pvc-2222", T.kubelet);
	if (sh("mkdir -p '%s/globalmount'", p) != 0)
		return -1;
	snprintf(q, sizeof(q), "%s/vol_data.json", p);
	if (write_file(q, "{\"driverName\":\"legacy.csi.example.com\",\"volumeHandle\":\"handle-2\"}") < 0)
		return -1;
	snprintf(q, sizeof(q), "%s/globalmount", p);
	if (do_mount("", T.loop_whole, q) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s/pods/" UID2 "/volumes/kubernetes.io~csi/pvc-2222", T.kubelet);
	if (sh("mkdir -p '%s/mount'", p) != 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "%s/vol_data.json", p);
	if (write_file(cmd, "{\"driverName\":\"legacy.csi.example.com\",\"volumeHandle\":\"handle-2\",\"specVolID\":\"pvc-2222\"}") < 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "%s/mount", p);
	if (do_mount("--bind", q, cmd) < 0)
		return -1;

	/* 3. block volume: the publish file is a bind mount of the device node; the pod file a symlink to it */
	snprintf(p, sizeof(p), "%s/block.img", T.dir);
	if (sh("truncate -s 8M '%s'", p) != 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "losetup -f --show '%s'", p);
	if (sh_out(T.loop_block, sizeof(T.loop_block), cmd) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s/plugins/kubernetes.io/csi/volumeDevices/publish/pvc-3333", T.kubelet);
	if (sh("mkdir -p '%s' && touch '%s/" UID3 "'", p, p) != 0)
		return -1;
	snprintf(q, sizeof(q), "%s/" UID3, p);
	if (do_mount("--bind", T.loop_block, q) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s/plugins/kubernetes.io/csi/volumeDevices/pvc-3333/data", T.kubelet);
	if (sh("mkdir -p '%s'", p) != 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "%s/vol_data.json", p);
	if (write_file(cmd, "{\"driverName\":\"block.csi.example.com\",\"volumeHandle\":\"handle-3\",\"specVolID\":\"pvc-3333\"}") < 0)
		return -1;
	snprintf(p, sizeof(p), "%s/pods/" UID3 "/volumeDevices/kubernetes.io~csi", T.kubelet);
	if (sh("mkdir -p '%s' && ln -s '%s' '%s/pvc-3333'", p, q, p) != 0)
		return -1;

	/* 4. a CSI volume on tmpfs (no block device) and a dangling block volume in pod 4 */
	snprintf(p, sizeof(p), "%s/pods/" UID4 "/volumes/kubernetes.io~csi/pvc-4444", T.kubelet);
	if (sh("mkdir -p '%s/mount'", p) != 0)
		return -1;
	snprintf(q, sizeof(q), "%s/vol_data.json", p);
	if (write_file(q, "{\"driverName\":\"secrets-store.csi.k8s.io\",\"volumeHandle\":\"csi-4\",\"specVolID\":\"pvc-4444\"}") < 0)
		return -1;
	snprintf(q, sizeof(q), "%s/mount", p);
	if (do_mount("-t tmpfs", "csi-tmpfs", q) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s/pods/" UID4 "/volumeDevices/kubernetes.io~csi", T.kubelet);
	if (sh("mkdir -p '%s' && ln -s '%s/plugins/kubernetes.io/csi/volumeDevices/publish/pvc-5555/" UID4 "' '%s/pvc-5555'",
	       p, T.kubelet, p) != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int i = T.n_mounts - 1; i >= 0; i--)
		sh("umount '%s'", T.mounts[i]);
	if (T.loop_part[0])
		sh("losetup -d %s", T.loop_part);
	if (T.loop_whole[0])
		sh("losetup -d %s", T.loop_whole);
	if (T.loop_block[0])
		sh("losetup -d %s", T.loop_block);
	if (T.dir[0])
		sh("rm -rf '%s'", T.dir);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		fprintf(stderr, "# test_volumes needs root (loop devices, mounts)\n");
		return -1;
	}
	T.ok = build() == 0;
	if (!T.ok) {
		teardown(state);
		return -1;
	}
	return 0;
}

static const struct np_volume *find(const struct np_volumes *s, enum np_volume_mode mode, const char *pv)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->volumes[i].mode == mode && s->volumes[i].pv_name && strcmp(s->volumes[i].pv_name, pv) == 0)
			return &s->volumes[i];
	return NULL;
}

static void assert_dev_of(const struct np_volume *v, const char *path, bool rdev)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	dev_t d = rdev ? st.st_rdev : st.st_dev;
	assert_true(v->mounted);
	assert_int_equal(v->major, major(d));
	assert_int_equal(v->minor, minor(d));
}

static void test_tree(void **state)
{
	(void)state;
	struct np_host h;
	assert_int_equal(np_host_open(&h, "/"), 0);
	struct np_collect_ctx ctx = { .host = &h, .kubelet_dir = T.kubelet };
	struct np_report r = { 0 };
	char *only[] = { "volumes", NULL };
	assert_int_equal(np_collect_all(&ctx, only, &r), 0);
	const struct np_volumes *s = &r.volumes;
	assert_int_equal(s->status.err, 0);
	assert_true(s->kubelet_present);
	assert_int_equal(s->n, 7);
	const char *part = T.loop_part + 5, *whole = T.loop_whole + 5, *blk = T.loop_block + 5; /* strip "/dev/" */
	char p1[64], path[1024];
	snprintf(p1, sizeof(p1), "%sp1", part);

	/* filesystem volume in pod 1 on the partition; its disk behind it */
	const struct np_volume *v = find(s, NP_VOLUME_FILESYSTEM, "pvc-1111");
	assert_non_null(v);
	assert_string_equal(v->pod_uid, UID1);
	assert_string_equal(v->driver, "ebs.csi.aws.com");
	assert_string_equal(v->volume_handle, "vol-handle-1");
	snprintf(path, sizeof(path), "%s/pods/" UID1 "/volumes/kubernetes.io~csi/pvc-1111/mount", T.kubelet);
	assert_string_equal(v->path, path);
	assert_dev_of(v, path, false);
	assert_string_equal(v->device, p1);
	assert_non_null(v->backing);
	assert_string_equal(v->backing[0], part);
	assert_null(v->backing[1]);
	assert_int_equal(v->status.err, 0);

	/* its staging mount, hashed layout: driver from the path and vol_data.json, PV from specVolID */
	v = find(s, NP_VOLUME_STAGING, "pvc-1111");
	assert_non_null(v);
	assert_null(v->pod_uid);
	assert_string_equal(v->driver, "ebs.csi.aws.com");
	snprintf(path, sizeof(path), "%s/plugins/kubernetes.io/csi/ebs.csi.aws.com/%s/globalmount", T.kubelet, T.sha);
	assert_string_equal(v->path, path);
	assert_string_equal(v->device, p1);
	assert_int_equal(v->status.err, 0);

	/* older layout: PV from the path, the kubelet wrote no specVolID there */
	v = find(s, NP_VOLUME_STAGING, "pvc-2222");
	assert_non_null(v);
	assert_string_equal(v->driver, "legacy.csi.example.com");
	assert_string_equal(v->device, whole);
	assert_null(v->backing);
	snprintf(path, sizeof(path), "%s/plugins/kubernetes.io/csi/pv/pvc-2222/globalmount", T.kubelet);
	assert_dev_of(v, path, false);
	v = find(s, NP_VOLUME_FILESYSTEM, "pvc-2222");
	assert_non_null(v);
	assert_string_equal(v->pod_uid, UID2);
	assert_string_equal(v->device, whole);

	/* block volume: the device node's rdev through the pod's symlink */
	v = find(s, NP_VOLUME_BLOCK, "pvc-3333");
	assert_non_null(v);
	assert_string_equal(v->pod_uid, UID3);
	assert_string_equal(v->driver, "block.csi.example.com");
	assert_dev_of(v, T.loop_block, true);
	assert_string_equal(v->device, blk);

	/* tmpfs: mounted, no block device */
	v = find(s, NP_VOLUME_FILESYSTEM, "pvc-4444");
	assert_non_null(v);
	assert_true(v->mounted);
	assert_int_equal(v->major, 0);
	assert_null(v->device);
	assert_string_equal(v->driver, "secrets-store.csi.k8s.io");

	/* dangling block volume: reported, with its own error */
	v = find(s, NP_VOLUME_BLOCK, "pvc-5555");
	assert_non_null(v);
	assert_false(v->mounted);
	assert_int_equal(v->status.err, ENOENT);

	/* device -> volumes: the disk under the partition carries pod 1's volume and its staging mount */
	const struct np_volume_dev *d = NULL;
	for (size_t i = 0; i < s->n_devices; i++)
		if (strcmp(s->devices[i].name, part) == 0)
			d = &s->devices[i];
	assert_non_null(d);
	assert_int_equal(d->n_volumes, 2);
	json_t *j = np_volumes_to_json(s);
	assert_string_equal(json_string_value(json_object_get(j, "kubelet_dir")), T.kubelet);
	json_t *jv = json_array_get(json_object_get(j, "volumes"), 0);
	assert_non_null(json_object_get(jv, "backing_devices"));
	json_decref(j);
	/* with the mounts section in the pass, volumes joins its table: the same volumes */
	struct np_report r2 = { 0 };
	char *both[] = { "mounts", "volumes", NULL };
	assert_int_equal(np_collect_all(&ctx, both, &r2), 0);
	assert_true(r2.mounts.n > 0);
	assert_int_equal(r2.volumes.n, 7);
	json_t *alone = np_volumes_to_json(s), *joined = np_volumes_to_json(&r2.volumes);
	assert_true(json_equal(alone, joined));
	json_decref(alone);
	json_decref(joined);
	np_report_free(&r2);
	np_report_free(&r);
	np_host_close(&h);
}

static void test_backing_partition(void **state)
{
	(void)state;
	struct np_host h;
	assert_int_equal(np_host_open(&h, "/"), 0);
	char p1[64];
	snprintf(p1, sizeof(p1), "%sp1", T.loop_part + 5);
	char **b = NULL;
	size_t n = 0;
	assert_int_equal(np_block_backing(&h, p1, &b, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(b[0], T.loop_part + 5);
	np_strv_free(b);
	b = NULL;
	n = 0;
	assert_int_equal(np_block_backing(&h, T.loop_whole + 5, &b, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(np_block_backing(&h, "../etc", &b, &n), 0);
	assert_int_equal(n, 0);
	np_host_close(&h);
}

/* the same walk through a fixture root: a capture of loop0 with a BLKPG partition (tests/capture.py) */
static void test_backing_fixture(void **state)
{
	(void)state;
	struct np_host h;
	assert_int_equal(np_host_open(&h, np_src("tests/fixtures/storagelog-blkpart")), 0);
	assert_false(h.live);
	char **b = NULL;
	size_t n = 0;
	assert_int_equal(np_block_backing(&h, "loop0p1", &b, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(b[0], "loop0");
	np_strv_free(b);
	b = NULL;
	n = 0;
	assert_int_equal(np_block_backing(&h, "loop0", &b, &n), 0);
	assert_int_equal(n, 0);
	/* a device absent from the capture has nothing below it */
	assert_int_equal(np_block_backing(&h, "sda", &b, &n), 0);
	assert_int_equal(n, 0);
	np_host_close(&h);
}

static void test_vol_data(void **state)
{
	(void)state;
	char *d, *hd, *sp;
	static const char ok[] = "{\"driverName\":\"ebs.csi.aws.com\",\"volumeHandle\":\"vol-1\",\"nodeName\":\"n\"}";
	assert_int_equal(np_parse_vol_data(ok, sizeof(ok) - 1, &d, &hd, &sp), 0);
	assert_string_equal(d, "ebs.csi.aws.com");
	assert_string_equal(hd, "vol-1");
	assert_null(sp);
	free(d);
	free(hd);
	assert_int_equal(np_parse_vol_data("[1,2]", 5, &d, &hd, &sp), -EINVAL);
	assert_int_equal(np_parse_vol_data("{\"driverName\":", 14, &d, &hd, &sp), -EINVAL);
	assert_int_equal(np_parse_vol_data("\xff\xfe", 2, &d, &hd, &sp), -EINVAL);
	/* non-string values are unknown, not invented */
	assert_int_equal(np_parse_vol_data("{\"driverName\":7}", 16, &d, &hd, &sp), 0);
	assert_null(d);
}

static void test_no_kubelet(void **state)
{
	(void)state;
	struct np_host h;
	assert_int_equal(np_host_open(&h, "/"), 0);
	struct np_volumes s = { 0 };
	struct np_mounts mi = { 0 };
	assert_int_equal(np_volumes_scan(&h, "/nonexistent/np-kubelet", &mi, &s), 0);
	assert_false(s.kubelet_present);
	assert_int_equal(s.n, 0);
	np_volumes_free(&s);
	np_host_close(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tree),
		cmocka_unit_test(test_backing_partition),
		cmocka_unit_test(test_backing_fixture),
		cmocka_unit_test(test_vol_data),
		cmocka_unit_test(test_no_kubelet),
	};
	return cmocka_run_group_tests_name("volumes", tests, setup, teardown);
}
