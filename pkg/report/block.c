// SPDX-License-Identifier: Apache-2.0
#define _GNU_SOURCE
#include "block.h"
#include "expo.h"
#include "json.h"
#include "report.h"
#include "section.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void dev_free(struct np_block_dev *d)
{
	char **s[] = { &d->name,   &d->kind,      &d->parent,    &d->vendor,          &d->model,
		       &d->serial, &d->wwn,       &d->transport, &d->id_path,         &d->identity_source,
		       &d->scheduler, &d->write_cache, &d->dm_name, &d->dm_uuid };
	for (size_t i = 0; i < ARRAY_SIZE(s); i++) {
		free(*s[i]);
		*s[i] = NULL;
	}
	np_strv_free(d->schedulers);
	np_strv_free(d->holders);
	np_strv_free(d->slaves);
	np_strv_free(d->udev);
	d->schedulers = d->holders = d->slaves = d->udev = NULL;
	np_status_clear(&d->status);
}

void np_block_free(struct np_block *s)
{
	for (size_t i = 0; i < s->n; i++)
		dev_free(&s->devices[i]);
	free(s->devices);
	free(s->stalls);
	s->devices = NULL;
	s->stalls = NULL;
	s->n = s->n_stalls = 0;
	np_status_clear(&s->status);
}

/* Key names of the diskstats fields, in enum np_ds_field order (docs/report/block.md). */
static const char *const ds_keys[NP_DS_NFIELDS] = {
	"reads_completed",    "reads_merged",     "sectors_read",      "read_time_ms",
	"writes_completed",   "writes_merged",    "sectors_written",   "write_time_ms",
	"in_flight",          "io_time_ms",       "weighted_io_time_ms", "discards_completed",
	"discards_merged",    "sectors_discarded", "discard_time_ms",  "flushes_completed",
	"flush_time_ms",
};

static json_t *stats_json(const struct np_ds_counters *c)
{
	json_t *o = json_object();
	for (int f = 0; f < NP_DS_NFIELDS; f++)
		if (np_ds_has(c, f))
			np_json_u64(o, ds_keys[f], c->v[f]);
	return o;
}

/* Rates rounded to 1/1000: more digits than iostat prints, no float noise. */
static void real3(json_t *o, const char *key, double v)
{
	np_json_real(o, key, round(v * 1000.0) / 1000.0);
}

static json_t *rates_json(const struct np_block_rates *r)
{
	json_t *o = json_object();
	real3(o, "r_per_s", r->r_per_s);
	real3(o, "w_per_s", r->w_per_s);
	real3(o, "rkB_per_s", r->rkb_per_s);
	real3(o, "wkB_per_s", r->wkb_per_s);
	real3(o, "rrqm_per_s", r->rrqm_per_s);
	real3(o, "wrqm_per_s", r->wrqm_per_s);
	real3(o, "r_await_ms", r->r_await_ms);
	real3(o, "w_await_ms", r->w_await_ms);
	if (r->has_discards) {
		real3(o, "d_per_s", r->d_per_s);
		real3(o, "dkB_per_s", r->dkb_per_s);
		real3(o, "d_await_ms", r->d_await_ms);
	}
	if (r->has_flushes) {
		real3(o, "f_per_s", r->f_per_s);
		real3(o, "f_await_ms", r->f_await_ms);
	}
	real3(o, "aqu_sz", r->aqu_sz);
	real3(o, "util_percent", r->util_percent);
	np_json_u64(o, "in_flight", r->in_flight);
	return o;
}

static void opt_s64(json_t *o, const char *key, int64_t v)
{
	json_object_set_new(o, key, v < 0 ? json_null() : json_integer(v));
}

static json_t *udev_json(char *const *props)
{
	if (!props)
		return json_null();
	json_t *o = json_object();
	for (; *props; props++) {
		_cleanup_free_ char *k = strdup(*props);
		char *eq = k ? strchr(k, '=') : NULL;
		if (!eq)
			continue;
		*eq = '\0';
		json_t *ks = np_json_string(k); /* sanitised key */
		const char *key = json_string_value(ks);
		if (key && *key)
			np_json_str(o, key, eq + 1);
		json_decref(ks);
	}
	return o;
}

