#!/usr/bin/env python3
"""test_swap.py - node-in-a-box, devices hot-swapped under the same PCI address or controller name, on a
real kernel (QMP device_del / device_add into the same hot-pluggable root port): what the kept state of
the agent follows is the device, not the slot.

  * pcie: the e1000e's Device Serial Number (`serial_number`) is QEMU's, derived from its MAC
    (52:54:00:12:34:56 -> 52-54-00-ff-ff-12-34-56), and the virtio-net function has none; the e1000e
    swapped for one with the next MAC keeps its address and brings its own serial number; the virtio-net
    function that counted an injected POISON_TLP (`TOTAL_ERR_NONFATAL` 1) swapped for another has its
    counters from zero (the kernel counts from enumeration: the rule of health.pcie's rate).
  * nvme: `nodeprint run --dry-run --smart-interval 600` in the guest, its /metrics read: the drive's
    SMART critical warning (4, set over QMP before the agent starts) is reported; the drive swapped for
    another (serial NIB0002) is read at once (warning 0), not at the old drive's next due time; that
    drive pulled and inserted again with a critical warning set at once (2) is read at once too, not
    reported with the page read before it left.
"""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nib  # noqa: E402

E1K, VIRTIO = ("0x8086", "0x10d3"), ("0x1af4", "0x1041")
PROMPT = 10.0   # seconds: "at once" (one --poll 2 cycle after the uevent, under TCG), against a 600 s schedule


def gone(g, path, what):
    if not nib.wait(lambda: g.sh(f"[ ! -e {path} ]")[0] == 0, 30):
        raise nib.GuestError(f"{what}: {path} still there 30 s after device_del")


def there(g, path, what):
    if not nib.wait(lambda: g.sh(f"[ -e {path} ]")[0] == 0, 30):
        raise nib.GuestError(f"{what}: no {path} 30 s after device_add")


def pci_devs(g):
    return {d["address"]: d for d in g.inspect("--only pci")["pci"]["devices"]}


def by_ids(devs, ids):
    return next(d for d in devs.values() if (d["vendor_id"], d["device_id"]) == ids)


def dsn_of_mac(mac):
    """QEMU's e1000e Device Serial Number: the MAC with ff-ff in its middle (hw/net/e1000e.c e1000e_gen_dsn())."""
    b = mac.split(":")
    return "-".join(b[:3] + ["ff", "ff"] + b[3:])


def pcie(tap, g):
    g.out("/nib/setup.sh nics", timeout=180)
    devs = pci_devs(g)
    e1k, vio = by_ids(devs, E1K), by_ids(devs, VIRTIO)
    mac = g.out(f"cat /sys/bus/pci/devices/{e1k['address']}/net/*/address").strip()
    tap.eq(e1k["serial_number"], dsn_of_mac(mac), f"pcie: e1000e {e1k['address']} serial_number from its MAC {mac}")
    tap.eq(vio["serial_number"], None, "pcie: virtio-net has no Device Serial Number")
    # the e1000e swapped for another (the next MAC) in the same root port
    g.qmp.execute("device_del", id="nic1")
    gone(g, f"/sys/bus/pci/devices/{e1k['address']}", "e1000e")
    g.qmp.execute("device_add", driver="e1000e", bus="rp1", id="nic1b", netdev="nic1n", mac="52:54:00:12:34:57",
                  romfile="")
    there(g, f"/sys/bus/pci/devices/{e1k['address']}/aer_dev_correctable", "e1000e")
    new = pci_devs(g).get(e1k["address"], {})
    tap.eq((new.get("vendor_id"), new.get("device_id"), new.get("serial_number")),
           E1K + (dsn_of_mac("52:54:00:12:34:57"),), "pcie: the other e1000e at the same address, its own serial number")
    # an uncorrectable error counted on the virtio-net function, which is then swapped for another
    g.qmp.hmp("pcie_aer_inject_error nic2 POISON_TLP")
    addr = vio["address"]
    total = lambda: (pci_devs(g)[addr]["aer"]["nonfatal"] or {}).get("TOTAL_ERR_NONFATAL")  # noqa: E731
    tap.eq(nib.wait(lambda: total() == 1, 20) and total(), 1, f"pcie: POISON_TLP counted on {addr}")
    g.qmp.execute("device_del", id="nic2")
    gone(g, f"/sys/bus/pci/devices/{addr}", "virtio-net")
    g.qmp.execute("device_add", driver="virtio-net-pci", bus="rp2", id="nic2b", netdev="nic2n", aer="on", romfile="")
    there(g, f"/sys/bus/pci/devices/{addr}/aer_dev_nonfatal", "virtio-net")
    tap.eq(total(), 0, f"pcie: the function swapped in at {addr} counts from zero (TOTAL_ERR_NONFATAL 0)")


def warning(g):
    """nvme0's nodeprint_nvme_critical_warning on the guest agent's /metrics, or None."""
    rc, out, _ = g.sh("wget -qO- http://127.0.0.1:20270/metrics")
    m = re.search(r'^nodeprint_nvme_critical_warning\{controller="nvme0"[^}]*\} (\d+)$', out, re.M) if rc == 0 else None
    return int(m[1]) if m else None


def seen(g, want, timeout):
    """Seconds until the agent reports critical warning @want on nvme0, or None."""
    t0 = time.monotonic()
    return round(time.monotonic() - t0, 1) if nib.wait(lambda: warning(g) == want, timeout) else None


def nvme(tap, g):
    g.out("/nib/setup.sh nvme; ip link set lo up", timeout=180)
    g.qmp.execute("qom-set", path="/machine/peripheral/nvme0", property="smart_critical_warning", value=4)
    g.out("nodeprint run --node-name nib --dry-run --poll 2 --smart-interval 600 --metrics-address 127.0.0.1:20270 "
          ">/tmp/agent.log 2>&1 & echo $! >/tmp/agent.pid")
    try:
        tap.ok(seen(g, 4, 60) is not None, "nvme: the agent reports nvme0's critical warning 4")
        # another drive in its place (serial NIB0002, no warning)
        g.qmp.execute("device_del", id="nvme0")
        gone(g, "/sys/class/nvme/nvme0", "nvme0")
        g.qmp.execute("device_add", driver="nvme", serial="NIB0002", drive="nvme0d", id="nvme0b", bus="rp3")
        s = seen(g, 0, 60)
        tap.ok(s is not None and s < PROMPT, "nvme: a drive swapped in is read at once, not at the old drive's "
               f"schedule (warning 0 after {s} s, --smart-interval 600)")
        # that drive pulled and inserted again, its warning set at once
        g.qmp.execute("device_del", id="nvme0b")
        gone(g, "/sys/class/nvme/nvme0", "nvme0")
        time.sleep(3)  # a cycle (--poll 2) sees nvme0 gone
        g.qmp.execute("device_add", driver="nvme", serial="NIB0002", drive="nvme0d", id="nvme0c", bus="rp3")
        g.qmp.execute("qom-set", path="/machine/peripheral/nvme0c", property="smart_critical_warning", value=2)
        s = seen(g, 2, 30)
        tap.ok(s is not None and s < PROMPT, "nvme: the same drive back under nvme0 is read at once, not reported "
               f"with the page read before it left (warning 2 after {s} s)")
    finally:
        g.sh("kill $(cat /tmp/agent.pid)")
    tap.ok("level=error" not in g.out("cat /tmp/agent.log"), "nvme: the agent logged no error")


SCENARIOS = [pcie, nvme]

if __name__ == "__main__":
    nib.run_group("swap", nib.full_devices(), SCENARIOS)
