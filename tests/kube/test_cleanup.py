#!/usr/bin/env python3
"""`nodeprint cleanup` (uninstall) against the test API server: the agent writes its labels,
fingerprint annotation, taint and conditions on a Node that also carries other owners' keys
(including look-alike prefixes such as nodeprint.io-other/ and a node-problem-detector style
condition); cleanup removes every nodeprint.io/ key and condition type of the policy, and every
foreign key is byte-for-byte what it was. Dry run writes nothing; a second run removes nothing. TAP.
"""
import json, os, subprocess, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kubetest import ENV, run_with_server, tap, valve_classes  # noqa: E402
from test_agent import BIN, agent, api, create_node, node, write  # noqa: E402

FOREIGN_LABELS = {"kubernetes.io/hostname": "node-a", "team": "storage", "nodeprint.io-other/x": "1",
                  "sub.nodeprint.io/y": "2", "nodeprint.iox": "3"}
FOREIGN_TAINTS = [{"key": "dedicated", "value": "storage", "effect": "NoSchedule"},
                  {"key": "nodeprint.io-other/drain", "effect": "NoExecute"}]
FOREIGN_CONDITIONS = [
    {"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status",
     "lastHeartbeatTime": "2026-11-29T18:00:00Z", "lastTransitionTime": "2026-11-29T17:00:00Z"},
    {"type": "KernelDeadlock", "status": "False", "reason": "KernelHasNoDeadlock", "message": "kernel has no deadlock",
     "lastHeartbeatTime": "2026-11-29T18:00:00Z", "lastTransitionTime": "2026-11-29T17:00:00Z"}]
OWN_TYPES = {"AcceleratorsHealthy", "BundlePinned", "NVMeHealthy", "MultipathHealthy", "PCIeHealthy", "VolumePathsHealthy", "StorageTimeoutsConsistent", "NUMALocal",
             "OffloadsCompliant", "NICHealthy", "RDMAHealthy"}


def cleanup(*args):
    return subprocess.run([BIN, "cleanup", "--kubeconfig", ENV["NP_KUBE_KUBECONFIG"], *args],
                          capture_output=True, text=True, timeout=120)


def ours(nd):
    md = nd["metadata"]
    return ([k for k in md.get("labels", {}) if k.startswith("nodeprint.io/")] +
            [k for k in md.get("annotations", {}) if k.startswith("nodeprint.io/")] +
            [t["key"] for t in nd["spec"].get("taints", []) if t["key"].startswith("nodeprint.io/")] +
            [c["type"] for c in nd["status"].get("conditions", []) if c["type"] in OWN_TYPES])


def foreign(nd):
    md = nd["metadata"]
    return ({k: v for k, v in md.get("labels", {}).items() if not k.startswith("nodeprint.io/")},
            {k: v for k, v in md.get("annotations", {}).items() if not k.startswith("nodeprint.io/")},
            [t for t in nd["spec"].get("taints", []) if not t["key"].startswith("nodeprint.io/")],
            [c for c in nd["status"].get("conditions", []) if c["type"] not in OWN_TYPES])


def main(tmp):
    valve_classes('lab')  # the policies' classes below (manifests/rbac.yaml)
    drift = write(f"{tmp}/drift.yaml", "classes:\n  - name: lab\n    pins: {kernel: {release: ['1.0.*']}}\n")
    create_node("node-a", FOREIGN_LABELS, FOREIGN_TAINTS)
    create_node("node-b", {"team": "db"}, FOREIGN_TAINTS[:1])
    api("PATCH", "/api/v1/nodes/node-a", {"metadata": {"annotations": {"example.com/owner": "ops",
                                                                          "nodeprint.io-other/note": "keep"}}},
        "application/merge-patch+json")
    api("PATCH", "/api/v1/nodes/node-a/status", {"status": {"conditions": FOREIGN_CONDITIONS}},
        "application/merge-patch+json")
    p = agent(drift, cycles=2)
    before = node("node-a")
    own = ours(before)
    tap(p.returncode == 0 and "nodeprint.io/bundle" in own and "nodeprint.io/fingerprint" in own and
        "nodeprint.io/firmware-unpinned" in own and "BundlePinned" in own,
        "the agent wrote its labels, annotation, taint and conditions", f"{own}\n{p.stderr[-600:]}")
    b_before = node("node-b")

    p = cleanup("--node", "node-a", "--policy", drift, "--dry-run")
    after = node("node-a")
    tap(p.returncode == 0 and "would remove" in p.stdout and
        after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"],
        "--dry-run says what it would remove and writes nothing", p.stdout + p.stderr)

    p = cleanup("--all", "--policy", drift)
    after = node("node-a")
    tap(p.returncode == 0 and not ours(after), "after cleanup --all no nodeprint.io/ key and no own condition remains",
        f"{ours(after)}\n{p.stdout}{p.stderr}")
    fb, fa = foreign(before), foreign(after)
    tap(fa[0] == fb[0] and fa[0] == FOREIGN_LABELS, "every foreign label is kept, look-alike prefixes included",
        f"{fb[0]} -> {fa[0]}")
    tap(fa[1] == fb[1] and fa[1].get("nodeprint.io-other/note") == "keep", "every foreign annotation is kept",
        f"{fb[1]} -> {fa[1]}")
    # (kube-apiserver's TaintNodesByCondition admission adds node.kubernetes.io/not-ready to every new Node)
    tap(fa[2] == fb[2] and [t for t in fb[2] if t["key"] != "node.kubernetes.io/not-ready"] == FOREIGN_TAINTS,
        "the foreign taints are kept verbatim, in order", f"{fb[2]} -> {fa[2]}")
    tap(fa[3] == fb[3] and [c["type"] for c in fa[3]] == ["Ready", "KernelDeadlock"],
        "Ready and a node-problem-detector condition are kept, timestamps and all", f"{fb[3]} -> {fa[3]}")
    counts = [l for l in p.stdout.splitlines() if l.startswith("node-a:")]
    want = (f"node-a: removed {sum(k.startswith('nodeprint.io/') for k in before['metadata']['labels'])} labels, "
            f"1 annotation, 1 taint, {sum(t in OWN_TYPES for t in own)} conditions (nodeprint.io/)")
    tap(counts == [want], "it says what it removed per Node", f"{counts} vs {want}")
    tap(node("node-b") == b_before or node("node-b")["metadata"]["resourceVersion"] == b_before["metadata"]["resourceVersion"],
        "a Node without nodeprint keys is not written at all")

    p = cleanup("--all", "--policy", drift)
    tap(p.returncode == 0 and "node-a: removed 0 labels, 0 annotations, 0 taints, 0 conditions" in p.stdout and
        node("node-a")["metadata"]["resourceVersion"] == after["metadata"]["resourceVersion"],
        "a second cleanup removes nothing and writes nothing", p.stdout + p.stderr)
    p = cleanup("--node", "no-such-node")
    tap(p.returncode == 1 and "no-such-node" in p.stderr, "a missing Node is an error (exit 1) naming it", p.stderr)


if __name__ == "__main__":
    run_with_server(main, "test_cleanup")
