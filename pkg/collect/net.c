// SPDX-License-Identifier: Apache-2.0
/*
 * net.c - network interfaces backed by a device: sysfs (Documentation/ABI/
 * testing/sysfs-class-net, sysfs-class-net-statistics, sysfs-class-net-queues),
 * the ethtool ioctl (include/uapi/linux/ethtool.h: ETHTOOL_GDRVINFO,
 * ETHTOOL_GLINKSETTINGS, ETHTOOL_GSSET_INFO/GSTRINGS/GFEATURES) when the host
 * root is this kernel, /proc/interrupts and /proc/stat (proc(5)); on the live
 * root, the counters of an interface that rtnetlink shows with the same
 * ifindex, name and address come from one RTM_GETLINK dump (netlink.h).
 */
#define _GNU_SOURCE
#include "net.h"
#include "collector.h"
#include "facts.h"
#include "netlink.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <assert.h>
#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <net/if.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/sockios.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/vfs.h>
#include <unistd.h>

/* Most feature strings we accept from ETHTOOL_GSSET_INFO (Linux has ~70). */
#define NP_MAX_FEATURES 4096u

int np_ethtool_string(const char *field, size_t width, char **out)
{
	char *s = np_strndup_field(field, width);
	if (!s)
		return -ENOMEM;
	if (!*s || streq(s, "N/A")) {
		free(s);
		s = NULL;
	}
	*out = s;
	return 0;
}

static int set_field(char **dst, const char *field, size_t width)
{
	char *v;
	int r = np_ethtool_string(field, width, &v);
	if (r < 0)
		return r;
	free(*dst);
	*dst = v;
	return 0;
}

int np_ethtool_drvinfo_fill(const struct ethtool_drvinfo *di, const char *kernel_release,
			    struct np_net_if *nic)
{
	_cleanup_free_ char *drv = NULL;
	int r = np_ethtool_string(di->driver, sizeof(di->driver), &drv);
	if (r < 0)
		return r;
	if (drv) {
		free(nic->driver);
		nic->driver = TAKE_PTR(drv);
	}
	if ((r = set_field(&nic->driver_version, di->version, sizeof(di->version))) < 0 ||
	    (r = set_field(&nic->firmware_version, di->fw_version, sizeof(di->fw_version))) < 0 ||
	    (r = set_field(&nic->bus_info, di->bus_info, sizeof(di->bus_info))) < 0)
		return r;
	nic->driver_version_is_kernel_release = nic->driver_version && kernel_release &&
						streq(nic->driver_version, kernel_release);
	return 0;
}

const char *np_ethtool_feature_state(const struct ethtool_get_features_block *blocks,
				     size_t nblocks, size_t idx)
{
	if (idx / 32 >= nblocks)
		return NULL;
	const struct ethtool_get_features_block *b = &blocks[idx / 32];
	uint32_t bit = 1u << (idx % 32);
	bool active = b->active & bit, requested = b->requested & bit;
	if (!(b->available & bit) || (b->never_changed & bit))
		return active ? "on [fixed]" : "off [fixed]";
	if (requested != active)
		return active ? "on [requested off]" : "off [requested on]";
	return active ? "on" : "off";
}

int np_ethtool_features_fill(const char *strings, size_t n,
			     const struct ethtool_get_features_block *blocks, size_t nblocks,
			     struct np_net_if *nic)
{
	if (n > NP_MAX_FEATURES || (n + 31) / 32 > nblocks)
		return -EINVAL;
	struct np_net_feature *f = calloc(n ? n : 1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	size_t k = 0;
	int r = 0;
	for (size_t i = 0; i < n && r == 0; i++) {
		char *name;
		r = np_ethtool_string(strings + i * ETH_GSTRING_LEN, ETH_GSTRING_LEN, &name);
		if (r < 0 || !name)
			continue;
		f[k].name = name;
		f[k].state = strdup(np_ethtool_feature_state(blocks, nblocks, i));
		if (!f[k++].state)
			r = -ENOMEM;
	}
	if (r < 0) {
		for (size_t i = 0; i < k; i++) {
			free(f[i].name);
			free(f[i].state);
		}
		free(f);
		return r;
	}
	nic->features = f;
	nic->nfeatures = k;
	return 0;
}

/* @name occurs in @s as a whole word: not preceded nor followed by [A-Za-z0-9_.]. */
static bool has_word(const char *s, const char *name)
{
	size_t n = strlen(name);
	if (!n)
		return false;
	for (const char *p = s; (p = strstr(p, name)); p++) {
		bool left = p == s || !(isalnum((unsigned char)p[-1]) || p[-1] == '_');
		char c = p[n];
		bool right = !(isalnum((unsigned char)c) || c == '_' || c == '.' || c == ':');
		if (left && right)
			return true;
	}
	return false;
}

bool np_net_irq_names(const struct np_irq_line *l, const char *ifname)
{
	return l->desc && ifname && has_word(l->desc, ifname);
}

static int cmp_unsigned(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
	return x < y ? -1 : x > y;
}

bool np_net_irq_of_device(const struct np_irq_line *l, const char *pci, const unsigned *msi,
			  size_t nmsi)
{
	uint64_t num;
	if (np_parse_u64(l->irq, &num) < 0)
		return false; /* NMI, LOC, ERR...: not a device line */
	if (nmsi && num <= UINT_MAX) {
		unsigned key = (unsigned)num;
		if (bsearch(&key, msi, nmsi, sizeof(*msi), cmp_unsigned))
			return true;
	}
	return pci && l->desc && has_word(l->desc, pci);
}

/* @l of table @t, its counts shared with the table (a reference to its block), not copied */
static int copy_irq(struct np_net_irq *q, const struct np_irq_line *l, const struct np_irq_table *t)
{
	q->irq = strdup(l->irq);
	q->name = l->action ? strdup(l->action) : NULL;
	if (!q->irq || (l->action && !q->name))
		return -ENOMEM;
	q->counts = np_u64_block_ref(t->counts);
	q->per_cpu = l->per_cpu;
	q->ncpu = t->ncpus;
	q->total = l->total;
	return 0;
}

static int add_irq(struct np_net_if *nic, size_t *cap, const struct np_irq_line *l, const struct np_irq_table *t)
{
	if (nic->nirqs == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		struct np_net_irq *v = realloc(nic->irqs, nc * sizeof(*v));
		if (!v)
			return -ENOMEM;
		nic->irqs = v;
		*cap = nc;
	}
	struct np_net_irq *q = &nic->irqs[nic->nirqs++];
	*q = (struct np_net_irq){ 0 };
	return copy_irq(q, l, t);
}

/* Busiest CPU and its share over the interface's lines. */
static int irq_skew(struct np_net_if *nic, const struct np_irq_table *t)
{
	nic->irq_skew_percent = -1;
	nic->irq_busiest_cpu = -1;
	if (!t->ncpus)
		return 0;
	_cleanup_free_ uint64_t *sum = calloc(t->ncpus, sizeof(*sum));
	if (!sum)
		return -ENOMEM;
	for (size_t i = 0; i < nic->nirqs; i++)
		for (size_t c = 0; c < t->ncpus; c++)
			sum[c] += nic->irqs[i].per_cpu[c];
	long double total = 0;
	size_t best = 0;
	for (size_t c = 0; c < t->ncpus; c++) {
		total += sum[c];
		if (sum[c] > sum[best])
			best = c;
	}
	if (total > 0) {
		nic->irq_skew_percent = (double)(sum[best] * 100.0L / total);
		nic->irq_busiest_cpu = t->cpu_ids[best];
	}
	return 0;
}

/*
 * Whole-word lookup of many words in one text, as has_word() for each word but linear: the
 * words sorted by (length, bytes), and at each place of the text where a word may start, one
 * bisection per distinct length. 4,096 lines x 64 interfaces was 262,144 strstr() scans.
 */
struct word {
	const char *w;
	size_t len, k; /* k: the interface it stands for */
};

static int cmp_word(const void *a, const void *b)
{
	const struct word *x = a, *y = b;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->w, y->w, x->len);
}

