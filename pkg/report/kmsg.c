// SPDX-License-Identifier: Apache-2.0
#include "kmsg.h"
#include "expo.h"
#include "json.h"
#include "report.h"
#include "section.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[NP_KMSG_KIND_MAX] = {
	[NP_KMSG_NONE] = "none",
	[NP_KMSG_NVME_TIMEOUT] = "nvme_timeout",
	[NP_KMSG_NVME_ABORT] = "nvme_abort",
	[NP_KMSG_NVME_RESET] = "nvme_reset",
	[NP_KMSG_IO_ERROR] = "io_error",
	[NP_KMSG_SCSI_TIMEOUT] = "scsi_timeout",
	[NP_KMSG_SCSI_OFFLINE] = "scsi_offline",
	[NP_KMSG_PATH_FAILED] = "path_failed",
	[NP_KMSG_PATH_REINSTATED] = "path_reinstated",
	[NP_KMSG_AER_CORRECTABLE] = "aer_correctable",
	[NP_KMSG_AER_UNCORRECTABLE] = "aer_uncorrectable",
	[NP_KMSG_LINK_DOWN] = "link_down",
	[NP_KMSG_LINK_UP] = "link_up",
	[NP_KMSG_FIRMWARE_LOAD_FAILED] = "firmware_load_failed",
	[NP_KMSG_SCSI_TRANSPORT] = "scsi_transport_disrupted",
	[NP_KMSG_FC_LINK_DOWN] = "fc_link_down",
	[NP_KMSG_ISCSI_CONN_ERROR] = "iscsi_conn_error",
	[NP_KMSG_ISCSI_SESSION_TIMEOUT] = "iscsi_session_timeout",
	[NP_KMSG_HUNG_TASK] = "hung_task",
	[NP_KMSG_GPU_XID] = "gpu_xid",
	[NP_KMSG_GPU_SXID] = "gpu_sxid",
	[NP_KMSG_GPU_RESET] = "gpu_reset",
};
_Static_assert(sizeof(kind_names) / sizeof(kind_names[0]) == NP_KMSG_KIND_MAX, "a kind without a name");

const char *np_kmsg_kind_name(enum np_kmsg_kind k)
{
	if ((unsigned)k >= NP_KMSG_KIND_MAX)
		return "unknown";
	return kind_names[k];
}

static const char *const class_names[NP_GPU_CLASS_MAX] = {
	[NP_GPU_CLASS_NONE] = "none",
	[NP_GPU_CLASS_APPLICATION] = "application",
	[NP_GPU_CLASS_RESET] = "gpu-reset",
	[NP_GPU_CLASS_REBOOT] = "node-reboot",
	[NP_GPU_CLASS_HARDWARE] = "hardware",
	[NP_GPU_CLASS_UNCLASSIFIED] = "unclassified",
};

const char *np_gpu_class_name(enum np_gpu_class c)
{
	return (unsigned)c < NP_GPU_CLASS_MAX ? class_names[c] : "unknown";
}

void np_kmsg_event_free(struct np_kmsg_event *e)
{
	free(e->gpu_process);
	free(e->device);
	free(e->map);
	free(e->detail);
	free(e->op);
	free(e->message);
	free(e->subsystem);
	free(e->kdevice);
	*e = (struct np_kmsg_event){ 0 };
}

void np_kmsg_free(struct np_kmsg *s)
{
	for (size_t i = 0; i < s->n; i++)
		np_kmsg_event_free(&s->events[i]);
	free(s->events);
	for (size_t i = 0; i < s->n_flaps; i++)
		free(s->flaps[i].map);
	free(s->flaps);
	free(s->source_path);
	np_status_clear(&s->status);
	*s = (struct np_kmsg){ 0 };
}

