#!/usr/bin/env python3
"""The agent's HTTP endpoint on this machine: /metrics checked by `promtool check metrics`
(Debian's prometheus package) and against the report, /healthz, /readyz. TAP output."""
import os, re, socket, subprocess, sys, time

import report_schema
from agent import Agent, get

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/: taplib
import taplib  # noqa: E402
from taplib import tap  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("NODEPRINT", os.path.join(ROOT, "build", "nodeprint"))


def slow_clients(port, base):
    """Requests that never finish (a partial header) and a huge one must not take the probes down: the
    agent runs libmicrohttpd in its own loop, so it has to honour its timeouts itself."""
    slow = []
    for _ in range(4):      # another host: 127.0.0.2 is loopback too, the per-address limit is 4
        c = socket.socket()
        c.bind(("127.0.0.2", 0))
        c.connect(("127.0.0.1", port))
        c.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        slow.append(c)
    t0 = time.monotonic()
    code, body, _ = get(base + "/healthz")
    tap(code == 200 and time.monotonic() - t0 < 2, "4 unfinished requests from another address: /healthz still answers",
        f"{code} after {time.monotonic() - t0:.1f}s")
    closed = 0
    for c in slow:
        c.settimeout(12)
        try:
            closed += c.recv(1) == b""
        except OSError:
            closed += 1
        c.close()
    tap(closed == 4 and time.monotonic() - t0 < 12, "the unfinished requests are closed after the 5 s idle timeout",
        f"{closed} closed after {time.monotonic() - t0:.1f}s")
    c = socket.create_connection(("127.0.0.1", port), timeout=10)
    c.sendall(b"GET /" + b"a" * 100000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    try:
        head = c.recv(64)
    except OSError as e:
        head = repr(e).encode()
    c.close()
    tap(head.startswith(b"HTTP/1.1 414") or head.startswith(b"HTTP/1.1 431") or head == b"",
        "a 100 kB request line gets 414/431 or is closed, at once", head)
    code, body, _ = get(base + "/healthz")
    tap(code == 200, "and /healthz answers after it")


def process_metrics(text):
    """process_* as a Prometheus client library exports them, checked against /proc of the agent."""
    samples = {l.split(" ")[0]: float(l.split(" ")[1]) for l in text.splitlines() if l.startswith("process_")}
    want = ["process_cpu_seconds_total", "process_resident_memory_bytes", "process_virtual_memory_bytes",
            "process_start_time_seconds", "process_open_fds", "process_max_fds"]
    tap(all(k in samples for k in want), "process_* metrics: cpu, resident and virtual memory, start time, fds",
        sorted(samples))
    return samples


def health_only():
    """--health-address: the probes without metrics (the chart's metrics.enabled=false keeps its probes)."""
    codes = {}

    def probes(*_):
        codes.update({p: get(a.base + p)[0] for p in ("/healthz", "/readyz", "/metrics")})
        return codes["/readyz"] == 200

    with Agent("node-e2e", "--poll", "1", address="--health-address") as a:
        a.wait("/healthz", until=probes, tries=100)
        tap(codes == {"/healthz": 200, "/readyz": 200, "/metrics": 404},
            "--health-address serves /healthz and /readyz, and no /metrics", codes)
        a.stop()
    p = subprocess.run([BIN, "run", "--node-name", "n", "--health-address", ":1", "--metrics-address", ":2"],
                       capture_output=True, text=True)
    tap(p.returncode == 2 and len(p.stderr.splitlines()) == 1, "--health-address with --metrics-address: one line, exit 2",
        p.stderr)


def main():
    with Agent("node-e2e", "--poll", "2") as a:
        agent, base, port = a.proc, a.base, a.port
        code, body, _ = a.wait("/healthz", until=lambda code, body: True)
        tap(code == 200 and body == "ok\n", "/healthz answers ok")
        code, body, _ = a.wait("/readyz")
        tap(code == 200, "/readyz is 200 once a cycle completed", f"{code} {body}")
        code, text, ctype = get(base + "/metrics")
        tap(code == 200 and ctype.startswith("text/plain; version=0.0.4"), "/metrics serves the text format", ctype)
        ps = process_metrics(text)
        with open(f"/proc/{agent.pid}/stat") as f:
            start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        btime = int(re.search(r"^btime (\d+)", open("/proc/stat").read(), re.M).group(1))
        want_start = btime + start_ticks / os.sysconf("SC_CLK_TCK")
        with open(f"/proc/{agent.pid}/status") as f:
            rss = int(re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M).group(1)) * 1024
        tap(abs(ps.get("process_start_time_seconds", 0) - want_start) < 0.02 and
            0.5 < ps.get("process_resident_memory_bytes", 0) / rss < 2 and
            abs(ps.get("process_open_fds", 0) - len(os.listdir(f"/proc/{agent.pid}/fd"))) <= 2,  # the scrape's own socket
            "process_start_time_seconds, resident memory and open fds agree with /proc/PID of the agent",
            f"{ps} want start {want_start} rss {rss}")
        p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
        tap(p.returncode == 0, "promtool check metrics accepts the live scrape", p.stdout + p.stderr)
        rep = report_schema.loads(subprocess.run([BIN, "inspect", "-o", "json"], capture_output=True, text=True).stdout)
        tap(f'hash="{rep["fingerprint"]["hash"]}"' in text, "bundle_info carries the fingerprint hash")
        for nic in rep["net"]["interfaces"]:
            line = f'nodeprint_net_dropped_packets_total{{device="{nic["name"]}",direction="rx",kind="dropped"}}'
            tap(line in text, f"drop counter for {nic['name']} (label device, as node_exporter)")
        tap("nodeprint_collection_duration_seconds_count" in text, "collection duration histogram present")
        process_metrics(text)
        samples = {l.split(" ")[0]: float(l.split(" ")[1]) for l in text.splitlines() if l and l[0] != "#"}
        cyc = samples.get("nodeprint_cycle_duration_seconds_count", 0)
        tap(cyc >= 1 and samples.get("nodeprint_cycles_total", 0) >= cyc,
            "cycle duration histogram counts the cycles run", f"{cyc} {samples.get('nodeprint_cycles_total')}")
        last = samples.get("nodeprint_last_cycle_success_timestamp_seconds", 0)
        tap(abs(last - time.time()) < 30, "last successful cycle: a Unix time within 30 s of now", last)
        pol = subprocess.run([BIN, "policy", "--default"], capture_output=True, text=True).stdout
        known = re.findall(r"^ +([a-z-]+): +\{condition", pol, re.M)
        zero = [k for k in known if samples.get(f'nodeprint_finding_active{{finding="{k}"}}') is None]
        tap(len(known) >= 9 and not zero, f"every known finding ({len(known)} in the default policy) has a 0/1 series", zero)
        blk = [l for l in text.splitlines() if l.startswith("nodeprint_block_stalled{")]
        loops = [d["name"] for d in rep["block"]["devices"] if re.fullmatch(r"(loop|z?ram)\d+", d["name"])]
        tap(blk and not any(f'device="{d}"' in " ".join(blk) for d in loops),
            f"block metrics leave out the {len(loops)} loop/ram devices of this machine", blk[:5])
        code, _, _ = get(base + "/nope")
        tap(code == 404, "unknown path is 404")
        slow_clients(port, base)
        rc, err = a.stop()
        tap(rc == 0, "SIGTERM: the agent exits 0", err[-500:])
        # a captured host root: its dev/kmsg is a plain file, which epoll refuses; the agent runs on
        fx = os.path.join(ROOT, "tests", "fixtures", "nib-q35-aer")
        p = subprocess.run([BIN, "run", "--dry-run", "--node-name", "n", "--host-root", fx, "--cycles", "2", "--poll", "0.2"],
                           capture_output=True, text=True, timeout=30)
        health_only()
        tap(p.returncode == 0 and "kernel log is not a device here" in p.stderr and p.stderr.count('msg="cycle"') == 2,
            "run on a captured host root (dev/kmsg a plain file): two cycles, exit 0", p.stderr[-800:])


if __name__ == "__main__":
    taplib.run(main, "test_metrics")
