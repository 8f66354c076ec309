// SPDX-License-Identifier: Apache-2.0
/*
 * dm-multipath: table/status parsers on the lines of ../shared/cases 13-17
 * and 34, multipathd JSON (case 15), and the table/status lines captured from
 * a real kernel (scsi_debug + dm-multipath in QEMU, tests/fixtures/qemu-mpath/).
 */
#include "testutil.h"
#include "../../pkg/collect/collector.h"
#include "../../pkg/collect/multipath.h"

#include <jansson.h>

static void parse_line(const char *line, bool table, struct np_mpath_map *m)
{
	char *name, *target, *params;
	const char *why = NULL;
	assert_int_equal(np_dm_line_params(line, &name, &target, &params), 0);
	assert_string_equal(target, "multipath");
	int r = table ? np_dm_mpath_parse_table(params, m, &why) : np_dm_mpath_parse_status(params, m, &why);
	if (r < 0)
		fail_msg("parse '%s': %s", line, why);
	free(name);
	free(target);
	free(params);
}

/* case 17: the Flatcar table line */
static void test_case17_table(void **state)
{
	(void)state;
	struct np_mpath_map m = { 0 };
	parse_line("0 20971520 multipath 2 queue_if_no_path retain_attached_hw_handler 1 emc 1 1 "
		   "service-time 0 1 1 8:16 1",
		   true, &m);
	assert_string_equal(m.features[0], "queue_if_no_path");
	assert_string_equal(m.features[1], "retain_attached_hw_handler");
	assert_null(m.features[2]);
	assert_string_equal(m.hardware_handler, "emc");
	assert_int_equal(m.n_groups, 1);
	assert_string_equal(m.groups[0].selector, "service-time 0");
	assert_int_equal(m.groups[0].n_paths, 1);
	assert_string_equal(m.groups[0].paths[0].major_minor, "8:16");
	assert_string_equal(m.groups[0].paths[0].args[0], "1");
	assert_false(m.groups[0].paths[0].have_state);
	np_mpath_map_free(&m);
}

/* case 17: status lines - one group of 2 paths; 4 groups (first A, rest E) */
static void test_case17_status(void **state)
{
	(void)state;
	struct np_mpath_map m = { 0 };
	parse_line("0 8192 multipath 2 0 0 0 1 1 A 0 2 0 8:208 A 0 65:0 A 0", false, &m);
	assert_int_equal(m.n_groups, 1);
	assert_int_equal(m.groups[0].state, 'A');
	assert_string_equal(m.groups[0].paths[1].major_minor, "65:0");
	assert_true(m.groups[0].paths[0].active && m.groups[0].paths[1].active);
	assert_true(m.have_queue_io);
	assert_false(m.queue_io);
	np_mpath_map_free(&m);

	parse_line("mpathY: 0 2097152 multipath 2 0 0 0 4 1 A 0 1 0 8:96 A 0 E 0 1 0 8:48 A 0 E 0 1 0 "
		   "8:144 A 0 E 0 1 0 8:192 A 0",
		   false, &m);
	assert_int_equal(m.n_groups, 4);
	const char states[] = "AEEE";
	size_t t, a, f;
	for (int g = 0; g < 4; g++) {
		assert_int_equal(m.groups[g].state, states[g]);
		assert_int_equal(m.groups[g].n_paths, 1);
	}
	np_mpath_map_counts(&m, &t, &a, &f);
	assert_int_equal(t, 4);
	assert_int_equal(a, 4);
	assert_int_equal(f, 0);
	np_mpath_map_free(&m);
}

