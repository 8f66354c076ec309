// SPDX-License-Identifier: Apache-2.0
/*
 * Net collector: ethtool fixed-width strings (case 26), feature states as
 * `ethtool -k` prints them, /proc/interrupts and /proc/stat parsing, IRQ
 * matching and skew, and the whole collector on a capture of this VM
 * (tests/fixtures/host-vm-net, recorded with tests/capture.py --preset net).
 */
#define _GNU_SOURCE
#include "testutil.h"
#include "../../pkg/collect/collector.h"
#include "../../pkg/collect/interrupts.h"
#include "../../pkg/shared/macro.h"
#include "../../pkg/shared/strutil.h"
#include "../../pkg/collect/net.h"

#include <dirent.h>
#include <math.h>
#include <sys/mman.h>

#define FIX "tests/fixtures/host-vm-net"
#define ETH0 FIX "/sys/class/net/eth0"

/* Fill a 32-byte ethtool field with exactly @n bytes of @s (no terminator added). */
static void field(char *dst, const char *s, size_t n)
{
	memset(dst, 0, 32);
	memcpy(dst, s, n);
}

static void test_case26_strings(void **state)
{
	(void)state;
	struct ethtool_drvinfo di = { 0 };
	struct np_net_if nic = { 0 };
	/* bridge via a naive wrapper: "2.3" NUL then the kernel release's stale tail */
	static const char ver[] = "2.3\0.0-22-generic";
	field(di.driver, "bridge", 6);
	field(di.version, ver, sizeof(ver) - 1);
	field(di.fw_version, "N/A", 3);
	field(di.bus_info, "N/A", 3);
	assert_int_equal(np_ethtool_drvinfo_fill(&di, "5.13.0-22-generic", &nic), 0);
	assert_string_equal(nic.driver, "bridge");
	assert_string_equal(nic.driver_version, "2.3");
	assert_null(nic.firmware_version);
	assert_null(nic.bus_info);
	assert_false(nic.driver_version_is_kernel_release);
	np_net_if_free(&nic);

	/* firmware with spaces kept whole; mlx4_en version padded with spaces, no NUL in 32 bytes */
	char pad[32];
	memset(pad, ' ', sizeof(pad));
	memcpy(pad, "4.0-0", 5);
	field(di.driver, "mlx4_en", 7);
	memcpy(di.version, pad, 32);
	field(di.fw_version, "bc 1.9.6", 8);
	field(di.bus_info, "0000:06:00.0", 12);
	assert_int_equal(np_ethtool_drvinfo_fill(&di, "6.1.0-41-amd64", &nic), 0);
	assert_string_equal(nic.driver_version, "4.0-0");
	assert_string_equal(nic.firmware_version, "bc 1.9.6");
	assert_string_equal(nic.bus_info, "0000:06:00.0");
	np_net_if_free(&nic);

	/* in-tree driver: version = kernel release; i40e's three-part firmware; tun's empty one */
	field(di.driver, "bnxt_en", 7);
	field(di.version, "6.6.43", 6);
	field(di.fw_version, "220.0.59.0/pkg 220.0.83.0", 25);
	assert_int_equal(np_ethtool_drvinfo_fill(&di, "6.6.43", &nic), 0);
	assert_true(nic.driver_version_is_kernel_release);
	assert_string_equal(nic.firmware_version, "220.0.59.0/pkg 220.0.83.0");
	np_net_if_free(&nic);
	field(di.driver, "tun", 3);
	field(di.version, "1.6", 3);
	field(di.fw_version, "", 0);
	field(di.bus_info, "tun", 3);
	assert_int_equal(np_ethtool_drvinfo_fill(&di, "6.6.43", &nic), 0);
	assert_null(nic.firmware_version);
	assert_string_equal(nic.bus_info, "tun");
	np_net_if_free(&nic);

	char *s;
	static const char i40e[] = "6.00 0x800036cb 1.1747.0";
	assert_int_equal(np_ethtool_string(i40e, 32, &s), 0);
	assert_string_equal(s, i40e);
	free(s);
	/* a full field without NUL stops at the width; control bytes become '?' */
	char full[32];
	memset(full, 'a', sizeof(full));
	full[3] = '\x01';
	assert_int_equal(np_ethtool_string(full, 32, &s), 0);
	assert_int_equal(strlen(s), 32);
	assert_int_equal(s[3], '?');
	free(s);
}

/* Same name and ifindex in another netns (a pod's veth) must not pass for the host's NIC. */
static void test_same_device(void **state)
{
	(void)state;
	assert_true(np_ethtool_same_device("virtio_net", "0000:00:03.0", "virtio_net", "0000:00:03.0"));
	/* mlx4: the PCI driver is mlx4_core, ethtool says mlx4_en; bus-info decides */
	assert_true(np_ethtool_same_device("mlx4_en", "0000:3b:00.0", "mlx4_core", "0000:3b:00.0"));
	assert_false(np_ethtool_same_device("mlx4_en", "0000:3b:00.1", "mlx4_core", "0000:3b:00.0"));
	/* veth answers with no bus-info and its own driver name */
	assert_false(np_ethtool_same_device("veth", NULL, "virtio_net", "0000:00:03.0"));
	assert_true(np_ethtool_same_device("veth", NULL, "virtio_net", NULL));
	assert_true(np_ethtool_same_device("e1000e", NULL, "e1000e", "0000:00:02.0"));
}