static json_t *np_kmsg_event_to_json(const struct np_kmsg_event *e)
{
	json_t *o = json_object();
	np_json_str(o, "kind", np_kmsg_kind_name(e->kind));
	np_json_str(o, "device", e->device);
	if (e->kind == NP_KMSG_PATH_FAILED || e->kind == NP_KMSG_PATH_REINSTATED)
		np_json_str(o, "map", e->map);
	np_json_str(o, "detail", e->detail);
	if (e->kind == NP_KMSG_IO_ERROR) {
		if (e->has_sector)
			np_json_u64(o, "sector", e->sector);
		else
			json_object_set_new(o, "sector", json_null());
		np_json_str(o, "op", e->op);
	}
	np_json_u64(o, "seq", e->seq);
	np_json_u64(o, "count", e->count ? e->count : 1);
	np_json_u64(o, "last_seq", e->count ? e->last_seq : e->seq);
	np_json_u64(o, "last_monotonic_us", e->count ? e->last_monotonic_us : e->monotonic_us);
	np_json_u64(o, "priority", e->priority);
	np_json_u64(o, "facility", e->facility);
	np_json_u64(o, "monotonic_us", e->monotonic_us);
	if (e->wall_estimate_ms)
		np_json_s64(o, "wall_estimate_ms", e->wall_estimate_ms);
	else
		json_object_set_new(o, "wall_estimate_ms", json_null());
	np_json_str(o, "message", e->message);
	np_json_str(o, "subsystem", e->subsystem);
	np_json_str(o, "kdevice", e->kdevice);
	if (e->kind == NP_KMSG_GPU_XID || e->kind == NP_KMSG_GPU_SXID || e->kind == NP_KMSG_GPU_RESET) {
		json_t *g = json_object();
		json_object_set_new(g, "code", json_integer(e->gpu_code));
		np_json_str(g, "class", np_gpu_class_name(e->gpu_class));
		json_object_set_new(g, "pid", e->gpu_pid >= 0 ? json_integer(e->gpu_pid) : json_null());
		json_object_set_new(g, "process", e->gpu_process ? json_string(e->gpu_process) : json_null());
		json_object_set_new(g, "driver_branch", e->driver_branch ? json_integer(e->driver_branch) : json_null());
		json_object_set_new(g, "class_source", e->gpu_origin ? json_string(e->gpu_origin) : json_null());
		json_object_set_new(o, "gpu", g);
	}
	return o;
}

json_t *np_kmsg_to_json(const struct np_kmsg *s)
{
	json_t *o = json_object();
	np_json_str(o, "source_path", s->source_path);
	np_json_u64(o, "records_read", s->records_read);
	np_json_u64(o, "lost", s->lost);
	np_json_u64(o, "bad_records", s->bad_records);
	if (s->have_seq) {
		np_json_u64(o, "first_seq", s->first_seq);
		np_json_u64(o, "last_seq", s->last_seq);
	} else {
		json_object_set_new(o, "first_seq", json_null());
		json_object_set_new(o, "last_seq", json_null());
	}
	np_json_u64(o, "matched", s->matched);
	np_json_u64(o, "max_events", s->max_events);
	json_object_set_new(o, "nvidia_driver_branch", s->nvidia_branch ? json_integer(s->nvidia_branch) : json_null());
	np_json_str(o, "clock", "monotonic");
	np_json_bool(o, "wall_clock_estimated", s->wall_clock_estimated);
	json_t *a = json_array();
	for (size_t i = 0; i < s->n; i++)
		json_array_append_new(a, np_kmsg_event_to_json(&s->events[i]));
	json_object_set_new(o, "events", a);
	json_t *f = json_array();
	for (size_t i = 0; i < s->n_flaps; i++) {
		json_t *x = json_object();
		np_json_str(x, "map", s->flaps[i].map);
		np_json_u64(x, "flaps_in_window", s->flaps[i].in_window);
		np_json_u64(x, "flaps_total", s->flaps[i].total);
		np_json_s64(x, "window_ms", s->flaps_window_ms);
		json_array_append_new(f, x);
	}
	json_object_set_new(o, "path_flaps", f);
	np_status_to_json(&s->status, o);
	return o;
}

/* Most recent events shown in text; JSON has all that were kept. */
#define PRINT_MAX 30

