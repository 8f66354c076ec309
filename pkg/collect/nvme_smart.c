// SPDX-License-Identifier: Apache-2.0
/*
 * nvme_smart.c - decoders of raw NVMe log pages and Identify Controller data.
 * Offsets are those of the NVMe Base Specification 2.0 (see nvme_smart.h);
 * every multi-byte field is little-endian and read byte by byte, so the
 * decoders are alignment- and endian-independent.
 */
#define _GNU_SOURCE
#include "nvme_smart.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <stdio.h>
#include <string.h>

#define SMART_MIN_LEN 232u /* through Total Time For Thermal Management Temperature 2 */

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static struct np_u128 le128(const uint8_t *p)
{
	return (struct np_u128){ .lo = le64(p), .hi = le64(p + 8) };
}

static bool u128_zero(struct np_u128 v)
{
	return !v.hi && !v.lo;
}

int np_nvme_smart_decode(const void *buf, size_t len, struct np_nvme_smart *out)
{
	const uint8_t *p = buf;
	if (!buf || len < SMART_MIN_LEN)
		return -EINVAL;
	struct np_nvme_smart m = { .present = true };
	m.critical_warning = p[0];
	m.temperature_kelvin = le16(p + 1);
	m.available_spare_percent = p[3];
	m.available_spare_threshold_percent = p[4];
	m.percentage_used = p[5];
	m.data_units_read = le128(p + 32);
	m.data_units_written = le128(p + 48);
	m.host_read_commands = le128(p + 64);
	m.host_write_commands = le128(p + 80);
	m.controller_busy_time_minutes = le128(p + 96);
	m.power_cycles = le128(p + 112);
	m.power_on_hours = le128(p + 128);
	m.unsafe_shutdowns = le128(p + 144);
	m.media_errors = le128(p + 160);
	m.num_err_log_entries = le128(p + 176);
	m.warning_temp_time_minutes = le32(p + 192);
	m.critical_comp_time_minutes = le32(p + 196);
	for (unsigned i = 0; i < 8; i++)
		m.temp_sensor_kelvin[i] = le16(p + 200 + 2 * i);
	/* case 08: a zero temperature together with zero spare, hours and cycles is a failed read */
	m.plausible = !(m.temperature_kelvin == 0 && m.available_spare_percent == 0 &&
			u128_zero(m.power_on_hours) && u128_zero(m.power_cycles));
	*out = m;
	return 0;
}

int np_nvme_kelvin_to_celsius(uint16_t kelvin, int *celsius)
{
	if (kelvin == 0)
		return -ENODATA;
	*celsius = (int)kelvin - 273;
	return 0;
}

int np_nvme_threshold_celsius(uint16_t kelvin, int *celsius)
{
	if (kelvin == 0xFFFF)
		return -ENODATA;
	return np_nvme_kelvin_to_celsius(kelvin, celsius);
}

/*
 * np_nvme_field() - a fixed-width, space- or NUL-padded ASCII field as a
 * trimmed string: NULL when empty after trimming (case 10: "unknown", never
 * ""), and on ENOMEM. Non-printable bytes become '?'.
 */
static char *np_nvme_field(const void *field, size_t width)
{
	char *s = np_strndup_field(field, width);
	if (s && !*s) {
		free(s);
		return NULL;
	}
	return s;
}

/* np_strndup_field() stops at the first NUL; a leading-NUL field can still hold spaces. */
static int set_field(char **dst, const uint8_t *p, size_t width)
{
	bool any = false;
	for (size_t i = 0; i < width; i++)
		if (p[i] != 0 && p[i] != ' ')
			any = true;
	if (!any) {
		*dst = NULL;
		return 0;
	}
	*dst = np_nvme_field(p, width);
	return *dst ? 0 : -ENOMEM;
}

int np_nvme_fw_slot_decode(const void *buf, size_t len, unsigned nslots, struct np_nvme_fw_slots *out)
{
	const uint8_t *p = buf;
	if (!buf || len < 64)
		return -EINVAL;
	if (nslots == 0 || nslots > 7)
		nslots = 7;
	struct np_nvme_fw_slots fw = { .present = true };
	fw.active_slot = p[0] & 0x7;
	fw.pending_slot = (p[0] >> 4) & 0x7;
	for (unsigned i = 0; i < nslots; i++) {
		if (set_field(&fw.revision[i], p + 8 + 8 * i, 8) < 0) {
			for (unsigned k = 0; k < i; k++)
				free(fw.revision[k]);
			return -ENOMEM;
		}
	}
	*out = fw;
	return 0;
}

