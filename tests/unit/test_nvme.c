// SPDX-License-Identifier: Apache-2.0
/*
 * NVMe: SMART / firmware-slot / error-log / identify decoders on raw pages
 * built from the values of ../shared/cases 05-11 and 18, the JSON rules
 * (Kelvin, 0 K, 0xFFFF thresholds, 128-bit counters), polling, and pages and
 * sysfs captured from QEMU's NVMe controller (tests/fixtures/qemu-nvme/,
 * checked against nvme-cli's JSON of the same device).
 */
#include "testutil.h"
#include "../../pkg/collect/collector.h"
#include "../../pkg/collect/nvme.h"
#include "../../pkg/shared/macro.h"
#include "../../pkg/shared/strutil.h"

#include <jansson.h>

static void put_le(uint8_t *p, unsigned bytes, uint64_t v)
{
	for (unsigned i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static json_t *smart_json(const uint8_t *page)
{
	struct np_nvme_ctrl c = { 0 };
	assert_int_equal(np_nvme_smart_decode(page, 512, &c.smart), 0);
	json_t *o = np_nvme_ctrl_to_json(&c);
	json_t *s = json_incref(json_object_get(o, "smart"));
	json_decref(o);
	np_nvme_ctrl_free(&c);
	return s;
}

/* case 08: the three raw lines of nvme-cli #2759 */
static void test_case08_raw_lines(void **state)
{
	(void)state;
	uint8_t page[512] = { 0x00, 0x38, 0x01, 0x64, 0x0a, 0x01 };
	const uint8_t l2[] = { 0x3a, 0xbc, 0x28, 0x08 };
	memcpy(page + 0x20, l2, sizeof(l2));
	struct np_nvme_smart m;
	assert_int_equal(np_nvme_smart_decode(page, sizeof(page), &m), 0);
	assert_int_equal(m.temperature_kelvin, 312);
	assert_int_equal(m.available_spare_percent, 100);
	assert_int_equal(m.available_spare_threshold_percent, 10);
	assert_int_equal(m.percentage_used, 1);
	assert_true(m.plausible);
	json_t *s = smart_json(page);
	assert_int_equal(json_integer_value(json_object_get(s, "temperature_celsius")), 39);
	assert_int_equal(json_integer_value(json_object_get(s, "data_units_read")), 136887354);
	assert_int_equal(json_integer_value(json_object_get(s, "data_read_bytes")), 70086325248000LL);
	json_decref(s);
}

/* case 08: an all-zero page is an invalid read; 0 K is null, never -273 */
static void test_case08_zero_page(void **state)
{
	(void)state;
	uint8_t page[512] = { 0 };
	struct np_nvme_smart m;
	assert_int_equal(np_nvme_smart_decode(page, sizeof(page), &m), 0);
	assert_false(m.plausible);
	json_t *s = smart_json(page);
	assert_true(json_is_null(json_object_get(s, "temperature_celsius")));
	assert_false(json_is_true(json_object_get(s, "plausible")));
	assert_int_equal(json_array_size(json_object_get(s, "temperature_sensors")), 0);
	json_decref(s);
	int c = 12345;
	assert_int_equal(np_nvme_kelvin_to_celsius(0, &c), -ENODATA);
	assert_int_equal(c, 12345);
	/* too short to hold the counters */
	assert_int_equal(np_nvme_smart_decode(page, 231, &m), -EINVAL);
	assert_int_equal(np_nvme_smart_decode(NULL, 512, &m), -EINVAL);
}

/* case 07: JSON smart-log 301 K = 28 C; id-ctrl wctemp 348 K = 75 C; 250 K = -23 C (no wrap) */
static void test_case07_kelvin(void **state)
{
	(void)state;
	int c;
	assert_int_equal(np_nvme_kelvin_to_celsius(301, &c), 0);
	assert_int_equal(c, 28);
	assert_int_equal(np_nvme_kelvin_to_celsius(313, &c), 0);
	assert_int_equal(c, 40);
	assert_int_equal(np_nvme_threshold_celsius(348, &c), 0);
	assert_int_equal(c, 75);
	assert_int_equal(np_nvme_kelvin_to_celsius(0x00fa, &c), 0);
	assert_int_equal(c, -23);
	uint8_t page[512] = { 0 };
	put_le(page + 1, 2, 301);
	put_le(page + 200, 2, 312); /* sensor 1 */
	page[3] = 100;
	json_t *s = smart_json(page);
	assert_int_equal(json_integer_value(json_object_get(s, "temperature_celsius")), 28);
	assert_int_equal(json_integer_value(json_object_get(s, "temperature_kelvin")), 301);
	json_t *sens = json_object_get(s, "temperature_sensors");
	/* sensors 2..8 are 0 K = not implemented: omitted (case 08, Synology #443) */
	assert_int_equal(json_array_size(sens), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(sens, 0), "celsius")), 39);
	json_decref(s);
}