static enum np_tone kind_tone(enum np_kmsg_kind k)
{
	switch (k) {
	case NP_KMSG_LINK_UP:
	case NP_KMSG_PATH_REINSTATED:
		return NP_TONE_GOOD;
	case NP_KMSG_AER_CORRECTABLE:
	case NP_KMSG_LINK_DOWN:
	case NP_KMSG_NVME_ABORT:
	case NP_KMSG_GPU_RESET:
		return NP_TONE_WARN;
	default:
		return NP_TONE_BAD;
	}
}

void np_kmsg_print(const struct np_kmsg *s, struct np_out *o)
{
	static const char *const hdr[] = { "SEQ", "UPTIME_S", "KIND", "DEVICE", "MESSAGE" };
	np_out_heading(o, "Kernel log events");
	if (s->status.err)
		np_out_error(o, s->status.error);
	np_out_kvf(o, "records", "%llu read, %llu lost, %llu matched (%zu kept)",
		   (unsigned long long)s->records_read, (unsigned long long)s->lost,
		   (unsigned long long)s->matched, s->n);
	struct np_table *t = np_table_new(5, hdr);
	if (!t)
		return;
	for (size_t i = s->n > PRINT_MAX ? s->n - PRINT_MAX : 0; i < s->n; i++) {
		const struct np_kmsg_event *e = &s->events[i];
		char seq[24], up[32], msg[101];
		snprintf(seq, sizeof(seq), "%llu", (unsigned long long)e->seq);
		snprintf(up, sizeof(up), "%llu.%06llu", (unsigned long long)(e->monotonic_us / 1000000),
			 (unsigned long long)(e->monotonic_us % 1000000));
		snprintf(msg, sizeof(msg), "%s", e->message ? e->message : "");
		for (char *p = msg; *p; p++)
			if ((unsigned char)*p < ' ')
				*p = ' ';
		const char *cells[] = { seq, up, np_kmsg_kind_name(e->kind), e->device, msg };
		np_table_add(t, kind_tone(e->kind), cells);
	}
	np_table_print_free(t, o);
	for (size_t i = 0; i < s->n_flaps; i++)
		np_out_kvf(o, "path flaps", "map %s: %u in the last %lld s, %llu in the log", s->flaps[i].map,
			   s->flaps[i].in_window, (long long)(s->flaps_window_ms / 1000),
			   (unsigned long long)s->flaps[i].total);
	if (s->n > PRINT_MAX)
		np_out_kvf(o, "older", "%zu more in -o json", s->n - PRINT_MAX);
}

int np_kmsg_bundle(const struct np_kmsg *s, struct np_bundle *b)
{
	(void)s;
	(void)b;
	return 0;
}

/* One series per GPU log series of the kernel log (device, code, class): its line count this cycle. */
static void kmsg_metrics(FILE *f, const struct np_report *r, const struct np_metrics_opts *o)
{
	const struct np_kmsg *km = &r->kmsg;
	(void)o;
	np_expo_help(f, "nodeprint_gpu_xid_total", "counter",
	     "NVIDIA Xid/SXid and amdgpu reset lines in the kernel log read, per device, code and class.");
	for (size_t i = 0; i < km->n; i++) {
		const struct np_kmsg_event *e = &km->events[i];
		if (e->gpu_class == NP_GPU_CLASS_NONE || !e->device)
			continue;
		fprintf(f, "nodeprint_gpu_xid_total{device=\"%s\",code=\"%d\",class=\"%s\"} %llu\n", np_expo_esc(e->device),
			e->gpu_code, np_gpu_class_name(e->gpu_class), (unsigned long long)e->count);
	}
}

/* A few records that did not parse among many that did is not blindness; none parsed is. */
static void kmsg_judge(const struct np_report *r, struct np_source *s)
{
	const struct np_kmsg *k = &r->kmsg;
	if (k->status.err && !(k->status.err == EINVAL && k->records_read > k->bad_records))
		np_source_down(s, &k->status);
}

NP_SECTION_SOURCE(kmsg, 10, "the kernel log", "KernelLogUnreadable", kmsg_judge);
NP_SECTION_METRICS(kmsg, kmsg_metrics);
