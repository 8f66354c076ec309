#!/usr/bin/env python3
"""test_mounts_kmsg.py - `nodeprint inspect -o json --only mounts,kmsg` on this real machine.

mounts: every mount of the host's table as util-linux `findmnt -J --list -N 1` reads it
(ids, parents, major:minor, targets with escapes decoded, types, options), including a
tmpfs the test mounts itself at a path with a space and a tab.
kmsg: a line the test writes to /dev/kmsg in the exact format of the block layer's
request error (block/blk-mq.c blk_print_req_error) is reported with kind io_error
and device sdz, with its sequence number, and is not reported twice by one run.
Prints TAP. Needs root (mount, /dev/kmsg).
"""
import json, os, subprocess, sys, tempfile, time

import report_schema

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/: taplib
import taplib  # noqa: E402
from taplib import tap  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NP = os.environ.get("NODEPRINT", os.path.join(ROOT, "build", "nodeprint"))


def findmnt():
    out = subprocess.run(["findmnt", "-J", "--list", "-N", "1", "-o",
                          "ID,PARENT,MAJ:MIN,TARGET,FSTYPE,FSROOT,VFS-OPTIONS,FS-OPTIONS"],
                         capture_output=True, text=True, check=True).stdout
    return {f["id"]: f for f in json.loads(out)["filesystems"]}


def inspect(only):
    out = subprocess.run([NP, "inspect", "-o", "json", "--only", only], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"nodeprint exited {out.returncode}: {out.stderr}")
    return report_schema.loads(out.stdout)


def test_mounts():
    tmp = tempfile.mkdtemp(prefix="np-e2e-mounts-")
    point = os.path.join(tmp, "sp ace\ttab")
    os.mkdir(point)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "np-e2e src", point]).returncode == 0
    tap(mounted, "mount a tmpfs at a path with a space and a tab")
    try:
        fm1 = findmnt()
        rep = inspect("mounts")["mounts"]
        fm2 = findmnt()
    finally:
        if mounted:
            subprocess.run(["umount", point])
        os.rmdir(point)
        os.rmdir(tmp)
    tap("error" not in rep, "mounts section has no error", rep.get("error"))
    tap(rep.get("source_path") == "/proc/1/mountinfo", "read the host's /proc/1/mountinfo", rep.get("source_path"))
    ours = {m["mount_id"]: m for m in rep["mounts"]}
    # others may mount/unmount meanwhile: judge the mounts findmnt saw unchanged before and after
    stable = {i: f for i, f in fm1.items() if fm2.get(i) == f}
    tap(len(stable) > 5 and set(stable) <= set(ours), f"every mount findmnt saw ({len(stable)}) is reported",
        sorted(set(stable) - set(ours)))
    tap(set(ours) <= set(fm1) | set(fm2), "no mount findmnt never saw", sorted(set(ours) - set(fm1) - set(fm2)))
    bad = []
    for i, f in stable.items():
        m = ours.get(i)
        want = (f["parent"], f["maj:min"], f["target"], f["fstype"], f["fsroot"], f["vfs-options"], f["fs-options"])
        got = m and (m["parent_id"], m["major_minor"], m["mount_point"], m["fstype"], m["root"], m["options"],
                     m["super_options"])
        if got != want:
            bad.append(f"{i}: findmnt {want} nodeprint {got}")
    tap(not bad, "every mount equals findmnt's (parent, maj:min, target, fstype, root, options)", "\n".join(bad))
    mine = [m for m in rep["mounts"] if m["mount_point"] == point]
    tap(len(mine) == 1 and mine[0]["source"] == "np-e2e src" and mine[0]["fstype"] == "tmpfs",
        "the test's tmpfs is there with its escaped path and source decoded", mine)
    root = [m for m in rep["mounts"] if m["mount_point"] == "/"]
    devs = {d["major_minor"]: d for d in rep["devices"]}
    st = os.stat("/")
    rootdev = f"{os.major(st.st_dev)}:{os.minor(st.st_dev)}"
    tap(bool(root) and rootdev in devs and any(x["mount_point"] == "/" for x in devs[rootdev]["mounts"]),
        f"block device {rootdev} (stat /) lists the root mount", devs.get(rootdev))
    name = os.path.basename(os.path.realpath(f"/sys/dev/block/{rootdev}"))
    tap(devs.get(rootdev, {}).get("name") == name, f"block device {rootdev} is named {name}", devs.get(rootdev))


def test_kmsg():
    tag = f"{os.getpid()}{int(time.time()) % 100000}"
    sector = int(tag) % 1000000 + 1
    # block/blk-mq.c blk_print_req_error(): "%s error, dev %s, sector %llu op 0x%x:(%s) flags 0x%x phys_seg %u prio class %u"
    line = f"I/O error, dev sdz, sector {sector} op 0x1:(WRITE) flags 0x800 phys_seg 1 prio class 2"
    with open("/dev/kmsg", "w") as f:
        f.write(f"<3>{line}\n")
    rep = inspect("kmsg")["kmsg"]
    tap("error" not in rep, "kmsg section has no error", rep.get("error"))
    tap(rep["records_read"] > 0 and rep["last_seq"] >= rep["first_seq"], "records were read from /dev/kmsg",
        {k: rep.get(k) for k in ("records_read", "first_seq", "last_seq")})
    mine = [e for e in rep["events"] if e["message"] == line]
    tap(len(mine) == 1, "the line written to /dev/kmsg is reported once", mine)
    if mine:
        e = mine[0]
        tap(e["kind"] == "io_error" and e["device"] == "sdz", "kind io_error, device sdz", e)
        tap(e["sector"] == sector and e["op"] == "WRITE" and e["detail"] == "I/O", f"sector {sector}, op WRITE", e)
        tap(e["priority"] == 3 and e["facility"] == 1, "priority 3, facility 1 (user: written by a process)", e)
        tap(rep["first_seq"] <= e["seq"] <= rep["last_seq"], "its sequence number is within the records read", e)
        now_ms = time.time() * 1000
        tap(rep["wall_clock_estimated"] and abs(e["wall_estimate_ms"] - now_ms) < 600000,
            "wall-clock estimate within 10 minutes of now (an estimate, not a timing assertion)", e)
    seqs = [e["seq"] for e in rep["events"]]
    tap(len(seqs) == len(set(seqs)), "no record reported twice", seqs)


def main():
    if os.geteuid() != 0:
        tap(False, "needs root (mount, /dev/kmsg)")
        return
    if not os.access(NP, os.X_OK):
        tap(False, f"{NP} not built (make all)")
        return
    test_mounts()
    test_kmsg()


if __name__ == "__main__":
    taplib.run(main, "test_mounts_kmsg")
