#!/usr/bin/env python3
"""capture.py - record a subset of a live host's /sys, /proc and /etc as a fixture tree.

    tests/capture.py --out tests/fixtures/NAME [--root /] [--depth N] PATH_OR_GLOB ...
    tests/capture.py --out tests/fixtures/NAME --preset inspect

Every path is resolved component by component inside the root: a symlink met on
the way is recreated as it is (its target text unchanged) and resolution goes on
at its target, which is captured too. A directory is copied to --depth levels;
symlinks inside it are recreated but not followed. Files are read like a
collector reads them (pseudo-files have no size: read to EOF, at most 256 KiB);
unreadable files (EACCES, EIO, write-only attributes) are skipped and listed in
CAPTURE-SKIPPED. Nothing is invented: every byte comes from the host.
"""
import argparse, glob, os, sys

SKIP_DIRS = {"power", "subsystem", "firmware_node", "msi_irqs", "holders_follow", "trace", "uevent_dir"}
MAX_FILE = 256 * 1024
PRESETS = {
    # what `nodeprint inspect` reads; collectors extend this list when they read more
    "inspect": [
        "/proc/sys/kernel/osrelease", "/proc/sys/kernel/version", "/proc/sys/kernel/tainted",
        "/proc/sys/kernel/random/boot_id", "/proc/sys/kernel/arch", "/etc/os-release", "/usr/lib/os-release",
        "/sys/class/dmi/id", "/proc/cpuinfo", "/proc/modules", "/sys/module/*/version",
        "/sys/module/*/srcversion", "/sys/module/*/taint", "/sys/module/*/initstate",
        "/sys/bus/pci/devices/*", "/sys/bus/pci/devices/*/msi_irqs", "/sys/class/net/*",
        "/proc/interrupts", "/proc/stat",
        "/sys/class/block/*", "/sys/class/block/*/device", "/sys/block/*", "/proc/diskstats", "/proc/self/mountinfo",
        "/proc/1/mountinfo", "/sys/class/nvme/*", "/sys/class/nvme-subsystem/*", "/run/udev/data",
        # timeouts: module parameters (built-in modules have them too), transport loss timers
        "/sys/module/nvme_core/parameters", "/sys/module/dm_multipath/parameters",
        "/sys/class/fc_remote_ports/*", "/sys/class/iscsi_session/*",
        # numa: nodes' CPUs, IRQ effective affinity, process names (irqbalance)
        "/sys/devices/system/node/node*/cpulist", "/proc/irq/*/effective_affinity_list", "/proc/[0-9]*/comm",
        # tcp and virt: TCP counters of the host's namespace, virtio devices
        "/proc/1/net/snmp", "/proc/1/net/netstat", "/sys/bus/virtio/devices/*",
        # rdma: devices, their ports' counters and a RoCE port's netdev
        "/sys/class/infiniband/*", "/sys/class/infiniband/*/ports/*/counters",
        "/sys/class/infiniband/*/ports/*/hw_counters", "/sys/class/infiniband/*/ports/*/gid_attrs/ndevs",
    ],
    # the net collector alone: interfaces, their devices' MSI vectors, IRQ and CPU counters
    "net": [
        "/sys/class/net/*", "/sys/class/net/*/device", "/sys/bus/pci/devices/*",
        "/sys/bus/pci/devices/*/msi_irqs", "/proc/interrupts", "/proc/stat",
        "/proc/sys/kernel/osrelease", "/proc/sys/kernel/random/boot_id",
    ],
}


class Capture:
    def __init__(self, root, out, depth):
        self.root, self.out, self.depth = os.path.realpath(root), out, depth
        self.done, self.skipped = set(), []

    def host(self, p):  # host path -> real path on this machine
        return os.path.join(self.root, p.lstrip("/"))

    def put(self, p):   # host path -> path in the fixture
        return os.path.join(self.out, p.lstrip("/"))

    def resolve(self, path, hops=0):
        """Walk @path inside the root, recreating symlinks met; return the resolved host path."""
        if hops > 40:
            raise OSError("too many symlinks")
        cur = "/"
        parts = [c for c in path.split("/") if c]
        for i, comp in enumerate(parts):
            if comp == "..":
                cur = os.path.dirname(cur.rstrip("/")) or "/"
                continue
            nxt = os.path.join(cur, comp)
            real = self.host(nxt)
            if os.path.islink(real):
                target = os.readlink(real)
                self.link(nxt, target)
                base = "/" if target.startswith("/") else cur
                cur = self.resolve(os.path.normpath(os.path.join(base, target)), hops + 1)
            else:
                cur = nxt
        return cur

    def link(self, hpath, target):
        dst = self.put(hpath)
        if os.path.lexists(dst):
            return
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        os.symlink(target, dst)

    def copy_file(self, hpath):
        dst = self.put(hpath)
        if os.path.lexists(dst):
            return
        try:
            with open(self.host(hpath), "rb") as f:
                data = f.read(MAX_FILE)
        except OSError as e:
            self.skipped.append(f"{hpath}: {e.strerror}")
            return
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with open(dst, "wb") as f:
            f.write(data)

    def copy_tree(self, hpath, depth):
        if hpath in self.done:
            return
        self.done.add(hpath)
        os.makedirs(self.put(hpath), exist_ok=True)
        try:
            names = sorted(os.listdir(self.host(hpath)))
        except OSError as e:
            self.skipped.append(f"{hpath}/: {e.strerror}")
            return
        for n in names:
            hp = os.path.join(hpath, n)
            real = self.host(hp)
            if os.path.islink(real):
                self.link(hp, os.readlink(real))
            elif os.path.isdir(real):
                if depth > 0 and n not in SKIP_DIRS:
                    self.copy_tree(hp, depth - 1)
            elif os.path.isfile(real):
                self.copy_file(hp)

    def capture(self, path):
        try:
            hp = self.resolve(path)
        except OSError as e:
            self.skipped.append(f"{path}: {e}")
            return
        real = self.host(hp)
        if os.path.isdir(real):
            self.copy_tree(hp, self.depth)
        elif os.path.exists(real):
            self.copy_file(hp)
        else:  # recorded, so a fixture without the file says it was absent, not forgotten
            self.skipped.append(f"{hp}: absent on host")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default="/")
    ap.add_argument("--out", required=True)
    ap.add_argument("--depth", type=int, default=2)
    ap.add_argument("--preset", choices=sorted(PRESETS))
    ap.add_argument("paths", nargs="*")
    a = ap.parse_args()
    paths = list(a.paths) + (PRESETS[a.preset] if a.preset else [])
    if not paths:
        ap.error("nothing to capture: give paths or --preset")
    c = Capture(a.root, a.out, a.depth)
    for p in paths:
        hits = glob.glob(c.host(p)) if any(ch in p for ch in "*?[") else [c.host(p)]
        for h in sorted(hits):
            c.capture("/" + os.path.relpath(h, c.root))
    with open(os.path.join(a.out, "CAPTURE-SKIPPED"), "w") as f:
        f.write("".join(s + "\n" for s in c.skipped))
    print(f"captured into {a.out}; {len(c.skipped)} paths skipped (see CAPTURE-SKIPPED)")


if __name__ == "__main__":
    sys.exit(main())
