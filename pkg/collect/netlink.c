// SPDX-License-Identifier: Apache-2.0
/*
 * netlink.c - rtnetlink RTM_GETLINK, as one dump of every interface or one
 * request for an interface by its index: index, name, address, MTU,
 * operational state and struct rtnl_link_stats64 (rtnetlink(7), netlink(7),
 * include/uapi/linux/rtnetlink.h, if_link.h; net/core/rtnetlink.c
 * rtnl_fill_ifinfo() writes them for both).
 */
#define _GNU_SOURCE
#include "netlink.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* The kernel sizes a dump's datagrams to the reader's buffer, at most 32 KiB (net/netlink/af_netlink.c) */
#define RECV_BUF 32768

void np_rtnl_links_free(struct np_rtnl_links *l)
{
	free(l->v);
	*l = (struct np_rtnl_links){ 0 };
}

/* The attributes of one RTM_NEWLINK (@p, @len bytes after its struct ifinfomsg) into @k. */
static int parse_attrs(const unsigned char *p, size_t len, struct np_rtnl_link *k)
{
	while (len >= sizeof(struct rtattr)) {
		struct rtattr a;
		memcpy(&a, p, sizeof(a));
		if (a.rta_len < sizeof(a) || a.rta_len > len)
			return -EBADMSG;
		const unsigned char *d = p + sizeof(a);
		size_t dl = a.rta_len - sizeof(a);
		if (a.rta_type == IFLA_IFNAME && dl > 0 && dl <= IFNAMSIZ && memchr(d, '\0', dl)) {
			memcpy(k->name, d, dl);
		} else if (a.rta_type == IFLA_ADDRESS && dl <= NP_RTNL_ADDR_MAX) {
			memcpy(k->addr, d, dl);
			k->addr_len = dl;
		} else if (a.rta_type == IFLA_MTU && dl == sizeof(uint32_t)) {
			memcpy(&k->mtu, d, sizeof(k->mtu));
			k->have_mtu = true;
		} else if (a.rta_type == IFLA_OPERSTATE && dl == sizeof(uint8_t)) {
			k->operstate = *d;
			k->have_operstate = true;
		} else if (a.rta_type == IFLA_STATS64) {
			k->stats_len = dl < sizeof(k->stats) ? dl : sizeof(k->stats);
			memcpy(&k->stats, d, k->stats_len);
		}
		size_t step = RTA_ALIGN(a.rta_len);
		if (step >= len)
			break;
		p += step;
		len -= step;
	}
	return 0;
}

static int add_link(const unsigned char *p, size_t len, struct np_rtnl_links *out)
{
	struct ifinfomsg ifi;
	if (len < NLMSG_ALIGN(sizeof(ifi)))
		return -EBADMSG;
	if (out->n >= NP_RTNL_LINKS_MAX)
		return -E2BIG;
	memcpy(&ifi, p, sizeof(ifi));
	struct np_rtnl_link k = { .ifindex = ifi.ifi_index };
	int r = parse_attrs(p + NLMSG_ALIGN(sizeof(ifi)), len - NLMSG_ALIGN(sizeof(ifi)), &k);
	if (r < 0)
		return r;
	struct np_rtnl_link *v = reallocarray(out->v, out->n + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	out->v = v;
	out->v[out->n++] = k;
	return 0;
}

int np_rtnl_parse_links(const void *buf, size_t len, uint32_t seq, struct np_rtnl_links *out)
{
	const unsigned char *p = buf;
	while (len > 0) {
		struct nlmsghdr h;
		if (len < sizeof(h))
			return -EBADMSG;
		memcpy(&h, p, sizeof(h));
		if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > len)
			return -EBADMSG;
		const unsigned char *d = p + NLMSG_HDRLEN;
		size_t dl = h.nlmsg_len - NLMSG_HDRLEN;
		if (h.nlmsg_seq == seq) {
			if (h.nlmsg_flags & NLM_F_DUMP_INTR)
				return -EINTR;
			if (h.nlmsg_type == NLMSG_DONE) {
				int e = 0; /* its payload: 0, or the -errno that ended the dump early */
				if (dl >= sizeof(e))
					memcpy(&e, d, sizeof(e));
				return e < 0 && e > -4096 ? e : e == 0 ? 1 : -EBADMSG;
			}
			if (h.nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr e;
				if (dl < sizeof(e))
					return -EBADMSG;
				memcpy(&e, d, sizeof(e));
				return e.error < 0 && e.error > -4096 ? e.error : -EBADMSG;
			}
			if (h.nlmsg_type == RTM_NEWLINK) {
				int r = add_link(d, dl, out);
				if (r < 0)
					return r;
			}
		}
		size_t step = NLMSG_ALIGN(h.nlmsg_len);
		if (step >= len)
			break;
		p += step;
		len -= step;
	}
	return 0;
}

/*
 * Send one RTM_GETLINK: the dump of every link (@ifindex 0), or the request for one, then parse
 * the answer into @out until it is complete: the dump's NLMSG_DONE, the one link, or the
 * kernel's error. Returns 0 or -errno.
 */