static int cmp_error_desc(const void *a, const void *b)
{
	const struct np_nvme_error_entry *x = a, *y = b;
	return x->error_count < y->error_count ? 1 : x->error_count > y->error_count ? -1 : 0;
}

int np_nvme_error_log_decode(const void *buf, size_t len, uint64_t last_seen,
			     struct np_nvme_error_entry **out, size_t *n, uint64_t *max_count)
{
	const uint8_t *p = buf;
	if (!buf || len == 0 || len % NP_NVME_ERROR_ENTRY_SIZE)
		return -EINVAL;
	size_t cap = len / NP_NVME_ERROR_ENTRY_SIZE, k = 0;
	struct np_nvme_error_entry *v = calloc(cap, sizeof(*v));
	if (!v)
		return -ENOMEM;
	uint64_t maxc = last_seen;
	for (size_t i = 0; i < cap; i++, p += NP_NVME_ERROR_ENTRY_SIZE) {
		uint64_t cnt = le64(p);
		if (cnt == 0 || cnt <= last_seen)
			continue;
		struct np_nvme_error_entry *e = &v[k++];
		e->error_count = cnt;
		e->sqid = le16(p + 8);
		e->cmdid = le16(p + 10);
		e->status = le16(p + 12) >> 1; /* bit 0 is the phase tag */
		e->param_error_location = le16(p + 14);
		e->lba = le64(p + 16);
		e->nsid = le32(p + 24);
		e->transport_type = p[29];
		e->command_specific = le64(p + 32);
		if (cnt > maxc)
			maxc = cnt;
	}
	qsort(v, k, sizeof(*v), cmp_error_desc);
	if (!k) {
		free(v);
		v = NULL;
	}
	*out = v;
	*n = k;
	*max_count = maxc;
	return 0;
}

int np_nvme_id_ctrl_decode(const void *buf, size_t len, struct np_nvme_id_ctrl *out)
{
	const uint8_t *p = buf;
	if (!buf || len < 1024)
		return -EINVAL;
	struct np_nvme_id_ctrl id = { 0 };
	if (set_field(&id.serial, p + 4, 20) < 0 || set_field(&id.model, p + 24, 40) < 0 ||
	    set_field(&id.firmware_rev, p + 64, 8) < 0 || set_field(&id.subnqn, p + 768, 256) < 0) {
		np_nvme_id_ctrl_free(&id);
		return -ENOMEM;
	}
	id.cntlid = le16(p + 78);
	id.fw_slots = (p[260] >> 1) & 0x7;
	id.elpe = p[262];
	id.wctemp_kelvin = le16(p + 266);
	id.cctemp_kelvin = le16(p + 268);
	*out = id;
	return 0;
}

void np_nvme_id_ctrl_free(struct np_nvme_id_ctrl *id)
{
	free(id->serial);
	free(id->model);
	free(id->firmware_rev);
	free(id->subnqn);
	memset(id, 0, sizeof(*id));
}

void np_nvme_poll_init(struct np_nvme_poll *p)
{
	memset(p, 0, sizeof(*p));
	p->smart_interval_ms = 60000;
}

bool np_nvme_poll_smart_due(const struct np_nvme_poll *p, int64_t now_ms)
{
	return !p->have_smart || now_ms - p->last_smart_ms >= p->smart_interval_ms;
}

bool np_nvme_poll_identify(struct np_nvme_poll *p, const char *serial, const char *model)
{
	char id[sizeof(p->ident)];
	if (!serial) { /* unknown: this cycle's SMART is read, not reused; the error-log counts stay */
		bool was = p->have_smart;
		p->have_smart = false;
		return was;
	}
	snprintf(id, sizeof(id), "%s\n%s", serial, model ? model : "");
	if (streq(p->ident, id))
		return false;
	bool was = p->have_smart || p->last_num_err_log_entries || p->last_error_count;
	int64_t interval = p->smart_interval_ms;
	np_nvme_poll_init(p);
	p->smart_interval_ms = interval;
	memcpy(p->ident, id, sizeof(id));
	return was;
}

bool np_nvme_poll_errlog_due(const struct np_nvme_poll *p, const struct np_nvme_smart *s)
{
	if (!s->present)
		return false;
	uint64_t n = s->num_err_log_entries.hi ? UINT64_MAX : s->num_err_log_entries.lo;
	return n > p->last_num_err_log_entries;
}
