// SPDX-License-Identifier: Apache-2.0
#include "pci.h"
#include "expo.h"
#include "json.h"
#include "report.h"
#include "section.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <stdlib.h>
#include <string.h>

void np_aer_counters_free(struct np_aer_counters *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->c[i].name);
	free(a->c);
	memset(a, 0, sizeof(*a));
}

void np_pci_device_free(struct np_pci_device *d)
{
	np_status_clear(&d->status);
	free(d->address);
	free(d->upstream);
	free(d->class_name);
	free(d->vendor_name);
	free(d->device_name);
	free(d->driver);
	for (size_t i = 0; i < d->n_vfs; i++) {
		free(d->vfs[i].address);
		free(d->vfs[i].driver);
	}
	free(d->vfs);
	free(d->cur_speed.text);
	free(d->max_speed.text);
	np_aer_counters_free(&d->aer_cor);
	np_aer_counters_free(&d->aer_nonfatal);
	np_aer_counters_free(&d->aer_fatal);
	memset(d, 0, sizeof(*d));
}

void np_pci_free(struct np_pci *s)
{
	for (size_t i = 0; i < s->n; i++)
		np_pci_device_free(&s->devices[i]);
	free(s->devices);
	s->devices = NULL;
	s->n = 0;
	s->hwdb = false;
	np_status_clear(&s->status);
}

static bool is_bridge(const struct np_pci_device *d)
{
	return d->has_ids && (d->class_code >> 8) == 0x0604; /* PCI-to-PCI bridge: root and switch ports */
}

static const struct np_pci_device *find(const struct np_pci *pci, const char *addr)
{
	for (size_t i = 0; addr && i < pci->n; i++)
		if (pci->devices[i].address && streq(pci->devices[i].address, addr))
			return &pci->devices[i];
	return NULL;
}

/*
 * A bridge's link files describe the link below it (root port, switch downstream port) or above
 * it (switch upstream port). They alternate from the root: a root port (no bridge above it) faces
 * down, the switch upstream port under it up, that switch's downstream ports down, and so on.
 */
static bool faces_down(const struct np_pci *pci, const struct np_pci_device *d)
{
	if (!is_bridge(d))
		return false; /* endpoints, most functions: no walk up the tree */
	unsigned depth = 0;
	for (const struct np_pci_device *u = find(pci, d->upstream); u && depth < 64; u = find(pci, u->upstream))
		depth++;
	return depth % 2 == 0;
}

const struct np_pci_device *np_pci_link_partner(const struct np_pci *pci, const struct np_pci_device *d)
{
	if (!pci || !d->address)
		return NULL;
	if (!faces_down(pci, d))
		return find(pci, d->upstream);
	for (size_t i = 0; i < pci->n; i++) /* address order: function 0 first */
		if (pci->devices[i].upstream && streq(pci->devices[i].upstream, d->address))
			return &pci->devices[i];
	return NULL;
}

void np_pci_link_expected(const struct np_pci *pci, const struct np_pci_device *d, double *gts, bool *has_width,
			  uint64_t *width)
{
	const struct np_pci_device *p = np_pci_link_partner(pci, d);
	*gts = d->max_speed.gts;
	*has_width = d->has_max_width && d->max_width > 0;
	*width = d->max_width;
	if (!p)
		return;
	*gts = p->max_speed.gts <= 0 ? 0 : p->max_speed.gts < *gts ? p->max_speed.gts : *gts;
	if (!p->has_max_width || p->max_width == 0)
		*has_width = false;
	else if (p->max_width < *width)
		*width = p->max_width;
}

int np_pci_link_downgraded(const struct np_pci *pci, const struct np_pci_device *d)
{
	double gts;
	bool has_width;
	uint64_t width;
	np_pci_link_expected(pci, d, &gts, &has_width, &width);
	bool speeds = d->cur_speed.gts > 0 && gts > 0;
	bool widths = d->has_cur_width && has_width;
	if ((!speeds && !widths) || (d->has_cur_width && d->cur_width == 0))
		return -1;
	if (speeds && d->cur_speed.gts < gts)
		return 1;
	if (widths && d->cur_width < width)
		return 1;
	return 0;
}

static void json_hex(json_t *o, const char *key, unsigned v, int digits, bool known)
{
	char buf[16];
	if (!known) {
		json_object_set_new(o, key, json_null());
		return;
	}
	snprintf(buf, sizeof(buf), "0x%0*x", digits, v);
	json_object_set_new(o, key, json_string(buf));
}

