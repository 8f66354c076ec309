// SPDX-License-Identifier: Apache-2.0
/* findings.c - health findings, one function per area of the report. */
#define _GNU_SOURCE
#include "findings.h"
#include "record.h"
#include "tmochain.h"
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
static int findings_irq_skew(const struct np_health *h, const struct np_net *net, struct np_desired *d)
{
	int r = 0;
	if (h->net_irq_skew_percent < 0)
		return 0;
	for (size_t i = 0; r >= 0 && i < net->n; i++) {
		const struct np_net_if *nic = &net->ifs[i];
		uint64_t total = 0;
		for (size_t j = 0; j < nic->nirqs; j++)
			total += nic->irqs[j].total;
		if (nic->nirqs < 2 || total < 10000 || nic->irq_skew_percent <= h->net_irq_skew_percent)
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

/* Drops per second between two reports (the agent's previous poll). */
static int findings_drops(const struct np_health *h, const struct np_net *net, const struct np_eval_history *hist,
			  struct np_desired *d)
{
	static const char *const counters[] = { "rx_dropped", "tx_dropped", "rx_missed_errors", "rx_fifo_errors" };
	int r = 0;
	if (h->net_drops_per_second < 0 || !hist || !hist->prev || hist->dt_seconds <= 0)
		return 0;
	for (size_t i = 0; r >= 0 && i < net->n; i++) {
		const struct np_net_if *nic = &net->ifs[i], *old = find_nic(&hist->prev->net, nic->name);
		if (!old)
			continue;
		int64_t delta = 0;
		for (size_t c = 0; c < ARRAY_SIZE(counters); c++) {
			int64_t a = np_net_stat_get(old, counters[c]), b = np_net_stat_get(nic, counters[c]);
			if (a >= 0 && b >= a)
				delta += b - a;
		}
		double rate = (double)delta / hist->dt_seconds;
		if (rate > h->net_drops_per_second)
			r = np_desired_add_finding(d, NP_FINDING_NIC_DROPS, nic->name, NP_REASON_DROPS,
						   "%s drops %.1f packets/s (threshold %.1f)", nic->name, rate,
						   h->net_drops_per_second);
	}
	return r;
}

/* ---- PCIe ---- */

static uint64_t aer_total(const struct np_aer_counters *a)
{
	if (a->has_total)
		return a->total;
	uint64_t t = 0; /* no TOTAL_ line: the sum of the named counters */
	for (size_t i = 0; i < a->n; i++)
		t += a->c[i].count;
	return t;
}

static const struct np_pci_device *find_pci(const struct np_pci *pci, const char *addr)
{
	for (size_t i = 0; pci && i < pci->n; i++)
		if (streq(pci->devices[i].address, addr))
			return &pci->devices[i];
	return NULL;
}

/*
 * A link is judged once, at its lower end (an endpoint, a switch upstream port): the port above
 * reports the same link, and the other functions of a multi-function device share it.
 */
static bool judges_link(const struct np_pci *pci, const struct np_pci_device *dev)
{
	const struct np_pci_device *p = np_pci_link_partner(pci, dev);
	return !p || (p->address && dev->upstream && streq(p->address, dev->upstream) &&
		      np_pci_link_partner(pci, p) == dev);
}

static int link_finding(const struct np_pci *pci, const struct np_pci_device *dev, struct np_desired *d)
{
	double gts;
	bool has_width;
	uint64_t width;
	np_pci_link_expected(pci, dev, &gts, &has_width, &width);
	const struct np_pci_device *p = np_pci_link_partner(pci, dev);
	return np_desired_add_finding(d, NP_FINDING_LINK_DOWNGRADED, dev->address, NP_REASON_LINK_DOWNGRADED,
				      "%s (%s): link runs at %s x%llu; %s support %.1f GT/s x%llu", dev->address,
				      dev->driver ? dev->driver : "no driver",
				      dev->cur_speed.text ? dev->cur_speed.text : "?", (unsigned long long)dev->cur_width,
				      p ? "both ends" : "the device can", gts, (unsigned long long)(has_width ? width : 0));
}

static int findings_pcie_dev(const struct np_health *h, const struct np_pci *pci, const struct np_pci_device *dev,
			     const struct np_eval_history *hist, struct np_desired *d)
{
	int r = 0;
	uint64_t unc = aer_total(&dev->aer_nonfatal) + aer_total(&dev->aer_fatal);
	if (h->pcie_aer_uncorrectable && unc > 0)
		r = np_desired_add_finding(d, NP_FINDING_PCIE_ERRORS, dev->address, NP_REASON_AER_UNCORRECTABLE,
					   "%s (%s): %llu uncorrectable AER errors (non-fatal %llu, fatal %llu)",
					   dev->address, dev->driver ? dev->driver : "no driver", (unsigned long long)unc,
					   (unsigned long long)aer_total(&dev->aer_nonfatal),
					   (unsigned long long)aer_total(&dev->aer_fatal));
	const struct np_pci_device *old = hist && hist->prev ? find_pci(&hist->prev->pci, dev->address) : NULL;
	if (r >= 0 && old && h->pcie_aer_correctable_per_hour >= 0 && hist->dt_seconds > 0) {
		uint64_t a = aer_total(&old->aer_cor), b = aer_total(&dev->aer_cor);
		double per_hour = b > a ? (double)(b - a) * 3600.0 / hist->dt_seconds : 0;
		if (per_hour > h->pcie_aer_correctable_per_hour)
			r = np_desired_add_finding(d, NP_FINDING_PCIE_ERRORS, dev->address, NP_REASON_AER_CORRECTABLE_RATE,
						   "%s: %.0f correctable AER errors per hour (threshold %.0f)",
						   dev->address, per_hour, h->pcie_aer_correctable_per_hour);
	}
	if (r >= 0 && h->pcie_link_downgrade && judges_link(pci, dev) && np_pci_link_downgraded(pci, dev) > 0)
		r = link_finding(pci, dev, d);
	return r;
}

static int findings_pcie(const struct np_health *h, const struct np_pci *pci, const struct np_eval_history *hist,
			 struct np_desired *d)
{
	int r = 0;
	for (size_t i = 0; r >= 0 && i < pci->n; i++)
		r = findings_pcie_dev(h, pci, &pci->devices[i], hist, d);
	return r;
}

/* ---- NVMe ---- */

static const char *const warning_bits[] = { "available_spare", "temperature", "reliability", "read_only",
					    "volatile_memory_backup", "persistent_memory_region" };

static const struct np_nvme_ctrl *find_ctrl(const struct np_nvme *n, const char *name)
{
	for (size_t i = 0; n && i < n->n_controllers; i++)
		if (n->controllers[i].name && streq(n->controllers[i].name, name))
			return &n->controllers[i];
	return NULL;
}

static bool u128_gt(struct np_u128 a, struct np_u128 b)
{
	return a.hi > b.hi || (a.hi == b.hi && a.lo > b.lo);
}

static int nvme_warning(const struct np_health *h, const struct np_nvme_ctrl *c, struct np_desired *d)
{
	uint8_t bits = c->smart.critical_warning & (uint8_t)h->nvme_critical_warning_mask;
	if (!bits)
		return 0;
	char names[160] = "";
	for (size_t b = 0; b < ARRAY_SIZE(warning_bits); b++)
		if (bits & (1u << b))
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", *names ? ", " : "",
				 warning_bits[b]);
	return np_desired_add_finding(d, NP_FINDING_NVME_CRITICAL, c->name, NP_REASON_CRITICAL_WARNING,
				      "%s (%s, firmware %s): SMART critical warning 0x%02x (%s)", c->name,
				      c->model ? c->model : "?", c->firmware_rev ? c->firmware_rev : "?",
				      c->smart.critical_warning, names);
}

/*
 * The error-log count grew. When the new entries were read, only drive faults count (media,
 * device: np_nvme_error_is_fault()): an admin-queue "Invalid Field in Command" is a tool probing
 * an unsupported log page, counted by the drive for ever. When they were not read, the count is
 * all there is.
 */
static int error_log_growth(const struct np_nvme_ctrl *c, const struct np_nvme_ctrl *old, struct np_desired *d)
{
	const struct np_nvme_error_entry *first = NULL;
	size_t faults = 0;
	for (size_t i = 0; i < c->n_errors; i++)
		if (np_nvme_error_is_fault(&c->errors[i]) && faults++ == 0)
			first = &c->errors[i];
	unsigned long long from = old->smart.num_err_log_entries.lo, to = c->smart.num_err_log_entries.lo;
	if (c->n_errors && !faults)
		return 0;
	if (!first)
		return np_desired_add_finding(d, NP_FINDING_NVME_CRITICAL, c->name, NP_REASON_ERROR_LOG_GROWTH,
					      "%s: error-log entries grew from %llu to %llu (entries not read)", c->name,
					      from, to);
	return np_desired_add_finding(d, NP_FINDING_NVME_CRITICAL, c->name, NP_REASON_ERROR_LOG_GROWTH,
				      "%s: error-log entries grew from %llu to %llu, %zu of them %s errors (first: %s "
				      "queue %u, status 0x%03x)", c->name, from, to, faults,
				      np_nvme_error_class_name(np_nvme_error_class(first)),
				      first->sqid ? "I/O" : "admin", first->sqid, first->status & 0x7ff);
}

static int findings_nvme_ctrl(const struct np_health *h, const struct np_nvme_ctrl *c,
			      const struct np_eval_history *hist, struct np_desired *d)
{
	const struct np_nvme_smart *sm = &c->smart;
	if (!sm->present || !sm->plausible || !c->name)
		return 0; /* no page, or an all-zero page: a failed read, not data (case 08) */
	int r = nvme_warning(h, c, d);
	if (r >= 0 && h->nvme_spare_below_threshold && sm->available_spare_threshold_percent > 0 &&
	    sm->available_spare_percent < sm->available_spare_threshold_percent)
		r = np_desired_add_finding(d, NP_FINDING_NVME_CRITICAL, c->name, NP_REASON_SPARE_BELOW_THRESHOLD,
					   "%s: available spare %u%% below its threshold %u%%", c->name,
					   sm->available_spare_percent, sm->available_spare_threshold_percent);
	if (r >= 0 && h->nvme_percentage_used_max >= 0 && sm->percentage_used > h->nvme_percentage_used_max)
		r = np_desired_add_finding(d, NP_FINDING_NVME_CRITICAL, c->name, NP_REASON_WEAR_OUT,
					   "%s: %u%% of its rated endurance used (limit %d%%)", c->name,
					   sm->percentage_used, h->nvme_percentage_used_max);
	const struct np_nvme_ctrl *old = hist && hist->prev ? find_ctrl(&hist->prev->nvme, c->name) : NULL;
	if (!old || !old->smart.present || !old->smart.plausible)
		return r;
	if (r >= 0 && h->nvme_media_errors_growth && u128_gt(sm->media_errors, old->smart.media_errors))
		r = np_desired_add_finding(d, NP_FINDING_NVME_CRITICAL, c->name, NP_REASON_MEDIA_ERRORS,
					   "%s: media errors grew from %llu to %llu", c->name,
					   (unsigned long long)old->smart.media_errors.lo,
					   (unsigned long long)sm->media_errors.lo);
	if (r >= 0 && h->nvme_error_log_growth && u128_gt(sm->num_err_log_entries, old->smart.num_err_log_entries))
		r = error_log_growth(c, old, d);
	return r;
}

/* ---- multipath ---- */

static int findings_multipath(const struct np_health *h, const struct np_multipath *mp, const struct np_kmsg *km,
			      struct np_desired *d)
{
	int r = 0;
	for (size_t i = 0; r >= 0 && h->multipath_failed_paths && i < mp->n_maps; i++) {
		const struct np_mpath_map *m = &mp->maps[i];
		unsigned failed = 0, total = 0;
		char first[64] = "";
		for (size_t g = 0; g < m->n_groups; g++)
			for (size_t k = 0; k < m->groups[g].n_paths; k++) {
				const struct np_mpath_path *pt = &m->groups[g].paths[k];
				total++;
				if (pt->have_state && !pt->active && failed++ == 0)
					snprintf(first, sizeof(first), "%s", pt->dev ? pt->dev : pt->major_minor);
			}
		if (failed)
			r = np_desired_add_finding(d, NP_FINDING_MULTIPATH_DEGRADED, m->name ? m->name : m->dm, NP_REASON_PATH_FAILED,
						   "%s: %u of %u paths failed (first: %s)%s", m->name ? m->name : m->dm,
						   failed, total, first, m->queue_io ? "; I/O is being queued" : "");
	}
	for (size_t i = 0; r >= 0 && km && i < km->n_flaps; i++)
		if (km->flaps[i].in_window >= h->multipath_flaps)
			r = np_desired_add_finding(d, NP_FINDING_PATH_FLAPPING, km->flaps[i].map, NP_REASON_PATH_FLAPPING,
						   "map %s: %u path flaps in the last %.0f s (threshold %u)",
						   km->flaps[i].map, km->flaps[i].in_window,
						   (double)km->flaps_window_ms / 1000, h->multipath_flaps);
	return r;
}

/* ---- stalls under volumes ---- */

static bool volume_uses(const struct np_volume *v, const char *dev)
{
	return (v->device && streq(v->device, dev)) || np_strv_contains(v->backing, dev);
}

/*
 * Events on the PersistentVolume, and on the Pod and the claim using it. The Pod is named by
 * its UID ("uid:<uid>") and the claim by its volume ("pv:<name>"): the agent resolves both
 * through the API (pods on this node, the PV's claimRef); a plan without a cluster shows them so.
 */
static int stall_volume_events(const struct np_volumes *vs, const struct np_stall_event *st, const char *msg,
			       struct np_desired *d)
{
	int r = 0;
	for (size_t i = 0; r >= 0 && i < vs->n; i++) {
		const struct np_volume *v = &vs->volumes[i];
		if (!v->pv_name || !volume_uses(v, st->device))
			continue;
		_cleanup_free_ char *vmsg = np_asprintf("%s (volume %s)", msg, v->pv_name);
		_cleanup_free_ char *pod = v->pod_uid ? np_asprintf("uid:%s", v->pod_uid) : NULL;
		_cleanup_free_ char *pvc = np_asprintf("pv:%s", v->pv_name);
		if (!vmsg || !pvc || (v->pod_uid && !pod))
			return -ENOMEM;
		r = np_desired_add_event(d, NP_EVENT_VOLUME_PATH_STALL, "Warning", vmsg, "PersistentVolume", v->pv_name,
					 st->device);
		if (r >= 0)
			r = np_desired_add_event(d, NP_EVENT_VOLUME_PATH_STALL, "Warning", vmsg, "PersistentVolumeClaim", pvc,
						 st->device);
		if (r >= 0 && pod)
			r = np_desired_add_event(d, NP_EVENT_VOLUME_PATH_STALL, "Warning", vmsg, "Pod", pod, st->device);
	}
	return r;
}

static int findings_stalls(const struct np_health *h, const struct np_report *rep, struct np_desired *d)
{
	int r = 0;
	for (size_t i = 0; r >= 0 && i < rep->block.n_stalls; i++) {
		const struct np_stall_event *st = &rep->block.stalls[i];
		if (!st->ongoing || (double)st->duration_ms < h->block_stall_seconds * 1000)
			continue;
		_cleanup_free_ char *msg = st->reason == NP_STALL_AWAIT
			? np_asprintf("%s: await %.0f ms over the window for %.1f s", st->device, st->await_ms,
				      (double)st->duration_ms / 1000)
			: np_asprintf("%s: %llu I/Os in flight and none completed for %.1f s", st->device,
				      (unsigned long long)st->in_flight, (double)st->duration_ms / 1000);
		if (!msg)
			return -ENOMEM;
		r = np_desired_add_finding(d, NP_FINDING_VOLUME_STALL, st->device, NP_REASON_STALLED, "%s", msg);
		if (r >= 0)
			r = stall_volume_events(&rep->volumes, st, msg, d);
	}
	return r;
}

/* ---- NUMA ---- */

/* A NIC or NVMe controller whose interrupt load is served on another node than its own. */
static int findings_numa(const struct np_health *h, const struct np_numa *nu, struct np_desired *d)
{
	int r = 0;
	for (size_t i = 0; r >= 0 && h->numa_remote_irq_percent >= 0 && i < nu->n_devs; i++) {
		const struct np_numa_dev *dev = &nu->devs[i];
		if (dev->numa_node < 0 || dev->remote_percent < 0 || dev->remote_percent <= h->numa_remote_irq_percent)
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
					   h->numa_remote_irq_percent);
	}
	return r;
}

