// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target: /proc/interrupts and /proc/stat parsers, IRQ matching and
 * skew on whatever parsed, the same file read by pieces (np_read_interrupts_fd(),
 * which must give the same result), and the ethtool fixed-width string trimming.
 */
#define _GNU_SOURCE
#include "../../pkg/collect/interrupts.h"
#include "../../pkg/collect/net.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* The input read back by pieces of a size it picks: the same return and the same rows, or abort. */
static void fuzz_pieces(const char *buf, size_t size, int want, const struct np_irq_table *whole)
{
	int fd = memfd_create("interrupts", MFD_CLOEXEC);
	if (fd < 0)
		return;
	struct np_irq_table t;
	size_t chunk = size ? (unsigned char)buf[size - 1] % 64 + 1 : 1;
	if (write(fd, buf, size) != (ssize_t)size || lseek(fd, 0, SEEK_SET) != 0) {
		close(fd);
		return;
	}
	int r = np_read_interrupts_fd(fd, chunk, &t);
	close(fd);
	if (r != want)
		abort();
	if (r < 0)
		return;
	if (t.nlines != whole->nlines || t.ncpus != whole->ncpus || t.skipped != whole->skipped)
		abort();
	for (size_t i = 0; i < t.nlines; i++)
		if (t.lines[i].total != whole->lines[i].total || strcmp(t.lines[i].desc, whole->lines[i].desc) ||
		    memcmp(t.lines[i].per_cpu, whole->lines[i].per_cpu, t.ncpus * sizeof(uint64_t)))
			abort();
	np_irq_table_free(&t);
}

static void fuzz_irqs(const char *buf, size_t size)
{
	struct np_irq_table t;
	int r = np_parse_interrupts(buf, size, &t);
	fuzz_pieces(buf, size, r, &t);
	if (r < 0)
		return;
	unsigned msi0[] = { 24, 38 };
	struct np_net_if ifs[2] = { { .name = strdup("eth0"), .pci_address = strdup("0000:00:03.0") },
				    { .name = strdup("eth1") } };
	struct np_net_msi msi[2] = { { msi0, 2 }, { 0 } };
	struct np_net s = { .ifs = ifs, .n = 2 };
	np_net_attach_irqs(&s, &t, msi);
	/* the same table as a second sample: zero deltas, every figure defined or null */
	struct np_cpu_sample cpu[] = { { 0, 1, 10 }, { 3, 0, 0 } };
	s.cpu_raw = cpu;
	s.ncpu_raw = 2;
	np_net_softirq_fill(&s, cpu, 2);
	np_net_rates(&s, &t, cpu, 2, 0.5);
	free(s.softirq_percent);
	free(s.softirq_interval_percent);
	np_net_if_free(&ifs[0]);
	np_net_if_free(&ifs[1]);
	np_irq_table_free(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	fuzz_irqs(buf, size);

	struct np_cpu_sample *c = NULL;
	size_t n = 0;
	if (np_parse_stat_cpus(buf, size, &c, &n) == 0) {
		struct np_net s = { 0 };
		np_net_softirq_fill(&s, c, n);
		np_net_free(&s);
	}
	free(c);

	if (size >= sizeof(struct ethtool_drvinfo)) {
		struct ethtool_drvinfo di;
		memcpy(&di, data, sizeof(di));
		struct np_net_if nic = { 0 };
		np_ethtool_drvinfo_fill(&di, "6.1.0", &nic);
		np_net_if_free(&nic);
	}
	return 0;
}
