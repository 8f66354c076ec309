/* SPDX-License-Identifier: Apache-2.0 */
/* kernel.h - parsers of the kernel/system collector, exposed for tests and fuzzing. */
#pragma once

#include "../report/kernel.h"

#include <stddef.h>
#include <stdint.h>

/*
 * np_taint_letters() - decode /proc/sys/kernel/tainted into the kernel's
 * letters (Documentation/admin-guide/tainted-kernels.rst), set bits only, in
 * bit order: 0x3000 -> "OE". Unknown bits print as "?". Returns a malloc'd
 * string ("" when untainted) or NULL on ENOMEM.
 */
char *np_taint_letters(uint64_t mask);

/*
 * np_parse_os_release() - KEY=VALUE lines of os-release(5): fills os_id,
 * os_version_id, os_pretty_name, with shell quoting ('…', "…", backslash
 * escapes) removed. Returns 0, or -EINVAL when no line parses.
 */
int np_parse_os_release(const char *buf, size_t len, struct np_kernel *k);

/*
 * np_parse_cpuinfo() - /proc/cpuinfo (x86 "model name"/"microcode", arm64
 * "CPU implementer"/"CPU part" when no model name): fills cpu_model,
 * microcode and cpus. Returns 0, or -EINVAL when no processor entry is found.
 */
int np_parse_cpuinfo(const char *buf, size_t len, struct np_kernel *k);