static json_t *dev_json(const struct np_block_dev *d)
{
	json_t *o = json_object();
	char mm[32];
	snprintf(mm, sizeof(mm), "%u:%u", d->major, d->minor);
	np_json_str(o, "name", d->name);
	np_json_str(o, "major_minor", d->has_dev ? mm : NULL);
	np_json_str(o, "kind", d->kind);
	np_json_str(o, "parent", d->parent);
	opt_s64(o, "size_bytes", d->size_bytes);
	np_json_str(o, "vendor", d->vendor);
	np_json_str(o, "model", d->model);
	np_json_str(o, "serial", d->serial);
	np_json_str(o, "wwn", d->wwn);
	np_json_str(o, "identity_source", d->identity_source);
	np_json_str(o, "transport", d->transport);
	np_json_str(o, "id_path", d->id_path);
	json_object_set_new(o, "rotational", d->rotational < 0 ? json_null() : json_boolean(d->rotational));
	np_json_bool(o, "read_only", d->read_only);
	np_json_bool(o, "removable", d->removable);
	np_json_str(o, "scheduler", d->scheduler);
	json_object_set_new(o, "schedulers", d->schedulers ? np_json_strv(d->schedulers) : json_null());
	opt_s64(o, "nr_requests", d->nr_requests);
	opt_s64(o, "queue_depth", d->queue_depth);
	np_json_str(o, "write_cache", d->write_cache);
	opt_s64(o, "logical_block_size_bytes", d->logical_block_size);
	opt_s64(o, "physical_block_size_bytes", d->physical_block_size);
	json_object_set_new(o, "holders", d->holders ? np_json_strv(d->holders) : json_null());
	json_object_set_new(o, "slaves", d->slaves ? np_json_strv(d->slaves) : json_null());
	if (d->dm_name || d->dm_uuid) {
		np_json_str(o, "dm_name", d->dm_name);
		np_json_str(o, "dm_uuid", d->dm_uuid);
	}
	json_object_set_new(o, "udev", udev_json(d->udev));
	json_object_set_new(o, "stats", d->has_stats ? stats_json(&d->stats) : json_null());
	if (d->has_rates)
		json_object_set_new(o, "rates", rates_json(&d->rates));
	np_status_to_json(&d->status, o);
	return o;
}

static json_t *stall_json(const struct np_stall_event *e)
{
	json_t *o = json_object();
	char mm[32];
	snprintf(mm, sizeof(mm), "%u:%u", e->major, e->minor);
	np_json_str(o, "device", e->device);
	np_json_str(o, "major_minor", mm);
	np_json_str(o, "reason", e->reason == NP_STALL_AWAIT ? "await" : "no_completion");
	np_json_s64(o, "start_ms", e->start_ms);
	opt_s64(o, "end_ms", e->ongoing ? -1 : e->end_ms);
	np_json_s64(o, "duration_ms", e->duration_ms);
	np_json_u64(o, "in_flight", e->in_flight);
	if (e->reason == NP_STALL_AWAIT)
		real3(o, "await_ms", e->await_ms);
	np_json_bool(o, "ongoing", e->ongoing);
	return o;
}

json_t *np_block_to_json(const struct np_block *s)
{
	json_t *o = json_object();
	json_t *devs = json_array();
	for (size_t i = 0; i < s->n; i++)
		json_array_append_new(devs, dev_json(&s->devices[i]));
	json_object_set_new(o, "devices", devs);
	json_t *st = json_array();
	for (size_t i = 0; i < s->n_stalls; i++)
		json_array_append_new(st, stall_json(&s->stalls[i]));
	json_object_set_new(o, "stalls", st);
	json_object_set_new(o, "interval_s",
			    s->interval_s > 0 ? json_real(round(s->interval_s * 1000.0) / 1000.0) : json_null());
	real3(o, "stall_seconds", s->stall_seconds);
	json_object_set_new(o, "stall_await_ms", s->stall_await_ms > 0 ? json_real(s->stall_await_ms) : json_null());
	np_status_to_json(&s->status, o);
	return o;
}

