// SPDX-License-Identifier: Apache-2.0
/*
 * rtnetlink RTM_GETLINK dump (pkg/collect/netlink.c): the parser on datagrams
 * captured on this VM (tests/fuzz/corpus/rtnl_link: the dump of lo, ifb0, ifb1
 * and eth0, sequence number 4242), cut and garbled; the live dump against the
 * sysfs counter files read before and after it; the interface match (name,
 * ifindex, address) and the net section's use of it: live counters on the
 * live root, the capture's files on a fixture root of the same interfaces.
 */
#define _GNU_SOURCE /* unshare(2) */
#include "testutil.h"
#include "../../pkg/collect/net.h"
#include "../../pkg/collect/netlink.h"
#include "../../pkg/shared/hostfs.h"
#include "../../pkg/shared/macro.h"
#include "../../pkg/shared/strutil.h"

#include <dirent.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CAP "tests/fuzz/corpus/rtnl_link/"
#define SEQ 4242
#define ETH0_MSG 1484   /* offset of eth0's RTM_NEWLINK in getlink-ifb1-eth0 */
#define ETH0_STATS 1768 /* offset of its IFLA_STATS64 attribute */

static void test_parse_capture(void **state)
{
	(void)state;
	size_t len;
	char *buf = np_slurp(CAP "getlink-ifb1-eth0", &len);
	struct np_rtnl_links l = { 0 };
	assert_int_equal(np_rtnl_parse_links(buf, len, SEQ, &l), 0); /* more to come */
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].name, "ifb1");
	assert_int_equal(l.v[0].ifindex, 3);
	const struct np_rtnl_link *e = np_rtnl_find(&l, "eth0");
	assert_non_null(e);
	assert_int_equal(e->ifindex, 4);
	assert_int_equal(e->addr_len, 6);
	assert_true(np_rtnl_addr_matches(e, "02:fc:00:00:00:01\n"));
	assert_true(np_rtnl_addr_matches(e, "02:fc:00:00:00:01"));
	assert_false(np_rtnl_addr_matches(e, "02:fc:00:00:00:02\n"));
	assert_false(np_rtnl_addr_matches(e, "02:FC:00:00:00:01\n")); /* address_show() prints lowercase */
	assert_false(np_rtnl_addr_matches(e, "02:fc:00:00:00"));
	assert_false(np_rtnl_addr_matches(e, "02:fc:00:00:00:01:00"));
	uint64_t v;
	assert_int_equal(np_rtnl_stat(e, "rx_packets", &v), 0);
	assert_int_equal(v, 123594);
	assert_int_equal(np_rtnl_stat(e, "rx_bytes", &v), 0);
	assert_int_equal(v, 3322224761u);
	assert_int_equal(np_rtnl_stat(e, "tx_bytes", &v), 0);
	assert_int_equal(v, 8911237);
	assert_int_equal(np_rtnl_stat(e, "rx_nohandler", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(np_rtnl_stat(e, "rx_otherhost_dropped", &v), -ENOENT); /* no sysfs file */
	assert_int_equal(np_rtnl_stat(e, "carrier_changes", &v), -ENOENT);
	assert_true(e->have_mtu);
	assert_int_equal(e->mtu, 1400);
	assert_string_equal(np_rtnl_operstate(e), "up");
	assert_null(np_rtnl_find(&l, "lo")); /* in the first datagram */
	np_rtnl_links_free(&l);
	free(buf);

	buf = np_slurp(CAP "getlink-lo-ifb0", &len);
	assert_int_equal(np_rtnl_parse_links(buf, len, SEQ, &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].name, "lo");
	assert_true(np_rtnl_addr_matches(&l.v[0], "00:00:00:00:00:00\n"));
	assert_string_equal(l.v[1].name, "ifb0");
	assert_int_equal(l.v[0].mtu, 65536);
	assert_string_equal(np_rtnl_operstate(&l.v[0]), "unknown"); /* lo has no carrier to tell */
	assert_string_equal(np_rtnl_operstate(&l.v[1]), "down");
	np_rtnl_links_free(&l);
	free(buf);

	buf = np_slurp(CAP "getlink-done", &len);
	assert_int_equal(np_rtnl_parse_links(buf, len, SEQ, &l), 1);
	assert_int_equal(l.n, 0);
	free(buf);
}

/* IFLA_OPERSTATE as net-sysfs.c operstate_show() prints it; none, or past its table: no text. */
static void test_operstate_names(void **state)
{
	(void)state;
	static const char *const want[] = { "unknown", "notpresent", "down", "lowerlayerdown",
					    "testing", "dormant", "up" };
	struct np_rtnl_link k = { 0 };
	assert_null(np_rtnl_operstate(&k));
	k.have_operstate = true;
	for (unsigned i = 0; i < 7; i++) {
		k.operstate = (uint8_t)i;
		assert_string_equal(np_rtnl_operstate(&k), want[i]);
	}
	for (unsigned i = 7; i < 256; i++) {
		k.operstate = (uint8_t)i;
		assert_null(np_rtnl_operstate(&k));
	}
}

/* Every cut of a datagram is refused (-EBADMSG) unless it falls between two messages. */
static void test_parse_truncated(void **state)
{
	(void)state;
	size_t len;
	char *buf = np_slurp(CAP "getlink-ifb1-eth0", &len);
	for (size_t cut = 0; cut < len; cut++) {
		struct np_rtnl_links l = { 0 };
		int r = np_rtnl_parse_links(buf, cut, SEQ, &l);
		if (cut == 0 || cut == ETH0_MSG) {
			assert_int_equal(r, 0);
			assert_int_equal(l.n, cut ? 1 : 0);
		} else {
			assert_int_equal(r, -EBADMSG);
		}
		np_rtnl_links_free(&l);
	}
	free(buf);
}

static void test_parse_garbled(void **state)
{
	(void)state;
	size_t len;
	char *buf = np_slurp(CAP "getlink-ifb1-eth0", &len);
	struct np_rtnl_links l = { 0 };

	/* another dump's messages are not this one's */
	assert_int_equal(np_rtnl_parse_links(buf, len, SEQ + 1, &l), 0);
	assert_int_equal(l.n, 0);

	/* a dump the kernel flags inconsistent */
	struct nlmsghdr *h = (struct nlmsghdr *)(buf + ETH0_MSG);
	h->nlmsg_flags |= NLM_F_DUMP_INTR;
	assert_int_equal(np_rtnl_parse_links(buf, len, SEQ, &l), -EINTR);
	h->nlmsg_flags &= ~NLM_F_DUMP_INTR;
	np_rtnl_links_free(&l);

	/* an attribute longer than its message */
	struct rtattr *a = (struct rtattr *)(buf + ETH0_STATS);
	assert_int_equal(a->rta_type, IFLA_STATS64);
	unsigned short was = a->rta_len;
	a->rta_len = 0xfff0;
	assert_int_equal(np_rtnl_parse_links(buf, len, SEQ, &l), -EBADMSG);
	np_rtnl_links_free(&l);
	/* shorter than its header */
	a->rta_len = 2;
	assert_int_equal(np_rtnl_parse_links(buf, len, SEQ, &l), -EBADMSG);
	np_rtnl_links_free(&l);

	/* an older kernel's shorter struct: the fields past its end are not there (read the files) */
	a->rta_len = sizeof(*a) + 8 * 4; /* rx/tx packets and bytes only; the rest an attribute of no known type */
	struct rtattr *rest = (struct rtattr *)(buf + ETH0_STATS + a->rta_len);
	struct rtattr saved = *rest;
	*rest = (struct rtattr){ .rta_len = (unsigned short)(was - a->rta_len), .rta_type = IFLA_UNSPEC };
	assert_int_equal(np_rtnl_parse_links(buf, len, SEQ, &l), 0);
	const struct np_rtnl_link *e = np_rtnl_find(&l, "eth0");
	assert_non_null(e);
	uint64_t v;
	assert_int_equal(np_rtnl_stat(e, "tx_bytes", &v), 0);
	assert_int_equal(v, 8911237);
	assert_int_equal(np_rtnl_stat(e, "rx_errors", &v), -ENOENT);
	*rest = saved;
	a->rta_len = was;
	np_rtnl_links_free(&l);

	/* a message length past the datagram, and one shorter than a header */
	h->nlmsg_len = (uint32_t)len;
	assert_int_equal(np_rtnl_parse_links(buf, len, SEQ, &l), -EBADMSG);
	h->nlmsg_len = 8;
	assert_int_equal(np_rtnl_parse_links(buf, len, SEQ, &l), -EBADMSG);
	np_rtnl_links_free(&l);
	free(buf);

	/* the kernel's error, in NLMSG_ERROR and in NLMSG_DONE */
	struct {
		struct nlmsghdr h;
		struct nlmsgerr e;
	} err = { .h = { .nlmsg_len = sizeof(err), .nlmsg_type = NLMSG_ERROR, .nlmsg_seq = SEQ },
		  .e = { .error = -EPERM } };
	assert_int_equal(np_rtnl_parse_links(&err, sizeof(err), SEQ, &l), -EPERM);
	err.e.error = 0; /* an ACK is no answer to a dump */
	assert_int_equal(np_rtnl_parse_links(&err, sizeof(err), SEQ, &l), -EBADMSG);
	struct {
		struct nlmsghdr h;
		int e;
	} done = { .h = { .nlmsg_len = sizeof(done), .nlmsg_type = NLMSG_DONE, .nlmsg_seq = SEQ }, .e = -ENOBUFS };
	assert_int_equal(np_rtnl_parse_links(&done, sizeof(done), SEQ, &l), -ENOBUFS);
	assert_int_equal(l.n, 0);
}

/* The interface's counter files, by name, as the net section lists them. */
struct files {
	char **names;
	uint64_t *v;
	size_t n;
};

static void read_files(const struct np_host *h, const char *ifname, struct files *f)
{
	char dir[512], path[1024];
	snprintf(dir, sizeof(dir), "/sys/class/net/%s/statistics", ifname);
	if (!f->names)
		assert_int_equal(np_host_list(h, dir, &f->names, &f->n), 0);
	free(f->v);
	f->v = calloc(f->n + 1, sizeof(*f->v));
	assert_non_null(f->v);
	for (size_t i = 0; i < f->n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, f->names[i]);
		assert_int_equal(np_host_read_u64(h, path, &f->v[i]), 0);
	}
}

