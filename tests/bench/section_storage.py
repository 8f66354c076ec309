#!/usr/bin/env python3
"""Benchmark figures for the nvme and multipath collectors: time per NVMe controller and per
multipath map, from the `collect_us` each controller / map carries in the JSON report.

Runs `nodeprint inspect -o json --only nvme,multipath` on this machine and on the QEMU captures
(sysfs only there: no device node, no device-mapper ioctl), and prints the figures recorded by
nodeprint inside the QEMU/TCG guest (admin commands and libdevmapper included). Figures, not a test.
    tests/bench/section_storage.py [build/nodeprint] [runs]
"""
import glob, json, os, statistics, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "nodeprint")
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 20


def items(rep):
    ctrl = [(c["name"], c["collect_us"]) for c in rep["nvme"]["controllers"]]
    maps = [(m["name"], m["collect_us"]) for m in rep["multipath"]["maps"]]
    return ctrl, maps


def fmt(label, us):
    if not us:
        return f"  {label:34s} none"
    us = sorted(us)
    p90 = us[min(len(us) - 1, int(len(us) * 0.9))]
    return f"  {label:34s} median {statistics.median(us) / 1000:8.3f} ms   p90 {p90 / 1000:8.3f} ms   ({len(us)} samples)"


def bench_root(label, root):
    argv = [BIN, "inspect", "-o", "json", "--only", "nvme,multipath"] + (["--host-root", root] if root else [])
    ctrl, maps = [], []
    for _ in range(RUNS):
        out = subprocess.run(argv, capture_output=True, text=True)
        if out.returncode != 0:
            print(f"  {label}: nodeprint failed: {out.stderr.strip()[:200]}")
            return
        c, m = items(json.loads(out.stdout))
        ctrl += [us for _, us in c]
        maps += [us for _, us in m]
    print(fmt(f"{label}: per NVMe controller", ctrl))
    print(fmt(f"{label}: per multipath map", maps))


def main():
    print("nvme / multipath collectors (collect_us per controller / map):")
    bench_root("this machine", None)
    bench_root("qemu-nvme sysfs", os.path.join(ROOT, "tests/fixtures/qemu-nvme/root"))
    bench_root("qemu-mpath sysfs", os.path.join(ROOT, "tests/fixtures/qemu-mpath/boot1/root"))
    rec_c, rec_m = [], []
    recorded = glob.glob(os.path.join(ROOT, "tests/fixtures/qemu-nvme/raw/nodeprint*.json"))
    recorded += glob.glob(os.path.join(ROOT, "tests/fixtures/qemu-mpath/boot2/raw/nodeprint*.json"))
    for f in sorted(recorded):
        with open(f) as fh:
            c, m = items(json.load(fh))
        rec_c += [us for _, us in c]
        rec_m += [us for _, us in m]
    print(fmt("recorded in the QEMU/TCG guest: ctrl", rec_c))
    print(fmt("recorded in the QEMU/TCG guest: map", rec_m))


if __name__ == "__main__":
    main()
