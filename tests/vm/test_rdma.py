#!/usr/bin/env python3
"""test_rdma.py - node-in-a-box, RDMA on a real kernel: soft-RoCE (rdma_rxe) on a virtio NIC, created with
iproute2's own `rdma link add rxe0 type rxe netdev eth0` (the host's /usr/bin/rdma, copied in). The rdma
section equals the guest kernel's /sys/class/infiniband files and `rdma -j link` (state, physical state,
netdev); QMP `set_link nic2 off` takes the NIC's carrier away while eth0 stays administratively up: the port
goes DOWN and `rdma-port-down` / RDMAHealthy False / PortDown follows; `set_link on` clears it. `ip link set
eth0 down` takes the port down too, but the operator did that: no finding. Under a running agent
(`run --dry-run`, its /metrics), rxe0 (DOWN) and rxe1 (on a second NIC, ACTIVE) swap names with `rdma dev
set`: the agent keeps the ports' files open between cycles, and only an infiniband move uevent tells it
they belong to the other device now; each name's nodeprint_rdma_state_id equals sysfs within 15 s.

NIB_RDMA_CAPTURE=DIR also records the guest's /sys/class/infiniband tree (tests/capture.py) into DIR.
"""
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nib  # noqa: E402

IB = "/sys/class/infiniband/rxe0"


def devices():
    d = nib.Devices().program("rdma")
    d.args += ["-netdev", "user,id=n2n,restrict=on", "-device", "virtio-net-pci,id=nic2,netdev=n2n,romfile="]
    # a second NIC (eth1) for a second RDMA device (rename)
    d.args += ["-netdev", "user,id=n3n,restrict=on", "-device", "virtio-net-pci,id=nic3,netdev=n3n,romfile="]
    return d


def port(rep):
    devs = {d["name"]: d for d in rep["rdma"]["devices"]}
    return devs["rxe0"], devs["rxe0"]["ports"][0]


def rdma_link(g):
    return json.loads(g.out("rdma -j link show rxe0/1"))[0]


def finding(rep):
    f = [x for x in rep["plan"]["findings"] if x["id"] == "rdma-port-down"]
    c = [(x["status"], x["reason"]) for x in rep["plan"]["conditions"] if x["type"] == "RDMAHealthy"]
    return f, (c[0] if c else None)


def wait_state(g, want, tries=50):
    for _ in range(tries):
        if g.out(f"cat {IB}/ports/1/state").strip() == want:
            return True
        time.sleep(0.2)
    return False


def capture(g, name):
    """NIB_RDMA_CAPTURE=DIR: record the guest's RDMA devices and eth0 (tests/capture.py) into DIR/@name."""
    if not os.environ.get("NIB_RDMA_CAPTURE"):
        return
    g.out("rm -rf /tmp/cap /share/cap.tar && python3 -I -S /nib/capture.py --out /tmp/cap "
          "'/sys/class/infiniband/*' '/sys/class/infiniband/*/ports/*/counters' "
          "'/sys/class/infiniband/*/ports/*/hw_counters' '/sys/class/infiniband/*/ports/*/gid_attrs/ndevs' "
          "/sys/class/net/eth0 /proc/sys/kernel/osrelease && tar -C /tmp/cap -cf /share/cap.tar .", timeout=300)
    dest = os.path.join(os.environ["NIB_RDMA_CAPTURE"], name)
    os.makedirs(dest)
    subprocess.run(["tar", "-C", dest, "-xf", str(g.share / "cap.tar")], check=True)
    nib.log(f"captured into {dest}")


