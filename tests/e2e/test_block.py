#!/usr/bin/env python3
"""End-to-end: the block section of `nodeprint inspect` on this real machine.

TAP output. Independent sources: `lsblk -J -b -O` (util-linux), /sys/class/block
and /proc/diskstats read by this test itself, stat(2) of a file this test writes.
The --interval run happens while this test writes to a temp file with O_DIRECT
and fsync, so the disk backing it must show w/s > 0.
"""
import json, mmap, os, shutil, subprocess, sys, tempfile, threading

import report_schema

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/: taplib
import taplib  # noqa: E402
from taplib import tap  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("NODEPRINT", os.path.join(ROOT, "build", "nodeprint"))


def inspect(*args):
    p = subprocess.run([BIN, "inspect", "-o", "json", "--only", "block", *args], capture_output=True, text=True,
                       timeout=120)
    if p.returncode != 0:
        raise RuntimeError(f"exit {p.returncode}: {p.stderr}")
    return report_schema.loads(p.stdout)["block"]


def diskstats():
    """name -> (reads completed, writes completed), read by this test (iostats.rst fields 1 and 5)."""
    out = {}
    with open("/proc/diskstats") as f:
        for line in f:
            t = line.split()
            if len(t) >= 14:
                out[t[2]] = (int(t[3]), int(t[7]))
    return out


def lsblk_devices():
    p = subprocess.run(["lsblk", "-J", "-b", "-O"], capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise RuntimeError(p.stderr)
    flat = []

    def walk(ds):
        for d in ds:
            flat.append(d)
            walk(d.get("children", []))

    walk(json.loads(p.stdout)["blockdevices"])
    return flat


# lsblk TYPE -> our kind (lsblk names dm devices by their use: lvm, crypt, mpath; md by level)
def kind_matches(lsblk_type, kind):
    if lsblk_type == "disk":
        return kind in ("disk", "nvme", "zram", "nbd", "rbd", "ram")
    if lsblk_type == "part":
        return kind == "partition"
    if lsblk_type in ("lvm", "crypt", "mpath", "dm"):
        return kind == "dm"
    if lsblk_type.startswith("raid") or lsblk_type == "md":
        return kind == "md"
    return lsblk_type == kind


def disk_of(path):
    """The whole disk (name) that holds @path: stat's st_dev, /sys/dev/block, partition -> parent."""
    st = os.stat(path)
    link = os.path.realpath(f"/sys/dev/block/{os.major(st.st_dev)}:{os.minor(st.st_dev)}")
    if os.path.exists(os.path.join(link, "partition")):
        link = os.path.dirname(link)
    return os.path.basename(link)


def check_static(blk):
    devs = {d["name"]: d for d in blk["devices"]}
    tap("error" not in blk, "block section has no error", blk.get("error"))
    sysfs = set(os.listdir("/sys/class/block"))
    tap(sysfs <= set(devs), "every /sys/class/block entry is reported", sorted(sysfs - set(devs)))
    ls = lsblk_devices()
    tap(len(ls) > 0, "lsblk lists devices")
    bad = {"major_minor": [], "size_bytes": [], "rotational": [], "scheduler": [], "kind": [], "missing": []}
    for d in ls:
        ours = devs.get(d["name"])
        if not ours:
            bad["missing"].append(d["name"])
            continue
        if ours["major_minor"] != d["maj:min"]:
            bad["major_minor"].append((d["name"], ours["major_minor"], d["maj:min"]))
        if ours["size_bytes"] != int(d["size"]):
            bad["size_bytes"].append((d["name"], ours["size_bytes"], d["size"]))
        if ours["rotational"] != bool(d["rota"]):
            bad["rotational"].append((d["name"], ours["rotational"], d["rota"]))
        if d.get("sched") and ours["scheduler"] != d["sched"]:
            bad["scheduler"].append((d["name"], ours["scheduler"], d["sched"]))
        if not kind_matches(d["type"], ours["kind"]):
            bad["kind"].append((d["name"], ours["kind"], d["type"]))
    tap(not bad["missing"], "every lsblk device is reported", bad["missing"])
    for k in ("major_minor", "size_bytes", "rotational", "scheduler", "kind"):
        tap(not bad[k], f"{k} equals lsblk for {len(ls)} devices", bad[k])
    vda = devs.get("vda")
    tap(vda is not None, "vda is present")
    if vda:
        tap(vda["transport"] == "virtio", "vda transport is virtio", vda["transport"])
        tap(vda["kind"] == "disk", "vda kind is disk", vda["kind"])
        tap(vda["major_minor"] == open("/sys/class/block/vda/dev").read().strip(), "vda major:minor equals sysfs")
        sched = open("/sys/class/block/vda/queue/scheduler").read().split()
        tap(vda["schedulers"] == [s.strip("[]") for s in sched], "vda schedulers equal queue/scheduler", sched)
        nr = int(open("/sys/class/block/vda/queue/nr_requests").read())
        tap(vda["nr_requests"] == nr, "vda nr_requests equals sysfs", f"{vda['nr_requests']} vs {nr}")
    return devs


def check_counters():
    before = diskstats()
    blk = inspect()
    after = diskstats()
    devs = {d["name"]: d for d in blk["devices"]}
    bad = []
    for name, (r0, w0) in before.items():
        d = devs.get(name)
        if not d or not d.get("stats") or name not in after:
            bad.append((name, "missing"))
            continue
        r, w = d["stats"]["reads_completed"], d["stats"]["writes_completed"]
        r1, w1 = after[name]
        if not (r0 <= r <= r1 and w0 <= w <= w1):
            bad.append((name, (r0, r, r1), (w0, w, w1)))
    tap(not bad, f"reads/writes completed lie between two reads of /proc/diskstats ({len(before)} devices)", bad)


def writer(path, stop, count):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_DIRECT, 0o600)
    buf = mmap.mmap(-1, 4096)  # page-aligned, as O_DIRECT needs
    buf.write(b"nodeprint" * 455)
    try:
        off = 0
        while not stop.wait(0.01):
            os.pwrite(fd, buf, off)
            os.fsync(fd)
            off = (off + 4096) % (1 << 20)
            count[0] += 1
    finally:
        os.close(fd)


