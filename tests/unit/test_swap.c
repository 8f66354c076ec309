// SPDX-License-Identifier: Apache-2.0
/*
 * A device swapped for another under the same address or name, on a private copy of a captured
 * host changed as the swap changes it: the agent's baselines follow the device, not its slot.
 *
 * PCIe: tests/fixtures/nib-q35-aer (Debian 6.1 under QEMU q35): its e1000e at 0000:01:00.0 carries
 * a Device Serial Number (QEMU derives it from the MAC, 52:54:00:12:34:56 -> 52-54-00-ff-ff-12-34-56);
 * a second e1000e of the same model is the one with the next MAC, and another model is the
 * capture's own virtio-net function 0000:02:00.0 (its IDs, config space and AER files).
 *
 * NVMe: tests/fixtures/qemu-nvme (QEMU's controller, serial deadbeef; no /dev in the capture, so
 * the agent's SMART read is recorded in the poll state as do_smart() records it); the other drive
 * is the node-in-a-box's (serial NIB0001, tests/fixtures/nib-q35-aer).
 *
 * NIC: tests/fixtures/host-vm-net (this VM's virtio-net eth0, ifindex 4): re-created (a driver
 * reload, a card swapped under the same name), it comes back with the next ifindex and its
 * counters from zero.
 */
#include "collectutil.h"
#include "../../pkg/collect/nvme.h"
#include "../../pkg/collect/pci.h"
#include "../../pkg/policy/desired.h"
#include "../../pkg/policy/policy.h"
#include "../../pkg/shared/macro.h"
#include "../../pkg/shared/strutil.h"

#include <stdio.h>
#include <time.h>

#define Q35 "tests/fixtures/nib-q35-aer"
#define E1K "0000:01:00.0"
#define VIRTIO "0000:02:00.0"

static void put(const char *root, const char *dev, const char *attr, const void *buf, size_t len)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/%s/%s", root, dev, attr);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static size_t get(const char *root, const char *dev, const char *attr, void *buf, size_t max)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/%s/%s", root, dev, attr);
	FILE *f = fopen(p, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, max, f);
	fclose(f);
	return n;
}

