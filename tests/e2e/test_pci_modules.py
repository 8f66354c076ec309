#!/usr/bin/env python3
"""End-to-end: the pci and modules sections of `nodeprint inspect` on this real machine.

TAP output. Independent sources: `ls /sys/bus/pci/devices`, `lspci -n -mm` (pciutils), the sysfs
driver links read by this test, `lsmod` (kmod) and `/sys/module`.
"""
import json, os, shlex, subprocess, sys

import report_schema

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/: taplib
import taplib  # noqa: E402
from taplib import tap  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("NODEPRINT", os.path.join(ROOT, "build", "nodeprint"))
SECTIONS = os.environ.get("NP_E2E_SECTIONS", "pci,modules").split(",")
# where libudev (sd-hwdb) looks for the compiled hwdb
HWDB_PATHS = ["/etc/systemd/hwdb/hwdb.bin", "/etc/udev/hwdb.bin", "/usr/lib/systemd/hwdb/hwdb.bin",
              "/lib/systemd/hwdb/hwdb.bin", "/usr/lib/udev/hwdb.bin", "/lib/udev/hwdb.bin"]


def run(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def inspect():
    p = run(BIN, "inspect", "-o", "json", "--only", ",".join(SECTIONS))
    if p.returncode != 0:
        raise RuntimeError(f"nodeprint exit {p.returncode}: {p.stderr}")
    return report_schema.loads(p.stdout)


def check_modules(sec):
    tap("error" not in sec, "modules section has no error", sec.get("error"))
    mods = {m["name"]: m for m in sec["modules"]}
    sysmod = set(os.listdir("/sys/module"))
    p = run("lsmod")
    if p.returncode != 0:
        # kmod reads /proc/modules; a kernel without CONFIG_MODULES has none
        absent = not os.path.exists("/proc/modules")
        tap(absent and "/proc/modules" in p.stderr, "lsmod fails only because /proc/modules is absent", p.stderr)
        tap(sec["loadable"] is False, "loadable is false without /proc/modules")
        tap(all(m["builtin"] for m in mods.values()), "every module is built-in without /proc/modules")
        tap(set(mods) == sysmod, "module names equal ls /sys/module", sorted(set(mods) ^ sysmod))
    else:
        rows = [l.split() for l in p.stdout.splitlines()[1:] if l.strip()]
        loaded = {r[0]: r for r in rows}
        ours = {k for k, m in mods.items() if not m["builtin"]}
        tap(sec["loadable"] is True, "loadable is true with /proc/modules")
        tap(ours == set(loaded), "loaded module names equal lsmod", sorted(ours ^ set(loaded)))
        bad = [k for k in ours & set(loaded)
               if mods[k]["refcount"] is not None and str(mods[k]["refcount"]) != loaded[k][2]]
        tap(not bad, "refcounts equal lsmod's Used-by count", bad)
        bad = [k for k in ours & set(loaded) if str(mods[k]["size_bytes"]) != loaded[k][1]]
        tap(not bad, "sizes equal lsmod", bad)
        tap(set(mods) == sysmod | set(loaded), "loaded + built-in equal /sys/module + lsmod",
            sorted(set(mods) ^ (sysmod | set(loaded))))
    vers = {}
    for name in sysmod:
        try:
            with open(f"/sys/module/{name}/version") as f:
                vers[name] = f.read().strip()
        except OSError:
            pass
    got = {k: m["version"] for k, m in mods.items() if m["version"] is not None}
    tap(got == vers, "module versions equal /sys/module/*/version", sorted(set(got.items()) ^ set(vers.items())))
    return vers


def sysfs(dev, attr):
    try:
        with open(f"/sys/bus/pci/devices/{dev}/{attr}") as f:
            return f.read().strip()
    except OSError:
        return None


def check_pci(sec):
    tap("error" not in sec, "pci section has no error", sec.get("error"))
    devs = {d["address"]: d for d in sec["devices"]}
    ls = set(os.listdir("/sys/bus/pci/devices"))
    tap(set(devs) == ls and len(devs) == len(sec["devices"]), "PCI addresses equal ls /sys/bus/pci/devices",
        sorted(set(devs) ^ ls))
    tap(all("error" not in d for d in devs.values()), "no device has an error",
        [(a, d.get("error")) for a, d in devs.items() if "error" in d])
    p = run("lspci", "-n", "-mm", "-D")
    tap(p.returncode == 0, "lspci -n -mm -D runs (pciutils)", p.stderr)
    lspci = {}
    for line in p.stdout.splitlines():
        f = [x for x in shlex.split(line) if not (x.startswith("-") and len(x) > 1)]
        lspci[f[0]] = f  # slot class vendor device [svendor sdevice]
    tap(set(lspci) == set(devs), "lspci lists the same devices", sorted(set(lspci) ^ set(devs)))
    bad = []
    for a, f in lspci.items():
        d = devs.get(a)
        if not d:
            continue
        if d["vendor_id"] != "0x" + f[2] or d["device_id"] != "0x" + f[3] or d["class"][2:6] != f[1]:
            bad.append((a, d["vendor_id"], d["device_id"], d["class"], f[1:4]))
        if len(f) > 5 and f[4] and (d["subsystem_vendor_id"] != "0x" + f[4] or d["subsystem_device_id"] != "0x" + f[5]):
            bad.append((a, "subsystem", d["subsystem_vendor_id"], d["subsystem_device_id"], f[4:6]))
    tap(not bad, "vendor/device/class/subsystem ids equal lspci -n -mm", bad)
    bad = []
    for a, d in devs.items():
        link = f"/sys/bus/pci/devices/{a}/driver"
        want = os.path.basename(os.readlink(link)) if os.path.islink(link) else None
        if d["driver"] != want:
            bad.append((a, d["driver"], want))
    tap(not bad, "drivers equal the sysfs driver links", bad)
    bad = []
    for a, d in devs.items():
        n = sysfs(a, "numa_node")
        want = None if n is None or int(n) < 0 else int(n)
        if d["numa_node"] != want:
            bad.append((a, d["numa_node"], want))
    tap(not bad, "numa_node equals sysfs (-1 -> null)", bad)
    bad = []
    for a, d in devs.items():
        cur, mx = sysfs(a, "current_link_speed"), sysfs(a, "max_link_speed")
        link = d["link"]
        if cur is None and mx is None and sysfs(a, "current_link_width") is None:
            if link is not None:
                bad.append((a, "link without link files"))
        elif link is None or link["current_speed"] != cur or link["max_speed"] != mx:
            bad.append((a, link, cur, mx))
    tap(not bad, "link speeds equal sysfs (null without PCIe link files)", bad)
    bad = []
    for a, d in devs.items():
        for kind in ("correctable", "nonfatal", "fatal"):
            txt = sysfs(a, f"aer_dev_{kind}")
            got = d["aer"][kind] if d["aer"] else None
            if txt is None:
                if got is not None:
                    bad.append((a, kind, "counters without a file"))
                continue
            want = {}
            for line in txt.splitlines():
                name, _, val = line.rpartition(" ")
                if name.strip() and val.isdigit():
                    want.setdefault(name.strip(), int(val))
            if got != want:
                bad.append((a, kind, got, want))
    tap(not bad, "AER counters equal aer_dev_* files (absent -> null)", bad)
    # names: from the udev hwdb when this machine has one (then they agree with lspci's pci.ids),
    # null otherwise - never invented
    hwdb = any(os.path.exists(p) for p in HWDB_PATHS)
    tap(sec["hwdb"] == hwdb, "hwdb flag equals the presence of a hwdb.bin", f"{sec['hwdb']} vs {hwdb}")
    p = run("lspci", "-mm", "-D")
    names = {}
    for line in p.stdout.splitlines():
        f = [x for x in shlex.split(line) if not (x.startswith("-") and len(x) > 1)]
        names[f[0]] = f
    bad = []
    for a, d in devs.items():
        if not hwdb:
            if d["vendor_name"] is not None or d["device_name"] is not None or d["class_name"] is not None:
                bad.append((a, "name without hwdb"))
            continue
        f = names.get(a, [a, "", "", ""])
        if d["vendor_name"] is not None and d["vendor_name"] != f[2]:
            bad.append((a, d["vendor_name"], f[2]))
        if d["device_name"] is not None and d["device_name"] != f[3]:
            bad.append((a, d["device_name"], f[3]))
        if d["vendor_name"] is None:
            bad.append((a, "no vendor name with a hwdb"))
    tap(not bad, "hwdb names equal lspci -mm (null without a hwdb)", bad)
    p = run(BIN, "inspect", "--only", "pci")
    tap(p.returncode == 0 and "== PCIe link/AER ==" in p.stdout and all(a in p.stdout for a in devs),
        "text report has the PCIe link/AER table with every address", p.stderr)


def main():
    rep = inspect()
    if "pci" in SECTIONS:
        check_pci(rep["pci"])
    if "modules" in SECTIONS:
        vers = check_modules(rep["modules"])
        items = {(c["key"], c["value"]) for c in rep["fingerprint"]["components"] if c["component"] == "module"}
        tap(set(vers.items()) <= items, "every module version is a bundle item", sorted(set(vers.items()) - items))


if __name__ == "__main__":
    taplib.run(main, "test_pci_modules")
