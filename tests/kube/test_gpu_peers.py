#!/usr/bin/env python3
"""GPUs expected from the class's peers, against the real test API server (tests/kube/server.sh).

The agent runs as node-a on the node-in-a-box capture with one display function (tests/fixtures/nib-vga:
QEMU's VGA), in class `gpu-peers` (match.nodeLabels pool=gpu), which pins no expect.gpus. Its peers are
Nodes created with kubectl carrying the labels agents publish: node-b (class gpu-peers, gpu.count 2),
node-c (gpu-peers, 1), node-d (another class, 8: not a peer). Checked: AcceleratorsHealthy False with
GPUMissing naming 2 expected from peers of class gpu-peers (node-b), not 8; the class's Nodes are LISTed
once in six cycles (peersRefreshSeconds, from the proxy's request log), with the agent's own token and
RBAC unchanged (nothing refused); health.gpu.expectFromPeers false: no finding (the condition is Unknown:
the capture has no kernel log) and no such LIST; a class
that pins expect.gpus: 3 is judged from the policy ("pinned in the policy") and lists nothing. TAP output.
"""
import json, os, ssl, subprocess, sys, urllib.parse, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kubetest import ENV, audit, run_with_server, tap, valve_classes  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("NODEPRINT", os.path.join(ROOT, "build", "nodeprint"))
HOST = os.path.join(ROOT, "tests", "fixtures", "nib-vga")
P = "nodeprint.io"
SELECTOR = f"{P}/class=gpu-peers"
# gpu-missing without a taint: the safety valve (which LISTs the class too) stays out of the count
POLICY = """classes:
  - name: gpu-peers
    match: {{nodeLabels: {{pool: gpu}}}}
{expect}health:
  gpu: {{expectFromPeers: {peers}, peersRefreshSeconds: 60}}
actions:
  gpu-missing: {{condition: AcceleratorsHealthy, taint: none, event: GPUMissing}}
"""


def kubectl(*args, input=None):
    p = subprocess.run(["kubectl", "--kubeconfig", ENV["NP_KUBE_KUBECONFIG"], *args], input=input,
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise RuntimeError(f"kubectl {' '.join(args)}: {p.stderr}")
    return p.stdout


def requests(since):
    ctx = ssl.create_default_context(cafile=ENV["NP_KUBE_CA"])
    req = urllib.request.Request(ENV["NP_KUBE_CONTROL_URL"] + f"/requests?since={since}",
                                 headers={"Authorization": "Bearer " + ENV["NP_KUBE_ADMIN_TOKEN"]})
    with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
        log = json.loads(r.read())
    return log["last_seq"], [x for x in log["requests"] if x["user"] == ENV["NP_KUBE_AGENT_USER"]]


def class_lists(reqs):
    """The agent's LISTs of Nodes by its class's label selector."""
    sel = urllib.parse.quote(SELECTOR, safe="")
    return [r for r in reqs if r["method"] == "GET" and r["path"] == "/api/v1/nodes" and
            (SELECTOR in urllib.parse.unquote(r.get("query", "")) or sel in r.get("query", ""))]


def run_agent(tmp, expect, peers, cycles=6):
    path = os.path.join(tmp, f"policy-{peers}-{bool(expect)}.yaml")
    with open(path, "w") as f:
        f.write(POLICY.format(expect=f"    expect: {{gpus: {expect}}}\n" if expect else "", peers=str(peers).lower()))
    since, _ = requests(0)
    p = subprocess.run([BIN, "run", "--node-name", "node-a", "--kubeconfig", ENV["NP_KUBE_AGENT_KUBECONFIG"],
                        "--host-root", HOST, "--policy", path, "--cycles", str(cycles), "--poll", "0.3", "--settle", "0",
                        "--log-level", "debug"], capture_output=True, text=True, timeout=120)
    _, reqs = requests(since)
    node = json.loads(kubectl("get", "node", "node-a", "-o", "json"))
    c = next((c for c in node["status"].get("conditions", []) if c["type"] == "AcceleratorsHealthy"), None)
    return p, c, reqs, node


def main(tmp):
    valve_classes("gpu-peers")
    def mk(name, labels):
        kubectl("create", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "Node",
                                                       "metadata": {"name": name, "labels": labels}}))
    mk("node-a", {"pool": "gpu"})
    mk("node-b", {"pool": "gpu", f"{P}/class": "gpu-peers", f"{P}/gpu.count": "2"})
    mk("node-c", {"pool": "gpu", f"{P}/class": "gpu-peers", f"{P}/gpu.count": "1"})
    mk("node-d", {"pool": "big", f"{P}/class": "big-gpu", f"{P}/gpu.count": "8"})

    p, c, reqs, node = run_agent(tmp, None, True)
    tap(p.returncode == 0, "agent: 6 cycles, exit 0", p.stderr[-1500:])
    labels = node["metadata"].get("labels", {})
    tap((labels.get(f"{P}/class"), labels.get(f"{P}/gpu.count")) == ("gpu-peers", "1"),
        "node-a: class gpu-peers, its own gpu.count 1 (QEMU's VGA)", labels)
    tap(c is not None and c["status"] == "False" and c["reason"] == "GPUMissing" and
        "expects 2 GPUs (from peers of class gpu-peers: Node node-b carries 2" in c["message"] and "1 answer" in c["message"],
        "AcceleratorsHealthy False, GPUMissing: 2 expected from peers of class gpu-peers (node-b), not 8 of another class", c)
    lists = class_lists(reqs)
    tap(len(lists) == 1, "the class's Nodes LISTed once in six cycles (peersRefreshSeconds 60; no LIST per cycle)",
        [(r["method"], r["path"], r.get("query")) for r in reqs if r["method"] == "GET"][:20])
    seen = audit(ENV["NP_KUBE_AGENT_USER"])
    tap([s for _, s in seen if s in (401, 403)] == [] and ("list", 200) in seen,
        "RBAC unchanged: the LIST with the shipped ClusterRole, nothing refused", seen[-20:])

    p, c, reqs, _ = run_agent(tmp, None, False)
    # the capture holds no /dev/kmsg: with no finding the condition is Unknown (blind is never healthy)
    tap(p.returncode == 0 and c is not None and (c["status"], c["reason"]) == ("Unknown", "KernelLogUnreadable") and
        class_lists(reqs) == [],
        "health.gpu.expectFromPeers false: no GPUMissing (Unknown: the capture has no kernel log), no LIST of the class",
        (c, p.stderr[-800:]))

    p, c, reqs, _ = run_agent(tmp, 3, True)
    tap(p.returncode == 0 and c is not None and c["status"] == "False" and
        "expects 3 GPUs (pinned in the policy: expect.gpus)" in c["message"] and class_lists(reqs) == [],
        "expect.gpus: 3 pinned: judged from the policy, peers not listed", (c, p.stderr[-800:]))


if __name__ == "__main__":
    run_with_server(main, "test_gpu_peers")
