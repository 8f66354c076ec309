// SPDX-License-Identifier: Apache-2.0
#define _GNU_SOURCE
#include "nvme.h"
#include "expo.h"
#include "json.h"
#include "report.h"
#include "section.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* NVMe Base Spec 2.0, figure 207 (SMART / Health log, byte 0 "Critical Warning"). */
static const char *const crit_names[8] = {
	"available_spare", "temperature", "reliability", "read_only",
	"volatile_memory_backup", "persistent_memory_region", "bit6", "bit7",
};

char *np_u128_to_dec(struct np_u128 v, char *buf, size_t size)
{
	unsigned __int128 x = ((unsigned __int128)v.hi << 64) | v.lo;
	char tmp[48];
	size_t n = 0;
	do {
		tmp[n++] = (char)('0' + (int)(x % 10));
		x /= 10;
	} while (x && n < sizeof(tmp));
	size_t i = 0;
	for (; i < n && i + 1 < size; i++)
		buf[i] = tmp[n - 1 - i];
	buf[i] = '\0';
	return buf;
}

char *np_u128_times_to_dec(struct np_u128 v, uint32_t mul, char *buf, size_t size)
{
	char dec[48];
	np_u128_to_dec(v, dec, sizeof(dec));
	/* schoolbook: decimal digits times a 32-bit factor, carry in 64 bits */
	char out[64];
	size_t n = 0, len = strlen(dec);
	uint64_t carry = 0;
	for (size_t i = len; i > 0; i--) {
		uint64_t d = (uint64_t)(dec[i - 1] - '0') * mul + carry;
		out[n++] = (char)('0' + d % 10);
		carry = d / 10;
	}
	while (carry && n < sizeof(out)) {
		out[n++] = (char)('0' + carry % 10);
		carry /= 10;
	}
	while (n > 1 && out[n - 1] == '0')
		n--;
	size_t i = 0;
	for (; i < n && i + 1 < size; i++)
		buf[i] = out[n - 1 - i];
	buf[i] = '\0';
	return buf;
}

/*
 * np_json_u128() - set @key to an integer when @v fits in int64, else to its
 * decimal string; never negative, never a float (case 05).
 */
static void np_json_u128(json_t *o, const char *key, struct np_u128 v)
{
	if (v.hi == 0) {
		np_json_u64(o, key, v.lo);
		return;
	}
	char buf[48];
	json_object_set_new(o, key, json_string(np_u128_to_dec(v, buf, sizeof(buf))));
}

/* bytes = units x 512,000 (NVMe 2.0 figure 207, Data Units Read). */
static void json_units_bytes(json_t *o, const char *key, struct np_u128 units)
{
	unsigned __int128 u = ((unsigned __int128)units.hi << 64) | units.lo;
	if (u <= (unsigned __int128)INT64_MAX / 512000) {
		json_object_set_new(o, key, json_integer((json_int_t)(u * 512000)));
		return;
	}
	char buf[64];
	json_object_set_new(o, key, json_string(np_u128_times_to_dec(units, 512000, buf, sizeof(buf))));
}

static void free_ns(struct np_nvme_ns *ns)
{
	free(ns->name);
	free(ns->ana_state);
	for (size_t i = 0; i < ns->n_paths; i++) {
		free(ns->paths[i].name);
		free(ns->paths[i].ana_state);
	}
	free(ns->paths);
}

void np_nvme_ctrl_free(struct np_nvme_ctrl *c)
{
	char **strs[] = { &c->name, &c->model, &c->serial, &c->firmware_rev, &c->transport,
			  &c->address, &c->state, &c->subsystem, &c->subsystem_nqn, &c->cntlid };
	for (size_t i = 0; i < ARRAY_SIZE(strs); i++) {
		free(*strs[i]);
		*strs[i] = NULL;
	}
	for (size_t i = 0; i < 7; i++) {
		free(c->fw.revision[i]);
		c->fw.revision[i] = NULL;
	}
	free(c->errors);
	c->errors = NULL;
	c->n_errors = 0;
	for (size_t i = 0; i < c->n_namespaces; i++)
		free_ns(&c->namespaces[i]);
	free(c->namespaces);
	c->namespaces = NULL;
	c->n_namespaces = 0;
	np_status_clear(&c->status);
}