/* Counts are consumed exactly: shifted, truncated, leftover and garbled input is -EINVAL */
static void test_counted_lists_strict(void **state)
{
	(void)state;
	static const char *bad_tables[] = {
		"",
		"2 queue_if_no_path",                                 /* truncated */
		"1 queue_if_no_path 0 1 1 round-robin 0 1 1 8:0",      /* path arg missing */
		"0 0 1 1 round-robin 0 1 1 8:0 1 extra",               /* leftover */
		"0 0 2 1 round-robin 0 1 1 8:0 1",                     /* second group missing */
		"0 0 1 3 round-robin 0 1 1 8:0 1",                     /* initial group > groups */
		"x 0 1 1 round-robin 0 1 1 8:0 1",                     /* not a count */
		"0 0 99999999999 1",                                   /* absurd count */
		"0 5 alua 0 1 1",                                      /* hw handler overruns */
		"0 0 1 1 round-robin 18446744073709551615 1 1 8:0 1",  /* huge selector count */
	};
	for (size_t i = 0; i < sizeof(bad_tables) / sizeof(bad_tables[0]); i++) {
		struct np_mpath_map m = { 0 };
		const char *why = NULL;
		if (np_dm_mpath_parse_table(bad_tables[i], &m, &why) != -EINVAL)
			fail_msg("table '%s' accepted", bad_tables[i]);
		assert_non_null(why);
		assert_int_equal(m.n_groups, 0); /* nothing half-filled */
		np_mpath_map_free(&m);
	}
	static const char *bad_status[] = {
		"2 0 0 0 1 1 X 0 1 0 8:0 A 0",  /* group state not A/E/D */
		"2 0 0 0 1 1 A 0 1 0 8:0 Q 0",  /* path state not A/F */
		"2 0 0 0 1 1 A 0 1 0 8:0 A x",  /* fail count */
		"2 0 0 0 1 1 A 0 1 2 8:0 A 0 0",/* selector args short */
		"2 0 0 0 1 1 A 0 1 0 8:0 A 0 9",/* leftover */
	};
	for (size_t i = 0; i < sizeof(bad_status) / sizeof(bad_status[0]); i++) {
		struct np_mpath_map m = { 0 };
		const char *why = NULL;
		if (np_dm_mpath_parse_status(bad_status[i], &m, &why) != -EINVAL)
			fail_msg("status '%s' accepted", bad_status[i]);
		assert_non_null(why);
		np_mpath_map_free(&m);
	}
	/* a status that names other paths than the table is a disagreement, not data */
	struct np_mpath_map m = { 0 };
	const char *why;
	assert_int_equal(np_dm_mpath_parse_table("0 0 1 1 round-robin 0 1 1 8:0 1", &m, &why), 0);
	assert_int_equal(np_dm_mpath_parse_status("2 0 0 0 1 1 A 0 1 0 8:16 A 0", &m, &why), -EINVAL);
	assert_non_null(strstr(why, "different paths"));
	assert_false(m.groups[0].paths[0].have_state);
	np_mpath_map_free(&m);
	char *n, *t, *p;
	assert_int_equal(np_dm_line_params("No devices found", &n, &t, &p), -EINVAL);
}

/* case 13: a map with no path groups has zero paths (worse than failed, not healthy) */
static void test_case13_no_groups(void **state)
{
	(void)state;
	struct np_mpath_map m = { 0 };
	const char *why;
	assert_int_equal(np_dm_mpath_parse_table("0 1 alua 0 0", &m, &why), 0);
	assert_string_equal(m.hardware_handler, "alua");
	assert_int_equal(np_dm_mpath_parse_status("2 1 0 0 0 0", &m, &why), 0);
	assert_true(m.queue_io);
	size_t t, a, f;
	np_mpath_map_counts(&m, &t, &a, &f);
	assert_int_equal(t, 0);
	assert_int_equal(a, 0);
	np_mpath_map_free(&m);
}

/* case 34: four single-path groups, the active one is the second */
static void test_case34_active_not_first(void **state)
{
	(void)state;
	struct np_mpath_map m = { 0 };
	const char *why;
	assert_int_equal(np_dm_mpath_parse_table("1 queue_if_no_path 0 4 2 service-time 0 1 2 8:144 1 1 "
						 "service-time 0 1 2 8:208 1 1 service-time 0 1 2 8:32 1 1 "
						 "service-time 0 1 2 8:16 1 1",
						 &m, &why),
			 0);
	assert_int_equal(np_dm_mpath_parse_status("2 0 0 0 4 2 E 0 1 2 8:144 A 0 0 1 A 0 1 2 8:208 A 0 0 1 "
						  "E 0 1 2 8:32 A 0 0 1 E 0 1 2 8:16 A 0 0 1",
						  &m, &why),
			 0);
	assert_int_equal(m.groups[0].state, 'E');
	assert_int_equal(m.groups[1].state, 'A');
	assert_string_equal(m.groups[1].paths[0].major_minor, "8:208");
	assert_int_equal(m.next_group, 2);
	np_mpath_map_free(&m);
}

