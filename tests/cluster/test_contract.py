#!/usr/bin/env python3
"""The remediation contract (docs/reference.md, "Remediation contract") on the real control plane
(tests/cluster/cluster.sh), with the shipped RBAC and admission policies and a bound token:

- nodeprint never overwrites or drops another writer's conditions: Ready (as the kubelet registers
  it), MemoryPressure/DiskPressure and a third tool's condition, written by a second client beside
  the running agent, keep their status, reason and lastTransitionTime;
- a condition's lastTransitionTime moves only when its status changes: findings arriving and leaving
  under one condition (a kernel pin, then a module pin as well, then the kernel one gone) change its
  reason and message, never its transition time;
- a condition returns to healthy within one cycle once its cause is gone (no restart);
- `kubectl wait --for=condition=...` (the built kubectl) works on nodeprint's conditions, as the
  remediation rules of docs/remediation.md use them. TAP.
"""
import json, os, signal, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster import HOST_RELEASE, HOST_ROOT, NODEPRINT, now_rfc3339, run_with_cluster, tap, write  # noqa: E402

NODE = "contract-1"


def conds(c):
    return {x["type"]: x for x in c.node(NODE)["status"].get("conditions", [])}


def policy(kernel_ok, module_ok):
    release = HOST_RELEASE if kernel_ok else "1.0.*"
    vxlan = "0.1" if module_ok else "9.9"
    return ("taintHoldDownSeconds: 0\n"
            "classes:\n  - name: lab\n"
            f"    pins: {{kernel: {{release: ['{release}']}}, module: {{vxlan: ['{vxlan}']}}}}\n")


def main(c, tmp):
    p = c.apply_manifests()
    tap(p.returncode == 0, "the shipped manifests applied", p.stderr)
    c.create_node(NODE, labels={"team": "storage"})
    kc = c.agent_kubeconfig(NODE)
    # another writer's conditions (a kubelet's pressures, a third tool's) beside the kubelet's Ready
    other = [{"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory", "message": "ok",
              "lastHeartbeatTime": now_rfc3339(), "lastTransitionTime": "2026-01-01T00:00:00Z"},
             {"type": "DiskPressure", "status": "True", "reason": "KubeletHasDiskPressure", "message": "93% used",
              "lastHeartbeatTime": now_rfc3339(), "lastTransitionTime": "2026-01-02T00:00:00Z"},
             {"type": "GPUHealthy", "status": "False", "reason": "XID79", "message": "from another tool",
              "lastHeartbeatTime": now_rfc3339(), "lastTransitionTime": "2026-01-03T00:00:00Z"}]
    st, body = c.api("PATCH", f"/api/v1/nodes/{NODE}/status", {"status": {"conditions": other}},
                     ctype="application/strategic-merge-patch+json")
    tap(st == 200, "a second client writes MemoryPressure, DiskPressure and GPUHealthy", body)
    before = {k: v for k, v in conds(c).items() if k in ("Ready", "MemoryPressure", "DiskPressure", "GPUHealthy")}

    live = write(f"{tmp}/live.yaml", policy(kernel_ok=False, module_ok=True))
    agent = subprocess.Popen([NODEPRINT, "run", "--node-name", NODE, "--kubeconfig", kc, "--policy", live,
                              "--host-root", HOST_ROOT, "--poll", "0.5", "--settle", "0"],
                             stdout=subprocess.DEVNULL, stderr=open(f"{tmp}/agent.log", "w"))
    try:
        bp = c.wait(lambda: (x := conds(c).get("BundlePinned")) and x["status"] == "False" and x, timeout=30)
        tap(bool(bp) and bp["reason"] == "Drift", "the agent reports BundlePinned=False (kernel drift)", bp)
        t1 = bp and bp["lastTransitionTime"]

        # kubectl wait, as a remediation rule would key on it (the built kubectl)
        w = c.kubectl("wait", "--for=condition=BundlePinned=False", f"node/{NODE}", "--timeout=20s", check=False)
        tap(w.returncode == 0 and "condition met" in w.stdout, "kubectl wait --for=condition=BundlePinned=False", w.stdout + w.stderr)

        # a second finding under the same condition, then the first one gone: the status stays False
        time.sleep(1.2)   # transition times have a 1 s resolution: a wrong move would show
        write(live, policy(kernel_ok=False, module_ok=False))
        two = c.wait(lambda: (x := conds(c)["BundlePinned"]) and "vxlan" in x["message"] and x, timeout=30)
        write(live, policy(kernel_ok=True, module_ok=False))
        one = c.wait(lambda: (x := conds(c)["BundlePinned"]) and "vxlan" in x["message"] and
                     HOST_RELEASE not in x["message"] and x, timeout=30)
        tap(bool(two) and bool(one) and two["status"] == one["status"] == "False" and
            two["lastTransitionTime"] == one["lastTransitionTime"] == t1,
            "findings arriving and leaving under BundlePinned (kernel, +module, -kernel): status False, "
            "lastTransitionTime unchanged", (t1, two, one))

        # the cause goes: healthy within one cycle (poll 0.5 s + the policy reload), no restart
        write(live, policy(kernel_ok=True, module_ok=True))
        t0 = time.monotonic()
        ok = c.wait(lambda: conds(c)["BundlePinned"]["status"] == "True", timeout=20, every=0.1)
        dt = time.monotonic() - t0
        x = conds(c)["BundlePinned"]
        tap(ok and dt < 3 and x["reason"] == "AllChecksPassed" and x["lastTransitionTime"] != t1,
            f"the cause gone: BundlePinned=True after {dt:.1f} s, a new lastTransitionTime", x)
        w = c.kubectl("wait", "--for=condition=BundlePinned=True", f"node/{NODE}", "--timeout=20s", check=False)
        tap(w.returncode == 0, "kubectl wait --for=condition=BundlePinned=True", w.stdout + w.stderr)
        time.sleep(2)     # a few more cycles
    finally:
        agent.send_signal(signal.SIGTERM)
        agent.wait(timeout=30)
    after = conds(c)
    changed = {k: (v, after.get(k)) for k, v in before.items() if k != "Ready" and after.get(k) != v}
    tap(not changed, "MemoryPressure, DiskPressure and GPUHealthy exactly as their writer left them", changed)
    r0, r1 = before["Ready"], after.get("Ready", {})
    tap(r1.get("status") == "True" and r1.get("reason") == r0["reason"] and
        r1.get("lastTransitionTime") == r0["lastTransitionTime"],
        "the kubelet's Ready: status, reason and lastTransitionTime kept (its heartbeat is its own)", (r0, r1))
    own = sorted(k for k in after if k not in before)
    tap("BundlePinned" in own and not any(k in ("Ready", "MemoryPressure", "DiskPressure", "GPUHealthy") for k in own),
        "nodeprint added only its own condition types", own)


if __name__ == "__main__":
    run_with_cluster(main, "test_contract")
