/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virt.h - the "virt" section: what a virtual machine's guest can see of its
 * host: steal time per CPU (since boot, and over --interval as a share of the
 * CPU's time) and the virtio devices with their driver and negotiated feature
 * bits. docs/report/virt.md documents every field and its kernel source.
 */
#ifndef NP_REPORT_VIRT_H
#define NP_REPORT_VIRT_H

#include "bundle.h"
#include "out.h"
#include "status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct np_virt_cpu {
	unsigned cpu;
	uint64_t steal_ticks;       /* USER_HZ, since boot (second sample with --interval) */
	uint64_t total_ticks;
	double steal_percent;       /* over the interval; < 0 = no figure */
	uint64_t first_steal, first_total; /* first sample (not in JSON) */
};

struct np_virtio_dev {
	char *name;                 /* "virtio2" */
	unsigned device_id;         /* virtio device ID (VIRTIO 1.2, 5 "Device Types") */
	unsigned vendor_id;
	char *type;                 /* "net", "block", ... or NULL for an ID this table lacks */
	char *driver;               /* bound driver, NULL when none */
	char **features;            /* negotiated feature bit numbers, as strings ("0", "5", "32") */
	size_t n_features;
};

struct np_virt {
	struct np_status status;
	struct np_virt_cpu *cpus;
	size_t n_cpus;
	bool has_rates;
	double interval_s;
	int64_t first_us;           /* CLOCK_MONOTONIC of the first /proc/stat sample */
	struct np_virtio_dev *virtio;
	size_t n_virtio;
};

void np_virt_free(struct np_virt *s);
/* docs/report/virt.md. Caller owns the reference. */
json_t *np_virt_to_json(const struct np_virt *s);
void np_virt_print(const struct np_virt *s, struct np_out *o);
/* No versions: adds nothing. Returns 0. */
int np_virt_bundle(const struct np_virt *s, struct np_bundle *b);

#endif /* NP_REPORT_VIRT_H */

/* Its member of struct np_report: report.h reads this header a second time for it (sections.h). */
#ifdef NP_REPORT_MEMBER
NP_REPORT_MEMBER(virt)
#endif
