#!/usr/bin/env python3
"""bench.py - `make bench`: how fast and how small `nodeprint inspect -o json` is.

Reports medians over repeated runs (wall time, peak RSS from wait4's rusage) for:
  1. this machine (target: < 20 ms, < 8 MiB RSS);
  2. a generated large tree: 1024 disks, 64 NICs x 64 queues, 256 CPUs (target: < 100 ms);
  3. the on-call playbook: the same facts gathered by running the commands people run today
     (ethtool -i/-k, ip -s link, lsblk, lsmod, lspci -vv, cat scheduler/nr_requests, /proc/interrupts,
     findmnt, ...) on this machine, and the ratio to nodeprint (target: >= 10x).
Not a test: it prints figures and never fails on speed; it fails only if a command cannot run.
"""
import glob, json, os, shutil, statistics, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "nodeprint")
RUNS = int(os.environ.get("BENCH_RUNS", "21"))


RUSAGE = os.path.join(ROOT, "build", "rusage")


def run_once(argv):
    """(wall seconds, peak RSS KiB, exit code) of one run, measured by the small C parent rusage.c."""
    out = subprocess.run([RUSAGE, *argv], capture_output=True, text=True, check=True).stdout.split()
    return int(out[0]) / 1e6, int(out[1]), int(out[2])


def measure(argv, runs=RUNS):
    run_once(argv)  # warm the page cache
    walls, rss = [], []
    for _ in range(runs):
        dt, maxrss, rc = run_once(argv)
        if rc != 0:
            sys.exit(f"bench: {' '.join(argv)} exited {rc}")
        walls.append(dt)
        rss.append(maxrss)
    return statistics.median(walls) * 1000, max(rss) / 1024


def playbook_commands():
    nics = [os.path.basename(p) for p in glob.glob("/sys/class/net/*") if os.path.exists(p + "/device")]
    disks = [os.path.basename(p) for p in glob.glob("/sys/block/*")]
    cmds = [["uname", "-a"], ["lsmod"], ["lspci", "-vv"], ["lsblk", "-O"], ["ip", "-s", "link"],
            ["cat", "/proc/interrupts"], ["cat", "/proc/diskstats"], ["findmnt"], ["cat", "/proc/cpuinfo"],
            ["cat", "/etc/os-release"], ["cat", "/proc/sys/kernel/tainted"]]
    for n in nics:
        cmds += [["ethtool", "-i", n], ["ethtool", "-k", n], ["ethtool", n]]
    for d in disks:
        cmds += [["cat", f"/sys/block/{d}/queue/scheduler"], ["cat", f"/sys/block/{d}/queue/nr_requests"]]
    if shutil.which("iostat"):
        cmds.append(["iostat", "-x"])
    if shutil.which("mpstat"):
        cmds.append(["mpstat", "-P", "ALL"])
    missing = sorted({c[0] for c in cmds if not shutil.which(c[0])})
    return [c for c in cmds if shutil.which(c[0])], missing


def measure_playbook(runs):
    cmds, missing = playbook_commands()
    walls = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for c in cmds:
            subprocess.run(c, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        walls.append(time.perf_counter() - t0)
    return statistics.median(walls) * 1000, len(cmds), missing


def main():
    subprocess.run(["cc", "-O2", "-o", RUSAGE, os.path.join(ROOT, "tests/bench/rusage.c")], check=True)
    base = measure(["/bin/true"])[1]
    out = {"baseline_rss_mib_bin_true": round(base, 2)}
    wall, rss = measure([BIN, "inspect", "-o", "json"])
    out["this_machine"] = {"median_ms": round(wall, 2), "peak_rss_mib": round(rss, 2)}
    print(f"inspect -o json, this machine:  median {wall:7.2f} ms   peak RSS {rss:6.2f} MiB   (target < 20 ms, < 8 MiB; /bin/true: {base:.2f} MiB)")

    tree = os.path.join(ROOT, "build", "bench-tree")
    if not os.path.exists(os.path.join(tree, "proc", "diskstats")):
        subprocess.run([sys.executable, os.path.join(ROOT, "tests/bench/gen_large_tree.py"), tree], check=True)
    wall_l, rss_l = measure([BIN, "inspect", "-o", "json", "--host-root", tree], runs=max(5, RUNS // 3))
    out["large_tree"] = {"median_ms": round(wall_l, 2), "peak_rss_mib": round(rss_l, 2)}
    print(f"inspect -o json, large tree:    median {wall_l:7.2f} ms   peak RSS {rss_l:6.2f} MiB   (target < 100 ms; 1024 disks, 64 NICs x 64 queues, 256 CPUs)")

    pb, ncmd, missing = measure_playbook(max(3, RUNS // 4))
    ratio = pb / wall if wall else float("inf")
    out["playbook"] = {"median_ms": round(pb, 2), "commands": ncmd, "ratio": round(ratio, 1), "missing": missing}
    print(f"playbook, {ncmd} commands:        median {pb:7.2f} ms   -> nodeprint is {ratio:.1f}x faster (target >= 10x)")
    if missing:
        print(f"  (not installed, left out of the playbook: {', '.join(missing)})")

    extra = os.path.join(ROOT, "tests", "bench", "bench_sections.sh")
    if os.access(extra, os.X_OK):
        subprocess.run([extra, BIN])
    with open(os.path.join(ROOT, "build", "bench.json"), "w") as f:
        json.dump(out, f, indent=2)
    print("figures saved in build/bench.json")


if __name__ == "__main__":
    main()
