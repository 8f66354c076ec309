// SPDX-License-Identifier: Apache-2.0
/*
 * /proc/diskstats parser and iostat -x arithmetic: every line variant of
 * ../shared/cases/23-proc-diskstats-field-counts.md, this machine's capture,
 * hostile input, counter wrap and resets.
 */
#include "testutil.h"
#include "../../pkg/collect/diskstats.h"

/* case 23, "Input (from the issues)", verbatim */
static const char case23[] =
	"   8      16 sdb 147 0 9545 368 3 0 4096 17 0 352 385 0 0 0 0\n"
	" 259       0 nvme0n1 109916 11636 7124076 550966 115172 4137 9296402 219723 0 51641 694795 0 0 0 0 4958 2319\n"
	"   7       0 loop0 206 0 2462 48 0 0 0 0 0 32 56 0 0 0 0\n"
	" 252       0 vda 40894884 762897 4732260326 79610084 32058059 40015556 534598342 81434303 0 80401326 160952373\n"
	"8       0 sda 0 0 0 0 46 0 977 34 0 2 0 0 0 0\n";

#define MASK_UPTO(n) ((uint32_t)((1ULL << (n)) - 1))

static void test_case23_variants(void **state)
{
	(void)state;
	struct np_diskstats s;
	assert_int_equal(np_diskstats_parse(case23, sizeof(case23) - 1, &s), 0);
	assert_int_equal(s.n, 5);
	assert_int_equal(s.bad_lines, 0);

	/* line 1, 18 columns (4.18/4.19): discards present and 0, flushes absent */
	const struct np_diskstat *d = &s.dev[0];
	assert_string_equal(d->name, "sdb");
	assert_int_equal(d->major, 8);
	assert_int_equal(d->minor, 16);
	assert_int_equal(d->ncols, 18);
	assert_int_equal(d->c.present, MASK_UPTO(15));
	assert_int_equal(d->c.v[NP_DS_READS], 147);
	assert_int_equal(d->c.v[NP_DS_SECTORS_READ], 9545);
	assert_int_equal(d->c.v[NP_DS_READ_MS], 368);
	assert_int_equal(d->c.v[NP_DS_SECTORS_WRITTEN], 4096);
	assert_int_equal(d->c.v[NP_DS_IO_MS], 352);
	assert_int_equal(d->c.v[NP_DS_WEIGHTED_IO_MS], 385);
	assert_true(np_ds_has(&d->c, NP_DS_DISCARDS));
	assert_int_equal(d->c.v[NP_DS_DISCARDS], 0);
	assert_false(np_ds_has(&d->c, NP_DS_FLUSHES));

	/* line 2, 20 columns (5.5+): flushes 4958, flush time 2319 ms */
	d = &s.dev[1];
	assert_string_equal(d->name, "nvme0n1");
	assert_int_equal(d->major, 259);
	assert_int_equal(d->ncols, 20);
	assert_int_equal(d->c.present, MASK_UPTO(17));
	assert_int_equal(d->c.v[NP_DS_FLUSHES], 4958);
	assert_int_equal(d->c.v[NP_DS_FLUSH_MS], 2319);
	assert_int_equal(d->c.v[NP_DS_WRITES], 115172);
	assert_int_equal(d->c.v[NP_DS_WEIGHTED_IO_MS], 694795);

	/* line 4, 14 columns (2.6/3.x): counts above 2^32 kept, no discard fields */
	d = &s.dev[3];
	assert_string_equal(d->name, "vda");
	assert_int_equal(d->ncols, 14);
	assert_int_equal(d->c.present, MASK_UPTO(11));
	assert_int_equal(d->c.v[NP_DS_SECTORS_READ], 4732260326ULL);
	assert_int_equal(d->c.v[NP_DS_WEIGHTED_IO_MS], 160952373);
	assert_false(np_ds_has(&d->c, NP_DS_DISCARDS));

	/* line 5, lxcfs' 17 columns: fields 4-17 present (counters 1-14), 18+ absent */
	d = &s.dev[4];
	assert_string_equal(d->name, "sda");
	assert_int_equal(d->ncols, 17);
	assert_int_equal(d->c.present, MASK_UPTO(14));
	assert_int_equal(d->c.v[NP_DS_WRITES], 46);
	assert_int_equal(d->c.v[NP_DS_SECTORS_WRITTEN], 977);
	assert_int_equal(d->c.v[NP_DS_WRITE_MS], 34);
	assert_int_equal(d->c.v[NP_DS_IO_MS], 2);
	assert_true(np_ds_has(&d->c, NP_DS_SECTORS_DISCARDED));
	assert_false(np_ds_has(&d->c, NP_DS_DISCARD_MS));
	np_diskstats_free(&s);
}

