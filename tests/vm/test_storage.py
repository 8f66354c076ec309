#!/usr/bin/env python3
"""test_storage.py - node-in-a-box, storage group: one scsi_debug LU behind two SCSI hosts under a
dm-multipath map; map and path states equal `dmsetup status`; a path failed (device offlined + direct
I/O) and reinstated (`dmsetup message ... reinstate_path`) is seen in the map and classified in the
kernel log; an I/O held by scsi_debug's delay is a stall with device and duration; a short SCSI
timeout gives classified timeout / offline / I/O error lines.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nib  # noqa: E402

SD = "/sys/bus/pseudo/drivers/scsi_debug"
PG_STATE = {"A": "active", "E": "enabled", "D": "disabled"}
PATH_STATE = {"A": "active", "F": "failed"}
STALL_S = 4           # --stall-seconds: no completion for >= 4 s with I/O in flight (default 10)


def dm_status(line):
    """`dmsetup status` of a multipath map (drivers/md/dm-mpath.c multipath_status, counted arguments):
    <start> <len> multipath <#feat> <feat>... <#hwh> <hwh>... <#pg> <next pg> then per group
    <A|E|D> <#pg args> <args>... <#paths> <#selector args>, per path <maj:min> <A|F> <fail count> <sel args>..."""
    t = line.split()
    if ":" in t[0]:
        t = t[1:]                                   # "mpatha: 0 32768 multipath ..."
    assert t[2] == "multipath", line
    i = 3
    i += 1 + int(t[i])
    i += 1 + int(t[i])
    npg, i = int(t[i]), i + 2
    groups = []
    for _ in range(npg):
        state, i = t[i], i + 2 + int(t[i + 1])
        npaths, nsel, i = int(t[i]), int(t[i + 1]), i + 2
        paths = []
        for _ in range(npaths):
            paths.append({"major_minor": t[i], "state": PATH_STATE[t[i + 1]], "fail_count": int(t[i + 2])})
            i += 3 + nsel
        groups.append({"state": PG_STATE[state], "paths": paths})
    return groups


def mpath(rep, name="mpatha"):
    for m in rep["multipath"]["maps"]:
        if m["name"] == name:
            return m
    raise KeyError(f"map {name} not in the multipath section: {rep['multipath']}")


def np_groups(m):
    return [{"state": pg["state"], "paths": [{"major_minor": p["major_minor"], "state": p["state"],
                                              "fail_count": p["fail_count"]} for p in pg["paths"]]}
            for pg in m["path_groups"]]


def check_map(tap, g, what):
    rep = g.inspect("--only multipath")
    m = mpath(rep)
    want = dm_status(g.out("dmsetup status mpatha"))
    tap.eq(np_groups(m), want, f"multipath {what}: path groups and path states equal `dmsetup status`")
    paths = [p for pg in want for p in pg["paths"]]
    tap.eq((m["paths_total"], m["paths_active"], m["paths_failed"]),
           (len(paths), sum(p["state"] == "active" for p in paths), sum(p["state"] == "failed" for p in paths)),
           f"multipath {what}: paths_total/active/failed count `dmsetup status`")
    return m


def setup(g):
    g.out("/nib/setup.sh multipath")
    g.out("dd if=/dev/mapper/mpatha of=/dev/null bs=4k count=16 iflag=direct")   # first group becomes active
    first = g.out("dmsetup table mpatha").split()[-4]                        # "... 1 8:0 1 8:16 1"
    dev = g.out(f"basename $(readlink -f /sys/dev/block/{first})").strip()
    return first, dev


def multipath_map(tap, g):
    g.first, g.first_dev = setup(g)
    m = check_map(tap, g, "healthy")
    tap.eq(m["dm"], "dm-0", "multipath: map mpatha is dm-0")
    tap.eq(m["uuid"], g.out("cat /sys/block/dm-0/dm/uuid").strip(), "multipath: uuid equals sysfs dm/uuid (mpath-<wwid>)")
    tap.eq(m["major_minor"], g.out("cat /sys/block/dm-0/dev").strip(), "multipath: major_minor equals sysfs")
    devs = sorted(p["dev"] for pg in m["path_groups"] for p in pg["paths"])
    tap.eq(devs, sorted(g.out("ls /sys/block/dm-0/slaves").split()), "multipath: path devices are dm-0's slaves")
    tap.eq([pg["selector"].split()[0] for pg in m["path_groups"]], ["round-robin"],
           "multipath: one path group, selector round-robin as in the table")


