// SPDX-License-Identifier: Apache-2.0
/* gpu.c - the gpu section: free, JSON, text, fingerprint items. */
#include "gpu.h"
#include "expo.h"
#include "json.h"
#include "report.h"
#include "section.h"
#include "../shared/macro.h"

#include <stdio.h>
#include <stdlib.h>

void np_gpu_free(struct np_gpu *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->devs[i].address);
		free(s->devs[i].driver);
		free(s->devs[i].driver_version);
		free(s->devs[i].model);
		free(s->devs[i].vbios);
		free(s->devs[i].nvml.vbios);
		free(s->devs[i].uuid);
		free(s->devs[i].bus_type);
		free(s->devs[i].bus_location);
		for (size_t j = 0; j < s->devs[i].n_ras; j++)
			free(s->devs[i].ras[j].block);
		free(s->devs[i].ras);
	}
	free(s->devs);
	free(s->nvidia_version);
	free(s->nvml);
	free(s->nvml_driver);
	np_status_clear(&s->status);
	*s = (struct np_gpu){ 0 };
}

int64_t np_gpu_uncorrectable(const struct np_gpu_dev *d)
{
	int64_t n = -1;
	for (size_t i = 0; i < d->n_ras; i++)
		if (d->ras[i].ue >= 0)
			n = (n < 0 ? 0 : n) + d->ras[i].ue;
	if (d->nvml.read && d->nvml.ecc_volatile_uncorrected >= 0)
		n = (n < 0 ? 0 : n) + d->nvml.ecc_volatile_uncorrected;
	return n;
}

static json_t *num(int64_t v)
{
	return v >= 0 ? json_integer(v) : json_null();
}

static json_t *nvml_to_json(const struct np_gpu_nvml *n)
{
	if (!n->read)
		return json_null();
	json_t *o = json_object();
	np_json_str(o, "vbios", n->vbios);
	json_object_set_new(o, "ecc_volatile_uncorrected", num(n->ecc_volatile_uncorrected));
	json_object_set_new(o, "ecc_aggregate_uncorrected", num(n->ecc_aggregate_uncorrected));
	json_object_set_new(o, "retired_pages_dbe", num(n->retired_pages_dbe));
	json_object_set_new(o, "retired_pages_pending", num(n->retired_pending));
	json_object_set_new(o, "row_remap_pending", num(n->remap_pending));
	json_object_set_new(o, "row_remap_failed", num(n->remap_failed));
	json_object_set_new(o, "pcie_link_width", num(n->pcie_width));
	json_object_set_new(o, "pcie_link_gen", num(n->pcie_gen));
	json_object_set_new(o, "clock_throttle_reasons", num(n->throttle_reasons));
	return o;
}

/* ras/<block>_err_count of an amdgpu, or null when the GPU has no ras/ folder. */
static json_t *ras_to_json(const struct np_gpu_dev *d)
{
	if (!d->ras_read)
		return json_null();
	json_t *a = json_array();
	for (size_t i = 0; i < d->n_ras; i++) {
		json_t *x = json_object();
		np_json_str(x, "block", d->ras[i].block);
		json_object_set_new(x, "uncorrectable", num(d->ras[i].ue));
		json_object_set_new(x, "correctable", num(d->ras[i].ce));
		json_object_set_new(x, "deferred", num(d->ras[i].de));
		json_array_append_new(a, x);
	}
	return a;
}

json_t *np_gpu_to_json(const struct np_gpu *s)
{
	json_t *o = json_object(), *a = json_array();
	np_json_str(o, "nvidia_version", s->nvidia_version);
	np_json_str(o, "nvml", s->nvml);
	np_json_str(o, "nvml_driver", s->nvml_driver);
	for (size_t i = 0; i < s->n; i++) {
		const struct np_gpu_dev *d = &s->devs[i];
		char cls[8], ven[8], dev[8];
		snprintf(cls, sizeof(cls), "%06x", d->class_code);
		snprintf(ven, sizeof(ven), "%04x", d->vendor_id);
		snprintf(dev, sizeof(dev), "%04x", d->device_id);
		json_t *x = json_object();
		np_json_str(x, "address", d->address);
		np_json_str(x, "class", cls);
		np_json_str(x, "vendor_id", ven);
		np_json_str(x, "device_id", dev);
		np_json_str(x, "driver", d->driver);
		np_json_str(x, "driver_version", d->driver_version);
		np_json_str(x, "model", d->model);
		np_json_str(x, "vbios", d->vbios);
		np_json_str(x, "uuid", d->uuid);
		np_json_str(x, "bus_type", d->bus_type);
		np_json_str(x, "bus_location", d->bus_location);
		json_object_set_new(x, "irq", num(d->irq));
		json_object_set_new(x, "device_minor", num(d->device_minor));
		json_object_set_new(x, "excluded", d->excluded < 0 ? json_null() : json_boolean(d->excluded));
		json_object_set_new(x, "vram_total_bytes", num(d->vram_total_bytes));
		json_object_set_new(x, "vram_used_bytes", num(d->vram_used_bytes));
		json_object_set_new(x, "busy_percent", num(d->busy_percent));
		json_object_set_new(x, "ras", ras_to_json(d));
		json_object_set_new(x, "config_space_dead", d->config_dead < 0 ? json_null() : json_boolean(d->config_dead));
		json_object_set_new(x, "nvml", nvml_to_json(&d->nvml));
		json_array_append_new(a, x);
	}
	json_object_set_new(o, "devices", a);
	np_status_to_json(&s->status, o);
	return o;
}