static bool word_char_left(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

static bool word_char_right(char c)
{
	return word_char_left(c) || c == '.' || c == ':';
}

struct stamps {
	size_t *at; /* per interface: the 1-based line that last marked it */
	size_t *hit, nhit;
};

static void mark(struct stamps *m, size_t k, size_t line)
{
	if (m->at[k] == line)
		return;
	m->at[k] = line;
	m->hit[m->nhit++] = k;
}

/* Sorted words of one kind, and which bytes one of them starts with. */
struct words {
	struct word *v;
	size_t n;
	uint64_t first[256 / 64];
};

/*
 * Mark (for @line) each interface whose word of @w is a whole word of @text. A place whose byte
 * starts no word is passed over before any bisection: most of a line's places.
 */
static void mark_words(const struct words *w, const char *text, struct stamps *m, size_t line)
{
	const struct word *v = w->v;
	size_t n = w->n, tl = strlen(text);
	for (size_t i = 0; i < tl; i++) {
		unsigned char c = (unsigned char)text[i];
		if (!(w->first[c / 64] & (1ULL << (c % 64))) || (i && word_char_left(text[i - 1])))
			continue;
		for (size_t g = 0; g < n;) { /* one group of words per length */
			size_t len = v[g].len, end = g;
			while (end < n && v[end].len == len)
				end++;
			if (i + len <= tl && !word_char_right(text[i + len])) {
				struct word key = { .w = text + i, .len = len };
				const struct word *hit = bsearch(&key, v + g, end - g, sizeof(*v), cmp_word);
				for (const struct word *h = hit; h && h > v + g && !cmp_word(h - 1, &key);)
					hit = --h; /* the first of equal words */
				for (; hit && hit < v + end && !cmp_word(hit, &key); hit++)
					mark(m, hit->k, line);
			}
			g = end;
		}
	}
}

struct irq_owner {
	unsigned irq;
	size_t k;
};

static int cmp_owner(const void *a, const void *b)
{
	const struct irq_owner *x = a, *y = b;
	return x->irq != y->irq ? (x->irq < y->irq ? -1 : 1) : (x->k > y->k) - (x->k < y->k);
}

/* Cleanup of a struct words: its array (words_of()). */
static void words_done(struct words *w)
{
	free(w->v);
}

/* Sorted words of one kind into @out: interface names (@pci false) or PCI addresses. Returns 0 or -ENOMEM. */
static int words_of(const struct np_net *s, bool pci, struct words *out)
{
	struct word *v = calloc(s->n ? s->n : 1, sizeof(*v));
	*out = (struct words){ .v = v };
	if (!v)
		return -ENOMEM;
	for (size_t k = 0; k < s->n; k++) {
		const char *w = pci ? s->ifs[k].pci_address : s->ifs[k].name;
		if (!w || !*w)
			continue;
		unsigned char c = (unsigned char)*w;
		out->first[c / 64] |= 1ULL << (c % 64);
		v[out->n++] = (struct word){ .w = w, .len = strlen(w), .k = k };
	}
	qsort(v, out->n, sizeof(*v), cmp_word);
	return 0;
}

/* Every interface's MSI numbers, sorted by number. */
static struct irq_owner *owners_of(const struct np_net *s, const struct np_net_msi *msi, size_t *n)
{
	size_t total = 0;
	for (size_t k = 0; msi && k < s->n; k++)
		total += msi[k].n;
	struct irq_owner *v = calloc(total ? total : 1, sizeof(*v));
	*n = 0;
	for (size_t k = 0; v && msi && k < s->n; k++)
		for (size_t i = 0; i < msi[k].n; i++)
			v[(*n)++] = (struct irq_owner){ .irq = msi[k].irq[i], .k = k };
	if (v)
		qsort(v, *n, sizeof(*v), cmp_owner);
	return v;
}

int np_net_attach_irqs(struct np_net *s, const struct np_irq_table *t, const struct np_net_msi *msi)
{
	size_t no;
	_cleanup_(words_done) struct words names = { 0 }, pcis = { 0 };
	int wr = words_of(s, false, &names), wp = words_of(s, true, &pcis);
	_cleanup_free_ size_t *cap = calloc(s->n ? s->n : 1, sizeof(*cap));
	_cleanup_free_ size_t *at = calloc(s->n ? s->n : 1, sizeof(*at));
	_cleanup_free_ size_t *hit = calloc(s->n ? s->n : 1, sizeof(*hit));
	_cleanup_free_ struct irq_owner *owners = owners_of(s, msi, &no);
	if (!cap || !at || !hit || wr < 0 || wp < 0 || !owners)
		return -ENOMEM;
	struct stamps m = { .at = at, .hit = hit };
	for (size_t i = 0; i < t->nlines; i++) {
		const struct np_irq_line *l = &t->lines[i];
		m.nhit = 0;
		if (l->desc)
			mark_words(&names, l->desc, &m, i + 1); /* np_net_irq_names() */
		uint64_t num;
		if (!m.nhit && np_parse_u64(l->irq, &num) >= 0) { /* np_net_irq_of_device() */
			struct irq_owner key = { .irq = (unsigned)num };
			size_t lo = 0, hi = no;
			while (num <= UINT_MAX && lo < hi) { /* the first owner of the number */
				size_t mid = lo + (hi - lo) / 2;
				if (owners[mid].irq < key.irq)
					lo = mid + 1;
				else
					hi = mid;
			}
			for (; num <= UINT_MAX && lo < no && owners[lo].irq == key.irq; lo++)
				mark(&m, owners[lo].k, i + 1);
			if (l->desc)
				mark_words(&pcis, l->desc, &m, i + 1);
		}
		for (size_t h = 0; h < m.nhit; h++) {
			size_t k = m.hit[h];
			int r = add_irq(&s->ifs[k], &cap[k], l, t);
			if (r < 0)
				return r;
		}
	}
	for (size_t k = 0; k < s->n; k++) {
		int r = irq_skew(&s->ifs[k], t);
		if (r < 0)
			return r;
	}
	return 0;
}

int np_net_softirq_fill(struct np_net *s, const struct np_cpu_sample *c, size_t n)
{
	size_t ncpu = 0;
	for (size_t i = 0; i < n; i++)
		if (c[i].cpu + 1 > ncpu)
			ncpu = c[i].cpu + 1;
	double *v = malloc((ncpu ? ncpu : 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < ncpu; i++)
		v[i] = -1;
	for (size_t i = 0; i < n; i++)
		v[c[i].cpu] = np_softirq_percent(c[i].softirq, c[i].total);
	free(s->softirq_percent);
	s->softirq_percent = v;
	s->ncpu = ncpu;
	return 0;
}

static const struct np_cpu_sample *find_cpu(const struct np_cpu_sample *c, size_t n, unsigned cpu)
{
	for (size_t i = 0; i < n; i++)
		if (c[i].cpu == cpu)
			return &c[i];
	return NULL;
}

static int softirq_rates(struct np_net *s, const struct np_cpu_sample *c, size_t n)
{
	double *v = malloc((s->ncpu ? s->ncpu : 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < s->ncpu; i++) {
		const struct np_cpu_sample *a = find_cpu(s->cpu_raw, s->ncpu_raw, (unsigned)i);
		const struct np_cpu_sample *b = find_cpu(c, n, (unsigned)i);
		v[i] = -1;
		if (a && b && b->softirq >= a->softirq && b->total > a->total)
			v[i] = np_softirq_percent(b->softirq - a->softirq, b->total - a->total);
	}
	free(s->softirq_interval_percent);
	s->softirq_interval_percent = v;
	return 0;
}

struct irq_ref {
	uint64_t num;
	const struct np_irq_line *line;
};

static int cmp_ref(const void *a, const void *b)
{
	uint64_t x = ((const struct irq_ref *)a)->num, y = ((const struct irq_ref *)b)->num;
	return x < y ? -1 : x > y;
}

/* Interval figures of one interface; @sum has t->ncpus zeroed slots. */
static void nic_rates(struct np_net_if *nic, const struct np_irq_table *t, const struct irq_ref *idx,
		      size_t nidx, uint64_t *sum, double interval_s)
{
	nic->rate_irqs_per_s = nic->rate_irq_skew_percent = -1;
	nic->rate_irq_busiest_cpu = -1;
	for (size_t i = 0; i < nic->nirqs; i++) {
		const struct np_net_irq *q = &nic->irqs[i];
		struct irq_ref key = { 0 }, *hit;
		if (q->ncpu != t->ncpus || np_parse_u64(q->irq, &key.num) < 0 ||
		    !(hit = bsearch(&key, idx, nidx, sizeof(*idx), cmp_ref)) ||
		    hit->line->ncounts > q->ncpu)
			return;
		for (size_t c = 0; c < hit->line->ncounts; c++) {
			if (hit->line->per_cpu[c] < q->per_cpu[c])
				return; /* went backwards: no honest figure */
			sum[c] += hit->line->per_cpu[c] - q->per_cpu[c];
		}
	}
	uint64_t total = 0;
	size_t best = 0;
	for (size_t c = 0; c < t->ncpus; c++) {
		total += sum[c];
		if (sum[c] > sum[best])
			best = c;
	}
	nic->rate_irqs_per_s = (double)total / interval_s;
	if (total > 0) {
		nic->rate_irq_skew_percent = (double)sum[best] * 100.0 / (double)total;
		nic->rate_irq_busiest_cpu = t->cpu_ids[best];
	}
}

int np_net_rates(struct np_net *s, const struct np_irq_table *t, const struct np_cpu_sample *c,
		 size_t n, double interval_s)
{
	s->interval_s = interval_s;
	int r = softirq_rates(s, c, n);
	if (r < 0)
		return r;
	_cleanup_free_ struct irq_ref *idx = calloc(t->nlines ? t->nlines : 1, sizeof(*idx));
	_cleanup_free_ uint64_t *sum = calloc(t->ncpus ? t->ncpus : 1, sizeof(*sum));
	if (!idx || !sum)
		return -ENOMEM;
	size_t nidx = 0;
	for (size_t i = 0; i < t->nlines; i++)
		if (np_parse_u64(t->lines[i].irq, &idx[nidx].num) >= 0)
			idx[nidx++].line = &t->lines[i];
	qsort(idx, nidx, sizeof(*idx), cmp_ref);
	for (size_t k = 0; k < s->n; k++) {
		memset(sum, 0, (t->ncpus ? t->ncpus : 1) * sizeof(*sum));
		nic_rates(&s->ifs[k], t, idx, nidx, sum, interval_s);
	}
	return 0;
}

/* ---- sysfs ---- */

/* Join @base (absolute folder) and a symlink @target, resolving "." and "..". Malloc'd or NULL. */
static char *path_resolve(const char *base, const char *target)
{
	_cleanup_free_ char *cat = target[0] == '/' ? strdup(target) : np_asprintf("%s/%s", base, target);
	if (!cat)
		return NULL;
	char *out = malloc(strlen(cat) + 2);
	if (!out)
		return NULL;
	size_t w = 0;
	char *save = NULL;
	for (char *c = strtok_r(cat, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (streq(c, "."))
			continue;
		if (streq(c, "..")) {
			while (w > 0 && out[w - 1] != '/')
				w--;
			if (w > 0)
				w--;
			continue;
		}
		out[w++] = '/';
		size_t n = strlen(c);
		memcpy(out + w, c, n);
		w += n;
	}
	if (w == 0)
		out[w++] = '/';
	out[w] = '\0';
	return out;
}

/* Host path @path with its last component's symlink followed once (path itself when not a link). */
static char *follow(struct np_facts *fx, const struct np_host *h, const char *path)
{
	_cleanup_free_ char *t = NULL;
	if (np_facts_readlink(fx, h, path, &t) < 0)
		return strdup(path);
	_cleanup_free_ char *dir = strdup(path);
	if (!dir)
		return NULL;
	char *slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	return path_resolve(dir, t);
}

/* "0x1af4\n" -> "1af4" (lower case), NULL when absent or malformed. */
static char *read_id(struct np_facts *fx, const struct np_host *h, const char *dir, const char *attr)
{
	_cleanup_free_ char *p = np_asprintf("%s/%s", dir, attr), *v = NULL;
	if (!p || np_facts_read_line(fx, h, p, &v) < 0)
		return NULL;
	const char *s = np_startswith(v, "0x") ? v + 2 : v;
	if (!*s || strspn(s, "0123456789abcdefABCDEF") != strlen(s))
		return NULL;
	char *r = strdup(s);
	for (char *c = r; c && *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return r;
}

/* Walk up from the device folder to the PCI device (subsystem "pci"); malloc'd path or NULL. */
static char *find_pci_dir(struct np_facts *fx, const struct np_host *h, const char *devdir)
{
	_cleanup_free_ char *p = strdup(devdir);
	while (p && np_startswith(p, "/sys/devices/") && strlen(p) > strlen("/sys/devices/")) {
		_cleanup_free_ char *sub = np_asprintf("%s/subsystem", p), *bn = NULL;
		if (sub && np_facts_link_basename(fx, h, sub, &bn) >= 0 && streq(bn, "pci"))
			return TAKE_PTR(p);
		*strrchr(p, '/') = '\0';
	}
	return NULL;
}

static int64_t read_s64_or(struct np_facts *fx, const struct np_host *h, const char *dir, const char *attr,
			   int64_t dflt)
{
	_cleanup_free_ char *p = np_asprintf("%s/%s", dir, attr);
	int64_t v;
	if (!p || np_facts_read_s64(fx, h, p, &v) < 0)
		return dflt;
	return v;
}

static char *read_str(const struct np_host *h, const char *dir, const char *attr)
{
	char *v = NULL;
	np_host_attr(h, &v, "%s/%s", dir, attr);
	return v;
}

const struct np_rtnl_link *np_net_rtnl_link(const struct np_rtnl_links *rl, const char *name, int64_t ifindex,
					     const char *sysfs_address)
{
	const struct np_rtnl_link *k = rl && sysfs_address ? np_rtnl_find(rl, name) : NULL;
	if (!k || ifindex <= 0 || k->ifindex != ifindex || !np_rtnl_addr_matches(k, sysfs_address))
		return NULL;
	return k;
}

/*
 * The counters every cycle; which counters there are is a fact. Each one from @k (NULL: none) when
 * it has it, else from its file.
 */
static int read_stats(struct np_facts *fx, const struct np_host *h, const char *ifdir,
		      const struct np_rtnl_link *link, struct np_net_if *nic)
{
	_cleanup_free_ char *dir = np_asprintf("%s/statistics", ifdir);
	char **names = NULL;
	size_t n = 0;
	if (!dir)
		return -ENOMEM;
	int r = np_facts_list(fx, h, dir, &names, &n);
	if (r < 0) {
		np_status_set(&nic->status, r, "%s/statistics: %s", nic->name, np_errno_reason(r));
		return 0;
	}
	nic->stats = calloc(n ? n : 1, sizeof(*nic->stats));
	_cleanup_(np_dir_close) struct np_dir sd = { .fd = -1 }; /* one walk to the folder, then one name each */
	bool opened = false;
	for (size_t i = 0; nic->stats && i < n; i++) {
		uint64_t v;
		int k = link ? np_rtnl_stat(link, names[i], &v) : -ENOENT;
		if (k < 0 && !opened) {
			opened = true;
			if (np_dir_open(h, dir, &sd) == -ENOMEM) {
				np_strv_free(names);
				return -ENOMEM;
			}
		}
		if (k < 0)
			k = np_dir_read_u64(&sd, names[i], &v);
		if (k < 0) {
			np_status_set(&nic->status, k, "%s/statistics/%s: %s", nic->name, names[i],
				      np_errno_reason(k));
			continue;
		}
		char *nm = strdup(names[i]);
		if (!nm)
			break;
		nic->stats[nic->nstats].name = nm;
		nic->stats[nic->nstats++].value = v;
	}
	np_strv_free(names);
	return nic->stats ? 0 : -ENOMEM;
}

static void count_queues(const struct np_host *h, const char *ifdir, struct np_net_if *nic)
{
	_cleanup_free_ char *dir = np_asprintf("%s/queues", ifdir);
	char **names = NULL;
	size_t n = 0;
	nic->rx_queues = nic->tx_queues = -1;
	if (!dir || np_host_list(h, dir, &names, &n) < 0)
		return;
	nic->rx_queues = nic->tx_queues = 0;
	for (size_t i = 0; i < n; i++) {
		if (np_startswith(names[i], "rx-"))
			nic->rx_queues++;
		else if (np_startswith(names[i], "tx-"))
			nic->tx_queues++;
	}
	np_strv_free(names);
}

/* IRQ numbers in <dir>/msi_irqs appended to *v. */
static int add_msi(const struct np_host *h, const char *dir, unsigned **v, size_t *n)
{
	_cleanup_free_ char *p = np_asprintf("%s/msi_irqs", dir);
	char **names = NULL;
	size_t k = 0;
	if (!p)
		return -ENOMEM;
	if (np_host_list(h, p, &names, &k) < 0)
		return 0;
	unsigned *nv = realloc(*v, (*n + k + 1) * sizeof(**v));
	if (!nv) {
		np_strv_free(names);
		return -ENOMEM;
	}
	*v = nv;
	for (size_t i = 0; i < k; i++) {
		uint64_t x;
		if (np_parse_u64(names[i], &x) >= 0 && x <= UINT_MAX)
			nv[(*n)++] = (unsigned)x;
	}
	np_strv_free(names);
	return 0;
}

static void read_link_sysfs(const struct np_host *h, const char *ifdir, struct np_net_if *nic)
{
	if (nic->speed_mbps < 0) {
		int64_t sp = read_s64_or(NULL, h, ifdir, "speed", -1);
		nic->speed_mbps = sp >= 0 && sp != (int64_t)UINT32_MAX ? sp : -1;
	}
	if (!nic->duplex) {
		char *d = read_str(h, ifdir, "duplex");
		if (d && (streq(d, "full") || streq(d, "half")))
			nic->duplex = d;
		else
			free(d);
	}
}

/* ---- ethtool ioctls ---- */

static int ethtool_ioctl(int fd, const char *ifname, void *cmd)
{
	struct ifreq ifr = { 0 };
	if (strlen(ifname) >= IFNAMSIZ)
		return -EINVAL;
	memcpy(ifr.ifr_name, ifname, strlen(ifname));
	ifr.ifr_data = cmd;
	return ioctl(fd, SIOCETHTOOL, &ifr) < 0 ? negative_errno() : 0;
}

/*
 * ETHTOOL_GLINKSETTINGS: speed and duplex into @nic. Returns 1 when sysfs' speed and duplex could
 * only repeat the answer, 0 when they may add to it (a speed of 0, which sysfs shows), or -errno.
 * net/core/net-sysfs.c speed_show() and duplex_show() print what the same driver callback
 * (__ethtool_get_link_ksettings()) answers, or fail: "unknown" and SPEED_UNKNOWN read from there
 * are dropped as they are here.
 */
static int ethtool_link(int fd, int8_t *nwords, struct np_net_if *nic)
{
	/* the header, then up to 3 link-mode bitmaps of at most 127 words each */
	size_t size = sizeof(struct ethtool_link_settings) + 3 * 127 * sizeof(uint32_t);
	_cleanup_free_ struct ethtool_link_settings *e = malloc(size);
	if (!e)
		return -ENOMEM;
	/*
	 * Asked with the bitmaps' size in words the kernel gave last time (0 at first): a size it
	 * does not take is answered with the handshake (net/ethtool/ioctl.c
	 * ethtool_get_link_ksettings(): the kernel's -nwords, the driver not asked), then asked again.
	 */
	for (int tries = 0;; tries++) {
		memset(e, 0, size);
		e->cmd = ETHTOOL_GLINKSETTINGS;
		e->link_mode_masks_nwords = *nwords;
		int r = ethtool_ioctl(fd, nic->name, e);
		if (r < 0)
			return r;
		int8_t nw = e->link_mode_masks_nwords;
		if (nw > 0 && nw == *nwords)
			break;
		if (nw >= 0 || nw < -127 || tries)
			return -EPROTO; /* handshake: the kernel answers with -nwords */
		*nwords = (int8_t)-nw;
	}
	if (e->speed != (uint32_t)SPEED_UNKNOWN && e->speed != 0)
		nic->speed_mbps = e->speed;
	if (e->duplex == DUPLEX_FULL || e->duplex == DUPLEX_HALF)
		nic->duplex = strdup(e->duplex == DUPLEX_FULL ? "full" : "half");
	return e->speed != 0;
}

/* Whom an ethtool ioctl asks: the socket and the interface name (np_facts_blob()'s @ud). */
struct drvinfo_ask {
	int fd;
	const char *ifname;
};

/*
 * The feature names (ETH_SS_FEATURES): their count, then the names, into *@out (malloc'd; the count
 * in (*out)->len). Returns 0, -E2BIG for more than @max, -EPROTO for none, or the ioctl's -errno.
 */
static int feature_names_ask(int fd, const char *ifname, uint32_t max, struct ethtool_gstrings **out)
{
	_cleanup_free_ struct ethtool_sset_info *ss = calloc(1, sizeof(*ss) + sizeof(uint32_t));
	if (!ss)
		return -ENOMEM;
	ss->cmd = ETHTOOL_GSSET_INFO;
	ss->sset_mask = 1ULL << ETH_SS_FEATURES;
	int r = ethtool_ioctl(fd, ifname, ss);
	if (r < 0)
		return r;
	if (!(ss->sset_mask & (1ULL << ETH_SS_FEATURES)))
		return -EOPNOTSUPP;
	uint32_t n = ss->data[0];
	if (n == 0 || n > max)
		return n ? -E2BIG : -EPROTO;
	_cleanup_free_ struct ethtool_gstrings *gs = calloc(1, sizeof(*gs) + n * ETH_GSTRING_LEN);
	if (!gs)
		return -ENOMEM;
	gs->cmd = ETHTOOL_GSTRINGS;
	gs->string_set = ETH_SS_FEATURES;
	gs->len = n;
	if ((r = ethtool_ioctl(fd, ifname, gs)) < 0)
		return r;
	if (gs->len > n)
		gs->len = n;
	*out = TAKE_PTR(gs);
	return 0;
}

/* Feature names kept as a fact: Linux 6.18 has 66; more are asked every cycle. */
#define NP_FEATURE_NAMES_KEPT 128

struct feature_names {
	uint32_t n;
	char names[NP_FEATURE_NAMES_KEPT][ETH_GSTRING_LEN];
};

static int feature_names_read(void *buf, size_t size, void *ud)
{
	const struct drvinfo_ask *a = ud;
	struct feature_names *fn = buf;
	_cleanup_free_ struct ethtool_gstrings *gs = NULL;
	assert(size == sizeof(*fn));
	int r = feature_names_ask(a->fd, a->ifname, NP_FEATURE_NAMES_KEPT, &gs);
	if (r < 0)
		return r;
	fn->n = gs->len;
	memcpy(fn->names, gs->data, (size_t)fn->n * ETH_GSTRING_LEN);
	return 0;
}

/*
 * The offload features of @nic with their states. The names (ETH_SS_FEATURES: the kernel's
 * netdev_features_strings, the same for every device) are a fact (facts.h), kept by name and
 * ifindex; the states (ETHTOOL_GFEATURES) are asked every cycle: `ethtool -K` sends no uevent.
 */
static int ethtool_features(struct np_facts *fx, int fd, struct np_net_if *nic)
{
	struct feature_names fn;
	_cleanup_free_ struct ethtool_gstrings *gs = NULL;
	const char *names = &fn.names[0][0];
	char key[IFNAMSIZ + 64];
	snprintf(key, sizeof(key), "ethtool features %s %" PRId64, nic->name, nic->ifindex);
	int r = np_facts_blob(fx, key, &fn, sizeof(fn), feature_names_read,
			      &(struct drvinfo_ask){ .fd = fd, .ifname = nic->name });
	if (r == -E2BIG && (r = feature_names_ask(fd, nic->name, NP_MAX_FEATURES, &gs)) >= 0) {
		fn.n = gs->len;
		names = (const char *)gs->data;
	}
	if (r < 0)
		return r == -E2BIG ? -EPROTO : r; /* more than NP_MAX_FEATURES: not believed */
	size_t nblocks = (fn.n + 31) / 32;
	_cleanup_free_ struct ethtool_gfeatures *gf =
		calloc(1, sizeof(*gf) + nblocks * sizeof(struct ethtool_get_features_block));
	if (!gf)
		return -ENOMEM;
	gf->cmd = ETHTOOL_GFEATURES;
	gf->size = (uint32_t)nblocks;
	if ((r = ethtool_ioctl(fd, nic->name, gf)) < 0)
		return r;
	return np_ethtool_features_fill(names, fn.n, gf->features, nblocks, nic);
}

bool np_ethtool_same_device(const char *eth_driver, const char *bus_info, const char *sysfs_driver,
			    const char *pci_address)
{
	if (!pci_address)
		return true; /* not on PCI: nothing to compare with */
	if (bus_info)
		return streq(bus_info, pci_address);
	return !eth_driver || !sysfs_driver || streq(eth_driver, sysfs_driver);
}

/* Move what ETHTOOL_GDRVINFO gave (@p) into @nic. */
static void take_drvinfo(struct np_net_if *nic, struct np_net_if *p)
{
	if (p->driver) {
		free(nic->driver);
		nic->driver = TAKE_PTR(p->driver);
	}
	nic->driver_version = TAKE_PTR(p->driver_version);
	nic->firmware_version = TAKE_PTR(p->firmware_version);
	nic->bus_info = TAKE_PTR(p->bus_info);
	nic->driver_version_is_kernel_release = p->driver_version_is_kernel_release;
}

static int drvinfo_read(void *buf, size_t size, void *ud)
{
	const struct drvinfo_ask *a = ud;
	struct ethtool_drvinfo *di = buf;
	assert(size == sizeof(*di));
	*di = (struct ethtool_drvinfo){ .cmd = ETHTOOL_GDRVINFO };
	return ethtool_ioctl(a->fd, a->ifname, di);
}

/*
 * ETHTOOL_GDRVINFO into @nic when it answers for the device sysfs shows. Returns 0 or -errno
 * (recorded). Its answer (driver, version, firmware, bus) is a fact (facts.h), kept by name and
 * ifindex: a driver bound again or reloaded comes with a uevent, a firmware flashed and activated
 * without one shows within the bound. The comparison with sysfs runs every cycle.
 */
static int ethtool_drvinfo(struct np_facts *fx, int fd, const char *release, struct np_net_if *nic)
{
	struct ethtool_drvinfo di;
	struct np_net_if p = { 0 };
	char key[IFNAMSIZ + 64];
	snprintf(key, sizeof(key), "ethtool GDRVINFO %s %" PRId64, nic->name, nic->ifindex);
	int r = np_facts_blob(fx, key, &di, sizeof(di), drvinfo_read,
			      &(struct drvinfo_ask){ .fd = fd, .ifname = nic->name });
	if (r >= 0)
		r = np_ethtool_drvinfo_fill(&di, release, &p);
	if (r < 0) {
		nic->ethtool_error = np_asprintf("ETHTOOL_GDRVINFO: %s", np_errno_reason(r));
	} else if (!np_ethtool_same_device(p.driver, p.bus_info, nic->driver, nic->pci_address)) {
		/* same name and ifindex, another netns: e.g. a pod's veth */
		nic->ethtool_error = np_asprintf("unavailable: ethtool answered for another device "
						 "(driver %s, bus-info %s)", p.driver ? p.driver : "-",
						 p.bus_info ? p.bus_info : "-");
		r = -EXDEV;
	} else {
		take_drvinfo(nic, &p);
	}
	np_net_if_free(&p);
	return r;
}

/* Sockets the section asks through: the agent keeps them between its cycles, a one-shot run for one collect. */
struct net_socks {
	int ethtool; /* -1: not open */
	int8_t link_nwords; /* ETHTOOL_GLINKSETTINGS bitmap words of this kernel; 0: not known yet */
	struct np_rtnl rtnl;
};

static void net_socks_close(struct net_socks *k)
{
	if (k->ethtool >= 0)
		close(k->ethtool);
	k->ethtool = -1;
	np_rtnl_close(&k->rtnl);
}

/*
 * The socket for the ethtool ioctls, opened at its first use. An SIOCETHTOOL ioctl acts on the
 * netns the socket was made in (sock_net()), this process's, which never changes: one socket
 * serves every cycle as a new one would.
 */
static int ethtool_socket(struct net_socks *k)
{
	if (k->ethtool < 0)
		k->ethtool = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (k->ethtool < 0)
		k->ethtool = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	return k->ethtool < 0 ? negative_errno() : k->ethtool;
}

/* The ethtool ioctls for @nic; true when the link settings answered for sysfs (ethtool_link()). */
static bool collect_ethtool(struct np_facts *fx, struct net_socks *k, const char *release, struct np_net_if *nic)
{
	int fd = ethtool_socket(k);
	if (fd < 0) {
		int r = fd;
		nic->ethtool_error = np_asprintf("socket: %s", np_errno_reason(r));
		return false;
	}
	if (ethtool_drvinfo(fx, fd, release, nic) < 0)
		return false;
	int r = ethtool_link(fd, &k->link_nwords, nic);
	bool link = r > 0;
	if (r < 0 && r != -EOPNOTSUPP)
		np_status_set(&nic->status, r, "%s: ETHTOOL_GLINKSETTINGS: %s", nic->name,
			      np_errno_reason(r));
	r = ethtool_features(fx, fd, nic);
	if (r < 0)
		np_status_set(&nic->status, r, "%s: ethtool features: %s", nic->name,
			      np_errno_reason(r));
	return link;
}

/* same_kernel()'s answer, asked once per section, the section's rtnetlink dump and its sockets. */
struct same_root {
	int same;        /* -1 not asked yet, 0 no, 1 yes */
	const char *why; /* when 0 */
	const struct np_rtnl_links *rtnl; /* this netns's links; NULL unless the root is live */
	bool per_if; /* the root is live, no dump: each interface asked for by its ifindex */
	struct net_socks *socks;
};

/*
 * Whether the root shows this kernel and this network namespace: 2 yes, shown
 * by the netns links; 1 this kernel, the netns not known; 0 no (*@why says
 * which), compared through the process's own /proc read live: boot_id for the
 * kernel; for the netns, the root's /proc/1/ns/net against /proc/self/ns/net
 * (a host /sys shows the host's netns). An unreadable netns link is no
 * evidence either way: the per-interface checks decide.
 */
static int same_kernel(const struct np_host *h, const char **why)
{
	struct np_host self;
	_cleanup_free_ char *a = NULL, *b = NULL, *na = NULL, *nb = NULL;
	if (np_host_open(&self, "/") < 0)
		return 0;
	int r = np_host_read_line(&self, "/proc/sys/kernel/random/boot_id", &a);
	if (r >= 0)
		np_host_readlink(&self, "/proc/self/ns/net", &na);
	np_host_close(&self);
	*why = NP_NET_NOT_LIVE;
	if (r < 0 || np_host_read_line(h, "/proc/sys/kernel/random/boot_id", &b) < 0 || !streq(a, b))
		return 0;
	*why = NP_NET_OTHER_NETNS;
	if (!na || np_host_readlink(h, "/proc/1/ns/net", &nb) < 0)
		return 1;
	return streq(na, nb) ? 2 : 0;
}

/*
 * Whether this process's rtnetlink answers for the interfaces of @h's sysfs: 1 yes, 0 no, -1 only
 * the list of this netns's interfaces can tell (np_net_same_interfaces()). same_kernel()'s answer
 * is kept in @same for the section's ioctl checks.
 */
static int rtnl_decides(const struct np_host *h, struct same_root *same)
{
	if (h->live)
		return 1;
	_cleanup_close_ int fd = np_host_openat(h, "/sys/class/net", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct statfs sf;
	if (fd < 0 || fstatfs(fd, &sf) < 0 || sf.f_type != SYSFS_MAGIC)
		return 0; /* a copy of a sysfs tree: its counters are its files */
	if (same->same < 0)
		same->same = same_kernel(h, &same->why);
	if (same->same != 1)
		return same->same == 2;
	return -1; /* the netns links unreadable (no CAP_SYS_PTRACE): the same interfaces, every one */
}

bool np_net_rtnl_answers(const struct np_host *h, const struct np_rtnl_links *rl, char **names, size_t n)
{
	struct same_root same = { .same = -1 };
	int r = rtnl_decides(h, &same);
	return r < 0 ? np_net_same_interfaces(rl, names, n) : r;
}

static int cmp_name_p(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

bool np_net_same_interfaces(const struct np_rtnl_links *rl, char **names, size_t n)
{
	_cleanup_free_ const char **v = malloc((rl->n ? rl->n : 1) * sizeof(*v));
	if (!v)
		return false;
	for (size_t i = 0; i < rl->n; i++)
		v[i] = rl->v[i].name;
	qsort(v, rl->n, sizeof(*v), cmp_name_p);
	size_t listed = 0;
	for (size_t i = 0; i < n; i++) {
		if (streq(names[i], "bonding_masters"))
			continue;
		const char *key = names[i];
		if (!bsearch(&key, v, rl->n, sizeof(*v), cmp_name_p))
			return false;
		listed++;
	}
	return listed == rl->n;
}

/* The ifindex of @name in this process's netns (0: none there), from @rl when there is one. */
static int64_t in_this_netns(const struct np_rtnl_links *rl, const char *name)
{
	if (!rl)
		return if_nametoindex(name);
	const struct np_rtnl_link *k = np_rtnl_find(rl, name);
	return k ? k->ifindex : 0;
}

/*
 * NULL when the ethtool ioctls may run for @nic (they reach the same kernel and
 * the same interface), else why not. A live root still needs the interface in
 * this network namespace under the same ifindex (sysfs may belong to another netns).
 * @same caches same_kernel() for the whole section.
 */
static const char *ioctl_refused(const struct np_host *h, enum np_net_ioctl mode, const struct np_net_if *nic,
				 const struct np_rtnl_links *rl, struct same_root *same)
{
	if (mode != NP_NET_IOCTL_AUTO)
		return NP_NET_NOT_LIVE;
	if (!h->live) {
		if (same->same < 0)
			same->same = same_kernel(h, &same->why);
		if (!same->same)
			return same->why;
	}
	if (nic->ifindex > 0 && in_this_netns(rl, nic->name) != nic->ifindex)
		return h->live ? NP_NET_OTHER_NETNS : NP_NET_NOT_LIVE;
	return NULL;
}

/* ---- one interface ---- */

/*
 * Facts (facts.h): where the interface's and its device's folders are, its ifindex, driver, PCI
 * function and IDs, the names of its counters. Every cycle: MTU, operstate, queues, counters,
 * ethtool, link, interrupt lines.
 */
static int collect_if(struct np_facts *fx, const struct np_host *h, const char *name, enum np_net_ioctl mode,
		      const char *release, struct same_root *same, struct np_net_if *nic, unsigned **msi,
		      size_t *nmsi)
{
	_cleanup_free_ char *cls = np_asprintf("/sys/class/net/%s", name);
	if (!cls || !(nic->name = strdup(name)))
		return -ENOMEM;
	_cleanup_free_ char *ifdir = follow(fx, h, cls);
	_cleanup_free_ char *devlink = ifdir ? np_asprintf("%s/device", ifdir) : NULL;
	_cleanup_free_ char *devdir = devlink ? follow(fx, h, devlink) : NULL;
	if (!devdir)
		return -ENOMEM;
	nic->ifindex = read_s64_or(fx, h, ifdir, "ifindex", -1);
	nic->speed_mbps = -1;
	nic->irq_skew_percent = nic->rate_irqs_per_s = nic->rate_irq_skew_percent = -1;
	nic->irq_busiest_cpu = nic->rate_irq_busiest_cpu = -1;
	_cleanup_free_ char *drvlink = np_asprintf("%s/driver", devdir);
	if (drvlink)
		np_facts_link_basename(fx, h, drvlink, &nic->driver);
	_cleanup_free_ char *pci = find_pci_dir(fx, h, devdir);
	const char *iddir = pci ? pci : devdir;
	if (pci)
		nic->pci_address = strdup(strrchr(pci, '/') + 1);
	nic->vendor_id = read_id(fx, h, iddir, "vendor");
	nic->device_id = read_id(fx, h, iddir, "device");
	count_queues(h, ifdir, nic);
	/* this netns's links: the section's dump, or the one of this ifindex asked for now, which
	 * the name and address checks below read as the dump's entry for the index */
	const struct np_rtnl_links *rl = same->rtnl;
	struct np_rtnl_link one;
	struct np_rtnl_links asked = { 0 };
	if (same->per_if && nic->ifindex > 0 && nic->ifindex <= INT_MAX) {
		int r = np_rtnl_get_link(&same->socks->rtnl, (int)nic->ifindex, &one);
		if (r >= 0)
			asked = (struct np_rtnl_links){ .v = &one, .n = 1 };
		if (r >= 0 || r == -ENODEV) /* else not known: as without a dump */
			rl = &asked;
	}
	_cleanup_free_ char *addr = NULL; /* not a fact: `ip link set address` sends no uevent */
	if (rl && rl->n)
		np_host_attr(h, &addr, "%s/address", ifdir);
	const struct np_rtnl_link *k = np_net_rtnl_link(rl, name, nic->ifindex, addr);
	/* this cycle's rtnetlink answer for the interface sysfs shows, when there is one: its MTU and
	 * operstate are what net-sysfs.c mtu_show() and operstate_show() print (netlink.h) */
	nic->mtu = k && k->have_mtu ? k->mtu : read_s64_or(NULL, h, ifdir, "mtu", -1);
	const char *oper = k ? np_rtnl_operstate(k) : NULL;
	nic->operstate = oper ? strdup(oper) : read_str(h, ifdir, "operstate");
	int r = read_stats(fx, h, ifdir, k, nic);
	if (r < 0)
		return r;
	const char *why = ioctl_refused(h, mode, nic, rl, same);
	bool link = false;
	if (!why)
		link = collect_ethtool(fx, same->socks, release, nic);
	else
		nic->ethtool_error = strdup(why);
	if (!link) /* sysfs would only repeat the ioctl's answer */
		read_link_sysfs(h, ifdir, nic);
	r = add_msi(h, devdir, msi, nmsi);
	if (r >= 0 && pci && !streq(pci, devdir))
		r = add_msi(h, pci, msi, nmsi);
	return r;
}

/* @r: how reading and parsing /proc/interrupts into @t went. */
static int note_irqs(struct np_net *s, const struct np_irq_table *t, int r)
{
	if (r < 0)
		np_status_set(&s->status, r, "/proc/interrupts: %s", np_errno_reason(r));
	else
		s->interrupts_rows_skipped = t->skipped;
	return r;
}

static void read_softirq(const struct np_collect_ctx *ctx, struct np_net *s)
{
	_cleanup_free_ char *own = NULL;
	_cleanup_free_ struct np_cpu_sample *c = NULL;
	const char *buf;
	size_t len, n = 0;
	int r = np_collect_read(ctx, "/proc/stat", 0, &own, &buf, &len); /* once per pass: virt reads it too */
	if (r >= 0)
		r = np_parse_stat_cpus(buf, len, &c, &n);
	if (r >= 0)
		r = np_net_softirq_fill(s, c, n);
	if (r < 0) {
		np_status_set(&s->status, r, "/proc/stat: %s", np_errno_reason(r));
		return;
	}
	free(s->cpu_raw);
	s->cpu_raw = TAKE_PTR(c);
	s->ncpu_raw = n;
}

static void msi_free(struct np_net_msi *m, size_t n)
{
	for (size_t i = 0; m && i < n; i++)
		free(m[i].irq);
	free(m);
}

static int add_if(struct np_facts *fx, const struct np_host *h, const char *name, enum np_net_ioctl mode,
		  const char *release, struct same_root *same, struct np_net *s, struct np_net_msi **msi)
{
	struct np_net_if *v = realloc(s->ifs, (s->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	s->ifs = v;
	struct np_net_msi *m = realloc(*msi, (s->n + 1) * sizeof(*m));
	if (!m)
		return -ENOMEM;
	*msi = m;
	m[s->n] = (struct np_net_msi){ 0 };
	struct np_net_if *nic = &s->ifs[s->n];
	*nic = (struct np_net_if){ 0 };
	int r = collect_if(fx, h, name, mode, release, same, nic, &m[s->n].irq, &m[s->n].n);
	if (m[s->n].n)
		qsort(m[s->n].irq, m[s->n].n, sizeof(unsigned), cmp_unsigned);
	s->n++;
	return r;
}

/* Which of the @n interfaces @names have a device (@backed[i]); their count, or -ENOMEM. */
static ssize_t find_backed(struct np_facts *fx, const struct np_host *h, char **names, size_t n, bool *backed)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *dev = np_asprintf("/sys/class/net/%s/device", names[i]);
		if (!dev)
			return -ENOMEM;
		backed[i] = np_facts_exists(fx, h, dev);
		k += backed[i];
	}
	return (ssize_t)k;
}

static int collect_ifs(struct np_facts *fx, const struct np_host *h, enum np_net_ioctl mode, char **names,
		       const bool *backed, size_t n, struct same_root *same, struct np_net *s,
		       struct np_net_msi **msi)
{
	_cleanup_free_ char *release = NULL;
	np_facts_read_line(fx, h, "/proc/sys/kernel/osrelease", &release); /* the running kernel's: a fact */
	for (size_t i = 0; i < n; i++) {
		if (!backed[i])
			continue;
		int r = add_if(fx, h, names[i], mode, release, same, s, msi);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The section with /proc/interrupts already read into @t (@tr: how that went). */
static int net_collect(struct np_facts *fx, struct net_socks *socks, const struct np_collect_ctx *ctx,
		       enum np_net_ioctl mode, struct np_net *s, const struct np_irq_table *t, int tr)
{
	const struct np_host *h = ctx->host;
	char **names = NULL;
	size_t n = 0;
	int r = np_host_list(h, "/sys/class/net", &names, &n);
	if (r < 0) {
		np_status_set(&s->status, r, "/sys/class/net: %s", np_errno_reason(r));
		return r;
	}
	struct np_net_msi *msi = NULL;
	struct np_rtnl_links rl = { 0 };
	_cleanup_free_ bool *backed = calloc(n ? n : 1, sizeof(*backed));
	ssize_t nb = backed ? find_backed(fx, h, names, n, backed) : -ENOMEM;
	/* the process's netns is the root's: "/", or a live /host sysfs of this netns (never a fixture) */
	struct same_root same = { .same = -1, .socks = socks }; /* same_kernel() asked once for both uses */
	int ans = mode == NP_NET_IOCTL_AUTO && nb >= 0 ? rtnl_decides(h, &same) : 0;
	/*
	 * One request per interface where those with a device are at most half of the links (a
	 * node's pod veths, bridges and tunnels are then not filled in for nothing), else one dump;
	 * always the dump when only the whole list tells whether rtnetlink answers.
	 */
	same.per_if = ans > 0 && (size_t)nb * 2 <= n;
	if ((ans < 0 || (ans > 0 && !same.per_if)) && np_rtnl_dump_links_via(&socks->rtnl, &rl) >= 0 &&
	    (ans > 0 || np_net_same_interfaces(&rl, names, n)))
		same.rtnl = &rl;
	r = nb < 0 ? (int)nb : collect_ifs(fx, h, mode, names, backed, n, &same, s, &msi);
	np_rtnl_links_free(&rl);
	np_strv_free(names);
	if (r >= 0 && note_irqs(s, t, tr) >= 0)
		r = np_net_attach_irqs(s, t, msi);
	msi_free(msi, s->n);
	if (r < 0)
		np_status_set(&s->status, r, "net: %s", np_errno_reason(r));
	read_softirq(ctx, s);
	return r;
}

int np_net_collect(const struct np_host *h, enum np_net_ioctl mode, struct np_net *s)
{
	struct np_collect_ctx ctx = { .host = h };
	struct np_irq_table own;
	const struct np_irq_table *t;
	struct net_socks socks = { .ethtool = -1, .rtnl = { .fd = -1 } };
	int tr = np_collect_interrupts(&ctx, &own, &t);
	int r = net_collect(NULL, &socks, &ctx, mode, s, t, tr);
	net_socks_close(&socks);
	np_irq_table_free(&own);
	return r;
}

/* The section's state: its facts (facts.h) and its sockets, kept between the agent's cycles. */
struct net_state {
	struct np_facts *fx;
	struct net_socks socks;
};

static void net_state_free(void *state)
{
	struct net_state *k = state;
	if (!k)
		return;
	np_facts_free(k->fx);
	net_socks_close(&k->socks);
	free(k);
}

static void *net_state_new(const struct np_collect_ctx *ctx)
{
	(void)ctx;
	struct net_state *k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	k->socks = (struct net_socks){ .ethtool = -1, .rtnl = { .fd = -1 } };
	if (!(k->fx = np_facts_new())) {
		free(k);
		return NULL;
	}
	return k;
}

static int collect_net(const struct np_collect_ctx *ctx, struct np_report *rep)
{
	struct np_irq_table own;
	const struct np_irq_table *t;
	struct net_state *k = np_collect_state(ctx, "net");
	struct net_socks one = { .ethtool = -1, .rtnl = { .fd = -1 } }; /* a one-shot run's */
	int tr = np_collect_interrupts(ctx, &own, &t); /* once per pass: numa reads the same table */
	struct np_facts *fx = np_facts_begin(k ? k->fx : NULL, ctx);
	int r = net_collect(fx, k ? &k->socks : &one, ctx, NP_NET_IOCTL_AUTO, &rep->net, t, tr);
	net_socks_close(&one);
	np_irq_table_free(&own);
	return r;
}

/* Second sample for --interval: /proc/interrupts and /proc/stat again. */
static int resample_net(const struct np_collect_ctx *ctx, struct np_report *rep)
{
	struct np_net *s = &rep->net;
	_cleanup_free_ char *sbuf = NULL;
	_cleanup_free_ struct np_cpu_sample *c = NULL;
	size_t slen, n = 0;
	struct np_irq_table t = { 0 };
	if (!s->cpu_raw || ctx->interval_s <= 0)
		return 0; /* the first sample failed and said so */
	int r = np_read_interrupts(ctx->host, &t);
	if (r >= 0)
		r = np_host_read(ctx->host, "/proc/stat", 0, &sbuf, &slen);
	if (r >= 0)
		r = np_parse_stat_cpus(sbuf, slen, &c, &n);
	if (r >= 0)
		r = np_net_rates(s, &t, c, n, ctx->interval_s);
	np_irq_table_free(&t);
	if (r < 0)
		np_status_set(&s->status, r, "second sample: %s", np_errno_reason(r));
	return 0;
}

NP_SECTION_STATEFUL(net, 40, 30, collect_net, resample_net, net_state_new, np_facts_state_reload, net_state_free);
