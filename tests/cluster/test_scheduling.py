#!/usr/bin/env python3
"""Schedulers steer away, proven with the real kube-scheduler (tests/cluster/cluster.sh): three Nodes,
nodeprint on node-1 reads a captured host root whose kernel the policy does not pin, so node-1 gets
nodeprint.io/firmware-unpinned:NoSchedule; a 12-replica Deployment then gets no pod on node-1, a pod
that tolerates the taint can land there, and once the bundle is pinned the taint goes and node-1
takes pods again. TAP output."""
import json, os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster import HOST_RELEASE, HOST_ROOT, run_with_cluster, tap, write  # noqa: E402

TAINT = "nodeprint.io/firmware-unpinned"



def deployment(name, replicas, tolerate=False, node_selector=None):
    spec = {"containers": [{"name": "app", "image": "registry.invalid/app:1"}], "terminationGracePeriodSeconds": 0}
    if tolerate:
        spec["tolerations"] = [{"key": TAINT, "operator": "Exists", "effect": "NoSchedule"}]
    if node_selector:
        spec["nodeSelector"] = node_selector
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "default"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": spec}}}


def placement(c, app):
    """{node name: pod count} of the Deployment's pods, and how many are not bound yet."""
    pods = c.must("GET", f"/api/v1/namespaces/default/pods?labelSelector=app%3D{app}")["items"]
    out, unbound = {}, 0
    for p in pods:
        n = p["spec"].get("nodeName")
        if n:
            out[n] = out.get(n, 0) + 1
        else:
            unbound += 1
    return out, unbound, len(pods)


def all_bound(c, app, want):
    def f():
        by, unbound, total = placement(c, app)
        return (by, unbound, total) if total == want and unbound == 0 else None
    return c.wait(f, timeout=90, every=0.5) or placement(c, app)


def main(c, tmp):
    c.apply_manifests(valve_classes=("lab",))
    for n in ("node-1", "node-2", "node-3"):
        c.create_node(n)
    # the ServiceAccount admission plugin needs default/default, made by the controller-manager
    c.wait(lambda: c.api("GET", "/api/v1/namespaces/default/serviceaccounts/default")[0] == 200, timeout=60)
    kc = c.agent_kubeconfig("node-1")
    drift = write(f"{tmp}/drift.yaml", "classes:\n  - name: lab\n    pins: {kernel: {release: ['1.0.*']}}\n")
    p = c.run_agent("node-1", drift, kc, host_root=HOST_ROOT)
    taints = [t for t in c.node("node-1")["spec"].get("taints", []) if t["key"] == TAINT]
    tap(p.returncode == 0 and [t["effect"] for t in taints] == ["NoSchedule"],
        "nodeprint taints node-1 firmware-unpinned:NoSchedule (kernel not pinned)", p.stderr[-1500:])

    c.must("POST", "/apis/apps/v1/namespaces/default/deployments", deployment("web", 12))
    by, unbound, total = all_bound(c, "web", 12)
    tap(total == 12 and unbound == 0 and by.get("node-1", 0) == 0 and by.get("node-2", 0) + by.get("node-3", 0) == 12,
        f"kube-scheduler places 12 replicas: node-1 {by.get('node-1', 0)}, node-2 {by.get('node-2', 0)}, "
        f"node-3 {by.get('node-3', 0)}", (by, unbound, total))
    ev = json.loads(c.kubectl("get", "events", "-n", "default", "-o", "json").stdout)["items"]
    tap(not [e for e in ev if e["reason"] == "FailedScheduling"], "and no pod failed to schedule",
        [e["message"] for e in ev if e["reason"] == "FailedScheduling"][:3])

    c.must("POST", "/apis/apps/v1/namespaces/default/deployments",
           deployment("tolerant", 1, tolerate=True, node_selector={"kubernetes.io/hostname": "node-1"}))
    by, unbound, _ = all_bound(c, "tolerant", 1)
    tap(by == {"node-1": 1}, "a pod that tolerates the taint lands on node-1", (by, unbound))
    c.must("POST", "/apis/apps/v1/namespaces/default/deployments",
           deployment("intolerant", 1, node_selector={"kubernetes.io/hostname": "node-1"}))
    c.wait(lambda: [e for e in json.loads(c.kubectl("get", "events", "-n", "default", "-o", "json").stdout)["items"]
                    if e["reason"] == "FailedScheduling"], timeout=30)
    by, unbound, _ = placement(c, "intolerant")
    msgs = [e["message"] for e in json.loads(c.kubectl("get", "events", "-n", "default", "-o", "json").stdout)["items"]
            if e["reason"] == "FailedScheduling"]
    tap(by == {} and unbound == 1 and any("1 node(s) had untolerated taint(s)" in m for m in msgs),
        "the same pod without the toleration stays Pending: FailedScheduling, 1 node with an untolerated taint",
        (by, msgs[:2]))

    # pinned (no hold-down): the taint goes, node-1 takes pods again
    pinned = write(f"{tmp}/pinned.yaml", "taintHoldDownSeconds: 0\n"
                   f"classes:\n  - name: lab\n    pins: {{kernel: {{release: ['{HOST_RELEASE}']}}}}\n")
    p = c.run_agent("node-1", pinned, kc, host_root=HOST_ROOT)
    nd = c.node("node-1")
    tap(p.returncode == 0 and not [t for t in nd["spec"].get("taints", []) if t["key"] == TAINT] and
        nd["metadata"]["labels"].get("nodeprint.io/bundle-state") == "pinned",
        "bundle pinned: nodeprint removes the taint", (nd["spec"].get("taints"), p.stderr[-800:]))
    by, unbound, _ = all_bound(c, "intolerant", 1)
    tap(by == {"node-1": 1}, "the waiting pod is scheduled onto node-1 now", (by, unbound))
    c.must("POST", "/apis/apps/v1/namespaces/default/deployments", deployment("web2", 12))
    by, unbound, total = all_bound(c, "web2", 12)
    tap(total == 12 and unbound == 0 and by.get("node-1", 0) >= 2,
        f"a new 12-replica Deployment: node-1 takes {by.get('node-1', 0)} pods", by)


if __name__ == "__main__":
    run_with_cluster(main, "test_scheduling")
