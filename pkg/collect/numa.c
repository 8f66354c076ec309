// SPDX-License-Identifier: Apache-2.0
/*
 * numa.c - NUMA and IRQ locality, from the host root: the nodes' CPUs
 * (/sys/devices/system/node/nodeN/cpulist, Documentation/ABI/stable/
 * sysfs-devices-node), every NIC (/sys/class/net) and NVMe controller
 * (/sys/class/nvme) with a PCI function above it: its numa_node and its
 * interrupt lines (/sys/bus/pci/devices/X/msi_irqs, else X/irq;
 * Documentation/ABI/testing/sysfs-bus-pci), their per-CPU counts and names
 * (/proc/interrupts) and the CPUs that serve them
 * (/proc/irq/N/effective_affinity_list, Documentation/core-api/irq/
 * irq-affinity.rst); and a process named irqbalance (/proc/PID/comm).
 */
#define _GNU_SOURCE
#include "numa.h"
#include "collector.h"
#include "facts.h"
#include "interrupts.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int np_cpulist_parse(const char *s, unsigned **cpus, size_t *n)
{
	*cpus = NULL;
	*n = 0;
	size_t len = strlen(s);
	while (len && (s[len - 1] == '\n' || s[len - 1] == ' '))
		len--;
	if (!len)
		return 0;
	_cleanup_free_ unsigned *v = NULL;
	size_t cnt = 0, cap = 0;
	unsigned last = 0;
	for (size_t i = 0; i < len;) {
		unsigned a, b;
		int used = 0;
		if (!isdigit((unsigned char)s[i]))
			return -EINVAL;
		uint64_t x = 0;
		for (; i < len && isdigit((unsigned char)s[i]); i++, used++)
			if ((x = x * 10 + (uint64_t)(s[i] - '0')) > NP_CPULIST_MAX)
				return -ERANGE;
		a = b = (unsigned)x;
		if (i < len && s[i] == '-') {
			i++;
			if (i >= len || !isdigit((unsigned char)s[i]))
				return -EINVAL;
			for (x = 0; i < len && isdigit((unsigned char)s[i]); i++)
				if ((x = x * 10 + (uint64_t)(s[i] - '0')) > NP_CPULIST_MAX)
					return -ERANGE;
			b = (unsigned)x;
		}
		if (b < a || (cnt && a <= last))
			return -EINVAL; /* ranges ascend and do not overlap, as the kernel prints them */
		if (i < len && (s[i] != ',' || i + 1 == len))
			return -EINVAL;
		i += i < len;
		if (cnt + (b - a + 1) > cap) {
			cap = cnt + (b - a + 1) + 16;
			unsigned *nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				return -ENOMEM;
			v = nv;
		}
		for (unsigned c = a; c <= b; c++)
			v[cnt++] = c;
		last = b;
		(void)used;
	}
	*cpus = TAKE_PTR(v);
	*n = cnt;
	return 0;
}

static bool is_bdf(const char *p, size_t n)
{
	unsigned d, b, s, f;
	int used = 0;
	char buf[32];
	if (n != 12 || n >= sizeof(buf))
		return false;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return sscanf(buf, "%4x:%2x:%2x.%1x%n", &d, &b, &s, &f, &used) == 4 && used == 12 && buf[4] == ':' &&
	       buf[7] == ':' && buf[10] == '.';
}

int np_pci_bdf_in_path(const char *path, char **bdf)
{
	const char *found = NULL;
	*bdf = NULL;
	for (const char *p = path; p && *p;) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (is_bdf(p, n))
			found = p;
		p = end ? end + 1 : NULL;
	}
	if (!found)
		return 0;
	*bdf = strndup(found, 12);
	return *bdf ? 1 : -ENOMEM;
}

/* cpu -> node, -1 when unknown */
struct cpumap {
	int *node;
	size_t n;
};