/* case 09: critical_warning bits; 0xFFFF K and 0 K thresholds are unset */
static void test_case09_bits_thresholds(void **state)
{
	(void)state;
	static const struct {
		uint8_t cw;
		const char *bits;
	} v[] = {
		{ 0x02, "temperature" },   { 0x04, "reliability" }, { 0x08, "read_only" },
		{ 0x01, "available_spare" }, { 0x10, "volatile_memory_backup" },
		{ 0x20, "persistent_memory_region" }, { 0x05, "available_spare,reliability" },
		{ 0xc0, "bit6,bit7" }, /* reserved bits kept, not dropped */
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint8_t page[512] = { v[i].cw, 0x39, 0x01, 100 };
		json_t *s = smart_json(page);
		assert_int_equal(json_integer_value(json_object_get(s, "critical_warning")), v[i].cw);
		json_t *bits = json_object_get(s, "critical_warning_bits");
		char got[128] = "";
		for (size_t k = 0; k < json_array_size(bits); k++) {
			strcat(got, k ? "," : "");
			strcat(got, json_string_value(json_array_get(bits, k)));
		}
		assert_string_equal(got, v[i].bits);
		json_decref(s);
	}
	int c = 7;
	assert_int_equal(np_nvme_threshold_celsius(0xFFFF, &c), -ENODATA);
	assert_int_equal(np_nvme_threshold_celsius(0, &c), -ENODATA);
	assert_int_equal(c, 7);
}

/* cases 05, 06, 11: counters are unsigned integers, never negative, float or grouped */
static void test_case05_big_counters(void **state)
{
	(void)state;
	uint8_t page[512] = { 0, 0x39, 0x01, 100 };
	put_le(page + 32, 8, 5);
	put_le(page + 40, 8, 1);                    /* data units read = 2^64 + 5 */
	put_le(page + 48, 8, 0);
	put_le(page + 56, 8, 0x8000000000000000ULL);
	put_le(page + 48, 8, 12345);                /* data units written = 2^127 + 12345 */
	put_le(page + 64, 8, 0x80000000ULL);        /* host reads: INT32_MIN when wrapped (case 05) */
	put_le(page + 80, 8, 0x8000000000000000ULL);/* host writes: 2^63, over int64 */
	put_le(page + 112, 8, 3200631791616ULL);    /* power cycles: case 06's value */
	put_le(page + 128, 8, 5716382);             /* power-on hours: case 11's value */
	json_t *s = smart_json(page);
	assert_string_equal(json_string_value(json_object_get(s, "data_units_read")), "18446744073709551621");
	assert_string_equal(json_string_value(json_object_get(s, "data_read_bytes")),
			    "9444732965739290429952000");
	assert_string_equal(json_string_value(json_object_get(s, "data_units_written")),
			    "170141183460469231731687303715884118073");
	assert_string_equal(json_string_value(json_object_get(s, "data_written_bytes")),
			    "87112285931760246646623899502532668453376000");
	assert_int_equal(json_integer_value(json_object_get(s, "host_read_commands")), 2147483648LL);
	assert_string_equal(json_string_value(json_object_get(s, "host_write_commands")), "9223372036854775808");
	assert_true(json_is_integer(json_object_get(s, "power_cycles")));
	assert_int_equal(json_integer_value(json_object_get(s, "power_cycles")), 3200631791616LL);
	assert_int_equal(json_integer_value(json_object_get(s, "power_on_hours")), 5716382);
	json_decref(s);
	/* case 11: 28'604'965 units -> 14'645'742'080'000 bytes, no separators */
	char buf[64];
	struct np_u128 u = { .lo = 28604965 };
	assert_string_equal(np_u128_times_to_dec(u, 512000, buf, sizeof(buf)), "14645742080000");
	u = (struct np_u128){ .hi = UINT64_MAX, .lo = UINT64_MAX };
	assert_string_equal(np_u128_to_dec(u, buf, sizeof(buf)), "340282366920938463463374607431768211455");
	assert_string_equal(np_u128_times_to_dec((struct np_u128){ 0 }, 512000, buf, sizeof(buf)), "0");
}

