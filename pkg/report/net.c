// SPDX-License-Identifier: Apache-2.0
#define _GNU_SOURCE
#include "net.h"
#include "expo.h"
#include "json.h"
#include "json_write.h"
#include "report.h"
#include "section.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <stdlib.h>
#include <string.h>

void np_net_if_free(struct np_net_if *nic)
{
	char **strs[] = { &nic->name, &nic->driver, &nic->driver_version, &nic->firmware_version,
			  &nic->bus_info, &nic->ethtool_error, &nic->pci_address, &nic->vendor_id,
			  &nic->device_id, &nic->duplex, &nic->operstate };
	for (size_t i = 0; i < ARRAY_SIZE(strs); i++) {
		free(*strs[i]);
		*strs[i] = NULL;
	}
	for (size_t i = 0; i < nic->nfeatures; i++) {
		free(nic->features[i].name);
		free(nic->features[i].state);
	}
	free(nic->features);
	nic->features = NULL;
	nic->nfeatures = 0;
	for (size_t i = 0; i < nic->nstats; i++)
		free(nic->stats[i].name);
	free(nic->stats);
	nic->stats = NULL;
	nic->nstats = 0;
	for (size_t i = 0; i < nic->nirqs; i++) {
		free(nic->irqs[i].irq);
		free(nic->irqs[i].name);
		np_u64_block_unref(nic->irqs[i].counts);
	}
	free(nic->irqs);
	nic->irqs = NULL;
	nic->nirqs = 0;
	np_status_clear(&nic->status);
}

void np_net_free(struct np_net *s)
{
	for (size_t i = 0; i < s->n; i++)
		np_net_if_free(&s->ifs[i]);
	free(s->ifs);
	s->ifs = NULL;
	s->n = 0;
	free(s->softirq_percent);
	s->softirq_percent = NULL;
	free(s->softirq_interval_percent);
	s->softirq_interval_percent = NULL;
	free(s->cpu_raw);
	s->cpu_raw = NULL;
	s->ncpu_raw = 0;
	s->interval_s = 0;
	s->ncpu = 0;
	s->interrupts_rows_skipped = 0;
	np_status_clear(&s->status);
}

int64_t np_net_stat_get(const struct np_net_if *nic, const char *name)
{
	for (size_t i = 0; i < nic->nstats; i++)
		if (streq(nic->stats[i].name, name))
			return nic->stats[i].value > (uint64_t)INT64_MAX ? INT64_MAX
									 : (int64_t)nic->stats[i].value;
	return -1;
}

static void json_s64_or_null(json_t *o, const char *key, int64_t v)
{
	json_object_set_new(o, key, v < 0 ? json_null() : json_integer(v));
}

/* Percent rounded to two decimals, or null when negative (no figure). */
static json_t *json_fixed2(double v)
{
	if (v < 0)
		return json_null();
	return json_real((double)(long long)(v * 100.0 + 0.5) / 100.0);
}

static json_t *irq_to_json(const struct np_net_irq *q)
{
	json_t *o = json_object();
	np_json_str(o, "irq", q->irq);
	np_json_str(o, "name", q->name);
	/* 64 NICs x 64 queues x 256 CPUs is a million numbers: written from q->per_cpu (json_write.h) */
	json_object_set_new(o, "per_cpu", np_json_u64_array(q->per_cpu, q->ncpu));
	np_json_u64(o, "total", q->total);
	return o;
}

