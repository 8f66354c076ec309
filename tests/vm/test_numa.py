#!/usr/bin/env python3
"""test_numa.py - node-in-a-box, NUMA and IRQ locality: QEMU `-numa` gives the guest two nodes (CPU 0 on
node 0, CPU 1 on node 1) and a PCIe expander bridge (`pxb-pcie`, numa_node=1) puts a virtio NIC and an
NVMe controller on node 1. The numa section equals the guest kernel's files (node cpulists, numa_node,
msi_irqs, effective_affinity_list); the NIC's IRQs pinned to CPU 0 (`/proc/irq/N/smp_affinity_list`)
are the `numa-remote-irq` finding and NUMALocal False; pinned back to CPU 1 they clear it.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nib  # noqa: E402


def devices():
    d = nib.Devices()
    d.args += ["-object", "memory-backend-ram,id=m0,size=384M", "-object", "memory-backend-ram,id=m1,size=384M",
               "-numa", "node,nodeid=0,cpus=0,memdev=m0", "-numa", "node,nodeid=1,cpus=1,memdev=m1",
               "-device", "pxb-pcie,id=pxb1,bus_nr=64,numa_node=1,bus=pcie.0",
               "-device", "pcie-root-port,id=rpx1,bus=pxb1,chassis=41,slot=0",
               "-device", "pcie-root-port,id=rpx2,bus=pxb1,chassis=42,slot=1"]
    d.files.append(("nvme0.img", 64))
    d.args += ["-drive", "file=@RUN@/nvme0.img,if=none,id=nvme0d,format=raw",
               "-device", "nvme,serial=NIB0001,drive=nvme0d,id=nvme0,bus=rpx1",
               "-netdev", "user,id=n2n,restrict=on", "-device", "virtio-net-pci,bus=rpx2,id=nic2,netdev=n2n,romfile="]
    return d


def judged(g, args=""):
    rc, out, err = g.sh(f"nodeprint inspect -o json --color never {args}")
    if rc not in (0, 4):
        raise nib.GuestError(f"inspect exited {rc}: {err.strip()[-400:]}")
    return json.loads(out)


def dev(rep, name):
    for d in rep["numa"]["devices"]:
        if d["name"] == name:
            return d
    raise KeyError(f"{name} not in the numa section: {[d['name'] for d in rep['numa']['devices']]}")


def finding(rep, name):
    f = [x for x in rep["plan"]["findings"] if x["id"] == "numa-remote-irq" and x["subject"] == name]
    c = [x["status"] for x in rep["plan"]["conditions"] if x["type"] == "NUMALocal"]
    return f, (c[0] if c else None)


def values(tap, g):
    g.out("modprobe nvme && modprobe virtio_net; i=0; while [ ! -e /sys/class/net/eth0 ] || [ ! -e /sys/class/nvme/nvme0 ]; "
          "do sleep 0.1; i=$((i+1)); [ $i -lt 100 ] || break; done; ip link set eth0 up")
    rep = judged(g, "--only numa")
    n = rep["numa"]
    want = [{"node": int(x.split()[0]), "cpulist": x.split()[1] if len(x.split()) > 1 else ""}
            for x in g.out("for d in /sys/devices/system/node/node*; do echo ${d##*node} $(cat $d/cpulist); done").splitlines()]
    tap.eq(n["nodes"], want, "numa: nodes and cpulists = /sys/devices/system/node/nodeN/cpulist (QEMU -numa: 0 and 1)")
    tap.eq(n["irqbalance"], {"known": True, "pid": None}, "numa: irqbalance known, not running in the guest")
    for name, cls in (("eth0", "net"), ("nvme0", "nvme")):
        d = dev(rep, name)
        pci = g.out(f"readlink -f /sys/class/{cls}/{name} | tr / '\\n' | grep -E '^[0-9a-f]{{4}}:' | tail -1").strip()
        node = int(g.out(f"cat /sys/bus/pci/devices/{pci}/numa_node"))
        tap.eq((d["pci"], d["numa_node"]), (pci, node), f"numa: {name} PCI function and numa_node = sysfs ({pci}, node {node})")
        irqs = sorted(int(x) for x in g.out(f"ls /sys/bus/pci/devices/{pci}/msi_irqs").split())
        tap.eq(sorted(q["irq"] for q in d["irqs"]), irqs, f"numa: {name} IRQ lines = msi_irqs")
        eff = {q["irq"]: q["effective_cpus"] for q in d["irqs"]}
        want_eff = {i: g.out(f"cat /proc/irq/{i}/effective_affinity_list").strip() for i in irqs}
        tap.eq(eff, want_eff, f"numa: {name} effective CPUs = /proc/irq/N/effective_affinity_list")
        tap.eq({q["irq"]: q["remote"] for q in d["irqs"]}, {i: want_eff[i] != str(node) for i in irqs},
               f"numa: {name} line remote exactly when its CPU is not on node {node}")
    g.nic_irqs = [q["irq"] for q in dev(rep, "eth0")["irqs"]]


def pinned(tap, g):
    for i in g.nic_irqs:                     # every NIC line to CPU 0, on node 0; the NIC is on node 1
        g.out(f"echo 0 > /proc/irq/{i}/smp_affinity_list")
    # x86 moves an MSI at its next interrupt: traffic (to QEMU's user-network gateway) makes the move
    g.out("ip addr add 10.0.2.15/24 dev eth0; ping -c 3 -W 1 10.0.2.2 >/dev/null 2>&1; true")
    rep = judged(g)
    d = dev(rep, "eth0")
    fired = [q for q in d["irqs"] if q["count"] > 0]
    tap.ok(len(fired) >= 2 and all(q["effective_cpus"] == "0" and q["remote"] is True for q in fired),
           "numa: pinned to CPU 0, every eth0 line that fired is served on node 0 only (remote)", d["irqs"])
    tap.eq(d["remote_percent"], 100.0, "numa: eth0 remote_percent 100")
    f, cond = finding(rep, "eth0")
    tap.ok(len(f) == 1 and f[0]["reason"] == "RemoteIRQs" and "is on NUMA node 1" in f[0]["message"] and
           "on CPUs 0" in f[0]["message"], "numa: numa-remote-irq RemoteIRQs on eth0 naming its node and the CPUs", f)
    tap.eq(cond, "False", "numa: NUMALocal False")


def repinned(tap, g):
    for i in g.nic_irqs:
        g.out(f"echo 1 > /proc/irq/{i}/smp_affinity_list")
    g.out("ping -c 3 -W 1 10.0.2.2 >/dev/null 2>&1; true")
    rep = judged(g)
    d = dev(rep, "eth0")
    fired = [q for q in d["irqs"] if q["count"] > 0]
    tap.ok(all(q["effective_cpus"] == "1" and q["remote"] is False for q in fired) and d["remote_percent"] == 0,
           "numa: pinned to CPU 1 (node 1), every eth0 line that fired is local, remote_percent 0", d)
    tap.ok(d["served_remote_percent"] > 0, "numa: served_remote_percent keeps the history (interrupts served on node 0 "
           "before)", d["served_remote_percent"])
    f, cond = finding(rep, "eth0")
    tap.ok(f == [] and cond == "True", "numa: the finding clears, NUMALocal True",
           f"{f} {cond} {[x['subject'] for x in rep['plan']['findings'] if x['id'] == 'numa-remote-irq']}")


SCENARIOS = [values, pinned, repinned]

if __name__ == "__main__":
    nib.run_group("numa", devices(), SCENARIOS)
