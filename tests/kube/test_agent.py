#!/usr/bin/env python3
"""The agent against the real test API server (tests/kube/server.sh), kubectl as a second client.

Checks what issue 6 promises: own labels/annotation/taints/conditions/events appear; nothing of
other writers is lost, even when kubectl changes the Node while the agent runs; a steady state
writes nothing (from the server's request log); a restart flaps nothing; the safety valve refuses a
NoSchedule taint when too much of the class carries it. TAP output.
"""
import json, os, ssl, subprocess, sys, time, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kubetest import ENV, audit, audit_summary, run_with_server, tap, valve_classes  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import ports  # noqa: E402 - the tests' one port picker

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("NODEPRINT", os.path.join(ROOT, "build", "nodeprint"))


def kubectl(*args, check=True):
    p = subprocess.run(["kubectl", "--kubeconfig", ENV["NP_KUBE_KUBECONFIG"], *args], capture_output=True, text=True, timeout=60)
    if check and p.returncode != 0:
        raise RuntimeError(f"kubectl {' '.join(args)}: {p.stderr}")
    return p.stdout


def node(name):
    return json.loads(kubectl("get", "node", name, "-o", "json"))


def control(method, path, body=None):
    ctx = ssl.create_default_context(cafile=ENV["NP_KUBE_CA"])
    req = urllib.request.Request(ENV["NP_KUBE_CONTROL_URL"] + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": "Bearer " + ENV["NP_KUBE_ADMIN_TOKEN"]})
    with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
        data = r.read()
        return json.loads(data) if data else None


def api(method, path, body, ctype="application/json"):
    """A request to the API server as the admin, independent of nodeprint's client."""
    ctx = ssl.create_default_context(cafile=ENV["NP_KUBE_CA"])
    req = urllib.request.Request(ENV["NP_KUBE_SERVER"] + path, method=method, data=json.dumps(body).encode(),
                                 headers={"Authorization": "Bearer " + ENV["NP_KUBE_ADMIN_TOKEN"], "Content-Type": ctype})
    with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
        return json.loads(r.read() or b"null")


def agent(policy, *extra, cycles=3, settle=0):
    args = [BIN, "run", "--node-name", "node-a", "--kubeconfig", ENV["NP_KUBE_AGENT_KUBECONFIG"],
            "--policy", policy, "--cycles", str(cycles), "--poll", "0.3", "--settle", str(settle), *extra]
    p = subprocess.run(args, capture_output=True, text=True, timeout=120)
    return p


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def create_node(name, labels, taints=()):
    doc = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels},
           "spec": {"taints": [dict(t) for t in taints]}}
    p = subprocess.run(["kubectl", "--kubeconfig", ENV["NP_KUBE_KUBECONFIG"], "create", "-f", "-"],
                       input=json.dumps(doc), capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(p.stderr)


def main(tmp):
    valve_classes('lab', 'other', 'storage-nodes', 'evt')  # the policies' classes below (manifests/rbac.yaml)
    release = os.uname().release
    create_node("node-a", {"kubernetes.io/hostname": "node-a", "team": "storage"},
                [{"key": "dedicated", "value": "storage", "effect": "NoSchedule"}])
    # kubelet's Ready condition, and two conditions of another writer that kube-apiserver stores without
    # validating them (a status outside True|False|Unknown, an empty type): the agent must read past them
    odd = [{"type": "example.com/Odd", "status": "Maybe"}, {"type": "", "status": "True", "reason": "NoType"}]
    api("PATCH", "/api/v1/nodes/node-a/status", {"status": {"conditions": [
        {"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status",
         "lastHeartbeatTime": "2026-11-29T18:00:00Z", "lastTransitionTime": "2026-11-29T17:00:00Z"}, *odd]}},
        "application/merge-patch+json")
    drift = write(f"{tmp}/drift.yaml", "classes:\n  - name: lab\n    pins: {kernel: {release: ['1.0.*']}}\n")
    pinned = write(f"{tmp}/pinned.yaml", f"classes:\n  - name: lab\n    pins: {{kernel: {{release: ['{release}']}}}}\n")

    p = agent(drift)
    tap(p.returncode == 0, "agent runs three cycles against the API server and exits 0", p.stderr[-2000:])
    nd = node("node-a")
    labels = nd["metadata"]["labels"]
    want_hash = json.loads(subprocess.run([BIN, "inspect", "-o", "json"], capture_output=True, text=True).stdout)["fingerprint"]["hash"]
    tap(labels.get("nodeprint.io/bundle") == want_hash, "bundle label equals inspect's fingerprint", labels)
    tap(labels.get("nodeprint.io/bundle-state") == "drift" and labels.get("nodeprint.io/class") == "lab", "bundle-state drift, class lab", labels)
    tap(labels.get("team") == "storage" and labels.get("kubernetes.io/hostname") == "node-a", "foreign labels untouched", labels)
    taints = {(t["key"], t["effect"]) for t in nd["spec"].get("taints", [])}
    tap(("nodeprint.io/firmware-unpinned", "NoSchedule") in taints, "drift taint added", taints)
    tap(("dedicated", "NoSchedule") in taints, "foreign taint kept", taints)
    conds = {c["type"]: c for c in nd["status"].get("conditions", [])}
    tap(conds.get("BundlePinned", {}).get("status") == "False" and conds["BundlePinned"]["reason"] == "Drift", "BundlePinned=False reason Drift", conds.get("BundlePinned"))
    tap(conds.get("Ready", {}).get("reason") == "KubeletReady", "kubelet's Ready condition untouched", conds.get("Ready"))
    kept = [{k: c.get(k) for k in o} for o in odd for c in nd["status"]["conditions"] if c["type"] == o["type"]]
    tap(kept == odd, "another writer's unvalidated conditions (status Maybe, empty type) kept as they were", kept)
    ann = nd["metadata"].get("annotations", {}).get("nodeprint.io/fingerprint", "")
    tap(ann and json.loads(ann)["hash"] == want_hash, "fingerprint annotation on the Node")
    ev = json.loads(kubectl("get", "events", "-A", "--field-selector", "involvedObject.name=node-a,reason=FirmwareDrift", "-o", "json"))["items"]
    tap(len(ev) == 1 and release in ev[0]["message"] and ev[0]["involvedObject"]["kind"] == "Node", "one FirmwareDrift event on the Node (not one per cycle)", ev)
    desc = kubectl("describe", "node", "node-a")
    tap("nodeprint.io/firmware-unpinned:NoSchedule" in desc and "BundlePinned" in desc and "nodeprint.io/fingerprint" in desc,
        "kubectl describe node shows the taint, the condition and the fingerprint", desc[-1500:])

    # steady state: a second agent run writes nothing (GETs only), counted in the server's request log
    last = control("GET", "/requests")["last_seq"]
    p = agent(drift)
    reqs = [r for r in control("GET", f"/requests?since={last}")["requests"] if r["user"].startswith("system:serviceaccount")]
    writes = [f"{r['method']} {r['path']}" for r in reqs if r["method"] in ("PATCH", "POST", "PUT", "DELETE")]
    tap(p.returncode == 0 and writes == [], "steady state: zero writes after a restart", writes)
    tap(len(reqs) <= 2, f"steady state: {len(reqs)} requests in three cycles (the start-up GET)", [r["path"] for r in reqs])

    # a restart whose first reads of the Node fail: that cycle judges nothing and writes nothing (it
    # would not know the Node's labels, so the class, bundle-state and conditions would flap)
    control("POST", "/faults", {"type": "drop", "count": 12, "method": "GET", "path": "/api/v1/nodes/node-a"})
    last = control("GET", "/requests")["last_seq"]
    p = agent(drift, cycles=4)
    log = control("GET", f"/requests?since={last}")["requests"]
    reqs = [r for r in log if r["user"].startswith("system:serviceaccount")]
    writes = [f"{r['method']} {r['path']}" for r in reqs if r["method"] in ("PATCH", "POST", "PUT", "DELETE")]
    faulted = [r for r in log if r.get("fault")]
    tap(p.returncode == 0 and faulted and writes == [] and "cannot read the Node" in p.stderr,
        f"restart with the Node unreadable at first ({len(faulted)} dropped GETs): no write, said in the log", writes or p.stderr[-800:])
    control("DELETE", "/faults")

    # another writer changes the node while the agent works: nothing of theirs is lost
    kubectl("taint", "node", "node-a", "maintenance=soon:PreferNoSchedule")
    kubectl("label", "node", "node-a", "rack=r7")
    control("POST", "/faults", {"type": "409", "count": 1, "method": "PATCH", "path": "/api/v1/nodes/node-a"})
    p = agent(pinned, settle=0)
    nd = node("node-a")
    taints = {(t["key"], t["effect"]) for t in nd["spec"].get("taints", [])}
    tap(("maintenance", "PreferNoSchedule") in taints and ("dedicated", "NoSchedule") in taints, "kubectl's taints survive our writes", taints)
    tap(nd["metadata"]["labels"].get("rack") == "r7", "kubectl's label survives our writes")
    tap(nd["metadata"]["labels"].get("nodeprint.io/bundle-state") == "pinned", "pinned policy: bundle-state pinned")
    # the finding cleared: the taint is held down (default 300 s), not removed at once
    tap(("nodeprint.io/firmware-unpinned", "NoSchedule") in taints, "a cleared finding's taint stays during the hold-down", taints)
    conds = {c["type"]: c for c in nd["status"]["conditions"]}
    tap(conds["BundlePinned"]["status"] == "True", "BundlePinned=True once pinned", conds["BundlePinned"])

    # hold-down 0 and settled: the taint goes, foreign ones stay
    fast = write(f"{tmp}/fast.yaml", f"taintHoldDownSeconds: 0\nclasses:\n  - name: lab\n    pins: {{kernel: {{release: ['{release}']}}}}\n")
    p = agent(fast)
    taints = {(t["key"], t["effect"]) for t in node("node-a")["spec"].get("taints", [])}
    tap(("nodeprint.io/firmware-unpinned", "NoSchedule") not in taints and ("maintenance", "PreferNoSchedule") in taints,
        "hold-down over: our taint removed, foreign kept", taints)

    # safety valve: 2 of 3 other lab nodes already carry the taint; ours would make 75% > 30%
    for i, tainted in ((1, True), (2, True), (3, False)):
        create_node(f"node-v{i}", {"nodeprint.io/class": "lab"},
                    [{"key": "nodeprint.io/firmware-unpinned", "effect": "NoSchedule"}] if tainted else [])
    p = agent(drift)
    taints = {(t["key"], t["effect"]) for t in node("node-a")["spec"].get("taints", [])}
    tap(("nodeprint.io/firmware-unpinned", "NoSchedule") not in taints, "safety valve refused the NoSchedule taint", taints)
    ev = json.loads(kubectl("get", "events", "-A", "--field-selector", "involvedObject.name=node-a,reason=TaintRefused", "-o", "json"))["items"]
    tap(len(ev) >= 1 and "safety valve" in ev[0]["message"], "a TaintRefused event says why", ev[:1])
    tap("safety valve" in p.stderr, "and the log says why", p.stderr[-800:])

    # fleet view: LIST in pages of 2 over 4 nodes, grouped by class and bundle, drift named
    p = subprocess.run([BIN, "fleet", "--kubeconfig", ENV["NP_KUBE_KUBECONFIG"], "--policy", drift, "-o", "json",
                        "--page-size", "2"], capture_output=True, text=True, timeout=60)
    fl = json.loads(p.stdout) if p.returncode == 0 else {}
    tap(fl.get("nodes") == 4 and fl.get("unlabelled") == 3, "fleet counts 4 nodes, 3 without a bundle label", p.stdout[-800:] + p.stderr)
    mine = [g for g in fl.get("groups", []) if g["bundle"] == want_hash]
    tap(len(mine) == 1 and mine[0]["class"] == "lab" and mine[0]["nodes"] == 1 and mine[0]["example_node"] == "node-a",
        "node-a's bundle is its own group in class lab", mine)
    tap(mine and any(release in d and "Drift" in d for d in mine[0]["drift"]), "the group's drift names the kernel release", mine)
    lists = [r for r in control("GET", "/requests")["requests"] if r["path"] == "/api/v1/nodes" and r["method"] == "GET"]
    tap(any("continue=" in r["query"] for r in lists), "fleet followed the continue token", [r["query"] for r in lists][-4:])
    p = subprocess.run([BIN, "fleet", "--kubeconfig", ENV["NP_KUBE_KUBECONFIG"], "--policy", drift],
                       capture_output=True, text=True, timeout=60)
    tap(p.returncode == 0 and "4 nodes in" in p.stdout and "node-a" in p.stdout, "fleet's table", p.stdout)

    # classes match the Node's own labels (node-a carries team=storage)
    bylabel = write(f"{tmp}/bylabel.yaml", "classes:\n  - name: other\n    match: {nodeLabels: {team: web}}\n"
                    "  - name: storage-nodes\n    match: {nodeLabels: {team: 'stor*'}}\n")
    p = agent(bylabel, cycles=1)
    tap(node("node-a")["metadata"]["labels"].get("nodeprint.io/class") == "storage-nodes",
        "the class is matched by the Node's labels", node("node-a")["metadata"]["labels"])

    # resync: another writer removes our label and annotation while the agent runs; the next full read
    # of the Node (--resync 1) sees it and puts them back, foreign keys untouched
    bg = subprocess.Popen([BIN, "run", "--node-name", "node-a", "--kubeconfig", ENV["NP_KUBE_AGENT_KUBECONFIG"],
                           "--policy", bylabel, "--poll", "0.3", "--settle", "0", "--resync", "1"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.5)
        kubectl("label", "node", "node-a", "nodeprint.io/bundle-state-")
        kubectl("annotate", "node", "node-a", "nodeprint.io/fingerprint-")
        md = {}
        for _ in range(40):
            md = node("node-a")["metadata"]
            if "nodeprint.io/bundle-state" in md["labels"] and "nodeprint.io/fingerprint" in md.get("annotations", {}):
                break
            time.sleep(0.25)
        tap("nodeprint.io/bundle-state" in md["labels"] and "nodeprint.io/fingerprint" in md.get("annotations", {})
            and md["labels"].get("rack") == "r7", "resync: our label and annotation removed by another writer come back, "
            "foreign labels stay", md)
    finally:
        bg.terminate()
        bg.wait(timeout=10)

    # an API that answers 429 with Retry-After 10 s: during the backoff the agent serves /healthz, and
    # SIGTERM ends it at once (exit 0) instead of after the whole retry series
    control("POST", "/faults", {"type": "429", "count": 50, "retry_after_s": 10, "path": "/api/v1/nodes/node-a"})
    mport = ports.free_port()
    bg = subprocess.Popen([BIN, "run", "--node-name", "node-a", "--kubeconfig", ENV["NP_KUBE_AGENT_KUBECONFIG"],
                           "--policy", bylabel, "--poll", "0.3", "--settle", "0", "--metrics-address", f"127.0.0.1:{mport}"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(2.5)     # inside the first Retry-After wait
        t0 = time.monotonic()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{mport}/healthz", timeout=3) as r:
                hz = r.status
        except Exception as e:
            hz = repr(e)
        tap(hz == 200 and time.monotonic() - t0 < 1.5, "during an API backoff (429, Retry-After 10 s) /healthz answers", hz)
        t0 = time.monotonic()
        bg.terminate()
        rc = bg.wait(timeout=30)
        dt = time.monotonic() - t0
        tap(rc == 0 and dt < 3, f"SIGTERM during the backoff: exit {rc} after {dt:.1f} s (not after the retries)",
            bg.stderr.read()[-600:])
    finally:
        if bg.poll() is None:
            bg.kill()
        control("DELETE", "/faults")

    # an Event that fails is tried again at the next cycle, not forgotten (a new node, its first FirmwareDrift)
    create_node("node-ev", {"team": "storage"})
    # (burst 1: two failed cycles would use up the rate limit if a failed request kept its token)
    noval = write(f"{tmp}/noval.yaml", "events: {burst: 1, perMinute: 1}\n"
                  "classes:\n  - name: evt\n    pins: {kernel: {release: ['1.0.*']}}\n"
                  "actions:\n  firmware-unpinned: {condition: BundlePinned, taint: none, event: FirmwareDrift}\n")
    control("POST", "/faults", {"type": "500", "count": 10, "method": "POST", "path": "/api/v1/namespaces/default/events"})
    p = subprocess.run([BIN, "run", "--node-name", "node-ev", "--kubeconfig", ENV["NP_KUBE_AGENT_KUBECONFIG"], "--policy", noval,
                        "--cycles", "4", "--poll", "0.5", "--settle", "0"], capture_output=True, text=True, timeout=120)
    ev = json.loads(kubectl("get", "events", "-A", "--field-selector", "involvedObject.name=node-ev,reason=FirmwareDrift", "-o", "json"))["items"]
    tap(p.returncode == 0 and len(ev) == 1 and "publish failed" in p.stderr,
        "an Event refused with 500 ten times (two whole retry series) is sent at a later cycle", p.stderr[-800:])
    control("DELETE", "/faults")

    # a write the server refuses for its content (422 from an admission policy) does not hold back the
    # others: the conditions and the Event still go out
    create_node("node-r", {"team": "storage"})
    control("POST", "/faults", {"type": "422", "count": 100, "method": "PATCH", "path_regex": "^/api/v1/nodes/node-r$"})
    p = subprocess.run([BIN, "run", "--node-name", "node-r", "--kubeconfig", ENV["NP_KUBE_AGENT_KUBECONFIG"], "--policy", noval,
                        "--cycles", "2", "--poll", "0.3", "--settle", "0"], capture_output=True, text=True, timeout=120)
    nr = node("node-r")
    conds = {c["type"]: c["status"] for c in nr["status"].get("conditions", [])}
    ev = json.loads(kubectl("get", "events", "-A", "--field-selector", "involvedObject.name=node-r,reason=FirmwareDrift", "-o", "json"))["items"]
    tap(conds.get("BundlePinned") == "False" and len(ev) == 1 and "nodeprint.io/bundle" not in nr["metadata"].get("labels", {}),
        "labels refused with 422: conditions and the Event are still written", (conds, len(ev), p.stderr[-600:]))
    control("DELETE", "/faults")

    # a bad policy: clear error naming the place, exit non-zero at start
    bad = write(f"{tmp}/bad.yaml", "classes:\n  - name: lab\n    pins: {kernel: {release: []}}\n")
    p = agent(bad, cycles=1)
    tap(p.returncode != 0 and "bad.yaml:3:" in p.stderr, "a bad policy at start is a clear error", p.stderr[-500:])

    # least privilege, as kube-apiserver saw it: the agent ran every scenario above with its bound token
    # and the shipped RBAC only, and nothing of it was refused (faults are the proxy's, never the apiserver's)
    audit_summary(ENV["NP_KUBE_AGENT_USER"])
    seen = audit(ENV["NP_KUBE_AGENT_USER"])
    refused = [(v, s) for v, s in seen if s in (401, 403)]
    tap(len(seen) >= 30 and refused == [], f"audit log: none of the agent's {len(seen)} requests refused (401/403)", refused[:10])


if __name__ == "__main__":
    run_with_server(main, "test_agent")