static json_t *if_to_json(const struct np_net_if *n, bool with_rates)
{
	json_t *o = json_object();
	np_json_str(o, "name", n->name);
	json_s64_or_null(o, "ifindex", n->ifindex);
	np_json_str(o, "driver", n->driver);
	np_json_str(o, "driver_version", n->driver_version);
	np_json_bool(o, "driver_version_is_kernel_release", n->driver_version_is_kernel_release);
	np_json_str(o, "firmware_version", n->firmware_version);
	np_json_str(o, "bus_info", n->bus_info);
	np_json_str(o, "ethtool_error", n->ethtool_error);
	np_json_str(o, "pci_address", n->pci_address);
	np_json_str(o, "vendor_id", n->vendor_id);
	np_json_str(o, "device_id", n->device_id);
	json_s64_or_null(o, "speed_mbps", n->speed_mbps);
	np_json_str(o, "duplex", n->duplex);
	json_s64_or_null(o, "mtu", n->mtu);
	np_json_str(o, "operstate", n->operstate);
	json_s64_or_null(o, "rx_queues", n->rx_queues);
	json_s64_or_null(o, "tx_queues", n->tx_queues);
	json_t *f = json_object();
	for (size_t i = 0; i < n->nfeatures; i++)
		np_json_str(f, n->features[i].name, n->features[i].state);
	json_object_set_new(o, "features", n->ethtool_error && !n->nfeatures ? json_null() : f);
	if (n->ethtool_error && !n->nfeatures)
		json_decref(f);
	json_t *st = json_object();
	for (size_t i = 0; i < n->nstats; i++)
		np_json_u64(st, n->stats[i].name, n->stats[i].value);
	json_object_set_new(o, "stats", st);
	json_t *irqs = json_array();
	for (size_t i = 0; i < n->nirqs; i++)
		json_array_append_new(irqs, irq_to_json(&n->irqs[i]));
	json_object_set_new(o, "irqs", irqs);
	json_object_set_new(o, "irq_skew_percent", json_fixed2(n->irq_skew_percent));
	json_s64_or_null(o, "irq_busiest_cpu", n->irq_busiest_cpu);
	if (with_rates) {
		json_t *r = json_object();
		json_object_set_new(r, "irqs_per_s", json_fixed2(n->rate_irqs_per_s));
		json_object_set_new(r, "irq_skew_percent", json_fixed2(n->rate_irq_skew_percent));
		json_s64_or_null(r, "irq_busiest_cpu", n->rate_irq_busiest_cpu);
		json_object_set_new(o, "rates", r);
	}
	np_status_to_json(&n->status, o);
	return o;
}

json_t *np_net_to_json(const struct np_net *s)
{
	json_t *o = json_object();
	json_t *a = json_array();
	for (size_t i = 0; i < s->n; i++)
		json_array_append_new(a, if_to_json(&s->ifs[i], s->interval_s > 0));
	json_object_set_new(o, "interfaces", a);
	json_t *sq = json_array();
	for (size_t i = 0; i < s->ncpu; i++)
		json_array_append_new(sq, json_fixed2(s->softirq_percent[i]));
	json_object_set_new(o, "softirq_percent_per_cpu", sq);
	np_json_u64(o, "interrupts_rows_skipped", s->interrupts_rows_skipped);
	if (s->interval_s > 0) {
		np_json_real(o, "interval_s", s->interval_s);
		json_t *si = json_array();
		for (size_t i = 0; i < s->ncpu; i++)
			json_array_append_new(si, json_fixed2(s->softirq_interval_percent
									? s->softirq_interval_percent[i] : -1));
		json_object_set_new(o, "softirq_interval_percent_per_cpu", si);
	}
	np_status_to_json(&s->status, o);
	return o;
}

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

/* Sum of two counters; -1 (unknown) when neither was read. */
static int64_t stat_sum(const struct np_net_if *n, const char *a, const char *b)
{
	int64_t x = np_net_stat_get(n, a), y = np_net_stat_get(n, b);
	if (x < 0 && y < 0)
		return -1;
	return (x < 0 ? 0 : x) + (y < 0 ? 0 : y);
}

