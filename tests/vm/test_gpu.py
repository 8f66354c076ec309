#!/usr/bin/env python3
"""test_gpu.py - node-in-a-box, the gpu section and a GPU that falls off the bus, on a real kernel.

Devices: QEMU's standard VGA (PCI class 0x030000, 1234:1111) on the root complex, a bochs-display
(class 0x038000, 1234:1111) behind a PCIe root port (hot-pluggable), a second, empty root port, and
the NIC to the test API server (a real kube-apiserver, tests/kube/server.sh). The guest's class
`nib-gpu` (DMI sys_vendor QEMU) pins `expect.gpus: 2`.

  * display: the gpu section lists exactly the class 03 functions sysfs shows, IDs and driver.
  * unplug: QMP `device_del` takes the bochs-display away (the guest's hotplug driver removes it from
    the PCI bus, as a GPU that fell off it is gone from sysfs once the kernel notices): `inspect` lists
    one GPU, finds `gpu-missing` (GPUMissing, 2 expected, 1 answers) and no Xid finding; the agent
    running in the guest sets AcceleratorsHealthy False (GPUMissing) and the NoSchedule taint on its Node.
  * add: QMP `device_add` puts a bochs-display in the empty slot (QEMU 7.2 cannot re-add a
    bochs-display to the slot it left: its VRAM block outlives the device): two GPUs answer again,
    the finding clears and AcceleratorsHealthy is True again.
  * unplug with Xid: that GPU is taken away and the NVIDIA driver's line for it
    (`NVRM: Xid (PCI:...): 79, pid=0, GPU has fallen off the bus.`, written to /dev/kmsg as the
    driver's printk would) joins: `gpu-missing` and `gpu-fault` (NodeRebootRequired, Xid 79 of the
    catalog's RESTART_BM); the agent's condition names both.

The NVIDIA parts (/proc/driver/nvidia, NVML) are unproven here: no such GPU in the lab.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nib  # noqa: E402
import test_agent as ta  # noqa: E402

CLASS = "nib-gpu"
POLICY = f"""apiVersion: nodeprint.io/v1
kind: Policy
events: {{burst: 100, perMinute: 60}}
classes:
- name: {CLASS}
  match: {{dmi: {{sys_vendor: QEMU}}}}
  expect: {{gpus: 2}}
"""
GPU1, GPU2 = "0000:01:00.0", "0000:02:00.0"   # behind root ports 1 and 2 (buses 1 and 2)
XID79 = "NVRM: Xid (PCI:0000:02:00): 79, pid=0, GPU has fallen off the bus."


def plan(g):
    rep = g.inspect("--policy /share/policy.yaml")
    return rep, rep["plan"]["findings"]


def gpu_findings(findings):
    return sorted((f["id"], f["reason"], f["subject"]) for f in findings if f["id"].startswith("gpu-"))


def guest_wait(g, cond, what, timeout=30):
    """Poll the guest shell test @cond until it succeeds."""
    end = time.monotonic() + timeout
    while g.sh(cond)[0] != 0:
        if time.monotonic() > end:
            raise nib.GuestError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.2)


def unplug(g, qid, addr):
    """device_del @qid; returns once the guest's PCI bus lost @addr and QEMU finished the removal."""
    g.qmp.execute("device_del", id=qid)
    guest_wait(g, f"[ ! -e /sys/bus/pci/devices/{addr} ]", f"{addr} to leave the guest's PCI bus")
    ta.wait(f"QEMU to finish removing {qid}", lambda: all(
        p["name"] != qid for p in g.qmp.execute("qom-list", path="/machine/peripheral")), timeout=30, step=0.2)


def accel(k):
    n = k.get("node", ta.NODE)
    return ta.cond(n, "AcceleratorsHealthy"), ta.own_taints(n)


def agent_state(k, status, what):
    return ta.wait(f"AcceleratorsHealthy {status} ({what})",
                   lambda: (c := accel(k)) and c[0] and c[0]["status"] == status and c, timeout=60)


