// SPDX-License-Identifier: Apache-2.0
/* timeouts.c - the timeouts section: free, JSON, text. */
#include "timeouts.h"
#include "json.h"
#include "report.h"
#include "section.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *np_tmo_fmt(int64_t v, const char *unit, char *buf, size_t len)
{
	if (v == NP_TMO_ABSENT)
		snprintf(buf, len, "-");
	else if (v == NP_TMO_OFF)
		snprintf(buf, len, "off");
	else
		snprintf(buf, len, "%lld %s", (long long)v, unit);
	return buf;
}

const struct np_tmo_dev *np_timeouts_find(const struct np_timeouts *s, const char *name)
{
	for (size_t i = 0; s && name && i < s->n_devs; i++)
		if (streq(s->devs[i].name, name))
			return &s->devs[i];
	return NULL;
}

void np_tmo_dev_free(struct np_tmo_dev *d)
{
	free(d->name);
	free(d->kind);
	free(d->transport);
	free(d->port);
	np_status_clear(&d->status);
	*d = (struct np_tmo_dev){ 0 };
}

void np_timeouts_free(struct np_timeouts *s)
{
	for (size_t i = 0; i < s->n_devs; i++)
		np_tmo_dev_free(&s->devs[i]);
	free(s->devs);
	np_status_clear(&s->status);
	*s = (struct np_timeouts){ 0 };
}

static void put(json_t *o, const char *key, int64_t v)
{
	if (v != NP_TMO_ABSENT)
		np_json_s64(o, key, v);
}

static json_t *dev_to_json(const struct np_tmo_dev *d)
{
	json_t *o = json_object();
	np_json_str(o, "name", d->name);
	np_json_str(o, "kind", d->kind);
	put(o, "io_timeout_ms", d->io_timeout_ms);
	put(o, "scsi_timeout_s", d->scsi_timeout_s);
	put(o, "scsi_eh_timeout_s", d->scsi_eh_timeout_s);
	np_json_str(o, "transport", d->transport);
	np_json_str(o, "port", d->port);
	put(o, "dev_loss_tmo_s", d->dev_loss_tmo_s);
	put(o, "fast_io_fail_tmo_s", d->fast_io_fail_tmo_s);
	put(o, "recovery_tmo_s", d->recovery_tmo_s);
	put(o, "ctrl_loss_tmo_s", d->ctrl_loss_tmo_s);
	put(o, "reconnect_delay_s", d->reconnect_delay_s);
	np_status_to_json(&d->status, o);
	return o;
}

json_t *np_timeouts_to_json(const struct np_timeouts *s)
{
	json_t *o = json_object();
	put(o, "nvme_io_timeout_s", s->nvme_io_timeout_s);
	put(o, "nvme_admin_timeout_s", s->nvme_admin_timeout_s);
	put(o, "dm_queue_if_no_path_timeout_s", s->dm_queue_timeout_s);
	json_t *a = json_array();
	for (size_t i = 0; i < s->n_devs; i++)
		json_array_append_new(a, dev_to_json(&s->devs[i]));
	json_object_set_new(o, "devices", a);
	np_status_to_json(&s->status, o);
	return o;
}

void np_timeouts_print(const struct np_timeouts *s, struct np_out *o)
{
	static const char *const hdr[] = { "DEVICE", "IO_TIMEOUT", "SCSI", "SCSI_EH", "TRANSPORT", "PORT",
					   "FAST_IO_FAIL", "DEV_LOSS", "RECOVERY", "CTRL_LOSS" };
	char a[32], b[32];
	np_out_heading(o, "Timeouts");
	if (s->status.err)
		np_out_error(o, s->status.error);
	np_out_kvf(o, "nvme_core", "io %s, admin %s", np_tmo_fmt(s->nvme_io_timeout_s, "s", a, sizeof(a)),
		   np_tmo_fmt(s->nvme_admin_timeout_s, "s", b, sizeof(b)));
	np_out_kv(o, "dm queueing bound",
		  s->dm_queue_timeout_s == 0 ? "none (queue_if_no_path_timeout_secs 0)"
					     : np_tmo_fmt(s->dm_queue_timeout_s, "s", a, sizeof(a)));
	struct np_table *t = np_table_new(ARRAY_SIZE(hdr), hdr);
	for (size_t i = 0; t && i < s->n_devs; i++) {
		const struct np_tmo_dev *d = &s->devs[i];
		char v[8][32];
		const char *cells[] = { d->name,
					np_tmo_fmt(d->io_timeout_ms, "ms", v[0], sizeof(v[0])),
					np_tmo_fmt(d->scsi_timeout_s, "s", v[1], sizeof(v[1])),
					np_tmo_fmt(d->scsi_eh_timeout_s, "s", v[2], sizeof(v[2])),
					d->transport,
					d->port,
					np_tmo_fmt(d->fast_io_fail_tmo_s, "s", v[3], sizeof(v[3])),
					np_tmo_fmt(d->dev_loss_tmo_s, "s", v[4], sizeof(v[4])),
					np_tmo_fmt(d->recovery_tmo_s, "s", v[5], sizeof(v[5])),
					np_tmo_fmt(d->ctrl_loss_tmo_s, "s", v[6], sizeof(v[6])) };
		np_table_add(t, d->status.err ? NP_TONE_WARN : NP_TONE_PLAIN, cells);
	}
	if (t)
		np_table_print_free(t, o);
}

int np_timeouts_bundle(const struct np_timeouts *s, struct np_bundle *b)
{
	(void)s;
	(void)b;
	return 0;
}

static void timeouts_judge(const struct np_report *r, struct np_source *s)
{
	const struct np_timeouts *t = &r->timeouts;
	if (t->status.err)
		np_source_down(s, &t->status);
	for (size_t i = 0; i < t->n_devs; i++)
		if (t->devs[i].status.err)
			np_source_item_down(s, t->devs[i].name, &t->devs[i].status, 0, NULL);
}

NP_SECTION_SOURCE(timeouts, 110, "storage timeouts", "TimeoutsUnreadable", timeouts_judge);