/* lsblk-style size: 1024-based, one decimal below 10 ("256G", "4.5M"). */
static void human_size(char *buf, size_t n, int64_t bytes)
{
	static const char units[] = "BKMGTPE";
	double v = (double)bytes;
	size_t u = 0;
	if (bytes < 0) {
		snprintf(buf, n, "-");
		return;
	}
	while (v >= 1024 && u < sizeof(units) - 2) {
		v /= 1024;
		u++;
	}
	if (u == 0 || v >= 10 || v == floor(v))
		snprintf(buf, n, "%.0f%c", v, units[u]);
	else
		snprintf(buf, n, "%.1f%c", v, units[u]);
}

static void num(char *buf, size_t n, int64_t v)
{
	if (v < 0)
		snprintf(buf, n, "-");
	else
		snprintf(buf, n, "%lld", (long long)v);
}

static bool has_ongoing(const struct np_block *s, const char *name)
{
	for (size_t i = 0; i < s->n_stalls; i++)
		if (s->stalls[i].ongoing && streq(s->stalls[i].device, name))
			return true;
	return false;
}

static void print_devices(const struct np_block *s, struct np_out *o)
{
	static const char *const hdr[] = { "NAME",  "MAJ:MIN", "KIND",   "SIZE",   "MODEL",  "TRAN",
					   "SCHED", "NR_REQ",  "QDEPTH", "WCACHE", "ROTA" };
	struct np_table *t = np_table_new(ARRAY_SIZE(hdr), hdr);
	if (!t)
		return;
	for (size_t i = 0; i < s->n; i++) {
		const struct np_block_dev *d = &s->devices[i];
		char mm[32], size[16], nr[24], qd[24];
		snprintf(mm, sizeof(mm), "%u:%u", d->major, d->minor);
		human_size(size, sizeof(size), d->size_bytes);
		num(nr, sizeof(nr), d->nr_requests);
		num(qd, sizeof(qd), d->queue_depth);
		const char *wc = !d->write_cache ? NULL : strstr(d->write_cache, "back") ? "wb" :
							  strstr(d->write_cache, "through") ? "wt" : d->write_cache;
		const char *rota = d->rotational < 0 ? NULL : d->rotational ? "1" : "0";
		const char *row[] = { d->name, d->has_dev ? mm : NULL, d->kind, size, d->model, d->transport,
				      d->scheduler, nr, qd, wc, rota };
		np_table_add(t, has_ongoing(s, d->name) ? NP_TONE_BAD : d->status.err ? NP_TONE_WARN : NP_TONE_PLAIN,
			     row);
	}
	np_table_print_free(t, o);
}

static void print_rates(const struct np_block *s, struct np_out *o)
{
	static const char *const hdr[] = { "DEVICE",  "r/s",     "w/s",    "rkB/s", "wkB/s",
					   "r_await", "w_await", "aqu-sz", "%util", "inflight" };
	struct np_table *t = np_table_new(ARRAY_SIZE(hdr), hdr);
	if (!t)
		return;
	for (size_t i = 0; i < s->n; i++) {
		const struct np_block_dev *d = &s->devices[i];
		if (!d->has_rates)
			continue;
		const struct np_block_rates *r = &d->rates;
		char c[9][32];
		double v[8] = { r->r_per_s,    r->w_per_s,    r->rkb_per_s, r->wkb_per_s,
				r->r_await_ms, r->w_await_ms, r->aqu_sz,    r->util_percent };
		for (int k = 0; k < 8; k++)
			snprintf(c[k], sizeof(c[k]), "%.2f", v[k]);
		snprintf(c[8], sizeof(c[8]), "%llu", (unsigned long long)r->in_flight);
		const char *row[] = { d->name, c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8] };
		np_table_add(t, has_ongoing(s, d->name) ? NP_TONE_BAD : NP_TONE_PLAIN, row);
	}
	np_table_print_free(t, o);
}

