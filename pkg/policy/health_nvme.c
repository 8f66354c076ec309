// SPDX-License-Identifier: Apache-2.0
/* health_nvme.c - NVMe SMART/health: findings under health.nvme (health.h). */
#define _GNU_SOURCE
#include "health_nvme.h"
#include "record.h"
#include "vocab.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <string.h>

/* The SMART critical warning bits by name, bit 0 first (NVMe Base Spec 2.0, Figure 207). */
static const char *const warning_bits[] = { "available_spare", "temperature", "reliability", "read_only",
					    "volatile_memory_backup", "persistent_memory_region", NULL };

static const struct np_nvme_ctrl *find_ctrl(const struct np_nvme *n, const char *name)
{
	for (size_t i = 0; n && i < n->n_controllers; i++)
		if (n->controllers[i].name && streq(n->controllers[i].name, name))
			return &n->controllers[i];
	return NULL;
}

static bool u128_gt(struct np_u128 a, struct np_u128 b)
{
	return a.hi > b.hi || (a.hi == b.hi && a.lo > b.lo);
}

static int nvme_warning(const struct np_health_nvme *h, const struct np_nvme_ctrl *c, struct np_desired *d)
{
	uint8_t bits = c->smart.critical_warning & (uint8_t)h->critical_warning_mask;
	if (!bits)
		return 0;
	char names[160] = "";
	for (size_t b = 0; warning_bits[b]; b++)
		if (bits & (1u << b))
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", *names ? ", " : "",
				 warning_bits[b]);
	return np_desired_add_finding(d, NP_FINDING_NVME_CRITICAL, c->name, NP_REASON_CRITICAL_WARNING,
				      "%s (%s, firmware %s): SMART critical warning 0x%02x (%s)", c->name,
				      c->model ? c->model : "?", c->firmware_rev ? c->firmware_rev : "?",
				      c->smart.critical_warning, names);
}

/*
 * The error-log count grew. When the new entries were read, only drive faults count (media,
 * device: np_nvme_error_is_fault()): an admin-queue "Invalid Field in Command" is a tool probing
 * an unsupported log page, counted by the drive for ever. When they were not read, the count is
 * all there is.
 */
static int error_log_growth(const struct np_nvme_ctrl *c, const struct np_nvme_ctrl *old, struct np_desired *d)
{
	const struct np_nvme_error_entry *first = NULL;
	size_t faults = 0;
	for (size_t i = 0; i < c->n_errors; i++)
		if (np_nvme_error_is_fault(&c->errors[i]) && faults++ == 0)
			first = &c->errors[i];
	unsigned long long from = old->smart.num_err_log_entries.lo, to = c->smart.num_err_log_entries.lo;
	if (c->n_errors && !faults)
		return 0;
	if (!first)
		return np_desired_add_finding(d, NP_FINDING_NVME_CRITICAL, c->name, NP_REASON_ERROR_LOG_GROWTH,
					      "%s: error-log entries grew from %llu to %llu (entries not read)", c->name,
					      from, to);
	return np_desired_add_finding(d, NP_FINDING_NVME_CRITICAL, c->name, NP_REASON_ERROR_LOG_GROWTH,
				      "%s: error-log entries grew from %llu to %llu, %zu of them %s errors (first: %s "
				      "queue %u, status 0x%03x)", c->name, from, to, faults,
				      np_nvme_error_class_name(np_nvme_error_class(first)),
				      first->sqid ? "I/O" : "admin", first->sqid, first->status & 0x7ff);
}

static int findings_nvme_ctrl(const struct np_health_nvme *h, const struct np_nvme_ctrl *c,
			      const struct np_eval_history *hist, struct np_desired *d)
{
	const struct np_nvme_smart *sm = &c->smart;
	if (!sm->present || !sm->plausible || !c->name)
		return 0; /* no page, or an all-zero page: a failed read, not data (case 08) */
	int r = nvme_warning(h, c, d);
	if (r >= 0 && h->spare_below_threshold && sm->available_spare_threshold_percent > 0 &&
	    sm->available_spare_percent < sm->available_spare_threshold_percent)
		r = np_desired_add_finding(d, NP_FINDING_NVME_CRITICAL, c->name, NP_REASON_SPARE_BELOW_THRESHOLD,
					   "%s: available spare %u%% below its threshold %u%%", c->name,
					   sm->available_spare_percent, sm->available_spare_threshold_percent);
	if (r >= 0 && h->percentage_used_max >= 0 && sm->percentage_used > h->percentage_used_max)
		r = np_desired_add_finding(d, NP_FINDING_NVME_CRITICAL, c->name, NP_REASON_WEAR_OUT,
					   "%s: %u%% of its rated endurance used (limit %d%%)", c->name,
					   sm->percentage_used, h->percentage_used_max);
	const struct np_nvme_ctrl *old = hist && hist->prev ? find_ctrl(&hist->prev->nvme, c->name) : NULL;
	if (old && c->serial && old->serial && !streq(c->serial, old->serial))
		old = NULL; /* another drive under the name (hot swap): its counters are no growth of these */
	if (!old || !old->smart.present || !old->smart.plausible)
		return r;
	if (r >= 0 && h->media_errors_growth && u128_gt(sm->media_errors, old->smart.media_errors))
		r = np_desired_add_finding(d, NP_FINDING_NVME_CRITICAL, c->name, NP_REASON_MEDIA_ERRORS,
					   "%s: media errors grew from %llu to %llu", c->name,
					   (unsigned long long)old->smart.media_errors.lo,
					   (unsigned long long)sm->media_errors.lo);
	if (r >= 0 && h->error_log_growth && u128_gt(sm->num_err_log_entries, old->smart.num_err_log_entries))
		r = error_log_growth(c, old, d);
	return r;
}

static int judge_nvme(const struct np_health_nvme *h, const struct np_health_in *in, struct np_desired *d)
{
	int r = 0;
	for (size_t i = 0; r >= 0 && i < in->r->nvme.n_controllers; i++)
		r = findings_nvme_ctrl(h, &in->r->nvme.controllers[i], in->hist, d);
	return r;
}

static const struct np_field fields[] = {
	NP_FIELD_FLAGS("criticalWarningBits", struct np_health_nvme, critical_warning_mask, warning_bits,
		       "critical warning bit"),
	NP_FIELD_BOOL("spareBelowThreshold", struct np_health_nvme, spare_below_threshold),
	NP_FIELD_INT("percentageUsedMax", struct np_health_nvme, percentage_used_max, -1, 255),
	NP_FIELD_BOOL("mediaErrorsGrowth", struct np_health_nvme, media_errors_growth),
	NP_FIELD_BOOL("errorLogGrowth", struct np_health_nvme, error_log_growth),
	{},
};

NP_HEALTH(nvme, 30, judge_nvme, fields,
	"criticalWarningBits: [available_spare, temperature, reliability, read_only,\n"
	"                      volatile_memory_backup, persistent_memory_region]\n"
	"spareBelowThreshold: true\n"
	"percentageUsedMax: 100\n"
	"mediaErrorsGrowth: true\n"
	"errorLogGrowth: false\n");
