/* SPDX-License-Identifier: Apache-2.0 */
/*
 * numa.h - the "numa" section: NUMA nodes and their CPUs, and for every NIC and
 * NVMe controller its PCI function's NUMA node, its interrupt lines, which CPUs
 * serve each (effective affinity) and how much of its interrupt load lands on
 * another node; whether irqbalance runs. docs/report/numa.md documents every
 * field and its kernel source.
 */
#ifndef NP_REPORT_NUMA_H
#define NP_REPORT_NUMA_H

#include "bundle.h"
#include "out.h"
#include "status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct np_numa_node {
	unsigned id;
	char *cpulist;              /* as the kernel prints it, "0-3,8-11"; "" for a node without CPUs */
};

struct np_numa_irq {
	unsigned irq;
	char *name;                 /* the action name in /proc/interrupts ("nvme0q1", "eth0-rx-0"), NULL if absent */
	uint64_t count;             /* interrupts since boot, all CPUs */
	uint64_t count_remote;      /* of which served by CPUs of another node than the device's */
	char *effective;            /* /proc/irq/N/effective_affinity_list, NULL when unreadable */
	int remote;                 /* 1: every effective CPU is on another node; 0: one is local; -1 unknown */
	bool admin_queue;           /* the NVMe admin queue (nvmeNq0): admin commands such as the agent's own
				     * SMART polls, not the data path; left out of both shares */
};

struct np_numa_dev {
	struct np_status status;
	char *name;                 /* "eth0", "nvme0" */
	char *kind;                 /* "nic" or "nvme" */
	char *pci;                  /* PCI function "0000:41:00.0" */
	int64_t numa_node;          /* /sys/bus/pci/devices/X/numa_node; -1 = none (the firmware gave no proximity) */
	struct np_numa_irq *irqs;
	size_t nirqs;
	uint64_t interrupts;        /* sum of the lines' counts, the admin queue's included */
	double remote_percent;      /* share of its interrupt load on lines whose effective CPUs are all remote
				     * (lines weighted by their counts; by one each while none fired); < 0 = no figure */
	double served_remote_percent; /* share of its interrupts since boot served by remote CPUs; < 0 = no figure */
};

struct np_numa {
	struct np_status status;
	struct np_numa_node *nodes;
	size_t n_nodes;
	struct np_numa_dev *devs;
	size_t n_devs;
	bool irqbalance_known;      /* /proc could be scanned */
	int64_t irqbalance_pid;     /* a process named irqbalance, -1 = none */
};

void np_numa_free(struct np_numa *s);
/* docs/report/numa.md. Caller owns the reference. */
json_t *np_numa_to_json(const struct np_numa *s);
/* Nodes and their CPUs, irqbalance, then one row per device and one per interrupt line. */
void np_numa_print(const struct np_numa *s, struct np_out *o);
/* NUMA placement is no version: adds nothing. Returns 0. */
int np_numa_bundle(const struct np_numa *s, struct np_bundle *b);

#endif /* NP_REPORT_NUMA_H */

/* Its member of struct np_report: report.h reads this header a second time for it (sections.h). */
#ifdef NP_REPORT_MEMBER
NP_REPORT_MEMBER(numa)
#endif