/* case 15 and 14: multipathd JSON - "paths" counts ACTIVE paths; checker states kept */
static const char mpd_json[] =
	"{\"major_version\": 0, \"minor_version\": 1, \"maps\": [{\"name\": \"mpathaq\", "
	"\"uuid\": \"WWID-H8\", \"sysfs\": \"dm-3\", \"queueing\": \"on\", \"paths\": 0, "
	"\"path_faults\": 3, \"features\": \"1 queue_if_no_path\", \"path_groups\": [{\"selector\": "
	"\"service-time 0\", \"pri\": 50, \"dm_st\": \"enabled\", \"group\": 1, \"paths\": [{\"dev\": "
	"\"sdak\", \"dev_t\": \"66:64\", \"dm_st\": \"failed\", \"dev_st\": \"running\", \"chk_st\": "
	"\"faulty\"}, {\"dev\": \"sdaq\", \"dev_t\": \"66:160\", \"dm_st\": \"failed\", \"dev_st\": "
	"\"running\", \"chk_st\": \"faulty\"}]}, {\"selector\": \"service-time 0\", \"pri\": \"10\", "
	"\"group\": 2, \"paths\": [{\"dev\": \"sdab\", \"dev_t\": \"65:176\", \"dm_st\": \"failed\", "
	"\"dev_st\": \"offline\", \"chk_st\": \"undef\"}]}]}]}";

static void test_case15_multipathd_json(void **state)
{
	(void)state;
	struct np_mpd d;
	assert_int_equal(np_multipathd_parse_json(mpd_json, strlen(mpd_json), &d), 0);
	assert_int_equal(d.n_maps, 1);
	assert_int_equal(d.maps[0].paths_active, 0);
	assert_int_equal(d.maps[0].path_faults, 3);
	assert_int_equal(d.maps[0].n_groups, 2);
	assert_int_equal(d.maps[0].groups[1].pri, 10); /* a number printed as a string */

	/* the kernel's view of the same map: 3 paths, all failed, queueing */
	struct np_multipath s = { 0 };
	s.maps = calloc(1, sizeof(*s.maps));
	s.n_maps = 1;
	struct np_mpath_map *m = &s.maps[0];
	m->dm = strdup("dm-3");
	m->uuid = strdup("mpath-WWID-H8");
	const char *why;
	assert_int_equal(np_dm_mpath_parse_table("1 queue_if_no_path 0 2 1 service-time 0 2 2 66:64 1 1 "
						 "66:160 1 1 service-time 0 1 2 65:176 1 1",
						 m, &why),
			 0);
	assert_int_equal(np_dm_mpath_parse_status("2 1 0 0 2 1 E 0 2 2 66:64 F 4 0 1 66:160 F 2 0 1 "
						  "E 0 1 2 65:176 F 1 0 1",
						  m, &why),
			 0);
	assert_int_equal(np_multipathd_merge(&s, &d), 3);
	assert_string_equal(m->groups[0].paths[0].checker_state, "faulty");
	assert_string_equal(m->groups[1].paths[0].checker_state, "undef");
	assert_string_equal(m->groups[1].paths[0].dev_state, "offline");
	assert_int_equal(m->groups[0].priority, 50);
	json_t *j = np_multipath_to_json(&s);
	json_t *jm = json_array_get(json_object_get(j, "maps"), 0);
	/* total comes from walking the groups, not from multipathd's "paths" */
	assert_int_equal(json_integer_value(json_object_get(jm, "paths_total")), 3);
	assert_int_equal(json_integer_value(json_object_get(jm, "paths_active")), 0);
	assert_int_equal(json_integer_value(json_object_get(jm, "paths_failed")), 3);
	assert_true(json_is_true(json_object_get(jm, "queueing")));
	json_decref(j);
	np_mpd_free(&d);
	np_multipath_free(&s);

	/* case 16: truncated output is an error, never "no paths" */
	assert_int_equal(np_multipathd_parse_json(mpd_json, 200, &d), -EINVAL);
	assert_int_equal(np_multipathd_parse_json("fail\n", 5, &d), -EINVAL);
	assert_int_equal(np_multipathd_parse_json("{\"maps\": 3}", 11, &d), -EINVAL);
	/* an old multipathd without version keys, empty maps */
	assert_int_equal(np_multipathd_parse_json("{\"maps\": []}", 12, &d), 0);
	assert_int_equal(d.n_maps, 0);
	assert_int_equal(d.major_version, -1);
	np_mpd_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_case17_table),
		cmocka_unit_test(test_case17_status),
		cmocka_unit_test(test_counted_lists_strict),
		cmocka_unit_test(test_case13_no_groups),
		cmocka_unit_test(test_case34_active_not_first),
		cmocka_unit_test(test_case15_multipathd_json),
	};
	return cmocka_run_group_tests_name("multipath", tests, NULL, NULL);
}
