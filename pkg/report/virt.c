// SPDX-License-Identifier: Apache-2.0
/* virt.c - the virt section: free, JSON, text. */
#include "virt.h"
#include "json.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <stdio.h>
#include <stdlib.h>

void np_virt_free(struct np_virt *s)
{
	free(s->cpus);
	for (size_t i = 0; i < s->n_virtio; i++) {
		free(s->virtio[i].name);
		free(s->virtio[i].type);
		free(s->virtio[i].driver);
		np_strv_free(s->virtio[i].features);
	}
	free(s->virtio);
	np_status_clear(&s->status);
	*s = (struct np_virt){ 0 };
}

json_t *np_virt_to_json(const struct np_virt *s)
{
	json_t *o = json_object(), *c = json_array(), *v = json_array();
	for (size_t i = 0; i < s->n_cpus; i++) {
		json_t *x = json_object();
		np_json_u64(x, "cpu", s->cpus[i].cpu);
		np_json_u64(x, "steal_ticks", s->cpus[i].steal_ticks);
		np_json_u64(x, "total_ticks", s->cpus[i].total_ticks);
		if (s->has_rates)
			json_object_set_new(x, "steal_percent",
					    s->cpus[i].steal_percent >= 0 ? json_real(s->cpus[i].steal_percent) : json_null());
		json_array_append_new(c, x);
	}
	json_object_set_new(o, "cpus", c);
	if (s->has_rates)
		np_json_real(o, "interval_s", s->interval_s);
	for (size_t i = 0; i < s->n_virtio; i++) {
		const struct np_virtio_dev *d = &s->virtio[i];
		json_t *x = json_object();
		np_json_str(x, "name", d->name);
		np_json_u64(x, "device_id", d->device_id);
		np_json_u64(x, "vendor_id", d->vendor_id);
		np_json_str(x, "type", d->type);
		np_json_str(x, "driver", d->driver);
		json_object_set_new(x, "features", np_json_strv(d->features));
		json_array_append_new(v, x);
	}
	json_object_set_new(o, "virtio", v);
	np_status_to_json(&s->status, o);
	return o;
}

void np_virt_print(const struct np_virt *s, struct np_out *o)
{
	static const char *const ch[] = { "CPU", "STEAL_TICKS", "STEAL_%" };
	static const char *const vh[] = { "VIRTIO", "TYPE", "DEVICE_ID", "DRIVER", "FEATURES" };
	np_out_heading(o, "Virtualization");
	if (s->status.err)
		np_out_error(o, s->status.error);
	struct np_table *t = np_table_new(ARRAY_SIZE(ch), ch);
	for (size_t i = 0; t && i < s->n_cpus; i++) {
		char a[16], b[32], c[32];
		snprintf(a, sizeof(a), "%u", s->cpus[i].cpu);
		snprintf(b, sizeof(b), "%llu", (unsigned long long)s->cpus[i].steal_ticks);
		snprintf(c, sizeof(c), "%.1f", s->cpus[i].steal_percent);
		const char *cells[] = { a, b, s->has_rates && s->cpus[i].steal_percent >= 0 ? c : NULL };
		np_table_add(t, s->cpus[i].steal_percent > 10 ? NP_TONE_WARN : NP_TONE_PLAIN, cells);
	}
	if (t)
		np_table_print_free(t, o);
	t = np_table_new(ARRAY_SIZE(vh), vh);
	for (size_t i = 0; t && i < s->n_virtio; i++) {
		const struct np_virtio_dev *d = &s->virtio[i];
		char id[16], f[16];
		snprintf(id, sizeof(id), "%u", d->device_id);
		snprintf(f, sizeof(f), "%zu bits", d->n_features);
		const char *cells[] = { d->name, d->type, id, d->driver, f };
		np_table_add(t, NP_TONE_PLAIN, cells);
	}
	if (t)
		np_table_print_free(t, o);
}

int np_virt_bundle(const struct np_virt *s, struct np_bundle *b)
{
	(void)s;
	(void)b;
	return 0;
}
