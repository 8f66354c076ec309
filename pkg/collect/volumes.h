/* SPDX-License-Identifier: Apache-2.0 */
/*
 * volumes.h - CSI volume -> block device mapping, exposed for tests.
 *
 * Kubelet layout (Kubernetes pkg/volume/csi), relative to the kubelet root:
 *   filesystem  pods/<podUID>/volumes/kubernetes.io~csi/<specName>/mount      (csi_mounter.go)
 *               + vol_data.json beside "mount"
 *   block       pods/<podUID>/volumeDevices/kubernetes.io~csi/<specName>      (csi_block.go: a
 *               symlink to plugins/kubernetes.io/csi/volumeDevices/publish/<specName>/<podUID>,
 *               where the driver bind-mounts or creates the device node)
 *               + plugins/kubernetes.io/csi/volumeDevices/<specName>/data/vol_data.json
 *   staging     plugins/kubernetes.io/csi/<driver>/<sha256(volumeHandle)>/globalmount (1.26+)
 *               plugins/kubernetes.io/csi/pv/<pvName>/globalmount (older)  (csi_attacher.go)
 *               + vol_data.json beside "globalmount"
 * vol_data.json is a JSON object of strings: driverName, volumeHandle, specVolID, nodeName,
 * attachmentID, volumeLifecycleMode (not every kubelet writes every key).
 */
#pragma once

#include "../report/mounts.h"
#include "../report/volumes.h"
#include "../shared/hostfs.h"

#include <stddef.h>

/*
 * np_parse_vol_data() - the kubelet's vol_data.json. Sets *@driver,
 * *@handle, *@spec (malloc'd, NULL when the key is absent or not a string).
 * Returns 0, -EINVAL when not a JSON object, -ENOMEM.
 */
int np_parse_vol_data(const char *buf, size_t len, char **driver, char **handle, char **spec);

/*
 * np_block_backing() - every block device @name stands on, through the host
 * root's sysfs: a partition's disk (/sys/class/block/<name>/partition), and
 * recursively the slaves of dm, multipath and md devices
 * (/sys/class/block/<name>/slaves/). Appends names (no duplicates, @name
 * itself excluded) to the vector *@out of *@n entries. Returns 0 or -ENOMEM.
 */
int np_block_backing(const struct np_host *h, const char *name, char ***out, size_t *n);

/*
 * np_volumes_scan() - fill @out from the mount table @mi (host paths) and the
 * kubelet root @kubelet_dir (host path) under the host root: filesystem and
 * staging volumes from their mounts, block volumes from the pod device files.
 * A missing kubelet root is not an error (kubelet_present = false).
 * Per-volume problems go to the volume's status. Returns 0 or -ENOMEM.
 */
int np_volumes_scan(const struct np_host *h, const char *kubelet_dir, const struct np_mounts *mi,
		    struct np_volumes *out);