/* ---- RDMA ---- */

/*
 * An RDMA port that is not ACTIVE although its link is wanted: a RoCE port whose netdev is
 * administratively up (the operator wants the link; carrier lost, or the HCA did not bring the port
 * up), or an InfiniBand port that trained (phys_state LinkUp) but was never activated (INIT, ARMED: no
 * subnet manager configured it). A port nobody enabled (netdev down, IB cable out: Polling) is none.
 */
static int findings_rdma(const struct np_health *h, const struct np_rdma *s, struct np_desired *d)
{
	int r = 0;
	for (size_t i = 0; r >= 0 && h->rdma_port_down && i < s->n; i++) {
		const struct np_rdma_dev *dev = &s->devs[i];
		for (size_t k = 0; r >= 0 && k < dev->n_ports; k++) {
			const struct np_rdma_port *p = &dev->ports[k];
			if (p->state < 0 || p->state == NP_RDMA_PORT_ACTIVE)
				continue;
			bool roce = p->netdev && p->netdev_up > 0;
			bool ib_trained = !p->netdev && p->phys_state == NP_RDMA_PHYS_LINK_UP;
			if (!roce && !ib_trained)
				continue;
			_cleanup_free_ char *subject = np_asprintf("%s/%u", dev->name, p->port);
			if (!subject)
				return -ENOMEM;
			if (roce)
				r = np_desired_add_finding(d, NP_FINDING_RDMA_PORT_DOWN, subject, NP_REASON_PORT_DOWN,
							   "RDMA port %s (%s) is %s, phys_state %s, while its netdev %s is up "
							   "(operstate %s): RDMA over it fails",
							   subject, p->link_layer ? p->link_layer : "?",
							   p->state_name ? p->state_name : "?",
							   p->phys_state_name ? p->phys_state_name : "?", p->netdev,
							   p->netdev_operstate ? p->netdev_operstate : "?");
			else
				r = np_desired_add_finding(d, NP_FINDING_RDMA_PORT_DOWN, subject, NP_REASON_NO_SUBNET_MANAGER,
							   "RDMA port %s (%s) has a trained link (LinkUp) but is %s: no subnet "
							   "manager activated it (LID 0x%llx)",
							   subject, p->link_layer ? p->link_layer : "?",
							   p->state_name ? p->state_name : "?",
							   (unsigned long long)(p->lid < 0 ? 0 : p->lid));
		}
	}
	return r;
}

