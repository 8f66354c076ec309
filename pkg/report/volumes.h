/* SPDX-License-Identifier: Apache-2.0 */
/*
 * volumes.h - the "volumes" section: which Kubernetes CSI volumes use which
 * block devices on this node, from the host's mountinfo and the kubelet's
 * directory layout (pkg/volume/csi in the Kubernetes source: csi_mounter.go,
 * csi_attacher.go, csi_block.go). docs/report/volumes.md.
 */
#ifndef NP_REPORT_VOLUMES_H
#define NP_REPORT_VOLUMES_H

#include "bundle.h"
#include "out.h"
#include "status.h"

#include <stdbool.h>
#include <stddef.h>

enum np_volume_mode { NP_VOLUME_FILESYSTEM, NP_VOLUME_BLOCK, NP_VOLUME_STAGING };

struct np_volume {
	enum np_volume_mode mode;
	char *pv_name;           /* PV (spec) name; NULL when unknown (hashed staging without specVolID) */
	char *pod_uid;           /* NULL for staging */
	char *driver;            /* CSI driver from vol_data.json (or the staging path), NULL if unknown */
	char *volume_handle;     /* vol_data.json volumeHandle, NULL if unknown */
	char *path;              /* host path: the mount point, the pod's device file, the globalmount */
	bool mounted;            /* filesystem/staging: a mount is there; block: the device node resolved */
	unsigned major, minor;   /* st_dev of the mount / st_rdev of the block device (when mounted) */
	char *device;            /* kernel name of major:minor (/sys/dev/block), NULL if not a block device */
	char **backing;          /* devices under it: partition -> disk, dm/md -> slaves, recursively */
	struct np_status status; /* this volume's own problem (vol_data.json unreadable, …) */
};

/* One block device and the volumes that use it (directly or through the devices stacked on it). */
struct np_volume_dev {
	char *name;
	size_t *volumes;         /* indexes into np_volumes.volumes */
	size_t n_volumes;
};

struct np_volumes {
	struct np_status status;
	char *kubelet_dir;       /* host path of the kubelet root as configured */
	bool kubelet_present;    /* the directory exists under the host root */
	struct np_volume *volumes;
	size_t n;
	struct np_volume_dev *devices;
	size_t n_devices;
};

void np_volumes_free(struct np_volumes *s);
json_t *np_volumes_to_json(const struct np_volumes *s);
void np_volumes_print(const struct np_volumes *s, struct np_out *o);
int np_volumes_bundle(const struct np_volumes *s, struct np_bundle *b);

#endif /* NP_REPORT_VOLUMES_H */

/* Its member of struct np_report: report.h reads this header a second time for it (sections.h). */
#ifdef NP_REPORT_MEMBER
NP_REPORT_MEMBER(volumes)
#endif