void np_nvme_free(struct np_nvme *s)
{
	for (size_t i = 0; i < s->n_controllers; i++)
		np_nvme_ctrl_free(&s->controllers[i]);
	free(s->controllers);
	s->controllers = NULL;
	s->n_controllers = 0;
	for (size_t i = 0; i < s->n_subsystems; i++) {
		free(s->subsystems[i].name);
		free(s->subsystems[i].nqn);
		free(s->subsystems[i].iopolicy);
		np_strv_free(s->subsystems[i].controllers);
	}
	free(s->subsystems);
	s->subsystems = NULL;
	s->n_subsystems = 0;
	free(s->host_nqn);
	s->host_nqn = NULL;
	np_status_clear(&s->status);
}

static json_t *smart_to_json(const struct np_nvme_smart *m)
{
	json_t *o = json_object();
	np_json_u64(o, "critical_warning", m->critical_warning);
	json_t *bits = json_array();
	for (unsigned b = 0; b < 8; b++)
		if (m->critical_warning & (1u << b))
			json_array_append_new(bits, json_string(crit_names[b]));
	json_object_set_new(o, "critical_warning_bits", bits);
	if (m->temperature_kelvin)
		np_json_s64(o, "temperature_celsius", (int)m->temperature_kelvin - 273);
	else
		json_object_set_new(o, "temperature_celsius", json_null());
	np_json_u64(o, "temperature_kelvin", m->temperature_kelvin);
	json_t *sensors = json_array();
	for (unsigned i = 0; i < 8; i++) {
		if (!m->temp_sensor_kelvin[i])
			continue; /* 0 K: sensor not implemented (case 08) */
		json_t *t = json_object();
		np_json_u64(t, "sensor", i + 1);
		np_json_s64(t, "celsius", (int)m->temp_sensor_kelvin[i] - 273);
		np_json_u64(t, "kelvin", m->temp_sensor_kelvin[i]);
		json_array_append_new(sensors, t);
	}
	json_object_set_new(o, "temperature_sensors", sensors);
	np_json_u64(o, "available_spare_percent", m->available_spare_percent);
	np_json_u64(o, "available_spare_threshold_percent", m->available_spare_threshold_percent);
	np_json_u64(o, "percentage_used", m->percentage_used);
	np_json_u128(o, "data_units_read", m->data_units_read);
	np_json_u128(o, "data_units_written", m->data_units_written);
	json_units_bytes(o, "data_read_bytes", m->data_units_read);
	json_units_bytes(o, "data_written_bytes", m->data_units_written);
	np_json_u128(o, "host_read_commands", m->host_read_commands);
	np_json_u128(o, "host_write_commands", m->host_write_commands);
	np_json_u128(o, "controller_busy_time_minutes", m->controller_busy_time_minutes);
	np_json_u128(o, "power_cycles", m->power_cycles);
	np_json_u128(o, "power_on_hours", m->power_on_hours);
	np_json_u128(o, "unsafe_shutdowns", m->unsafe_shutdowns);
	np_json_u128(o, "media_errors", m->media_errors);
	np_json_u128(o, "num_err_log_entries", m->num_err_log_entries);
	np_json_u64(o, "warning_temp_time_minutes", m->warning_temp_time_minutes);
	np_json_u64(o, "critical_comp_time_minutes", m->critical_comp_time_minutes);
	np_json_bool(o, "plausible", m->plausible);
	return o;
}