/* ---- GPUs ---- */

static const char *gpu_line_kind(enum np_kmsg_kind k)
{
	return k == NP_KMSG_GPU_SXID ? "SXid" : k == NP_KMSG_GPU_RESET ? "amdgpu reset" : "Xid";
}

/*
 * A GPU kernel-log series (one per device and code, pkg/collect/gpu_xid.c) whose class asks more of
 * the node than restarting an application: node-reboot and hardware -> gpu-fault, gpu-reset ->
 * gpu-reset-required. Application and unclassified series are never a node problem by themselves.
 */
static int findings_gpu(const struct np_kmsg *km, struct np_desired *d)
{
	int r = 0;
	for (size_t i = 0; r >= 0 && i < km->n; i++) {
		const struct np_kmsg_event *e = &km->events[i];
		const char *id = NULL, *reason = NULL;
		if (e->gpu_class == NP_GPU_CLASS_REBOOT || e->gpu_class == NP_GPU_CLASS_HARDWARE) {
			id = NP_FINDING_GPU_FAULT;
			reason = e->gpu_class == NP_GPU_CLASS_REBOOT ? NP_REASON_NODE_REBOOT_REQUIRED
								       : NP_REASON_GPU_HARDWARE_FAULT;
		} else if (e->gpu_class == NP_GPU_CLASS_RESET) {
			id = NP_FINDING_GPU_RESET_REQUIRED;
			reason = NP_REASON_GPU_RESET_REQUIRED;
		}
		if (!id || !e->device)
			continue;
		char branch[32] = "";
		if (e->driver_branch)
			snprintf(branch, sizeof(branch), ", driver R%u", e->driver_branch);
		r = np_desired_add_finding(d, id, e->device, reason, "GPU %s: %s %d, class %s (%s%s), %llu time%s; first: %.160s",
					   e->device, gpu_line_kind(e->kind), e->gpu_code, np_gpu_class_name(e->gpu_class),
					   e->gpu_origin ? e->gpu_origin : "?", branch, (unsigned long long)e->count,
					   e->count == 1 ? "" : "s", e->message ? e->message : "");
	}
	return r;
}

