#!/usr/bin/env python3
"""Agent figures for `make bench` (issue 6): API requests in a steady state and the agent's peak
RSS (VmHWM), without and with --metrics-address, and where the resident memory is (the largest
mappings by Rss from /proc/PID/smaps, a library's segments added up), against a real kube-apiserver
behind the fault proxy (tests/kube/server.sh; binaries from tests/cluster/build.sh's cache). Skipped with a message when the
server cannot be started."""
import collections, glob, json, os, ssl, subprocess, sys, tempfile, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from ports import free_port  # noqa: E402 - the tests' one port picker
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402 - its node_exporter anchor
BIN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "nodeprint")
SERVER = os.path.join(ROOT, "tests", "kube", "server.sh")


def vmhwm_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def rss_by_mapping(pid):
    """kB of Rss per mapped file (its segments added up), [heap], [stack] or [anon]."""
    per, cur = collections.Counter(), None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            p = line.split()
            if p and not p[0].endswith(":"):  # a mapping's header: range perms offset dev inode [path]
                cur = os.path.basename(p[5]) if len(p) > 5 and p[5].startswith("/") else (p[5] if len(p) > 5 else "[anon]")
            elif p and p[0] == "Rss:":
                per[cur] += int(p[1])
    return per


def cpu_ms(pid):
    """User + system CPU time of @pid so far, in ms (/proc/PID/stat fields 14 and 15, proc(5))."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def sched_ms(pid):
    """CPU time of every thread of @pid so far, in ms, to the nanosecond (/proc/PID/task/*/schedstat, first
    field; the clock-tick fields of /proc/PID/stat count 10 ms steps): a few ms per cycle need it."""
    total = 0
    for t in glob.glob(f"/proc/{pid}/task/*/schedstat"):
        try:
            with open(t) as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total / 1e6


def node_exporter_scrape_ms(gap, runs):
    """CPU ms per warm /metrics scrape of a prometheus-node-exporter (bench.py node_exporter_start()),
    every thread counted (its CPU between scrapes too, as the agent's between cycles), one scrape every
    @gap seconds (0: back to back, as bench.py does); None when not installed."""
    ne = bench.node_exporter_start()
    if not ne:
        return None
    p, conn, _ = ne
    try:
        c0, t0 = sched_ms(p.pid), time.monotonic()
        for i in range(runs):
            conn.request("GET", "/metrics")
            conn.getresponse().read()
            if gap:
                time.sleep(max(0.0, t0 + (i + 1) * gap - time.monotonic()))
        return (sched_ms(p.pid) - c0) / runs
    finally:
        bench.node_exporter_stop(p, conn)


def devices_of(report):
    """Block devices, network interfaces and NVMe controllers of an inspect -o json report."""
    return (len(report.get("block", {}).get("devices", [])) + len(report.get("net", {}).get("interfaces", [])) +
            len((report.get("nvme") or {}).get("controllers", [])))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        sdir = os.path.join(tmp, "srv")
        if subprocess.run([SERVER, "start", sdir], capture_output=True, text=True, timeout=3600).returncode != 0:
            print("agent: skipped (the test API server did not start; see tests/kube/server.sh)")
            return 0
        env = dict(l.strip().split("=", 1) for l in open(os.path.join(sdir, "env")) if "=" in l)
        try:
            node = env["NP_KUBE_AGENT_NODE"]
            subprocess.run(["kubectl", "--kubeconfig", env["NP_KUBE_KUBECONFIG"], "create", "-f", "-"], capture_output=True,
                           input=json.dumps({"apiVersion": "v1", "kind": "Node", "metadata": {"name": node}}), text=True)
            pol = os.path.join(tmp, "p.yaml")
            with open(pol, "w") as f:
                f.write("heartbeatSeconds: 10\n")
            ctx = ssl.create_default_context(cafile=env["NP_KUBE_CA"])

            def log(since=0):
                req = urllib.request.Request(f"{env['NP_KUBE_CONTROL_URL']}/requests?since={since}",
                                             headers={"Authorization": "Bearer " + env["NP_KUBE_ADMIN_TOKEN"]})
                with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
                    return json.loads(r.read())

            argv = [BIN, "run", "--node-name", node, "--kubeconfig", env["NP_KUBE_AGENT_KUBECONFIG"],
                    "--policy", pol, "--poll", "0.5", "--settle", "0"]
            alog = os.path.join(tmp, "agent.log")  # its "cycle" lines: early cycles (uevents, kernel log) count too
            agent = subprocess.Popen(argv, stderr=open(alog, "w"))

            def cycles_logged():
                with open(alog) as f:
                    return f.read().count('msg="cycle"')
            time.sleep(3)  # first cycles: the initial writes
            start = log()["last_seq"]
            t0 = time.time()
            c0, s0, n0 = cpu_ms(agent.pid), sched_ms(agent.pid), cycles_logged()
            time.sleep(30)
            c1, s1, n1 = cpu_ms(agent.pid), sched_ms(agent.pid), cycles_logged()
            reqs = [r for r in log(start)["requests"] if r["user"].startswith("system:serviceaccount")]
            dt = time.time() - t0
            hwm = vmhwm_kib(agent.pid)
            per = rss_by_mapping(agent.pid)
            agent.terminate()
            agent.wait(timeout=10)
            # the same agent serving metrics (libmicrohttpd is loaded only then), scraped once
            port = free_port()
            agent = subprocess.Popen(argv + ["--metrics-address", f"127.0.0.1:{port}"], stderr=subprocess.DEVNULL)
            time.sleep(3)
            scraped = 0
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
                    scraped = len(r.read())
            except OSError:
                pass
            time.sleep(7)
            hwm_m = vmhwm_kib(agent.pid)
            agent.terminate()
            agent.wait(timeout=10)
            writes = [r for r in reqs if r["method"] != "GET"]
            cycles = dt / 0.5
            print(f"agent: steady state over {dt:.0f} s ({cycles:.0f} cycles at 0.5 s, heartbeatSeconds 10): "
                  f"{len(reqs)} API requests, {len(writes)} writes ({', '.join(sorted({r['method'] + ' ' + r['path'] for r in writes})) or 'none'})")
            per_hb = len(writes) / max(1, dt / 10)
            print(f"agent: {per_hb:.1f} writes per heartbeat -> {per_hb * 6:.0f} requests/hour with the default heartbeat (600 s), "
                  f"0 from the polls themselves (target: none but the heartbeat)")
            print(f"agent: peak RSS {hwm / 1024:.2f} MiB after {cycles:.0f} cycles (target < 8 MiB)")
            rep = json.loads(subprocess.run([BIN, "inspect", "-o", "json"], capture_output=True, text=True).stdout or "{}")
            ndev = max(1, devices_of(rep))
            ran = max(1, n1 - n0)
            per_cycle = (s1 - s0) / ran
            print(f"agent: CPU {per_cycle:.2f} ms per cycle in the warm process ({s1 - s0:.0f} ms over the {ran} cycles it "
                  f"logged, {ran - cycles:+.0f} early ones woken by device events or the kernel log; "
                  f"by schedstat, {c1 - c0:.0f} ms in clock ticks; {ndev} devices: {per_cycle * 1000 / ndev:.1f} ms per "
                  f"1,000 devices)")
            same = node_exporter_scrape_ms(0.5, 30)
            hot = node_exporter_scrape_ms(0, 40)
            if same and hot:
                print(f"agent: node_exporter, measured just after, CPU per warm /metrics scrape (every thread, by schedstat): "
                      f"{same:.2f} ms scraped every 0.5 s as the agent cycles -> a warm agent cycle is {same / per_cycle:.1f}x "
                      f"cheaper; {hot:.2f} ms scraped back to back (its caches hot) -> {hot / per_cycle:.1f}x "
                      f"(goal >= 3x against both)")
            else:
                print("agent: node_exporter not installed (scripts/deps.sh bench): no side-by-side figure")
            top = ", ".join(f"{k} {v / 1024:.2f}" for k, v in per.most_common(12) if v)
            print(f"agent: resident MiB by mapping (largest 12 of {sum(per.values()) / 1024:.2f}): {top}")
            print(f"agent: peak RSS {hwm_m / 1024:.2f} MiB with --metrics-address after 20 cycles "
                  f"({'one /metrics scrape of ' + str(scraped) + ' bytes' if scraped else 'the /metrics scrape FAILED'})")
        finally:
            subprocess.run([SERVER, "stop", sdir], capture_output=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
