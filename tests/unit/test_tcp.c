// SPDX-License-Identifier: Apache-2.0
/*
 * TCP counters on a real capture of this development host (tests/fixtures/host-tcp-virt: its
 * /proc/1/net/snmp and /proc/1/net/netstat), and the parser on what it must refuse.
 */
#include "testutil.h"
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include "collectutil.h"
#include "../../pkg/collect/tcp.h"
#include "../../pkg/shared/hostfs.h"
#include "../../pkg/shared/macro.h"

static void test_parse(void **state)
{
	(void)state;
	size_t len;
	char *snmp = np_slurp("tests/fixtures/host-tcp-virt/proc/1/net/snmp", &len);
	int64_t v;
	assert_int_equal(np_snmp_get(snmp, len, "Tcp", "RetransSegs", &v), 0);
	assert_int_equal(v, 7982);
	assert_int_equal(np_snmp_get(snmp, len, "Tcp", "OutSegs", &v), 0);
	assert_int_equal(v, 2329734);
	assert_int_equal(np_snmp_get(snmp, len, "Tcp", "MaxConn", &v), 0); /* signed: -1 */
	assert_int_equal(v, -1);
	assert_int_equal(np_snmp_get(snmp, len, "Tcp", "NoSuch", &v), -ENOENT);
	assert_int_equal(np_snmp_get(snmp, len, "Sctp", "RetransSegs", &v), -ENOENT);
	/* "Udp:" must not match "UdpLite:" and the reverse */
	assert_int_equal(np_snmp_get(snmp, len, "UdpLite", "InDatagrams", &v), 0);
	/* truncated after the header line: no values */
	char *tcp = strstr(snmp, "Tcp: RtoAlgorithm");
	char *nl = strchr(tcp, '\n');
	assert_int_equal(np_snmp_get(snmp, (size_t)(nl - snmp), "Tcp", "RetransSegs", &v), -EINVAL);
	/* one value fewer than names */
	char *vals = strstr(nl, "Tcp: ");
	char *vend = strchr(vals, '\n');
	char *cut = strndup(snmp, (size_t)(vend - snmp));
	*strrchr(cut, ' ') = '\0';
	assert_int_equal(np_snmp_get(cut, strlen(cut), "Tcp", "RetransSegs", &v), -EINVAL);
	free(cut);
	free(snmp);
	char *netstat = np_slurp("tests/fixtures/host-tcp-virt/proc/1/net/netstat", &len);
	assert_int_equal(np_snmp_get(netstat, len, "TcpExt", "TCPTimeouts", &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(np_snmp_get(netstat, len, "TcpExt", "ListenDrops", &v), 0);
	assert_int_equal(v, 0);
	free(netstat);
	assert_int_equal(np_snmp_get("Tcp: A B\nTcp: 1 x\n", 18, "Tcp", "B", &v), -EINVAL);
}

/* One walk for many names: for each, what np_snmp_get() says of it alone, on every header word. */
static void test_get_many(void **state)
{
	(void)state;
	static const char *const files[] = { "tests/fixtures/host-tcp-virt/proc/1/net/snmp",
					     "tests/fixtures/host-tcp-virt/proc/1/net/netstat" };
	static const char *const protos[] = { "Ip", "Icmp", "Tcp", "Udp", "TcpExt", "IpExt", "MPTcpExt" };
	size_t checked = 0;
	for (size_t f = 0; f < 2; f++) {
		size_t len;
		char *buf = np_slurp(files[f], &len);
		for (size_t p = 0; p < sizeof(protos) / sizeof(*protos); p++) {
			/* the header's words, then names it lacks, and one twice */
			const char *names[512];
			size_t n = 0;
			char hdr[64];
			snprintf(hdr, sizeof(hdr), "\n%s: ", protos[p]);
			const char *h = strstr(buf, hdr);
			char *line = h ? strndup(h + strlen(hdr), strcspn(h + strlen(hdr), "\n")) : NULL;
			for (char *save = NULL, *w = line ? strtok_r(line, " ", &save) : NULL; w && n < 500;
			     w = strtok_r(NULL, " ", &save))
				names[n++] = w;
			if (n)
				names[n++] = names[0];
			names[n++] = "NoSuchCounter";
			names[n++] = "";
			int64_t got[512], one;
			int rc[512];
			assert_int_equal(np_snmp_get_many(buf, len, protos[p], names, n, got, rc), 0);
			for (size_t i = 0; i < n; i++) {
				assert_int_equal(rc[i], np_snmp_get(buf, len, protos[p], names[i], &one));
				if (rc[i] == 0)
					assert_int_equal(got[i], one);
				checked += rc[i] == 0;
			}
			free(line);
		}
		free(buf);
	}
	assert_true(checked > 100);
	/* a values line that does not match its header: every name refused */
	const char *bad[] = { "A", "B", "C" };
	int64_t got[3];
	int rc[3];
	assert_int_equal(np_snmp_get_many("Tcp: A B\nTcp: 1\n", 16, "Tcp", bad, 3, got, rc), 0);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(rc[i], -EINVAL);
	assert_int_equal(np_snmp_get_many("Tcp: A B\nTcp: 1 x\n", 18, "Tcp", bad, 3, got, rc), 0);
	assert_int_equal(rc[0], 0);
	assert_int_equal(got[0], 1);
	assert_int_equal(rc[1], -EINVAL);
	assert_int_equal(rc[2], -ENOENT);
}

static void test_capture(void **state)
{
	(void)state;
	struct np_report r = { 0 };
	np_collect_fixture("tests/fixtures/host-tcp-virt", "tcp", &r);
	assert_int_equal(r.tcp.status.err, 0);
	for (size_t i = 0; i < NP_TCP__N; i++)
		assert_true(r.tcp.have[i]);
	assert_int_equal(r.tcp.v[NP_TCP_RETRANS_SEGS], 7982);
	assert_int_equal(r.tcp.v[NP_TCP_ACTIVE_OPENS], 40693);
	assert_int_equal(r.tcp.v[NP_TCP_OUT_RSTS], 28299);
	assert_false(r.tcp.has_rates);
	np_report_free(&r);
}

static size_t open_fds(void)
{
	size_t n = 0;
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* One loopback TCP connection, accepted: ActiveOpens and PassiveOpens one more each. */
static void one_connection(void)
{
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	assert_true(l >= 0);
	assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&a, &al), 0);
	int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
	int s = accept(l, NULL, NULL);
	assert_true(s >= 0);
	close(s);
	close(c);
	close(l);
}

/*
 * The agent's cycles on the live root (its host keeping files open, hostfs.h np_host_keep_open())
 * hold both files open, two descriptors closed with the host, and still see every new connection:
 * each read starts the file over.
 */
static void test_live_kept_files(void **state)
{
	(void)state;
	size_t fds = open_fds();
	struct np_host h;
	assert_int_equal(np_host_open(&h, "/"), 0);
	assert_int_equal(np_host_keep_open(&h, 16), 0);
	struct np_collect_ctx ctx = { .host = &h };
	char *only[] = { "tcp", NULL };
	int64_t prev[2] = { 0 };
	for (int cycle = 0; cycle < 3; cycle++) {
		struct np_report r = { 0 };
		assert_int_equal(np_collect_all(&ctx, only, &r), 0);
		assert_int_equal(r.tcp.status.err, 0);
		for (size_t i = 0; i < NP_TCP__N; i++)
			assert_true(r.tcp.have[i]);
		if (cycle) {
			assert_true(r.tcp.v[NP_TCP_ACTIVE_OPENS] >= prev[0] + 1);
			assert_true(r.tcp.v[NP_TCP_PASSIVE_OPENS] >= prev[1] + 1);
		}
		prev[0] = r.tcp.v[NP_TCP_ACTIVE_OPENS];
		prev[1] = r.tcp.v[NP_TCP_PASSIVE_OPENS];
		np_report_free(&r);
		assert_int_equal(open_fds(), fds + 1 + 2); /* the root, the two files */
		one_connection();
	}
	np_host_close(&h);
	assert_int_equal(open_fds(), fds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_get_many),
		cmocka_unit_test(test_capture),
		cmocka_unit_test(test_live_kept_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
