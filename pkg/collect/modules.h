/* SPDX-License-Identifier: Apache-2.0 */
/* modules.h - parsers of the modules collector, exposed for tests and fuzzing. */
#pragma once

#include "../report/modules.h"

#include <stddef.h>

/*
 * Largest /proc/modules accepted: 1 MiB, about 15000 modules (real hosts have
 * a few hundred, ~60 bytes each); a bigger file is refused with -EFBIG.
 */
#define NP_PROC_MODULES_MAX (1u << 20)

/*
 * np_parse_proc_modules() - parse /proc/modules and append one struct np_module
 * per line to @s (names must not already be in @s).
 *
 * Format (proc(5); kernel/module/procfs.c m_show()): "name size refcount
 * used_by state address [(taint)]" separated by single spaces, where refcount
 * is a decimal or "-" (no CONFIG_MODULE_UNLOAD), used_by is "-" or a list of
 * names each followed by ',' ("[permanent]," for modules that cannot unload),
 * state is Live/Loading/Unloading, address is "0x%px" (all zeros when
 * kptr_restrict hides it) and the optional 7th column is module_flags():
 * taint letters plus '+' (loading) or '-' (unloading) in parentheses.
 *
 * Never stops at a bad line: every line that parses is kept; lines that do not
 * (wrong column count, bad number, NUL bytes, duplicate name, over-long name)
 * are counted in s->lines_invalid and the first one is described in s->status.
 * Returns 0, -EINVAL when at least one line was invalid, or -ENOMEM.
 */
int np_parse_proc_modules(const char *buf, size_t len, struct np_modules *s);
