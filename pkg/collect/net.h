/* SPDX-License-Identifier: Apache-2.0 */
/*
 * net.h - the net collector's parsers and building blocks, exposed for tests
 * and fuzzing. Sources: include/uapi/linux/ethtool.h (SIOCETHTOOL commands),
 * Documentation/ABI/testing/sysfs-class-net, sysfs-class-net-statistics,
 * sysfs-class-net-queues, proc(5) for /proc/interrupts and /proc/stat.
 */
#pragma once

#include "../report/net.h"
#include "../shared/hostfs.h"
#include "interrupts.h"

#include <linux/ethtool.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * np_ethtool_string() - one fixed-width ethtool string field (struct
 * ethtool_drvinfo's driver[32], version[32], fw_version[32], bus_info[32];
 * ETH_GSTRING_LEN names): stops at the first NUL (bytes after it are stale
 * garbage, case 26), trims spaces at both ends, replaces non-printable bytes
 * with '?'. Empty and "N/A" give NULL (absent). Returns 0 with a malloc'd
 * string or NULL in *@out, or -ENOMEM.
 */
int np_ethtool_string(const char *field, size_t width, char **out);

/*
 * np_ethtool_drvinfo_fill() - copy ETHTOOL_GDRVINFO's driver, version,
 * fw_version and bus_info into @nic (replacing driver; others set when
 * present) and set driver_version_is_kernel_release when the version equals
 * @kernel_release (in-tree drivers since Linux 5.6 report uname -r).
 * Returns 0 or -ENOMEM.
 */
int np_ethtool_drvinfo_fill(const struct ethtool_drvinfo *di, const char *kernel_release,
			    struct np_net_if *nic);

/*
 * np_ethtool_same_device() - whether ETHTOOL_GDRVINFO's answer (@eth_driver,
 * @bus_info, both may be NULL) is about the device sysfs shows under the
 * interface (@sysfs_driver from the device/driver link, @pci_address). Same
 * name and ifindex in another network namespace (a pod's veth) answer with
 * another bus-info, or none and another driver. true when there is nothing to
 * compare (no PCI address; an empty bus-info and either driver unknown).
 */
bool np_ethtool_same_device(const char *eth_driver, const char *bus_info, const char *sysfs_driver,
			    const char *pci_address);

/*
 * np_ethtool_feature_state() - state of feature @idx as `ethtool -k` prints it
 * (ethtool.c dump_one_feature()): "on"/"off" from the active bit; " [fixed]"
 * when the feature is not in available or is never_changed; else
 * " [requested on|off]" when requested differs from active. @blocks are
 * ETHTOOL_GFEATURES' ethtool_get_features_block words, @nblocks of them.
 * Returns a static string, or NULL when @idx is beyond the blocks.
 */
const char *np_ethtool_feature_state(const struct ethtool_get_features_block *blocks,
				     size_t nblocks, size_t idx);

/*
 * np_ethtool_features_fill() - pair @n ETH_SS_FEATURES names (ETHTOOL_GSTRINGS:
 * @n fields of ETH_GSTRING_LEN bytes) with their states into nic->features,
 * skipping empty names. Returns 0, -EINVAL (fewer blocks than names need), -ENOMEM.
 */
int np_ethtool_features_fill(const char *strings, size_t n,
			     const struct ethtool_get_features_block *blocks, size_t nblocks,
			     struct np_net_if *nic);

/*
 * np_net_irq_names() - whether /proc/interrupts line @l names the interface
 * @ifname as a whole word in its description ("eth0-TxRx-0", "i40e-eth0-TxRx-0",
 * "eth0, eth1" for a shared line); "eth1" never matches "eth10-TxRx-0".
 */
bool np_net_irq_names(const struct np_irq_line *l, const char *ifname);

/*
 * np_net_irq_of_device() - whether line @l belongs to the device: its number
 * is one of @msi (@nmsi numbers, sorted ascending, from the device's msi_irqs
 * folder), or its description names the PCI address @pci as a whole word
 * (chip "PCI-MSIX-0000:00:03.0", action "mlx5_comp0@pci:0000:3b:00.0"). @pci may be NULL.
 */
bool np_net_irq_of_device(const struct np_irq_line *l, const char *pci, const unsigned *msi,
			  size_t nmsi);

/* MSI IRQ numbers of one interface's device (sorted ascending), for np_net_attach_irqs(). */
struct np_net_msi {
	unsigned *irq;
	size_t n;
};