static void test_partition_7_columns(void **state)
{
	(void)state;
	/* case 23: 2.6.0-2.6.25 partitions "3    1   hda1 8 8 8 8" */
	struct np_diskstat d;
	const char *why = NULL;
	static const char line[] = "   3    1   hda1 8 8 8 8";
	assert_int_equal(np_diskstats_parse_line(line, sizeof(line) - 1, &d, &why), 0);
	assert_string_equal(d.name, "hda1");
	assert_int_equal(d.ncols, 7);
	uint32_t want = 1u << NP_DS_READS | 1u << NP_DS_SECTORS_READ | 1u << NP_DS_WRITES |
			1u << NP_DS_SECTORS_WRITTEN;
	assert_int_equal(d.c.present, want);
	assert_false(np_ds_has(&d.c, NP_DS_IN_FLIGHT));
	/* positions: reads, sectors read, writes, sectors written */
	static const char l2[] = "3 2 hda2 11 22 33 44";
	assert_int_equal(np_diskstats_parse_line(l2, sizeof(l2) - 1, &d, &why), 0);
	assert_int_equal(d.c.v[NP_DS_READS], 11);
	assert_int_equal(d.c.v[NP_DS_SECTORS_READ], 22);
	assert_int_equal(d.c.v[NP_DS_WRITES], 33);
	assert_int_equal(d.c.v[NP_DS_SECTORS_WRITTEN], 44);
	/* a 7-column line has no rates (iostat needs the time fields) */
	struct np_block_rates r;
	assert_int_equal(np_ds_rates(&d.c, &d.c, 1000, &r), -ENODATA);
}

static void test_future_and_24_layouts(void **state)
{
	(void)state;
	struct np_diskstat d;
	/* case 23 line 2 with three extra columns from a future kernel: extras ignored */
	static const char fut[] = " 259       0 nvme0n1 109916 11636 7124076 550966 115172 4137 9296402 219723 0 "
				  "51641 694795 0 0 0 0 4958 2319 7 8 9";
	assert_int_equal(np_diskstats_parse_line(fut, sizeof(fut) - 1, &d, NULL), 0);
	assert_int_equal(d.ncols, 23);
	assert_int_equal(d.c.present, MASK_UPTO(17));
	assert_int_equal(d.c.v[NP_DS_FLUSH_MS], 2319);
	/* 2.4 layout (case 23 first source): "major minor #blocks name" then 11 counters */
	static const char old[] = "   3     0   39082680 hda 446216 784926 9550688 4382310 424847 312726 5922052 "
				  "19310380 0 3376340 23705160";
	assert_int_equal(np_diskstats_parse_line(old, sizeof(old) - 1, &d, NULL), 0);
	assert_string_equal(d.name, "hda");
	assert_int_equal(d.ncols, 15);
	assert_int_equal(d.c.v[NP_DS_READS], 446216);
	assert_int_equal(d.c.v[NP_DS_WEIGHTED_IO_MS], 23705160);
}

/* This machine: every line of the capture parses, values equal an independent sscanf. */
static void test_capture(void **state)
{
	(void)state;
	size_t len;
	char *buf = np_slurp("tests/fixtures/host-vm-block/proc/diskstats", &len);
	struct np_diskstats s;
	assert_int_equal(np_diskstats_parse(buf, len, &s), 0);
	size_t lines = 0;
	for (size_t i = 0; i < len; i++)
		lines += buf[i] == '\n';
	assert_true(lines > 0);
	assert_int_equal(s.n, lines);
	const struct np_diskstat *vda = np_diskstats_find(&s, 254, 0, "vda");
	assert_non_null(vda);
	char *line = strstr(buf, " vda ");
	assert_non_null(line);
	unsigned long long v[17];
	int k = sscanf(line, " vda %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
		       &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10], &v[11], &v[12],
		       &v[13], &v[14], &v[15], &v[16]);
	assert_int_equal(k, 17);
	assert_int_equal(vda->ncols, 20);
	for (int i = 0; i < 17; i++)
		assert_int_equal(vda->c.v[i], v[i]);
	assert_true(vda->c.v[NP_DS_READS] > 0);
	np_diskstats_free(&s);
	free(buf);
}