static json_t *fw_to_json(const struct np_nvme_fw_slots *fw)
{
	json_t *o = json_object();
	if (fw->active_slot)
		np_json_u64(o, "active_slot", fw->active_slot);
	else
		json_object_set_new(o, "active_slot", json_null());
	if (fw->pending_slot)
		np_json_u64(o, "pending_slot", fw->pending_slot);
	else
		json_object_set_new(o, "pending_slot", json_null());
	json_t *slots = json_array();
	for (unsigned i = 0; i < 7; i++) {
		if (!fw->revision[i])
			continue;
		json_t *s = json_object();
		np_json_u64(s, "slot", i + 1);
		np_json_str(s, "revision", fw->revision[i]);
		json_array_append_new(slots, s);
	}
	json_object_set_new(o, "slots", slots);
	return o;
}

enum np_nvme_err_class np_nvme_error_class(const struct np_nvme_error_entry *e)
{
	unsigned sct = (e->status >> 8) & 0x7, sc = e->status & 0xff;
	switch (sct) {
	case 0: /* generic command status */
		if (sc == 0x04 || sc == 0x06)
			return NP_NVME_ERR_DEVICE;
		if (sc == 0x05 || (sc >= 0x07 && sc <= 0x0a))
			return NP_NVME_ERR_ABORTED;
		if (sc == 0x01 || sc == 0x02 || sc == 0x0b || sc == 0x0c || sc == 0x0f)
			return NP_NVME_ERR_REJECTED;
		return NP_NVME_ERR_OTHER;
	case 1: /* command specific: invalid log page, firmware slot, ... */
		return NP_NVME_ERR_REJECTED;
	case 2: /* media and data integrity */
		return sc >= 0x80 && sc <= 0x84 ? NP_NVME_ERR_MEDIA : NP_NVME_ERR_REJECTED;
	case 3:
		return NP_NVME_ERR_PATH;
	case 7:
		return NP_NVME_ERR_VENDOR;
	default:
		return NP_NVME_ERR_OTHER;
	}
}

bool np_nvme_error_is_fault(const struct np_nvme_error_entry *e)
{
	enum np_nvme_err_class c = np_nvme_error_class(e);
	return c == NP_NVME_ERR_MEDIA || c == NP_NVME_ERR_DEVICE;
}

const char *np_nvme_error_class_name(enum np_nvme_err_class c)
{
	static const char *const names[] = { "media", "device", "path", "aborted", "rejected", "vendor", "other" };
	return (unsigned)c < ARRAY_SIZE(names) ? names[c] : "other";
}

static json_t *error_to_json(const struct np_nvme_error_entry *e)
{
	json_t *o = json_object();
	np_json_str(o, "class", np_nvme_error_class_name(np_nvme_error_class(e)));
	np_json_str(o, "queue", e->sqid == 0 ? "admin" : "io");
	np_json_u64(o, "error_count", e->error_count);
	np_json_u64(o, "sqid", e->sqid);
	np_json_u64(o, "cmdid", e->cmdid);
	np_json_u64(o, "status", e->status);
	np_json_u64(o, "status_code_type", (e->status >> 8) & 0x7);
	np_json_u64(o, "status_code", e->status & 0xff);
	np_json_bool(o, "do_not_retry", e->status & 0x4000);
	np_json_u64(o, "param_error_location", e->param_error_location);
	if (e->lba == UINT64_MAX)
		json_object_set_new(o, "lba", json_null());
	else
		np_json_u64(o, "lba", e->lba);
	np_json_u64(o, "nsid", e->nsid);
	np_json_u64(o, "transport_type", e->transport_type);
	np_json_u64(o, "command_specific", e->command_specific);
	return o;
}

