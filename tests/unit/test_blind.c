// SPDX-License-Identifier: Apache-2.0
/*
 * Blind is never healthy: a source that could not be read makes the conditions it feeds Unknown
 * (never True), adds one source-unreadable finding and one SourceUnreadable Warning Event, and
 * leaves a condition False when a problem was seen anyway. Reports are the collectors' own
 * structs with the failures the collectors record (pkg/collect/kmsg.c, nvme.c, multipath.c), and
 * one real capture (tests/fixtures/qemu-nvme-mpath, a host root without /dev/nvme*).
 */
#include "testutil.h"
#include "../../pkg/collect/collector.h"
#include "../../pkg/collect/multipath.h"
#include "../../pkg/policy/blind.h"
#include "../../pkg/shared/macro.h"

static const struct np_node_facts node = { .name = "node-a" };

static const struct np_condition *cond(const struct np_desired *d, const char *type)
{
	for (size_t i = 0; i < d->n_conditions; i++)
		if (streq(d->conditions[i].type, type))
			return &d->conditions[i];
	fail_msg("no condition %s", type);
	return NULL;
}

static size_t count_events(const struct np_desired *d, const char *reason)
{
	size_t n = 0;
	for (size_t i = 0; i < d->n_events; i++)
		n += streq(d->events[i].reason, reason);
	return n;
}

static const struct np_finding *blind_finding(const struct np_desired *d)
{
	for (size_t i = 0; i < d->n_findings; i++)
		if (streq(d->findings[i].id, NP_FINDING_SOURCE_UNREADABLE))
			return &d->findings[i];
	return NULL;
}

static void evaluate(const char *yaml, const struct np_report *r, struct np_desired *d)
{
	struct np_policy p;
	char *err = NULL;
	if (np_policy_parse(yaml, strlen(yaml), "t.yaml", &p, &err) < 0)
		fail_msg("%s", err);
	assert_int_equal(np_policy_evaluate(&p, r, NULL, &node, d), 0);
	np_policy_free(&p);
}

/* /dev/kmsg refused, as collect_kmsg() records it in a container without the device rule. */
/* Source @name of @all: it must be there. */
static const struct np_source *src(const struct np_sources *all, const char *name)
{
	const struct np_source *s = np_sources_get(all, name);
	if (!s)
		fail_msg("no source %s", name);
	return s;
}

static void kmsg_denied(struct np_report *r)
{
	np_status_set(&r->kmsg.status, -EPERM, "/dev/kmsg: %s", np_errno_reason(-EPERM));
}

/* One controller whose /dev/nvme0 open was refused, as collect_device() records it: sysfs facts, no SMART. */
static void nvme_denied(struct np_report *r)
{
	r->nvme.controllers = calloc(1, sizeof(*r->nvme.controllers));
	assert_non_null(r->nvme.controllers);
	r->nvme.n_controllers = 1;
	struct np_nvme_ctrl *c = &r->nvme.controllers[0];
	c->name = strdup("nvme0");
	c->model = strdup("QEMU NVMe Ctrl");
	np_status_set(&c->status, -EPERM, "%s (%s)", np_errno_reason(-EPERM), "/dev/nvme0");
}

static void test_all_up(void **state)
{
	(void)state;
	struct np_report r = { 0 };
	struct np_sources src;
	assert_int_equal(np_report_sources(&r, &src), 0);
	for (size_t i = 0; i < src.n; i++)
		assert_true(src.v[i].up);
	np_sources_free(&src);
	struct np_desired d;
	evaluate("", &r, &d);
	assert_string_equal(cond(&d, "NVMeHealthy")->status, "True");
	assert_string_equal(cond(&d, "MultipathHealthy")->status, "True");
	assert_null(blind_finding(&d));
	assert_int_equal(count_events(&d, NP_EVENT_SOURCE_UNREADABLE), 0);
	np_desired_free(&d);
}