static void test_bad_input(void **state)
{
	(void)state;
	struct np_diskstats s;
	const char *why = NULL;
	struct np_diskstat d;
	assert_int_equal(np_diskstats_parse("", 0, &s), 0);
	assert_int_equal(s.n, 0);
	np_diskstats_free(&s);
	/* garbage between two good lines: the good ones kept, the bad counted */
	static const char mixed[] = "8 16 sdb 147 0 9545 368 3 0 4096 17 0 352 385 0 0 0 0\n"
				    "hello world\n"
				    "8 0 sda 1 2 3\n" /* truncated: 6 columns */
				    "8 1 sda1 -1 0 0 0 0 0 0 0 0 0 0\n"
				    "8 2 sda2 99999999999999999999 0 0 0 0 0 0 0 0 0 0\n"
				    "7 0 loop0 206 0 2462 48 0 0 0 0 0 32 56 0 0 0 0\n";
	assert_int_equal(np_diskstats_parse(mixed, sizeof(mixed) - 1, &s), -EINVAL);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.dev[0].name, "sdb");
	assert_string_equal(s.dev[1].name, "loop0");
	assert_int_equal(s.bad_lines, 4);
	assert_int_equal(s.first_bad_line, 2);
	assert_string_equal(s.first_bad_reason, "fewer than 7 columns");
	np_diskstats_free(&s);
	/* binary: a NUL inside a line */
	static const char nul[] = "8 0 sd\0a 1 2 3 4 5 6 7 8 9 10 11\n";
	assert_int_equal(np_diskstats_parse(nul, sizeof(nul) - 1, &s), -EINVAL);
	assert_int_equal(s.n, 0);
	assert_int_equal(s.bad_lines, 1);
	np_diskstats_free(&s);
	/* names: long ones (nvme12n3p14, dm-123) fine, a 64-byte one refused */
	static const char lng[] = "259 14 nvme12n3p14 1 2 3 4 5 6 7 8 9 10 11";
	assert_int_equal(np_diskstats_parse_line(lng, sizeof(lng) - 1, &d, &why), 0);
	assert_string_equal(d.name, "nvme12n3p14");
	char huge[200];
	snprintf(huge, sizeof(huge), "8 0 %064d 1 2 3 4 5 6 7 8 9 10 11", 7);
	assert_int_equal(np_diskstats_parse_line(huge, strlen(huge), &d, &why), -EINVAL);
	assert_string_equal(why, "device name too long");
	static const char ctl[] = "8 0 sd\x01 1 2 3 4 5 6 7 8 9 10 11";
	assert_int_equal(np_diskstats_parse_line(ctl, sizeof(ctl) - 1, &d, &why), -EINVAL);
	static const char mm[] = "8 99999999999 sda 1 2 3 4 5 6 7 8 9 10 11";
	assert_int_equal(np_diskstats_parse_line(mm, sizeof(mm) - 1, &d, &why), -EINVAL);
	assert_string_equal(why, "bad major:minor");
}

static void test_too_many_lines(void **state)
{
	(void)state;
	static const char line[] = "7 0 loop0 0 0 0 0 0 0 0 0 0 0 0\n";
	size_t n = NP_DS_MAX_LINES + 1, l = sizeof(line) - 1;
	char *buf = malloc(n * l);
	assert_non_null(buf);
	for (size_t i = 0; i < n; i++)
		memcpy(buf + i * l, line, l);
	struct np_diskstats s;
	assert_int_equal(np_diskstats_parse(buf, n * l, &s), -EFBIG);
	assert_int_equal(s.n, NP_DS_MAX_LINES);
	np_diskstats_free(&s);
	free(buf);
}

static void test_delta_wrap_and_reset(void **state)
{
	(void)state;
	struct np_ds_counters a = { .present = MASK_UPTO(11) }, b = a;
	uint64_t d;
	/* unsigned int milliseconds wrapping at 2^32 */
	a.v[NP_DS_READ_MS] = 4294967290ULL;
	b.v[NP_DS_READ_MS] = 5;
	assert_int_equal(np_ds_delta(&a, &b, NP_DS_READ_MS, &d), 0);
	assert_int_equal(d, 11);
	/* a 64-bit counter wrapping */
	a.v[NP_DS_READS] = UINT64_MAX - 1;
	b.v[NP_DS_READS] = 3;
	assert_int_equal(np_ds_delta(&a, &b, NP_DS_READS, &d), 0);
	assert_int_equal(d, 5);
	/* going back a long way: a re-added device, not a wrap */
	a.v[NP_DS_WRITES] = 1000000;
	b.v[NP_DS_WRITES] = 5;
	assert_int_equal(np_ds_delta(&a, &b, NP_DS_WRITES, &d), -ERANGE);
	a.v[NP_DS_SECTORS_WRITTEN] = 40000000000ULL;
	b.v[NP_DS_SECTORS_WRITTEN] = 7;
	assert_int_equal(np_ds_delta(&a, &b, NP_DS_SECTORS_WRITTEN, &d), -ERANGE);
	assert_int_equal(np_ds_delta(&a, &b, NP_DS_FLUSHES, &d), -ENODATA);
	struct np_block_rates r;
	assert_int_equal(np_ds_rates(&a, &b, 1000, &r), -ERANGE);
}