/* case 10: fixed-width identify strings; all-NUL model; NQN with internal spaces */
static void test_case10_fixed_width(void **state)
{
	(void)state;
	uint8_t id[4096];
	memset(id, 0, sizeof(id));
	memcpy(id + 4, "SERIAL01            ", 20);
	memcpy(id + 24, "WD_BLACK SN770 1TB                      ", 40);
	memcpy(id + 64, "ABCD1234", 8); /* fr fully used: no NUL inside the field */
	memcpy(id + 72, "XX", 2);       /* the next field must not leak into fr */
	static const char nqn[] =
		"nqn.2014.08.org.nvmexpress:1bb11bb1SERIAL01            Seagate FireCuda 530 ZP4000GM30023";
	memcpy(id + 768, nqn, sizeof(nqn) - 1);
	put_le(id + 266, 2, 348);
	put_le(id + 268, 2, 0xFFFF);
	id[260] = 0x3 << 1; /* 3 firmware slots */
	id[262] = 63;
	struct np_nvme_id_ctrl c;
	assert_int_equal(np_nvme_id_ctrl_decode(id, sizeof(id), &c), 0);
	assert_string_equal(c.serial, "SERIAL01");
	assert_string_equal(c.model, "WD_BLACK SN770 1TB");
	assert_string_equal(c.firmware_rev, "ABCD1234");
	assert_string_equal(c.subnqn, nqn);
	assert_int_equal(c.wctemp_kelvin, 348);
	assert_int_equal(c.cctemp_kelvin, 0xFFFF);
	assert_int_equal(c.fw_slots, 3);
	assert_int_equal(c.elpe, 63);
	np_nvme_id_ctrl_free(&c);

	memset(id + 24, 0, 40); /* propolis #1163: 40 NUL bytes */
	memcpy(id + 4, "\0\0\0\0                ", 20);
	assert_int_equal(np_nvme_id_ctrl_decode(id, sizeof(id), &c), 0);
	assert_null(c.model);
	assert_null(c.serial);
	np_nvme_id_ctrl_free(&c);
	memcpy(id + 24, "Samsung SSD 970 EVO Plus 2TB            ", 40);
	memcpy(id + 64, "1B2Q\0\0\0\0", 8); /* NUL-padded (propolis #790) */
	assert_int_equal(np_nvme_id_ctrl_decode(id, sizeof(id), &c), 0);
	assert_string_equal(c.model, "Samsung SSD 970 EVO Plus 2TB");
	assert_string_equal(c.firmware_rev, "1B2Q");
	np_nvme_id_ctrl_free(&c);
	assert_int_equal(np_nvme_id_ctrl_decode(id, 1023, &c), -EINVAL);
	/* the bundle never gets an empty key: a NULL model becomes "unknown" */
	struct np_nvme s = { 0 };
	struct np_nvme_ctrl ctrls[2] = { { .firmware_rev = "1.0" }, { .firmware_rev = "1.0" } };
	s.controllers = ctrls;
	s.n_controllers = 2;
	struct np_bundle b = { 0 };
	assert_int_equal(np_nvme_bundle(&s, &b), 0);
	assert_int_equal(np_bundle_finish(&b), 0);
	assert_int_equal(b.n, 1); /* identical pairs collapse */
	assert_string_equal(b.items[0].key, "unknown");
	assert_string_equal(b.items[0].value, "1.0");
	np_bundle_free(&b);
}

static void test_fw_slot_log(void **state)
{
	(void)state;
	uint8_t page[512] = { 0x21 }; /* active slot 1, slot 2 activated at next reset */
	memcpy(page + 8, "1.0     ", 8);
	memcpy(page + 16, "ABCD1234", 8);
	struct np_nvme_fw_slots fw;
	assert_int_equal(np_nvme_fw_slot_decode(page, sizeof(page), 0, &fw), 0);
	assert_int_equal(fw.active_slot, 1);
	assert_int_equal(fw.pending_slot, 2);
	assert_string_equal(fw.revision[0], "1.0");
	assert_string_equal(fw.revision[1], "ABCD1234");
	for (int i = 2; i < 7; i++)
		assert_null(fw.revision[i]);
	for (int i = 0; i < 7; i++)
		free(fw.revision[i]);
	/* a controller with one slot: later slots are not read */
	assert_int_equal(np_nvme_fw_slot_decode(page, sizeof(page), 1, &fw), 0);
	assert_null(fw.revision[1]);
	free(fw.revision[0]);
	assert_int_equal(np_nvme_fw_slot_decode(page, 63, 0, &fw), -EINVAL);
}