static void test_feature_states(void **state)
{
	(void)state;
	/* bit0 on, changeable; bit1 off, not available; bit2 on, never_changed;
	 * bit3 requested on but off; bit4 requested off but on; bit5 off; bit33 in block 1 */
	struct ethtool_get_features_block b[2] = {
		{ .available = 0x39, .requested = 0x0d, .active = 0x15, .never_changed = 0x04 },
		{ .available = 0x2, .requested = 0x2, .active = 0x2 },
	};
	assert_string_equal(np_ethtool_feature_state(b, 2, 0), "on");
	assert_string_equal(np_ethtool_feature_state(b, 2, 1), "off [fixed]");
	assert_string_equal(np_ethtool_feature_state(b, 2, 2), "on [fixed]");
	assert_string_equal(np_ethtool_feature_state(b, 2, 3), "off [requested on]");
	assert_string_equal(np_ethtool_feature_state(b, 2, 4), "on [requested off]");
	assert_string_equal(np_ethtool_feature_state(b, 2, 5), "off");
	assert_string_equal(np_ethtool_feature_state(b, 2, 33), "on");
	assert_null(np_ethtool_feature_state(b, 2, 64));

	/* names as ETHTOOL_GSTRINGS returns them: 32-byte fields; an empty one is skipped */
	char names[3 * ETH_GSTRING_LEN] = { 0 };
	strcpy(names, "rx-checksum");
	strcpy(names + 2 * ETH_GSTRING_LEN, "highdma");
	struct np_net_if nic = { 0 };
	assert_int_equal(np_ethtool_features_fill(names, 3, b, 1, &nic), 0);
	assert_int_equal(nic.nfeatures, 2);
	assert_string_equal(nic.features[0].name, "rx-checksum");
	assert_string_equal(nic.features[0].state, "on");
	assert_string_equal(nic.features[1].name, "highdma");
	assert_string_equal(nic.features[1].state, "on [fixed]");
	np_net_if_free(&nic);
	/* 33 names need two blocks */
	char many[33 * ETH_GSTRING_LEN] = { 0 };
	assert_int_equal(np_ethtool_features_fill(many, 33, b, 1, &nic), -EINVAL);
}

/* Independent reading of one /proc/interrupts line: the counts after "<irq>:". */
static size_t line_counts(const char *buf, const char *irq, uint64_t *out, size_t max)
{
	char key[32];
	snprintf(key, sizeof(key), "%s:", irq);
	const char *p = NULL;
	for (const char *l = buf; l && !p; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		while (*l == ' ')
			l++;
		if (strncmp(l, key, strlen(key)) == 0)
			p = l + strlen(key);
	}
	assert_non_null(p);
	size_t n = 0;
	int used;
	unsigned long long v;
	while (n < max && sscanf(p, " %llu%n", &v, &used) == 1 && (p[used] == ' ' || p[used] == '\n')) {
		out[n++] = v;
		p += used;
	}
	return n;
}

static void test_interrupts_capture(void **state)
{
	(void)state;
	size_t len;
	char *buf = np_slurp(FIX "/proc/interrupts", &len);
	struct np_irq_table t;
	assert_int_equal(np_parse_interrupts(buf, len, &t), 0);
	/* CPU columns: count "CPU" words in the header line */
	size_t cpus = 0;
	for (const char *p = buf; p < strchr(buf, '\n'); p++)
		cpus += strncmp(p, "CPU", 3) == 0;
	assert_int_equal(t.ncpus, cpus);
	size_t lines = 0;
	for (const char *p = strchr(buf, '\n'); p && p[1]; p = strchr(p + 1, '\n'))
		lines++;
	assert_int_equal(t.nlines, lines);
	bool saw_err = false, saw_38 = false;
	for (size_t i = 0; i < t.nlines; i++) {
		if (strcmp(t.lines[i].irq, "ERR") == 0) {
			saw_err = true;
			assert_int_equal(t.lines[i].ncounts, 1);
		}
		if (strcmp(t.lines[i].irq, "38") == 0) {
			saw_38 = true;
			uint64_t want[64];
			size_t n = line_counts(buf, "38", want, 64);
			assert_int_equal(t.lines[i].ncounts, n);
			uint64_t sum = 0;
			for (size_t c = 0; c < n; c++) {
				assert_int_equal(t.lines[i].per_cpu[c], want[c]);
				sum += want[c];
			}
			assert_int_equal(t.lines[i].total, sum);
			assert_string_equal(t.lines[i].action, "virtio2-input.0");
		}
	}
	assert_true(saw_err);
	assert_true(saw_38);
	/* every numbered row is found by number, the others (ERR, NMI) by none */
	for (size_t i = 0; i < t.nlines; i++) {
		uint64_t v;
		if (np_parse_dec(t.lines[i].irq, UINT32_MAX, &v) == 0)
			assert_ptr_equal(np_irq_table_find(&t, (unsigned)v), &t.lines[i]);
	}
	assert_int_equal(t.nsorted, t.nlines - 16); /* the kernel's order: numbers, then NMI LOC ... ERR MIS PIN NPI PIW */
	assert_null(np_irq_table_find(&t, 9999));
	np_irq_table_free(&t);
	free(buf);
}

/* A row out of the kernel's order is still found, and a row with a number after it too. */
static void test_interrupts_find_unsorted(void **state)
{
	(void)state;
	const char *in = "  CPU0 CPU1\n 5: 1 2 a\n 9: 3 4 b\n 7: 5 6 c\n 11: 7 8 d\nNMI: 0 0 x\n";
	struct np_irq_table t;
	assert_int_equal(np_parse_interrupts(in, strlen(in), &t), 0);
	assert_int_equal(t.nsorted, 2);
	assert_string_equal(np_irq_table_find(&t, 5)->action, "a");
	assert_string_equal(np_irq_table_find(&t, 9)->action, "b");
	assert_string_equal(np_irq_table_find(&t, 7)->action, "c");
	assert_string_equal(np_irq_table_find(&t, 11)->action, "d");
	assert_null(np_irq_table_find(&t, 6));
	np_irq_table_free(&t);
}

/* A generated /proc/interrupts with @ncpu columns (CPU numbers doubled: gaps as with offline CPUs). */
static char *gen_interrupts(size_t ncpu)
{
	size_t cap = 64 + ncpu * 64, w = 0;
	char *b = malloc(cap);
	assert_non_null(b);
	for (size_t c = 0; c < ncpu; c++)
		w += snprintf(b + w, cap - w, " CPU%zu", c * 2);
	w += snprintf(b + w, cap - w, "\n 120:");
	for (size_t c = 0; c < ncpu; c++)
		w += snprintf(b + w, cap - w, " %zu", c == ncpu - 1 ? 1000 + c : c % 3);
	w += snprintf(b + w, cap - w, "  IR-PCI-MSIX-0000:3b:00.0 5-edge mlx5_comp5@pci:0000:3b:00.0\n");
	w += snprintf(b + w, cap - w, "ERR: 7\n");
	return b;
}