def check_interval():
    tmpdir = tempfile.mkdtemp(prefix="nodeprint-e2e-", dir="/var/tmp")
    path = os.path.join(tmpdir, "direct")
    stop, count = threading.Event(), [0]
    t = threading.Thread(target=writer, args=(path, stop, count))
    t.start()
    try:
        blk = inspect("--interval", "1")
    finally:
        stop.set()
        t.join()
        shutil.rmtree(tmpdir, ignore_errors=True)
    disk = disk_of("/var/tmp")
    devs = {d["name"]: d for d in blk["devices"]}
    tap(count[0] > 0, f"the test wrote {count[0]} O_DIRECT+fsync blocks during the interval")
    tap(isinstance(blk["interval_s"], float) and blk["interval_s"] > 0, "interval_s is reported", blk["interval_s"])
    tap(isinstance(blk["stalls"], list), "stalls is a list", blk["stalls"])
    d = devs.get(disk)
    rates = d.get("rates") if d else None
    tap(rates is not None, f"{disk} (backs /var/tmp) has rates", d)
    if rates:
        tap(rates["w_per_s"] > 0, f"{disk} w/s > 0 while the test writes", rates)
        tap(rates["wkB_per_s"] > 0, f"{disk} wkB/s > 0 while the test writes", rates)
        tap(rates["w_await_ms"] >= 0 and 0 <= rates["util_percent"], f"{disk} w_await and util are sane", rates)
        keys = {"r_per_s", "w_per_s", "rkB_per_s", "wkB_per_s", "r_await_ms", "w_await_ms", "aqu_sz",
                "util_percent", "in_flight"}
        tap(keys <= set(rates), "rates carry the iostat -x fields", sorted(keys - set(rates)))
    with_stats = [x["name"] for x in blk["devices"] if x.get("stats")]
    no_rates = [x for x in with_stats if "rates" not in devs[x] and "error" not in devs[x]]
    tap(not no_rates, "every device with counters has rates (or its own error)", no_rates)


def main():
    if not os.access(BIN, os.X_OK):
        tap(False, f"{BIN} not built")
        return
    for tool in ("lsblk",):
        if not shutil.which(tool):
            tap(False, f"{tool} missing (scripts/deps.sh test)")
            return
    try:
        check_static(inspect())
        check_counters()
        check_interval()
    except Exception as e:  # a crash is a failure, never a silent pass
        tap(False, "block e2e ran to the end", repr(e))


if __name__ == "__main__":
    taplib.run(main, "test_block")
