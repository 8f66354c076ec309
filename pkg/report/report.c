// SPDX-License-Identifier: Apache-2.0
#include "report.h"
#include "json.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"
#include "../shared/version.h"

#include <stdlib.h>

void np_report_free(struct np_report *r)
{
	free(r->host_root);
	r->host_root = NULL;
	np_strv_free(r->only);
	r->only = NULL;
	np_kernel_free(&r->kernel);
	np_modules_free(&r->modules);
	np_pci_free(&r->pci);
	np_net_free(&r->net);
	np_block_free(&r->block);
	np_mounts_free(&r->mounts);
	np_nvme_free(&r->nvme);
	np_multipath_free(&r->multipath);
	np_kmsg_free(&r->kmsg);
	np_volumes_free(&r->volumes);
	np_bundle_free(&r->bundle);
}

int np_report_fingerprint(struct np_report *r)
{
	struct np_bundle *b = &r->bundle;
	np_bundle_free(b);
	int rc = np_kernel_bundle(&r->kernel, b);
	if (rc >= 0)
		rc = np_modules_bundle(&r->modules, b);
	if (rc >= 0)
		rc = np_pci_bundle(&r->pci, b);
	if (rc >= 0)
		rc = np_net_bundle(&r->net, b);
	if (rc >= 0)
		rc = np_block_bundle(&r->block, b);
	if (rc >= 0)
		rc = np_nvme_bundle(&r->nvme, b);
	if (rc >= 0)
		rc = np_multipath_bundle(&r->multipath, b);
	if (rc < 0)
		return rc;
	return np_bundle_finish(b);
}

/* One wrapper per section, so the JSON and text tables above stay data. */
#define WRAP(n)                                                                          \
	static json_t *n##_json(const struct np_report *r) { return np_##n##_to_json(&r->n); } \
	static void n##_print(const struct np_report *r, struct np_out *o) { np_##n##_print(&r->n, o); }
WRAP(kernel) WRAP(modules) WRAP(pci) WRAP(net) WRAP(block) WRAP(mounts) WRAP(nvme) WRAP(multipath)
WRAP(kmsg) WRAP(volumes)
#undef WRAP

bool np_report_read(const struct np_report *r, const char *name)
{
	return !r->only || np_strv_contains(r->only, name);
}

json_t *np_report_to_json(const struct np_report *r)
{
	static const struct {
		const char *name;
		json_t *(*to_json)(const struct np_report *r);
	} *sec, sections[] = {
#define SECTION(n) { #n, n##_json }
		SECTION(kernel), SECTION(modules), SECTION(pci), SECTION(net), SECTION(block),
		SECTION(mounts), SECTION(nvme), SECTION(multipath), SECTION(kmsg), SECTION(volumes),
#undef SECTION
	};
	json_t *o = json_object();
	json_object_set_new(o, "schemaVersion", json_integer(NP_SCHEMA_VERSION));
	np_json_str(o, "generator", "nodeprint/" NODEPRINT_VERSION);
	np_json_str(o, "host_root", r->host_root);
	np_json_s64(o, "collected_at_ms", r->collected_at_ms);
	np_json_s64(o, "duration_us", r->duration_us);
	json_t *fp = np_bundle_to_json(&r->bundle);
	if (r->only) { /* what was read, and a hash of only that */
		json_t *read = json_array();
		for (char **p = r->only; *p; p++)
			json_array_append_new(read, json_string(*p));
		json_object_set_new(o, "partial", json_true());
		json_object_set_new(o, "sections", read);
		json_object_set_new(fp, "partial", json_true());
	}
	json_object_set_new(o, "fingerprint", fp);
	struct np_source src[NP_SRC__N];
	np_report_sources(r, src);
	json_t *sj = np_sources_to_json(src);
	for (size_t i = json_array_size(sj); r->only && i-- > 0;) /* a partial report lists what it read */
		if (!np_report_read(r, json_string_value(json_object_get(json_array_get(sj, i), "source"))))
			json_array_remove(sj, i);
	json_object_set_new(o, "sources", sj);
	for (sec = sections; sec < sections + ARRAY_SIZE(sections); sec++)
		if (np_report_read(r, sec->name))
			json_object_set_new(o, sec->name, sec->to_json(r));
	return o;
}

void np_report_print_title(const struct np_report *r, struct np_out *o)
{
	fprintf(o->f, "nodeprint %s  bundle %s  (%zu components)", NODEPRINT_VERSION,
		r->bundle.hash[0] ? r->bundle.hash : "-", r->bundle.n);
	if (r->only) {
		fputs("  PARTIAL, only:", o->f);
		for (char **p = r->only; *p; p++)
			fprintf(o->f, "%s%s", p == r->only ? " " : ",", *p);
	}
	fputc('\n', o->f);
	struct np_source src[NP_SRC__N];
	np_report_sources(r, src);
	np_sources_print(src, o); /* the BLIND block: nothing when every source is up */
}

void np_report_print(const struct np_report *r, struct np_out *o)
{
	static const struct {
		const char *name;
		void (*print)(const struct np_report *r, struct np_out *o);
	} *sec, sections[] = { /* the on-call playbook's order */
#define SECTION(n) { #n, n##_print }
		SECTION(kernel), SECTION(modules), SECTION(net), SECTION(block), SECTION(nvme),
		SECTION(multipath), SECTION(volumes), SECTION(pci), SECTION(mounts), SECTION(kmsg),
#undef SECTION
	};
	for (sec = sections; sec < sections + ARRAY_SIZE(sections); sec++)
		if (np_report_read(r, sec->name))
			sec->print(r, o);
	np_out_heading(o, r->only ? "Bundle (partial: only the sections read)" : "Bundle");
	for (size_t i = 0; i < r->bundle.n; i++)
		fprintf(o->f, "  %-8s %-32s %s\n", r->bundle.items[i].component, r->bundle.items[i].key,
			r->bundle.items[i].value);
	fprintf(o->f, "  hash: %s%s\n", r->bundle.hash, r->only ? " (partial: not the node's bundle hash)" : "");
}