/* Second sample = case 23's nvme0n1 line plus known increments; iostat's figures by hand. */
static void test_rates(void **state)
{
	(void)state;
	struct np_diskstats s;
	assert_int_equal(np_diskstats_parse(case23, sizeof(case23) - 1, &s), 0);
	struct np_ds_counters a = s.dev[1].c, b = a;
	b.v[NP_DS_READS] += 100;
	b.v[NP_DS_READS_MERGED] += 10;
	b.v[NP_DS_SECTORS_READ] += 800;
	b.v[NP_DS_READ_MS] += 50;
	b.v[NP_DS_WRITES] += 200;
	b.v[NP_DS_SECTORS_WRITTEN] += 1600;
	b.v[NP_DS_WRITE_MS] += 400;
	b.v[NP_DS_IO_MS] += 500;
	b.v[NP_DS_WEIGHTED_IO_MS] += 1000;
	b.v[NP_DS_IN_FLIGHT] = 4;
	b.v[NP_DS_FLUSHES] += 20;
	b.v[NP_DS_FLUSH_MS] += 10;
	struct np_block_rates r;
	assert_int_equal(np_ds_rates(&a, &b, 2000, &r), 0);
	assert_float_equal(r.r_per_s, 50.0, 1e-9);
	assert_float_equal(r.rrqm_per_s, 5.0, 1e-9);
	assert_float_equal(r.rkb_per_s, 200.0, 1e-9);     /* 800 sectors * 512 B / 1024 / 2 s */
	assert_float_equal(r.r_await_ms, 0.5, 1e-9);      /* 50 ms / 100 reads */
	assert_float_equal(r.w_per_s, 100.0, 1e-9);
	assert_float_equal(r.wkb_per_s, 400.0, 1e-9);
	assert_float_equal(r.w_await_ms, 2.0, 1e-9);      /* 400 ms / 200 writes */
	assert_float_equal(r.aqu_sz, 0.5, 1e-9);          /* 1000 ms weighted / 2000 ms */
	assert_float_equal(r.util_percent, 25.0, 1e-9);   /* 500 ms busy / 2000 ms */
	assert_true(r.has_flushes);
	assert_float_equal(r.f_per_s, 10.0, 1e-9);
	assert_float_equal(r.f_await_ms, 0.5, 1e-9);
	assert_true(r.has_discards);
	assert_float_equal(r.d_per_s, 0.0, 1e-9);
	assert_int_equal(r.in_flight, 4);
	/* no read completed: r_await is 0, as iostat prints */
	b = a;
	b.v[NP_DS_READ_MS] += 7;
	assert_int_equal(np_ds_rates(&a, &b, 1000, &r), 0);
	assert_float_equal(r.r_await_ms, 0.0, 1e-9);
	/* write time wrapping at 2^32 ms in the interval */
	a.v[NP_DS_WRITE_MS] = 4294967000ULL;
	b = a;
	b.v[NP_DS_WRITES] += 4;
	b.v[NP_DS_WRITE_MS] = 104; /* 296 + 104 = 400 ms */
	assert_int_equal(np_ds_rates(&a, &b, 1000, &r), 0);
	assert_float_equal(r.w_await_ms, 100.0, 1e-9);
	assert_int_equal(np_ds_rates(&a, &b, 0, &r), -EINVAL);
	/* 14-column lines have no discards: d_* not meaningful */
	assert_int_equal(np_ds_rates(&s.dev[3].c, &s.dev[3].c, 1000, &r), 0);
	assert_false(r.has_discards);
	assert_false(r.has_flushes);
	np_diskstats_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_case23_variants),
		cmocka_unit_test(test_partition_7_columns),
		cmocka_unit_test(test_future_and_24_layouts),
		cmocka_unit_test(test_capture),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_too_many_lines),
		cmocka_unit_test(test_delta_wrap_and_reset),
		cmocka_unit_test(test_rates),
	};
	return cmocka_run_group_tests_name("diskstats", tests, NULL, NULL);
}
