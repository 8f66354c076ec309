/* SPDX-License-Identifier: Apache-2.0 */
/*
 * numa.h - the numa collector's parsers, public for tests and fuzzing.
 */
#pragma once

#include "../report/numa.h"

#include <stddef.h>

/* Highest CPU number accepted in a CPU list (the kernel's NR_CPUS tops out at 8192). */
#define NP_CPULIST_MAX 8191u

/*
 * np_cpulist_parse() - a CPU list as the kernel prints it with "%*pbl"
 * (lib/bitmap.c bitmap_print_to_pagebuf(): "0-3,8,10-11", a newline at the end;
 * "" or "\n" for no CPU): /sys/devices/system/node/nodeN/cpulist,
 * /proc/irq/N/effective_affinity_list. Strict: decimals, ranges a-b with
 * a <= b, no spaces, no stride, CPUs <= NP_CPULIST_MAX. Returns 0 with a
 * malloc'd ascending array in *@cpus (NULL when empty; caller frees) and its
 * length in *@n, or -EINVAL / -ERANGE / -ENOMEM.
 */
int np_cpulist_parse(const char *s, unsigned **cpus, size_t *n);

/*
 * np_pci_bdf_in_path() - the last PCI function ("0000:41:00.0", domain:bus:
 * device.function in hex as drivers/pci/probe.c names them) among the
 * components of a sysfs path (the target of /sys/class/net/eth0 or
 * /sys/class/nvme/nvme0). Returns 1 and a malloc'd copy in *@bdf, 0 when
 * there is none (a virtual or fabrics device), -ENOMEM.
 */
int np_pci_bdf_in_path(const char *path, char **bdf);