static void test_kmsg_and_nvme_denied(void **state)
{
	(void)state;
	struct np_report r = { 0 };
	kmsg_denied(&r);
	nvme_denied(&r);
	struct np_sources all;
	assert_int_equal(np_report_sources(&r, &all), 2);
	const struct np_source *kmsg = src(&all, "kmsg"), *nvme = src(&all, "nvme");
	assert_false(kmsg->up);
	assert_string_equal(kmsg->reason, "KernelLogUnreadable");
	assert_int_equal(kmsg->err, EPERM);
	assert_false(nvme->up);
	assert_string_equal(nvme->reason, "NVMeAdminDenied");
	assert_string_equal(nvme->item, "nvme0");
	assert_int_equal(nvme->failed, 1);
	assert_true(src(&all, "pci")->up && src(&all, "multipath")->up);
	np_sources_free(&all);

	struct np_desired d;
	evaluate("", &r, &d);
	const struct np_condition *nv = cond(&d, "NVMeHealthy"), *mp = cond(&d, "MultipathHealthy");
	assert_string_equal(nv->status, "Unknown");
	assert_string_equal(nv->reason, "NVMeAdminDenied");
	assert_non_null(strstr(nv->message, "nvme0: unavailable: permission (/dev/nvme0) (EPERM)"));
	assert_string_equal(mp->status, "Unknown"); /* flaps come from the kernel log */
	assert_string_equal(mp->reason, "KernelLogUnreadable");
	assert_string_equal(cond(&d, "PCIeHealthy")->status, "True");
	assert_string_equal(cond(&d, "BundlePinned")->reason, "NoClass"); /* not ours to change */

	const struct np_finding *f = blind_finding(&d);
	assert_non_null(f);
	assert_string_equal(f->subject, "kmsg,nvme");
	assert_int_equal(d.n_taints, 0); /* blindness is no reason to move workloads */
	assert_int_equal(count_events(&d, NP_EVENT_SOURCE_UNREADABLE), 1);
	const struct np_event *e = &d.events[d.n_events - 1];
	assert_string_equal(e->type, "Warning");
	assert_string_equal(e->kind, "Node");
	assert_string_equal(e->name, "node-a");
	assert_string_equal(e->subject, "kmsg,nvme");
	assert_non_null(strstr(e->message, "the kernel log: /dev/kmsg: unavailable: permission (EPERM)"));
	assert_non_null(strstr(e->message, "Unknown, not healthy: MultipathHealthy, AcceleratorsHealthy, NVMeHealthy"));
	assert_string_equal(cond(&d, "AcceleratorsHealthy")->status, "Unknown"); /* Xids come from the kernel log */
	assert_true(strlen(e->message) <= 1024);
	np_desired_free(&d);
	np_report_free(&r);
}

/* A failed path seen in the table is a fact: MultipathHealthy stays False though the kernel log is blind. */
static void test_false_stays_false(void **state)
{
	(void)state;
	struct np_report r = { 0 };
	kmsg_denied(&r);
	r.multipath.maps = calloc(1, sizeof(*r.multipath.maps));
	r.multipath.n_maps = 1;
	struct np_mpath_map *m = &r.multipath.maps[0];
	m->dm = strdup("dm-3");
	m->name = strdup("mpatha");
	const char *why;
	/* a two-path map with one path failed (dmsetup status of the QEMU capture's shape) */
	assert_int_equal(np_dm_mpath_parse_table("0 0 1 1 service-time 0 2 2 8:0 1 1 8:16 1 1", m, &why), 0);
	assert_int_equal(np_dm_mpath_parse_status("2 0 0 0 1 1 A 0 2 2 8:0 F 1 0 1 8:16 A 0 0 1", m, &why), 0);
	struct np_desired d;
	evaluate("", &r, &d);
	const struct np_condition *mp = cond(&d, "MultipathHealthy");
	assert_string_equal(mp->status, "False");
	assert_string_equal(mp->reason, "PathFailed");
	assert_non_null(blind_finding(&d));
	np_desired_free(&d);
	np_report_free(&r);
}