static int collect_nodes(struct np_facts *fx, const struct np_host *h, struct np_numa *s, struct cpumap *m)
{
	char **names = NULL;
	size_t n = 0;
	int r = np_facts_list(fx, h, "/sys/devices/system/node", &names, &n);
	if (r < 0)
		return r;
	s->nodes = calloc(n ? n : 1, sizeof(*s->nodes));
	if (!s->nodes)
		r = -ENOMEM;
	for (size_t i = 0; r >= 0 && i < n; i++) {
		unsigned id;
		int used = 0;
		if (sscanf(names[i], "node%u%n", &id, &used) != 1 || names[i][used])
			continue;
		struct np_numa_node *nd = &s->nodes[s->n_nodes];
		int k = np_facts_attr(fx, h, &nd->cpulist, "/sys/devices/system/node/%s/cpulist", names[i]);
		if (k == -ENOMEM) {
			r = k;
			break;
		}
		if (!nd->cpulist && !(nd->cpulist = strdup("")))
			r = -ENOMEM;
		nd->id = id;
		s->n_nodes++;
		_cleanup_free_ unsigned *cpus = NULL;
		size_t nc = 0;
		int pr = np_cpulist_parse(nd->cpulist, &cpus, &nc);
		if (pr < 0) {
			np_status_set(&s->status, pr, "node%u/cpulist: not a CPU list: %.40s", id, nd->cpulist);
			continue;
		}
		for (size_t c = 0; r >= 0 && c < nc; c++) {
			if (cpus[c] >= m->n) {
				size_t nn = cpus[c] + 1;
				int *nv = realloc(m->node, nn * sizeof(*nv));
				if (!nv) {
					r = -ENOMEM;
					break;
				}
				for (size_t z = m->n; z < nn; z++)
					nv[z] = -1;
				m->node = nv;
				m->n = nn;
			}
			m->node[cpus[c]] = (int)id;
		}
	}
	np_strv_free(names);
	return r;
}

static int cpu_node(const struct cpumap *m, unsigned cpu)
{
	return cpu < m->n ? m->node[cpu] : -1;
}

/* The device's IRQ numbers: its MSI/MSI-X vectors, else its legacy INTx line. */
static int device_irqs(const struct np_host *h, const char *bdf, unsigned **out, size_t *n)
{
	char **names = NULL;
	size_t k = 0;
	*out = NULL;
	*n = 0;
	_cleanup_free_ char *dir = np_asprintf("/sys/bus/pci/devices/%s/msi_irqs", bdf);
	if (!dir)
		return -ENOMEM;
	if (np_host_list(h, dir, &names, &k) < 0 || k == 0) {
		np_strv_free(names);
		_cleanup_free_ char *p = np_asprintf("/sys/bus/pci/devices/%s/irq", bdf);
		uint64_t irq;
		if (!p)
			return -ENOMEM;
		if (np_host_read_u64(h, p, &irq) < 0 || irq == 0 || irq > UINT_MAX)
			return 0;
		*out = malloc(sizeof(**out));
		if (!*out)
			return -ENOMEM;
		(*out)[(*n)++] = (unsigned)irq;
		return 0;
	}
	*out = calloc(k, sizeof(**out));
	for (size_t i = 0; *out && i < k; i++) {
		uint64_t x;
		if (np_parse_dec(names[i], UINT_MAX, &x) >= 0)
			(*out)[(*n)++] = (unsigned)x;
	}
	np_strv_free(names);
	return *out ? 0 : -ENOMEM;
}

/*
 * nvme_core names queue N of controller C "nvmeCqN" (drivers/nvme/host/pci.c
 * queue_request_irq(): "nvme%dq%d"); queue 0 is the admin queue.
 */
static bool is_admin_queue(const char *name)
{
	unsigned c, q;
	int end = 0;
	return name && sscanf(name, "nvme%uq%u%n", &c, &q, &end) == 2 && !name[end] && q == 0;
}

static int fill_irq(const struct np_host *h, const struct np_irq_table *t, const struct cpumap *m, int node,
		    struct np_numa_dev *d, unsigned irq)
{
	struct np_numa_irq *q = &d->irqs[d->nirqs++];
	*q = (struct np_numa_irq){ .irq = irq, .remote = -1 };
	const struct np_irq_line *l = np_irq_table_find(t, irq);
	if (l) {
		if (l->action && !(q->name = strdup(l->action)))
			return -ENOMEM;
		q->admin_queue = streq(d->kind, "nvme") && is_admin_queue(q->name);
		q->count = l->total;
		for (size_t c = 0; node >= 0 && c < l->ncounts && c < t->ncpus; c++) {
			int cn = cpu_node(m, t->cpu_ids[c]);
			if (cn >= 0 && cn != node)
				q->count_remote += l->per_cpu[c];
		}
	}
	int r = np_host_attr(h, &q->effective, "/proc/irq/%u/effective_affinity_list", irq);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		np_status_set(&d->status, r, "/proc/irq/%u/effective_affinity_list: %s", irq, np_errno_reason(-r));
	_cleanup_free_ unsigned *cpus = NULL;
	size_t nc = 0;
	if (node < 0 || !q->effective || np_cpulist_parse(q->effective, &cpus, &nc) < 0 || !nc)
		return 0;
	q->remote = 1;
	for (size_t c = 0; c < nc; c++) {
		int cn = cpu_node(m, cpus[c]);
		if (cn < 0) {
			q->remote = -1;
			break;
		}
		if (cn == node)
			q->remote = 0;
	}
	return 0;
}