static void files_free(struct files *f)
{
	np_strv_free(f->names);
	free(f->v);
}

/* The live dump on this machine: every counter between its file read just before and just after. */
static void test_live_between_files(void **state)
{
	(void)state;
	struct np_host h;
	assert_int_equal(np_host_open(&h, "/"), 0);
	char **ifs = NULL;
	size_t n = 0, checked = 0;
	assert_int_equal(np_host_list(&h, "/sys/class/net", &ifs, &n), 0);
	struct files before[n ? n : 1], after[n ? n : 1];
	memset(before, 0, sizeof(before));
	memset(after, 0, sizeof(after));
	for (size_t i = 0; i < n; i++)
		read_files(&h, ifs[i], &before[i]);
	struct np_rtnl_links l;
	assert_int_equal(np_rtnl_dump_links(&l), 0);
	for (size_t i = 0; i < n; i++) {
		after[i].names = before[i].names;
		after[i].n = before[i].n;
		read_files(&h, ifs[i], &after[i]);
	}
	for (size_t i = 0; i < n; i++) {
		const struct np_rtnl_link *k = np_rtnl_find(&l, ifs[i]);
		assert_non_null(k); /* this test runs in the netns its /sys shows */
		char *idx = NULL, *addr = NULL;
		assert_true(np_host_attr(&h, &idx, "/sys/class/net/%s/ifindex", ifs[i]) > 0);
		assert_int_equal(k->ifindex, atoi(idx));
		if (np_host_attr(&h, &addr, "/sys/class/net/%s/address", ifs[i]) > 0)
			assert_true(np_rtnl_addr_matches(k, addr));
		/* the MTU and operstate the section takes from the dump instead of their files */
		char *mtu = NULL, *oper = NULL;
		assert_true(np_host_attr(&h, &mtu, "/sys/class/net/%s/mtu", ifs[i]) > 0);
		assert_true(k->have_mtu);
		assert_int_equal(k->mtu, atoi(mtu));
		assert_true(np_host_attr(&h, &oper, "/sys/class/net/%s/operstate", ifs[i]) > 0);
		assert_non_null(np_rtnl_operstate(k));
		assert_string_equal(np_rtnl_operstate(k), oper);
		free(mtu);
		free(oper);
		for (size_t c = 0; c < before[i].n; c++) {
			uint64_t v;
			assert_int_equal(np_rtnl_stat(k, before[i].names[c], &v), 0); /* every file has its field */
			if (v < before[i].v[c] || v > after[i].v[c])
				fail_msg("%s %s: netlink %llu, files %llu before and %llu after", ifs[i],
					 before[i].names[c], (unsigned long long)v, (unsigned long long)before[i].v[c],
					 (unsigned long long)after[i].v[c]);
			checked++;
		}
		free(idx);
		free(addr);
		free(after[i].v);
		files_free(&before[i]);
	}
	assert_true(checked >= n * 23); /* lo has all 24 since Linux 4.6 */
	np_rtnl_links_free(&l);
	np_strv_free(ifs);
	np_host_close(&h);
}

