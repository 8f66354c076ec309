// SPDX-License-Identifier: Apache-2.0
/* numa.c - the numa section: free, JSON, text. */
#include "numa.h"
#include "json.h"
#include "report.h"
#include "section.h"
#include "../shared/macro.h"

#include <stdio.h>
#include <stdlib.h>

void np_numa_free(struct np_numa *s)
{
	for (size_t i = 0; i < s->n_nodes; i++)
		free(s->nodes[i].cpulist);
	free(s->nodes);
	for (size_t i = 0; i < s->n_devs; i++) {
		struct np_numa_dev *d = &s->devs[i];
		for (size_t k = 0; k < d->nirqs; k++) {
			free(d->irqs[k].name);
			free(d->irqs[k].effective);
		}
		free(d->irqs);
		free(d->name);
		free(d->kind);
		free(d->pci);
		np_status_clear(&d->status);
	}
	free(s->devs);
	np_status_clear(&s->status);
	*s = (struct np_numa){ 0 };
}

static json_t *percent(double v)
{
	return v < 0 ? json_null() : json_real(v);
}

static json_t *dev_to_json(const struct np_numa_dev *d)
{
	json_t *o = json_object();
	np_json_str(o, "name", d->name);
	np_json_str(o, "kind", d->kind);
	np_json_str(o, "pci", d->pci);
	json_object_set_new(o, "numa_node", d->numa_node >= 0 ? json_integer(d->numa_node) : json_null());
	json_t *a = json_array();
	for (size_t k = 0; k < d->nirqs; k++) {
		const struct np_numa_irq *q = &d->irqs[k];
		json_t *x = json_object();
		np_json_u64(x, "irq", q->irq);
		np_json_str(x, "name", q->name);
		np_json_u64(x, "count", q->count);
		np_json_u64(x, "count_remote", q->count_remote);
		np_json_str(x, "effective_cpus", q->effective);
		json_object_set_new(x, "remote", q->remote < 0 ? json_null() : json_boolean(q->remote));
		json_object_set_new(x, "admin_queue", json_boolean(q->admin_queue));
		json_array_append_new(a, x);
	}
	json_object_set_new(o, "irqs", a);
	np_json_u64(o, "interrupts", d->interrupts);
	json_object_set_new(o, "remote_percent", percent(d->remote_percent));
	json_object_set_new(o, "served_remote_percent", percent(d->served_remote_percent));
	np_status_to_json(&d->status, o);
	return o;
}

json_t *np_numa_to_json(const struct np_numa *s)
{
	json_t *o = json_object();
	json_t *n = json_array();
	for (size_t i = 0; i < s->n_nodes; i++) {
		json_t *x = json_object();
		np_json_u64(x, "node", s->nodes[i].id);
		np_json_str(x, "cpulist", s->nodes[i].cpulist);
		json_array_append_new(n, x);
	}
	json_object_set_new(o, "nodes", n);
	json_t *a = json_array();
	for (size_t i = 0; i < s->n_devs; i++)
		json_array_append_new(a, dev_to_json(&s->devs[i]));
	json_object_set_new(o, "devices", a);
	json_t *ib = json_object();
	np_json_bool(ib, "known", s->irqbalance_known);
	json_object_set_new(ib, "pid", s->irqbalance_known && s->irqbalance_pid >= 0 ? json_integer(s->irqbalance_pid)
										 : json_null());
	json_object_set_new(o, "irqbalance", ib);
	np_status_to_json(&s->status, o);
	return o;
}

static const char *pct(double v, char *buf, size_t len)
{
	if (v < 0)
		return "-";
	snprintf(buf, len, "%.0f%%", v);
	return buf;
}

void np_numa_print(const struct np_numa *s, struct np_out *o)
{
	static const char *const hdr[] = { "DEVICE", "KIND", "PCI", "NODE", "IRQS", "INTERRUPTS", "REMOTE", "SERVED_REMOTE" };
	static const char *const ihdr[] = { "DEVICE", "IRQ", "NAME", "COUNT", "EFFECTIVE_CPUS", "REMOTE" };
	char a[32], b[32], c[32], e[32], f[32];
	np_out_heading(o, "NUMA and IRQ locality");
	if (s->status.err)
		np_out_error(o, s->status.error);
	for (size_t i = 0; i < s->n_nodes; i++) {
		snprintf(a, sizeof(a), "node%u", s->nodes[i].id);
		np_out_kvf(o, a, "cpus %s", *s->nodes[i].cpulist ? s->nodes[i].cpulist : "(none)");
	}
	if (!s->irqbalance_known)
		np_out_kv(o, "irqbalance", "unknown (/proc not readable)");
	else if (s->irqbalance_pid >= 0)
		np_out_kvf(o, "irqbalance", "running (pid %lld)", (long long)s->irqbalance_pid);
	else
		np_out_kv(o, "irqbalance", "not running");
	struct np_table *t = np_table_new(ARRAY_SIZE(hdr), hdr);
	for (size_t i = 0; t && i < s->n_devs; i++) {
		const struct np_numa_dev *d = &s->devs[i];
		snprintf(a, sizeof(a), "%lld", (long long)d->numa_node);
		snprintf(b, sizeof(b), "%zu", d->nirqs);
		snprintf(c, sizeof(c), "%llu", (unsigned long long)d->interrupts);
		const char *cells[] = { d->name, d->kind, d->pci, d->numa_node >= 0 ? a : "none", b, c,
					pct(d->remote_percent, e, sizeof(e)), pct(d->served_remote_percent, f, sizeof(f)) };
		np_table_add(t, d->remote_percent > 50 ? NP_TONE_WARN : NP_TONE_PLAIN, cells);
	}
	if (t)
		np_table_print_free(t, o);
	t = np_table_new(ARRAY_SIZE(ihdr), ihdr);
	for (size_t i = 0; t && i < s->n_devs; i++)
		for (size_t k = 0; k < s->devs[i].nirqs; k++) {
			const struct np_numa_irq *q = &s->devs[i].irqs[k];
			snprintf(a, sizeof(a), "%u", q->irq);
			snprintf(c, sizeof(c), "%llu", (unsigned long long)q->count);
			const char *cells[] = { s->devs[i].name, a, q->name, c, q->effective,
						q->remote < 0 ? "-" : q->remote ? "yes" : "no" };
			np_table_add(t, q->remote > 0 ? NP_TONE_WARN : NP_TONE_PLAIN, cells);
		}
	if (t)
		np_table_print_free(t, o);
}

int np_numa_bundle(const struct np_numa *s, struct np_bundle *b)
{
	(void)s;
	(void)b;
	return 0;
}

static void numa_judge(const struct np_report *r, struct np_source *s)
{
	const struct np_numa *n = &r->numa;
	if (n->status.err)
		np_source_down(s, &n->status);
	for (size_t i = 0; i < n->n_devs; i++)
		if (n->devs[i].status.err)
			np_source_item_down(s, n->devs[i].name, &n->devs[i].status, 0, NULL);
}

NP_SECTION_SOURCE(numa, 120, "NUMA nodes and IRQ affinity", "NUMAUnreadable", numa_judge);
