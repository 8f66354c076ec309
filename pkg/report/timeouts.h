/* SPDX-License-Identifier: Apache-2.0 */
/*
 * timeouts.h - the "timeouts" section: every timeout the kernel applies on the
 * way from an application's I/O to a dead path, per layer, as the kernel holds
 * it now: the block queue's request timeout, the SCSI command and error-handler
 * timeouts, NVMe's io/admin timeouts (module parameters of nvme_core, built-in
 * included), the transports' loss timers (FC remote ports, iSCSI sessions,
 * NVMe over Fabrics controllers) and dm-multipath's kernel bound on queueing.
 * dm-multipath's table features and multipathd's no_path_retry are the
 * "multipath" section's; pkg/policy/health_timeouts.c joins both into one chain per
 * map. docs/report/timeouts.md documents every field and its kernel source.
 */
#ifndef NP_REPORT_TIMEOUTS_H
#define NP_REPORT_TIMEOUTS_H

#include "bundle.h"
#include "out.h"
#include "status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A timeout not read (the attribute is absent on this kernel, driver or transport). */
#define NP_TMO_ABSENT INT64_MIN
/* The kernel's "off" (fast_io_fail_tmo, ctrl_loss_tmo: -1): never fires. */
#define NP_TMO_OFF (-1)

struct np_tmo_dev {
	struct np_status status;    /* an attribute that exists but could not be parsed */
	char *name;                 /* "sda", "nvme0n1" */
	char *kind;                 /* "scsi" or "nvme" */
	int64_t io_timeout_ms;      /* queue/io_timeout (blk-mq request timeout) */
	int64_t scsi_timeout_s;     /* device/timeout (sd: SCSI command timeout) */
	int64_t scsi_eh_timeout_s;  /* device/eh_timeout (error handler's command timeout) */
	char *transport;            /* "fc", "iscsi", "tcp", "rdma", "fc-nvme", "loop", "pcie", NULL = other */
	char *port;                 /* "rport-2:0-1", "session3", "nvme1" (the object the loss timers are on) */
	int64_t dev_loss_tmo_s;     /* FC remote port */
	int64_t fast_io_fail_tmo_s; /* FC remote port or NVMe-oF controller; NP_TMO_OFF = off */
	int64_t recovery_tmo_s;     /* iSCSI session (replacement_timeout in iscsid.conf) */
	int64_t ctrl_loss_tmo_s;    /* NVMe-oF controller; NP_TMO_OFF = reconnect for ever */
	int64_t reconnect_delay_s;  /* NVMe-oF controller */
};

struct np_timeouts {
	struct np_status status;
	int64_t nvme_io_timeout_s;      /* /sys/module/nvme_core/parameters/io_timeout */
	int64_t nvme_admin_timeout_s;   /* /sys/module/nvme_core/parameters/admin_timeout */
	int64_t dm_queue_timeout_s;     /* /sys/module/dm_multipath/parameters/queue_if_no_path_timeout_secs; 0 = none */
	struct np_tmo_dev *devs;
	size_t n_devs;
};

/* "30 s", "off", "-" (absent) into @buf. Returns @buf. */
const char *np_tmo_fmt(int64_t v, const char *unit, char *buf, size_t len);
/* The device @name, or NULL. */
const struct np_tmo_dev *np_timeouts_find(const struct np_timeouts *s, const char *name);
void np_tmo_dev_free(struct np_tmo_dev *d);
void np_timeouts_free(struct np_timeouts *s);
/* The section as JSON (docs/report/timeouts.md): an absent value is left out. Caller owns the reference. */
json_t *np_timeouts_to_json(const struct np_timeouts *s);
/* Module-wide timeouts, then one row per device: every layer's value. */
void np_timeouts_print(const struct np_timeouts *s, struct np_out *o);
/* Timeouts are settings, not versions: adds nothing. Returns 0. */
int np_timeouts_bundle(const struct np_timeouts *s, struct np_bundle *b);

#endif /* NP_REPORT_TIMEOUTS_H */

/* Its member of struct np_report: report.h reads this header a second time for it (sections.h). */
#ifdef NP_REPORT_MEMBER
NP_REPORT_MEMBER(timeouts)
#endif