def values(tap, g):
    g.out("modprobe virtio_net; i=0; while [ ! -e /sys/class/net/eth0 ]; do sleep 0.1; i=$((i+1)); "
          "[ $i -lt 100 ] || break; done; ip link set eth0 up; modprobe crc32_generic && modprobe rdma_rxe && "
          "rdma link add rxe0 type rxe netdev eth0; i=0; until grep -q up /sys/class/net/eth0/operstate; do sleep 0.1; "
          "i=$((i+1)); [ $i -lt 100 ] || break; done")
    rep = g.inspect("--only rdma")
    d, p = port(rep)
    cat = {a: g.out(f"cat {IB}/{a}").strip() for a in ("node_guid", "node_type", "fw_ver", "parent")}
    tap.eq((d["node_guid"], d["node_type"], d["fw_ver"], d["parent"]),
           (cat["node_guid"], cat["node_type"].split(": ", 1)[1], cat["fw_ver"] or None, cat["parent"]),
           f"rdma: rxe0 node_guid {cat['node_guid']}, node_type {cat['node_type']!r}, fw_ver (empty: none), "
           "parent = sysfs")
    tap.eq((d["device"], d["driver"], d["hca_type"], d["board_id"]), (None, None, None, None),
           "rdma: soft-RoCE has no PCI device, driver, hca_type or board_id (the files are absent)")
    pc = {a: g.out(f"cat {IB}/ports/1/{a}").strip() for a in ("state", "phys_state", "link_layer", "rate", "lid")}
    tap.eq((p["port"], f"{p['state']}: {p['state_name']}", f"{p['phys_state']}: {p['phys_state_name']}",
            p["link_layer"], p["rate"], p["lid"]),
           (1, pc["state"], pc["phys_state"], pc["link_layer"], pc["rate"], int(pc["lid"], 16)),
           f"rdma: port 1 state {pc['state']!r}, phys_state {pc['phys_state']!r}, {pc['link_layer']}, "
           f"rate {pc['rate']!r}, lid {pc['lid']} = sysfs")
    tap.eq(p["rate_gbps"], float(pc["rate"].split()[0]), "rdma: rate_gbps is the rate's leading number")
    link = rdma_link(g)
    tap.eq((p["state_name"], p["phys_state_name"], p["netdev"]),
           (link["state"], {"LINK_UP": "LinkUp"}.get(link["physical_state"], link["physical_state"]),
            link["netdev"]),
           f"rdma: state, physical state and netdev = `rdma link` ({link['state']}, {link['physical_state']}, "
           f"{link['netdev']})")
    tap.eq((p["netdev_up"], p["netdev_operstate"]),
           (int(g.out("cat /sys/class/net/eth0/flags"), 16) & 1 == 1, g.out("cat /sys/class/net/eth0/operstate").strip()),
           "rdma: the port's netdev eth0 IFF_UP and operstate = /sys/class/net/eth0")
    want = {n: int(g.out(f"cat {IB}/ports/1/hw_counters/{n}")) for n in
            g.out(f"ls {IB}/ports/1/hw_counters").split() if n != "lifespan"}
    got = {c["name"]: c["value"] for c in p["counters"] if c["group"] == "hw_counters"}
    tap.eq(sorted(got), sorted(want), "rdma: hw_counters names = ls ports/1/hw_counters (lifespan is a setting)")
    tap.ok(got.get("sent_pkts") is not None and got["sent_pkts"] <= want["sent_pkts"],
           "rdma: sent_pkts read before sysfs's (counters never go back)", f"got {got} want {want}")
    rep = g.inspect("--only rdma --interval 1")
    _, p = port(rep)
    rates = {c["name"]: c.get("per_second") for c in p["counters"]}
    tap.ok(rep["rdma"].get("interval_s", 0) >= 1 and rates.get("sent_pkts") == 0.0,
           "rdma: --interval 1: per-second rates, 0 for sent_pkts (no RDMA traffic)", f"{rates}")
    rep = g.inspect()
    f, c = finding(rep)
    tap.eq((f, c), ([], ("True", "AllChecksPassed")), "rdma: ACTIVE port: no finding, RDMAHealthy True")
    # nothing in rxe's sysfs names a model (no device link, hca_type or board_id; node_desc is "rxe", an
    # administrator's text): no rdma.0.model label rather than an empty one; the firmware label stays
    files = set(g.out(f"ls {IB}").split())
    labels = rep["plan"]["labels"]
    tap.eq(({"device", "hca_type", "board_id"} & files, labels.get("nodeprint.io/rdma.0.model", "absent"),
            labels.get("nodeprint.io/rdma.0.firmware"), [k for k, v in labels.items() if v == ""]),
           (set(), "absent", "firmware_none", []),
           "rdma: rxe0 has no device/hca_type/board_id in sysfs: no rdma.0.model label, firmware_none, "
           "no empty label")
    capture(g, "nib-rdma")


