#!/usr/bin/env python3
"""manifests/ against the test API server: `kubectl apply -k manifests/ --dry-run=server
--validate=strict` is accepted, and the manifests' own ValidatingAdmissionPolicy (real CEL in the
server) confines the agent's token to its Node, its prefix and its condition types, while the agent
itself still works under it. TAP output."""
import json, os, ssl, subprocess, sys, time, urllib.error, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kubetest import ENV, run_with_server, tap, valve_classes  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("NODEPRINT", os.path.join(ROOT, "build", "nodeprint"))


def kubectl(kc, *args, stdin=None):
    return subprocess.run(["kubectl", "--kubeconfig", ENV[kc], *args], input=stdin, capture_output=True, text=True, timeout=60)


def api(method, path, body, token, ctype="application/merge-patch+json"):
    ctx = ssl.create_default_context(cafile=ENV["NP_KUBE_CA"])
    req = urllib.request.Request(ENV["NP_KUBE_SERVER"] + path, method=method, data=json.dumps(body).encode(),
                                 headers={"Authorization": "Bearer " + token, "Content-Type": ctype})
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def main(tmp):
    valve_classes('lab')  # the policies' classes below (manifests/rbac.yaml)
    p = subprocess.run(["kubectl", "kustomize", os.path.join(ROOT, "manifests")], capture_output=True, text=True)
    docs = p.stdout
    p = kubectl("NP_KUBE_KUBECONFIG", "apply", "--dry-run=server", "--validate=strict", "-f", "-", stdin=docs)
    tap(p.returncode == 0 and "(server dry run)" in p.stdout, "kubectl apply -k manifests/ --dry-run=server --validate=strict", p.stdout + p.stderr)
    bad = docs.replace("priorityClassName:", "priorityClassNam:", 1)
    p = kubectl("NP_KUBE_KUBECONFIG", "apply", "--dry-run=server", "--validate=strict", "-f", "-", stdin=bad)
    tap(p.returncode != 0 and "priorityClassNam" in p.stderr, "an unknown field in the DaemonSet is refused", p.stderr)

    me, other = ENV["NP_KUBE_AGENT_NODE"], "node-other"
    for name in (me, other):
        kubectl("NP_KUBE_KUBECONFIG", "create", "-f", "-", stdin=json.dumps(
            {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": {"team": "storage"}}}))
        api("PATCH", f"/api/v1/nodes/{name}/status", {"status": {"conditions": [
            {"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "ok",
             "lastHeartbeatTime": "2026-11-29T18:00:00Z", "lastTransitionTime": "2026-11-29T17:00:00Z"}]}},
            ENV["NP_KUBE_ADMIN_TOKEN"])
    p = kubectl("NP_KUBE_KUBECONFIG", "apply", "-f", os.path.join(ROOT, "manifests", "admission-policy.yaml"))
    tap(p.returncode == 0, "the manifests' admission policy and binding apply for real", p.stderr)
    # the plugin's informer picks the policy up within a second or two: probe until a foreign write is denied
    for i in range(60):  # a new value each time: kubectl sends nothing for a label it already has
        probe = kubectl("NP_KUBE_AGENT_KUBECONFIG", "label", "--overwrite", "node", other, f"nodeprint.io/probe={i}")
        if probe.returncode != 0:
            break
        time.sleep(0.5)
    tap(probe.returncode != 0 and "may only write its own Node" in probe.stderr, "agent: a label on another Node is denied", probe.stderr)
    p = kubectl("NP_KUBE_AGENT_KUBECONFIG", "label", "--overwrite", "node", me, "nodeprint.io/bundle=abc")
    tap(p.returncode == 0, "agent: a label under nodeprint.io/ on its own Node passes", p.stderr)
    p = kubectl("NP_KUBE_AGENT_KUBECONFIG", "label", "--overwrite", "node", me, "team=web")
    tap(p.returncode != 0 and "labels under nodeprint.io/" in p.stderr, "agent: changing a foreign label is denied", p.stderr)
    p = kubectl("NP_KUBE_AGENT_KUBECONFIG", "taint", "node", me, "maintenance=1:NoSchedule")
    tap(p.returncode != 0 and "taints whose key is under nodeprint.io/" in p.stderr, "agent: a foreign taint is denied", p.stderr)
    p = kubectl("NP_KUBE_AGENT_KUBECONFIG", "taint", "node", me, "nodeprint.io/nvme-critical:NoSchedule")
    tap(p.returncode == 0, "agent: its own taint passes", p.stderr)
    tok = ENV["NP_KUBE_AGENT_TOKEN"]
    st, body = api("PATCH", f"/api/v1/nodes/{me}/status", {"status": {"conditions": [
        {"type": "Ready", "status": "False", "reason": "Hijacked", "message": "x"}]}}, tok, "application/strategic-merge-patch+json")
    tap(st in (403, 422) and "own condition types" in json.dumps(body), "agent: a write to kubelet's Ready condition is denied", f"{st} {body}")
    st, body = api("PATCH", f"/api/v1/nodes/{me}/status", {"status": {"conditions": [
        {"type": "NVMeHealthy", "status": "True", "reason": "AllChecksPassed", "message": "no finding"}]}}, tok,
        "application/strategic-merge-patch+json")
    tap(st == 200, "agent: its own condition type passes", f"{st} {body}")
    # the baselines ConfigMaps (docs/baseline.md): the agent may write nodeprint-baselines-*, nothing else
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"namespace": "nodeprint", "labels": {"a": "b"}},
          "data": {"k": "v"}}
    kubectl("NP_KUBE_KUBECONFIG", "create", "namespace", "nodeprint")
    p = kubectl("NP_KUBE_AGENT_KUBECONFIG", "create", "-f", "-",
                stdin=json.dumps({**cm, "metadata": {**cm["metadata"], "name": "nodeprint-baselines-lab"}}))
    tap(p.returncode == 0, "agent: ConfigMap nodeprint-baselines-lab may be written", p.stderr)
    p = kubectl("NP_KUBE_AGENT_KUBECONFIG", "create", "-f", "-",
                stdin=json.dumps({**cm, "metadata": {**cm["metadata"], "name": "nodeprint-policy"}}))
    tap(p.returncode != 0 and "only write its nodeprint-baselines ConfigMaps" in p.stderr,
        "agent: any other ConfigMap (the policy's name) is denied", p.stderr)
    # the agent itself works under the policy: labels, annotation, conditions on its own Node
    pol = os.path.join(tmp, "p.yaml")
    with open(pol, "w") as f:
        f.write("classes:\n  - name: lab\n    pins: {kernel: {release: ['1.0.*']}}\n")
    p = subprocess.run([BIN, "run", "--node-name", me, "--kubeconfig", ENV["NP_KUBE_AGENT_KUBECONFIG"], "--policy", pol,
                        "--cycles", "2", "--poll", "0.3", "--settle", "0"], capture_output=True, text=True, timeout=120)
    nd = json.loads(kubectl("NP_KUBE_KUBECONFIG", "get", "node", me, "-o", "json").stdout)
    taints = {(t["key"], t["effect"]) for t in nd["spec"].get("taints", [])}
    conds = {c["type"]: c["status"] for c in nd["status"]["conditions"]}
    ok = (nd["metadata"]["labels"].get("nodeprint.io/bundle-state") == "drift" and
          ("nodeprint.io/firmware-unpinned", "NoSchedule") in taints and conds.get("BundlePinned") == "False" and
          conds.get("Ready") == "True" and nd["metadata"]["labels"].get("team") == "storage")
    tap(ok and "publish failed" not in p.stderr, "nodeprint run publishes under the admission policy, kubelet's data intact",
        p.stderr[-1500:] + json.dumps(nd["metadata"]["labels"]))


if __name__ == "__main__":
    run_with_server(main, "test_manifests")