static void print_stalls(const struct np_block *s, struct np_out *o)
{
	static const char *const hdr[] = { "DEVICE", "REASON", "START_MS", "END_MS", "DURATION_MS", "INFLIGHT" };
	struct np_table *t = np_table_new(ARRAY_SIZE(hdr), hdr);
	if (!t)
		return;
	for (size_t i = 0; i < s->n_stalls; i++) {
		const struct np_stall_event *e = &s->stalls[i];
		char st[24], en[24], du[24], inf[24];
		snprintf(st, sizeof(st), "%lld", (long long)e->start_ms);
		snprintf(en, sizeof(en), "%s", e->ongoing ? "ongoing" : "");
		if (!e->ongoing)
			snprintf(en, sizeof(en), "%lld", (long long)e->end_ms);
		snprintf(du, sizeof(du), "%lld", (long long)e->duration_ms);
		snprintf(inf, sizeof(inf), "%llu", (unsigned long long)e->in_flight);
		const char *row[] = { e->device, e->reason == NP_STALL_AWAIT ? "await" : "no_completion", st, en, du,
				      inf };
		np_table_add(t, e->ongoing ? NP_TONE_BAD : NP_TONE_WARN, row);
	}
	np_table_print_free(t, o);
}

void np_block_print(const struct np_block *s, struct np_out *o)
{
	np_out_heading(o, "Block devices");
	if (s->status.err)
		np_out_error(o, s->status.error);
	print_devices(s, o);
	for (size_t i = 0; i < s->n; i++) {
		const struct np_block_dev *d = &s->devices[i];
		if (!d->status.err)
			continue;
		_cleanup_free_ char *m = np_asprintf("%s: %s", d->name, d->status.error ? d->status.error : "error");
		np_out_error(o, m ? m : "error");
	}
	if (s->interval_s <= 0)
		return;
	_cleanup_free_ char *title = np_asprintf("Block I/O (iostat -x over %.2f s)", s->interval_s);
	np_out_heading(o, title ? title : "Block I/O");
	print_rates(s, o);
	_cleanup_free_ char *st = np_asprintf("I/O stalls (no completion with I/O in flight for %g s%s)",
					      s->stall_seconds, s->stall_await_ms > 0 ? ", or await over threshold" : "");
	np_out_heading(o, st ? st : "I/O stalls");
	if (!s->n_stalls)
		np_out_kv(o, "stalls", "none");
	else
		print_stalls(s, o);
}

static void stall_counts(const struct np_block *b, const char *dev, unsigned *total, unsigned *now)
{
	*total = *now = 0;
	for (size_t k = 0; k < b->n_stalls; k++)
		if (streq(b->stalls[k].device, dev)) {
			(*total)++;
			*now += b->stalls[k].ongoing;
		}
}

/*
 * Loop, RAM-disk and zram devices are left out unless @all (--metrics-all-devices), as
 * node_exporter's diskstats collector does by default: hundreds of loop devices on a node with
 * snaps or image mounts would be series of nothing.
 */
static bool block_device_shown(const char *name, bool all)
{
	static const char *const skip[] = { "loop", "ram", "zram" };
	if (!name)
		return false;
	for (size_t k = 0; !all && k < ARRAY_SIZE(skip); k++) {
		size_t l = strlen(skip[k]);
		if (strncmp(name, skip[k], l) == 0 && name[l] && strspn(name + l, "0123456789") == strlen(name + l))
			return false;
	}
	return true;
}

static void block_metrics(FILE *f, const struct np_report *r, const struct np_metrics_opts *o)
{
	const struct np_block *b = &r->block;
	bool all = o->all_block_devices;
	unsigned total, now;
	np_expo_help(f, "nodeprint_block_stalls_total", "counter", "I/O stalls seen (in-flight I/O with no completion, or await over the threshold).");
	for (size_t i = 0; i < b->n; i++)
		if (block_device_shown(b->devices[i].name, all)) {
			stall_counts(b, b->devices[i].name, &total, &now);
			fprintf(f, "nodeprint_block_stalls_total{device=\"%s\"} %u\n", np_expo_esc(b->devices[i].name), total);
		}
	np_expo_help(f, "nodeprint_block_stalled", "gauge", "1 while a device is stalled.");
	for (size_t i = 0; i < b->n; i++)
		if (block_device_shown(b->devices[i].name, all)) {
			stall_counts(b, b->devices[i].name, &total, &now);
			fprintf(f, "nodeprint_block_stalled{device=\"%s\"} %u\n", np_expo_esc(b->devices[i].name), now ? 1 : 0);
		}
}

int np_block_bundle(const struct np_block *s, struct np_bundle *b)
{
	(void)s;
	(void)b;
	return 0;
}

NP_SECTION_SOURCE(block, 50, "block I/O counters", "BlockStatsUnreadable", NULL);
NP_SECTION_METRICS(block, block_metrics);
