/* SPDX-License-Identifier: Apache-2.0 */
/*
 * netlink.h - the network interfaces of this process's network namespace and
 * their counters, from one rtnetlink RTM_GETLINK dump (rtnetlink(7),
 * netlink(7); include/uapi/linux/if_link.h: IFLA_IFNAME, IFLA_ADDRESS,
 * IFLA_STATS64 = struct rtnl_link_stats64, filled by the kernel from the same
 * dev_get_stats() as /sys/class/net/<if>/statistics/, net/core/net-sysfs.c).
 */
#ifndef NP_COLLECT_NETLINK_H
#define NP_COLLECT_NETLINK_H

#include <linux/if_link.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* MAX_ADDR_LEN of include/linux/netdevice.h: the longest link-layer address */
#define NP_RTNL_ADDR_MAX 32
/* Most interfaces kept from one dump (a larger dump is refused with -E2BIG) */
#define NP_RTNL_LINKS_MAX 65536u

struct np_rtnl_link {
	int ifindex;
	char name[IFNAMSIZ];                  /* IFLA_IFNAME; "" when the message had none */
	unsigned char addr[NP_RTNL_ADDR_MAX]; /* IFLA_ADDRESS */
	size_t addr_len;                      /* 0: no address */
	size_t stats_len;                     /* bytes of @stats the kernel filled: 0 = no IFLA_STATS64
	                                       * (older kernels send a shorter struct) */
	struct rtnl_link_stats64 stats;
};

struct np_rtnl_links {
	struct np_rtnl_link *v;
	size_t n;
};

/*
 * np_rtnl_parse_links() - the RTM_NEWLINK messages of one datagram of an
 * RTM_GETLINK dump answer (@buf, @len bytes, as recv() returned it), appended
 * to @out; messages of another sequence number than @seq are skipped, and so
 * are attributes it does not know, a name that is not NUL-terminated within
 * IFNAMSIZ and an address longer than NP_RTNL_ADDR_MAX. Returns 1 when the
 * datagram ends the dump (NLMSG_DONE), 0 when more are to come, or -errno:
 * the kernel's NLMSG_ERROR code, -EINTR when the kernel flags the dump
 * inconsistent (NLM_F_DUMP_INTR: a link changed during it), -EBADMSG for a
 * truncated or garbled message, -E2BIG past NP_RTNL_LINKS_MAX links, -ENOMEM.
 * @out keeps what was appended before an error; free it with
 * np_rtnl_links_free().
 */
int np_rtnl_parse_links(const void *buf, size_t len, uint32_t seq, struct np_rtnl_links *out);

/*
 * np_rtnl_dump_links() - every interface of this process's network namespace
 * with its address and counters: one RTM_GETLINK dump over a NETLINK_ROUTE
 * socket, parsed by np_rtnl_parse_links(). Returns 0 with *@out filled (free
 * with np_rtnl_links_free()), or -errno of socket(2)/send(2)/recv(2), of the
 * parser, or -EMSGSIZE for a datagram larger than the receive buffer; *@out
 * is empty then.
 */
int np_rtnl_dump_links(struct np_rtnl_links *out);

void np_rtnl_links_free(struct np_rtnl_links *l);

/* The link named @name in @l, or NULL. */
const struct np_rtnl_link *np_rtnl_find(const struct np_rtnl_links *l, const char *name);

/*
 * np_rtnl_addr_matches() - whether @sysfs, the text of
 * /sys/class/net/<if>/address (bytes as two lowercase hex digits joined by
 * ':', net/core/net-sysfs.c address_show(); a trailing newline allowed), is
 * the address of @l. false when @l has none.
 */
bool np_rtnl_addr_matches(const struct np_rtnl_link *l, const char *sysfs);

/*
 * np_rtnl_stat() - the value of the counter file /sys/class/net/<if>/
 * statistics/@name (Documentation/ABI/testing/sysfs-class-net-statistics) in
 * @l's IFLA_STATS64. Returns 0 with *@v, or -ENOENT when @name is no field
 * of struct rtnl_link_stats64 or the kernel's struct ended before it (read the
 * file then).
 */
int np_rtnl_stat(const struct np_rtnl_link *l, const char *name, uint64_t *v);

#endif