static void shares(struct np_numa_dev *d)
{
	uint64_t served = 0, remote = 0, weighted = 0, weight_remote = 0, lines = 0, lines_remote = 0;
	for (size_t k = 0; k < d->nirqs; k++) {
		const struct np_numa_irq *q = &d->irqs[k];
		d->interrupts += q->count;
		if (q->admin_queue)
			continue; /* the agent's own SMART polls land there: not the data path's locality */
		served += q->count;
		remote += q->count_remote;
		if (q->remote < 0)
			continue;
		weighted += q->count;
		weight_remote += q->remote ? q->count : 0;
		lines++;
		lines_remote += (uint64_t)q->remote;
	}
	d->served_remote_percent = d->numa_node >= 0 && served ? 100.0 * (double)remote / (double)served : -1;
	if (!lines)
		d->remote_percent = -1;
	else if (weighted)
		d->remote_percent = 100.0 * (double)weight_remote / (double)weighted;
	else
		d->remote_percent = 100.0 * (double)lines_remote / (double)lines;
}

static int collect_dev(struct np_facts *fx, const struct np_host *h, const struct np_irq_table *t,
		       const struct cpumap *m, const char *cls, const char *name, const char *kind, struct np_numa *s)
{
	_cleanup_free_ char *link = np_asprintf("/sys/class/%s/%s", cls, name), *target = NULL, *bdf = NULL;
	if (!link)
		return -ENOMEM;
	if (np_facts_readlink(fx, h, link, &target) < 0)
		return 0;
	int r = np_pci_bdf_in_path(target, &bdf);
	if (r <= 0)
		return r; /* no PCI function: a virtual interface, a fabrics controller */
	struct np_numa_dev *d = &s->devs[s->n_devs];
	*d = (struct np_numa_dev){ .numa_node = -1, .remote_percent = -1, .served_remote_percent = -1 };
	s->n_devs++;
	d->name = strdup(name);
	d->kind = strdup(kind);
	d->pci = TAKE_PTR(bdf);
	if (!d->name || !d->kind)
		return -ENOMEM;
	_cleanup_free_ char *p = np_asprintf("/sys/bus/pci/devices/%s/numa_node", d->pci);
	int64_t node;
	if (!p)
		return -ENOMEM;
	r = np_facts_read_s64(fx, h, p, &node);
	if (r < 0 && r != -ENOENT)
		np_status_set(&d->status, r, "%s: %s", p, np_errno_reason(-r));
	else if (r >= 0 && node >= 0 && node <= INT_MAX)
		d->numa_node = node;
	_cleanup_free_ unsigned *irqs = NULL;
	size_t n = 0;
	r = device_irqs(h, d->pci, &irqs, &n);
	if (r < 0)
		return r;
	d->irqs = calloc(n ? n : 1, sizeof(*d->irqs));
	if (!d->irqs)
		return -ENOMEM;
	for (size_t k = 0; r >= 0 && k < n; k++)
		r = fill_irq(h, t, m, (int)d->numa_node, d, irqs[k]);
	shares(d);
	return r;
}

static int collect_class(struct np_facts *fx, const struct np_host *h, const struct np_irq_table *t,
			 const struct cpumap *m, const char *cls, const char *kind, struct np_numa *s)
{
	char **names = NULL;
	size_t n = 0;
	_cleanup_free_ char *dir = np_asprintf("/sys/class/%s", cls);
	if (!dir)
		return -ENOMEM;
	if (np_facts_list(fx, h, dir, &names, &n) < 0)
		return 0; /* no such class: no NIC or no NVMe driver loaded */
	struct np_numa_dev *nd = realloc(s->devs, (s->n_devs + n + 1) * sizeof(*nd));
	int r = nd ? 0 : -ENOMEM;
	if (nd)
		s->devs = nd;
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = collect_dev(fx, h, t, m, cls, names[i], kind, s);
	np_strv_free(names);
	return r;
}