def display(tap, g, k):
    rep = g.inspect("--only gpu")
    want = []
    for p in g.out("ls -d /sys/bus/pci/devices/*").split():
        cls = g.out(f"cat {p}/class").strip()
        if cls[2:4] in ("03", "12"):
            drv = g.out(f"[ -e {p}/driver ] && basename $(readlink {p}/driver); true").strip() or None
            want.append({"address": os.path.basename(p), "class": cls[2:], "vendor_id": g.out(f"cat {p}/vendor").strip()[2:],
                         "device_id": g.out(f"cat {p}/device").strip()[2:], "driver": drv})
    got = [{k: d[k] for k in ("address", "class", "vendor_id", "device_id", "driver")} for d in rep["gpu"]["devices"]]
    tap.eq(got, want, "gpu: display/accelerator functions (class 03xx/12xx), IDs and driver = sysfs")
    tap.eq(sorted((d["class"], d["vendor_id"], d["device_id"]) for d in rep["gpu"]["devices"]),
           [("030000", "1234", "1111"), ("038000", "1234", "1111")], "gpu: QEMU's VGA (030000) and bochs-display (038000)")
    tap.eq([d["config_space_dead"] for d in rep["gpu"]["devices"]], [False, False], "gpu: both config spaces answer")
    tap.eq(rep["gpu"]["nvidia_version"], None, "gpu: no /proc/driver/nvidia: nvidia_version null")
    tap.eq([c for c in rep["fingerprint"]["components"] if c["component"] == "gpu"], [],
           "gpu: no driver bound: no fingerprint item")
    rep, findings = plan(g)
    tap.eq((rep["plan"]["class"], gpu_findings(findings), rep["plan"]["labels"].get("nodeprint.io/gpu.count")),
           (CLASS, [], "2"), f"inspect: class {CLASS}, 2 GPUs of 2 expected: no gpu finding, label gpu.count 2")
    c, taints = agent_state(k, "True", "2 GPUs answer")
    tap.eq((c["reason"], [t for t in taints if t[0].startswith("nodeprint.io/gpu")]), ("AllChecksPassed", []),
           "agent: AcceleratorsHealthy True (AllChecksPassed), no GPU taint")


def unplugged(tap, g, k):
    unplug(g, "gpu1", GPU1)
    rep, findings = plan(g)
    tap.eq([d["address"] for d in rep["gpu"]["devices"]], ["0000:00:03.0"], f"unplug: {GPU1} is gone from the gpu section")
    tap.eq(gpu_findings(findings), [("gpu-missing", "GPUMissing", "gpus")], "unplug: gpu-missing (GPUMissing), no Xid finding")
    msg = next(f["message"] for f in findings if f["id"] == "gpu-missing")
    tap.ok("expects 2 GPUs" in msg and "1 answer" in msg and "expect.gpus" in msg,
           "unplug: the finding says 2 expected from the policy, 1 answers", msg)
    c, taints = agent_state(k, "False", "a GPU left the bus")
    tap.ok(c["reason"] == "GPUMissing" and "expects 2 GPUs" in c["message"],
           "agent: AcceleratorsHealthy False, reason GPUMissing, the message says 2 expected", c)
    tap.ok(("nodeprint.io/gpu-missing", "NoSchedule") in taints, "agent: taint nodeprint.io/gpu-missing:NoSchedule", taints)
    ev = ta.wait("Event GPUMissing", lambda: k.events(reason="GPUMissing"), timeout=30)
    tap.ok(ev[0]["involvedObject"]["name"] == ta.NODE and ev[0]["type"] == "Warning", "agent: Warning Event GPUMissing on the Node", ev[0])


def added(tap, g, k):
    g.qmp.execute("device_add", driver="bochs-display", bus="rp2", id="gpu2")
    guest_wait(g, f"[ -e /sys/bus/pci/devices/{GPU2}/class ]", f"{GPU2} on the guest's PCI bus")
    rep, findings = plan(g)
    tap.eq(sorted(d["address"] for d in rep["gpu"]["devices"]), ["0000:00:03.0", GPU2], f"add: {GPU2} answers")
    tap.eq(gpu_findings(findings), [], "add: two GPUs again, gpu-missing cleared")
    c, _ = agent_state(k, "True", "the GPU is back")
    tap.eq(c["reason"], "AllChecksPassed", "agent: AcceleratorsHealthy True again")


def unplugged_xid(tap, g, k):
    unplug(g, "gpu2", GPU2)
    g.out(f"echo '<3>{XID79}' > /dev/kmsg")
    rep, findings = plan(g)
    tap.eq(gpu_findings(findings), [("gpu-fault", "NodeRebootRequired", "0000:02:00"), ("gpu-missing", "GPUMissing", "gpus")],
           "unplug + Xid 79: gpu-fault (NodeRebootRequired) for the device and gpu-missing")
    ev = [e for e in rep["kmsg"]["events"] if e["kind"] == "gpu_xid"]
    tap.eq([(e["device"], e["gpu"]["code"], e["gpu"]["class"]) for e in ev], [("0000:02:00", 79, "node-reboot")],
           "unplug + Xid 79: the kernel-log line is Xid 79, class node-reboot")
    c, taints = ta.wait("AcceleratorsHealthy names the Xid and the missing GPU", lambda: (c := accel(k)) and c[0] and
                        "79" in c[0]["message"] and "expects 2" in c[0]["message"] and c, timeout=60)
    tap.ok(c["status"] == "False" and {("nodeprint.io/gpu-fault", "NoSchedule"), ("nodeprint.io/gpu-missing", "NoSchedule")} <= set(taints),
           "agent: AcceleratorsHealthy False with both findings; taints gpu-fault and gpu-missing", (c, taints))


SCENARIOS = [display, unplugged, added, unplugged_xid]


def devices(port):
    d = nib.Devices()
    d.args += ["-device", "VGA"]
    rp1, _ = d._root_port(), d._root_port()
    d.args += ["-device", f"bochs-display,bus={rp1},id=gpu1"]
    return d.api_net(port)


if __name__ == "__main__":
    ta.agent_group("gpu", devices, POLICY, SCENARIOS)
