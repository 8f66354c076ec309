// SPDX-License-Identifier: Apache-2.0
/* health_numa.c - NUMA-remote interrupt load: findings under health.numa (health.h). */
#define _GNU_SOURCE
#include "health_numa.h"
#include "record.h"
#include "vocab.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <string.h>

/* A NIC or NVMe controller whose interrupt load is served on another node than its own. */
static int findings_numa(const struct np_health_numa *h, const struct np_numa *nu, struct np_desired *d)
{
	int r = 0;
	for (size_t i = 0; r >= 0 && h->remote_irq_percent >= 0 && i < nu->n_devs; i++) {
		const struct np_numa_dev *dev = &nu->devs[i];
		if (dev->numa_node < 0 || dev->remote_percent < 0 || dev->remote_percent <= h->remote_irq_percent)
			continue;
		const struct np_numa_irq *first = NULL;
		size_t remote = 0, lines = 0;
		for (size_t k = 0; k < dev->nirqs; k++) {
			if (dev->irqs[k].admin_queue)
				continue;
			lines++;
			if (dev->irqs[k].remote > 0 && remote++ == 0)
				first = &dev->irqs[k];
		}
		char served[48] = "";
		if (dev->served_remote_percent >= 0)
			snprintf(served, sizeof(served), "; %.0f%% served remotely since boot", dev->served_remote_percent);
		r = np_desired_add_finding(d, NP_FINDING_NUMA_REMOTE_IRQ, dev->name, NP_REASON_REMOTE_IRQS,
					   "%s (%s %s) is on NUMA node %lld; %.0f%% of its interrupt load is on IRQ lines "
					   "served only by CPUs of another node (%zu of %zu lines, first: IRQ %u %s on CPUs "
					   "%s)%s; irqbalance %s (threshold %.0f%%)",
					   dev->name, dev->kind, dev->pci, (long long)dev->numa_node, dev->remote_percent,
					   remote, lines, first ? first->irq : 0, first && first->name ? first->name : "?",
					   first && first->effective ? first->effective : "?", served,
					   !nu->irqbalance_known ? "unknown" : nu->irqbalance_pid >= 0 ? "running" : "not running",
					   h->remote_irq_percent);
	}
	return r;
}

static int judge_numa(const struct np_health_numa *h, const struct np_health_in *in, struct np_desired *d)
{
	return findings_numa(h, &in->r->numa, d);
}

static const struct np_field fields[] = {
	NP_FIELD_NUM("remoteIrqPercent", struct np_health_numa, remote_irq_percent, -1, 100),
	{},
};

NP_HEALTH(numa, 70, judge_numa, fields,
	"remoteIrqPercent: 90\n");
