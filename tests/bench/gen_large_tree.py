#!/usr/bin/env python3
"""gen_large_tree.py - a large host root for `make bench`, grown from this machine's real capture.

    tests/bench/gen_large_tree.py OUT [--disks 1024] [--nics 64] [--queues 64] [--cpus 256]

Starts from tests/capture.py's `inspect` preset of this machine (real file shapes), then replicates
its first virtio disk into --disks disks and its first NIC into --nics interfaces with --queues RX
and TX queues each, and rewrites /proc/interrupts (one line per queue and NIC, --cpus columns),
/proc/stat (--cpus cpu lines) and /proc/diskstats (a line per disk) to match.
"""
import argparse, os, random, re, shutil, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
CAPTURE = os.path.join(HERE, "..", "capture.py")


def disk_name(i):
    s, i = "", i
    while True:
        s = chr(ord("a") + i % 26) + s
        i = i // 26 - 1
        if i < 0:
            return "vd" + s


def first_link(out, cls, pattern):
    d = os.path.join(out, "sys/class", cls)
    for n in sorted(os.listdir(d)):
        if re.match(pattern, n):
            return n, os.readlink(os.path.join(d, n))
    sys.exit(f"gen_large_tree: no {cls} matching {pattern} in the capture")


def grow_disks(out, count, rnd):
    name, target = first_link(out, "block", r"(vd|sd|nvme)")
    src = os.path.normpath(os.path.join(out, "sys/class/block", target))
    parent = os.path.dirname(src)
    lines = []
    for i in range(count):
        dn = disk_name(i)
        dst = os.path.join(parent, dn)
        if not os.path.exists(dst):
            shutil.copytree(src, dst, symlinks=True)
        major, minor = 252, i * 16
        with open(os.path.join(dst, "dev"), "w") as f:
            f.write(f"{major}:{minor}\n")
        rel = os.path.relpath(dst, os.path.join(out, "sys/class/block"))
        for cls in ("sys/class/block", "sys/block"):
            os.makedirs(os.path.join(out, cls), exist_ok=True)
            link = os.path.join(out, cls, dn)
            if not os.path.lexists(link):
                os.symlink(os.path.relpath(dst, os.path.join(out, cls)), link)
        r, w = rnd.randrange(10**6), rnd.randrange(10**6)
        lines.append(f" {major:4d} {minor:7d} {dn} {r} 0 {r*8} {r//10} {w} 0 {w*8} {w//10} 0 {(r+w)//20} {(r+w)//10} 0 0 0 0 0 0\n")
    with open(os.path.join(out, "proc/diskstats"), "a") as f:
        f.writelines(lines)


def grow_nics(out, count, queues, cpus, rnd):
    name, target = first_link(out, "net", r"(eth|en)")
    src = os.path.normpath(os.path.join(out, "sys/class/net", target))
    parent = os.path.dirname(src)
    irq_lines = []
    irq = 100
    for i in range(count):
        nn = f"eth{i}"
        dst = os.path.join(parent, nn)
        if not os.path.exists(dst):
            shutil.copytree(src, dst, symlinks=True)
        qd = os.path.join(dst, "queues")
        if os.path.isdir(qd):
            base = {k: os.path.join(qd, f"{k}-0") for k in ("rx", "tx")}
            for k, b in base.items():
                for q in range(1, queues):
                    d = os.path.join(qd, f"{k}-{q}")
                    if os.path.isdir(b) and not os.path.exists(d):
                        shutil.copytree(b, d, symlinks=True)
        link = os.path.join(out, "sys/class/net", nn)
        if not os.path.lexists(link):
            os.symlink(os.path.relpath(dst, os.path.join(out, "sys/class/net")), link)
        for q in range(queues):
            counts = " ".join(f"{rnd.randrange(10**7):10d}" for _ in range(cpus))
            irq_lines.append(f"{irq:4d}: {counts}  PCI-MSIX-0000:00:03.0 {q}-edge      {nn}-TxRx-{q}\n")
            irq += 1
    hdr = " " * 6 + "".join(f"CPU{c:<8d}" for c in range(cpus)) + "\n"
    with open(os.path.join(out, "proc/interrupts"), "w") as f:
        f.write(hdr)
        f.writelines(irq_lines)
        f.write(f" NMI: {' '.join(f'{0:10d}' for _ in range(cpus))}   Non-maskable interrupts\n")
        f.write(" ERR:          0\n MIS:          0\n")


def grow_stat(out, cpus, rnd):
    path = os.path.join(out, "proc/stat")
    with open(path) as f:
        rest = [l for l in f if not l.startswith("cpu")]
    lines = ["cpu  " + " ".join(str(rnd.randrange(10**8)) for _ in range(10)) + "\n"]
    for c in range(cpus):
        lines.append(f"cpu{c} " + " ".join(str(rnd.randrange(10**6)) for _ in range(10)) + "\n")
    with open(path, "w") as f:
        f.writelines(lines + rest)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--disks", type=int, default=1024)
    ap.add_argument("--nics", type=int, default=64)
    ap.add_argument("--queues", type=int, default=64)
    ap.add_argument("--cpus", type=int, default=256)
    a = ap.parse_args()
    if os.path.exists(a.out):
        shutil.rmtree(a.out)
    subprocess.run([sys.executable, CAPTURE, "--out", a.out, "--preset", "inspect"], check=True,
                   stdout=subprocess.DEVNULL)
    rnd = random.Random(1)  # the same tree every time
    grow_disks(a.out, a.disks, rnd)
    grow_nics(a.out, a.nics, a.queues, a.cpus, rnd)
    grow_stat(a.out, a.cpus, rnd)
    print(f"{a.out}: {a.disks} disks, {a.nics} NICs x {a.queues} queues, {a.cpus} CPUs")


if __name__ == "__main__":
    main()
