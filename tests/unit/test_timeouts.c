// SPDX-License-Identifier: Apache-2.0
/*
 * Timeouts: the attribute parser, the transport port in a sysfs path, multipathd's `show config`
 * (a real `multipath -t`), and the timeout chain of real dm-multipath tables (the node-in-a-box's
 * mpatha with queue_if_no_path under multipathd 0.9.4, queueing "-") judged by the default policy.
 */
#include "testutil.h"
#include "../../pkg/collect/multipath.h"
#include "../../pkg/collect/timeouts.h"
#include "../../pkg/policy/desired.h"
#include "../../pkg/policy/health_timeouts.h"
#include "../../pkg/shared/macro.h"
#include "../../pkg/shared/strutil.h"

static void test_parse(void **state)
{
	(void)state;
	int64_t v;
	assert_int_equal(np_tmo_parse("30\n", &v), 0);
	assert_int_equal(v, 30);
	assert_int_equal(np_tmo_parse("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(np_tmo_parse("off\n", &v), 0); /* fc_rport_show_fast_io_fail_tmo(), nvme_ctrl_loss_tmo_show() */
	assert_int_equal(v, NP_TMO_OFF);
	assert_int_equal(np_tmo_parse("-1", &v), 0);
	assert_int_equal(v, NP_TMO_OFF);
	assert_int_equal(np_tmo_parse("-2", &v), -EINVAL);
	assert_int_equal(np_tmo_parse("", &v), -EINVAL);
	assert_int_equal(np_tmo_parse("0x1e", &v), -EINVAL);
	assert_int_equal(np_tmo_parse("30 s", &v), -EINVAL);
	assert_int_equal(np_tmo_parse("4294967296", &v), -ERANGE);
	assert_int_equal(np_tmo_parse(NULL, &v), -EINVAL);
}

static void test_path_port(void **state)
{
	(void)state;
	char *port = NULL, link[512];
	const char *transport = NULL;
	/* a scsi_debug disk of the node-in-a-box: no FC or iSCSI object above it */
	ssize_t n = readlink(np_src("tests/fixtures/qemu-mpath/boot1/root/sys/block/sda"), link, sizeof(link) - 1);
	assert_true(n > 0);
	link[n] = '\0';
	assert_non_null(strstr(link, "host"));
	assert_int_equal(np_tmo_path_port(link, &port, &transport), 0);
	assert_null(port);
	/* the kernel's names: "rport-%d:%d-%d" (scsi_transport_fc.c fc_remote_port_create()),
	 * "session%u" (scsi_transport_iscsi.c iscsi_add_session()); "sessionX" is not one */
	assert_int_equal(np_tmo_path_port("../../devices/pci0000:00/0000:00:03.0/host2/rport-2:0-1/target2:0:0/"
					  "2:0:0:1/block/sdc", &port, &transport), 1);
	assert_string_equal(port, "rport-2:0-1");
	assert_string_equal(transport, "fc");
	free(port);
	assert_int_equal(np_tmo_path_port("../../devices/platform/host3/session12/target3:0:0/3:0:0:0/block/sdd",
					  &port, &transport), 1);
	assert_string_equal(port, "session12");
	assert_string_equal(transport, "iscsi");
	free(port);
	assert_int_equal(np_tmo_path_port("/devices/platform/sessionX/rport-/block/sde", &port, &transport), 0);
}

static void test_config(void **state)
{
	(void)state;
	char *cfg = np_slurp("tests/fixtures/multipath-tools-config/multipath-t.txt", NULL);
	int64_t v = 0;
	assert_int_equal(np_multipathd_config_int(cfg, "defaults", "polling_interval", &v), 0);
	assert_int_equal(v, 5);
	assert_int_equal(np_multipathd_config_int(cfg, "defaults", "max_polling_interval", &v), 0);
	assert_int_equal(v, 20);
	/* no_path_retry is set only in the devices { device { } } blocks: never read from there */
	assert_int_equal(np_multipathd_config_int(cfg, "defaults", "no_path_retry", &v), -ENOENT);
	assert_int_equal(np_multipathd_config_int(cfg, "devices", "no_path_retry", &v), -ENOENT);
	/* a quoted non-number */
	assert_int_equal(np_multipathd_config_int(cfg, "defaults", "max_fds", &v), -EINVAL);
	assert_int_equal(np_multipathd_config_int(cfg, "nosuch", "polling_interval", &v), -ENOENT);
	/* truncated mid-section: what was read still counts, nothing past the end */
	cfg[strstr(cfg, "polling_interval 5") - cfg + strlen("polling_interval")] = '\0';
	assert_int_equal(np_multipathd_config_int(cfg, "defaults", "polling_interval", &v), -ENOENT);
	free(cfg);
}

/* line @idx of a dmsetup table/status capture, parsed into @m */
static void load_map(struct np_mpath_map *m, const char *table_file, const char *status_file, int idx)
{
	char *t = np_slurp(table_file, NULL), *st = np_slurp(status_file, NULL);
	char *tl = t, *sl = st;
	for (int i = 0; i < idx; i++) {
		tl = strchr(tl, '\n') + 1;
		sl = strchr(sl, '\n') + 1;
	}
	tl[strcspn(tl, "\n")] = '\0';
	sl[strcspn(sl, "\n")] = '\0';
	char *tn = NULL, *tt = NULL, *tp = NULL, *sn = NULL, *stt = NULL, *sp = NULL;
	assert_int_equal(np_dm_line_params(tl, &tn, &tt, &tp), 0);
	assert_int_equal(np_dm_line_params(sl, &sn, &stt, &sp), 0);
	m->name = strdup(tn);
	m->dm = np_asprintf("dm-%d", idx);
	m->uuid = np_asprintf("mpath-%s", tn);
	assert_int_equal(np_dm_mpath_parse_table(tp, m, NULL), 0);
	assert_int_equal(np_dm_mpath_parse_status(sp, m, NULL), 0);
	free(t), free(st), free(tn), free(tt), free(tp), free(sn), free(stt), free(sp);
}

/* The section's row for a path disk as the node-in-a-box's kernel reports a scsi_debug disk
 * (tests/vm/test_timeouts.py reads the same values from its sysfs: 30 s, eh 10 s, 30000 ms). */
static void scsi_dev(struct np_tmo_dev *d, const char *name)
{
	*d = (struct np_tmo_dev){ .name = strdup(name), .kind = strdup("scsi"), .io_timeout_ms = 30000,
				  .scsi_timeout_s = 30, .scsi_eh_timeout_s = 10, .dev_loss_tmo_s = NP_TMO_ABSENT,
				  .fast_io_fail_tmo_s = NP_TMO_ABSENT, .recovery_tmo_s = NP_TMO_ABSENT,
				  .ctrl_loss_tmo_s = NP_TMO_ABSENT, .reconnect_delay_s = NP_TMO_ABSENT };
}

static size_t count(const struct np_desired *d, const char *reason, const struct np_finding **last)
{
	size_t n = 0;
	for (size_t i = 0; i < d->n_findings; i++)
		if (streq(d->findings[i].id, "timeout-chain") && (!reason || streq(d->findings[i].reason, reason))) {
			n++;
			if (last)
				*last = &d->findings[i];
		}
	return n;
}

static void chain_report(struct np_report *r)
{
	const char *dir = "tests/fixtures/qemu-mpath/boot2/raw/";
	char tf[256], sf[256];
	snprintf(tf, sizeof(tf), "%stable-multipathd.txt", dir);
	snprintf(sf, sizeof(sf), "%sstatus-multipathd.txt", dir);
	r->multipath.maps = calloc(2, sizeof(struct np_mpath_map));
	r->multipath.n_maps = 2;
	load_map(&r->multipath.maps[0], tf, sf, 0);
	load_map(&r->multipath.maps[1], tf, sf, 1);
	size_t len;
	char *js = np_slurp("tests/fixtures/qemu-mpath/boot2/raw/multipathd-maps.json", &len);
	struct np_mpd mpd;
	assert_int_equal(np_multipathd_parse_json(js, len, &mpd), 0);
	np_multipathd_merge(&r->multipath, &mpd);
	np_mpd_free(&mpd);
	free(js);
	/* the paths' names as sysfs gives them in that boot (paths.txt) */
	static const char *const names[][2] = { { "8:0", "sda" }, { "8:16", "sdb" }, { "8:32", "sdc" }, { "8:48", "sdd" } };
	for (size_t i = 0; i < 2; i++)
		for (size_t g = 0; g < r->multipath.maps[i].n_groups; g++)
			for (size_t k = 0; k < r->multipath.maps[i].groups[g].n_paths; k++) {
				struct np_mpath_path *p = &r->multipath.maps[i].groups[g].paths[k];
				for (size_t j = 0; j < ARRAY_SIZE(names); j++)
					if (!p->dev && streq(p->major_minor, names[j][0]))
						p->dev = strdup(names[j][1]);
			}
	r->timeouts.devs = calloc(4, sizeof(struct np_tmo_dev));
	r->timeouts.n_devs = 4;
	for (size_t j = 0; j < 4; j++)
		scsi_dev(&r->timeouts.devs[j], names[j][1]);
	r->timeouts.dm_queue_timeout_s = 0;
	r->timeouts.nvme_io_timeout_s = r->timeouts.nvme_admin_timeout_s = NP_TMO_ABSENT;
	/* a CSI block volume on the first map (dm-0), as the volumes section maps it */
	r->volumes.volumes = calloc(1, sizeof(struct np_volume));
	r->volumes.n = 1;
	r->volumes.volumes[0].pv_name = strdup("pv-db");
	r->volumes.volumes[0].device = strdup("dm-0");
}

static void test_chain(void **state)
{
	(void)state;
	struct np_policy p;
	assert_int_equal(np_policy_default(&p), 0);
	assert_true(NP_HEALTH_OF(&p, timeouts)->app_timeout_s == 30);
	struct np_report r = { 0 };
	chain_report(&r);
	struct np_mpath_map *m = &r.multipath.maps[0];
	assert_string_equal(m->mpathd_queueing, "-");

	struct np_tmo_chain c;
	assert_int_equal(np_tmo_chain_build(&r, m, &c), 0);
	assert_true(c.queue_if_no_path);
	assert_int_equal(c.queue_bound_s, NP_TMO_OFF);
	assert_int_equal(c.n_volumes, 1);
	assert_string_equal(c.volume, "pv-db");
	/* the second map has no queue_if_no_path: fails at once, no volume on it */
	struct np_tmo_chain c2;
	assert_int_equal(np_tmo_chain_build(&r, &r.multipath.maps[1], &c2), 0);
	assert_false(c2.queue_if_no_path);
	assert_int_equal(c2.queue_bound_s, 0);
	assert_int_equal(c2.n_volumes, 0);

	struct np_desired d;
	const struct np_finding *f = NULL;
	assert_int_equal(np_policy_evaluate(&p, &r, NULL, NULL, &d), 0);
	assert_int_equal(count(&d, NULL, &f), 1);
	assert_string_equal(f->reason, "UnboundedQueueing");
	assert_string_equal(f->subject, m->name);
	assert_string_equal(f->message, "SCSI sda 30 s (eh 10 s), sdc 30 s (eh 10 s) -> multipath "
					 "333333330000007d0 queues for ever (queue_if_no_path, multipathd no_path_retry "
					 "unset) -> app gives up at 30 s (volume pv-db)");
	np_desired_free(&d);

	/* multipathd's no_path_retry 12 checks of 5 s: 60 s, over the app's 30 s */
	free(m->mpathd_queueing);
	m->mpathd_queueing = strdup("12 chk");
	r.multipath.mpathd_polling_interval_s = 5;
	assert_int_equal(np_policy_evaluate(&p, &r, NULL, NULL, &d), 0);
	assert_int_equal(count(&d, "QueueingOverAppTimeout", &f), 1);
	assert_non_null(strstr(f->message, "queues 60 s (multipathd no_path_retry 12 x polling_interval 5 s)"));
	np_desired_free(&d);
	/* ... the kernel's queue_if_no_path_timeout_secs 20 bounds it first: under 30 s, no finding */
	r.timeouts.dm_queue_timeout_s = 20;
	assert_int_equal(np_tmo_chain_build(&r, m, &c), 0);
	assert_int_equal(c.queue_bound_s, 20);
	assert_string_equal(c.bound_by, "kernel queue_if_no_path_timeout_secs 20");
	assert_int_equal(np_policy_evaluate(&p, &r, NULL, NULL, &d), 0);
	assert_int_equal(count(&d, NULL, NULL), 0);
	np_desired_free(&d);
	/* multipathd "off" beats both */
	free(m->mpathd_queueing);
	m->mpathd_queueing = strdup("off");
	assert_int_equal(np_tmo_chain_build(&r, m, &c), 0);
	assert_int_equal(c.queue_bound_s, 0);
	/* unknown table: the chain is unknown, never "no queueing" */
	m->paths_known = false;
	assert_int_equal(np_tmo_chain_build(&r, m, &c), -ENODATA);
	m->paths_known = true;

	/* FC loss timers on the first path: fast_io_fail 30 >= dev_loss 10, and failover 30 s > SCSI 20 s */
	free(m->mpathd_queueing);
	m->mpathd_queueing = strdup("off");
	struct np_tmo_dev *sda = &r.timeouts.devs[0];
	sda->transport = strdup("fc");
	sda->port = strdup("rport-2:0-1");
	sda->fast_io_fail_tmo_s = 30;
	sda->dev_loss_tmo_s = 10;
	sda->scsi_timeout_s = 20;
	assert_int_equal(np_policy_evaluate(&p, &r, NULL, NULL, &d), 0);
	assert_int_equal(count(&d, "FastIOFailNotBelowLoss", &f), 1);
	assert_string_equal(f->subject, "rport-2:0-1");
	assert_int_equal(count(&d, "FailoverOverDeviceTimeout", &f), 1);
	assert_non_null(strstr(f->message, "fast_io_fail_tmo 30 s, the device times out commands after 20 s"));
	np_desired_free(&d);
	/* fast_io_fail off: failover waits for dev_loss_tmo (10 s < 20 s): both clear */
	sda->fast_io_fail_tmo_s = NP_TMO_OFF;
	assert_int_equal(np_policy_evaluate(&p, &r, NULL, NULL, &d), 0);
	assert_int_equal(count(&d, NULL, NULL), 0);
	np_desired_free(&d);

	np_report_free(&r);
	np_policy_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_path_port),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_chain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