static void error_entry(uint8_t *e, uint64_t count, uint16_t status, uint64_t lba)
{
	put_le(e, 8, count);
	put_le(e + 8, 2, 0);      /* admin queue */
	put_le(e + 10, 2, 0x1234);
	put_le(e + 12, 2, (uint16_t)(status << 1 | 1)); /* phase tag set */
	put_le(e + 16, 8, lba);
	put_le(e + 24, 4, 1);
}

static void test_error_log(void **state)
{
	(void)state;
	uint8_t log[4 * 64] = { 0 };
	error_entry(log, 3, 0x4002, UINT64_MAX); /* DNR + Invalid Field */
	error_entry(log + 64, 0, 0, 0);          /* unused entry */
	error_entry(log + 128, 5, 0x0109, 4096);/* Invalid Log Page */
	error_entry(log + 192, 2, 0x0002, 8);
	struct np_nvme_error_entry *e;
	size_t n;
	uint64_t maxc;
	assert_int_equal(np_nvme_error_log_decode(log, sizeof(log), 2, &e, &n, &maxc), 0);
	assert_int_equal(n, 2);
	assert_int_equal(maxc, 5);
	assert_int_equal(e[0].error_count, 5); /* newest first */
	assert_int_equal(e[0].status, 0x0109);
	assert_int_equal(e[0].lba, 4096);
	assert_int_equal(e[1].error_count, 3);
	assert_int_equal(e[1].cmdid, 0x1234);
	struct np_nvme_ctrl c = { .errors = e, .n_errors = n };
	json_t *o = np_nvme_ctrl_to_json(&c);
	json_t *j = json_array_get(json_object_get(o, "error_log"), 1);
	assert_true(json_is_null(json_object_get(j, "lba"))); /* all-ones = no LBA */
	assert_true(json_is_true(json_object_get(j, "do_not_retry")));
	assert_int_equal(json_integer_value(json_object_get(j, "status_code")), 2);
	json_decref(o);
	np_nvme_ctrl_free(&c);
	/* nothing newer than the last seen count */
	assert_int_equal(np_nvme_error_log_decode(log, sizeof(log), 5, &e, &n, &maxc), 0);
	assert_int_equal(n, 0);
	assert_null(e);
	assert_int_equal(np_nvme_error_log_decode(log, 100, 0, &e, &n, &maxc), -EINVAL);
	assert_int_equal(np_nvme_error_log_decode(log, 0, 0, &e, &n, &maxc), -EINVAL);
}

static void test_poll(void **state)
{
	(void)state;
	struct np_nvme_poll p;
	np_nvme_poll_init(&p);
	assert_true(np_nvme_poll_smart_due(&p, 1000));
	p.have_smart = true;
	p.last_smart_ms = 1000;
	assert_false(np_nvme_poll_smart_due(&p, 30000));
	assert_false(np_nvme_poll_smart_due(&p, 60999));
	assert_true(np_nvme_poll_smart_due(&p, 61000));
	struct np_nvme_smart s = { .present = true, .num_err_log_entries = { .lo = 7 } };
	assert_true(np_nvme_poll_errlog_due(&p, &s));
	p.last_num_err_log_entries = 7;
	assert_false(np_nvme_poll_errlog_due(&p, &s));
	s.num_err_log_entries.hi = 1; /* beyond 2^64: saturated, still "grew" */
	assert_true(np_nvme_poll_errlog_due(&p, &s));
	s.present = false;
	assert_false(np_nvme_poll_errlog_due(&p, &s));
}

