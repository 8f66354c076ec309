#!/usr/bin/env python3
"""test_agent_diag.py - node-in-a-box, the agent publishes the timeout-chain and NUMA findings on a real
kube-apiserver (tests/kube/server.sh, reached through the guest's API NIC as in test_agent.py) and clears them.

Devices: two NUMA nodes as in test_numa.py (CPU 0 on node 0, CPU 1 on node 1), a pxb-pcie on node 1 carrying a
virtio NIC, an NVMe controller on the root complex (no NUMA node: on node 1, the agent's SMART polls on its
admin queue, whose line serves CPU 0, push its remote share over 90 % by themselves), and the NIC to the API
server. `nodeprint run` in the guest with the built-in policy's actions:

  * numa: the node-1 NIC's MSI lines pinned to CPU 0 (node 0) plus traffic: NUMALocal False, reason
    RemoteIRQs, a Warning Event NUMARemoteIRQ on the Node; pinned back to CPU 1: NUMALocal True
    (AllChecksPassed).
  * timeouts: the guest's NVMe namespace exported over NVMe/TCP and connected with fast_io_fail_tmo 10 over
    ctrl_loss_tmo 5 (test_nvmeof.py): StorageTimeoutsConsistent False, reason FastIOFailNotBelowLoss, a
    Warning Event TimeoutChain; disconnected and connected with fast_io_fail 5 under ctrl_loss 20:
    StorageTimeoutsConsistent True (AllChecksPassed).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nib  # noqa: E402
import test_agent as ta  # noqa: E402
import test_nvmeof  # noqa: E402

POLICY = "apiVersion: nodeprint.io/v1\nkind: Policy\nevents: {burst: 100, perMinute: 60}\n"


def node_cond(k, ctype, status, what):
    """Wait until the Node's @ctype condition has @status; returns it."""
    return ta.wait(f"{ctype} {status} ({what})", lambda: (c := ta.cond(k.get("node", ta.NODE), ctype)) and
                   c["status"] == status and c, timeout=90)


def pci_dir(g, nic):
    """The PCI function of virtio NIC @nic (its device link is the virtio device under it)."""
    return os.path.dirname(g.out(f"readlink -f /sys/class/net/{nic}/device").strip())


def numa_nic(g):
    """The NIC on node 1 (the pxb-pcie's root port), not the API NIC on the root complex."""
    for n in g.out("ls /sys/class/net").split():
        if n != "lo" and g.sh(f"[ \"$(cat {pci_dir(g, n)}/numa_node 2>/dev/null)\" = 1 ]")[0] == 0:
            return n
    raise nib.GuestError("no NIC on NUMA node 1")


def pin(g, nic, cpu):
    irqs = g.out(f"ls {pci_dir(g, nic)}/msi_irqs").split()
    for i in irqs:
        g.out(f"echo {cpu} > /proc/irq/{i}/smp_affinity_list")
    # x86 moves an MSI at its next interrupt: traffic to its user network's gateway (net=10.0.3.0/24) makes the move
    g.out(f"ping -I {nic} -c 5 -i 0.2 -W 1 10.0.3.2 >/dev/null 2>&1; true")


def numa(tap, g, k):
    nic = numa_nic(g)
    g.out(f"ip addr add 10.0.3.15/24 dev {nic}; ip link set {nic} up")
    c = node_cond(k, "NUMALocal", "True", "start")
    tap.eq(c["reason"], "AllChecksPassed", "agent: NUMALocal True (AllChecksPassed) before")
    pin(g, nic, 0)
    c = node_cond(k, "NUMALocal", "False", f"{nic}'s IRQs on node 0")
    tap.ok(c["reason"] == "RemoteIRQs" and f"{nic} " in c["message"] and "is on NUMA node 1" in c["message"],
           f"agent: NUMALocal False, reason RemoteIRQs, the message names {nic} on node 1", c)
    ev = ta.wait("Event NUMARemoteIRQ", lambda: k.events(reason="NUMARemoteIRQ"), timeout=30)
    tap.ok(ev[0]["involvedObject"]["name"] == ta.NODE and ev[0]["type"] == "Warning" and nic in ev[0]["message"],
           "agent: a Warning Event NUMARemoteIRQ on the Node naming the NIC", ev[0])
    pin(g, nic, 1)
    c = node_cond(k, "NUMALocal", "True", f"{nic}'s IRQs back on node 1")
    tap.eq(c["reason"], "AllChecksPassed", "agent: pinned back to node 1: NUMALocal True (AllChecksPassed)")


def timeouts(tap, g, k):
    test_nvmeof.export(g)
    c = node_cond(k, "StorageTimeoutsConsistent", "True", "no fabrics controller")
    tap.eq(c["reason"], "AllChecksPassed", "agent: StorageTimeoutsConsistent True before")
    ctrl = test_nvmeof.connect(g, "ctrl_loss_tmo=5,reconnect_delay=2,fast_io_fail_tmo=10")
    c = node_cond(k, "StorageTimeoutsConsistent", "False", "fast_io_fail 10 s over ctrl_loss 5 s")
    tap.ok(c["reason"] == "FastIOFailNotBelowLoss" and "fast_io_fail_tmo 10 s >= ctrl_loss_tmo" in c["message"],
           f"agent: StorageTimeoutsConsistent False, reason FastIOFailNotBelowLoss ({ctrl})", c)
    ev = ta.wait("Event TimeoutChain", lambda: k.events(reason="TimeoutChain"), timeout=30)
    tap.ok(ev[0]["involvedObject"]["name"] == ta.NODE and ev[0]["type"] == "Warning" and "fast_io_fail_tmo" in ev[0]["message"],
           "agent: a Warning Event TimeoutChain on the Node naming fast_io_fail_tmo", ev[0])
    g.out(f"nvme disconnect -n {test_nvmeof.NQN}")
    test_nvmeof.connect(g, "ctrl_loss_tmo=20,reconnect_delay=2,fast_io_fail_tmo=5")
    c = node_cond(k, "StorageTimeoutsConsistent", "True", "fast_io_fail 5 s under ctrl_loss 20 s")
    tap.eq(c["reason"], "AllChecksPassed", "agent: reconnected consistently: StorageTimeoutsConsistent True again")
    g.out(f"nvme disconnect -n {test_nvmeof.NQN}")


SCENARIOS = [numa, timeouts]


def devices(port):
    d = nib.Devices()
    d.args += ["-object", "memory-backend-ram,id=m0,size=384M", "-object", "memory-backend-ram,id=m1,size=384M",
               "-numa", "node,nodeid=0,cpus=0,memdev=m0", "-numa", "node,nodeid=1,cpus=1,memdev=m1",
               "-device", "pxb-pcie,id=pxb1,bus_nr=64,numa_node=1,bus=pcie.0",
               "-device", "pcie-root-port,id=rpx1,bus=pxb1,chassis=41,slot=0",
               "-netdev", "user,id=n2n,restrict=on,net=10.0.3.0/24", "-device", "virtio-net-pci,bus=rpx1,id=nic2,netdev=n2n,romfile="]
    return d.nvme().api_net(port)


def setup(g):
    g.out("modprobe nvme; i=0; while [ ! -e /dev/nvme0n1 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done")


if __name__ == "__main__":
    ta.agent_group("agent-diag", devices, POLICY, SCENARIOS, setup)
