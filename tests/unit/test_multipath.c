// SPDX-License-Identifier: Apache-2.0
/*
 * dm-multipath: table/status parsers on the lines of ../shared/cases 13-17
 * and 34, multipathd JSON (case 15), and the table/status lines captured from
 * a real kernel (scsi_debug + dm-multipath in QEMU, tests/fixtures/qemu-mpath/).
 */
#include "testutil.h"
#include "../../pkg/collect/collector.h"
#include "../../pkg/collect/multipath.h"
#include "../../pkg/agent/metrics.h"
#include "../../pkg/policy/desired.h"
#include "../../pkg/shared/macro.h"

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

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

/* ---- real captures: scsi_debug (2 hosts x 2 LUNs) + dm-multipath, Debian 6.1 kernel in QEMU ---- */

/* The line of a `dmsetup table|status` capture that starts with "<name>: ". */
static char *capture_line(const char *rel, const char *name)
{
	char *buf = np_slurp(rel, NULL);
	size_t nl = strlen(name);
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		if (strncmp(line, name, nl) == 0 && line[nl] == ':') {
			char *r = strdup(line);
			free(buf);
			return r;
		}
	fail_msg("%s: no line for %s", rel, name);
	return NULL;
}

static void apply_capture(struct np_mpath_map *m, const char *dir, const char *state, const char *name)
{
	char rel[256];
	snprintf(rel, sizeof(rel), "%s/table-%s.txt", dir, state);
	char *t = capture_line(rel, name);
	snprintf(rel, sizeof(rel), "%s/status-%s.txt", dir, state);
	char *s = capture_line(rel, name);
	parse_line(t, true, m);
	parse_line(s, false, m);
	free(t);
	free(s);
}

/* boot 1: the collector on the captured sysfs (not live: no dm ioctl), then the captured lines */
static void test_qemu_collect_sysfs_and_lines(void **state)
{
	(void)state;
	struct np_host h;
	assert_int_equal(np_host_open(&h, np_src("tests/fixtures/qemu-mpath/boot1/root")), 0);
	struct np_collect_ctx ctx = { .host = &h };
	struct np_report r = { 0 };
	char *only[] = { "multipath", NULL };
	assert_int_equal(np_collect_all(&ctx, only, &r), 0);
	struct np_multipath *s = &r.multipath;
	assert_int_equal(s->n_maps, 2);
	struct np_mpath_map *a = &s->maps[0];
	assert_string_equal(a->dm, "dm-0");
	assert_string_equal(a->name, "mpatha");
	assert_string_equal(a->uuid, "mpath-333333330000007d1"); /* scsi_debug LUN 1's naa WWID */
	assert_string_equal(a->major_minor, "254:0");           /* dm major 254 in this guest */
	assert_int_equal(a->size_bytes, 16 << 20);
	assert_string_equal(a->slaves[0], "sda");
	assert_string_equal(a->slaves[1], "sdd");
	assert_null(a->slaves[2]);
	assert_int_equal(a->status.err, EOPNOTSUPP); /* sysfs facts kept, table needs the live host */
	assert_false(s->multipathd_available);
	assert_non_null(s->multipathd.error);
	assert_string_equal(s->maps[1].name, "mpathb");

	/* with the lines dmsetup printed in that guest: paths named through /sys/dev/block */
	static const struct {
		const char *state;
		const char *dev[2];
		bool active[2];
		uint64_t fails[2];
		char gstate[2];
	} v[] = {
		{ "healthy", { "sda", "sdd" }, { true, true }, { 0, 0 }, { 'E', 'E' } },
		{ "failed", { "sda", "sdd" }, { false, true }, { 1, 0 }, { 'E', 'A' } },
		{ "reinstated", { "sda", "sdd" }, { true, true }, { 1, 0 }, { 'E', 'A' } },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		apply_capture(a, "tests/fixtures/qemu-mpath/boot1/raw", v[i].state, "mpatha");
		np_mpath_path_names(&h, a);
		assert_string_equal(a->features[0], "queue_if_no_path");
		assert_int_equal(a->n_groups, 2);
		for (int g = 0; g < 2; g++) {
			struct np_mpath_path *p = &a->groups[g].paths[0];
			assert_string_equal(a->groups[g].selector, "service-time 0");
			assert_string_equal(p->dev, v[i].dev[g]);
			assert_int_equal(p->active, v[i].active[g]);
			assert_int_equal(p->fail_count, v[i].fails[g]);
			assert_int_equal(a->groups[g].state, v[i].gstate[g]);
		}
	}
	/* before any I/O the map had no current group and queued (status "2 1 0") */
	apply_capture(a, "tests/fixtures/qemu-mpath/boot1/raw", "healthy", "mpatha");
	assert_true(a->queue_io);
	np_report_free(&r);
	np_host_close(&h);
}