/* The device's aer_dev_correctable as its kernel prints it, RxErr and the total at @n. */
static void set_rx_errors(const char *root, const char *dev, unsigned n)
{
	char cur[1024], out[1024] = "";
	size_t len = get(root, dev, "aer_dev_correctable", cur, sizeof(cur) - 1);
	cur[len] = '\0';
	for (char *save = NULL, *l = strtok_r(cur, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (np_startswith(l, "RxErr ") || np_startswith(l, "TOTAL_ERR_COR "))
			snprintf(out + strlen(out), sizeof(out) - strlen(out), "%.*s %u\n", (int)strcspn(l, " "), l, n);
		else
			snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s\n", l);
	}
	put(root, dev, "aer_dev_correctable", out, strlen(out));
}

/* One agent cycle of the pci section. */
static void cycle(struct np_collect_ctx *ctx, struct np_report *r)
{
	char *only[] = { "pci", NULL };
	*r = (struct np_report){ 0 };
	assert_int_equal(np_collect_all(ctx, only, r), 0);
}

static const struct np_pci_device *dev_at(const struct np_report *r, const char *addr)
{
	for (size_t i = 0; i < r->pci.n; i++)
		if (streq(r->pci.devices[i].address, addr))
			return &r->pci.devices[i];
	fail_msg("no device %s", addr);
	return NULL;
}

/*
 * The message of the finding with @reason on @subject when @now follows @prev by @dt seconds, under
 * the policy @yaml (NULL: the built-in one); NULL when there is none. Static buffer.
 */
static const char *finding(const struct np_report *now, const struct np_report *prev, double dt, const char *yaml,
			   const char *reason, const char *subject)
{
	static char msg[512];
	struct np_policy p;
	struct np_desired d;
	char *err = NULL;
	assert_int_equal(yaml ? np_policy_parse(yaml, strlen(yaml), "t", &p, &err) : np_policy_default(&p), 0);
	struct np_eval_history h = { .prev = prev, .dt_seconds = dt };
	assert_int_equal(np_policy_evaluate(&p, now, &h, NULL, &d), 0);
	const char *found = NULL;
	for (size_t i = 0; i < d.n_findings; i++)
		if (streq(d.findings[i].reason, reason) && streq(d.findings[i].subject, subject)) {
			assert_null(found);
			snprintf(msg, sizeof(msg), "%s", d.findings[i].message);
			found = msg;
		}
	np_desired_free(&d);
	np_policy_free(&p);
	return found;
}

/* The correctable AER rate on @addr (built-in policy: 60 an hour), per hour; -1 when no finding. */
static int rate_finding(const struct np_report *now, const struct np_report *prev, double dt, const char *addr)
{
	const char *m = finding(now, prev, dt, NULL, "AERCorrectableRate", addr);
	return m ? atoi(strstr(m, ": ") + 2) : -1;
}

/*
 * Regression: the correctable AER rate compared a slot's counters across cycles by address, so a
 * card swapped in was judged on its predecessor's count: with more errors than it, a rate of
 * errors the new card may have counted before that cycle (a swap the agent saw late); with fewer,
 * none at all, though the kernel counts from enumeration, so all of them are new. Now another
 * device's first count is its baseline, and a count that went down is new in full.
 */
static void test_pcie_swap_resets_aer_baseline(void **state)
{
	(void)state;
	char root[64];
	np_fixture_copy(Q35, root, sizeof(root));
	struct np_host h;
	assert_int_equal(np_host_open(&h, root), 0);
	struct np_collect_ctx ctx = { .host = &h };
	ctx.states = np_section_states_new(&ctx);
	assert_non_null(ctx.states);
	struct np_report r[7];

	cycle(&ctx, &r[0]); /* as captured: no correctable error */
	const struct np_pci_device *e = dev_at(&r[0], E1K);
	assert_true(e->dsn_read && e->has_dsn);
	assert_true(e->dsn == 0x525400ffff123456ull);
	assert_int_equal(e->aer_cor.total, 0);

	/* the same card takes 5 errors in 60 s: 300 an hour, over the default 60 */
	set_rx_errors(root, E1K, 5);
	cycle(&ctx, &r[1]);
	assert_true(np_pci_same_device(dev_at(&r[0], E1K), dev_at(&r[1], E1K)));
	assert_int_equal(rate_finding(&r[1], &r[0], 60, E1K), 300);

	/*
	 * Swapped for another e1000e (the next MAC, so the next serial number) that has counted 40
	 * errors; the swap's uevents make the agent read the facts again. Its first count is its
	 * baseline: not 35 errors in 60 s.
	 */
	uint8_t cfg[NP_PCI_CFG_SPACE_EXP_SIZE];
	assert_int_equal(get(root, E1K, "config", cfg, sizeof(cfg)), sizeof(cfg));
	assert_int_equal(cfg[0x140] | cfg[0x141] << 8, 0x0003); /* the capture's DSN capability */
	assert_int_equal(cfg[0x144], 0x56);
	cfg[0x144] = 0x57;
	put(root, E1K, "config", cfg, sizeof(cfg));
	set_rx_errors(root, E1K, 40);
	ctx.facts_gen++;
	cycle(&ctx, &r[2]);
	e = dev_at(&r[2], E1K);
	assert_true(e->dsn == 0x525400ffff123457ull);
	assert_false(np_pci_same_device(dev_at(&r[1], E1K), e));
	assert_int_equal(rate_finding(&r[2], &r[1], 60, E1K), -1);
	/* its own errors count from there */
	set_rx_errors(root, E1K, 45);
	cycle(&ctx, &r[3]);
	assert_int_equal(rate_finding(&r[3], &r[2], 60, E1K), 300);

	/*
	 * Swapped for another model with no serial number, the capture's virtio-net function, which
	 * has counted 2 errors since its enumeration, after the last cycle: fewer than its
	 * predecessor's 45, all new (120 an hour), not hidden.
	 */
	static const char *const ids[] = { "vendor", "device", "subsystem_vendor", "subsystem_device", "class",
					   "config", "aer_dev_correctable", "aer_dev_nonfatal", "aer_dev_fatal" };
	char buf[NP_PCI_CFG_SPACE_EXP_SIZE];
	for (size_t i = 0; i < ARRAY_SIZE(ids); i++)
		put(root, E1K, ids[i], buf, get(root, VIRTIO, ids[i], buf, sizeof(buf)));
	set_rx_errors(root, E1K, 2);
	ctx.facts_gen++;
	cycle(&ctx, &r[4]);
	e = dev_at(&r[4], E1K);
	assert_int_equal(e->vendor_id, 0x1af4);
	assert_true(e->dsn_read);
	assert_false(e->has_dsn);
	assert_int_equal(e->aer_cor.total, 2);
	assert_int_equal(rate_finding(&r[4], &r[3], 60, E1K), 120);
	/* no new error: no rate, though its predecessor's count was higher */
	cycle(&ctx, &r[5]);
	assert_int_equal(rate_finding(&r[5], &r[4], 60, E1K), -1);
	/* the same card removed and rescanned (no new identity, the count back to 0) takes 1 error in 30 s */
	set_rx_errors(root, E1K, 1);
	cycle(&ctx, &r[6]);
	assert_true(np_pci_same_device(dev_at(&r[5], E1K), dev_at(&r[6], E1K)));
	assert_int_equal(rate_finding(&r[6], &r[5], 30, E1K), 120);
	/* the virtio-net function itself, unchanged, is still compared with itself */
	assert_true(np_pci_same_device(dev_at(&r[3], VIRTIO), dev_at(&r[4], VIRTIO)));
	assert_int_equal(rate_finding(&r[4], &r[3], 60, VIRTIO), -1);

	for (size_t i = 0; i < ARRAY_SIZE(r); i++)
		np_report_free(&r[i]);
	np_section_states_free(ctx.states);
	np_host_close(&h);
	np_fixture_drop(root);
}

#define QNVME "tests/fixtures/qemu-nvme/root"

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One agent cycle of the nvme section; returns nvme0's serial as reported ("" when not seen). */
static const char *nvme_cycle(struct np_collect_ctx *ctx)
{
	static char serial[64];
	struct np_report r = { 0 };
	char *only[] = { "nvme", NULL };
	assert_int_equal(np_collect_all(ctx, only, &r), 0);
	*serial = '\0';
	for (size_t i = 0; i < r.nvme.n_controllers; i++)
		if (streq(r.nvme.controllers[i].name, "nvme0"))
			snprintf(serial, sizeof(serial), "%s", r.nvme.controllers[i].serial ? r.nvme.controllers[i].serial : "?");
	np_report_free(&r);
	return serial;
}

/* What the agent's SMART and error-log reads of nvme0 leave in its poll state (nvme.c do_smart(), do_errlog()). */
static struct np_nvme_poll *smart_read(struct np_collect_ctx *ctx, uint64_t err_entries)
{
	struct np_nvme_poll *p = np_nvme_polls_get(np_section_state(ctx->states, "nvme"), "nvme0");
	assert_non_null(p);
	assert_true(np_nvme_poll_smart_due(p, now_ms()));
	p->have_smart = true;
	p->last_smart_ms = now_ms();
	p->last_smart.present = true;
	p->last_smart.num_err_log_entries.lo = err_entries;
	p->last_num_err_log_entries = err_entries;
	p->last_error_count = err_entries;
	assert_false(np_nvme_poll_smart_due(p, now_ms()));
	return p;
}

/*
 * A drive swapped under its controller's name: the next cycle reads the new drive at once, with
 * nothing of the old one's schedule or error-log position, both when one cycle sees the other
 * serial number in the slot and when a cycle saw the slot empty (regression: a controller a cycle
 * no longer saw kept its poll state, so the drive that came back under the name waited for the
 * old schedule and was reported with the page read before it left).
 */
static void test_nvme_swap_reads_at_once(void **state)
{
	(void)state;
	char root[64], p[256], q[256];
	np_fixture_copy(QNVME, root, sizeof(root));
	struct np_host h;
	assert_int_equal(np_host_open(&h, root), 0);
	struct np_collect_ctx ctx = { .host = &h, .smart_interval_s = 60 };
	ctx.states = np_section_states_new(&ctx);
	assert_non_null(ctx.states);
	struct np_nvme_polls *polls = np_section_state(ctx.states, "nvme");
	assert_non_null(polls);

	assert_string_equal(nvme_cycle(&ctx), "deadbeef");
	smart_read(&ctx, 7);
	assert_string_equal(nvme_cycle(&ctx), "deadbeef"); /* the same drive: its schedule holds */
	struct np_nvme_poll *a = np_nvme_polls_get(polls, "nvme0");
	assert_false(np_nvme_poll_smart_due(a, now_ms()));
	assert_true(a->have_smart);

	/* another drive in its place between two cycles */
	snprintf(p, sizeof(p), "%s/sys/class/nvme/nvme0/serial", root);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs("NIB0001             \n", f);
	fclose(f);
	assert_string_equal(nvme_cycle(&ctx), "NIB0001");
	a = np_nvme_polls_get(polls, "nvme0");
	assert_true(np_nvme_poll_smart_due(a, now_ms()));
	assert_false(a->have_smart);
	assert_int_equal(a->last_num_err_log_entries, 0);
	assert_int_equal(a->last_error_count, 0);
	assert_int_equal(a->smart_interval_ms, 60000);

	/* read; then the drive leaves (a cycle sees no nvme0) and a drive comes back under the name */
	smart_read(&ctx, 2);
	snprintf(p, sizeof(p), "%s/sys/class/nvme/nvme0", root);
	snprintf(q, sizeof(q), "%s/sys/class/nvme/.gone", root);
	assert_int_equal(rename(p, q), 0);
	assert_string_equal(nvme_cycle(&ctx), "");
	assert_int_equal(polls->n, 0); /* forgotten with the controller */
	assert_int_equal(rename(q, p), 0);
	assert_string_equal(nvme_cycle(&ctx), "NIB0001");
	a = np_nvme_polls_get(polls, "nvme0");
	assert_true(np_nvme_poll_smart_due(a, now_ms()));
	assert_false(a->have_smart);
	assert_int_equal(a->last_num_err_log_entries, 0);

	np_section_states_free(ctx.states);
	np_host_close(&h);
	np_fixture_drop(root);
}

#define VMNET "tests/fixtures/host-vm-net"

static void put_net(const char *root, const char *attr, const char *value)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/sys/class/net/eth0/%s", root, attr);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fprintf(f, "%s\n", value);
	assert_int_equal(fclose(f), 0);
}

