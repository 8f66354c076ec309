#!/usr/bin/env python3
"""nodeprint and the real node-lifecycle controller write the same Node at the same time
(tests/cluster/cluster.sh): node-1's Lease stops being renewed, so the controller marks it Ready
Unknown and taints it node.kubernetes.io/unreachable (NoSchedule, then NoExecute) while a running
agent adds and removes its own taint (node-2 stays healthy: with all Nodes of a zone down the controller
enters full disruption mode and adds no NoExecute taint); neither loses the other's taints or conditions, and when the
Lease is renewed again the controller lifts its taints and nodeprint's stays. TAP output."""
import os, signal, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster import HOST_RELEASE, HOST_ROOT, NODEPRINT, run_with_cluster, tap, write  # noqa: E402

OURS = "nodeprint.io/firmware-unpinned"
UNREACHABLE = "node.kubernetes.io/unreachable"


def taints(c, node):
    return sorted((t["key"], t["effect"]) for t in c.node(node)["spec"].get("taints", []))


def conds(c, node):
    return {x["type"]: x for x in c.node(node)["status"]["conditions"]}


def main(c, tmp):
    c.apply_manifests(valve_classes=("lab",))
    c.create_node("node-1", taints=[{"key": "dedicated", "value": "storage", "effect": "NoSchedule"}])
    c.create_node("node-2")     # a healthy Node: with every Node down the controller evicts nothing
    kc = c.agent_kubeconfig("node-1")
    drift = "taintHoldDownSeconds: 0\nclasses:\n  - name: lab\n    pins: {kernel: {release: ['1.0.*']}}\n"
    pinned = drift.replace("'1.0.*'", f"'{HOST_RELEASE}'")
    live = write(f"{tmp}/live.yaml", drift)
    bg = subprocess.Popen([NODEPRINT, "run", "--node-name", "node-1", "--kubeconfig", kc, "--policy", live,
                           "--host-root", HOST_ROOT, "--poll", "0.3", "--settle", "0", "--resync", "1"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        tap(c.wait(lambda: (OURS, "NoSchedule") in taints(c, "node-1"), timeout=30), "the running agent taints node-1")
        c.set_heartbeat("node-1", False)
        t0 = time.monotonic()
        # node-monitor-grace-period (50 s) without a renewed Lease: Ready Unknown, unreachable taints
        got = c.wait(lambda: (UNREACHABLE, "NoExecute") in taints(c, "node-1"), timeout=120, every=1)
        dt = time.monotonic() - t0
        ready = conds(c, "node-1").get("Ready", {})
        tap(got and ready.get("status") == "Unknown" and ready.get("reason") == "NodeStatusUnknown",
            f"node-lifecycle: node-1 Ready Unknown and tainted unreachable:NoExecute after {dt:.0f} s", (taints(c, "node-1"), ready))
        # the agent now removes and adds its taint while the controller's are on the Node
        steps = []
        for text, want in ((pinned, False), (drift, True)):
            write(live, text)
            bg.send_signal(signal.SIGHUP)
            steps.append(c.wait(lambda: ((OURS, "NoSchedule") in taints(c, "node-1")) == want, timeout=30))
        t = taints(c, "node-1")
        tap(all(steps) and (OURS, "NoSchedule") in t and (UNREACHABLE, "NoExecute") in t and (UNREACHABLE, "NoSchedule") in t
            and ("dedicated", "NoSchedule") in t, "nodeprint's taint went and came back; the controller's and the admin's stayed", t)
        # (the status patch may follow the taint's by a cycle)
        cs = c.wait(lambda: (x := conds(c, "node-1")).get("BundlePinned", {}).get("status") == "False" and x, timeout=15) or \
            conds(c, "node-1")
        tap(cs.get("Ready", {}).get("status") == "Unknown" and cs.get("BundlePinned", {}).get("status") == "False",
            "its conditions written beside the controller's Ready Unknown, which stays", {k: v["status"] for k, v in cs.items()})

        c.set_heartbeat("node-1", True)
        back = c.wait(lambda: not [k for k, _ in taints(c, "node-1") if k == UNREACHABLE], timeout=60, every=1)
        t = taints(c, "node-1")
        tap(back and (OURS, "NoSchedule") in t and ("dedicated", "NoSchedule") in t and
            conds(c, "node-1").get("Ready", {}).get("status") == "True",
            "Lease renewed: the controller lifts its taints, Ready again; nodeprint's and the admin's taints stay", t)
    finally:
        bg.terminate()
        log = bg.communicate(timeout=30)[1]
    tap(bg.returncode == 0 and "publish failed" not in log, "the agent never failed a write (conflicts re-read and retried)",
        log[-1500:])


if __name__ == "__main__":
    run_with_cluster(main, "test_node_lifecycle")