static json_t *load_json(const char *rel)
{
	json_error_t err;
	json_t *j = json_load_file(np_src(rel), 0, &err);
	if (!j)
		fail_msg("%s: %s", rel, err.text);
	return j;
}

static json_t *mpd_path(json_t *maps, const char *dev_t)
{
	for (size_t i = 0; i < json_array_size(maps); i++) {
		json_t *gs = json_object_get(json_array_get(maps, i), "path_groups");
		for (size_t g = 0; g < json_array_size(gs); g++) {
			json_t *ps = json_object_get(json_array_get(gs, g), "paths");
			for (size_t k = 0; k < json_array_size(ps); k++) {
				json_t *p = json_array_get(ps, k);
				if (streq(json_string_value(json_object_get(p, "dev_t")), dev_t))
					return p;
			}
		}
	}
	return NULL;
}

/* boot 2: multipathd 0.9.4 running; our parse + merge of its JSON vs its own view */
static void test_qemu_multipathd_merge(void **state)
{
	(void)state;
	char *buf = np_slurp("tests/fixtures/qemu-mpath/boot2/raw/multipathd-maps-failed.json", NULL);
	struct np_mpd d;
	assert_int_equal(np_multipathd_parse_json(buf, strlen(buf), &d), 0);
	assert_int_equal(d.n_maps, 2);
	assert_int_equal(d.major_version, 0);
	struct np_multipath s = { 0 };
	s.maps = calloc(2, sizeof(*s.maps));
	s.n_maps = 2;
	const char *names[] = { "333333330000007d0", "333333330000007d1" };
	for (int i = 0; i < 2; i++) {
		s.maps[i].name = strdup(names[i]);
		apply_capture(&s.maps[i], "tests/fixtures/qemu-mpath/boot2/raw", "failed", names[i]);
	}
	assert_int_equal(np_multipathd_merge(&s, &d), 4);
	json_t *mpd = load_json("tests/fixtures/qemu-mpath/boot2/raw/multipathd-maps-failed.json");
	json_t *maps = json_object_get(mpd, "maps");
	for (int i = 0; i < 2; i++) {
		size_t t, act, f;
		np_mpath_map_counts(&s.maps[i], &t, &act, &f);
		assert_int_equal(t, 2);
		assert_int_equal(f, 1);
		/* case 15: multipathd's "paths" is the ACTIVE count */
		assert_int_equal(act, d.maps[i].paths_active);
		for (size_t g = 0; g < s.maps[i].n_groups; g++)
			for (size_t k = 0; k < s.maps[i].groups[g].n_paths; k++) {
				struct np_mpath_path *p = &s.maps[i].groups[g].paths[k];
				json_t *q = mpd_path(maps, p->major_minor);
				assert_non_null(q);
				/* the kernel's A/F equals multipathd's dm_st; checker state carried over */
				assert_string_equal(p->active ? "active" : "failed",
						    json_string_value(json_object_get(q, "dm_st")));
				assert_string_equal(p->checker_state, json_string_value(json_object_get(q, "chk_st")));
				assert_string_equal(p->checker_state, p->active ? "ready" : "faulty");
				assert_string_equal(p->dev_state, p->active ? "running" : "offline");
			}
	}
	assert_true(s.maps[0].groups[1].have_priority);
	assert_int_equal(s.maps[0].groups[1].priority, 10);
	json_decref(mpd);
	np_multipath_free(&s);
	np_mpd_free(&d);
	free(buf);
}