/*
 * A GPU that stopped answering (config space all ones) is a finding by itself; a class that expects
 * N GPUs and finds fewer answering on the PCI bus is one even with no Xid. N is the class's
 * expect.gpus; without it (and with health.gpu.expectFromPeers) the largest gpu.count label of the
 * class's other Nodes, which the agent lists (@node->peer_gpus for class @node->peer_class).
 */
static int findings_gpu_missing(const struct np_health *h, const struct np_class *cls,
				const struct np_node_facts *node, const struct np_gpu *g, struct np_desired *d)
{
	int r = 0;
	unsigned answering = 0;
	for (size_t i = 0; r >= 0 && i < g->n; i++) {
		if (g->devs[i].config_dead <= 0) {
			answering++;
			continue;
		}
		r = np_desired_add_finding(d, NP_FINDING_GPU_MISSING, g->devs[i].address, NP_REASON_GPU_NOT_RESPONDING,
					   "GPU %s (%04x:%04x%s%s): its PCI config space reads all ones: the device stopped "
					   "answering (fell off the bus)",
					   g->devs[i].address, g->devs[i].vendor_id, g->devs[i].device_id,
					   g->devs[i].driver ? ", driver " : "", g->devs[i].driver ? g->devs[i].driver : "");
	}
	if (r >= 0 && cls && cls->expect_gpus >= 0 && answering < (unsigned)cls->expect_gpus)
		r = np_desired_add_finding(d, NP_FINDING_GPU_MISSING, "gpus", NP_REASON_GPU_MISSING,
					   "class %s expects %d GPUs (pinned in the policy: expect.gpus); %u answer on the "
					   "PCI bus (%zu listed)",
					   cls->name, cls->expect_gpus, answering, g->n);
	else if (r >= 0 && cls && cls->expect_gpus < 0 && h->gpu_expect_from_peers && node && node->peer_gpus &&
		 node->peer_class && streq(node->peer_class, cls->name) && answering < node->peer_gpus)
		r = np_desired_add_finding(d, NP_FINDING_GPU_MISSING, "gpus", NP_REASON_GPU_MISSING,
					   "class %s expects %u GPUs (from peers of class %s: Node %s carries %u, label "
					   "gpu.count; health.gpu.expectFromPeers); %u answer on the PCI bus (%zu listed)",
					   cls->name, node->peer_gpus, cls->name,
					   node->peer_gpus_node ? node->peer_gpus_node : "?", node->peer_gpus, answering, g->n);
	return r;
}

