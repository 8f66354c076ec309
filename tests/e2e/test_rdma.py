#!/usr/bin/env python3
"""End-to-end: the rdma section of `nodeprint inspect` on this machine and on the node-in-a-box captures.

TAP output. On this machine the section must equal /sys/class/infiniband (read by this test; none here is
an empty list, not an error). On tests/fixtures/nib-rdma and nib-rdma-down (real captures of soft-RoCE
on the guest kernel) the JSON validates against docs/report.schema.json, `inspect` exits 0 / 4, and the
down capture carries rdma-port-down with RDMAHealthy False and the RDMAPortDown Event; the agent
(`run --dry-run --host-root`) serves the port's nodeprint_rdma_* series with the captured values, and
promtool accepts the scrape.
"""
import glob, os, subprocess, sys

import report_schema
from agent import Agent

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/: taplib
import taplib  # noqa: E402
from taplib import tap  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("NODEPRINT", os.path.join(ROOT, "build", "nodeprint"))


def inspect(*args):
    return subprocess.run([BIN, "inspect", "-o", "json", "--color", "never", "--only", "rdma", *args],
                          capture_output=True, text=True, timeout=60)


def main():
    p = inspect()
    tap(p.returncode in (0, 4), "nodeprint inspect --only rdma on this machine exits 0 or 4", p.stderr)
    rep = report_schema.loads(p.stdout)
    want = sorted(os.path.basename(d) for d in glob.glob("/sys/class/infiniband/*"))
    tap(sorted(d["name"] for d in rep["rdma"]["devices"]) == want and "error" not in rep["rdma"],
        f"rdma: this machine's devices = /sys/class/infiniband ({want})", rep["rdma"])
    for fx, rc, state in (("nib-rdma", 0, "ACTIVE"), ("nib-rdma-down", 4, "DOWN")):
        p = inspect("--host-root", os.path.join(ROOT, "tests", "fixtures", fx))
        tap(p.returncode == rc, f"{fx}: inspect exits {rc}", p.stderr)
        rep = report_schema.loads(p.stdout)
        port = rep["rdma"]["devices"][0]["ports"][0]
        with open(os.path.join(ROOT, "tests", "fixtures", fx, "sys/devices/virtual/infiniband/rxe0/ports/1/state")) as f:
            tap(f"{port['state']}: {port['state_name']}" == f.read().strip() and port["state_name"] == state,
                f"{fx}: rxe0 port 1 {state} = the captured state file", port)
        conds = {c["type"]: (c["status"], c["reason"]) for c in rep["plan"]["conditions"]}
        events = [e["reason"] for e in rep["plan"].get("events", [])]
        if state == "ACTIVE":
            tap(conds.get("RDMAHealthy") == ("True", "AllChecksPassed") and "RDMAPortDown" not in events,
                f"{fx}: RDMAHealthy True, no Event", conds)
        else:
            tap(conds.get("RDMAHealthy") == ("False", "PortDown") and "RDMAPortDown" in events,
                f"{fx}: RDMAHealthy False PortDown, Event RDMAPortDown", (conds, events))
    metrics("nib-rdma", 4, 5, "ACTIVE", "LinkUp")
    metrics("nib-rdma-down", 1, 2, "DOWN", "Polling")


def metrics(fx, state, phys, state_name, phys_name):
    """/metrics of the agent reading capture @fx: the port's ids, its rate, its info series."""
    with Agent("node-e2e", "--poll", "2", "--host-root", os.path.join(ROOT, "tests", "fixtures", fx)) as a:
        a.wait()
        code, text, _ = a.get("/metrics")
        a.stop()
    lines = {l for l in text.splitlines() if l.startswith("nodeprint_rdma_")}
    want = {f'nodeprint_rdma_state_id{{device="rxe0",port="1"}} {state}',
            f'nodeprint_rdma_physical_state_id{{device="rxe0",port="1"}} {phys}',
            'nodeprint_rdma_rate_bytes_per_second{device="rxe0",port="1"} 312500000',   # 2.5 Gb/sec / 8
            f'nodeprint_rdma_port_info{{device="rxe0",port="1",state="{state_name}",phys_state="{phys_name}",'
            'link_layer="Ethernet",netdev="eth0"} 1'}
    tap(code == 200 and lines == want, f"{fx}: /metrics has exactly the port's rdma series ({state_name})",
        sorted(lines ^ want))
    p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
    tap(p.returncode == 0, f"{fx}: promtool check metrics accepts the scrape", p.stdout + p.stderr)


if __name__ == "__main__":
    taplib.run(main, "test_rdma")
