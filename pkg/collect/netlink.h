/* SPDX-License-Identifier: Apache-2.0 */
/*
 * netlink.h - the network interfaces of this process's network namespace and
 * their counters, from one rtnetlink RTM_GETLINK dump or one request per
 * interface (rtnetlink(7), netlink(7); include/uapi/linux/if_link.h:
 * IFLA_IFNAME, IFLA_ADDRESS, IFLA_MTU, IFLA_OPERSTATE,
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
	uint32_t mtu;                         /* IFLA_MTU, when have_mtu */
	uint8_t operstate;                    /* IFLA_OPERSTATE (IF_OPER_*), when have_operstate */
	bool have_mtu, have_operstate;
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

/* A NETLINK_ROUTE socket kept for many dumps, and the sequence number of its last one. */
struct np_rtnl {
	int fd; /* -1: not open */
	uint32_t seq;
};

/*
 * np_rtnl_dump_links_via() - np_rtnl_dump_links() over @nl's socket, opened at the first call
 * and kept for the next ones: a dump read to its end leaves nothing queued, and the socket
 * (bound to the netns of its creation, this process's) joins no multicast group, so nothing
 * arrives between dumps. Each dump has its own sequence number. On error the socket is closed
 * (a dump left half read would refuse the next one) and opened again at the next call.
 * Returns what np_rtnl_dump_links() returns.
 */
int np_rtnl_dump_links_via(struct np_rtnl *nl, struct np_rtnl_links *out);

/*
 * np_rtnl_get_link() - the interface of index @ifindex in this process's network namespace, with
 * its address, MTU, operstate and counters: one RTM_GETLINK request (not a dump: the kernel's
 * rtnl_getlink() fills the same message for that one link) over @nl's socket, opened as by
 * np_rtnl_dump_links_via(). Cheaper than a dump where most links are not wanted (a node's pod
 * veths). Returns 0 with *@out, -ENODEV when no interface has that index here, -EINVAL for
 * @ifindex <= 0, or the other -errno of np_rtnl_dump_links_via() (the socket is then closed).
 */
int np_rtnl_get_link(struct np_rtnl *nl, int ifindex, struct np_rtnl_link *out);

/* Close @nl's socket, if open (@nl can be used again). */
void np_rtnl_close(struct np_rtnl *nl);

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

/*
 * np_rtnl_operstate() - the text of /sys/class/net/<if>/operstate for @l's IFLA_OPERSTATE
 * (net/core/net-sysfs.c operstate_show(): both give IF_OPER_DOWN for an interface not running,
 * else dev->operstate, printed from the same table of RFC 2863 names), or NULL when @l has none
 * or its value is past the table (sysfs fails the read then).
 */
const char *np_rtnl_operstate(const struct np_rtnl_link *l);

#endif
