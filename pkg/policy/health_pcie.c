// SPDX-License-Identifier: Apache-2.0
/* health_pcie.c - PCIe AER errors and link downgrades: findings under health.pcie (health.h). */
#define _GNU_SOURCE
#include "health_pcie.h"
#include "record.h"
#include "vocab.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <string.h>

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

/*
 * The correctable errors @dev counted since the previous cycle saw @old at its address: false when
 * that cannot be told. The kernel counts a function's AER errors from its enumeration
 * (drivers/pci/pcie/aer.c: aer_stats, zeroed in pci_aer_init()), so a total that went down is a
 * function enumerated since that cycle (a card swapped in, the same one removed and rescanned): all
 * of it is new. Another device (np_pci_same_device()) whose total did not go down gets no rate yet
 * (its first count is its baseline): its IDs are facts, so the swap may predate that cycle when the
 * agent saw no uevent of it, and its count then is no growth since. A count either cycle could not
 * read (aer_dev_correctable absent or failed: not present) tells nothing: its 0 is no baseline.
 */
static bool cor_growth(const struct np_pci_device *old, const struct np_pci_device *dev, uint64_t *out)
{
	if (!old->aer_cor.present || !dev->aer_cor.present)
		return false;
	uint64_t a = aer_total(&old->aer_cor), b = aer_total(&dev->aer_cor);
	if (b < a) {
		*out = b;
		return true;
	}
	*out = b - a;
	return np_pci_same_device(old, dev);
}

static int findings_pcie_dev(const struct np_health_pcie *h, const struct np_pci *pci, const struct np_pci_device *dev,
			     const struct np_eval_history *hist, struct np_desired *d)
{
	int r = 0;
	uint64_t unc = aer_total(&dev->aer_nonfatal) + aer_total(&dev->aer_fatal), grew;
	if (h->aer_uncorrectable && unc > 0)
		r = np_desired_add_finding(d, NP_FINDING_PCIE_ERRORS, dev->address, NP_REASON_AER_UNCORRECTABLE,
					   "%s (%s): %llu uncorrectable AER errors (non-fatal %llu, fatal %llu)",
					   dev->address, dev->driver ? dev->driver : "no driver", (unsigned long long)unc,
					   (unsigned long long)aer_total(&dev->aer_nonfatal),
					   (unsigned long long)aer_total(&dev->aer_fatal));
	const struct np_pci_device *old = hist && hist->prev ? find_pci(&hist->prev->pci, dev->address) : NULL;
	if (r >= 0 && old && h->aer_correctable_per_hour >= 0 && hist->dt_seconds > 0 && cor_growth(old, dev, &grew)) {
		double per_hour = (double)grew * 3600.0 / hist->dt_seconds;
		if (per_hour > h->aer_correctable_per_hour)
			r = np_desired_add_finding(d, NP_FINDING_PCIE_ERRORS, dev->address, NP_REASON_AER_CORRECTABLE_RATE,
						   "%s: %.0f correctable AER errors per hour (threshold %.0f)",
						   dev->address, per_hour, h->aer_correctable_per_hour);
	}
	if (r >= 0 && h->link_downgrade && judges_link(pci, dev) && np_pci_link_downgraded(pci, dev) > 0)
		r = link_finding(pci, dev, d);
	return r;
}

static int judge_pcie(const struct np_health_pcie *h, const struct np_health_in *in, struct np_desired *d)
{
	const struct np_pci *pci = &in->r->pci;
	int r = 0;
	for (size_t i = 0; r >= 0 && i < pci->n; i++)
		r = findings_pcie_dev(h, pci, &pci->devices[i], in->hist, d);
	return r;
}

static const struct np_field fields[] = {
	NP_FIELD_NUM("aerCorrectablePerHour", struct np_health_pcie, aer_correctable_per_hour, -1, 1e9),
	NP_FIELD_BOOL("aerUncorrectable", struct np_health_pcie, aer_uncorrectable),
	NP_FIELD_BOOL("linkDowngrade", struct np_health_pcie, link_downgrade),
	{},
};

NP_HEALTH(pcie, 20, judge_pcie, fields,
	"aerCorrectablePerHour: 60\n"
	"aerUncorrectable: true\n"
	"linkDowngrade: true\n");