void np_gpu_print(const struct np_gpu *s, struct np_out *o)
{
	static const char *const hdr[] = { "ADDRESS", "CLASS", "ID", "DRIVER", "VERSION", "MODEL", "VBIOS", "UNCORRECTABLE" };
	np_out_heading(o, "GPUs and accelerators");
	if (s->status.err)
		np_out_error(o, s->status.error);
	if (s->nvidia_version)
		np_out_kv(o, "nvidia driver", s->nvidia_version);
	struct np_table *t = np_table_new(ARRAY_SIZE(hdr), hdr);
	for (size_t i = 0; t && i < s->n; i++) {
		const struct np_gpu_dev *d = &s->devs[i];
		char cls[8], id[12];
		snprintf(cls, sizeof(cls), "%06x", d->class_code);
		snprintf(id, sizeof(id), "%04x:%04x", d->vendor_id, d->device_id);
		char ue[24] = "";
		int64_t n = np_gpu_uncorrectable(d);
		if (n >= 0)
			snprintf(ue, sizeof(ue), "%lld", (long long)n);
		const char *cells[] = { d->address, cls, id, d->driver, d->driver_version, d->model, d->vbios, ue };
		np_table_add(t, n > 0 ? NP_TONE_BAD : NP_TONE_PLAIN, cells);
	}
	if (t)
		np_table_print_free(t, o);
}

int np_gpu_bundle(const struct np_gpu *s, struct np_bundle *b)
{
	int r = s->nvidia_version ? np_bundle_add(b, "gpu", "nvidia", s->nvidia_version) : 0;
	for (size_t i = 0; r >= 0 && i < s->n; i++) {
		const struct np_gpu_dev *d = &s->devs[i];
		char key[160];
		if (d->driver) {
			snprintf(key, sizeof(key), "%s %04x:%04x", d->driver, d->vendor_id, d->device_id);
			r = np_bundle_add(b, "gpu", key, d->driver_version ? d->driver_version : "unknown");
		}
		if (r >= 0 && d->vbios) {
			snprintf(key, sizeof(key), "vbios %s", d->model ? d->model : d->address);
			r = np_bundle_add(b, "gpu", key, d->vbios);
		}
	}
	return r;
}

/*
 * A GPU's own error counters: amdgpu's RAS blocks (ras/<block>_err_count) and NVML's uncorrected
 * ECC counts. Gauges: the driver may reset them (a driver reload, amdgpu's reset of a block).
 */
static void gpu_metrics(FILE *f, const struct np_report *r, const struct np_metrics_opts *o)
{
	static const char *const types[] = { "uncorrectable", "correctable", "deferred" };
	const struct np_gpu *g = &r->gpu;
	(void)o;
	np_expo_help(f, "nodeprint_gpu_ras_errors", "gauge",
		     "Errors an amdgpu GPU's RAS block counted since the driver loaded, by block and type.");
	for (size_t i = 0; i < g->n; i++)
		for (size_t j = 0; j < g->devs[i].n_ras; j++) {
			const struct np_gpu_ras *x = &g->devs[i].ras[j];
			const int64_t v[] = { x->ue, x->ce, x->de };
			for (size_t t = 0; t < ARRAY_SIZE(types); t++)
				if (v[t] >= 0)
					fprintf(f, "nodeprint_gpu_ras_errors{device=\"%s\",block=\"%s\",type=\"%s\"} %lld\n",
						np_expo_esc(g->devs[i].address), np_expo_esc(x->block), types[t], (long long)v[t]);
		}
	np_expo_help(f, "nodeprint_gpu_ecc_uncorrected_errors", "gauge",
		     "Uncorrected ECC errors NVML counts for an NVIDIA GPU: volatile (since the driver loaded) and aggregate (lifetime).");
	for (size_t i = 0; i < g->n; i++) {
		const struct np_gpu_nvml *n = &g->devs[i].nvml;
		if (n->read && n->ecc_volatile_uncorrected >= 0)
			fprintf(f, "nodeprint_gpu_ecc_uncorrected_errors{device=\"%s\",scope=\"volatile\"} %lld\n",
				np_expo_esc(g->devs[i].address), (long long)n->ecc_volatile_uncorrected);
		if (n->read && n->ecc_aggregate_uncorrected >= 0)
			fprintf(f, "nodeprint_gpu_ecc_uncorrected_errors{device=\"%s\",scope=\"aggregate\"} %lld\n",
				np_expo_esc(g->devs[i].address), (long long)n->ecc_aggregate_uncorrected);
	}
}

NP_SECTION_SOURCE(gpu, 130, "GPUs on the PCI bus", "GPUUnreadable", NULL, .bundle = true);
NP_SECTION_METRICS(gpu, gpu_metrics);
