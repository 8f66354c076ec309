#!/usr/bin/env python3
"""bench.py - `make bench`: how fast and how small nodeprint is, each figure against an anchor
measured in the same run on the same machine (docs/performance.md):

  startup      `nodeprint version`                 vs /bin/true            (what exec + libraries cost)
  this machine `nodeprint inspect -o json`         vs the on-call playbook (goal: >= 10x faster)
                                                   vs a warm node_exporter /metrics scrape, when
                                                      prometheus-node-exporter is installed (>= 3x)
  large tree   inspect of a generated host root    vs the floor: a C loop opening and reading the
               (1,024 disks, 64 NICs x 64 queues,     same paths (tests/bench/floor.c; < 100 ms)
               256 CPUs: gen_large_tree.py)

Every figure is the median over repeated runs with its min-max; wall time, CPU time (user + system,
from wait4's rusage: what the machine's load does not inflate) and peak RSS. The load average is
printed and saved: on shared cores wall time follows the neighbours. Not a test: it never fails on
speed; it fails only if a command cannot run. BENCH_RUNS sets the repetitions (default 21).
"""
import glob, http.client, json, os, platform, re, shutil, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from ports import free_port  # noqa: E402 - the tests' one port picker
BIN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "nodeprint")
RUNS = int(os.environ.get("BENCH_RUNS", "21"))
BUILD = os.path.join(ROOT, "build")
RUSAGE = os.path.join(BUILD, "rusage")
FLOOR = os.path.join(BUILD, "bench-floor")
OK_EXIT = (0, 3, 4)  # inspect: clean, blind, findings (docs/reference.md exit codes)


class Fig:
    """Samples of one figure (milliseconds) and peak RSS (MiB)."""

    def __init__(self, wall, cpu=None, rss=None):
        self.wall, self.cpu, self.rss = wall, cpu or [], rss or []

    @staticmethod
    def _stat(v):
        return {"median": round(statistics.median(v), 3), "min": round(min(v), 3), "max": round(max(v), 3), "n": len(v)}

    def json(self):
        out = {"wall_ms": self._stat(self.wall)}
        if self.cpu:
            out["cpu_ms"] = self._stat(self.cpu)
        if self.rss:
            out["peak_rss_mib"] = round(max(self.rss), 2)
        return out

    def text(self, what="wall"):
        v = self.wall if what == "wall" else self.cpu
        return f"{statistics.median(v):8.2f} ms ({min(v):.2f}-{max(v):.2f})"

    def med(self, what="wall"):
        return statistics.median(self.wall if what == "wall" else self.cpu)


def run_once(argv):
    """(wall ms, peak RSS MiB, exit code, cpu ms) of one run, measured by the small C parent rusage.c."""
    out = subprocess.run([RUSAGE, *argv], capture_output=True, text=True, check=True).stdout.split()
    return int(out[0]) / 1e3, int(out[1]) / 1024, int(out[2]), int(out[3]) / 1e3


def measure(argv, runs=RUNS):
    run_once(argv)  # warm the page cache
    wall, cpu, rss = [], [], []
    for _ in range(runs):
        dt, maxrss, rc, c = run_once(argv)
        if rc not in OK_EXIT:
            sys.exit(f"bench: {' '.join(argv)} exited {rc}")
        wall.append(dt)
        cpu.append(c)
        rss.append(maxrss)
    return Fig(wall, cpu, rss)


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
        walls.append((time.perf_counter() - t0) * 1000)
    return Fig(walls), len(cmds), missing