static void test_interrupts_many_cpus(void **state)
{
	(void)state;
	static const size_t sizes[] = { 1, 2, 256, 300 };
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t n = sizes[k];
		char *b = gen_interrupts(n);
		struct np_irq_table t;
		assert_int_equal(np_parse_interrupts(b, strlen(b), &t), 0);
		assert_int_equal(t.ncpus, n);
		assert_int_equal(t.cpu_ids[n - 1], 2 * (n - 1));
		assert_int_equal(t.nlines, 2);
		assert_int_equal(t.lines[0].ncounts, n);
		assert_int_equal(t.lines[0].per_cpu[n - 1], 1000 + n - 1);
		assert_string_equal(t.lines[0].action, "mlx5_comp5@pci:0000:3b:00.0");
		assert_int_equal(t.lines[1].ncounts, 1);
		assert_int_equal(t.lines[1].total, 7);
		/* the IRQ belongs to the NIC at 0000:3b:00.0; the busiest CPU is the last column */
		struct np_net_if nic = { .name = strdup("ens1f0"), .pci_address = strdup("0000:3b:00.0") };
		struct np_net s = { .ifs = &nic, .n = 1 };
		assert_int_equal(np_net_attach_irqs(&s, &t, NULL), 0);
		assert_int_equal(nic.nirqs, 1);
		assert_int_equal(nic.irq_busiest_cpu, 2 * (n - 1));
		uint64_t total = t.lines[0].total;
		assert_true(fabs(nic.irq_skew_percent - (1000.0 + n - 1) * 100.0 / total) < 1e-9);
		np_net_if_free(&nic);
		np_irq_table_free(&t);
		free(b);
	}
}

