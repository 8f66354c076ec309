#!/usr/bin/env python3
"""test_pci.py - node-in-a-box, PCIe group: the pci section equals the guest's /sys/bus/pci/devices
(ids, class, driver, link); an uncorrectable error injected from the host (QEMU HMP
pcie_aer_inject_error on virtio-net-pci,aer=on) and a correctable one injected in the guest (aer_inject)
show up as AER counters equal to sysfs and as classified kernel-log lines for that device.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nib  # noqa: E402


def sysfs_devices(g):
    """{address: {attr: value}} for every /sys/bus/pci/devices entry, read in the guest."""
    out = g.out("cd /sys/bus/pci/devices && for d in *; do for a in vendor device class subsystem_vendor "
                "subsystem_device current_link_speed current_link_width max_link_speed max_link_width; do "
                "[ -r $d/$a ] && echo \"$d $a $(cat $d/$a)\"; done; "
                "[ -e $d/driver ] && echo \"$d driver $(basename $(readlink $d/driver))\"; done; true")
    devs = {}
    for ln in out.splitlines():
        addr, attr, val = ln.split(" ", 2)
        devs.setdefault(addr, {})[attr] = val
    return devs


def pci_dev(rep, addr):
    for d in rep["pci"]["devices"]:
        if d["address"] == addr:
            return d
    raise KeyError(f"{addr} not in the pci section")


def aer_file(g, addr, kind):
    """aer_dev_<kind> as {name: count} (name = everything before the last token)."""
    res = {}
    for ln in g.out(f"cat /sys/bus/pci/devices/{addr}/aer_dev_{kind}").splitlines():
        name, _, count = ln.rstrip().rpartition(" ")
        res[name.strip()] = int(count)
    return res


def device_set(tap, g):
    g.out("/nib/setup.sh nics nvme")
    rep = g.inspect("--only pci")
    tap.eq(rep["pci"].get("error"), None, "pci: section has no error")
    sysfs = sysfs_devices(g)
    tap.eq([d["address"] for d in rep["pci"]["devices"]], sorted(sysfs), "pci: device set equals the guest's /sys/bus/pci/devices")
    got, want = {}, {}
    for d in rep["pci"]["devices"]:
        s = sysfs.get(d["address"], {})
        got[d["address"]] = (d["vendor_id"], d["device_id"], d["class"], d["subsystem_vendor_id"],
                             d["subsystem_device_id"], d["driver"])
        want[d["address"]] = (s.get("vendor"), s.get("device"), s.get("class"), s.get("subsystem_vendor"),
                              s.get("subsystem_device"), s.get("driver"))
    tap.eq(got, want, "pci: vendor, device, class, subsystem ids and driver equal sysfs for every device")
    links = {d["address"]: (d["link"]["current_speed"], d["link"]["current_width"], d["link"]["max_speed"],
                            d["link"]["max_width"]) for d in rep["pci"]["devices"] if d["link"]}
    want = {a: (s["current_link_speed"], int(s["current_link_width"]), s["max_link_speed"], int(s["max_link_width"]))
            for a, s in sysfs.items() if "current_link_speed" in s}
    tap.ok(len(want) >= 3 and links == want, f"pci: link speed/width of the {len(want)} PCIe functions equal sysfs",
           f"got {links}\nwant {want}")
    drivers = {d["driver"] for d in rep["pci"]["devices"]}
    tap.ok({"e1000e", "virtio-pci", "nvme", "pcieport"} <= drivers, "pci: e1000e, virtio-pci, nvme, pcieport bound",
           drivers)
    g.nic2 = g.out("basename $(readlink -f /sys/class/net/eth1/device/..)").strip()   # virtio-net, aer=on


def names(tap, g):
    """Vendor, device and class names: nodeprint's libudev hwdb lookup in the guest equals Debian's
    systemd-hwdb query of the same modalias on the same database (PCI part of udev's hwdb)."""
    rep = g.inspect("--only pci")
    tap.eq(rep["pci"].get("hwdb"), True, "pci: the udev hwdb is found in the guest (/etc/udev/hwdb.bin)")
    mods = dict(ln.split(" ", 1) for ln in g.out(
        "cd /sys/bus/pci/devices && for d in *; do echo \"$d $(cat $d/modalias)\"; done").splitlines())
    got, want = {}, {}
    for d in rep["pci"]["devices"]:
        q = nib.hwdb_query(mods[d["address"]])
        got[d["address"]] = (d["vendor_name"], d["device_name"], d["class_name"])
        want[d["address"]] = (q.get("ID_VENDOR_FROM_DATABASE"), q.get("ID_MODEL_FROM_DATABASE"),
                              q.get("ID_PCI_SUBCLASS_FROM_DATABASE") or q.get("ID_PCI_CLASS_FROM_DATABASE"))
    tap.eq(got, want, "pci: vendor, device and class names equal `systemd-hwdb query <modalias>` for every device")
    e1000e = [d for d in rep["pci"]["devices"] if d["driver"] == "e1000e"]
    tap.eq([(d["vendor_name"], d["device_name"], d["class_name"]) for d in e1000e],
           [("Intel Corporation", "82574L Gigabit Network Connection", "Ethernet controller")],
           "pci: QEMU's e1000e is an Intel 82574L Ethernet controller")


def wait_aer(g, addr, kind, total):
    g.out(f"i=0; until grep -q '^TOTAL_ERR_{total} [1-9]' /sys/bus/pci/devices/{addr}/aer_dev_{kind} || "
          "[ $i -ge 150 ]; do sleep 0.2; i=$((i + 1)); done; true", timeout=60)


def aer_uncorrectable(tap, g):
    """Host side: QEMU injects a poisoned TLP (uncorrectable, non-fatal by default severity)."""
    addr = g.nic2
    g.qmp.hmp("pcie_aer_inject_error nic2 POISON_TLP")
    wait_aer(g, addr, "nonfatal", "NONFATAL")
    rep = g.inspect("--only pci,kmsg")
    aer = pci_dev(rep, addr)["aer"]
    sysfs = aer_file(g, addr, "nonfatal")
    tap.eq(aer["nonfatal"], sysfs, f"aer: {addr} nonfatal counters equal aer_dev_nonfatal after QEMU's POISON_TLP")
    tap.eq(aer["nonfatal"].get("TOTAL_ERR_NONFATAL"), 1, f"aer: {addr} TOTAL_ERR_NONFATAL is 1")
    tap.ok(aer["nonfatal"].get("TLP", 0) == 1, f"aer: {addr} the poisoned TLP is counted under TLP", aer["nonfatal"])
    ev = [e for e in rep["kmsg"]["events"] if e["kind"] == "aer_uncorrectable"]
    tap.ok(any(e["device"] == addr for e in ev), f"kmsg: `PCIe Bus Error: severity=Uncorrected` classified aer_uncorrectable for {addr}",
           "\n".join(f"{e['kind']} {e['device']}: {e['message']}" for e in rep["kmsg"]["events"]))


def aer_correctable(tap, g):
    """Guest side: aer_inject reports a Bad TLP (correctable) on the same function."""
    addr = g.nic2
    g.out(f"/nib/aer_inject.sh {addr} 0 0x40")
    wait_aer(g, addr, "correctable", "COR")
    rep = g.inspect("--only pci,kmsg")
    aer = pci_dev(rep, addr)["aer"]
    tap.eq(aer["correctable"], aer_file(g, addr, "correctable"), f"aer: {addr} correctable counters equal aer_dev_correctable")
    tap.eq((aer["correctable"].get("BadTLP"), aer["correctable"].get("TOTAL_ERR_COR")), (1, 1),
           f"aer: {addr} BadTLP 1, TOTAL_ERR_COR 1")
    ev = [e for e in rep["kmsg"]["events"] if e["kind"] == "aer_correctable"]
    tap.ok(any(e["device"] == addr for e in ev), f"kmsg: `PCIe Bus Error: severity=Corrected` classified aer_correctable for {addr}",
           "\n".join(f"{e['kind']} {e['device']}: {e['message']}" for e in rep["kmsg"]["events"]))


if __name__ == "__main__":
    nib.run_group("pci", nib.full_devices(), [device_set, names, aer_uncorrectable, aer_correctable])
