/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvme.h - the "nvme" section of the node report: NVMe controllers with their
 * identity (sysfs / Identify Controller), firmware slots (log page 03h),
 * SMART / health (log page 02h), new error-log entries (log page 01h) and
 * namespaces with their native-multipath paths (ANA state).
 * Field sources: NVMe Base Specification 2.0, sections 5.16.1.2-5.16.1.4 and
 * 5.17.2.1; Documentation/ABI/testing/sysfs-class-nvme. docs/report/nvme.md.
 */
#ifndef NP_REPORT_NVME_H
#define NP_REPORT_NVME_H

#include "bundle.h"
#include "out.h"
#include "status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A 128-bit little-endian counter of the SMART log, split in two halves. */
struct np_u128 {
	uint64_t hi, lo;
};

/* SMART / Health Information log page (02h), decoded. */
struct np_nvme_smart {
	bool present;               /* a page was read and decoded */
	bool plausible;             /* false: all-zero / impossible page (a failed read, not data) */
	uint8_t critical_warning;   /* byte 0, raw bit mask */
	uint16_t temperature_kelvin;/* bytes 2:1; 0 = no reading */
	uint8_t available_spare_percent, available_spare_threshold_percent, percentage_used;
	struct np_u128 data_units_read, data_units_written; /* units of 1000 x 512 bytes */
	struct np_u128 host_read_commands, host_write_commands, controller_busy_time_minutes;
	struct np_u128 power_cycles, power_on_hours, unsafe_shutdowns, media_errors;
	struct np_u128 num_err_log_entries;
	uint32_t warning_temp_time_minutes, critical_comp_time_minutes;
	uint16_t temp_sensor_kelvin[8]; /* 0 = sensor not implemented */
};

/* Firmware Slot Information log page (03h). */
struct np_nvme_fw_slots {
	bool present;
	unsigned active_slot;   /* AFI bits 2:0; 0 = not reported */
	unsigned pending_slot;  /* AFI bits 6:4: slot activated at next reset; 0 = none */
	char *revision[7];      /* slot 1..7; NULL when the slot is empty */
};

/* One Error Information log entry (01h). */
struct np_nvme_error_entry {
	uint64_t error_count;   /* unique, increasing; 0 = unused entry */
	uint16_t sqid, cmdid;
	uint16_t status;        /* status field without the phase bit: SCT (bits 10:8), SC (7:0), M, DNR */
	uint16_t param_error_location;
	uint64_t lba;           /* UINT64_MAX = none */
	uint32_t nsid;
	uint8_t transport_type;
	uint64_t command_specific;
};

/* What an error-log entry says about the drive, from its queue and status (NVMe Base 2.0 Figure 197, 4.2.3.x). */
enum np_nvme_err_class {
	NP_NVME_ERR_MEDIA,    /* SCT 2h, SC 80h-84h: write fault, unrecovered read, end-to-end check failures */
	NP_NVME_ERR_DEVICE,   /* SCT 0h: data transfer error (04h), internal error (06h) - the controller failed */
	NP_NVME_ERR_PATH,     /* SCT 3h: path related (ANA inaccessible, transport) - not the drive's media */
	NP_NVME_ERR_ABORTED,  /* SCT 0h, SC 05h, 07h-0Ah: power loss, aborted by SQ deletion / fused / reset */
	NP_NVME_ERR_REJECTED, /* the host asked something the drive does not do: invalid opcode or field
			       * (SC 01h/02h/0Bh), command-specific status (SCT 1h), compare/access (SCT 2h 85h-87h);
			       * typically a tool probing an unsupported log page on the admin queue (sqid 0) */
	NP_NVME_ERR_VENDOR,   /* SCT 7h */
	NP_NVME_ERR_OTHER,
};