/*
 * One interface asked for by its index (what the section does where most links have no device):
 * the dump's entry for it, over one socket kept for every request and the dump; an index no link
 * has is -ENODEV and leaves the socket usable.
 */
static void test_live_get_link(void **state)
{
	(void)state;
	struct np_rtnl nl = { .fd = -1 };
	struct np_rtnl_links l;
	assert_int_equal(np_rtnl_dump_links_via(&nl, &l), 0);
	assert_true(l.n >= 1); /* lo at least */
	int fd = nl.fd, most = 0;
	for (size_t i = 0; i < l.n; i++) {
		const struct np_rtnl_link *d = &l.v[i];
		struct np_rtnl_link g;
		assert_int_equal(np_rtnl_get_link(&nl, d->ifindex, &g), 0);
		assert_int_equal(nl.fd, fd);
		assert_int_equal(g.ifindex, d->ifindex);
		assert_string_equal(g.name, d->name);
		assert_int_equal(g.addr_len, d->addr_len);
		assert_memory_equal(g.addr, d->addr, d->addr_len);
		assert_int_equal(g.mtu, d->mtu);
		assert_int_equal(g.operstate, d->operstate);
		assert_int_equal(g.stats_len, d->stats_len);
		assert_true(g.stats.rx_packets >= d->stats.rx_packets); /* counters only grow */
		assert_true(g.stats.tx_bytes >= d->stats.tx_bytes);
		most = d->ifindex > most ? d->ifindex : most;
	}
	struct np_rtnl_link g;
	assert_int_equal(np_rtnl_get_link(&nl, most + 1000, &g), -ENODEV);
	assert_int_equal(nl.fd, fd);
	assert_int_equal(np_rtnl_get_link(&nl, 0, &g), -EINVAL);
	assert_int_equal(np_rtnl_get_link(&nl, l.v[0].ifindex, &g), 0);
	assert_string_equal(g.name, l.v[0].name);
	np_rtnl_links_free(&l);
	np_rtnl_close(&nl);
	assert_int_equal(nl.fd, -1);
}

