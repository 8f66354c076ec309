// SPDX-License-Identifier: Apache-2.0
#include "report.h"
#include "json.h"
#include "../shared/version.h"

#include <stdlib.h>

void np_report_free(struct np_report *r)
{
	free(r->host_root);
	r->host_root = NULL;
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

json_t *np_report_to_json(const struct np_report *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "schemaVersion", json_integer(NP_SCHEMA_VERSION));
	np_json_str(o, "generator", "nodeprint/" NODEPRINT_VERSION);
	np_json_str(o, "host_root", r->host_root);
	np_json_s64(o, "collected_at_ms", r->collected_at_ms);
	np_json_s64(o, "duration_us", r->duration_us);
	json_object_set_new(o, "fingerprint", np_bundle_to_json(&r->bundle));
	struct np_source src[NP_SRC__N];
	np_report_sources(r, src);
	json_object_set_new(o, "sources", np_sources_to_json(src));
	json_object_set_new(o, "kernel", np_kernel_to_json(&r->kernel));
	json_object_set_new(o, "modules", np_modules_to_json(&r->modules));
	json_object_set_new(o, "pci", np_pci_to_json(&r->pci));
	json_object_set_new(o, "net", np_net_to_json(&r->net));
	json_object_set_new(o, "block", np_block_to_json(&r->block));
	json_object_set_new(o, "mounts", np_mounts_to_json(&r->mounts));
	json_object_set_new(o, "nvme", np_nvme_to_json(&r->nvme));
	json_object_set_new(o, "multipath", np_multipath_to_json(&r->multipath));
	json_object_set_new(o, "kmsg", np_kmsg_to_json(&r->kmsg));
	json_object_set_new(o, "volumes", np_volumes_to_json(&r->volumes));
	return o;
}

void np_report_print(const struct np_report *r, struct np_out *o)
{
	fprintf(o->f, "nodeprint %s  bundle %s  (%zu components)\n", NODEPRINT_VERSION,
		r->bundle.hash[0] ? r->bundle.hash : "-", r->bundle.n);
	struct np_source src[NP_SRC__N];
	np_report_sources(r, src);
	np_sources_print(src, o);
	np_kernel_print(&r->kernel, o);
	np_modules_print(&r->modules, o);
	np_net_print(&r->net, o);
	np_block_print(&r->block, o);
	np_nvme_print(&r->nvme, o);
	np_multipath_print(&r->multipath, o);
	np_volumes_print(&r->volumes, o);
	np_pci_print(&r->pci, o);
	np_mounts_print(&r->mounts, o);
	np_kmsg_print(&r->kmsg, o);
	np_out_heading(o, "Bundle");
	for (size_t i = 0; i < r->bundle.n; i++)
		fprintf(o->f, "  %-8s %-32s %s\n", r->bundle.items[i].component, r->bundle.items[i].key,
			r->bundle.items[i].value);
	fprintf(o->f, "  hash: %s\n", r->bundle.hash);
}
