// SPDX-License-Identifier: Apache-2.0
/* health_net.c - NIC offloads, IRQ skew and drops: findings under health.net (health.h). */
#define _GNU_SOURCE
#include "health_net.h"
#include "record.h"
#include "vocab.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <fnmatch.h>
#include <string.h>

/* ethtool -k's legacy names (ethtool's off_flag_def) -> netdev feature globs (ETH_SS_FEATURES). */
static const struct {
	const char *legacy, *glob;
} feature_alias[] = {
	{ "rx-checksumming", "rx-checksum" },
	{ "tx-checksumming", "tx-checksum-*" },
	{ "scatter-gather", "tx-scatter-gather*" },
	{ "tcp-segmentation-offload", "tx-tcp*segmentation" },
	{ "udp-fragmentation-offload", "tx-udp-fragmentation" },
	{ "generic-segmentation-offload", "tx-generic-segmentation" },
	{ "generic-receive-offload", "rx-gro" },
	{ "large-receive-offload", "rx-lro" },
	{ "rx-vlan-offload", "rx-vlan-hw-parse" },
	{ "tx-vlan-offload", "tx-vlan-hw-insert" },
	{ "ntuple-filters", "rx-ntuple-filter" },
	{ "receive-hashing", "rx-hashing" },
};

static const char *feature_glob(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(feature_alias); i++)
		if (streq(feature_alias[i].legacy, name))
			return feature_alias[i].glob;
	return name;
}

/*
 * A feature rule on one NIC, judged like `ethtool -k` shows a legacy name: on
 * when any netdev feature it covers is on. A rule for a feature the NIC does
 * not have is no finding.
 */
static int check_feature(struct np_desired *d, const struct np_net_if *nic, const char *want, bool on)
{
	const char *glob = feature_glob(want);
	const char *first_on = NULL, *any = NULL;
	for (size_t i = 0; i < nic->nfeatures; i++) {
		const struct np_net_feature *f = &nic->features[i];
		if (!f->state || fnmatch(glob, f->name, 0) != 0)
			continue;
		any = f->name;
		if (!first_on && np_startswith(f->state, "on"))
			first_on = f->name;
	}
	if (!any || (first_on != NULL) == on)
		return 0;
	_cleanup_free_ char *subject = np_asprintf("%s %s", nic->name, want);
	if (!subject)
		return -ENOMEM;
	return np_desired_add_finding(d, NP_FINDING_OFFLOAD_MISMATCH, subject, NP_REASON_OFFLOAD_MISMATCH,
				      "%s: %s is %s (%s), the policy wants it %s", nic->name, want,
				      first_on ? "on" : "off", first_on ? first_on : any, on ? "on" : "off");
}

static int findings_offloads(const struct np_class *cls, const struct np_net *net, struct np_desired *d)
{
	int r = 0;
	for (size_t k = 0; cls && r >= 0 && k < cls->n_offloads; k++) {
		const struct np_offload_rule *rule = &cls->offloads[k];
		for (size_t i = 0; r >= 0 && i < net->n; i++) {
			const struct np_net_if *nic = &net->ifs[i];
			if (!nic->driver || fnmatch(rule->driver, nic->driver, 0) != 0)
				continue;
			for (size_t j = 0; r >= 0 && j < rule->n_off; j++)
				r = check_feature(d, nic, rule->must_off[j], false);
			for (size_t j = 0; r >= 0 && j < rule->n_on; j++)
				r = check_feature(d, nic, rule->must_on[j], true);
		}
	}
	return r;
}

/* IRQ skew only means something for a multi-queue NIC that has taken interrupts. */
static int findings_irq_skew(const struct np_health_net *h, const struct np_net *net, struct np_desired *d)
{
	int r = 0;
	if (h->irq_skew_percent < 0)
		return 0;
	for (size_t i = 0; r >= 0 && i < net->n; i++) {
		const struct np_net_if *nic = &net->ifs[i];
		uint64_t total = 0;
		for (size_t j = 0; j < nic->nirqs; j++)
			total += nic->irqs[j].total;
		if (nic->nirqs < 2 || total < 10000 || nic->irq_skew_percent <= h->irq_skew_percent)
			continue;
		r = np_desired_add_finding(d, NP_FINDING_IRQ_SKEW, nic->name, NP_REASON_IRQ_SKEW,
					   "%s: %.0f%% of its %zu IRQ lines' interrupts land on CPU %lld",
					   nic->name, nic->irq_skew_percent, nic->nirqs, (long long)nic->irq_busiest_cpu);
	}
	return r;
}

static const struct np_net_if *find_nic(const struct np_net *net, const char *name)
{
	for (size_t i = 0; net && i < net->n; i++)
		if (streq(net->ifs[i].name, name))
			return &net->ifs[i];
	return NULL;
}

/*
 * Drops per second between two reports (the agent's previous poll). A counter lower than the
 * previous one was reset since (the interface re-created under its name: a driver reload, a card
 * swapped; the kernel's net_device counters start from zero): all of it is new.
 */
static int findings_drops(const struct np_health_net *h, const struct np_net *net, const struct np_eval_history *hist,
			  struct np_desired *d)
{
	static const char *const counters[] = { "rx_dropped", "tx_dropped", "rx_missed_errors", "rx_fifo_errors" };
	int r = 0;
	if (h->drops_per_second < 0 || !hist || !hist->prev || hist->dt_seconds <= 0)
		return 0;
	for (size_t i = 0; r >= 0 && i < net->n; i++) {
		const struct np_net_if *nic = &net->ifs[i], *old = find_nic(&hist->prev->net, nic->name);
		if (!old)
			continue;
		int64_t delta = 0;
		for (size_t c = 0; c < ARRAY_SIZE(counters); c++) {
			int64_t a = np_net_stat_get(old, counters[c]), b = np_net_stat_get(nic, counters[c]);
			if (a >= 0 && b >= 0)
				delta += b >= a ? b - a : b;
		}
		double rate = (double)delta / hist->dt_seconds;
		if (rate > h->drops_per_second)
			r = np_desired_add_finding(d, NP_FINDING_NIC_DROPS, nic->name, NP_REASON_DROPS,
						   "%s drops %.1f packets/s (threshold %.1f)", nic->name, rate,
						   h->drops_per_second);
	}
	return r;
}

static int judge_net(const struct np_health_net *h, const struct np_health_in *in, struct np_desired *d)
{
	int r = findings_offloads(in->cls, &in->r->net, d);
	if (r >= 0)
		r = findings_irq_skew(h, &in->r->net, d);
	if (r >= 0)
		r = findings_drops(h, &in->r->net, in->hist, d);
	return r;
}

static const struct np_field fields[] = {
	NP_FIELD_NUM("dropsPerSecond", struct np_health_net, drops_per_second, -1, 1e12),
	NP_FIELD_NUM("irqSkewPercent", struct np_health_net, irq_skew_percent, -1, 100),
	{},
};

NP_HEALTH(net, 10, judge_net, fields,
	"dropsPerSecond: -1\n"
	"irqSkewPercent: -1\n");