static int getlink(int fd, uint32_t seq, int ifindex, struct np_rtnl_links *out)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg ifi;
	} req = {
		.h = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETLINK,
		       .nlmsg_flags = NLM_F_REQUEST | (ifindex ? 0 : NLM_F_DUMP), .nlmsg_seq = seq },
		.ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex },
	};
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return negative_errno();
	_cleanup_free_ unsigned char *buf = malloc(RECV_BUF);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		struct iovec iov = { .iov_base = buf, .iov_len = RECV_BUF };
		struct sockaddr_nl from;
		struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t k = recvmsg(fd, &m, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return negative_errno();
		if (m.msg_flags & MSG_TRUNC)
			return -EMSGSIZE;
		if (k == 0)
			return -EBADMSG; /* no NLMSG_DONE */
		if (from.nl_pid != 0)
			continue; /* only the kernel answers a dump */
		int r = np_rtnl_parse_links(buf, (size_t)k, seq, out);
		if (r != 0)
			return r < 0 ? r : 0;
		if (ifindex && out->n)
			return out->n == 1 && out->v[0].ifindex == ifindex ? 0 : -EBADMSG;
	}
}

void np_rtnl_close(struct np_rtnl *nl)
{
	if (nl->fd >= 0)
		close(nl->fd);
	nl->fd = -1;
}

/* @nl's socket, opened now when it is not. Returns 0 or -errno. */
static int rtnl_open(struct np_rtnl *nl)
{
	if (nl->fd >= 0)
		return 0;
	nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (nl->fd < 0)
		return negative_errno();
	if (!nl->seq)
		nl->seq = (uint32_t)time(NULL);
	return 0;
}

int np_rtnl_dump_links_via(struct np_rtnl *nl, struct np_rtnl_links *out)
{
	*out = (struct np_rtnl_links){ 0 };
	int r = rtnl_open(nl);
	if (r < 0)
		return r;
	r = getlink(nl->fd, ++nl->seq, 0, out);
	if (r < 0) {
		/* a dump left half read keeps the socket busy (netlink_dump_start(): -EBUSY) */
		np_rtnl_close(nl);
		np_rtnl_links_free(out);
	}
	return r;
}

int np_rtnl_get_link(struct np_rtnl *nl, int ifindex, struct np_rtnl_link *out)
{
	struct np_rtnl_links l = { 0 };
	if (ifindex <= 0)
		return -EINVAL;
	int r = rtnl_open(nl);
	if (r < 0)
		return r;
	r = getlink(nl->fd, ++nl->seq, ifindex, &l);
	if (r >= 0)
		*out = l.v[0];
	else if (r != -ENODEV)
		np_rtnl_close(nl); /* an answer maybe left queued: the next request starts afresh */
	np_rtnl_links_free(&l);
	return r;
}

int np_rtnl_dump_links(struct np_rtnl_links *out)
{
	struct np_rtnl nl = { .fd = -1 };
	int r = np_rtnl_dump_links_via(&nl, out);
	np_rtnl_close(&nl);
	return r;
}

const struct np_rtnl_link *np_rtnl_find(const struct np_rtnl_links *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (streq(l->v[i].name, name))
			return &l->v[i];
	return NULL;
}

bool np_rtnl_addr_matches(const struct np_rtnl_link *l, const char *sysfs)
{
	static const char hex[] = "0123456789abcdef";
	const char *s = sysfs;
	if (!l->addr_len)
		return false;
	for (size_t i = 0; i < l->addr_len; i++) {
		if (i && *s++ != ':')
			return false;
		if (s[0] != hex[l->addr[i] >> 4] || s[1] != hex[l->addr[i] & 0xf])
			return false;
		s += 2;
	}
	return !*s || streq(s, "\n");
}

#define STAT(f) { #f, offsetof(struct rtnl_link_stats64, f) }
/* Every counter of sysfs-class-net-statistics: net-sysfs.c's files carry the fields' names. */
static const struct {
	const char *name;
	size_t off;
} stats[] = {
	STAT(rx_packets), STAT(tx_packets), STAT(rx_bytes), STAT(tx_bytes), STAT(rx_errors), STAT(tx_errors),
	STAT(rx_dropped), STAT(tx_dropped), STAT(multicast), STAT(collisions), STAT(rx_length_errors),
	STAT(rx_over_errors), STAT(rx_crc_errors), STAT(rx_frame_errors), STAT(rx_fifo_errors),
	STAT(rx_missed_errors), STAT(tx_aborted_errors), STAT(tx_carrier_errors), STAT(tx_fifo_errors),
	STAT(tx_heartbeat_errors), STAT(tx_window_errors), STAT(rx_compressed), STAT(tx_compressed),
	STAT(rx_nohandler),
};

int np_rtnl_stat(const struct np_rtnl_link *l, const char *name, uint64_t *v)
{
	for (size_t i = 0; i < ARRAY_SIZE(stats); i++)
		if (streq(stats[i].name, name)) {
			if (stats[i].off + sizeof(*v) > l->stats_len)
				return -ENOENT;
			memcpy(v, (const unsigned char *)&l->stats + stats[i].off, sizeof(*v));
			return 0;
		}
	return -ENOENT;
}

const char *np_rtnl_operstate(const struct np_rtnl_link *l)
{
	/* net-sysfs.c operstates[], indexed by IF_OPER_* (include/uapi/linux/if.h) */
	static const char *const names[] = { "unknown", "notpresent", "down", "lowerlayerdown",
					     "testing", "dormant", "up" };
	return l->have_operstate && l->operstate < ARRAY_SIZE(names) ? names[l->operstate] : NULL;
}