/*
 * A GPU whose driver counts more uncorrectable errors than health.gpu.uncorrectableMax since it
 * loaded: amdgpu RAS blocks' "ue" (the blocks named), NVML's volatile uncorrected ECC count.
 */
static int findings_gpu_uncorrectable(const struct np_health *h, const struct np_gpu *g, struct np_desired *d)
{
	int r = 0;
	for (size_t i = 0; r >= 0 && h->gpu_uncorrectable_max >= 0 && i < g->n; i++) {
		const struct np_gpu_dev *dev = &g->devs[i];
		int64_t n = np_gpu_uncorrectable(dev);
		if (n <= h->gpu_uncorrectable_max)
			continue;
		char blocks[160] = "";
		size_t off = 0;
		for (size_t j = 0; j < dev->n_ras && off < sizeof(blocks); j++)
			if (dev->ras[j].ue > 0)
				off += (size_t)snprintf(blocks + off, sizeof(blocks) - off, "%s%s %lld", off ? ", " : "",
							dev->ras[j].block, (long long)dev->ras[j].ue);
		if (dev->nvml.read && dev->nvml.ecc_volatile_uncorrected > 0 && off < sizeof(blocks))
			snprintf(blocks + off, sizeof(blocks) - off, "%sECC volatile %lld", off ? ", " : "",
				 (long long)dev->nvml.ecc_volatile_uncorrected);
		r = np_desired_add_finding(d, NP_FINDING_GPU_UNCORRECTABLE, dev->address, NP_REASON_GPU_UNCORRECTABLE,
					   "GPU %s (%04x:%04x%s%s): %lld uncorrectable errors since the driver loaded (%s), "
					   "over health.gpu.uncorrectableMax %d",
					   dev->address, dev->vendor_id, dev->device_id, dev->model ? ", " : "",
					   dev->model ? dev->model : "", (long long)n, blocks, h->gpu_uncorrectable_max);
	}
	return r;
}