static json_t *ns_to_json(const struct np_nvme_ns *ns)
{
	json_t *o = json_object();
	np_json_str(o, "name", ns->name);
	if (ns->nsid)
		np_json_u64(o, "nsid", ns->nsid);
	else
		json_object_set_new(o, "nsid", json_null());
	if (ns->have_size)
		np_json_u64(o, "size_bytes", ns->size_bytes);
	else
		json_object_set_new(o, "size_bytes", json_null());
	np_json_str(o, "ana_state", ns->ana_state);
	json_t *paths = json_array();
	for (size_t i = 0; i < ns->n_paths; i++) {
		json_t *p = json_object();
		np_json_str(p, "name", ns->paths[i].name);
		np_json_str(p, "ana_state", ns->paths[i].ana_state);
		json_array_append_new(paths, p);
	}
	json_object_set_new(o, "paths", paths);
	return o;
}

static void json_opt_int(json_t *o, const char *key, bool have, int v)
{
	json_object_set_new(o, key, have ? json_integer(v) : json_null());
}

json_t *np_nvme_ctrl_to_json(const struct np_nvme_ctrl *c)
{
	json_t *o = json_object();
	np_json_str(o, "name", c->name);
	np_json_str(o, "model", c->model);
	np_json_str(o, "serial", c->serial);
	np_json_str(o, "firmware_rev", c->firmware_rev);
	np_json_str(o, "transport", c->transport);
	np_json_str(o, "address", c->address);
	np_json_str(o, "state", c->state);
	np_json_str(o, "cntlid", c->cntlid);
	np_json_str(o, "subsystem", c->subsystem);
	np_json_str(o, "subsystem_nqn", c->subsystem_nqn);
	json_opt_int(o, "warning_temp_threshold_celsius", c->have_wctemp, c->warning_temp_threshold_celsius);
	json_opt_int(o, "critical_temp_threshold_celsius", c->have_cctemp,
		     c->critical_temp_threshold_celsius);
	json_object_set_new(o, "firmware_slots", c->fw.present ? fw_to_json(&c->fw) : json_null());
	json_object_set_new(o, "smart", c->smart.present ? smart_to_json(&c->smart) : json_null());
	np_json_bool(o, "smart_skipped", c->smart_skipped);
	json_t *errs = json_array();
	for (size_t i = 0; i < c->n_errors; i++)
		json_array_append_new(errs, error_to_json(&c->errors[i]));
	json_object_set_new(o, "error_log", errs);
	json_t *nss = json_array();
	for (size_t i = 0; i < c->n_namespaces; i++)
		json_array_append_new(nss, ns_to_json(&c->namespaces[i]));
	json_object_set_new(o, "namespaces", nss);
	np_json_s64(o, "collect_us", c->collect_us);
	np_status_to_json(&c->status, o);
	return o;
}

json_t *np_nvme_to_json(const struct np_nvme *s)
{
	json_t *o = json_object();
	np_json_str(o, "host_nqn", s->host_nqn);
	json_t *subs = json_array();
	for (size_t i = 0; i < s->n_subsystems; i++) {
		const struct np_nvme_subsys *ss = &s->subsystems[i];
		json_t *j = json_object();
		np_json_str(j, "name", ss->name);
		np_json_str(j, "nqn", ss->nqn);
		np_json_str(j, "iopolicy", ss->iopolicy);
		json_t *cs = json_array();
		for (size_t k = 0; k < ss->n_controllers; k++)
			json_array_append_new(cs, np_json_string(ss->controllers[k]));
		json_object_set_new(j, "controllers", cs);
		json_array_append_new(subs, j);
	}
	json_object_set_new(o, "subsystems", subs);
	json_t *ctrls = json_array();
	for (size_t i = 0; i < s->n_controllers; i++)
		json_array_append_new(ctrls, np_nvme_ctrl_to_json(&s->controllers[i]));
	json_object_set_new(o, "controllers", ctrls);
	np_status_to_json(&s->status, o);
	return o;
}

static enum np_tone ctrl_tone(const struct np_nvme_ctrl *c)
{
	if (c->smart.present && c->smart.plausible && (c->smart.critical_warning & ~0x02u))
		return NP_TONE_BAD;
	if (c->smart.present && (c->smart.critical_warning || !c->smart.plausible))
		return NP_TONE_WARN;
	if (c->state && !(strcmp(c->state, "live") == 0))
		return NP_TONE_WARN;
	if (c->status.err)
		return NP_TONE_DIM;
	return NP_TONE_PLAIN;
}

