// SPDX-License-Identifier: Apache-2.0
#include "volumes.h"
#include "json.h"
#include "report.h"
#include "section.h"
#include "../shared/strutil.h"

#include <stdio.h>
#include <stdlib.h>

static const char *np_volume_mode_name(enum np_volume_mode m)
{
	switch (m) {
	case NP_VOLUME_FILESYSTEM:
		return "filesystem";
	case NP_VOLUME_BLOCK:
		return "block";
	case NP_VOLUME_STAGING:
		return "staging";
	}
	return "unknown";
}

static void np_volume_free(struct np_volume *v)
{
	free(v->pv_name);
	free(v->pod_uid);
	free(v->driver);
	free(v->volume_handle);
	free(v->path);
	free(v->device);
	np_strv_free(v->backing);
	np_status_clear(&v->status);
	*v = (struct np_volume){ 0 };
}

void np_volumes_free(struct np_volumes *s)
{
	for (size_t i = 0; i < s->n; i++)
		np_volume_free(&s->volumes[i]);
	free(s->volumes);
	for (size_t i = 0; i < s->n_devices; i++) {
		free(s->devices[i].name);
		free(s->devices[i].volumes);
	}
	free(s->devices);
	free(s->kubelet_dir);
	np_status_clear(&s->status);
	*s = (struct np_volumes){ 0 };
}

static json_t *volume_to_json(const struct np_volume *v)
{
	char dev[24];
	json_t *o = json_object();
	np_json_str(o, "pv_name", v->pv_name);
	np_json_str(o, "pod_uid", v->pod_uid);
	np_json_str(o, "driver", v->driver);
	np_json_str(o, "volume_handle", v->volume_handle);
	np_json_str(o, "mode", np_volume_mode_name(v->mode));
	np_json_str(o, "path", v->path);
	np_json_bool(o, "mounted", v->mounted);
	np_json_str(o, "device", v->device);
	if (v->mounted) {
		snprintf(dev, sizeof(dev), "%u:%u", v->major, v->minor);
		np_json_str(o, "major_minor", dev);
	} else {
		json_object_set_new(o, "major_minor", json_null());
	}
	json_object_set_new(o, "backing_devices", np_json_strv(v->backing));
	np_status_to_json(&v->status, o);
	return o;
}

json_t *np_volumes_to_json(const struct np_volumes *s)
{
	json_t *o = json_object();
	np_json_str(o, "kubelet_dir", s->kubelet_dir);
	np_json_bool(o, "kubelet_present", s->kubelet_present);
	json_t *a = json_array();
	for (size_t i = 0; i < s->n; i++)
		json_array_append_new(a, volume_to_json(&s->volumes[i]));
	json_object_set_new(o, "volumes", a);
	json_t *d = json_array();
	for (size_t i = 0; i < s->n_devices; i++) {
		json_t *e = json_object();
		np_json_str(e, "name", s->devices[i].name);
		json_t *vs = json_array();
		for (size_t k = 0; k < s->devices[i].n_volumes; k++) {
			const struct np_volume *v = &s->volumes[s->devices[i].volumes[k]];
			json_t *x = json_object();
			np_json_str(x, "pv_name", v->pv_name);
			np_json_str(x, "pod_uid", v->pod_uid);
			np_json_str(x, "mode", np_volume_mode_name(v->mode));
			np_json_str(x, "path", v->path);
			json_array_append_new(vs, x);
		}
		json_object_set_new(e, "volumes", vs);
		json_array_append_new(d, e);
	}
	json_object_set_new(o, "devices", d);
	np_status_to_json(&s->status, o);
	return o;
}

void np_volumes_print(const struct np_volumes *s, struct np_out *o)
{
	static const char *const hdr[] = { "DEVICE", "BACKING", "MODE", "PV", "POD", "DRIVER" };
	np_out_heading(o, "CSI volumes");
	if (s->status.err)
		np_out_error(o, s->status.error);
	if (!s->kubelet_present) {
		np_out_kvf(o, "kubelet", "%s: not present", s->kubelet_dir ? s->kubelet_dir : "-");
		return;
	}
	struct np_table *t = np_table_new(6, hdr);
	if (!t)
		return;
	for (size_t i = 0; i < s->n; i++) {
		const struct np_volume *v = &s->volumes[i];
		char *backing = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&backing, &len);
		for (char **b = v->backing; f && b && *b; b++)
			fprintf(f, "%s%s", b == v->backing ? "" : ",", *b);
		if (f)
			fclose(f);
		const char *cells[] = { v->device, backing && *backing ? backing : NULL, np_volume_mode_name(v->mode),
					v->pv_name, v->pod_uid, v->driver };
		np_table_add(t, v->status.err ? NP_TONE_WARN : NP_TONE_PLAIN, cells);
		free(backing);
	}
	np_table_print_free(t, o);
}

int np_volumes_bundle(const struct np_volumes *s, struct np_bundle *b)
{
	(void)s;
	(void)b;
	return 0;
}

NP_SECTION_SOURCE(volumes, 70, "CSI volumes", "VolumesUnreadable", NULL);
