/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rdma.h - the "rdma" section: RDMA devices (/sys/class/infiniband/<dev>:
 * InfiniBand HCAs, RoCE NICs, soft-RoCE) with their firmware, type, GUID,
 * bound driver and parent device, and per port the logical and physical state,
 * link layer, rate, LID, the netdev of a RoCE port and the port's counters
 * (and their rates over --interval). docs/report/rdma.md documents every
 * field and its kernel source (Documentation/ABI/stable/sysfs-class-infiniband).
 */
#ifndef NP_REPORT_RDMA_H
#define NP_REPORT_RDMA_H

#include "bundle.h"
#include "out.h"
#include "status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* enum ib_port_state (include/rdma/ib_verbs.h) */
#define NP_RDMA_PORT_ACTIVE 4
/* enum ib_port_phys_state */
#define NP_RDMA_PHYS_LINK_UP 5

struct np_rdma_counter {
	char *name;          /* the file name, "port_rcv_data", "sent_pkts" */
	bool hw;             /* from hw_counters/ (driver-defined), else counters/ (IB PMA) */
	uint64_t value;      /* second sample with --interval */
	uint64_t first;      /* first sample (not in JSON) */
	double per_second;   /* over the interval; < 0 = no figure (no interval, or the counter went back) */
};

struct np_rdma_port {
	unsigned port;              /* ports/N */
	int state;                  /* "4: ACTIVE" -> 4; -1 unknown */
	char *state_name;           /* "ACTIVE" */
	int phys_state;             /* "5: LinkUp" -> 5; -1 unknown */
	char *phys_state_name;      /* "LinkUp" */
	char *link_layer;           /* "InfiniBand", "Ethernet" */
	char *rate;                 /* "100 Gb/sec (4X EDR)", as the kernel prints it */
	double rate_gbps;           /* its leading number; < 0 = not understood */
	int64_t lid;                /* "0x1a" -> 26; -1 unknown */
	char *netdev;               /* RoCE: gid_attrs/ndevs/0; NULL when none (InfiniBand) */
	int netdev_up;              /* IFF_UP in /sys/class/net/<netdev>/flags: 1, 0; -1 unknown */
	char *netdev_operstate;     /* /sys/class/net/<netdev>/operstate */
	struct np_rdma_counter *counters;
	size_t n_counters;
	struct np_status status;    /* state, phys_state or link_layer unreadable */
};

struct np_rdma_dev {
	char *name;                 /* "mlx5_0", "rxe0" */
	char *node_type;            /* "CA", "RNIC", "switch" (node_type "1: CA") */
	char *fw_ver;               /* NULL when the driver reports none (soft devices) */
	char *hca_type;             /* driver-specific attribute, NULL when absent */
	char *board_id;             /* NULL when absent */
	char *node_guid;            /* "5054:00ff:fe12:3456" */
	char *device;               /* basename of the device link: the PCI address; NULL for virtual devices */
	char *driver;               /* driver bound to that device, NULL when none */
	char *vendor_id, *device_id;/* "0x15b3", "0x101b" of the PCI device, NULL when none */
	char *parent;               /* soft devices (rxe, siw): the netdev they run on ("parent"), else NULL */
	struct np_rdma_port *ports;
	size_t n_ports;
	struct np_status status;    /* the device's own attributes or port list unreadable */
};

struct np_rdma {
	struct np_status status;
	struct np_rdma_dev *devs;
	size_t n;
	bool has_rates;
	double interval_s;
	int64_t first_us;           /* CLOCK_MONOTONIC of the first counter sample */
};

void np_rdma_free(struct np_rdma *s);
/* docs/report/rdma.md. Caller owns the reference. */
json_t *np_rdma_to_json(const struct np_rdma *s);
void np_rdma_print(const struct np_rdma *s, struct np_out *o);
/*
 * One "rdma" item per device: key "<driver> <hca_type>" (the PCI "vendor:device"
 * when the driver has no hca_type; "-" for what is absent), value
 * "firmware <fw_ver>" ("none" when the driver reports none). Returns 0 or -ENOMEM.
 */
int np_rdma_bundle(const struct np_rdma *s, struct np_bundle *b);

#endif /* NP_REPORT_RDMA_H */

/* Its member of struct np_report: report.h reads this header a second time for it (sections.h). */
#ifdef NP_REPORT_MEMBER
NP_REPORT_MEMBER(rdma)
#endif
