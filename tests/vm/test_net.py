#!/usr/bin/env python3
"""test_net.py - node-in-a-box, NIC group: e1000e and virtio-net in the guest; the net section's driver,
firmware, bus, link and offloads equal Debian's ethtool in the same guest, also after an offload change.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nib  # noqa: E402

# `ethtool -k` prints a few features under legacy names (ethtool's off_flag_def): those naming one
# kernel feature are compared under that name, group names (their members follow, indented) skipped.
LEGACY_ONE = {"rx-checksumming": "rx-checksum", "udp-fragmentation-offload": "tx-udp-fragmentation",
              "generic-segmentation-offload": "tx-generic-segmentation", "generic-receive-offload": "rx-gro",
              "large-receive-offload": "rx-lro", "rx-vlan-offload": "rx-vlan-hw-parse",
              "tx-vlan-offload": "tx-vlan-hw-insert", "ntuple-filters": "rx-ntuple-filter",
              "receive-hashing": "rx-hashing"}
LEGACY_GROUP = {"tx-checksumming", "scatter-gather", "tcp-segmentation-offload"}


def ethtool_i(text):
    """`ethtool -i` "key: value" lines -> dict (values verbatim, "" kept)."""
    return {k.strip(): v.strip() for k, _, v in (ln.partition(":") for ln in text.splitlines()) if _}


def ethtool_k(text):
    """`ethtool -k` -> {kernel feature name: state as printed}; group lines left out."""
    feats = {}
    for ln in text.splitlines()[1:]:                  # "Features for eth0:"
        name, _, state = ln.strip().partition(": ")
        if not _ or name in LEGACY_GROUP:
            continue
        feats[LEGACY_ONE.get(name, name)] = state.strip()
    return feats


def nic(rep, name):
    for i in rep["net"]["interfaces"]:
        if i["name"] == name:
            return i
    raise KeyError(f"interface {name} not in the net section: {[i['name'] for i in rep['net']['interfaces']]}")


def na_null(v):
    return None if v in ("", "N/A") else v


def check_nic(tap, g, rep, ifname, driver):
    n = nic(rep, ifname)
    ei = ethtool_i(g.out(f"ethtool -i {ifname}"))
    tap.eq(n["driver"], driver, f"{ifname}: driver is {driver}")
    tap.eq(n["driver"], ei["driver"], f"{ifname}: driver equals `ethtool -i`")
    tap.eq(n["driver_version"], na_null(ei["version"]), f"{ifname}: driver_version equals `ethtool -i` version")
    tap.eq(n["firmware_version"], na_null(ei["firmware-version"]), f"{ifname}: firmware_version equals `ethtool -i`")
    tap.eq(n["bus_info"], na_null(ei["bus-info"]), f"{ifname}: bus_info equals `ethtool -i`")
    pci = g.out(f"basename $(readlink -f /sys/class/net/{ifname}/device/..)" if driver == "virtio_net"
                else f"basename $(readlink -f /sys/class/net/{ifname}/device)").strip()
    tap.eq(n["pci_address"], pci, f"{ifname}: pci_address is the PCI device under it in sysfs")
    tap.eq(n["mtu"], int(g.out(f"cat /sys/class/net/{ifname}/mtu")), f"{ifname}: mtu equals sysfs")
    tap.eq(n["operstate"], g.out(f"cat /sys/class/net/{ifname}/operstate").strip(), f"{ifname}: operstate equals sysfs")
    ek = ethtool_k(g.out(f"ethtool -k {ifname}"))
    feats = n["features"] or {}
    diff = {k: (feats.get(k), v) for k, v in ek.items() if feats.get(k) != v}
    tap.ok(len(ek) > 30 and not diff, f"{ifname}: all {len(ek)} offload states equal `ethtool -k`",
           f"(nodeprint, ethtool) for differing features: {diff}")
    return n


def nics(tap, g):
    g.out("/nib/setup.sh nics")
    rep = g.inspect("--only net")
    tap.eq(rep["net"].get("error"), None, "net: section has no error")
    names = sorted(i["name"] for i in rep["net"]["interfaces"])
    want = sorted(g.out("for d in /sys/class/net/*; do [ -e $d/device ] && echo ${d##*/}; done; true").split())
    tap.eq(names, want, "net: interfaces are the guest's device-backed ones (lo left out)")
    e1000e = check_nic(tap, g, rep, "eth0", "e1000e")
    check_nic(tap, g, rep, "eth1", "virtio_net")
    link = ethtool_i(g.out("ethtool eth0"))
    tap.eq(e1000e["speed_mbps"], int(link["Speed"].rstrip("Mb/s")), "eth0: speed_mbps equals `ethtool eth0` (QEMU e1000e: 1000)")
    tap.eq(e1000e["duplex"], link["Duplex"].lower(), "eth0: duplex equals `ethtool eth0`")


def offload_change(tap, g):
    """An offload switched in the guest is seen as switched: the section is read live, not cached."""
    g.out("ethtool -K eth1 gro off")
    rep = g.inspect("--only net")
    tap.eq(nic(rep, "eth1")["features"]["rx-gro"], "off", "eth1: rx-gro off after `ethtool -K eth1 gro off`")
    tap.eq(nic(rep, "eth1")["features"]["rx-gro"], ethtool_k(g.out("ethtool -k eth1"))["rx-gro"],
           "eth1: ... equal to `ethtool -k` again")


def wait_oper(g, ifname, state):
    g.out(f"i=0; until [ $(cat /sys/class/net/{ifname}/operstate) = {state} ] || [ $i -ge 100 ]; do "
          "sleep 0.1; i=$((i + 1)); done; true", timeout=60)


def link_flap(tap, g):
    """e1000e's `NIC Link is Up` is classified; the host pulls virtio-net's cable (QMP set_link off:
    QEMU 7.2's e1000e ignores set_link, virtio-net drops carrier but logs nothing) and plugs it back."""
    rep = g.inspect("--only kmsg")
    links = [(e["kind"], e["device"]) for e in rep["kmsg"]["events"] if e["kind"] in ("link_down", "link_up")]
    tap.eq(links, [("link_up", "eth0")], "kmsg: e1000e's `NIC Link is Up` after `ip link set up` is link_up eth0")
    g.qmp.execute("set_link", name="nic2", up=False)
    wait_oper(g, "eth1", "down")
    rep = g.inspect("--only net")
    tap.eq(nic(rep, "eth1")["operstate"], "down", "eth1: operstate down after QMP set_link nic2 off")
    g.qmp.execute("set_link", name="nic2", up=True)
    wait_oper(g, "eth1", "up")
    rep = g.inspect("--only net")
    tap.eq(nic(rep, "eth1")["operstate"], "up", "eth1: operstate up again after set_link on")


if __name__ == "__main__":
    nib.run_group("net", nib.Devices().e1000e().virtio_net(), [nics, offload_change, link_flap])
