#!/usr/bin/env python3
"""End-to-end: `nodeprint plan` on this real machine with policies whose right answers come from
independent sources (`ethtool -k`, `ethtool -i`, uname). TAP output."""
import json, os, subprocess, sys, tempfile

import report_schema

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/: taplib
import taplib  # noqa: E402
from taplib import tap  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("NODEPRINT", os.path.join(ROOT, "build", "nodeprint"))


def plan(policy_text):
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(policy_text)
    try:
        p = subprocess.run([BIN, "plan", "-o", "json", "--policy", f.name, "--node-name", "node-e2e"],
                           capture_output=True, text=True, timeout=60)
        if p.returncode not in (0, 3, 4):
            raise RuntimeError(f"exit {p.returncode}: {p.stderr}")
        plan = report_schema.loads(p.stdout)["plan"]
        ids = [f["id"] for f in plan["findings"]]
        want = 4 if set(ids) - {"source-unreadable"} else 3 if ids else 0   # docs/reference.md, exit codes
        if p.returncode != want:
            raise RuntimeError(f"exit {p.returncode}, want {want} for findings {ids}")
        return plan
    finally:
        os.unlink(f.name)


def ethtool_k(nic):
    """ethtool -k's top-level (legacy or plain) features with on/off, fixed or not."""
    out = subprocess.run(["ethtool", "-k", nic], capture_output=True, text=True, check=True).stdout
    feats = {}
    for line in out.splitlines()[1:]:
        if line.startswith("\t") or ":" not in line:
            continue
        name, state = line.split(":", 1)
        feats[name.strip()] = state.split()[0]
    return feats


def main():
    nics = [d for d in sorted(os.listdir("/sys/class/net")) if os.path.exists(f"/sys/class/net/{d}/device")]
    nic = nics[0]
    drv = subprocess.run(["ethtool", "-i", nic], capture_output=True, text=True, check=True).stdout
    driver = dict(l.split(": ", 1) for l in drv.splitlines() if ": " in l)["driver"]
    feats = ethtool_k(nic)
    on = [f for f in ("generic-receive-offload", "scatter-gather", "tx-checksumming", "generic-segmentation-offload") if feats.get(f) == "on"]
    off = [f for f in ("large-receive-offload", "ntuple-filters", "receive-hashing", "rx-vlan-offload") if feats.get(f) == "off"]
    if not on or not off:
        tap(False, "this NIC has legacy features both on and off", feats)
        return
    # wanting the opposite of what ethtool shows: one finding each; wanting the same: none
    pol = f"""classes:
  - name: e2e
    offloads:
      - driver: {driver}
        off: [{on[0]}, {off[0]}]
        on: [{off[-1]}, {on[-1]}]
"""
    p = plan(pol)
    subjects = sorted(f["subject"] for f in p["findings"] if f["id"] == "offload-mismatch")
    want = sorted([f"{nic} {on[0]}", f"{nic} {off[-1]}"])
    tap(subjects == want, f"offload findings on {nic} ({driver}) match ethtool -k", f"{subjects} vs {want}")
    cond = {c["type"]: c for c in p["conditions"]}
    tap(cond["OffloadsCompliant"]["status"] == "False", "OffloadsCompliant is False with a mismatch")
    tap(p["class"] == "e2e" and p["labels"].get("nodeprint.io/class") == "e2e", "the class label names the class")
    tap(not p["taints"], "offload mismatches do not taint by default", p["taints"])

    # the kernel pinned to this machine's release: pinned; to another: drift, taint, event on the Node
    rel = os.uname().release
    p = plan(f"classes:\n  - name: e2e\n    pins: {{kernel: {{release: ['{rel}']}}}}\n")
    tap(p["bundle_state"] == "pinned" and p["labels"]["nodeprint.io/bundle-state"] == "pinned", "own kernel pinned: pinned")
    p = plan("classes:\n  - name: e2e\n    pins: {kernel: {release: ['1.0.*']}}\n")
    tap(p["bundle_state"] == "drift", "another kernel pinned: drift", p["bundle_state"])
    tap({"key": "nodeprint.io/firmware-unpinned", "value": "", "effect": "NoSchedule"} in p["taints"], "drift taints firmware-unpinned:NoSchedule", p["taints"])
    ev = [e for e in p["events"] if e["reason"] == "FirmwareDrift"]
    tap(len(ev) == 1 and ev[0]["involvedObject"] == {"kind": "Node", "name": "node-e2e"} and rel in ev[0]["message"],
        "a FirmwareDrift event on the Node names the running release", ev)
    bad = subprocess.run([BIN, "plan", "--policy", "/dev/null", "-o", "json"], capture_output=True, text=True)
    tap(bad.returncode == 0, "an empty policy file is the default policy", bad.stderr)
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write("classes:\n  - name: x\n    pinz: {}\n")
    bad = subprocess.run([BIN, "policy", "--check", f.name], capture_output=True, text=True)
    os.unlink(f.name)
    tap(bad.returncode == 1 and ":3:5: classes[0].pinz: unknown field" in bad.stderr, "policy --check names line:column and field", bad.stderr)


if __name__ == "__main__":
    taplib.run(main, "test_plan")
