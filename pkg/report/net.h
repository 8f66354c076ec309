/* SPDX-License-Identifier: Apache-2.0 */
/*
 * net.h - the "net" section: every network interface backed by a device, with
 * ethtool driver info and offloads, link, counters, queues, IRQ lines, and the
 * softirq share per CPU. docs/report/net.md documents every JSON field.
 */
#ifndef NP_REPORT_NET_H
#define NP_REPORT_NET_H

#include "bundle.h"
#include "out.h"
#include "status.h"
#include "../shared/u64block.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Message recorded when ethtool ioctls are not allowed (host root is not this kernel). */
#define NP_NET_NOT_LIVE "unavailable: not the live host"
/* ... or when the root is live but the interface is not in this process's network namespace. */
#define NP_NET_OTHER_NETNS "unavailable: not in this network namespace"

struct np_net_stat {
	char *name;      /* file name in /sys/class/net/<if>/statistics, e.g. "rx_missed_errors" */
	uint64_t value;
};

struct np_net_feature {
	char *name;      /* ETH_SS_FEATURES string, e.g. "rx-checksum" */
	char *state;     /* "on", "off", "on [fixed]", "off [fixed]", "on [requested off]", "off [requested on]" */
};

struct np_net_irq {
	char *irq;         /* IRQ number as in /proc/interrupts */
	char *name;        /* action column (last word), e.g. "virtio2-input.0" */
	const uint64_t *per_cpu; /* one count per CPU column of /proc/interrupts: in @counts */
	struct np_u64_block *counts; /* a reference to the block of the parsed table that holds
	                              * per_cpu (interrupts.h), shared by the lines of every NIC */
	size_t ncpu;
	uint64_t total;
};

struct np_net_if {
	struct np_status status;     /* this interface's own partial failures */
	char *name;
	int64_t ifindex;             /* -1 when unknown */
	char *driver;                /* ethtool, else the sysfs device/driver link */
	char *driver_version;        /* NULL: empty or unavailable */
	bool driver_version_is_kernel_release; /* in-tree driver: version = uname -r */
	char *firmware_version;      /* NULL when empty or "N/A" */
	char *bus_info;              /* ethtool bus-info; NULL when empty or "N/A" */
	char *ethtool_error;         /* why the ethtool fields are null, e.g. NP_NET_NOT_LIVE */
	char *pci_address;           /* the PCI device under the interface (sysfs), or NULL */
	char *vendor_id, *device_id; /* 4-hex-digit ids of that device, e.g. "1af4", "1041" */
	int64_t speed_mbps;          /* -1 = unknown (JSON null) */
	char *duplex;                /* "full", "half", NULL = unknown */
	int64_t mtu;                 /* bytes, -1 = unknown */
	char *operstate;             /* RFC 2863 operstate: "up", "down", "unknown", ... */
	int64_t rx_queues, tx_queues;/* -1 = unknown */
	struct np_net_feature *features;
	size_t nfeatures;
	struct np_net_stat *stats;
	size_t nstats;
	struct np_net_irq *irqs;
	size_t nirqs;
	double irq_skew_percent;     /* share of the NIC's IRQs on its busiest CPU; < 0 = no figure */
	int64_t irq_busiest_cpu;     /* CPU number (from the /proc/interrupts header), -1 = none */
	/* with --interval (rates.*): the same over the interval; < 0 / -1 = no figure */
	double rate_irqs_per_s;      /* interrupts per second, summed over the NIC's lines */
	double rate_irq_skew_percent;
	int64_t rate_irq_busiest_cpu;
};

/* One CPU's "cpuN" line of /proc/stat (kept between the two samples of --interval). */
struct np_cpu_sample {
	unsigned cpu;       /* N of the "cpuN" line */
	uint64_t softirq;   /* 7th column, USER_HZ ticks */
	uint64_t total;     /* user+nice+system+idle+iowait+irq+softirq+steal, USER_HZ ticks
	                     * (guest and guest_nice are already counted in user and nice) */
	uint64_t steal;     /* 8th column (2.6.11+), USER_HZ ticks; 0 when the line has none */
};

struct np_net {
	struct np_status status;
	struct np_net_if *ifs;
	size_t n;
	double *softirq_percent;     /* indexed by CPU number; < 0 = CPU absent from /proc/stat */
	size_t ncpu;                 /* highest CPU number + 1 */
	double interval_s;           /* > 0 when rates were sampled (--interval) */
	double *softirq_interval_percent; /* like softirq_percent, over the interval; ncpu entries */
	size_t interrupts_rows_skipped;   /* /proc/interrupts rows not understood and left out */
	struct np_cpu_sample *cpu_raw;    /* first /proc/stat sample (not in JSON) */
	size_t ncpu_raw;
};

void np_net_if_free(struct np_net_if *nic);
void np_net_free(struct np_net *s);
/* The section as JSON (see docs/report/net.md). Caller owns the reference. */
json_t *np_net_to_json(const struct np_net *s);
/* Human tables: NICs, Offloads, IRQs, softirq per CPU. */
void np_net_print(const struct np_net *s, struct np_out *o);
/*
 * One "nic" item per interface backed by a device: key "<driver> <vendor:device>",
 * value "driver <driver_version> firmware <firmware_version>". Returns 0 or -ENOMEM.
 */
int np_net_bundle(const struct np_net *s, struct np_bundle *b);
/* A value from a stats list, or -1 when the counter is absent (for tests and printing). */
int64_t np_net_stat_get(const struct np_net_if *nic, const char *name);

#endif /* NP_REPORT_NET_H */

/* Its member of struct np_report: report.h reads this header a second time for it (sections.h). */
#ifdef NP_REPORT_MEMBER
NP_REPORT_MEMBER(net)
#endif