/*
 * np_net_attach_irqs() - give each interface of @s its lines of @t: a line
 * goes to every interface it names (np_net_irq_names); a line that names no
 * interface of @s goes to every interface whose device owns it
 * (np_net_irq_of_device with @msi[i] and ifs[i].pci_address). Several netdevs
 * on one PCI function share its unnamed lines. Then computes each
 * interface's irq_skew_percent (share of the busiest CPU in the sum over its
 * lines) and irq_busiest_cpu. @msi has s->n entries (or is NULL).
 * Returns 0 or -ENOMEM.
 */
int np_net_attach_irqs(struct np_net *s, const struct np_irq_table *t, const struct np_net_msi *msi);

/*
 * np_net_softirq_fill() - softirq percent per CPU into s->softirq_percent,
 * indexed by CPU number (absent CPUs < 0), from np_parse_stat_cpus() output.
 * Returns 0 or -ENOMEM.
 */
int np_net_softirq_fill(struct np_net *s, const struct np_cpu_sample *c, size_t n);

/*
 * np_net_rates() - the --interval figures from a second sample taken
 * @interval_s seconds (> 0) after the first: per CPU, the softirq share of the
 * ticks spent in the interval (s->cpu_raw against @c, @n CPUs); per interface,
 * interrupts per second and the busiest CPU's share of the interval's
 * interrupts (each of its lines against the line of the same IRQ in @t). A CPU
 * or line that vanished, a counter that went backwards (reset) or a changed
 * number of CPU columns leaves that figure null. Returns 0 or -ENOMEM.
 */
int np_net_rates(struct np_net *s, const struct np_irq_table *t, const struct np_cpu_sample *c,
		 size_t n, double interval_s);

struct np_rtnl_links;
struct np_rtnl_link;

/*
 * np_net_rtnl_link() - the link of rtnetlink dump @rl (netlink.h) that is the
 * sysfs interface @name with index @ifindex (/sys/class/net/<name>/ifindex)
 * and address @sysfs_address (the text of its address file): the same name,
 * ifindex and address, else NULL (also for a NULL @rl or @sysfs_address). Its
 * counters then are the interface's; otherwise they come from the files (a
 * sysfs of another netns than the process's, a rename or an address change
 * between the two reads). Points into @rl.
 */
const struct np_rtnl_link *np_net_rtnl_link(const struct np_rtnl_links *rl, const char *name, int64_t ifindex,
					     const char *sysfs_address);

/*
 * np_net_rtnl_answers() - whether @rl, this process's rtnetlink dump (netlink.h), may answer for
 * the interfaces of root @h, whose /sys/class/net lists @names (@n of them): the root is "/"; or
 * its /sys/class/net is a live sysfs (statfs(2): SYSFS_MAGIC, not a copied tree) of this kernel
 * (the same boot_id) in this process's network namespace (the DaemonSet's /host with
 * hostNetwork): the root's /proc/1/ns/net is /proc/self/ns/net, or, where that link cannot be
 * read (it needs CAP_SYS_PTRACE), @rl lists exactly @names. Each interface is still matched by
 * name, ifindex and address (np_net_rtnl_link()).
 */
bool np_net_rtnl_answers(const struct np_host *h, const struct np_rtnl_links *rl, char **names, size_t n);

/*
 * np_net_same_interfaces() - whether dump @rl names exactly the interfaces of a /sys/class/net
 * listing (@names, @n), leaving out `bonding_masters`, the bonding driver's class file
 * (drivers/net/bonding/bond_sysfs.c), which is no interface. O(n log n): a node lists every
 * pod's veth. false also when out of memory.
 */
bool np_net_same_interfaces(const struct np_rtnl_links *rl, char **names, size_t n);

enum np_net_ioctl {
	NP_NET_IOCTL_NEVER, /* fixtures, foreign roots: ethtool fields "unavailable: not the live host" */
	NP_NET_IOCTL_AUTO,  /* when the root is live, or the interface is in this netns with the
	                     * same ifindex and the root's boot_id is this kernel's */
};

/*
 * np_net_collect() - the whole net section from host root @h into @s.
 * Returns 0 (partial failures are recorded in s->status and per interface),
 * or -errno when /sys/class/net cannot be listed.
 */
int np_net_collect(const struct np_host *h, enum np_net_ioctl mode, struct np_net *s);
