#!/usr/bin/env python3
"""`nodeprint fleet` over 1,000 and 5,000 Nodes for `make bench` (issue 12): the real kube-apiserver of
tests/kube/server.sh holds Nodes in the shape a real agent published (tests/kube/fleetgen.py: node-a
labelled by `nodeprint run`, its bundle varied per class: NIC firmware, kernel, NVMe firmware; 1 % without
an agent), and `nodeprint fleet` is timed (wall, peak RSS from wait4 via build/rusage, median of
NP_FLEET_BENCH_RUNS runs, default 5) in text and -o json, with the LIST pages counted in the fault
proxy's request log. Memory should not grow with the Nodes (pages are parsed and released one by one).
Figures, not a verdict. Skipped with a message when the test cluster cannot be built."""
import json, math, os, platform, statistics, subprocess, sys, tempfile, time, urllib.request, ssl

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "kube"))
import fleetgen  # noqa: E402

BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "nodeprint"))
RUSAGE = os.path.join(ROOT, "build", "rusage")
RUNS = int(os.environ.get("NP_FLEET_BENCH_RUNS", "5"))
SIZES = [int(x) for x in os.environ.get("NP_FLEET_BENCH_SIZES", "1000,5000").split(",")]


def requests_log(env, since=0):
    ctx = ssl.create_default_context(cafile=env["NP_KUBE_CA"])
    req = urllib.request.Request(f"{env['NP_KUBE_CONTROL_URL']}/requests?since={since}",
                                 headers={"Authorization": "Bearer " + env["NP_KUBE_ADMIN_TOKEN"]})
    with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
        return json.loads(r.read())


def run_once(argv):
    out = subprocess.run([RUSAGE, *argv], capture_output=True, text=True, check=True).stdout.split()
    return int(out[0]) / 1e6, int(out[1]), int(out[2])


def measure(argv):
    run_once(argv)  # warm: the API server's watch cache, the page cache
    walls, rss, rcs = [], [], set()
    for _ in range(RUNS):
        dt, kib, rc = run_once(argv)
        walls.append(dt)
        rss.append(kib)
        rcs.add(rc)
    return statistics.median(walls), max(rss) / 1024, sorted(rcs)