/* nodeprint run in that guest (live: libdevmapper + multipathd) agrees with multipathd */
static void test_qemu_guest_nodeprint_equals_multipathd(void **state)
{
	(void)state;
	static const char *const st[] = { "multipathd", "failed", "reinstated" };
	for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
		char rel[128];
		snprintf(rel, sizeof(rel), "tests/fixtures/qemu-mpath/boot2/raw/nodeprint-%s.json", st[i]);
		json_t *np = load_json(rel);
		snprintf(rel, sizeof(rel), "tests/fixtures/qemu-mpath/boot2/raw/multipathd-maps%s%s.json",
			 streq(st[i], "multipathd") ? "" : "-", streq(st[i], "multipathd") ? "" : st[i]);
		json_t *mpd = load_json(rel);
		json_t *mp = json_object_get(np, "multipath");
		assert_true(json_is_true(json_object_get(json_object_get(mp, "multipathd"), "available")));
		json_t *maps = json_object_get(mp, "maps");
		assert_int_equal(json_array_size(maps), 2);
		size_t failed = 0;
		for (size_t m = 0; m < 2; m++) {
			json_t *jm = json_array_get(maps, m);
			assert_null(json_object_get(jm, "error"));
			json_t *gs = json_object_get(jm, "path_groups");
			for (size_t g = 0; g < json_array_size(gs); g++) {
				json_t *ps = json_object_get(json_array_get(gs, g), "paths");
				for (size_t k = 0; k < json_array_size(ps); k++) {
					json_t *p = json_array_get(ps, k);
					json_t *q = mpd_path(json_object_get(mpd, "maps"),
							     json_string_value(json_object_get(p, "major_minor")));
					assert_non_null(q);
					assert_string_equal(json_string_value(json_object_get(p, "state")),
							    json_string_value(json_object_get(q, "dm_st")));
					assert_string_equal(json_string_value(json_object_get(p, "dev")),
							    json_string_value(json_object_get(q, "dev")));
					failed += streq(json_string_value(json_object_get(p, "state")), "failed");
				}
			}
		}
		assert_int_equal(failed, streq(st[i], "failed") ? 2 : 0);
		json_decref(np);
		json_decref(mpd);
	}
}

/*
 * Regression: a map whose table could not be read (its path dev numbers unknown) reported 0 paths,
 * 0 active, 0 failed while slaves/ lists two. On the real qemu-mpath capture (no device-mapper
 * control device: sysfs facts only): unknown in JSON (null), text ("unknown") and metrics.
 */
static void test_unreadable_table_paths_unknown(void **state)
{
	(void)state;
	struct np_host h;
	assert_int_equal(np_host_open(&h, np_src("tests/fixtures/qemu-mpath/boot1/root")), 0);
	struct np_collect_ctx ctx = { .host = &h };
	struct np_report r = { 0 };
	char *only[] = { "multipath", NULL };
	assert_int_equal(np_collect_all(&ctx, only, &r), 0);
	const struct np_mpath_map *a = &r.multipath.maps[0];
	assert_int_equal(a->status.err, EOPNOTSUPP);
	assert_false(a->paths_known);
	assert_non_null(a->slaves[1]);
	json_t *j = np_multipath_to_json(&r.multipath);
	json_t *jm = json_array_get(json_object_get(j, "maps"), 0);
	assert_true(json_is_null(json_object_get(jm, "paths_total")));
	assert_true(json_is_null(json_object_get(jm, "paths_active")));
	assert_true(json_is_null(json_object_get(jm, "paths_failed")));
	json_decref(j);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct np_out o = { .f = f };
	np_multipath_print(&r.multipath, &o);
	fclose(f);
	assert_non_null(strstr(buf, "paths=unknown active=unknown failed=unknown"));
	assert_null(strstr(buf, "paths=0"));
	assert_null(strstr(buf, "no paths"));
	free(buf);
	f = open_memstream(&buf, &len);
	assert_int_equal(np_metrics_render(f, &r, NULL, NULL), 0);
	fclose(f);
	assert_non_null(strstr(buf, "nodeprint_multipath_paths{map=\"mpatha\",state=\"unknown\"} 2\n"));
	assert_null(strstr(buf, "nodeprint_multipath_paths{map=\"mpatha\",state=\"active\"}"));
	free(buf);
	/* and MultipathHealthy is Unknown, never True: blind is never healthy */
	struct np_policy pol;
	assert_int_equal(np_policy_default(&pol), 0);
	struct np_desired d = { 0 };
	assert_int_equal(np_policy_evaluate(&pol, &r, NULL, NULL, &d), 0);
	bool seen = false;
	for (size_t i = 0; i < d.n_conditions; i++)
		if (streq(d.conditions[i].type, "MultipathHealthy")) {
			seen = true;
			assert_string_equal(d.conditions[i].status, "Unknown");
			assert_non_null(strstr(d.conditions[i].message, "mpatha"));
		}
	assert_true(seen);
	np_desired_free(&d);
	np_policy_free(&pol);
	/* once the table is read the paths are the kernel's (`dmsetup table` in that guest) */
	char *line = np_slurp("tests/fixtures/qemu-mpath/boot1/raw/table-failed.txt", NULL);
	line[strcspn(line, "\n")] = '\0';
	char *name, *target, *params;
	assert_int_equal(np_dm_line_params(line, &name, &target, &params), 0);
	struct np_mpath_map m = { 0 };
	const char *why = NULL;
	assert_int_equal(np_dm_mpath_parse_table(params, &m, &why), 0);
	assert_true(m.paths_known);
	size_t t, act, fl;
	np_mpath_map_counts(&m, &t, &act, &fl);
	assert_int_equal(t, 2);
	np_mpath_map_free(&m);
	free(name);
	free(target);
	free(params);
	free(line);
	np_report_free(&r);
	np_host_close(&h);
}

