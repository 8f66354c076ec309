#!/usr/bin/env python3
"""test_nvmeof.py - node-in-a-box, NVMe over Fabrics timeouts on a real transport: the guest exports
its QEMU NVMe namespace with the kernel's NVMe/TCP target (nvmet, nvmet-tcp on 127.0.0.1:4420, set
up through configfs) and connects to it (`nvme connect -t tcp`, or /dev/nvme-fabrics with options). The timeouts section's NVMe-oF
row equals sysfs (transport tcp, ctrl_loss_tmo, reconnect_delay, fast_io_fail_tmo "off" = -1); the
kernel's defaults (fast_io_fail off, ctrl_loss 600 s) are FailoverOverDeviceTimeout against the 30 s
io_timeout; fast_io_fail_tmo 10 over ctrl_loss_tmo 5 is FastIOFailNotBelowLoss; 5 under 20 is
no finding.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nib  # noqa: E402

NQN = "nqn.2026-12.io.nodeprint:nib-tcp"
CFS = "/sys/kernel/config/nvmet"


def export(g):
    g.out("modprobe nvme && modprobe nvmet && modprobe nvmet-tcp && modprobe nvme-tcp && ip link set lo up; "
          "i=0; while [ ! -e /dev/nvme0n1 ]; do sleep 0.1; i=$((i+1)); [ $i -lt 100 ] || break; done; "
          "mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config")
    g.out(f"mkdir {CFS}/subsystems/{NQN} && echo 1 > {CFS}/subsystems/{NQN}/attr_allow_any_host && "
          f"mkdir {CFS}/subsystems/{NQN}/namespaces/1 && echo /dev/nvme0n1 > {CFS}/subsystems/{NQN}/namespaces/1/device_path && "
          f"echo 1 > {CFS}/subsystems/{NQN}/namespaces/1/enable && mkdir {CFS}/ports/1 && "
          f"echo tcp > {CFS}/ports/1/addr_trtype && echo ipv4 > {CFS}/ports/1/addr_adrfam && "
          f"echo 127.0.0.1 > {CFS}/ports/1/addr_traddr && echo 4420 > {CFS}/ports/1/addr_trsvcid && "
          f"ln -s {CFS}/subsystems/{NQN} {CFS}/ports/1/subsystems/{NQN}")


def connect(g, opts=""):
    """nvme-cli 2.4 has no --fast_io_fail_tmo: with options, the kernel's own interface (what nvme-cli
    writes, drivers/nvme/host/fabrics.c nvmf_parse_options())."""
    if opts:
        g.out(f"echo 'transport=tcp,traddr=127.0.0.1,trsvcid=4420,nqn={NQN},{opts}' > /dev/nvme-fabrics")
    else:
        g.out(f"nvme connect -t tcp -a 127.0.0.1 -s 4420 -n {NQN}")
    ctrl = g.out(f"for c in /sys/class/nvme/nvme*; do [ \"$(cat $c/subsysnqn)\" = {NQN} ] && basename $c; done").split()
    if len(ctrl) != 1:
        raise nib.GuestError(f"want one controller for {NQN}, got {ctrl}")
    return ctrl[0]


def judged(g, args=""):
    rc, out, err = g.sh(f"nodeprint inspect -o json --color never {args}")
    if rc not in (0, 3, 4):
        raise nib.GuestError(f"inspect exited {rc}: {err.strip()[-400:]}")
    return json.loads(out)


def chain(rep, ctrl):
    return sorted(f["reason"] for f in rep["plan"]["findings"] if f["id"] == "timeout-chain" and f["subject"] == ctrl)


def sysfs_tmo(g, ctrl, name):
    v = g.out(f"cat /sys/class/nvme/{ctrl}/{name}").strip()
    return -1 if v == "off" else int(v)


def defaults(tap, g):
    export(g)
    ctrl = g.ctrl = connect(g)
    rep = judged(g)
    rows = [d for d in rep["timeouts"]["devices"] if d.get("port") == ctrl]
    tap.ok(len(rows) == 1, f"nvmeof: one timeouts row on controller {ctrl}", rep["timeouts"]["devices"])
    d = rows[0] if rows else {}
    want = {"kind": "nvme", "transport": g.out(f"cat /sys/class/nvme/{ctrl}/transport").strip(),
            "ctrl_loss_tmo_s": sysfs_tmo(g, ctrl, "ctrl_loss_tmo"),
            "reconnect_delay_s": sysfs_tmo(g, ctrl, "reconnect_delay"),
            "fast_io_fail_tmo_s": sysfs_tmo(g, ctrl, "fast_io_fail_tmo")}
    tap.eq({k: d.get(k) for k in want}, want, f"nvmeof: {ctrl} transport and loss timers = sysfs")
    tap.eq((want["transport"], want["fast_io_fail_tmo_s"]), ("tcp", -1), "nvmeof: transport tcp, fast_io_fail_tmo off")
    tap.eq(chain(rep, ctrl), ["FailoverOverDeviceTimeout"],
           f"nvmeof: kernel defaults (ctrl_loss {want['ctrl_loss_tmo_s']} s, fast_io_fail off) over io_timeout "
           f"{rep['timeouts'].get('nvme_io_timeout_s')} s: FailoverOverDeviceTimeout")
    g.out(f"nvme disconnect -n {NQN}")


def fast_over_loss(tap, g):
    ctrl = connect(g, "ctrl_loss_tmo=5,reconnect_delay=2,fast_io_fail_tmo=10")
    rep = judged(g)
    d = [x for x in rep["timeouts"]["devices"] if x.get("port") == ctrl]
    tap.eq((d[0]["ctrl_loss_tmo_s"], d[0]["reconnect_delay_s"], d[0]["fast_io_fail_tmo_s"]) if d else None,
           (sysfs_tmo(g, ctrl, "ctrl_loss_tmo"), 2, 10), "nvmeof: connected with ctrl-loss 5, reconnect 2, fast_io_fail 10: "
           "values = sysfs")
    f = [x for x in rep["plan"]["findings"] if x["id"] == "timeout-chain" and x["subject"] == ctrl]
    tap.ok([x["reason"] for x in f] == ["FastIOFailNotBelowLoss"] and "fast_io_fail_tmo 10 s >= ctrl_loss_tmo" in f[0]["message"],
           "nvmeof: fast_io_fail 10 s >= ctrl_loss: FastIOFailNotBelowLoss only (failover 10 s < 30 s)", f)
    g.out(f"nvme disconnect -n {NQN}")


def consistent(tap, g):
    ctrl = connect(g, "ctrl_loss_tmo=20,reconnect_delay=2,fast_io_fail_tmo=5")
    rep = judged(g)
    tap.eq(chain(rep, ctrl), [], "nvmeof: fast_io_fail 5 s < ctrl_loss 20 s, failover 5 s < 30 s: no timeout-chain finding")
    c = [x["status"] for x in rep["plan"]["conditions"] if x["type"] == "StorageTimeoutsConsistent"]
    tap.eq(c, ["True"], "nvmeof: StorageTimeoutsConsistent True")
    down = [x for x in rep["sources"] if not x["up"]]
    tap.ok(all(x["source"] != "timeouts" for x in down), "nvmeof: the timeouts source is up", down)
    g.out(f"nvme disconnect -n {NQN}")


SCENARIOS = [defaults, fast_over_loss, consistent]

if __name__ == "__main__":
    d = nib.Devices()
    d.nvme()
    nib.run_group("nvmeof", d, SCENARIOS)