static json_t *speed_json(json_t *o, const char *key, const char *key_gts, const struct np_pci_speed *s)
{
	np_json_str(o, key, s->text);
	json_object_set_new(o, key_gts, s->gts > 0 ? json_real(s->gts) : json_null());
	return o;
}

static json_t *link_to_json(const struct np_pci *pci, const struct np_pci_device *d)
{
	if (!d->cur_speed.text && !d->max_speed.text && !d->has_cur_width && !d->has_max_width)
		return json_null();
	json_t *l = json_object();
	speed_json(l, "current_speed", "current_speed_gts", &d->cur_speed);
	json_object_set_new(l, "current_width", d->has_cur_width ? json_integer((json_int_t)d->cur_width) : json_null());
	speed_json(l, "max_speed", "max_speed_gts", &d->max_speed);
	json_object_set_new(l, "max_width", d->has_max_width ? json_integer((json_int_t)d->max_width) : json_null());
	const struct np_pci_device *p = np_pci_link_partner(pci, d);
	np_json_str(l, "partner", p ? p->address : NULL);
	int dg = np_pci_link_downgraded(pci, d);
	json_object_set_new(l, "downgraded", dg < 0 ? json_null() : json_boolean(dg));
	return l;
}

json_t *np_aer_counters_to_json(const struct np_aer_counters *a)
{
	if (!a->present)
		return json_null();
	json_t *o = json_object();
	for (size_t i = 0; i < a->n; i++) {
		if (json_object_get(o, a->c[i].name))
			continue; /* duplicate name: the first is kept, the device's error says so */
		np_json_u64(o, a->c[i].name, a->c[i].count);
	}
	return o;
}

json_t *np_pci_aer_to_json(const struct np_pci_device *d)
{
	bool root = d->has_rootport_total[0] || d->has_rootport_total[1] || d->has_rootport_total[2];
	if (!d->aer_cor.present && !d->aer_nonfatal.present && !d->aer_fatal.present && !root)
		return json_null();
	json_t *o = json_object();
	json_object_set_new(o, "correctable", np_aer_counters_to_json(&d->aer_cor));
	json_object_set_new(o, "nonfatal", np_aer_counters_to_json(&d->aer_nonfatal));
	json_object_set_new(o, "fatal", np_aer_counters_to_json(&d->aer_fatal));
	np_json_u64(o, "lines_invalid", d->aer_cor.lines_invalid + d->aer_nonfatal.lines_invalid +
						d->aer_fatal.lines_invalid);
	const struct np_aer_counters *files[] = { &d->aer_cor, &d->aer_nonfatal, &d->aer_fatal };
	static const char *const kind[] = { "correctable", "nonfatal", "fatal" };
	json_t *dis = json_object();
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		if (files[i]->total_disagrees) {
			json_t *x = json_object();
			np_json_u64(x, "total", files[i]->total);
			np_json_u64(x, "bits_sum", files[i]->bits_sum);
			json_object_set_new(dis, kind[i], x);
		}
	json_object_set_new(o, "totals_disagree", dis);
	static const char *const rp[] = { "total_err_cor", "total_err_fatal", "total_err_nonfatal" };
	json_t *r = json_null();
	for (size_t i = 0; i < ARRAY_SIZE(rp); i++) {
		if (!d->has_rootport_total[i])
			continue;
		if (json_is_null(r))
			r = json_object();
		np_json_u64(r, rp[i], d->rootport_total[i]);
	}
	json_object_set_new(o, "rootport", r);
	return o;
}

/* null for a device that is no SR-IOV physical function */
static json_t *sriov_to_json(const struct np_pci_device *d)
{
	if (!d->has_sriov)
		return json_null();
	json_t *o = json_object(), *a = json_array();
	np_json_u64(o, "total_vfs", d->sriov_totalvfs);
	np_json_u64(o, "num_vfs", d->sriov_numvfs);
	for (size_t i = 0; i < d->n_vfs; i++) {
		json_t *v = json_object();
		np_json_str(v, "address", d->vfs[i].address);
		np_json_str(v, "driver", d->vfs[i].driver);
		json_array_append_new(a, v);
	}
	json_object_set_new(o, "vfs", a);
	return o;
}

bool np_pci_same_device(const struct np_pci_device *a, const struct np_pci_device *b)
{
	if (a->has_ids != b->has_ids)
		return false;
	if (a->has_ids && (a->vendor_id != b->vendor_id || a->device_id != b->device_id ||
			   a->subsystem_vendor_id != b->subsystem_vendor_id ||
			   a->subsystem_device_id != b->subsystem_device_id || a->class_code != b->class_code))
		return false;
	if (a->dsn_read && b->dsn_read && (a->has_dsn != b->has_dsn || a->dsn != b->dsn))
		return false;
	return true;
}