/* The match: the same name, ifindex and address, else the files (NULL). */
static void test_match(void **state)
{
	(void)state;
	size_t len;
	char *buf = np_slurp(CAP "getlink-ifb1-eth0", &len);
	struct np_rtnl_links l = { 0 };
	assert_int_equal(np_rtnl_parse_links(buf, len, SEQ, &l), 0);
	const struct np_rtnl_link *e = np_rtnl_find(&l, "eth0");
	assert_ptr_equal(np_net_rtnl_link(&l, "eth0", 4, "02:fc:00:00:00:01\n"), e);
	assert_null(np_net_rtnl_link(&l, "eth0", 4, "02:fc:00:00:00:02\n")); /* another address: a pod's eth0 */
	assert_null(np_net_rtnl_link(&l, "eth0", 5, "02:fc:00:00:00:01\n")); /* another ifindex */
	assert_null(np_net_rtnl_link(&l, "eth1", 4, "02:fc:00:00:00:01\n")); /* not in the dump: renamed */
	assert_null(np_net_rtnl_link(&l, "eth0", -1, "02:fc:00:00:00:01\n"));
	assert_null(np_net_rtnl_link(&l, "eth0", 4, NULL));
	assert_null(np_net_rtnl_link(NULL, "eth0", 4, "02:fc:00:00:00:01\n"));
	np_rtnl_links_free(&l);
	free(buf);
}

static uint64_t stat_of(const struct np_net_if *nic, const char *name)
{
	for (size_t i = 0; i < nic->nstats; i++)
		if (streq(nic->stats[i].name, name))
			return nic->stats[i].value;
	fail_msg("%s: no counter %s", nic->name, name);
	return 0;
}

