// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: one datagram of an rtnetlink RTM_GETLINK dump answer (np_rtnl_parse_links()),
 * then every counter name and the sysfs address match of each link it kept. */
#include "../../pkg/collect/net.h"
#include "../../pkg/collect/netlink.h"

#include <linux/netlink.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "rx_bytes", "rx_nohandler", "tx_window_errors", "rx_otherhost_dropped",
					     "nope" };
	struct np_rtnl_links l = { 0 };
	uint32_t seq = 0;
	if (size >= sizeof(struct nlmsghdr)) /* the datagram's own sequence number: its messages are parsed */
		memcpy(&seq, data + offsetof(struct nlmsghdr, nlmsg_seq), sizeof(seq));
	np_rtnl_parse_links(data, size, seq, &l);
	for (size_t i = 0; i < l.n; i++) {
		uint64_t v;
		for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			np_rtnl_stat(&l.v[i], names[k], &v);
		np_rtnl_addr_matches(&l.v[i], "02:fc:00:00:00:01\n");
		np_net_rtnl_link(&l, l.v[i].name, l.v[i].ifindex, "02:fc:00:00:00:01");
	}
	np_rtnl_links_free(&l);
	return 0;
}