/* case 18: native multipath path devices and their namespace head */
static void test_case18_path_names(void **state)
{
	(void)state;
	char *h = np_nvme_path_head("nvme1c3n1");
	assert_string_equal(h, "nvme1n1");
	free(h);
	h = np_nvme_path_head("nvme28c28n12");
	assert_string_equal(h, "nvme28n12");
	free(h);
	assert_null(np_nvme_path_head("nvme28"));
	assert_null(np_nvme_path_head("nvme0n1"));
	assert_null(np_nvme_path_head("nvme1c3n"));
	assert_null(np_nvme_path_head("nvme1c3n1p1"));
}

/* ---- real captures: QEMU 7.2 NVMe controller, Debian 6.1 kernel, nvme-cli 2.3 / libnvme 1.3 ---- */

static json_t *load_json(const char *rel)
{
	json_error_t err;
	json_t *j = json_load_file(np_src(rel), 0, &err);
	if (!j)
		fail_msg("%s: %s", rel, err.text);
	return j;
}

/* nvme-cli prints 128-bit counters as strings, the rest as numbers */
static uint64_t cli_num(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (json_is_integer(v))
		return (uint64_t)json_integer_value(v);
	assert_true(json_is_string(v));
	return strtoull(json_string_value(v), NULL, 10);
}

static void assert_smart_equals_cli(const char *bin, const char *cli_json, uint8_t expect_cw)
{
	size_t len;
	char *page = np_slurp(bin, &len);
	assert_int_equal(len, 512);
	struct np_nvme_smart m;
	assert_int_equal(np_nvme_smart_decode(page, len, &m), 0);
	json_t *cli = load_json(cli_json);
	assert_int_equal(m.critical_warning, expect_cw);
	assert_int_equal(m.critical_warning, cli_num(cli, "critical_warning"));
	assert_int_equal(m.temperature_kelvin, cli_num(cli, "temperature")); /* nvme-cli JSON is Kelvin (case 07) */
	assert_int_equal(m.available_spare_percent, cli_num(cli, "avail_spare"));
	assert_int_equal(m.available_spare_threshold_percent, cli_num(cli, "spare_thresh"));
	assert_int_equal(m.percentage_used, cli_num(cli, "percent_used"));
	static const struct {
		const char *cli;
		size_t off;
	} c128[] = {
		{ "data_units_read", offsetof(struct np_nvme_smart, data_units_read) },
		{ "data_units_written", offsetof(struct np_nvme_smart, data_units_written) },
		{ "host_read_commands", offsetof(struct np_nvme_smart, host_read_commands) },
		{ "host_write_commands", offsetof(struct np_nvme_smart, host_write_commands) },
		{ "controller_busy_time", offsetof(struct np_nvme_smart, controller_busy_time_minutes) },
		{ "power_cycles", offsetof(struct np_nvme_smart, power_cycles) },
		{ "power_on_hours", offsetof(struct np_nvme_smart, power_on_hours) },
		{ "unsafe_shutdowns", offsetof(struct np_nvme_smart, unsafe_shutdowns) },
		{ "media_errors", offsetof(struct np_nvme_smart, media_errors) },
		{ "num_err_log_entries", offsetof(struct np_nvme_smart, num_err_log_entries) },
	};
	for (size_t i = 0; i < sizeof(c128) / sizeof(c128[0]); i++) {
		const struct np_u128 *v = (const struct np_u128 *)((const char *)&m + c128[i].off);
		assert_int_equal(v->hi, 0);
		if (v->lo != cli_num(cli, c128[i].cli))
			fail_msg("%s: ours %llu, nvme-cli %llu", c128[i].cli, (unsigned long long)v->lo,
				 (unsigned long long)cli_num(cli, c128[i].cli));
	}
	assert_int_equal(m.warning_temp_time_minutes, cli_num(cli, "warning_temp_time"));
	assert_int_equal(m.critical_comp_time_minutes, cli_num(cli, "critical_comp_time"));
	/* QEMU: 323 K = 50 C, spare 0 / threshold 0 yet plausible (hours and cycles are 0 too, but the
	   temperature is real): the spare bit, not "spare <= threshold", says whether spare is low */
	assert_int_equal(m.temperature_kelvin, 323);
	assert_true(m.plausible);
	json_decref(cli);
	free(page);
}

static void test_qemu_smart_equals_nvme_cli(void **state)
{
	(void)state;
	assert_smart_equals_cli("tests/fixtures/qemu-nvme/raw/smart.bin", "tests/fixtures/qemu-nvme/raw/smart-log.json", 0);
	/* after QMP qom-set smart_critical_warning=5: available_spare + reliability */
	assert_smart_equals_cli("tests/fixtures/qemu-nvme/raw/smart-critical.bin",
				"tests/fixtures/qemu-nvme/raw/smart-log-critical.json", 5);
}