def proc_cpu_ms(pid):
    """User + system CPU of a running process so far, ms (/proc/PID/stat fields 14, 15; clock ticks)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def node_exporter_start():
    """A node_exporter started here (default collectors) and warmed by 3 /metrics scrapes over one
    kept-alive connection, as Prometheus scrapes: (process, connection, version), or None when it is
    not installed or does not answer (then it is stopped). The caller stops it: node_exporter_stop()."""
    exe = shutil.which("prometheus-node-exporter") or shutil.which("node_exporter")
    if not exe:
        return None
    port = free_port()
    ver = subprocess.run([exe, "--version"], capture_output=True, text=True).stderr.split("\n")[0] or \
        subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    p = subprocess.Popen([exe, f"--web.listen-address=127.0.0.1:{port}"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    conn = None
    for _ in range(100):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/metrics")
            conn.getresponse().read()
            break
        except OSError:
            conn = None
            time.sleep(0.05)
    if conn is None:
        node_exporter_stop(p, None)
        return None
    for _ in range(3):  # warm: its collectors' first runs
        conn.request("GET", "/metrics")
        conn.getresponse().read()
    return p, conn, ver.strip()


def node_exporter_stop(p, conn):
    if conn:
        conn.close()
    p.terminate()
    p.wait()


def measure_node_exporter(runs):
    """Wall ms of warm /metrics scrapes (node_exporter_start()); (Fig, bytes, version) or None when not
    installed."""
    ne = node_exporter_start()
    if not ne:
        return None
    p, conn, ver = ne
    try:
        walls, cpus = [], []
        for _ in range(runs):
            c0 = proc_cpu_ms(p.pid)
            t0 = time.perf_counter()
            conn.request("GET", "/metrics")
            body = conn.getresponse().read()
            walls.append((time.perf_counter() - t0) * 1000)
            cpus.append(proc_cpu_ms(p.pid) - c0)
        return Fig(walls, cpus), len(body), ver
    finally:
        node_exporter_stop(p, conn)


def floor_list(tree, path):
    """The paths `inspect --host-root TREE` opens (strace), as floor.c's list; False without strace.
    nodeprint opens most sysfs attributes relative to their device's folder (hostfs.h np_dir): strace -y
    names the folder of such an open, so each path is that folder (resolved) joined with the name. A
    folder is listed ("d") only when nodeprint read its entries (getdents64), else opened ("p")."""
    if not shutil.which("strace"):
        return False
    top = os.path.realpath(tree)
    call = re.compile(r'openat2?\((-?\d+|AT_FDCWD)(?:<([^>]*)>)?, "([^"]*)".*= \d+<([^>]*)>')
    # on one CPU inspect collects on one thread (collector.h, ctx->threads): strace then writes every
    # call on one line, where two threads' calls would be cut into "unfinished" and "resumed" halves
    one_cpu = ["taskset", "-c", str(min(os.sched_getaffinity(0)))] if shutil.which("taskset") else []
    with tempfile.NamedTemporaryFile("r", suffix=".strace") as tr:
        subprocess.run([*one_cpu, "strace", "-f", "-qq", "-y", "-e", "trace=openat,openat2,getdents64", "-o", tr.name,
                        BIN, "inspect", "-o", "json", "--host-root", tree],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        lines = tr.readlines()
    listed = {m.group(1) for m in (re.search(r'getdents64\(\d+<([^>]*)>', l) for l in lines) if m}
    n = 0
    with open(path, "w") as out:
        for line in lines:
            m = call.search(line)
            if not m:
                continue  # not an open, or a failed one
            folder, name, opened = m.group(2) or top, m.group(3), m.group(4)
            rel = os.path.relpath(os.path.join(folder, name), top)
            if rel == "." or rel.startswith(".."):
                continue  # the root itself, or a file outside the tree (the loader's)
            kind = "f" if "O_DIRECTORY" not in line else "d" if opened in listed else "p"
            if "O_PATH" in line:
                kind = "p"
            out.write(f"{kind} {rel}\n")
            n += 1
    return n


def machine():
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} CPUs, Linux {platform.release()}"


def ratio(anchor, fig, what="wall"):
    return anchor.med(what) / fig.med(what) if fig.med(what) else float("inf")


def main():
    os.makedirs(BUILD, exist_ok=True)
    subprocess.run(["cc", "-O2", "-o", RUSAGE, os.path.join(ROOT, "tests/bench/rusage.c")], check=True)
    subprocess.run(["cc", "-O2", "-o", FLOOR, os.path.join(ROOT, "tests/bench/floor.c")], check=True)
    load0 = os.getloadavg()
    out = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine(), "runs": RUNS}
    print(f"bench: {out['machine']}; {out['date']}; load average {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}")
    print("  each figure: median (min-max) over the runs; ratio = anchor / nodeprint, medians of this run")

    true = measure(["/bin/true"])
    ver = measure([BIN, "version"])
    out["startup"] = {"nodeprint_version": ver.json(), "bin_true": true.json(),
                      "extra_ms": round(ver.med() - true.med(), 3)}
    print(f"startup    nodeprint version {ver.text()}   /bin/true {true.text()}   "
          f"+{ver.med() - true.med():.2f} ms, peak RSS {max(ver.rss):.2f} MiB vs {max(true.rss):.2f} MiB")

    ins = measure([BIN, "inspect", "-o", "json"])
    out["this_machine"] = ins.json()
    print(f"inspect    this machine      {ins.text()}   cpu {ins.text('cpu')}   peak RSS {max(ins.rss):.2f} MiB")

    pb, ncmd, missing = measure_playbook(max(3, RUNS // 4))
    r = ratio(pb, ins)
    out["playbook"] = {**pb.json(), "commands": ncmd, "ratio": round(r, 1), "missing": missing}
    print(f"  vs playbook, {ncmd} commands  {pb.text()}   -> nodeprint {r:.1f}x faster (goal >= 10x)")
    if missing:
        print(f"     (not installed, left out of the playbook: {', '.join(missing)})")

    ne = measure_node_exporter(RUNS)
    if ne:
        fig, size, nver = ne
        r = ratio(fig, ins)
        out["node_exporter"] = {**fig.json(), "bytes": size, "version": nver, "ratio": round(r, 2)}
        print(f"  vs node_exporter scrape   {fig.text()}   -> nodeprint {r:.1f}x faster (a one-shot inspect pays exec "
              f"and the loader; the 3x goal is the warm agent's cycle: section_agent.py below; "
              f"warm /metrics, {size // 1024} KiB, {nver}; its CPU {statistics.mean(fig.cpu):.2f} ms per scrape, "
              f"mean in clock ticks)")
    else:
        out["node_exporter"] = None
        print("  vs node_exporter scrape: not installed (Debian prometheus-node-exporter: scripts/deps.sh bench)")

    tree = os.path.join(BUILD, "bench-tree")
    if not os.path.exists(os.path.join(tree, "proc", "diskstats")):
        subprocess.run([sys.executable, os.path.join(ROOT, "tests/bench/gen_large_tree.py"), tree], check=True)
    lruns = max(5, RUNS // 3)
    big = measure([BIN, "inspect", "-o", "json", "--host-root", tree], runs=lruns)
    out["large_tree"] = big.json()
    print(f"large tree inspect           {big.text()}   cpu {big.text('cpu')}   peak RSS {max(big.rss):.2f} MiB "
          f"(goal < 100 ms; 1024 disks, 64 NICs x 64 queues, 256 CPUs)")
    lst = os.path.join(BUILD, "bench-floor.list")
    n = floor_list(tree, lst)
    if n:
        fl = measure([FLOOR, tree, lst], runs=lruns)
        out["large_tree_floor"] = {**fl.json(), "paths": n, "ratio_wall": round(big.med() / fl.med(), 2),
                                   "ratio_cpu": round(big.med("cpu") / max(fl.med("cpu"), 0.001), 2)}
        print(f"  floor: {n} paths opened and read  {fl.text()}   cpu {fl.text('cpu')}   -> nodeprint "
              f"{big.med() / fl.med():.1f}x the floor's wall, {out['large_tree_floor']['ratio_cpu']:.1f}x its CPU")
    else:
        out["large_tree_floor"] = None
        print("  floor: strace not installed (scripts/deps.sh bench), no floor")

    load1 = os.getloadavg()
    out["load_average"] = {"start": [round(x, 2) for x in load0], "end": [round(x, 2) for x in load1]}
    print(f"load average at the end {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}")

    extra = os.path.join(ROOT, "tests", "bench", "bench_sections.sh")
    if os.access(extra, os.X_OK) and not os.environ.get("BENCH_NO_SECTIONS"):
        subprocess.run([extra, BIN])
    with open(os.path.join(BUILD, "bench.json"), "w") as f:
        json.dump(out, f, indent=2)
    print("figures saved in build/bench.json")


if __name__ == "__main__":
    main()
