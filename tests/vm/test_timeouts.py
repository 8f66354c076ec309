#!/usr/bin/env python3
"""test_timeouts.py - node-in-a-box, timeout chain: the timeouts section equals the guest kernel's own
files (SCSI device/timeout and eh_timeout, queue/io_timeout, nvme_core io/admin_timeout, dm_multipath
queue_if_no_path_timeout_secs); a CSI block volume on a dm-multipath map whose table gets
queue_if_no_path (`dmsetup message ... queue_if_no_path`) with both paths failed and I/O queued is the
`timeout-chain` finding UnboundedQueueing naming every layer, StorageTimeoutsConsistent False; the
map reconfigured (`fail_if_no_path`) clears it; the kernel's queue_if_no_path_timeout_secs of 60 s
(over the default policy's 30 s application timeout) is QueueingOverAppTimeout, 10 s is none.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nib  # noqa: E402

DMP = "/sys/module/dm_multipath/parameters/queue_if_no_path_timeout_secs"
POD = "0b7e3c2a-1d4f-4e5a-9c8b-7a6f5e4d3c2b"


def cat_int(g, path):
    return int(g.out(f"cat {path}").strip())


def setup(g):
    g.out("/nib/setup.sh nvme multipath")
    g.out("dd if=/dev/mapper/mpatha of=/dev/null bs=4k count=16 iflag=direct")
    # the kubelet's layout of a CSI block volume (pkg/volume/csi csi_block.go), as test_agent.py makes it
    vol = f"/var/lib/kubelet/pods/{POD}/volumeDevices/kubernetes.io~csi"
    data = "/var/lib/kubelet/plugins/kubernetes.io/csi/volumeDevices/pv-tmo/data"
    vd = json.dumps({"driverName": "nib.csi.example.com", "volumeHandle": "mpatha", "specVolID": "pv-tmo",
                     "nodeName": "nib", "volumeLifecycleMode": "Persistent"})
    g.out(f"mkdir -p {vol} {data} && touch {vol}/pv-tmo && mount --bind /dev/mapper/mpatha {vol}/pv-tmo && "
          f"echo '{vd}' > {data}/vol_data.json")
    return g.out("ls /sys/block/dm-0/slaves").split()


def judged(g):
    """`nodeprint inspect -o json`, whose exit status is 4 when there are findings (of any kind)."""
    rc, out, err = g.sh("nodeprint inspect -o json --color never")
    if rc not in (0, 4):
        raise nib.GuestError(f"inspect exited {rc}: {err.strip()[-400:]}")
    return json.loads(out)


def chain(rep):
    f = [x for x in rep["plan"]["findings"] if x["id"] == "timeout-chain"]
    c = [x for x in rep["plan"]["conditions"] if x["type"] == "StorageTimeoutsConsistent"]
    return f, (c[0]["status"] if c else None)


def values(tap, g):
    g.paths = setup(g)
    rep = g.inspect("--only timeouts")
    t = rep["timeouts"]
    tap.eq(t["nvme_io_timeout_s"], cat_int(g, "/sys/module/nvme_core/parameters/io_timeout"),
           "timeouts: nvme_io_timeout_s = /sys/module/nvme_core/parameters/io_timeout")
    tap.eq(t["nvme_admin_timeout_s"], cat_int(g, "/sys/module/nvme_core/parameters/admin_timeout"),
           "timeouts: nvme_admin_timeout_s = /sys/module/nvme_core/parameters/admin_timeout")
    tap.eq(t["dm_queue_if_no_path_timeout_s"], cat_int(g, DMP), "timeouts: dm_queue_if_no_path_timeout_s = " + DMP)
    devs = {d["name"]: d for d in t["devices"]}
    for sd in g.paths:
        d = devs.get(sd, {})
        got = (d.get("kind"), d.get("scsi_timeout_s"), d.get("scsi_eh_timeout_s"), d.get("io_timeout_ms"))
        want = ("scsi", cat_int(g, f"/sys/block/{sd}/device/timeout"), cat_int(g, f"/sys/block/{sd}/device/eh_timeout"),
                cat_int(g, f"/sys/block/{sd}/queue/io_timeout"))
        tap.eq(got, want, f"timeouts: {sd} kind, device/timeout, device/eh_timeout, queue/io_timeout = sysfs")
    n = devs.get("nvme0n1", {})
    tap.eq((n.get("kind"), n.get("port"), n.get("transport"), n.get("io_timeout_ms")),
           ("nvme", "nvme0", g.out("cat /sys/class/nvme/nvme0/transport").strip(),
            cat_int(g, "/sys/block/nvme0n1/queue/io_timeout")),
           "timeouts: nvme0n1 controller nvme0, transport and queue/io_timeout = sysfs")
    g.out("echo 7 > /sys/block/%s/device/timeout" % g.paths[0])
    t = g.inspect("--only timeouts")["timeouts"]
    d = [x for x in t["devices"] if x["name"] == g.paths[0]]
    tap.eq(d and d[0]["scsi_timeout_s"], 7, f"timeouts: device/timeout set to 7 on {g.paths[0]} is read back as 7")
    g.out("echo 30 > /sys/block/%s/device/timeout" % g.paths[0])
    f, cond = chain(judged(g))
    tap.ok(f == [] and cond == "True", "chain: no queue_if_no_path: no timeout-chain finding, StorageTimeoutsConsistent True",
           f"{f} {cond}")


def unbounded(tap, g):
    g.out("dmsetup message mpatha 0 queue_if_no_path")
    tap.ok("queue_if_no_path" in g.out("dmsetup table mpatha"), "chain: dmsetup table shows queue_if_no_path")
    for sd in g.paths:                       # both paths down: I/O through the map queues
        g.out(f"echo offline > /sys/block/{sd}/device/state")
    g.out("dd if=/dev/mapper/mpatha of=/dev/null bs=4k count=1 skip=3 iflag=direct >/tmp/q.out 2>&1 & "
          "echo $! > /tmp/q.pid")
    # both paths failed in the kernel (status "F"): the read is queued on the map
    g.out("i=0; until [ $(dmsetup status mpatha | tr ' ' '\\n' | grep -cx F) -eq 2 ]; do sleep 0.5; "
          "i=$((i+1)); [ $i -lt 60 ] || break; done", timeout=120)
    rep = judged(g)
    m = [x for x in rep["multipath"]["maps"] if x["name"] == "mpatha"]
    tap.ok(m and (m[0]["paths_active"], m[0]["paths_failed"], m[0]["features"]) == (0, 2, ["queue_if_no_path"]),
           "chain: both paths failed under queue_if_no_path (dd through the map hangs queued)",
           m and {k: m[0][k] for k in ("queueing", "paths_active", "paths_failed", "features")})
    tap.eq(g.sh("kill -0 $(cat /tmp/q.pid)")[0], 0, "chain: the direct read through the map is still queued")
    f, cond = chain(rep)
    msg = f[0]["message"] if f else ""
    tap.ok(len(f) == 1 and f[0]["reason"] == "UnboundedQueueing" and f[0]["subject"] == "mpatha",
           "chain: queue_if_no_path with no bound under CSI volume pv-tmo is UnboundedQueueing on mpatha", f)
    want = [f"SCSI {g.paths[0]} 30 s (eh 10 s)", "multipath mpatha queues for ever",
            "no active path: I/O queued now",
            "app gives up at 30 s", "volume pv-tmo"]
    tap.ok(all(w in msg for w in want), "chain: the finding names every layer with its value", f"{msg!r}\nwant: {want}")
    tap.eq(cond, "False", "chain: StorageTimeoutsConsistent False")


def reconfigured(tap, g):
    g.out("dmsetup message mpatha 0 fail_if_no_path")
    g.out("while kill -0 $(cat /tmp/q.pid) 2>/dev/null; do sleep 0.5; done", timeout=60)
    tap.ok("error" in g.out("cat /tmp/q.out").lower(), "chain: fail_if_no_path fails the queued read",
           g.out("cat /tmp/q.out"))
    f, cond = chain(judged(g))
    tap.ok(f == [] and cond == "True", "chain: after fail_if_no_path the finding clears, StorageTimeoutsConsistent True",
           f"{f} {cond}")
    for sd in g.paths:
        g.out(f"echo running > /sys/block/{sd}/device/state")
        mm = g.out(f"cat /sys/block/{sd}/dev").strip()
        g.out(f"dmsetup message mpatha 0 reinstate_path {mm}")
    g.out(f"echo 60 > {DMP} && dmsetup message mpatha 0 queue_if_no_path")
    f, cond = chain(judged(g))
    msg = f[0]["message"] if f else ""
    tap.ok(len(f) == 1 and f[0]["reason"] == "QueueingOverAppTimeout" and
           "queues 60 s (kernel queue_if_no_path_timeout_secs 60)" in msg,
           "chain: kernel queue_if_no_path_timeout_secs 60 > app 30 s is QueueingOverAppTimeout", f)
    g.out(f"echo 10 > {DMP}")
    f, cond = chain(judged(g))
    tap.ok(f == [] and cond == "True", "chain: queue_if_no_path_timeout_secs 10 (below the app's 30 s): no finding",
           f"{f} {cond}")


SCENARIOS = [values, unbounded, reconfigured]

if __name__ == "__main__":
    d = nib.Devices()
    d.nvme()
    nib.run_group("timeouts", d, SCENARIOS)