static void crit_text(uint8_t cw, char *buf, size_t size)
{
	size_t w = 0;
	buf[0] = '\0';
	if (!cw) {
		snprintf(buf, size, "none");
		return;
	}
	for (unsigned b = 0; b < 8 && w < size; b++)
		if (cw & (1u << b))
			w += (size_t)snprintf(buf + w, size - w, "%s%s", w ? "," : "", crit_names[b]);
}

static void print_row(struct np_table *t, const struct np_nvme_ctrl *c)
{
	char temp[16] = "-", spare[16] = "-", used[8] = "-", media[48] = "-", crit[128] = "-";
	const struct np_nvme_smart *m = &c->smart;
	if (m->present) {
		if (m->temperature_kelvin)
			snprintf(temp, sizeof(temp), "%d", (int)m->temperature_kelvin - 273);
		snprintf(spare, sizeof(spare), "%u/%u", m->available_spare_percent,
			 m->available_spare_threshold_percent);
		snprintf(used, sizeof(used), "%u", m->percentage_used);
		np_u128_to_dec(m->media_errors, media, sizeof(media));
		crit_text(m->critical_warning, crit, sizeof(crit));
		if (!m->plausible)
			snprintf(crit, sizeof(crit), "invalid read");
	} else if (c->status.err) {
		snprintf(crit, sizeof(crit), "%s", c->status.error ? c->status.error : "error");
	}
	const char *cells[] = { c->name, c->model, c->serial, c->firmware_rev, c->state,
				temp, spare, used, media, crit };
	np_table_add(t, ctrl_tone(c), cells);
}

void np_nvme_print(const struct np_nvme *s, struct np_out *o)
{
	np_out_heading(o, "NVMe");
	if (s->status.err)
		np_out_error(o, s->status.error);
	if (!s->n_controllers) {
		np_out_kv(o, "controllers", "none");
		return;
	}
	static const char *const hdr[] = { "NAME", "MODEL", "SERIAL", "FW", "STATE", "TEMP C",
					   "SPARE/THR %", "USED %", "MEDIA ERR", "CRITICAL WARNING" };
	struct np_table *t = np_table_new(ARRAY_SIZE(hdr), hdr);
	if (!t)
		return;
	for (size_t i = 0; i < s->n_controllers; i++)
		print_row(t, &s->controllers[i]);
	np_table_print_free(t, o);
	for (size_t i = 0; i < s->n_controllers; i++) {
		const struct np_nvme_ctrl *c = &s->controllers[i];
		for (size_t k = 0; k < c->n_namespaces; k++) {
			const struct np_nvme_ns *ns = &c->namespaces[k];
			if (ns->ana_state)
				np_out_kvf(o, ns->name, "namespace of %s, ANA %s", c->name, ns->ana_state);
			for (size_t p = 0; p < ns->n_paths; p++)
				np_out_kvf(o, ns->paths[p].name, "%s path of %s, ANA %s", c->name, ns->name,
					   ns->paths[p].ana_state ? ns->paths[p].ana_state : "-");
		}
		if (c->n_errors)
			np_out_kvf(o, c->name, "%zu new error-log entries (latest count %llu)", c->n_errors,
				   (unsigned long long)c->errors[0].error_count);
	}
}

int np_nvme_bundle(const struct np_nvme *s, struct np_bundle *b)
{
	for (size_t i = 0; i < s->n_controllers; i++) {
		const struct np_nvme_ctrl *c = &s->controllers[i];
		int r = np_bundle_add(b, "nvme", c->model ? c->model : "unknown", c->firmware_rev);
		if (r < 0)
			return r;
	}
	return 0;
}