/* One agent cycle of the net section. */
static void net_cycle(struct np_collect_ctx *ctx, struct np_report *r)
{
	char *only[] = { "net", NULL };
	*r = (struct np_report){ 0 };
	assert_int_equal(np_collect_all(ctx, only, r), 0);
}

/* eth0's nic-drops rate when @now follows @prev by 60 s (net.dropsPerSecond: 1): packets/s x 10; -1 = none. */
static int drops_finding(const struct np_report *now, const struct np_report *prev)
{
	const char *m = finding(now, prev, 60, "health: {net: {dropsPerSecond: 1}}\n", "Drops", "eth0");
	return m ? (int)(atof(strstr(m, "drops ") + 6) * 10 + 0.5) : -1;
}

/*
 * Regression: the drop rate took a counter lower than the previous cycle's for no growth, so an
 * interface re-created under its name (its counters from zero, all since the last cycle) that
 * dropped fewer packets than its predecessor had was not judged at all.
 */
static void test_nic_recreated_counts_from_zero(void **state)
{
	(void)state;
	char root[64];
	np_fixture_copy(VMNET, root, sizeof(root));
	struct np_host h;
	assert_int_equal(np_host_open(&h, root), 0);
	struct np_collect_ctx ctx = { .host = &h };
	ctx.states = np_section_states_new(&ctx);
	assert_non_null(ctx.states);
	struct np_report r[4];

	net_cycle(&ctx, &r[0]); /* as captured: no drop */
	put_net(root, "statistics/rx_dropped", "600");
	net_cycle(&ctx, &r[1]);
	assert_int_equal(drops_finding(&r[1], &r[0]), 100); /* 600 in 60 s */
	/* re-created: the next ifindex, 120 drops since */
	put_net(root, "ifindex", "5");
	put_net(root, "statistics/rx_dropped", "120");
	ctx.facts_gen++;
	net_cycle(&ctx, &r[2]);
	assert_int_equal(drops_finding(&r[2], &r[1]), 20);
	net_cycle(&ctx, &r[3]); /* no new drop */
	assert_int_equal(drops_finding(&r[3], &r[2]), -1);

	for (size_t i = 0; i < ARRAY_SIZE(r); i++)
		np_report_free(&r[i]);
	np_section_states_free(ctx.states);
	np_host_close(&h);
	np_fixture_drop(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pcie_swap_resets_aer_baseline),
		cmocka_unit_test(test_nvme_swap_reads_at_once),
		cmocka_unit_test(test_nic_recreated_counts_from_zero),
	};
	return cmocka_run_group_tests_name("swap", tests, NULL, NULL);
}