/* "52-54-00-ff-ff-12-34-56", lspci's spelling of a Device Serial Number; null when none or not read. */
static json_t *dsn_to_json(const struct np_pci_device *d)
{
	if (!d->has_dsn)
		return json_null();
	char s[24];
	snprintf(s, sizeof(s), "%02x-%02x-%02x-%02x-%02x-%02x-%02x-%02x", (unsigned)(d->dsn >> 56) & 0xff,
		 (unsigned)(d->dsn >> 48) & 0xff, (unsigned)(d->dsn >> 40) & 0xff, (unsigned)(d->dsn >> 32) & 0xff,
		 (unsigned)(d->dsn >> 24) & 0xff, (unsigned)(d->dsn >> 16) & 0xff, (unsigned)(d->dsn >> 8) & 0xff,
		 (unsigned)d->dsn & 0xff);
	return json_string(s);
}

static json_t *device_to_json(const struct np_pci *pci, const struct np_pci_device *d)
{
	json_t *o = json_object();
	np_json_str(o, "address", d->address);
	np_json_str(o, "upstream", d->upstream);
	json_hex(o, "class", d->class_code, 6, d->has_ids);
	np_json_str(o, "class_name", d->class_name);
	json_hex(o, "vendor_id", d->vendor_id, 4, d->has_ids);
	json_hex(o, "device_id", d->device_id, 4, d->has_ids);
	json_hex(o, "subsystem_vendor_id", d->subsystem_vendor_id, 4, d->has_ids);
	json_hex(o, "subsystem_device_id", d->subsystem_device_id, 4, d->has_ids);
	np_json_str(o, "vendor_name", d->vendor_name);
	np_json_str(o, "device_name", d->device_name);
	json_object_set_new(o, "serial_number", dsn_to_json(d));
	np_json_str(o, "driver", d->driver);
	json_object_set_new(o, "numa_node", d->has_numa ? json_integer(d->numa_node) : json_null());
	json_object_set_new(o, "sriov", sriov_to_json(d));
	json_object_set_new(o, "link", link_to_json(pci, d));
	json_object_set_new(o, "aer", np_pci_aer_to_json(d));
	np_status_to_json(&d->status, o);
	return o;
}

json_t *np_pci_to_json(const struct np_pci *s)
{
	json_t *o = json_object();
	np_json_bool(o, "hwdb", s->hwdb);
	json_t *a = json_array();
	for (size_t i = 0; i < s->n; i++)
		json_array_append_new(a, device_to_json(s, &s->devices[i]));
	json_object_set_new(o, "devices", a);
	np_status_to_json(&s->status, o);
	return o;
}

/* "8.0GT/s x4" / "?" pieces of the link column. */
static void link_text(char *buf, size_t len, const struct np_pci_speed *sp, bool has_w, uint64_t w)
{
	char s[24] = "?", x[24] = "?";
	if (sp->gts > 0)
		snprintf(s, sizeof(s), "%gGT/s", sp->gts);
	if (has_w)
		snprintf(x, sizeof(x), "x%llu", (unsigned long long)w);
	snprintf(buf, len, "%s %s", s, x);
}

/* "cor 3 nonfatal 0 fatal 0" from the TOTAL_* lines, "(bits N)" where the bits disagree; "-" without AER. */
static bool aer_text(char *buf, size_t len, const struct np_pci_device *d)
{
	const struct np_aer_counters *a[] = { &d->aer_cor, &d->aer_nonfatal, &d->aer_fatal };
	static const char *const tag[] = { "cor", "nonfatal", "fatal" };
	size_t w = 0;
	bool nonzero = false;
	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(a) && w < len; i++) {
		if (!a[i]->present)
			continue;
		char v[56] = "?";
		if (a[i]->total_disagrees) /* the total and its bits disagree: both shown */
			snprintf(v, sizeof(v), "%llu (bits %llu)", (unsigned long long)a[i]->total,
				 (unsigned long long)a[i]->bits_sum);
		else if (a[i]->has_total)
			snprintf(v, sizeof(v), "%llu", (unsigned long long)a[i]->total);
		nonzero |= a[i]->has_total && a[i]->total > 0;
		w += snprintf(buf + w, len - w, "%s%s %s", w ? " " : "", tag[i], v);
	}
	return nonzero;
}

