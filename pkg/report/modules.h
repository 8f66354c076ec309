/* SPDX-License-Identifier: Apache-2.0 */
/*
 * modules.h - the "modules" section: loaded modules from /proc/modules (proc(5),
 * kernel/module/procfs.c) joined with /sys/module/<name>/{version,srcversion,
 * taint,initstate} (Documentation/ABI/testing/sysfs-module), plus the built-in
 * modules that only appear in /sys/module. docs/report/modules.md documents the JSON.
 */
#ifndef NP_REPORT_MODULES_H
#define NP_REPORT_MODULES_H

#include "bundle.h"
#include "out.h"
#include "status.h"

#include <stdbool.h>
#include <stdint.h>

struct np_module {
	char *name;          /* module name as the kernel prints it ("nvme_core") */
	bool builtin;        /* in /sys/module but not in /proc/modules */
	bool has_size;       /* size_bytes is known (loaded modules only) */
	uint64_t size_bytes; /* /proc/modules column 2: core+init memory, bytes */
	bool has_refcount;   /* false for "-" (unload support off) and for built-ins */
	int64_t refcount;    /* /proc/modules column 3 */
	char **used_by;      /* column 4 without "[permanent]" and the trailing comma; NULL = none */
	bool permanent;      /* column 4 held "[permanent]" (has init, no exit: cannot unload) */
	char *state;         /* "Live", "Loading", "Unloading" (unknown words kept); NULL for built-ins */
	char *address;       /* column 5, "0x..."; NULL when the kernel hides it (all zeros) */
	char *taint;         /* taint letters ("OE"), "" when untainted, NULL when unknown */
	char *version;       /* /sys/module/<name>/version (MODULE_VERSION), NULL when absent */
	char *srcversion;    /* /sys/module/<name>/srcversion, NULL when absent */
	char *initstate;     /* /sys/module/<name>/initstate ("live", "coming", "going") */
};

struct np_modules {
	struct np_status status;
	struct np_module *modules; /* sorted by name */
	size_t n;
	/*
	 * /proc/modules exists: the kernel has CONFIG_MODULES. A kernel without
	 * it has only built-ins in /sys/module; that is not an error.
	 */
	bool loadable;
	unsigned lines_invalid;    /* /proc/modules lines that did not parse (see status) */
	/* every string and used_by vector of the modules is in the one allocation of modules
	 * (np_modules_dup()): np_modules_free() frees that, np_module_free() is not for them */
	bool packed;
};

/* Release what one module owns and zero it. */
void np_module_free(struct np_module *m);
/* Release everything @s owns and zero it. */
void np_modules_free(struct np_modules *s);
/*
 * np_modules_dup() - a deep copy of @src into @dst (overwritten, not freed first), packed: the
 * modules with all their strings and vectors in one allocation (a reused pass of the agent's
 * modules section costs one malloc and one free, not one per string). Returns 0 or -ENOMEM; on
 * failure @dst holds what was copied, for np_modules_free().
 */
int np_modules_dup(const struct np_modules *src, struct np_modules *dst);
/* {"loadable","lines_invalid","modules":[...]} + status. Caller owns the reference. */
json_t *np_modules_to_json(const struct np_modules *s);
/* The "Modules" table: only modules with a version or a taint, then a count line. */
void np_modules_print(const struct np_modules *s, struct np_out *o);
/*
 * np_modules_bundle() - one item per module that identifies its build:
 * component "module", key = name, value = version; a tainted O or E
 * (out-of-tree/unsigned) module without a version gives "srcversion <x>".
 * Modules with neither add nothing (they follow the kernel release).
 * Returns 0 or -ENOMEM.
 */
int np_modules_bundle(const struct np_modules *s, struct np_bundle *b);
/* Find a module by name; NULL when absent. */
struct np_module *np_modules_find(const struct np_modules *s, const char *name);

#endif /* NP_REPORT_MODULES_H */

/* Its member of struct np_report: report.h reads this header a second time for it (sections.h). */
#ifdef NP_REPORT_MEMBER
NP_REPORT_MEMBER(modules)
#endif