def carrier(tap, g):
    g.qmp.execute("set_link", name="nic2", up=False)
    tap.ok(wait_state(g, "1: DOWN"), "rdma: QMP set_link nic2 off: ports/1/state 1: DOWN")
    rep = g.inspect()
    _, p = port(rep)
    tap.eq((p["state"], p["netdev_up"], p["netdev_operstate"]), (1, True, "down"),
           "rdma: carrier lost: port DOWN, eth0 still IFF_UP, operstate down")
    f, c = finding(rep)
    tap.ok(len(f) == 1 and f[0]["subject"] == "rxe0/1" and f[0]["reason"] == "PortDown" and
           c == ("False", "PortDown"), "rdma: rdma-port-down rxe0/1, RDMAHealthy False PortDown",
           json.dumps(f) + str(c))
    tap.ok(bool(f) and "DOWN" in f[0]["message"] and "eth0" in f[0]["message"],
           "rdma: the message names the state and the netdev", f and f[0]["message"])
    capture(g, "nib-rdma-down")
    g.qmp.execute("set_link", name="nic2", up=True)
    tap.ok(wait_state(g, "4: ACTIVE"), "rdma: set_link nic2 on: ACTIVE again")
    f, c = finding(g.inspect())
    tap.eq((f, c), ([], ("True", "AllChecksPassed")), "rdma: link back: the finding clears, RDMAHealthy True")


def admin_down(tap, g):
    g.out("ip link set eth0 down")
    tap.ok(wait_state(g, "1: DOWN"), "rdma: ip link set eth0 down: port DOWN")
    rep = g.inspect()
    _, p = port(rep)
    f, c = finding(rep)
    tap.eq((p["state"], p["phys_state_name"], p["netdev_up"], f, c[0] if c else None),
           (1, g.out(f"cat {IB}/ports/1/phys_state").strip().split(": ")[1], False, [], "True"),
           "rdma: the operator took eth0 down: port DOWN, netdev_up false, no finding")
    g.out("ip link set eth0 up")
    tap.ok(wait_state(g, "4: ACTIVE"), "rdma: ip link set eth0 up: ACTIVE")


def agent_states(g):
    """{device: port 1's nodeprint_rdma_state_id} on the guest agent's /metrics ({} when unreadable)."""
    rc, out, _ = g.sh("wget -qO- http://127.0.0.1:20270/metrics")
    return {m[1]: int(m[2]) for m in re.finditer(r'^nodeprint_rdma_state_id\{device="([^"]+)",port="1"\} (\d+)$',
                                                 out, re.M)} if rc == 0 else {}


def sysfs_states(g):
    return {d: int(g.out(f"cat /sys/class/infiniband/{d}/ports/1/state").split(":")[0]) for d in ("rxe0", "rxe1")}


def rename(tap, g):
    """Two RDMA devices swap names under a running agent (`rdma dev set NAME name NEW`: only an infiniband
    move uevent says so): the agent, which keeps each port's state file open between cycles, reports each
    name's state as sysfs does within a few cycles, not the other device's until --facts-max-age."""
    g.out("ip link set lo up && ip link set eth1 up && rdma link add rxe1 type rxe netdev eth1; i=0; "
          "until grep -q up /sys/class/net/eth1/operstate; do sleep 0.1; i=$((i+1)); [ $i -lt 100 ] || break; done")
    g.qmp.execute("set_link", name="nic2", up=False)  # rxe0 (on eth0) DOWN, rxe1 (on eth1) ACTIVE
    tap.ok(wait_state(g, "1: DOWN"), "rdma rename: rxe0 DOWN, rxe1 on eth1 ACTIVE")
    g.out("nodeprint run --node-name nib --dry-run --poll 1 --metrics-address 127.0.0.1:20270 "
          ">/tmp/agent.log 2>&1 & echo $! >/tmp/agent.pid")
    try:
        want = sysfs_states(g)
        tap.ok(want == {"rxe0": 1, "rxe1": 4} and nib.wait(lambda: agent_states(g) == want, 60),
               "rdma rename: the agent reports rxe0 DOWN (1), rxe1 ACTIVE (4)", f"{agent_states(g)} {want} " + g.out("tail -3 /tmp/agent.log"))
        time.sleep(2)  # more cycles through the kept files
        g.out("rdma dev set rxe0 name rxtmp && rdma dev set rxe1 name rxe0 && rdma dev set rxtmp name rxe1")
        want = sysfs_states(g)
        ok = want == {"rxe0": 4, "rxe1": 1} and nib.wait(lambda: agent_states(g) == want, 15)
        tap.ok(ok, "rdma rename: names swapped: the agent reports rxe0 ACTIVE, rxe1 DOWN as sysfs, within 15 s",
               f"agent {agent_states(g)} sysfs {want}")
    finally:
        g.sh("kill $(cat /tmp/agent.pid)")
        g.qmp.execute("set_link", name="nic2", up=True)
    tap.ok("level=error" not in g.out("cat /tmp/agent.log"), "rdma rename: the agent logged no error")


SCENARIOS = [values, carrier, admin_down, rename]

if __name__ == "__main__":
    nib.run_group("rdma", devices(), SCENARIOS)