/* The section on the live root: every counter of every NIC between the files read before and after. */
static void test_section_live(void **state)
{
	(void)state;
	struct np_host h;
	assert_int_equal(np_host_open(&h, "/"), 0);
	struct np_net s = { 0 };
	assert_int_equal(np_net_collect(&h, NP_NET_IOCTL_AUTO, &s), 0); /* which NICs, and their counters' names */
	struct files before[s.n ? s.n : 1], after[s.n ? s.n : 1];
	memset(before, 0, sizeof(before));
	memset(after, 0, sizeof(after));
	for (size_t i = 0; i < s.n; i++)
		read_files(&h, s.ifs[i].name, &before[i]);
	struct np_net s2 = { 0 };
	assert_int_equal(np_net_collect(&h, NP_NET_IOCTL_AUTO, &s2), 0);
	for (size_t i = 0; i < s.n; i++) {
		after[i].names = before[i].names;
		after[i].n = before[i].n;
		read_files(&h, s.ifs[i].name, &after[i]);
	}
	assert_int_equal(s2.n, s.n);
	for (size_t i = 0; i < s.n; i++) {
		assert_string_equal(s2.ifs[i].name, s.ifs[i].name);
		assert_int_equal(s2.ifs[i].nstats, before[i].n);
		for (size_t c = 0; c < before[i].n; c++) {
			uint64_t v = stat_of(&s2.ifs[i], before[i].names[c]);
			assert_true(v >= before[i].v[c] && v <= after[i].v[c]);
		}
		free(after[i].v);
		files_free(&before[i]);
	}
	np_net_free(&s);
	np_net_free(&s2);
	np_host_close(&h);
}

/*
 * A fixture root is never the process's netns, even when it is a capture of this very machine
 * (host-vm-net: eth0, ifindex 4, 02:fc:00:00:00:01, as the live one): its counters are its files.
 */
static void test_section_fixture_reads_files(void **state)
{
	(void)state;
	struct np_host h;
	assert_int_equal(np_host_open(&h, np_src("tests/fixtures/host-vm-net")), 0);
	struct np_net s = { 0 };
	assert_int_equal(np_net_collect(&h, NP_NET_IOCTL_AUTO, &s), 0);
	assert_int_equal(s.n, 1);
	struct files f = { 0 };
	read_files(&h, "eth0", &f);
	assert_int_equal(s.ifs[0].nstats, f.n);
	for (size_t c = 0; c < f.n; c++)
		assert_int_equal(stat_of(&s.ifs[0], f.names[c]), f.v[c]);
	files_free(&f);
	np_net_free(&s);
	np_host_close(&h);
}

/* np_net_rtnl_answers() for root @h with this process's dump and @h's /sys/class/net. */
static bool answers(const struct np_host *h)
{
	struct np_rtnl_links rl = { 0 };
	char **names = NULL;
	size_t n = 0;
	if (np_rtnl_dump_links(&rl) < 0 || np_host_list(h, "/sys/class/net", &names, &n) < 0)
		return false;
	bool r = np_net_rtnl_answers(h, &rl, names, n);
	np_strv_free(names);
	np_rtnl_links_free(&rl);
	return r;
}

/*
 * In a child with its own mount namespace: @root gets the live /sys (recursively) and /proc bound
 * under it, as the DaemonSet's hostPath /host does. Exit status: bit 0 set when the bound root
 * did not answer, bit 1 when it still answered after the child moved to a new network namespace
 * (a /host seen from a Pod without hostNetwork), 64 when the child could not set this up.
 */
static int host_root_child(const char *root)
{
	char sys[256], proc[256];
	snprintf(sys, sizeof(sys), "%s/sys", root);
	snprintf(proc, sizeof(proc), "%s/proc", root);
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("/sys", sys, NULL, MS_BIND | MS_REC, NULL) < 0 || mount("/proc", proc, NULL, MS_BIND, NULL) < 0)
		return 64;
	struct np_host h;
	if (np_host_open(&h, root) < 0)
		return 64;
	int st = answers(&h) ? 0 : 1;
	if (unshare(CLONE_NEWNET) < 0)
		return 64;
	if (answers(&h))
		st |= 2;
	np_host_close(&h);
	return st;
}

/*
 * Who may take the counters from this process's rtnetlink: the live root; a live sysfs and proc
 * bound under another root (the DaemonSet's --host-root=/host) while the process shares the
 * host's network namespace, and no longer once it has its own; never a fixture, even a capture
 * of this very machine with the same interfaces.
 */
static void test_rtnl_answers(void **state)
{
	(void)state;
	struct np_host h;
	assert_int_equal(np_host_open(&h, "/"), 0);
	assert_true(answers(&h));
	np_host_close(&h);
	assert_int_equal(np_host_open(&h, np_src("tests/fixtures/host-vm-net")), 0);
	assert_false(answers(&h));
	np_host_close(&h);
	if (geteuid() != 0) {
		fprintf(stderr, "# the bound /host case needs root (mount and network namespaces)\n");
		return;
	}
	char root[] = "/tmp/np-rtnl-root.XXXXXX", sys[64], proc[64];
	assert_non_null(mkdtemp(root));
	snprintf(sys, sizeof(sys), "%s/sys", root);
	snprintf(proc, sizeof(proc), "%s/proc", root);
	assert_int_equal(mkdir(sys, 0755), 0);
	assert_int_equal(mkdir(proc, 0755), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(host_root_child(root));
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	rmdir(sys);
	rmdir(proc);
	rmdir(root);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == 64) {
		fprintf(stderr, "# the bound /host case: no mount or network namespace here\n");
		return;
	}
	assert_int_equal(WEXITSTATUS(st) & 1, 0); /* the bound live root answers */
	assert_int_equal(WEXITSTATUS(st) & 2, 0); /* not from another network namespace */
}