void np_pci_print(const struct np_pci *s, struct np_out *o)
{
	static const char *const hdr[] = { "address", "class", "vendor", "device", "driver",
					   "link cur", "link max", "AER totals", "note" };
	np_out_heading(o, "PCIe link/AER");
	if (s->status.err)
		np_out_error(o, s->status.error);
	struct np_table *t = np_table_new(ARRAY_SIZE(hdr), hdr);
	size_t downgraded = 0, aer = 0;
	for (size_t i = 0; t && i < s->n; i++) {
		const struct np_pci_device *d = &s->devices[i];
		char cls[16], ven[16], dev[16], cur[48], max[48], aert[192];
		snprintf(cls, sizeof(cls), "0x%06x", d->class_code);
		snprintf(ven, sizeof(ven), "%04x", d->vendor_id);
		snprintf(dev, sizeof(dev), "%04x", d->device_id);
		link_text(cur, sizeof(cur), &d->cur_speed, d->has_cur_width, d->cur_width);
		link_text(max, sizeof(max), &d->max_speed, d->has_max_width, d->max_width);
		bool has_link = d->cur_speed.text || d->has_cur_width;
		bool aer_bad = aer_text(aert, sizeof(aert), d);
		int dg = np_pci_link_downgraded(s, d);
		downgraded += dg == 1;
		aer += aer_bad;
		const char *cells[] = { d->address, d->class_name ? d->class_name : cls,
					d->vendor_name ? d->vendor_name : ven,
					d->device_name ? d->device_name : dev, d->driver,
					has_link ? cur : NULL, has_link ? max : NULL,
					*aert ? aert : NULL,
					/* marked in words too: colour is only for a TTY */
					dg == 1 && aer_bad ? "link downgraded, AER errors" :
					dg == 1		   ? "link downgraded" :
					aer_bad		   ? "AER errors" : "" };
		enum np_tone tone = d->aer_fatal.total || d->aer_nonfatal.total ? NP_TONE_BAD :
				    aer_bad || dg == 1			       ? NP_TONE_WARN :
									 NP_TONE_PLAIN;
		np_table_add(t, tone, cells);
	}
	if (t)
		np_table_print_free(t, o);
	fprintf(o->f, "  %zu devices; %zu downgraded links; %zu with AER errors%s\n", s->n, downgraded,
		aer, s->hwdb ? "" : "; names unavailable (no udev hwdb)");
}

int np_pci_bundle(const struct np_pci *s, struct np_bundle *b)
{
	(void)s;
	(void)b;
	return 0;
}

static uint64_t aer_sum(const struct np_aer_counters *a)
{
	if (a->has_total)
		return a->total;
	uint64_t t = 0;
	for (size_t i = 0; i < a->n; i++)
		t += a->c[i].count;
	return t;
}

static void pci_metrics(FILE *f, const struct np_report *r, const struct np_metrics_opts *o)
{
	const struct np_pci *p = &r->pci;
	(void)o;
	np_expo_help(f, "nodeprint_pcie_aer_errors_total", "counter", "PCIe AER errors reported by the device, by severity.");
	for (size_t i = 0; i < p->n; i++) {
		const struct np_pci_device *d = &p->devices[i];
		const struct {
			const char *sev;
			const struct np_aer_counters *a;
		} s[] = { { "correctable", &d->aer_cor }, { "nonfatal", &d->aer_nonfatal }, { "fatal", &d->aer_fatal } };
		for (size_t k = 0; k < ARRAY_SIZE(s); k++)
			if (s[k].a->present)
				fprintf(f, "nodeprint_pcie_aer_errors_total{device=\"%s\",severity=\"%s\"} %llu\n",
					np_expo_esc(d->address), s[k].sev, (unsigned long long)aer_sum(s[k].a));
	}
	np_expo_help(f, "nodeprint_pcie_link_downgraded", "gauge",
	     "1 when the link runs below the speed or width both of its ends support.");
	for (size_t i = 0; i < p->n; i++) {
		int dg = np_pci_link_downgraded(p, &p->devices[i]);
		if (dg >= 0)
			fprintf(f, "nodeprint_pcie_link_downgraded{device=\"%s\"} %d\n", np_expo_esc(p->devices[i].address), dg);
	}
}

static void pci_judge(const struct np_report *r, struct np_source *s)
{
	const struct np_pci *p = &r->pci;
	if (p->status.err)
		np_source_down(s, &p->status);
	for (size_t i = 0; i < p->n; i++)
		if (p->devices[i].status.err)
			np_source_item_down(s, p->devices[i].address, &p->devices[i].status, 0, NULL);
}

NP_SECTION_SOURCE(pci, 40, "PCIe links and AER counters", "PCIeUnreadable", pci_judge, .bundle = true);
NP_SECTION_METRICS(pci, pci_metrics);