/* Table unreadable (the dm ioctl refused): the map's paths are unknown, not healthy. */
static void test_multipath_table_denied(void **state)
{
	(void)state;
	struct np_report r = { 0 };
	r.multipath.maps = calloc(1, sizeof(*r.multipath.maps));
	r.multipath.n_maps = 1;
	r.multipath.maps[0].dm = strdup("dm-0");
	r.multipath.maps[0].name = strdup("mpatha");
	np_status_set(&r.multipath.maps[0].status, -EACCES, "table: %s", np_errno_reason(-EACCES));
	struct np_desired d;
	evaluate("", &r, &d);
	const struct np_condition *mp = cond(&d, "MultipathHealthy");
	assert_string_equal(mp->status, "Unknown");
	assert_string_equal(mp->reason, "MultipathTableUnreadable");
	assert_non_null(strstr(mp->message, "mpatha: table: unavailable: permission (EACCES)"));
	assert_string_equal(cond(&d, "NVMeHealthy")->status, "True");
	np_desired_free(&d);
	np_report_free(&r);
}

/* The policy names the conditions: the blind ones are found through its actions. */
static void test_policy_condition_names(void **state)
{
	(void)state;
	struct np_report r = { 0 };
	kmsg_denied(&r);
	struct np_desired d;
	evaluate("actions:\n  path-flapping: {condition: PathsStable, taint: none, event: Flap}\n", &r, &d);
	assert_string_equal(cond(&d, "PathsStable")->status, "Unknown");
	assert_string_equal(cond(&d, "PathsStable")->reason, "KernelLogUnreadable");
	assert_string_equal(cond(&d, "MultipathHealthy")->status, "True"); /* degraded paths: from the tables */
	np_desired_free(&d);
	np_report_free(&r);
}

/* A few unparsable records among good ones are no blindness; a log where nothing parsed is. */
static void test_kmsg_garbled(void **state)
{
	(void)state;
	struct np_report r = { 0 };
	struct np_sources all;
	r.kmsg.records_read = 500;
	r.kmsg.bad_records = 2;
	np_status_set(&r.kmsg.status, -EINVAL, "/dev/kmsg: %llu records did not parse", 2ULL);
	assert_int_equal(np_report_sources(&r, &all), 0);
	np_sources_free(&all);
	r.kmsg.records_read = r.kmsg.bad_records = 7;
	assert_int_equal(np_report_sources(&r, &all), 1);
	assert_string_equal(src(&all, "kmsg")->reason, "KernelLogUnreadable");
	np_sources_free(&all);
	np_report_free(&r);
}

/* A real capture read without its /dev: every NVMe controller is blind, and so are the absent sections. */
static void test_capture_without_dev(void **state)
{
	(void)state;
	struct np_host h;
	assert_int_equal(np_host_open(&h, np_src("tests/fixtures/qemu-nvme-mpath/root")), 0);
	struct np_collect_ctx ctx = { .host = &h };
	struct np_report r = { 0 };
	assert_int_equal(np_collect_all(&ctx, NULL, &r), 0);
	np_host_close(&h);
	struct np_sources all;
	assert_true(np_report_sources(&r, &all) >= 2);
	const struct np_source *nvme = src(&all, "nvme");
	assert_false(nvme->up);
	assert_int_equal(nvme->failed, r.nvme.n_controllers);
	assert_int_equal(nvme->err, ENOENT);
	assert_string_equal(nvme->reason, "NVMeUnreadable");
	struct np_desired d;
	evaluate("", &r, &d);
	for (size_t i = 0; i < d.n_conditions; i++)
		assert_string_not_equal(d.conditions[i].status, "True");
	json_t *j = np_report_to_json(&r);
	json_t *s = json_object_get(j, "sources");
	assert_int_equal(json_array_size(s), all.n);
	json_t *nv = json_array_get(s, (size_t)(nvme - all.v));
	assert_string_equal(json_string_value(json_object_get(nv, "source")), "nvme");
	assert_true(json_is_false(json_object_get(nv, "up")));
	assert_string_equal(json_string_value(json_object_get(nv, "errno")), "ENOENT");
	json_decref(j);
	np_desired_free(&d);
	np_sources_free(&all);
	np_report_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_up),
		cmocka_unit_test(test_kmsg_and_nvme_denied),
		cmocka_unit_test(test_false_stays_false),
		cmocka_unit_test(test_multipath_table_denied),
		cmocka_unit_test(test_policy_condition_names),
		cmocka_unit_test(test_kmsg_garbled),
		cmocka_unit_test(test_capture_without_dev),
	};
	return cmocka_run_group_tests_name("blind", tests, NULL, NULL);
}
