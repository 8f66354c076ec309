#!/usr/bin/env python3
"""End-to-end: the pci and modules sections of `nodeprint inspect` on this real machine.

TAP output. Independent sources: `ls /sys/bus/pci/devices`, `lspci -n -mm` (pciutils), the sysfs
driver links read by this test, `lsmod` (kmod) and `/sys/module`.
"""
import json, os, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("NODEPRINT", os.path.join(ROOT, "build", "nodeprint"))
SECTIONS = os.environ.get("NP_E2E_SECTIONS", "modules").split(",")
n = 0
failed = 0


def tap(ok, name, detail=""):
    global n, failed
    n += 1
    if not ok:
        failed += 1
    print(f"{'ok' if ok else 'not ok'} {n} - {name}")
    if not ok and detail:
        for line in str(detail).splitlines()[:20]:
            print(f"# {line}")


def run(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def inspect():
    p = run(BIN, "inspect", "-o", "json", "--only", ",".join(SECTIONS))
    if p.returncode != 0:
        raise RuntimeError(f"nodeprint exit {p.returncode}: {p.stderr}")
    return json.loads(p.stdout)


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


def main():
    rep = inspect()
    if "modules" in SECTIONS:
        vers = check_modules(rep["modules"])
        items = {(c["key"], c["value"]) for c in rep["fingerprint"]["components"] if c["component"] == "module"}
        tap(set(vers.items()) <= items, "every module version is a bundle item", sorted(set(vers.items()) - items))
    print(f"1..{n}")
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # a crash is a failure with its reason, never a silent pass
        tap(False, "test_pci_modules crashed", repr(e))
        print(f"1..{n}")
        sys.exit(1)