/* A number, or "-" when negative (unknown). */
static void s64_or_dash(char *buf, size_t len, int64_t v)
{
	if (v < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%lld", (long long)v);
}

static void print_nics(const struct np_net *s, struct np_out *o)
{
	static const char *const hdr[] = { "NAME", "DRIVER", "VERSION", "FIRMWARE", "BUS-INFO",
					   "SPEED", "MTU", "STATE", "RXQ/TXQ", "DROPS/ERRORS" };
	struct np_table *t = np_table_new(ARRAY_SIZE(hdr), hdr);
	if (!t)
		return;
	for (size_t i = 0; i < s->n; i++) {
		const struct np_net_if *n = &s->ifs[i];
		char speed[32], mtu[24], q[48], de[64];
		if (n->speed_mbps >= 0)
			snprintf(speed, sizeof(speed), "%lldMb/s%s%s", (long long)n->speed_mbps,
				 n->duplex ? " " : "", n->duplex ? n->duplex : "");
		else
			snprintf(speed, sizeof(speed), "-");
		/* unknown prints "-", as the JSON's null: never -1, never a 0 it did not read */
		char rxq[24], txq[24], dr[24], er[24];
		s64_or_dash(mtu, sizeof(mtu), n->mtu);
		s64_or_dash(rxq, sizeof(rxq), n->rx_queues);
		s64_or_dash(txq, sizeof(txq), n->tx_queues);
		snprintf(q, sizeof(q), "%s/%s", rxq, txq);
		int64_t drops = stat_sum(n, "rx_dropped", "tx_dropped");
		int64_t errs = stat_sum(n, "rx_errors", "tx_errors");
		s64_or_dash(dr, sizeof(dr), drops);
		s64_or_dash(er, sizeof(er), errs);
		snprintf(de, sizeof(de), "%s/%s", dr, er);
		const char *eth = n->ethtool_error ? "n/a" : NULL;
		const char *cells[] = { n->name, n->driver,
					eth ? eth : or_dash(n->driver_version),
					eth ? eth : or_dash(n->firmware_version),
					eth ? eth : or_dash(n->bus_info),
					speed, mtu, n->operstate, q, de };
		np_table_add(t, drops > 0 || errs > 0 || n->status.err ? NP_TONE_WARN : NP_TONE_PLAIN,
			     cells);
	}
	np_table_print_free(t, o);
	for (size_t i = 0; i < s->n; i++) {
		if (s->ifs[i].ethtool_error) {
			char *m = np_asprintf("%s: ethtool %s", s->ifs[i].name, s->ifs[i].ethtool_error);
			np_out_error(o, m ? m : s->ifs[i].ethtool_error);
			free(m);
		}
		if (s->ifs[i].status.err)
			np_out_error(o, s->ifs[i].status.error);
	}
}

/* Append " name" (with "*" when fixed) to a growing string. */
static int append_feature(char **acc, const char *name, bool fixed)
{
	char *n = np_asprintf("%s%s%s%s", *acc ? *acc : "", *acc ? " " : "", name, fixed ? "*" : "");
	if (!n)
		return -ENOMEM;
	free(*acc);
	*acc = n;
	return 0;
}

static void print_offloads(const struct np_net *s, struct np_out *o)
{
	np_out_heading(o, "Offloads");
	for (size_t i = 0; i < s->n; i++) {
		const struct np_net_if *n = &s->ifs[i];
		_cleanup_free_ char *on = NULL, *off = NULL, *key_on = NULL, *key_off = NULL;
		unsigned fixed_off = 0;
		if (!n->nfeatures) {
			np_out_kv(o, n->name, n->ethtool_error ? n->ethtool_error : "-");
			continue;
		}
		for (size_t j = 0; j < n->nfeatures; j++) {
			const char *st = n->features[j].state;
			bool fixed = strstr(st, "[fixed]") != NULL;
			if (np_startswith(st, "on"))
				append_feature(&on, n->features[j].name, fixed);
			else if (fixed)
				fixed_off++;
			else
				append_feature(&off, n->features[j].name, false);
		}
		key_on = np_asprintf("%s on", n->name);
		key_off = np_asprintf("%s off", n->name);
		np_out_kv(o, key_on, on);
		np_out_kvf(o, key_off, "%s%s(+%u off [fixed])", off ? off : "", off ? " " : "",
			   fixed_off);
	}
	np_out_kv(o, "legend", "* = fixed (the driver does not let it change)");
}

/* "CPU0 0.1%  CPU1 0.2%" for the CPUs that have a figure. */
static void print_softirq(struct np_out *o, const char *key, const double *v, size_t ncpu)
{
	_cleanup_free_ char *line = NULL;
	for (size_t c = 0; c < ncpu; c++) {
		if (v[c] < 0)
			continue;
		char *n = np_asprintf("%s%sCPU%zu %.1f%%", line ? line : "", line ? "  " : "", c, v[c]);
		if (!n)
			break;
		free(line);
		line = n;
	}
	np_out_kv(o, key, line);
}

static void print_irqs(const struct np_net *s, struct np_out *o)
{
	np_out_heading(o, "IRQs");
	static const char *const hdr[] = { "NIC", "IRQS", "INTERRUPTS", "BUSIEST CPU", "SKEW %",
					   "IRQ/S", "BUSIEST CPU (INTERVAL)", "SKEW % (INTERVAL)" };
	bool rates = s->interval_s > 0;
	struct np_table *t = np_table_new(rates ? ARRAY_SIZE(hdr) : 5, hdr);
	if (!t)
		return;
	for (size_t i = 0; i < s->n; i++) {
		const struct np_net_if *n = &s->ifs[i];
		char cnt[24], tot[24], cpu[24], skew[24];
		uint64_t sum = 0;
		for (size_t j = 0; j < n->nirqs; j++)
			sum += n->irqs[j].total;
		snprintf(cnt, sizeof(cnt), "%zu", n->nirqs);
		snprintf(tot, sizeof(tot), "%llu", (unsigned long long)sum);
		snprintf(cpu, sizeof(cpu), n->irq_busiest_cpu >= 0 ? "CPU%lld" : "-",
			 (long long)n->irq_busiest_cpu);
		snprintf(skew, sizeof(skew), n->irq_skew_percent >= 0 ? "%.1f" : "-", n->irq_skew_percent);
		char ps[32], rcpu[24], rskew[24];
		snprintf(ps, sizeof(ps), n->rate_irqs_per_s >= 0 ? "%.1f" : "-", n->rate_irqs_per_s);
		snprintf(rcpu, sizeof(rcpu), n->rate_irq_busiest_cpu >= 0 ? "CPU%lld" : "-",
			 (long long)n->rate_irq_busiest_cpu);
		snprintf(rskew, sizeof(rskew), n->rate_irq_skew_percent >= 0 ? "%.1f" : "-",
			 n->rate_irq_skew_percent);
		const char *cells[] = { n->name, cnt, tot, cpu, skew, ps, rcpu, rskew };
		np_table_add(t, NP_TONE_PLAIN, cells);
	}
	np_table_print_free(t, o);
	print_softirq(o, "softirq per CPU", s->softirq_percent, s->ncpu);
	if (rates && s->softirq_interval_percent)
		print_softirq(o, "softirq (interval)", s->softirq_interval_percent, s->ncpu);
}

void np_net_print(const struct np_net *s, struct np_out *o)
{
	np_out_heading(o, "NICs");
	if (s->status.err)
		np_out_error(o, s->status.error);
	print_nics(s, o);
	print_offloads(s, o);
	print_irqs(s, o);
	if (s->interrupts_rows_skipped)
		np_out_kvf(o, "/proc/interrupts", "%zu rows not understood, skipped", s->interrupts_rows_skipped);
}

static void net_metrics(FILE *f, const struct np_report *r, const struct np_metrics_opts *o)
{
	const struct np_net *n = &r->net;
	(void)o;
	static const struct {
		const char *stat, *dir, *kind;
	} drops[] = { { "rx_dropped", "rx", "dropped" }, { "tx_dropped", "tx", "dropped" },
		      { "rx_missed_errors", "rx", "missed" }, { "rx_fifo_errors", "rx", "fifo" } };
	np_expo_help(f, "nodeprint_net_dropped_packets_total", "counter", "Packets the NIC or its driver dropped.");
	for (size_t i = 0; i < n->n; i++)
		for (size_t k = 0; k < ARRAY_SIZE(drops); k++) {
			int64_t v = np_net_stat_get(&n->ifs[i], drops[k].stat);
			if (v >= 0)
				fprintf(f, "nodeprint_net_dropped_packets_total{device=\"%s\",direction=\"%s\",kind=\"%s\"} %lld\n",
					np_expo_esc(n->ifs[i].name), drops[k].dir, drops[k].kind, (long long)v);
		}
	np_expo_help(f, "nodeprint_net_irq_skew_ratio", "gauge", "Share of the NIC's interrupts on its busiest CPU.");
	for (size_t i = 0; i < n->n; i++)
		if (n->ifs[i].irq_skew_percent >= 0)
			fprintf(f, "nodeprint_net_irq_skew_ratio{device=\"%s\"} %.4f\n", np_expo_esc(n->ifs[i].name),
				n->ifs[i].irq_skew_percent / 100.0);
}

int np_net_bundle(const struct np_net *s, struct np_bundle *b)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct np_net_if *n = &s->ifs[i];
		_cleanup_free_ char *key = np_asprintf("%s %s:%s", or_dash(n->driver),
						       n->vendor_id ? n->vendor_id : "unknown",
						       n->device_id ? n->device_id : "unknown");
		_cleanup_free_ char *val = np_asprintf(
			"driver %s firmware %s",
			n->driver_version ? n->driver_version : n->ethtool_error ? "unknown" : "none",
			n->firmware_version ? n->firmware_version : n->ethtool_error ? "unknown" : "none");
		if (!key || !val)
			return -ENOMEM;
		int r = np_bundle_add(b, "nic", key, val);
		if (r < 0)
			return r;
	}
	return 0;
}

NP_SECTION_SOURCE(net, 60, "NICs", "NetUnreadable", NULL, .bundle = true);
NP_SECTION_METRICS(net, net_metrics);