/* A stand-in multipathd on its abstract socket: answers @n commands, one connection each, with libmpathcmd's framing. */
struct fake_mpathd {
	int fd;
	int n;
};

static void *fake_mpathd_serve(void *arg)
{
	struct fake_mpathd *f = arg;
	for (int i = 0; i < f->n; i++) {
		int c = accept(f->fd, NULL, NULL);
		if (c < 0)
			break;
		size_t len = 0;
		char cmd[64] = "";
		if (read(c, &len, sizeof(len)) == (ssize_t)sizeof(len) && len < sizeof(cmd) &&
		    read(c, cmd, len) == (ssize_t)len) {
			const char *reply = strcmp(cmd, "show config") == 0 ? "defaults {\n\tpolling_interval 7\n}\n"
									   : "{\"maps\": []}";
			size_t rlen = strlen(reply) + 1;
			if (write(c, &rlen, sizeof(rlen)) < 0 || write(c, reply, rlen) < 0)
				break;
		}
		close(c);
	}
	return NULL;
}

/*
 * The agent asks multipathd every cycle: refused (not running), then, once it listens, the next
 * cycle's answer is there (on the socket the refused connect left). Skipped where a multipathd
 * already holds the name.
 */
static void test_agent_finds_multipathd_started(void **state)
{
	(void)state;
	static const char name[] = "/org/kernel/linux/storage/multipathd";
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	memcpy(sa.sun_path + 1, name, strlen(name));
	socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
	struct np_host h;
	assert_int_equal(np_host_open(&h, "/"), 0);
	struct np_collect_ctx ctx = { .host = &h };
	ctx.states = np_section_states_new(&ctx);
	assert_non_null(ctx.states);
	char *only[] = { "multipath", NULL };
	struct np_report r = { 0 };
	assert_int_equal(np_collect_all(&ctx, only, &r), 0);
	bool running = r.multipath.multipathd_available;
	np_report_free(&r);
	struct fake_mpathd f = { .fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), .n = 2 };
	assert_true(f.fd >= 0);
	if (running || bind(f.fd, (struct sockaddr *)&sa, salen) < 0) {
		close(f.fd);
		np_section_states_free(ctx.states);
		np_host_close(&h);
		skip();
	}
	for (int i = 0; i < 2; i++) { /* refused twice: the same socket is tried again */
		r = (struct np_report){ 0 };
		assert_int_equal(np_collect_all(&ctx, only, &r), 0);
		assert_false(r.multipath.multipathd_available);
		assert_string_equal(r.multipath.multipathd.error, "multipathd socket: not running");
		np_report_free(&r);
	}
	assert_int_equal(listen(f.fd, 4), 0);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, fake_mpathd_serve, &f), 0);
	r = (struct np_report){ 0 };
	assert_int_equal(np_collect_all(&ctx, only, &r), 0);
	assert_true(r.multipath.multipathd_available);
	assert_null(r.multipath.multipathd.error);
	assert_int_equal(r.multipath.mpathd_polling_interval_s, 7);
	np_report_free(&r);
	pthread_join(th, NULL);
	close(f.fd);
	np_section_states_free(ctx.states);
	np_host_close(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unreadable_table_paths_unknown),
		cmocka_unit_test(test_case17_table),
		cmocka_unit_test(test_case17_status),
		cmocka_unit_test(test_counted_lists_strict),
		cmocka_unit_test(test_case13_no_groups),
		cmocka_unit_test(test_case34_active_not_first),
		cmocka_unit_test(test_case15_multipathd_json),
		cmocka_unit_test(test_qemu_collect_sysfs_and_lines),
		cmocka_unit_test(test_qemu_multipathd_merge),
		cmocka_unit_test(test_qemu_guest_nodeprint_equals_multipathd),
		cmocka_unit_test(test_agent_finds_multipathd_started),
	};
	return cmocka_run_group_tests_name("multipath", tests, NULL, NULL);
}
