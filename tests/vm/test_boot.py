#!/usr/bin/env python3
"""test_boot.py - node-in-a-box, boot group: the kernel section equals what the guest's own tools say,
and a capture of the guest is a fixture tree that nodeprint reads back the same.

One guest (e1000e, virtio-net with AER, NVMe behind PCIe root ports), Debian's kernel under TCG.
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nib  # noqa: E402


def kernel_section(tap, g):
    rep = g.inspect("--only kernel")
    k = rep["kernel"]
    tap.eq(k.get("error"), None, "kernel: section has no error")
    tap.eq(k["release"], g.out("uname -r").strip(), "kernel: release equals `uname -r` in the guest")
    tap.eq(k["os"]["id"], "debian", "kernel: os id from the guest's os-release (Debian 12 userland)")
    tap.eq(k["release"], g.cache["kver"], "kernel: release is the booted Debian kernel's ABI")
    tap.eq(k["version"], g.out("uname -v").strip(), "kernel: version equals `uname -v`")
    tap.eq(k["machine"], g.out("uname -m").strip(), "kernel: machine equals `uname -m`")
    tap.eq(k["tainted"], int(g.out("cat /proc/sys/kernel/tainted")), "kernel: tainted equals /proc/sys/kernel/tainted")
    tap.eq(k["boot_id"], g.out("cat /proc/sys/kernel/random/boot_id").strip(), "kernel: boot_id equals the guest's")
    tap.eq(k["cpu"]["count"], int(g.out("grep -c ^processor /proc/cpuinfo")), "kernel: cpu count equals the guest's (-smp 2)")
    tap.eq(k["cpu"]["count"], g.smp, "kernel: cpu count is the -smp QEMU was given")


def every_section(tap, g):
    rep = g.inspect()
    names = g.out("nodeprint collectors").split()
    tap.ok(len(names) > 0 and all(n in rep for n in names), "inspect: the JSON has every section of `nodeprint collectors`",
           f"collectors {names}, report keys {sorted(rep)}")
    rc, out, err = g.sh("nodeprint inspect --color never")
    tap.ok(rc == 0 and g.cache["kver"] in out, "inspect: text output exits 0 and shows the kernel release",
           f"rc={rc} stderr={err[-300:]}")


def modules_section(tap, g):
    """Loaded modules equal the guest's /proc/modules (after loading nvme), built-ins its /sys/module rest."""
    g.out("/nib/setup.sh nvme")
    rep = g.inspect("--only modules")
    tap.eq(rep["modules"].get("error"), None, "modules: section has no error")
    mods = {m["name"]: m for m in rep["modules"]["modules"] if not m["builtin"]}
    proc = {}
    for ln in g.out("cat /proc/modules").splitlines():
        name, size, ref, used, state = ln.split()[:5]
        proc[name] = {"size_bytes": int(size), "refcount": None if ref == "-" else int(ref),
                      "used_by": [] if used == "-" else used.rstrip(",").split(","), "state": state}
    tap.eq(sorted(mods), sorted(proc), "modules: loaded modules equal /proc/modules")
    diff = {n: (mods[n], w) for n, w in proc.items() if n in mods and
            any(mods[n][k] != v for k, v in w.items())}
    tap.ok(not diff, "modules: size_bytes, refcount, used_by, state equal /proc/modules for each", diff)
    tap.ok("nvme" in mods.get("nvme_core", {}).get("used_by", []), "modules: nvme_core is used by nvme (loaded in the guest)")
    taint = dict(ln.split(" ", 1) if " " in ln else (ln, "") for ln in g.out(
        "for m in /sys/module/*; do [ -e $m/taint ] && echo \"${m##*/} $(cat $m/taint)\"; done; true").splitlines())
    tap.eq({n: m["taint"] for n, m in mods.items()}, {n: taint.get(n) for n in mods},
           "modules: taint letters equal /sys/module/*/taint")
    builtin = sorted(m["name"] for m in rep["modules"]["modules"] if m["builtin"])
    sysmod = sorted(set(g.out("ls /sys/module").split()) - set(proc))
    tap.eq(builtin, sysmod, "modules: built-ins are the /sys/module entries not in /proc/modules")


def capture_roundtrip(tap, g):
    """A capture of the guest (the fixture format of the unit tests) read back by nodeprint on the host."""
    with tempfile.TemporaryDirectory(prefix="nib-cap-") as d:
        dest = os.path.join(d, "guest")
        nib.guest_capture(g, dest)
        tap.ok(os.path.isfile(os.path.join(dest, "proc/sys/kernel/osrelease")) and
               os.path.islink(os.path.join(dest, "sys/bus/pci/devices/0000:00:00.0")),
               "capture: the tree holds /proc files and /sys symlinks as the guest has them")
        with open(os.path.join(dest, "dev/kmsg"), "rb") as f:
            first = f.readline()
        tap.ok(first.split(b";")[0].count(b",") >= 3, "capture: dev/kmsg holds /dev/kmsg records (pri,seq,ts,flags;msg)",
               repr(first[:120]))
        p = subprocess.run([str(nib.NODEPRINT), "inspect", "-o", "json", "--only", "kernel", "--host-root", dest],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        k = json.loads(p.stdout)["kernel"] if p.returncode == 0 else {}
        tap.eq(k.get("release"), g.cache["kver"], "capture: nodeprint --host-root on the capture reports the guest's release")
        tap.eq(k.get("boot_id"), g.out("cat /proc/sys/kernel/random/boot_id").strip(),
               "capture: ... and the guest's boot_id")


if __name__ == "__main__":
    nib.run_group("boot", nib.full_devices(), [kernel_section, every_section, modules_section, capture_roundtrip])