static void nvme_metrics(FILE *f, const struct np_report *r, const struct np_metrics_opts *o)
{
	const struct np_nvme *n = &r->nvme;
	(void)o;
	static const struct {
		const char *name, *type, *help;
	} m[] = {
		{ "nodeprint_nvme_critical_warning", "gauge", "SMART critical warning bit mask (NVMe Base Spec, SMART / Health log byte 0)." },
		{ "nodeprint_nvme_temperature_celsius", "gauge", "Composite temperature (absent when the device reports 0 K)." },
		{ "nodeprint_nvme_available_spare_ratio", "gauge", "Available spare, 0 to 1." },
		{ "nodeprint_nvme_available_spare_threshold_ratio", "gauge", "Available spare threshold, 0 to 1." },
		{ "nodeprint_nvme_percentage_used_ratio", "gauge", "Share of rated endurance used (may exceed 1)." },
		{ "nodeprint_nvme_media_errors_total", "counter", "Unrecovered data integrity errors." },
	};
	for (size_t k = 0; k < ARRAY_SIZE(m); k++) {
		np_expo_help(f, m[k].name, m[k].type, m[k].help);
		for (size_t i = 0; i < n->n_controllers; i++) {
			const struct np_nvme_ctrl *c = &n->controllers[i];
			const struct np_nvme_smart *sm = &c->smart;
			if (!sm->present || !sm->plausible || !c->name)
				continue;
			/* serial: the drive, not its slot - a drive swapped in under the name is another series, so
			 * its lifetime counters are no jump (or reset) of its predecessor's. Each value is cut
			 * by np_expo_esc(), the whole never: a cut label would break the scrape */
			_cleanup_free_ char *labels =
				np_asprintf("controller=\"%s\",model=\"%s\",firmware=\"%s\",serial=\"%s\"",
					    np_expo_esc(c->name), np_expo_esc(c->model ? c->model : ""),
					    np_expo_esc(c->firmware_rev ? c->firmware_rev : ""),
					    np_expo_esc(c->serial ? c->serial : ""));
			if (!labels)
				continue;
			switch (k) {
			case 0: fprintf(f, "%s{%s} %u\n", m[k].name, labels, sm->critical_warning); break;
			case 1:
				if (sm->temperature_kelvin)
					fprintf(f, "%s{%s} %d\n", m[k].name, labels, (int)sm->temperature_kelvin - 273);
				break;
			case 2: fprintf(f, "%s{%s} %.2f\n", m[k].name, labels, sm->available_spare_percent / 100.0); break;
			case 3: fprintf(f, "%s{%s} %.2f\n", m[k].name, labels, sm->available_spare_threshold_percent / 100.0); break;
			case 4: fprintf(f, "%s{%s} %.2f\n", m[k].name, labels, sm->percentage_used / 100.0); break;
			default: {
				char dec[48];
				fprintf(f, "%s{%s} %s\n", m[k].name, labels, np_u128_to_dec(sm->media_errors, dec, sizeof(dec)));
			}
			}
		}
	}
}

static void nvme_judge(const struct np_report *r, struct np_source *s)
{
	const struct np_nvme *n = &r->nvme;
	if (n->status.err)
		np_source_down(s, &n->status);
	for (size_t i = 0; i < n->n_controllers; i++) {
		const struct np_nvme_ctrl *c = &n->controllers[i];
		if (c->smart_skipped)
			continue; /* the agent keeps the page read at the last due time */
		if (!c->smart.present)
			np_source_item_down(s, c->name, &c->status, EIO, "no SMART / health page");
		else if (!c->smart.plausible)
			np_source_item_down(s, c->name, &c->status, EIO, "SMART / health page is all zeros (a failed read)");
	}
	if (!s->up && (s->err == EPERM || s->err == EACCES))
		s->reason = "NVMeAdminDenied";
}

NP_SECTION_SOURCE(nvme, 20, "NVMe SMART/health", "NVMeUnreadable", nvme_judge, .bundle = true);
NP_SECTION_METRICS(nvme, nvme_metrics);