static void test_qemu_fw_slot_and_identify(void **state)
{
	(void)state;
	size_t len;
	char *page = np_slurp("tests/fixtures/qemu-nvme/raw/fw-slot.bin", &len);
	json_t *cli = load_json("tests/fixtures/qemu-nvme/raw/fw-log.json");
	json_t *c0 = json_object_get(cli, "nvme0");
	struct np_nvme_fw_slots fw;
	assert_int_equal(np_nvme_fw_slot_decode(page, len, 0, &fw), 0);
	assert_int_equal(fw.active_slot, json_integer_value(json_object_get(c0, "Active Firmware Slot (afi)")));
	assert_int_equal(fw.pending_slot, 0);
	assert_string_equal(fw.revision[0], "1.0");
	/* nvme-cli 2.3 prints the slot as the u64 of its 8 bytes: "2314885530819505713 (1.0.....)" */
	uint64_t raw = 0;
	for (int i = 7; i >= 0; i--)
		raw = raw << 8 | (uint8_t)page[8 + i];
	assert_int_equal(raw, strtoull(json_string_value(json_object_get(c0, "Firmware Rev Slot 1")), NULL, 10));
	for (int i = 0; i < 7; i++)
		free(fw.revision[i]);
	json_decref(cli);
	free(page);

	page = np_slurp("tests/fixtures/qemu-nvme/raw/id-ctrl.bin", &len);
	cli = load_json("tests/fixtures/qemu-nvme/raw/id-ctrl.json");
	struct np_nvme_id_ctrl id;
	assert_int_equal(np_nvme_id_ctrl_decode(page, len, &id), 0);
	/* nvme-cli keeps the padding ("deadbeef            "); we trim it (case 10) */
	assert_string_equal(id.serial, "deadbeef");
	assert_string_equal(id.model, "QEMU NVMe Ctrl");
	assert_string_equal(id.firmware_rev, "7.2.22");
	assert_true(np_startswith(json_string_value(json_object_get(cli, "mn")), id.model));
	assert_true(np_startswith(json_string_value(json_object_get(cli, "fr")), id.firmware_rev));
	assert_string_equal(id.subnqn, json_string_value(json_object_get(cli, "subnqn")));
	assert_int_equal(id.wctemp_kelvin, cli_num(cli, "wctemp"));
	assert_int_equal(id.cctemp_kelvin, cli_num(cli, "cctemp"));
	assert_int_equal(id.elpe, cli_num(cli, "elpe"));
	assert_int_equal(id.fw_slots, (cli_num(cli, "frmw") >> 1) & 7);
	int c;
	assert_int_equal(np_nvme_threshold_celsius(id.wctemp_kelvin, &c), 0);
	assert_int_equal(c, 70);
	np_nvme_id_ctrl_free(&id);
	json_decref(cli);
	free(page);

	/* QEMU keeps no error entries: one all-zero entry -> nothing new */
	page = np_slurp("tests/fixtures/qemu-nvme/raw/error-log.bin", &len);
	struct np_nvme_error_entry *e;
	size_t n;
	uint64_t maxc;
	assert_int_equal(np_nvme_error_log_decode(page, len, 0, &e, &n, &maxc), 0);
	assert_int_equal(n, 0);
	free(page);
}