def fleet_nodes(i, base, variants):
    """Node i of the fleet: 1 % without an agent; classes r740 50 %, gpu 30 %, lab 20 % (no pins);
    in the pinned classes 4 % NIC firmware drift, 2 % kernel, 1 % kernel and NVMe firmware."""
    name = f"n{i:05d}"
    if i % 100 == 99:
        return fleetgen.base_node(name)
    klass = "r740" if i % 10 < 5 else "gpu" if i % 10 < 8 else "lab"
    if klass == "lab":
        return fleetgen.variant(name, klass, base, "unknown", {"team": "lab"})
    k = (i // 10) % 100
    kind = "nic" if k < 4 else "kernel" if k < 6 else "kn" if k < 7 else None
    if kind is None or variants.get(kind) is None:
        return fleetgen.variant(name, klass, base, "pinned")
    return fleetgen.variant(name, klass, variants[kind], "drift")


def main():
    build = subprocess.run([os.path.join(ROOT, "tests", "cluster", "build.sh")], capture_output=True, text=True)
    if build.returncode != 0:
        print(f"fleet: skipped, tests/cluster/build.sh failed: {build.stderr[-300:]}")
        return
    kbin = build.stdout.strip()
    os.environ["PATH"] = kbin + os.pathsep + os.environ.get("PATH", "")
    subprocess.run(["cc", "-O2", "-o", RUSAGE, os.path.join(ROOT, "tests", "bench", "rusage.c")], check=True)
    server = os.path.join(ROOT, "tests", "kube", "server.sh")
    with tempfile.TemporaryDirectory() as tmp:
        sdir = os.path.join(tmp, "server")
        st = subprocess.run([server, "start", sdir], capture_output=True, text=True, timeout=1800)
        if st.returncode != 0:
            print(f"fleet: skipped, tests/kube/server.sh failed: {st.stderr[-300:]}")
            return
        try:
            env = dict(line.strip().split("=", 1) for line in open(os.path.join(sdir, "env")) if "=" in line)
            run(env, tmp)
        finally:
            subprocess.run([server, "stop", sdir], capture_output=True)


def run(env, tmp):
    comps, release, nic, nvme, pins = fleetgen.host_bundle(BIN)
    policy = fleetgen.write_policy(os.path.join(tmp, "policy.yaml"), pins,
                                   {"r740": {"node.kubernetes.io/instance-type": "r740"}, "gpu": {"team": "gpu"}},
                                   {"lab": {"team": "lab"}})
    labels, fp = fleetgen.capture(BIN, env, "kubectl", policy, {})
    bad = fleetgen.check_derivation(labels, fp)
    if bad:
        print(f"fleet: the generator does not derive what the agent wrote: {bad[:4]}")
        return
    base = sorted(comps + [nvme])
    variants = {"nic": fleetgen.replace(base, "nic", nic[0], nic[1].rsplit(" firmware ", 1)[0] + " firmware 16.35.2000")
                if nic else None,
                "kernel": fleetgen.replace(base, "kernel", "release", fleetgen.bump(release)),
                "kn": fleetgen.replace(fleetgen.replace(base, "kernel", "release", fleetgen.bump(release)), "nvme", nvme[1], "8.0.0")}
    load = os.getloadavg()
    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), "?")
    print(f"\n== nodeprint fleet over N Nodes (real kube-apiserver v1.37.2 via tests/kube/server.sh; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {os.cpu_count()} CPUs {cpu}; "
          f"load {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; {platform.release()}) ==")
    made = 1  # node-a
    sizes = []
    for n in SIZES:
        t0 = time.monotonic()
        nodes = [fleet_nodes(i, base, variants) for i in range(made, n)]
        errors = fleetgen.create(env, nodes)
        made = n
        if errors:
            print(f"  {n}: {len(errors)} Nodes not created: {errors[:2]}")
            return
        print(f"  {n} Nodes in the API server ({len(nodes)} created in {time.monotonic() - t0:.0f} s)")
        rows = []
        for page in (500, 100):
            for fmt in ("text", "json"):
                argv = [BIN, "fleet", "--kubeconfig", env["NP_KUBE_KUBECONFIG"], "--policy", policy, "--page-size",
                        str(page), "-o", fmt]
                since = requests_log(env)["last_seq"]
                wall, rss, rcs = measure(argv)
                lists = [r for r in requests_log(env, since)["requests"] if r["path"] == "/api/v1/nodes"]
                rows.append((page, fmt, wall, rss, len(lists) // (RUNS + 1), rcs))
        out = json.loads(subprocess.run([BIN, "fleet", "--kubeconfig", env["NP_KUBE_KUBECONFIG"], "--policy", policy,
                                         "-o", "json"], capture_output=True, text=True).stdout)
        for page, fmt, wall, rss, pages, rcs in rows:
            print(f"    --page-size {page:4d} -o {fmt:4s}: median {wall * 1000:7.0f} ms  peak RSS {rss:5.1f} MiB  "
                  f"{pages} pages (want {math.ceil(n / page)})  exit {rcs}")
        print(f"    counted {out['nodes']} Nodes in {len(out['groups'])} groups; per class: " +
              ", ".join(f"{d['class'] or '-'} {d['nodes']} ({d['drift_nodes']} drift, {d['unknown_nodes']} unknown)"
                        for d in out["drift"]))
        sizes.append((n, rows))
    # a labelled Node as kube-apiserver stores it (managedFields included), whole and metadata only
    got = {}
    for acc in ("application/json", "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"):
        req = urllib.request.Request(f"{env['NP_KUBE_SERVER']}/api/v1/nodes/n00001", headers={
            "Authorization": "Bearer " + env["NP_KUBE_ADMIN_TOKEN"], "Accept": acc})
        with urllib.request.urlopen(req, context=ssl.create_default_context(cafile=env["NP_KUBE_CA"]), timeout=30) as r:
            got[acc] = len(r.read())
    print(f"  a labelled Node as stored: {' / '.join(str(v) for v in got.values())} bytes (whole / metadata only)")
    # worst case for the grouping: every Node of a class its own bundle (a module version per Node)
    uniq = int(os.environ.get("NP_FLEET_BENCH_UNIQUE", "5000"))
    if uniq:
        nodes = [fleetgen.variant(f"u{i:05d}", "r740", fleetgen.replace(base, "module", "nodeprint_bench", f"1.{i}"),
                                  "drift") for i in range(uniq)]
        errors = fleetgen.create(env, nodes)
        argv = [BIN, "fleet", "--kubeconfig", env["NP_KUBE_KUBECONFIG"], "--policy", policy, "-o", "json"]
        wall, rss, rcs = measure(argv)
        print(f"  {uniq} more Nodes, each its own bundle ({len(errors)} not created); fleet over all "
              f"{made + uniq}: median {wall * 1000:.0f} ms  peak RSS {rss:.1f} MiB  exit {rcs}")
    if len(sizes) >= 2:
        (n1, r1), (n2, r2) = sizes[0], sizes[-1]
        print(f"  peak RSS {n1} -> {n2} Nodes (pages of 500, text): {r1[0][3]:.1f} -> {r2[0][3]:.1f} MiB; "
              f"wall {r1[0][2] * 1000:.0f} -> {r2[0][2] * 1000:.0f} ms (goal < 2 s at 5,000)")


if __name__ == "__main__":
    main()