static void find_irqbalance(const struct np_host *h, struct np_numa *s)
{
	char **names = NULL;
	size_t n = 0;
	s->irqbalance_pid = -1;
	if (np_host_list(h, "/proc", &names, &n) < 0)
		return;
	s->irqbalance_known = true;
	for (size_t i = 0; i < n && s->irqbalance_pid < 0; i++) {
		uint64_t pid;
		_cleanup_free_ char *comm = NULL;
		if (np_parse_dec(names[i], INT_MAX, &pid) < 0)
			continue;
		if (np_host_attr(h, &comm, "/proc/%s/comm", names[i]) > 0 && streq(comm, "irqbalance"))
			s->irqbalance_pid = (int64_t)pid;
	}
	np_strv_free(names);
}

/*
 * What the agent keeps across cycles: the irqbalance it found, and when it last looked at every
 * process. Reading the comm of every process each cycle was a sixth of a warm cycle; now a running
 * irqbalance is checked by its pid each cycle, and a missing one is looked for again at least every
 * facts bound (ctx->facts_max_age_s, facts.h).
 */
struct numa_state {
	bool scanned;
	int64_t pid, at_ms;
	struct np_facts *fx; /* the nodes' CPUs, the devices' PCI functions and NUMA nodes (facts.h) */
};

static void numa_state_free(void *state)
{
	struct numa_state *k = state;
	np_facts_free(k->fx);
	free(k);
}

static void *numa_state_new(const struct np_collect_ctx *ctx)
{
	(void)ctx;
	struct numa_state *k = calloc(1, sizeof(*k));
	if (k && !(k->fx = np_facts_new())) {
		free(k);
		return NULL;
	}
	return k;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void irqbalance(const struct np_collect_ctx *ctx, struct np_numa *s)
{
	struct numa_state *k = np_collect_state(ctx, "numa");
	int64_t now = mono_ms();
	double age = ctx->facts_max_age_s ? ctx->facts_max_age_s : NP_FACTS_MAX_AGE_S;
	if (k && k->scanned && k->pid >= 0) {
		_cleanup_free_ char *comm = NULL;
		if (np_host_attr(ctx->host, &comm, "/proc/%lld/comm", (long long)k->pid) > 0 && streq(comm, "irqbalance")) {
			s->irqbalance_known = true;
			s->irqbalance_pid = k->pid;
			return;
		}
	} else if (k && k->scanned && (double)(now - k->at_ms) < age * 1000) {
		s->irqbalance_known = true;
		s->irqbalance_pid = -1;
		return;
	}
	find_irqbalance(ctx->host, s);
	if (k) {
		k->scanned = s->irqbalance_known;
		k->pid = s->irqbalance_pid;
		k->at_ms = now;
	}
}

static int collect_numa(const struct np_collect_ctx *ctx, struct np_report *rep)
{
	const struct np_host *h = ctx->host;
	struct np_numa *s = &rep->numa;
	struct cpumap m = { 0 };
	struct np_irq_table own;
	const struct np_irq_table *t;
	struct numa_state *kept = np_collect_state(ctx, "numa");
	struct np_facts *fx = np_facts_begin(kept ? kept->fx : NULL, ctx);
	int r = collect_nodes(fx, h, s, &m);
	if (r == -ENOENT) /* a kernel without CONFIG_NUMA: one node, nothing is remote */
		r = 0;
	int k = np_collect_interrupts(ctx, &own, &t); /* read once per pass with net */
	if (k < 0 && r >= 0)
		np_status_set(&s->status, k, "/proc/interrupts: %s", k == -EINVAL ? "not understood" : np_errno_reason(-k));
	if (r >= 0)
		r = collect_class(fx, h, t, &m, "net", "nic", s);
	if (r >= 0)
		r = collect_class(fx, h, t, &m, "nvme", "nvme", s);
	irqbalance(ctx, s);
	np_irq_table_free(&own);
	free(m.node);
	return r;
}

/* A reloaded policy changes nothing numa keeps: the facts' bound is read at each collect. */
static void numa_state_reload(void *state, const struct np_collect_ctx *ctx)
{
	(void)state;
	(void)ctx;
}

NP_SECTION_STATEFUL(numa, 45, 35, collect_numa, NULL, numa_state_new, numa_state_reload, numa_state_free);