def path_fail_reinstate(tap, g, with_map=False):
    if not hasattr(g, "first"):
        g.first, g.first_dev = setup(g)
    mm, dev = g.first, g.first_dev
    hctl = g.out(f"basename $(readlink -f /sys/block/{dev}/device)").strip()
    g.out(f"echo offline > /sys/block/{dev}/device/state")
    g.sh("dd if=/dev/mapper/mpatha of=/dev/null bs=4k count=64 iflag=direct")
    if with_map:
        m = check_map(tap, g, f"after offlining {dev}")
        p = [p for pg in m["path_groups"] for p in pg["paths"] if p["major_minor"] == mm]
        tap.eq([(x["state"], x["fail_count"]) for x in p], [("failed", 1)], f"multipath: path {mm} failed once")
    rep = g.inspect("--only kmsg")
    ev = rep["kmsg"]["events"]
    hits = [e for e in ev if e["kind"] == "path_failed"]
    tap.ok(len(hits) == 1 and hits[0]["device"] == mm and f"Failing path {mm}" in hits[0]["message"],
           f"kmsg: `Failing path {mm}` is one path_failed event for path {mm} ({dev})", hits)
    dm = g.out("cat /sys/block/dm-0/dev").strip()
    tap.ok(len(hits) == 1 and hits[0].get("map") in (dm, None), f"kmsg: ... of map {dm} when the kernel names it", hits)
    off = [e for e in ev if e["kind"] == "scsi_offline" and e["device"] in (dev, hctl)]
    tap.ok(len(off) >= 1, f"kmsg: `rejecting I/O to offline device` on {hctl} is a scsi_offline event",
           "\n".join(f"{e['kind']} {e['device']}: {e['message']}" for e in ev))
    g.out(f"echo running > /sys/block/{dev}/device/state && dmsetup message mpatha 0 reinstate_path {mm}")
    tap.ok(" A " in g.out("dmsetup status mpatha").split(mm, 1)[1][:3], f"dmsetup: path {mm} active again (oracle)")
    if with_map:
        check_map(tap, g, "after reinstate_path")
    rep = g.inspect("--only kmsg")
    hits = [e for e in rep["kmsg"]["events"] if e["kind"] == "path_reinstated"]
    tap.ok(len(hits) == 1 and hits[0]["device"] == mm and f"Reinstating path {mm}" in hits[0]["message"],
           f"kmsg: `Reinstating path {mm}` is one path_reinstated event for path {mm}", hits)
    flaps = [(f["map"], f["flaps_in_window"], f["flaps_total"]) for f in rep["kmsg"]["path_flaps"]]
    tap.eq(flaps, [(dm, 1, 1)], f"kmsg: the fail + reinstate is one path flap of map {dm}")


def stall(tap, g):
    """scsi_debug answers after 8 s (delay in jiffies, HZ=250): one direct read stays in flight while
    nodeprint samples /proc/diskstats STALL_S + 1 s apart with a STALL_S stall threshold."""
    dev = g.out("ls /sys/block/dm-0/slaves").split()[-1]
    mm = g.out(f"cat /sys/block/{dev}/dev").strip()
    g.out(f"until echo 2000 > {SD}/delay 2>/dev/null; do sleep 0.2; done")
    g.out(f"dd if=/dev/{dev} of=/dev/null bs=4k count=1 skip=99 iflag=direct 2>/dev/null & echo $! > /tmp/dd.pid")
    rep = g.inspect(f"--only block --stall-seconds {STALL_S} --interval {STALL_S + 1}")
    stalls = rep["block"]["stalls"]
    st = [s for s in stalls if s["device"] == dev]
    tap.ok(len(stalls) == 1 and len(st) == 1, f"stall: exactly one stall, on {dev} (the delayed path device)", stalls)
    if st:
        s = st[0]
        tap.eq((s["major_minor"], s["reason"]), (mm, "no_completion"), f"stall: {dev} {mm}, reason no_completion")
        tap.ok(s["duration_ms"] >= STALL_S * 1000, f"stall: duration_ms >= {STALL_S * 1000}", s)
        tap.ok(s["in_flight"] >= 1, "stall: in_flight >= 1", s)
        tap.ok(s["ongoing"] is True and s["end_ms"] is None, "stall: ongoing at the second sample, no end yet", s)
    g.out("while kill -0 $(cat /tmp/dd.pid) 2>/dev/null; do sleep 0.5; done", timeout=60)
    g.out(f"until echo 0 > {SD}/delay 2>/dev/null; do sleep 0.2; done")
    rep = g.inspect(f"--only block --stall-seconds {STALL_S} --interval 1")
    tap.eq(rep["block"]["stalls"], [], "stall: none once the delayed read completed")


def scsi_timeout(tap, g):
    """Device timeout 1 s, response delay 5 s: the command times out, error handling aborts and retries,
    then offlines the disk and fails the I/O."""
    dev = g.out("ls /sys/block/dm-0/slaves").split()[0]
    g.out(f"until echo 1250 > {SD}/delay 2>/dev/null; do sleep 0.2; done; echo 1 > /sys/block/{dev}/device/timeout")
    g.sh(f"dd if=/dev/{dev} of=/dev/null bs=4k count=1 skip=7 iflag=direct", timeout=120)
    hctl = g.out(f"basename $(readlink -f /sys/block/{dev}/device)").strip()
    rep = g.inspect("--only kmsg")
    ev = rep["kmsg"]["events"]
    for kind in ("scsi_timeout", "scsi_offline", "io_error"):
        hits = [e for e in ev if e["kind"] == kind and e["device"] in (dev, hctl)]
        tap.ok(len(hits) >= 1, f"kmsg: SCSI timeout on {dev} gives a {kind} event",
               "\n".join(f"{e['kind']} {e['device']}: {e['message']}" for e in ev))


def path_fail_reinstate_map(tap, g):
    path_fail_reinstate(tap, g, with_map=True)


SCENARIOS = [multipath_map, path_fail_reinstate_map, stall, scsi_timeout]

if __name__ == "__main__":
    nib.run_group("storage", nib.Devices(), SCENARIOS)