/*
 * The live root seen from a new network namespace (its /sys still the host's): each NIC's index
 * is asked for and not found here, so no ioctl runs and the counters, MTU and operstate are the
 * files'. Exit status: 0, 1 when a NIC was taken for this netns's, 2 when a value is not its
 * file's, 3 when the section failed, 64 when the namespace could not be made.
 */
static int other_netns_child(void)
{
	if (unshare(CLONE_NEWNET) < 0)
		return 64;
	struct np_host h;
	struct np_net s = { 0 };
	if (np_host_open(&h, "/") < 0 || np_net_collect(&h, NP_NET_IOCTL_AUTO, &s) < 0)
		return 3;
	int st = 0;
	for (size_t i = 0; i < s.n; i++) {
		const struct np_net_if *nic = &s.ifs[i];
		char *mtu = NULL, *oper = NULL;
		if (!nic->ethtool_error || !streq(nic->ethtool_error, NP_NET_OTHER_NETNS))
			st = 1;
		if (np_host_attr(&h, &mtu, "/sys/class/net/%s/mtu", nic->name) <= 0 || nic->mtu != atoi(mtu) ||
		    np_host_attr(&h, &oper, "/sys/class/net/%s/operstate", nic->name) <= 0 || !nic->operstate ||
		    !streq(nic->operstate, oper) || nic->nstats < 23)
			st = st ? st : 2;
		free(mtu);
		free(oper);
	}
	np_net_free(&s);
	np_host_close(&h);
	return st;
}

static void test_section_other_netns(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		fprintf(stderr, "# the other network namespace case needs root\n");
		return;
	}
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(other_netns_child());
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == 64) {
		fprintf(stderr, "# no network namespace here\n");
		return;
	}
	assert_int_equal(WEXITSTATUS(st), 0);
}

/*
 * The interface-set check on the captured dump (lo, ifb0, ifb1, eth0): sysfs's listing with the
 * bonding driver's `bonding_masters` file is the same set; one interface more or less, or another
 * name, is not.
 */
static void test_same_interfaces(void **state)
{
	(void)state;
	struct np_rtnl_links l = { 0 };
	const char *parts[] = { "getlink-lo-ifb0", "getlink-ifb1-eth0", "getlink-done" };
	for (size_t i = 0; i < 3; i++) {
		char path[128];
		size_t len;
		snprintf(path, sizeof(path), CAP "%s", parts[i]);
		char *buf = np_slurp(path, &len);
		assert_int_equal(np_rtnl_parse_links(buf, len, SEQ, &l), i == 2 ? 1 : 0);
		free(buf);
	}
	assert_int_equal(l.n, 4);
	char *same[] = { "bonding_masters", "eth0", "ifb0", "ifb1", "lo" };
	assert_true(np_net_same_interfaces(&l, same, 5));
	assert_true(np_net_same_interfaces(&l, same + 1, 4));
	char *fewer[] = { "eth0", "ifb0", "lo" };
	assert_false(np_net_same_interfaces(&l, fewer, 3));
	char *more[] = { "eth0", "eth1", "ifb0", "ifb1", "lo" };
	assert_false(np_net_same_interfaces(&l, more, 5));
	char *other[] = { "eth1", "ifb0", "ifb1", "lo" };
	assert_false(np_net_same_interfaces(&l, other, 4));
	np_rtnl_links_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_capture),
		cmocka_unit_test(test_operstate_names),
		cmocka_unit_test(test_parse_truncated),
		cmocka_unit_test(test_parse_garbled),
		cmocka_unit_test(test_live_between_files),
		cmocka_unit_test(test_live_get_link),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_section_live),
		cmocka_unit_test(test_section_fixture_reads_files),
		cmocka_unit_test(test_rtnl_answers),
		cmocka_unit_test(test_section_other_netns),
		cmocka_unit_test(test_same_interfaces),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
