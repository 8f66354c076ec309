/* SPDX-License-Identifier: Apache-2.0 */
/*
 * timeouts.h - the timeouts collector's parsers, public for tests and fuzzing.
 */
#pragma once

#include "../report/timeouts.h"
#include "../shared/hostfs.h"

#include <stdint.h>

/*
 * np_tmo_parse() - one timeout attribute as the kernel prints it: a decimal
 * ("30", "%d"/"%u" of scsi_sysfs.c, blk-sysfs.c, scsi_transport_fc.c,
 * scsi_transport_iscsi.c, drivers/nvme/host/sysfs.c) or "off" (fast_io_fail_tmo
 * and ctrl_loss_tmo of -1: FC fc_rport_show_fast_io_fail_tmo(), NVMe
 * nvme_ctrl_loss_tmo_show()/nvme_ctrl_fast_io_fail_tmo_show()). A negative
 * number other than -1 is refused. Returns 0 with *@out (NP_TMO_OFF for "off"
 * or -1), or -EINVAL / -ERANGE (above 2^31 - 1).
 */
int np_tmo_parse(const char *s, int64_t *out);

/*
 * np_tmo_path_port() - the transport object in a block device's sysfs path
 * (the target of /sys/class/block/<dev>): "rport-H:C-N" (FC,
 * scsi_transport_fc.c names remote ports so) or "sessionN" (iSCSI,
 * scsi_transport_iscsi.c). Returns 1 with *@port malloc'd and *@transport
 * "fc" or "iscsi" (static), 0 when the path has neither (or on ENOMEM).
 */
int np_tmo_path_port(const char *path, char **port, const char **transport);

/*
 * np_tmo_collect_dev() - every timeout of block device @name ("sda",
 * "nvme0n1") under the host root into @d (zeroed first; absent values are
 * NP_TMO_ABSENT). @ctrl: for an NVMe disk, the controller whose fabrics
 * timers to read ("nvme0"), NULL for SCSI. Returns 0 or -ENOMEM; an
 * unparsable attribute is recorded in d->status.
 */
int np_tmo_collect_dev(const struct np_host *h, const char *name, const char *kind, const char *ctrl,
		       struct np_tmo_dev *d);