/* nodeprint run in the same guest: its JSON equals nvme-cli's numbers (Kelvin -> Celsius) */
static void test_qemu_guest_nodeprint_equals_nvme_cli(void **state)
{
	(void)state;
	json_t *np = load_json("tests/fixtures/qemu-nvme/raw/nodeprint-critical.json");
	json_t *cli = load_json("tests/fixtures/qemu-nvme/raw/smart-log-critical.json");
	json_t *c = json_array_get(json_object_get(json_object_get(np, "nvme"), "controllers"), 0);
	json_t *s = json_object_get(c, "smart");
	assert_string_equal(json_string_value(json_object_get(c, "model")), "QEMU NVMe Ctrl");
	assert_null(json_object_get(c, "error"));
	assert_int_equal(json_integer_value(json_object_get(s, "critical_warning")), cli_num(cli, "critical_warning"));
	assert_int_equal(json_integer_value(json_object_get(s, "temperature_celsius")),
			 (int64_t)cli_num(cli, "temperature") - 273);
	assert_int_equal(json_integer_value(json_object_get(s, "available_spare_percent")), cli_num(cli, "avail_spare"));
	assert_int_equal(json_integer_value(json_object_get(s, "data_units_read")), cli_num(cli, "data_units_read"));
	assert_int_equal(json_integer_value(json_object_get(s, "data_read_bytes")),
			 cli_num(cli, "data_units_read") * 512000);
	assert_int_equal(json_integer_value(json_object_get(s, "power_on_hours")), cli_num(cli, "power_on_hours"));
	json_t *bits = json_object_get(s, "critical_warning_bits");
	assert_int_equal(json_array_size(bits), 2);
	assert_string_equal(json_string_value(json_array_get(bits, 0)), "available_spare");
	assert_string_equal(json_string_value(json_array_get(bits, 1)), "reliability");
	json_decref(np);
	json_decref(cli);
}

/* The collector on the captured sysfs: no /dev in the tree -> sysfs facts, error recorded */
static void test_qemu_collect_sysfs(void **state)
{
	(void)state;
	struct np_host h;
	assert_int_equal(np_host_open(&h, np_src("tests/fixtures/qemu-nvme/root")), 0);
	struct np_collect_ctx ctx = { .host = &h };
	struct np_report r = { 0 };
	char *only[] = { "nvme", NULL };
	assert_int_equal(np_collect_all(&ctx, only, &r), 0);
	assert_int_equal(r.nvme.status.err, 0);
	assert_int_equal(r.nvme.n_controllers, 1);
	struct np_nvme_ctrl *c = &r.nvme.controllers[0];
	assert_string_equal(c->name, "nvme0");
	assert_string_equal(c->model, "QEMU NVMe Ctrl");
	assert_string_equal(c->serial, "deadbeef");
	assert_string_equal(c->firmware_rev, "7.2.22");
	assert_string_equal(c->state, "live");
	assert_string_equal(c->transport, "pcie");
	assert_string_equal(c->address, "0000:03:00.0");
	assert_string_equal(c->subsystem, "nvme-subsys0");
	assert_string_equal(c->subsystem_nqn, "nqn.2019-08.org.qemu:deadbeef");
	assert_int_equal(c->status.err, ENOENT);
	assert_non_null(strstr(c->status.error, "/dev/nvme0"));
	assert_false(c->smart.present);
	assert_int_equal(c->n_namespaces, 1);
	assert_string_equal(c->namespaces[0].name, "nvme0n1");
	assert_int_equal(c->namespaces[0].nsid, 1);
	assert_int_equal(c->namespaces[0].size_bytes, 64 << 20); /* qemu-img create 64M */
	assert_int_equal(c->namespaces[0].n_paths, 0);           /* not a shared namespace: no head */
	assert_int_equal(r.nvme.n_subsystems, 1);
	assert_string_equal(r.nvme.subsystems[0].iopolicy, "numa");
	/* bundle: nvme "QEMU NVMe Ctrl" -> 7.2.22 (QEMU's version) */
	int found = 0;
	for (size_t i = 0; i < r.bundle.n; i++)
		if (streq(r.bundle.items[i].component, "nvme")) {
			assert_string_equal(r.bundle.items[i].key, "QEMU NVMe Ctrl");
			assert_string_equal(r.bundle.items[i].value, "7.2.22");
			found++;
		}
	assert_int_equal(found, 1);
	np_report_free(&r);
	np_host_close(&h);
}