/* @buf in a memfd, read back by np_read_interrupts_fd() @chunk bytes at a time. */
static int read_by_pieces(const char *buf, size_t len, size_t chunk, struct np_irq_table *t)
{
	int fd = memfd_create("interrupts", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	int r = np_read_interrupts_fd(fd, chunk, t);
	close(fd);
	return r;
}

static void assert_same_table(const struct np_irq_table *a, const struct np_irq_table *b)
{
	assert_int_equal(a->ncpus, b->ncpus);
	assert_memory_equal(a->cpu_ids, b->cpu_ids, a->ncpus * sizeof(*a->cpu_ids));
	assert_int_equal(a->nlines, b->nlines);
	assert_int_equal(a->nsorted, b->nsorted);
	assert_int_equal(a->skipped, b->skipped);
	assert_int_equal(a->first_skipped, b->first_skipped);
	for (size_t i = 0; i < a->nlines; i++) {
		const struct np_irq_line *x = &a->lines[i], *y = &b->lines[i];
		assert_string_equal(x->irq, y->irq);
		assert_string_equal(x->desc, y->desc);
		assert_true(x->action ? y->action && strcmp(x->action, y->action) == 0 : !y->action);
		assert_int_equal(x->num, y->num);
		assert_int_equal(x->ncounts, y->ncounts);
		assert_int_equal(x->total, y->total);
		/* the whole row of the table's block: the counts, then zeros */
		assert_memory_equal(x->per_cpu, y->per_cpu, a->ncpus * sizeof(*x->per_cpu));
		for (size_t c = x->ncounts; c < a->ncpus; c++)
			assert_int_equal(x->per_cpu[c], 0);
	}
}

/* Read by pieces of any size (a line cut anywhere, a line longer than a piece), the file gives the table of the whole buffer. */
static void test_interrupts_read_by_pieces(void **state)
{
	(void)state;
	size_t len;
	char *cap = np_slurp(FIX "/proc/interrupts", &len);
	char *gen = gen_interrupts(300); /* a row of ~1 KiB */
	const struct {
		const char *buf;
		size_t len;
	} in[] = { { cap, len }, { gen, strlen(gen) } };
	static const size_t chunks[] = { 1, 7, 64, 4096, 256u << 10 };
	for (size_t i = 0; i < ARRAY_SIZE(in); i++) {
		struct np_irq_table whole;
		assert_int_equal(np_parse_interrupts(in[i].buf, in[i].len, &whole), 0);
		for (size_t k = 0; k < ARRAY_SIZE(chunks); k++) {
			struct np_irq_table t;
			assert_int_equal(read_by_pieces(in[i].buf, in[i].len, chunks[k], &t), 0);
			assert_same_table(&whole, &t);
			np_irq_table_free(&t);
		}
		np_irq_table_free(&whole);
	}
	free(gen);
	free(cap);
}

/* The same errors, in the same order: binary input found in a later piece, the parse's, and none for a last line without newline. */
static void test_interrupts_read_errors(void **state)
{
	(void)state;
	static const char *const in[] = {
		"",
		"  24: 1 0 IO-APIC\n",
		"  CPU0 CPU1\n  24 1 0 IO-APIC\n",
		"  CPU0\n  24: 99999999999999999999 x\n",
		"  CPU0\n  24: IO-APIC 5-edge\n",
		"  CPUx\n  24: 1 x\n",
		"  CPU0 CPU1\n  24: 5 6 IO-APIC 5-edge ACPI:Ged\n  25: 3",
		"  CPU0\n\n\n  x 1\n  24: 1 y\n  \n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(in); i++)
		for (size_t chunk = 1; chunk < 40; chunk += 6) {
			struct np_irq_table whole, t;
			int want = np_parse_interrupts(in[i], strlen(in[i]), &whole);
			assert_int_equal(read_by_pieces(in[i], strlen(in[i]), chunk, &t), want);
			if (want == 0)
				assert_same_table(&whole, &t);
			else
				assert_null(t.lines);
			np_irq_table_free(&whole);
			np_irq_table_free(&t);
		}
	/* a NUL after a header the parse refuses: binary input, as for the whole buffer */
	static const char bin[] = "  CPUx\n  24: 1 x\n  25: 2\0 y\n";
	struct np_irq_table t;
	assert_int_equal(np_parse_interrupts(bin, sizeof(bin) - 1, &t), -EINVAL);
	assert_int_equal(read_by_pieces(bin, sizeof(bin) - 1, 4, &t), -EINVAL);
	assert_null(t.lines);
	static const char bin2[] = "  CPU0\n  24: 1 x\n  25: 2\0 y\n";
	assert_int_equal(read_by_pieces(bin2, sizeof(bin2) - 1, 4, &t), -EINVAL);
	assert_null(t.lines);
}

/* Counts of every length, 1 to 20 digits (read 8 bytes at a time below 8), and what ends them. */
static void test_interrupts_count_lengths(void **state)
{
	(void)state;
	char buf[4096];
	size_t w = 0;
	uint64_t want[20];
	for (unsigned c = 0; c < 20; c++)
		w += (size_t)snprintf(buf + w, sizeof(buf) - w, " CPU%u", c);
	w += (size_t)snprintf(buf + w, sizeof(buf) - w, "\n  30:");
	for (unsigned d = 1; d <= 20; d++) {
		char num[32];
		for (unsigned k = 0; k < d; k++)
			num[k] = d >= 18 ? (k ? '0' : '1') : (char)('0' + (k * 7 + d) % 10); /* the sum stays below 2^64 */
		num[d] = '\0';
		want[d - 1] = strtoull(num, NULL, 10);
		w += (size_t)snprintf(buf + w, sizeof(buf) - w, "%s%s", d % 3 ? " " : "\t", num);
	}
	w += (size_t)snprintf(buf + w, sizeof(buf) - w, "\r\n  31: 5 1234567x 8 edge\n  32: 12345678901 7\tIR eth0\n");
	struct np_irq_table t;
	assert_int_equal(np_parse_interrupts(buf, w, &t), 0);
	assert_int_equal(t.nlines, 3);
	assert_int_equal(t.lines[0].ncounts, 20);
	for (unsigned d = 0; d < 20; d++)
		assert_true(t.lines[0].per_cpu[d] == want[d]);
	assert_int_equal(t.lines[1].ncounts, 1); /* "1234567x": not a count, the description starts there */
	assert_string_equal(t.lines[1].desc, "1234567x 8 edge");
	assert_int_equal(t.lines[2].ncounts, 2);
	assert_true(t.lines[2].per_cpu[0] == 12345678901ULL);
	assert_int_equal(t.lines[2].per_cpu[1], 7);
	np_irq_table_free(&t);
	/* one more than UINT64_MAX: the row is refused */
	static const char big[] = " CPU0\n  30: 18446744073709551616 x\n  31: 1 y\n";
	assert_int_equal(np_parse_interrupts(big, sizeof(big) - 1, &t), 0);
	assert_int_equal(t.nlines, 1);
	assert_int_equal(t.skipped, 1);
	np_irq_table_free(&t);
}

static void test_interrupts_garbage(void **state)
{
	(void)state;
	struct np_irq_table t;
	static const char *const bad[] = {
		"",                                         /* empty */
		"  24: 1 0 IO-APIC\n",                      /* no header */
		"  CPU0 CPU1\n  24 1 0 IO-APIC\n",          /* no colon */
		"  CPU0 CPU1\n  24: 1 0 5 IO-APIC\n",       /* more counts than CPUs */
		"  CPU0\n  24: 99999999999999999999 x\n",   /* overflow */
		"  CPU0\n  24: IO-APIC 5-edge\n",           /* no count */
		"  CPUx\n",                                 /* bad header */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = np_parse_interrupts(bad[i], strlen(bad[i]), &t);
		assert_true(r == -EINVAL || r == -ERANGE);
		assert_null(t.lines);
	}
	/* more CPU columns than any kernel has: refused, not truncated */
	char *huge = malloc(8200 * 12 + 1);
	size_t w = 0;
	for (unsigned c = 0; c <= NP_IRQ_MAX_CPUS; c++)
		w += sprintf(huge + w, " CPU%u", c);
	assert_int_equal(np_parse_interrupts(huge, w, &t), -EFBIG);
	free(huge);
	static const char bin[] = "  CPU0\n  24: 1\0 x\n";
	assert_int_equal(np_parse_interrupts(bin, sizeof(bin) - 1, &t), -EINVAL);
	/* a truncated last line still parses what is there */
	static const char trunc[] = "  CPU0 CPU1\n  24: 5 6 IO-APIC 5-edge ACPI:Ged\n  25: 3";
	assert_int_equal(np_parse_interrupts(trunc, sizeof(trunc) - 1, &t), 0);
	assert_int_equal(t.nlines, 2);
	assert_int_equal(t.lines[1].ncounts, 1);
	np_irq_table_free(&t);
}

static void test_stat_cpus(void **state)
{
	(void)state;
	size_t len;
	char *buf = np_slurp(FIX "/proc/stat", &len);
	struct np_cpu_sample *c;
	size_t n;
	assert_int_equal(np_parse_stat_cpus(buf, len, &c, &n), 0);
	size_t want = 0;
	for (const char *p = buf; (p = strstr(p, "\ncpu")); p++)
		want += p[4] >= '0' && p[4] <= '9';
	assert_int_equal(n, want);
	unsigned long long v[8];
	const char *l0 = strstr(buf, "\ncpu0 ");
	assert_int_equal(sscanf(l0, "\ncpu0 %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
				&v[2], &v[3], &v[4], &v[5], &v[6], &v[7]),
			 8);
	assert_int_equal(c[0].cpu, 0);
	assert_int_equal(c[0].softirq, v[6]);
	assert_int_equal(c[0].total, v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7]);
	free(c);
	free(buf);

	static const char *const bad[] = { "", "cpu 1 2 3 4 5 6 7 8\n", "cpu0 1 2 3\n",
					   "cpu0 1 2 3 4 5 6 x 8\n", "cpu0 1 2 3 4 5 6 7\ncpu0 1 2 3 4 5 6 7\n" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(np_parse_stat_cpus(bad[i], strlen(bad[i]), &c, &n), -EINVAL);
	assert_true(np_softirq_percent(0, 0) < 0);
	assert_true(fabs(np_softirq_percent(5, 200) - 2.5) < 1e-12);
}

static void test_irq_match_words(void **state)
{
	(void)state;
	struct np_irq_line l = { .irq = "90", .desc = "IR-PCI-MSIX-0000:5e:00.1 3-edge eth10-TxRx-2" };
	assert_false(np_net_irq_names(&l, "eth1"));
	assert_true(np_net_irq_names(&l, "eth10"));
	assert_true(np_net_irq_of_device(&l, "0000:5e:00.1", NULL, 0));
	assert_false(np_net_irq_of_device(&l, "0000:5e:00.0", NULL, 0));
	unsigned msi[] = { 89, 90 };
	assert_true(np_net_irq_of_device(&l, NULL, msi, 2));
	assert_false(np_net_irq_of_device(&l, NULL, msi, 1));
	struct np_irq_line nmi = { .irq = "NMI", .desc = "eth10 Non-maskable interrupts" };
	assert_false(np_net_irq_of_device(&nmi, "eth10", NULL, 0));
}

/* Two ports of one PCI function: named lines go to their port, unnamed ones to both. */
static void test_irq_attribution(void **state)
{
	(void)state;
	static const char in[] = "      CPU0 CPU1\n"
				 " 40: 5 0 PCI-MSIX-0000:3b:00.0 0-edge mlx4-async@pci:0000:3b:00.0\n"
				 " 41: 0 7 PCI-MSIX-0000:3b:00.0 1-edge eth1-0\n"
				 " 42: 3 1 PCI-MSIX-0000:3b:00.0 2-edge eth10-0\n"
				 " 43: 9 9 PCI-MSIX-0000:3c:00.0 0-edge virtio9-input.0\n"
				 "ERR: 0\n";
	struct np_irq_table t;
	assert_int_equal(np_parse_interrupts(in, sizeof(in) - 1, &t), 0);
	struct np_net_if ifs[3] = {
		{ .name = strdup("eth1"), .pci_address = strdup("0000:3b:00.0") },
		{ .name = strdup("eth10"), .pci_address = strdup("0000:3b:00.0") },
		{ .name = strdup("eth2") },
	};
	unsigned m2[] = { 43 };
	struct np_net_msi msi[3] = { { 0 }, { 0 }, { m2, 1 } };
	struct np_net s = { .ifs = ifs, .n = 3 };
	assert_int_equal(np_net_attach_irqs(&s, &t, msi), 0);
	assert_int_equal(ifs[0].nirqs, 2);
	assert_string_equal(ifs[0].irqs[0].irq, "40");
	assert_string_equal(ifs[0].irqs[1].irq, "41");
	assert_int_equal(ifs[1].nirqs, 2);
	assert_string_equal(ifs[1].irqs[1].irq, "42");
	assert_int_equal(ifs[2].nirqs, 1);
	assert_string_equal(ifs[2].irqs[0].name, "virtio9-input.0");
	/* eth1: CPU0 5, CPU1 7 -> CPU1 has 7/12; eth2: 9/18 on CPU0 (ties keep the first) */
	assert_int_equal(ifs[0].irq_busiest_cpu, 1);
	assert_true(fabs(ifs[0].irq_skew_percent - 700.0 / 12) < 1e-9);
	assert_int_equal(ifs[2].irq_busiest_cpu, 0);
	assert_true(fabs(ifs[2].irq_skew_percent - 50.0) < 1e-9);
	for (size_t i = 0; i < 3; i++)
		np_net_if_free(&ifs[i]);
	np_irq_table_free(&t);
}

/*
 * The linear attribution (an index of names, addresses and MSI numbers) gives each interface the
 * lines the rule gives it, line by line with np_net_irq_names() and np_net_irq_of_device():
 * prefixes (eth1/eth10/eth1.100), names inside other words, shared PCI functions, MSI numbers.
 */
static void test_irq_attribution_matches_the_rule(void **state)
{
	(void)state;
	static const char *const names[] = { "eth1", "eth10", "eth1.100", "br-eth1", "ens3f0", "ens3f0np0", "e", "" };
	static const char *const pcis[] = { "0000:3b:00.0", "0000:3b:00.1", NULL };
	size_t nif = 40, nlines = 600;
	unsigned seed = 7;
	char *in = NULL;
	size_t inlen = 0;
	FILE *f = open_memstream(&in, &inlen);
	assert_non_null(f);
	fputs("  CPU0 CPU1\n", f);
	for (size_t i = 0; i < nlines; i++) {
		seed = seed * 1103515245u + 12345u;
		size_t k = (seed >> 8) % nif;
		const char *pci = pcis[(seed >> 4) % 3];
		switch ((seed >> 16) % 5) {
		case 0: fprintf(f, " %zu: 1 2 PCI-MSIX-%s %zu-edge %s%zu-TxRx-0\n", 100 + i, pci ? pci : "x", i,
				names[k % 8], k / 8); break;
		case 1: fprintf(f, " %zu: 3 4 PCI-MSIX-%s %zu-edge mlx5_comp%zu@pci:%s\n", 100 + i, pci ? pci : "x", i, k,
				pci ? pci : "-"); break;
		case 2: fprintf(f, " %zu: 5 6 IR-PCI-MSI %zu-edge virtio%zu-input.0\n", 100 + i, i, k); break;
		case 3: fprintf(f, " %zu: 7 8 IO-APIC %zu-fasteoi %s%zu, eth%zu\n", 100 + i, i, names[k % 8], k / 8, k); break;
		default: fprintf(f, " %zu: 9 1 PCI-MSI %zu-edge eth1.100%zu\n", 100 + i, i, k % 3); break;
		}
	}
	fputs("NMI: 0 0 Non-maskable interrupts\nERR: 0\n", f);
	assert_int_equal(fclose(f), 0);
	struct np_irq_table t;
	assert_int_equal(np_parse_interrupts(in, inlen, &t), 0);
	struct np_net_if *ifs = calloc(nif, sizeof(*ifs));
	struct np_net_msi *msi = calloc(nif, sizeof(*msi));
	assert_non_null(ifs);
	assert_non_null(msi);
	for (size_t k = 0; k < nif; k++) {
		char nm[32];
		snprintf(nm, sizeof(nm), "%s%zu", names[k % 8], k / 8);
		ifs[k].name = strdup(nm);
		ifs[k].pci_address = pcis[k % 3] ? strdup(pcis[k % 3]) : NULL;
		msi[k].irq = calloc(4, sizeof(unsigned));
		for (unsigned j = 0; j < 4; j += 2) /* sorted: 100+k*7+j*150 */
			msi[k].irq[msi[k].n++] = 100 + (unsigned)k * 7 + j * 150;
	}
	struct np_net s = { .ifs = ifs, .n = nif };
	assert_int_equal(np_net_attach_irqs(&s, &t, msi), 0);
	size_t total = 0;
	for (size_t k = 0; k < nif; k++) {
		size_t got = 0;
		for (size_t i = 0; i < t.nlines; i++) {
			const struct np_irq_line *l = &t.lines[i];
			bool any = false, mine;
			for (size_t j = 0; j < nif; j++)
				any |= np_net_irq_names(l, ifs[j].name);
			mine = any ? np_net_irq_names(l, ifs[k].name)
				   : np_net_irq_of_device(l, ifs[k].pci_address, msi[k].irq, msi[k].n);
			if (!mine)
				continue;
			assert_true(got < ifs[k].nirqs);
			assert_string_equal(ifs[k].irqs[got].irq, l->irq);
			got++;
		}
		assert_int_equal(got, ifs[k].nirqs);
		total += got;
	}
	assert_true(total > nlines / 2); /* the rule gave out lines: the comparison compared something */
	for (size_t k = 0; k < nif; k++) {
		np_net_if_free(&ifs[k]);
		free(msi[k].irq);
	}
	free(ifs);
	free(msi);
	np_irq_table_free(&t);
	free(in);
}

/* --interval: deltas between two samples; a reset counter or a vanished line gives no figure. */
static void test_rates(void **state)
{
	(void)state;
	static const char a[] = "  CPU0 CPU2\n 30: 10 100 PCI-MSIX-0000:00:03.0 1-edge eth0-rx-0\n"
				" 31: 5 5 PCI-MSIX-0000:00:03.0 2-edge eth0-tx-0\n"
				" 32: 50 0 PCI-MSIX-0000:00:04.0 1-edge eth1-rx-0\n"
				" 33: 9 0 PCI-MSIX-0000:00:05.0 1-edge eth2-rx-0\n";
	static const char b[] = "  CPU0 CPU2\n 30: 10 400 PCI-MSIX-0000:00:03.0 1-edge eth0-rx-0\n"
				" 31: 105 5 PCI-MSIX-0000:00:03.0 2-edge eth0-tx-0\n"
				" 32: 40 0 PCI-MSIX-0000:00:04.0 1-edge eth1-rx-0\n";
	struct np_irq_table ta, tb;
	assert_int_equal(np_parse_interrupts(a, sizeof(a) - 1, &ta), 0);
	assert_int_equal(np_parse_interrupts(b, sizeof(b) - 1, &tb), 0);
	struct np_net_if *ifs = calloc(3, sizeof(*ifs));
	assert_non_null(ifs);
	ifs[0].name = strdup("eth0");
	ifs[1].name = strdup("eth1");
	ifs[2].name = strdup("eth2");
	struct np_net s = { .ifs = ifs, .n = 3 };
	assert_int_equal(np_net_attach_irqs(&s, &ta, NULL), 0);
	struct np_cpu_sample c1[] = { { 0, 10, 1000 }, { 2, 0, 1000 } };
	struct np_cpu_sample c2[] = { { 0, 60, 1200 }, { 2, 0, 1000 } };
	assert_int_equal(np_net_softirq_fill(&s, c1, 2), 0);
	s.cpu_raw = malloc(sizeof(c1));
	memcpy(s.cpu_raw, c1, sizeof(c1));
	s.ncpu_raw = 2;
	assert_int_equal(np_net_rates(&s, &tb, c2, 2, 2.0), 0);
	/* eth0: CPU0 +100, CPU2 +300 in 2 s */
	assert_true(fabs(ifs[0].rate_irqs_per_s - 200.0) < 1e-9);
	assert_int_equal(ifs[0].rate_irq_busiest_cpu, 2);
	assert_true(fabs(ifs[0].rate_irq_skew_percent - 75.0) < 1e-9);
	/* eth1 went backwards (reset), eth2's line vanished: no figures */
	assert_true(ifs[1].rate_irqs_per_s < 0 && ifs[1].rate_irq_skew_percent < 0);
	assert_true(ifs[2].rate_irqs_per_s < 0 && ifs[2].rate_irq_busiest_cpu == -1);
	/* softirq over the interval: CPU0 50/200 ticks; CPU1 absent; CPU2 no ticks passed */
	assert_int_equal(s.ncpu, 3);
	assert_true(fabs(s.softirq_interval_percent[0] - 25.0) < 1e-9);
	assert_true(s.softirq_interval_percent[1] < 0);
	assert_true(s.softirq_interval_percent[2] < 0);
	json_t *j = np_net_to_json(&s);
	assert_true(json_is_null(json_array_get(json_object_get(j, "softirq_interval_percent_per_cpu"), 1)));
	assert_true(json_is_null(json_object_get(json_object_get(json_array_get(json_object_get(j, "interfaces"), 1), "rates"), "irqs_per_s")));
	json_decref(j);
	np_net_free(&s);
	np_irq_table_free(&ta);
	np_irq_table_free(&tb);
}

/* Independent count of the files in a fixture folder. */
static size_t count_files(const char *rel)
{
	DIR *d = opendir(np_src(rel));
	assert_non_null(d);
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static uint64_t fixture_u64(const char *rel)
{
	char *s = np_slurp(rel, NULL);
	uint64_t v = strtoull(s, NULL, 0);
	free(s);
	return v;
}

static void test_collect_capture(void **state)
{
	(void)state;
	struct np_host h;
	assert_int_equal(np_host_open(&h, np_src(FIX)), 0);
	struct np_net s = { 0 };
	assert_int_equal(np_net_collect(&h, NP_NET_IOCTL_NEVER, &s), 0);
	assert_int_equal(s.status.err, 0);
	/* lo, ifb0, ifb1 have no device: only eth0 */
	assert_int_equal(s.n, 1);
	struct np_net_if *e = &s.ifs[0];
	assert_string_equal(e->name, "eth0");
	assert_string_equal(e->driver, "virtio_net");   /* sysfs driver link */
	assert_string_equal(e->ethtool_error, NP_NET_NOT_LIVE);
	assert_null(e->driver_version);
	assert_null(e->bus_info);
	assert_int_equal(e->nfeatures, 0);
	assert_string_equal(e->pci_address, "0000:00:03.0");
	assert_string_equal(e->vendor_id, "1af4");
	assert_string_equal(e->device_id, "1041");
	assert_int_equal(e->mtu, fixture_u64(ETH0 "/mtu"));
	assert_int_equal(e->ifindex, fixture_u64(ETH0 "/ifindex"));
	char *op = np_slurp(ETH0 "/operstate", NULL);
	op[strcspn(op, "\n")] = '\0';
	assert_string_equal(e->operstate, op);
	free(op);
	assert_int_equal(e->speed_mbps, -1); /* sysfs says -1: unknown, not 4294967295 */
	assert_null(e->duplex);              /* "unknown" */
	assert_int_equal(e->rx_queues, 1);
	assert_int_equal(e->tx_queues, 1);
	/* every statistics file, each with the file's value (case 27: names from sysfs) */
	assert_int_equal(e->nstats, count_files(ETH0 "/statistics"));
	for (size_t i = 0; i < e->nstats; i++) {
		char rel[256];
		snprintf(rel, sizeof(rel), ETH0 "/statistics/%s", e->stats[i].name);
		assert_int_equal(e->stats[i].value, fixture_u64(rel));
	}
	assert_true(np_net_stat_get(e, "rx_missed_errors") >= 0);
	assert_true(np_net_stat_get(e, "rx_over_errors") >= 0);
	assert_int_equal(np_net_stat_get(e, "missed"), -1);
	assert_int_equal(np_net_stat_get(e, "overrun"), -1);
	/* IRQs: the three MSI-X vectors of 0000:00:03.0 (its msi_irqs folder) */
	assert_int_equal(e->nirqs, count_files(FIX "/sys/bus/pci/devices/0000:00:03.0/msi_irqs"));
	assert_int_equal(e->nirqs, 3);
	assert_string_equal(e->irqs[0].name, "virtio2-config");
	assert_string_equal(e->irqs[1].name, "virtio2-input.0");
	assert_string_equal(e->irqs[2].name, "virtio2-output.0");
	uint64_t per[2] = { 0 }, all = 0;
	for (size_t i = 0; i < e->nirqs; i++)
		for (size_t c = 0; c < e->irqs[i].ncpu && c < 2; c++)
			per[c] += e->irqs[i].per_cpu[c], all += e->irqs[i].per_cpu[c];
	size_t best = per[1] > per[0];
	assert_int_equal(e->irq_busiest_cpu, best);
	assert_true(fabs(e->irq_skew_percent - per[best] * 100.0 / all) < 1e-9);
	/* softirq: one figure per cpuN line, within 0..100 */
	char *st = np_slurp(FIX "/proc/stat", NULL);
	size_t cpus = 0;
	for (const char *p = st; (p = strstr(p, "\ncpu")); p++)
		cpus += p[4] >= '0' && p[4] <= '9';
	free(st);
	assert_int_equal(s.ncpu, cpus);
	for (size_t c = 0; c < s.ncpu; c++)
		assert_true(s.softirq_percent[c] >= 0 && s.softirq_percent[c] <= 100);
	/* bundle: key from the PCI ids, unknown versions off the live host */
	struct np_bundle b = { 0 };
	assert_int_equal(np_net_bundle(&s, &b), 0);
	assert_int_equal(b.n, 1);
	assert_string_equal(b.items[0].key, "virtio_net 1af4:1041");
	assert_string_equal(b.items[0].value, "driver unknown firmware unknown");
	np_bundle_free(&b);
	/* JSON: speed null, features null off the live host, stats keyed by sysfs names */
	json_t *j = np_net_to_json(&s);
	json_t *i0 = json_array_get(json_object_get(j, "interfaces"), 0);
	assert_true(json_is_null(json_object_get(i0, "speed_mbps")));
	assert_true(json_is_null(json_object_get(i0, "features")));
	assert_non_null(json_object_get(json_object_get(i0, "stats"), "rx_missed_errors"));
	assert_int_equal(json_array_size(json_object_get(j, "softirq_percent_per_cpu")), s.ncpu);
	json_decref(j);
	np_net_free(&s);
	np_host_close(&h);
}

static void test_missing_sysfs_is_recorded(void **state)
{
	(void)state;
	struct np_host h;
	assert_int_equal(np_host_open(&h, np_src("tests/fixtures")), 0);
	struct np_collect_ctx ctx = { .host = &h };
	struct np_report r = { 0 };
	char *only[] = { "net", NULL };
	assert_int_equal(np_collect_all(&ctx, only, &r), 0);
	assert_int_equal(r.net.status.err, ENOENT);
	assert_non_null(strstr(r.net.status.error, "/sys/class/net"));
	np_report_free(&r);
	np_host_close(&h);
}

/* Regression: the NIC table printed -1/-1 and 0/0 where the JSON has null and {}. */
static void test_table_prints_dash_for_unknown(void **state)
{
	(void)state;
	char dir[64], cmd[256];
	np_fixture_copy(FIX, dir, sizeof(dir));
	snprintf(cmd, sizeof(cmd), "cd '%s/sys/devices/pci0000:00/0000:00:03.0/virtio2/net/eth0' && rm -r mtu queues statistics",
		 dir);
	assert_int_equal(system(cmd), 0);
	struct np_host h;
	assert_int_equal(np_host_open(&h, dir), 0);
	struct np_net s = { 0 };
	assert_int_equal(np_net_collect(&h, NP_NET_IOCTL_NEVER, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.ifs[0].mtu, -1);
	assert_int_equal(s.ifs[0].rx_queues, -1);
	json_t *j = np_net_to_json(&s);
	json_t *i0 = json_array_get(json_object_get(j, "interfaces"), 0);
	assert_true(json_is_null(json_object_get(i0, "mtu")));
	assert_int_equal(json_object_size(json_object_get(i0, "stats")), 0);
	json_decref(j);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct np_out o = { .f = f };
	np_net_print(&s, &o);
	fclose(f);
	char *row = strstr(buf, "\n  eth0 ");
	assert_non_null(row);
	row[strcspn(row + 1, "\n") + 1] = '\0';
	assert_null(strstr(row, "-1"));
	assert_null(strstr(row, "0/0"));
	assert_non_null(strstr(row, " -/- "));
	assert_true(strlen(row) > 3 && strcmp(row + strlen(row) - 3, "-/-") == 0);
	free(buf);
	np_net_free(&s);
	np_host_close(&h);
	np_fixture_drop(dir);
}

/*
 * Regression: one row without per-CPU counters made the whole file malformed and every NIC lost its
 * IRQ data. 32-bit ARM prints such a row: arch/arm/kernel/fiq.c show_fiq_list(),
 * seq_printf(p, "%*s: %s\n", prec, "FIQ", current_fiq->name). Inserted into the real capture.
 */
static void test_interrupts_row_without_counts_skipped(void **state)
{
	(void)state;
	char dir[64], p[160];
	np_fixture_copy(FIX, dir, sizeof(dir));
	snprintf(p, sizeof(p), "%s/proc/interrupts", dir);
	size_t len;
	char *buf = np_slurp(FIX "/proc/interrupts", &len);
	char *second = strchr(buf, '\n') + 1;
	char *mod = NULL;
	size_t mlen = 0;
	FILE *f = open_memstream(&mod, &mlen);
	fwrite(buf, 1, (size_t)(second - buf), f);
	fprintf(f, "%*s: %s\n", 3, "FIQ", "usb_fiq");
	fputs(second, f);
	fclose(f);
	f = fopen(p, "w");
	assert_non_null(f);
	fwrite(mod, 1, mlen, f);
	fclose(f);
	/* the parser: every row of the capture, the FIQ row counted and skipped at line 2 */
	struct np_irq_table t;
	assert_int_equal(np_parse_interrupts(mod, mlen, &t), 0);
	struct np_irq_table orig;
	assert_int_equal(np_parse_interrupts(buf, len, &orig), 0);
	assert_int_equal(t.nlines, orig.nlines);
	assert_int_equal(t.skipped, 1);
	assert_int_equal(t.first_skipped, 2);
	np_irq_table_free(&t);
	np_irq_table_free(&orig);
	free(mod);
	/* the collector: eth0 keeps its three MSI-X vectors, the skipped row is reported */
	struct np_host h;
	assert_int_equal(np_host_open(&h, dir), 0);
	struct np_net s = { 0 };
	assert_int_equal(np_net_collect(&h, NP_NET_IOCTL_NEVER, &s), 0);
	assert_int_equal(s.status.err, 0);
	assert_int_equal(s.interrupts_rows_skipped, 1);
	assert_int_equal(s.ifs[0].nirqs, 3);
	json_t *j = np_net_to_json(&s);
	assert_int_equal(json_integer_value(json_object_get(j, "interrupts_rows_skipped")), 1);
	json_decref(j);
	np_net_free(&s);
	np_host_close(&h);
	np_fixture_drop(dir);
	free(buf);
}

static void features_of(const struct np_report *r, char *out, size_t len)
{
	size_t k = 0;
	out[0] = '\0';
	for (size_t i = 0; i < r->net.n; i++)
		for (size_t f = 0; f < r->net.ifs[i].nfeatures && k < len; f++)
			k += (size_t)snprintf(out + k, len - k, "%s %s=%s;", r->net.ifs[i].name,
					      r->net.ifs[i].features[f].name, r->net.ifs[i].features[f].state);
}

/*
 * The agent's cycles on this machine keep the feature names (ETH_SS_FEATURES) as a fact and ask
 * their states every cycle: the same names and states as a one-shot run, cycle after cycle.
 */
static void test_live_cycles_keep_feature_names(void **state)
{
	(void)state;
	struct np_host h;
	assert_int_equal(np_host_open(&h, "/"), 0);
	char *only[] = { "net", NULL };
	static char once[65536], cyc[65536];
	struct np_collect_ctx one = { .host = &h };
	struct np_report r = { 0 };
	assert_int_equal(np_collect_all(&one, only, &r), 0);
	features_of(&r, once, sizeof(once));
	np_report_free(&r);
	if (!once[0])
		skip(); /* no NIC here answers ethtool: nothing kept to compare */
	struct np_collect_ctx ctx = { .host = &h };
	ctx.states = np_section_states_new(&ctx);
	assert_non_null(ctx.states);
	for (int c = 0; c < 3; c++) {
		struct np_report rc = { 0 };
		assert_int_equal(np_collect_all(&ctx, only, &rc), 0);
		features_of(&rc, cyc, sizeof(cyc));
		assert_string_equal(cyc, once);
		np_report_free(&rc);
	}
	np_section_states_free(ctx.states);
	np_host_close(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_case26_strings),
		cmocka_unit_test(test_same_device),
		cmocka_unit_test(test_feature_states),
		cmocka_unit_test(test_interrupts_capture),
		cmocka_unit_test(test_interrupts_find_unsorted),
		cmocka_unit_test(test_interrupts_many_cpus),
		cmocka_unit_test(test_interrupts_garbage),
		cmocka_unit_test(test_interrupts_count_lengths),
		cmocka_unit_test(test_interrupts_read_by_pieces),
		cmocka_unit_test(test_interrupts_read_errors),
		cmocka_unit_test(test_stat_cpus),
		cmocka_unit_test(test_irq_match_words),
		cmocka_unit_test(test_irq_attribution),
		cmocka_unit_test(test_irq_attribution_matches_the_rule),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_live_cycles_keep_feature_names),
		cmocka_unit_test(test_collect_capture),
		cmocka_unit_test(test_missing_sysfs_is_recorded),
		cmocka_unit_test(test_table_prints_dash_for_unknown),
		cmocka_unit_test(test_interrupts_row_without_counts_skipped),
	};
	return cmocka_run_group_tests_name("net", tests, NULL, NULL);
}
