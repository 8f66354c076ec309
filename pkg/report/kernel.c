// SPDX-License-Identifier: Apache-2.0
#include "kernel.h"
#include "json.h"
#include "report.h"
#include "section.h"

#include <stdlib.h>

void np_kernel_free(struct np_kernel *k)
{
	char **fields[] = { &k->release, &k->version, &k->machine, &k->taint_letters, &k->boot_id,
			    &k->os_id, &k->os_version_id, &k->os_pretty_name, &k->dmi_sys_vendor,
			    &k->dmi_product_name, &k->dmi_product_version, &k->dmi_bios_vendor,
			    &k->dmi_bios_version, &k->dmi_bios_date, &k->dmi_board_name, &k->cpu_model,
			    &k->microcode };
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		free(*fields[i]);
		*fields[i] = NULL;
	}
	np_status_clear(&k->status);
}

json_t *np_kernel_to_json(const struct np_kernel *k)
{
	json_t *o = json_object();
	np_json_str(o, "release", k->release);
	np_json_str(o, "version", k->version);
	np_json_str(o, "machine", k->machine);
	np_json_u64(o, "tainted", k->tainted);
	np_json_str(o, "taint_letters", k->taint_letters);
	np_json_str(o, "boot_id", k->boot_id);
	json_t *os = json_object();
	np_json_str(os, "id", k->os_id);
	np_json_str(os, "version_id", k->os_version_id);
	np_json_str(os, "pretty_name", k->os_pretty_name);
	json_object_set_new(o, "os", os);
	json_t *dmi = json_object();
	np_json_str(dmi, "sys_vendor", k->dmi_sys_vendor);
	np_json_str(dmi, "product_name", k->dmi_product_name);
	np_json_str(dmi, "product_version", k->dmi_product_version);
	np_json_str(dmi, "bios_vendor", k->dmi_bios_vendor);
	np_json_str(dmi, "bios_version", k->dmi_bios_version);
	np_json_str(dmi, "bios_date", k->dmi_bios_date);
	np_json_str(dmi, "board_name", k->dmi_board_name);
	json_object_set_new(o, "dmi", dmi);
	json_t *cpu = json_object();
	np_json_str(cpu, "model", k->cpu_model);
	np_json_str(cpu, "microcode", k->microcode);
	np_json_u64(cpu, "count", k->cpus);
	json_object_set_new(o, "cpu", cpu);
	np_status_to_json(&k->status, o);
	return o;
}

void np_kernel_print(const struct np_kernel *k, struct np_out *o)
{
	np_out_heading(o, "Kernel");
	if (k->status.err)
		np_out_error(o, k->status.error);
	np_out_kv(o, "release", k->release);
	np_out_kv(o, "version", k->version);
	np_out_kv(o, "machine", k->machine);
	np_out_kvf(o, "tainted", "%llu%s%s%s", (unsigned long long)k->tainted,
		   k->taint_letters && *k->taint_letters ? " (" : "",
		   k->taint_letters ? k->taint_letters : "",
		   k->taint_letters && *k->taint_letters ? ")" : "");
	np_out_kv(o, "boot id", k->boot_id);
	np_out_kv(o, "os", k->os_pretty_name);
	np_out_kvf(o, "system", "%s %s %s", k->dmi_sys_vendor ? k->dmi_sys_vendor : "-",
		   k->dmi_product_name ? k->dmi_product_name : "-",
		   k->dmi_product_version ? k->dmi_product_version : "");
	np_out_kv(o, "board", k->dmi_board_name);
	np_out_kvf(o, "bios", "%s %s (%s)", k->dmi_bios_vendor ? k->dmi_bios_vendor : "-",
		   k->dmi_bios_version ? k->dmi_bios_version : "-",
		   k->dmi_bios_date ? k->dmi_bios_date : "-");
	np_out_kvf(o, "cpu", "%u x %s", k->cpus, k->cpu_model ? k->cpu_model : "-");
	np_out_kv(o, "microcode", k->microcode);
}

int np_kernel_bundle(const struct np_kernel *k, struct np_bundle *b)
{
	int r = np_bundle_add(b, "kernel", "release", k->release);
	if (r >= 0 && (k->dmi_bios_version || k->dmi_bios_vendor))
		r = np_bundle_add(b, "bios", k->dmi_bios_vendor ? k->dmi_bios_vendor : "unknown",
				  k->dmi_bios_version);
	if (r >= 0 && k->microcode)
		r = np_bundle_add(b, "cpu", k->cpu_model ? k->cpu_model : "unknown", k->microcode);
	return r;
}

NP_SECTION_SOURCE(kernel, 90, "kernel, OS and DMI facts", "KernelInfoUnreadable", NULL);