/* The class of @e. Only MEDIA and DEVICE are faults of the drive (np_nvme_error_is_fault()). */
enum np_nvme_err_class np_nvme_error_class(const struct np_nvme_error_entry *e);
bool np_nvme_error_is_fault(const struct np_nvme_error_entry *e);
/* "media", "device", "path", "aborted", "rejected", "vendor", "other". Static. */
const char *np_nvme_error_class_name(enum np_nvme_err_class c);

struct np_nvme_path {
	char *name;      /* "nvme0c1n1" */
	char *ana_state; /* optimized, non-optimized, inaccessible, persistent-loss, change; NULL = none */
};

struct np_nvme_ns {
	char *name;           /* block device name, e.g. "nvme0n1" (the multipath head when paths exist) */
	uint32_t nsid;        /* 0 = unknown */
	uint64_t size_bytes;
	bool have_size;
	char *ana_state;      /* the namespace's own ana_state: without native multipath (nvme_core.multipath=N)
			       * nvmeXnY is the per-controller disk and carries it; NULL when absent */
	struct np_nvme_path *paths;
	size_t n_paths;
};

struct np_nvme_ctrl {
	struct np_status status; /* e.g. "unavailable: permission (/dev/nvme0)"; sysfs facts are kept */
	char *name;           /* "nvme0" */
	char *model, *serial, *firmware_rev; /* trimmed; NULL when empty (case 10) */
	char *transport, *address, *state;
	char *subsystem, *subsystem_nqn;
	char *cntlid;
	int warning_temp_threshold_celsius, critical_temp_threshold_celsius;
	bool have_wctemp, have_cctemp; /* false when 0 K or 0xFFFF K (unset, case 09) */
	struct np_nvme_fw_slots fw;
	struct np_nvme_smart smart;
	bool smart_skipped;   /* the poll interval had not elapsed: smart not re-read */
	struct np_nvme_error_entry *errors; /* only entries newer than the last seen count */
	size_t n_errors;
	struct np_nvme_ns *namespaces;
	size_t n_namespaces;
	int64_t collect_us;   /* time spent on this controller (benchmark hook) */
};

struct np_nvme_subsys {
	char *name;      /* "nvme-subsys0" */
	char *nqn;
	char *iopolicy;  /* numa, round-robin, ...; NULL when absent */
	char **controllers;  /* NULL-terminated (np_strv_push) */
	size_t n_controllers;
};

struct np_nvme {
	struct np_status status;
	char *host_nqn;  /* /etc/nvme/hostnqn, when present */
	struct np_nvme_subsys *subsystems;
	size_t n_subsystems;
	struct np_nvme_ctrl *controllers;
	size_t n_controllers;
};

void np_nvme_ctrl_free(struct np_nvme_ctrl *c);
void np_nvme_free(struct np_nvme *s);
/* The controller as its JSON object (docs/report/nvme.md). Caller owns the reference. */
json_t *np_nvme_ctrl_to_json(const struct np_nvme_ctrl *c);
json_t *np_nvme_to_json(const struct np_nvme *s);
/* One row per controller, like `nvme list` with health columns. */
void np_nvme_print(const struct np_nvme *s, struct np_out *o);
/* Adds ("nvme", model, firmware revision) per controller. Returns 0 or -ENOMEM. */
int np_nvme_bundle(const struct np_nvme *s, struct np_bundle *b);

/*
 * np_u128_to_dec() - decimal text of @v into @buf (at least 40 bytes).
 * Returns @buf.
 */
char *np_u128_to_dec(struct np_u128 v, char *buf, size_t size);
/*
 * np_u128_times_to_dec() - decimal text of @v x @mul (exact, even above
 * 2^128) into @buf (at least 48 bytes). Used for data units x 512,000 bytes.
 */
char *np_u128_times_to_dec(struct np_u128 v, uint32_t mul, char *buf, size_t size);

#endif /* NP_REPORT_NVME_H */

/* Its member of struct np_report: report.h reads this header a second time for it (sections.h). */
#ifdef NP_REPORT_MEMBER
NP_REPORT_MEMBER(nvme)
#endif
