#!/usr/bin/env python3
"""End-to-end: the nvme and multipath sections of `nodeprint inspect` on this real machine.

TAP output. Independent sources read by this test: /sys/class/nvme, /sys/block/dm-*/dm, /proc/net/unix
(is multipathd's abstract socket bound?) and, when installed and the device is readable, nvme-cli's
`nvme smart-log -o json` and `dmsetup status`. On a machine without NVMe or multipath the sections must
be empty (not errors), which is what this development machine checks.
"""
import glob, json, os, subprocess, sys

import report_schema

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/: taplib
import taplib  # noqa: E402
from taplib import tap  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("NODEPRINT", os.path.join(ROOT, "build", "nodeprint"))


def sysfs(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("ascii", "replace").strip(" \n\0") or None
    except OSError:
        return None


def main():
    out = subprocess.run([BIN, "inspect", "-o", "json", "--only", "nvme,multipath"], capture_output=True, text=True)
    tap(out.returncode == 0, "nodeprint inspect --only nvme,multipath exits 0", out.stderr)
    rep = report_schema.loads(out.stdout)
    nv, mp = rep["nvme"], rep["multipath"]
    tap("error" not in nv and "error" not in mp, "nvme and multipath sections carry no section error", (nv.get("error"), mp.get("error")))

    ctrls = sorted(os.path.basename(p) for p in glob.glob("/sys/class/nvme/nvme[0-9]*"))
    tap(sorted(c["name"] for c in nv["controllers"]) == ctrls, f"nvme: controllers equal /sys/class/nvme ({ctrls})",
        [c["name"] for c in nv["controllers"]])
    for c in nv["controllers"]:
        for key in ("model", "serial", "firmware_rev", "state", "transport"):
            want = sysfs(f"/sys/class/nvme/{c['name']}/{key}")
            tap(c[key] == want, f"nvme {c['name']}: {key} equals sysfs ({want!r})", c[key])
        s = c.get("smart")
        if s is None:
            tap("error" in c, f"nvme {c['name']}: without SMART the controller says why", c)
            continue
        try:
            cli = json.loads(subprocess.run(["nvme", "smart-log", f"/dev/{c['name']}", "-o", "json"],
                                            capture_output=True, text=True, timeout=10).stdout)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            cli = None
        if cli:
            tap(s["critical_warning"] == cli["critical_warning"], f"nvme {c['name']}: critical_warning equals nvme-cli")
            tap(s["temperature_kelvin"] == cli["temperature"], f"nvme {c['name']}: temperature equals nvme-cli (Kelvin)")
            tap(int(s["power_cycles"]) == int(cli["power_cycles"]), f"nvme {c['name']}: power_cycles equals nvme-cli")

    dms = []
    for d in sorted(glob.glob("/sys/block/dm-*")):
        uuid = sysfs(f"{d}/dm/uuid") or ""
        if uuid.startswith("mpath-"):
            dms.append(os.path.basename(d))
    tap(sorted(m["dm"] for m in mp["maps"]) == dms, f"multipath: maps equal the dm devices with an mpath- uuid ({dms})",
        [m["dm"] for m in mp["maps"]])
    for m in mp["maps"]:
        tap(m["uuid"] == sysfs(f"/sys/block/{m['dm']}/dm/uuid"), f"multipath {m['name']}: uuid equals sysfs")

    with open("/proc/net/unix") as f:
        bound = any(line.rstrip().endswith("@/org/kernel/linux/storage/multipathd") for line in f)
    tap(mp["multipathd"]["available"] == bound,
        f"multipathd: available={mp['multipathd']['available']} agrees with its socket being bound ({bound})",
        mp["multipathd"])
    if not mp["multipathd"]["available"]:
        tap(bool(mp["multipathd"]["error"]), "multipathd: the reason it was not asked is given", mp["multipathd"])


if __name__ == "__main__":
    taplib.run(main, "test_storage_health")