/* native NVMe multipath (QEMU nvme-subsys, two controllers sharing nsid 1): head and path devices */
static void test_qemu_native_multipath(void **state)
{
	(void)state;
	struct np_host h;
	assert_int_equal(np_host_open(&h, np_src("tests/fixtures/qemu-nvme-mpath/root")), 0);
	struct np_collect_ctx ctx = { .host = &h };
	struct np_report r = { 0 };
	char *only[] = { "nvme", NULL };
	assert_int_equal(np_collect_all(&ctx, only, &r), 0);
	assert_int_equal(r.nvme.n_controllers, 2);
	assert_int_equal(r.nvme.n_subsystems, 1);
	assert_string_equal(r.nvme.subsystems[0].nqn, "nqn.2019-08.org.qemu:nodeprint-lab");
	assert_string_equal(r.nvme.subsystems[0].controllers[0], "nvme0");
	assert_string_equal(r.nvme.subsystems[0].controllers[1], "nvme1");
	assert_null(r.nvme.subsystems[0].controllers[2]);
	for (int i = 0; i < 2; i++) {
		struct np_nvme_ctrl *c = &r.nvme.controllers[i];
		char path[32];
		snprintf(path, sizeof(path), "nvme0c%dn1", i);
		assert_string_equal(c->subsystem, "nvme-subsys0");
		assert_int_equal(c->n_namespaces, 1);
		assert_string_equal(c->namespaces[0].name, "nvme0n1"); /* the head, named after the subsystem */
		assert_int_equal(c->namespaces[0].nsid, 1);
		assert_int_equal(c->namespaces[0].size_bytes, 64 << 20);
		assert_int_equal(c->namespaces[0].n_paths, 1);
		assert_string_equal(c->namespaces[0].paths[0].name, path);
		assert_null(c->namespaces[0].paths[0].ana_state); /* QEMU has no ANA: no attribute, not "optimized" */
	}
	np_report_free(&r);
	np_host_close(&h);
}

/*
 * Regression: ana_state was read only on nvmeXcYnZ path devices. With native multipath off the
 * kernel shows it on nvmeXnY (nvme_ns_id_attrs_are_visible()). The qemu-nvme capture (a namespace
 * without paths) with ana_state written as ana_state_show() prints it: nvme_ana_state_names[] "%s\n".
 */
static void test_ana_state_on_namespace_disk(void **state)
{
	(void)state;
	char dir[64], p[160];
	np_fixture_copy("tests/fixtures/qemu-nvme/root", dir, sizeof(dir));
	snprintf(p, sizeof(p), "%s/sys/block/nvme0n1/ana_state", dir);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs("non-optimized\n", f);
	fclose(f);
	struct np_host h;
	assert_int_equal(np_host_open(&h, dir), 0);
	struct np_collect_ctx ctx = { .host = &h };
	struct np_report r = { 0 };
	char *only[] = { "nvme", NULL };
	assert_int_equal(np_collect_all(&ctx, only, &r), 0);
	const struct np_nvme_ns *ns = &r.nvme.controllers[0].namespaces[0];
	assert_int_equal(ns->n_paths, 0);
	assert_string_equal(ns->ana_state, "non-optimized");
	json_t *j = np_nvme_to_json(&r.nvme);
	json_t *jns = json_array_get(json_object_get(json_array_get(json_object_get(j, "controllers"), 0), "namespaces"), 0);
	assert_string_equal(json_string_value(json_object_get(jns, "ana_state")), "non-optimized");
	json_decref(j);
	np_report_free(&r);
	np_host_close(&h);
	np_fixture_drop(dir);
	/* the capture as it is: no attribute, null (not "optimized") */
	assert_int_equal(np_host_open(&h, np_src("tests/fixtures/qemu-nvme/root")), 0);
	r = (struct np_report){ 0 };
	assert_int_equal(np_collect_all(&ctx, only, &r), 0);
	assert_null(r.nvme.controllers[0].namespaces[0].ana_state);
	np_report_free(&r);
	np_host_close(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_case08_raw_lines),
		cmocka_unit_test(test_ana_state_on_namespace_disk),
		cmocka_unit_test(test_case08_zero_page),
		cmocka_unit_test(test_case07_kelvin),
		cmocka_unit_test(test_case09_bits_thresholds),
		cmocka_unit_test(test_case05_big_counters),
		cmocka_unit_test(test_case10_fixed_width),
		cmocka_unit_test(test_fw_slot_log),
		cmocka_unit_test(test_error_log),
		cmocka_unit_test(test_poll),
		cmocka_unit_test(test_case18_path_names),
		cmocka_unit_test(test_qemu_smart_equals_nvme_cli),
		cmocka_unit_test(test_qemu_fw_slot_and_identify),
		cmocka_unit_test(test_qemu_guest_nodeprint_equals_nvme_cli),
		cmocka_unit_test(test_qemu_collect_sysfs),
		cmocka_unit_test(test_qemu_native_multipath),
	};
	return cmocka_run_group_tests_name("nvme", tests, NULL, NULL);
}
