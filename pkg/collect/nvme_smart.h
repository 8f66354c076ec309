/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvme_smart.h - pure decoders of raw NVMe admin data (little-endian, as the
 * controller returns it), separate from any device so they can be unit-tested
 * on captured pages and fuzzed:
 *   SMART / Health Information log (LID 02h): NVMe Base Spec 2.0, 5.16.1.3, figure 207
 *   Firmware Slot Information log (LID 03h):  NVMe Base Spec 2.0, 5.16.1.4, figure 208
 *   Error Information log (LID 01h):          NVMe Base Spec 2.0, 5.16.1.2, figure 205
 *   Identify Controller (CNS 01h):            NVMe Base Spec 2.0, 5.17.2.1, figure 275
 */
#pragma once

#include "../report/nvme.h"

#include <stddef.h>
#include <stdint.h>

#define NP_NVME_SMART_LOG_SIZE 512u
#define NP_NVME_FW_LOG_SIZE 512u
#define NP_NVME_ERROR_ENTRY_SIZE 64u
#define NP_NVME_ID_CTRL_SIZE 4096u

/*
 * np_nvme_smart_decode() - decode a SMART / Health log page.
 * @buf/@len: the raw page; at least the first 232 bytes (through the thermal
 * management counters) must be present, the rest of the 512 is reserved.
 * Fills @out (present = true); plausible = false for a page that cannot be a
 * reading (all of temperature, spare, power-on hours and power cycles zero:
 * case 08). Returns 0, or -EINVAL when @len < 232 (out untouched).
 */
int np_nvme_smart_decode(const void *buf, size_t len, struct np_nvme_smart *out);

/*
 * np_nvme_kelvin_to_celsius() - composite or sensor temperature (u16 Kelvin)
 * to integer Celsius, signed (250 K -> -23). Returns 0, or -ENODATA for 0 K
 * (no reading; never -273, case 08).
 */
int np_nvme_kelvin_to_celsius(uint16_t kelvin, int *celsius);

/*
 * np_nvme_threshold_celsius() - a temperature threshold (Identify WCTEMP /
 * CCTEMP, Kelvin). Returns 0, or -ENODATA when unset: 0 K or 0xFFFF K
 * (the "+65261.8 C" of case 09).
 */
int np_nvme_threshold_celsius(uint16_t kelvin, int *celsius);

/*
 * np_nvme_fw_slot_decode() - decode a Firmware Slot log page (512 bytes;
 * at least 64 needed). Slot revisions are 8-byte space/NUL-padded fields
 * (trimmed, empty -> NULL). @nslots: slots the controller supports (Identify
 * FRMW bits 3:1), 0 = unknown (read all 7). Fills @out (caller frees the
 * revisions, or np_nvme_ctrl_free()). Returns 0, -EINVAL when short, -ENOMEM.
 */
int np_nvme_fw_slot_decode(const void *buf, size_t len, unsigned nslots, struct np_nvme_fw_slots *out);

/*
 * np_nvme_error_log_decode() - decode Error Information entries (64 bytes
 * each), keeping only valid entries (error_count != 0) newer than
 * @last_seen, newest first. *@out is malloc'd (caller frees), *@n its count,
 * *@max_count the highest error_count seen (>= @last_seen).
 * Returns 0, -EINVAL when @len is not a multiple of 64 or is 0, -ENOMEM.
 */
int np_nvme_error_log_decode(const void *buf, size_t len, uint64_t last_seen,
			     struct np_nvme_error_entry **out, size_t *n, uint64_t *max_count);

/* Identify Controller fields nodeprint uses. */
struct np_nvme_id_ctrl {
	char *serial, *model, *firmware_rev, *subnqn; /* trimmed; NULL when empty (case 10) */
	uint16_t wctemp_kelvin, cctemp_kelvin;
	unsigned fw_slots;   /* FRMW bits 3:1 */
	unsigned elpe;       /* Error Log Page Entries, 0's based */
	uint16_t cntlid;
};

/*
 * np_nvme_id_ctrl_decode() - decode an Identify Controller data structure
 * (4096 bytes; at least 1024 needed for subnqn at 768..1023). Fixed-width
 * SN (20 bytes), MN (40), FR (8) and SUBNQN (256) are copied exactly, then
 * trimmed of spaces/NULs (np_strndup_field); all-NUL or all-space -> NULL.
 * Returns 0, -EINVAL when short, -ENOMEM. Free with np_nvme_id_ctrl_free().
 */
int np_nvme_id_ctrl_decode(const void *buf, size_t len, struct np_nvme_id_ctrl *out);
void np_nvme_id_ctrl_free(struct np_nvme_id_ctrl *id);

/*
 * Conservative polling state for one controller, kept by the agent between
 * samples (inspect uses a fresh one): SMART at most every smart_interval_ms,
 * the error log only when num_err_log_entries grew.
 */
struct np_nvme_poll {
	int64_t smart_interval_ms;   /* default 60000 */
	int64_t last_smart_ms;       /* monotonic ms of the last SMART read; 0 = never */
	bool have_smart;
	uint64_t last_num_err_log_entries; /* SMART counter at the last error-log read */
	uint64_t last_error_count;   /* highest Error Count already reported */
	struct np_nvme_smart last_smart; /* the page read at the last due time (have_smart): a cycle that
					  * skips the read reports it, so findings do not flap */
	char ident[128];             /* serial and model of the controller polled ("" before the first) */
};

/* A fresh state with the default 60 s SMART interval. */
void np_nvme_poll_init(struct np_nvme_poll *p);
/* true when SMART should be read at @now_ms (never read, or interval elapsed). */
bool np_nvme_poll_smart_due(const struct np_nvme_poll *p, int64_t now_ms);
/*
 * true when the error log should be read: the SMART error-entry counter grew
 * beyond the one at the last read (a 128-bit counter compared saturated at
 * 2^64-1).
 */
bool np_nvme_poll_errlog_due(const struct np_nvme_poll *p, const struct np_nvme_smart *s);
/*
 * np_nvme_poll_identify() - the controller now behind @p's name has @serial and
 * @model (sysfs serial, model; NVMe Base Specification 2.0, Identify Controller
 * SN, MN). When another controller was polled under that name (a hot swap, a
 * re-enumeration), @p starts afresh, its interval kept: no SMART page nor
 * error-log count of one device is reported for another. An unknown @serial
 * (NULL: nothing proves it is the same) drops the kept SMART page only, so
 * this cycle reads its own. Returns true when something kept was dropped.
 */
bool np_nvme_poll_identify(struct np_nvme_poll *p, const char *serial, const char *model);