int np_findings_health(const struct np_policy *p, const struct np_class *cls, const struct np_report *r,
		       const struct np_eval_history *hist, const struct np_node_facts *node, struct np_desired *d)
{
	int rc = findings_offloads(cls, &r->net, d);
	if (rc >= 0)
		rc = findings_irq_skew(&p->health, &r->net, d);
	if (rc >= 0)
		rc = findings_drops(&p->health, &r->net, hist, d);
	if (rc >= 0)
		rc = findings_pcie(&p->health, &r->pci, hist, d);
	for (size_t i = 0; rc >= 0 && i < r->nvme.n_controllers; i++)
		rc = findings_nvme_ctrl(&p->health, &r->nvme.controllers[i], hist, d);
	if (rc >= 0)
		rc = findings_multipath(&p->health, &r->multipath, &r->kmsg, d);
	if (rc >= 0)
		rc = findings_stalls(&p->health, r, d);
	if (rc >= 0)
		rc = np_findings_timeouts(&p->health, r, d);
	if (rc >= 0)
		rc = findings_numa(&p->health, &r->numa, d);
	if (rc >= 0)
		rc = findings_rdma(&p->health, &r->rdma, d);
	if (rc >= 0)
		rc = findings_gpu(&r->kmsg, d);
	if (rc >= 0 && np_report_read(r, "gpu"))
		rc = findings_gpu_missing(&p->health, cls, node, &r->gpu, d);
	if (rc >= 0 && np_report_read(r, "gpu"))
		rc = findings_gpu_uncorrectable(&p->health, &r->gpu, d);
	return rc;
}
