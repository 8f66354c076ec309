#!/usr/bin/env python3
"""`nodeprint plan` against a cluster (issue 6, deliverable 5): the exact requests the agent would send
for this node, diffed with the Node as the test API server returns it, and nothing written.

Checked against the agent itself: the plan's writes are the requests the agent then makes (method and
path, in order, from the server's request log), the labels the agent leaves on the Node are the plan's;
after the agent ran, the plan is empty (steady state) and its Event is marked as already reported; the
safety valve's refusal shows in the plan. Foreign labels, taints and conditions are never in a patch
except the taint list, which carries them verbatim. TAP output.
"""
import json, os, subprocess, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kubetest import ENV, run_with_server, tap, valve_classes  # noqa: E402
from test_agent import BIN, api, control, create_node, node, write  # noqa: E402

FOREIGN = {"key": "dedicated", "value": "storage", "effect": "NoSchedule"}


def plan(name, policy, *extra):
    return subprocess.run([BIN, "plan", "--kubeconfig", ENV["NP_KUBE_AGENT_KUBECONFIG"], "--node-name", name,
                           "--policy", policy, *extra], capture_output=True, text=True, timeout=60)


def agent_writes(since):
    reqs = [r for r in control("GET", f"/requests?since={since}")["requests"] if r["user"] == ENV["NP_KUBE_AGENT_USER"]]
    return [(r["method"], r["path"]) for r in reqs if r["method"] != "GET" and "/events" not in r["path"]]


def main(tmp):
    valve_classes('lab', 'solo')  # the policies' classes below (manifests/rbac.yaml)
    release = os.uname().release
    drift = write(f"{tmp}/drift.yaml", "classes:\n  - name: lab\n    pins: {kernel: {release: ['1.0.*']}}\n")
    create_node("node-p", {"kubernetes.io/hostname": "node-p", "team": "storage"}, [FOREIGN])
    api("PATCH", "/api/v1/nodes/node-p/status", {"status": {"conditions": [
        {"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status",
         "lastHeartbeatTime": "2026-11-29T18:00:00Z", "lastTransitionTime": "2026-11-29T17:00:00Z"}]}},
        "application/merge-patch+json")
    rv0 = node("node-p")["metadata"]["resourceVersion"]

    last = control("GET", "/requests")["last_seq"]
    p = plan("node-p", drift, "-o", "json")
    out = json.loads(p.stdout) if p.returncode == 4 else {}
    cl = out.get("cluster", {})
    tap(p.returncode == 4 and cl.get("node") == "node-p" and cl.get("resourceVersion") == rv0,
        "plan -o json names the Node and the resourceVersion it read", f"exit {p.returncode}\n" + p.stderr[-800:] + p.stdout[-300:])
    all_writes = cl.get("writes", [])
    tap([(w["method"], w["path"], w["contentType"]) for w in all_writes] ==
        [("POST", "/apis/coordination.k8s.io/v1/namespaces/nodeprint/leases", "application/json"),
         ("PATCH", "/api/v1/nodes/node-p", "application/merge-patch+json"),
         ("PATCH", "/api/v1/nodes/node-p", "application/merge-patch+json"),
         ("PATCH", "/api/v1/nodes/node-p/status", "application/strategic-merge-patch+json")],
        "four writes: the safety valve's slot (a new Lease), labels/annotations, the taint list, nodes/status", all_writes)
    tap(all_writes and all_writes[0]["body"] == {"lease": "nodeprint-valve-lab", "slotFor": "node-p", "verdict": "granted",
                                                 "inUse": 1, "budget": 1},
        "the slot: Lease nodeprint-valve-lab, granted, 1 of a budget of 1 (a one-node class)", all_writes[:1])
    writes = all_writes[1:]
    meta = writes[0]["body"]["metadata"] if writes else {}
    keys = list(meta.get("labels", {})) + list(meta.get("annotations", {}))
    tap(keys and all(k.startswith("nodeprint.io/") for k in keys), "the metadata patch holds only nodeprint.io/ keys", keys)
    taints = writes[1]["body"]["spec"]["taints"] if len(writes) > 1 else []
    tap(taints[:1] == [FOREIGN] and {"key": "nodeprint.io/firmware-unpinned", "value": "", "effect": "NoSchedule"} in taints
        and writes[1]["body"]["metadata"]["resourceVersion"] == rv0,
        "the taint list keeps the foreign taint verbatim, adds ours, guarded by the resourceVersion read", writes[1:2])
    ctypes = [c["type"] for c in writes[2]["body"]["status"]["conditions"]] if len(writes) > 2 else []
    tap("BundlePinned" in ctypes and "Ready" not in ctypes, "the status patch holds only our conditions", ctypes)
    ev = {e["reason"]: e for e in cl.get("events", [])}
    tap(ev.get("FirmwareDrift", {}).get("send") is True and release in ev["FirmwareDrift"]["message"],
        "Event FirmwareDrift would be sent (a new finding)", cl.get("events"))
    mine = [r for r in control("GET", f"/requests?since={last}")["requests"] if r["user"] == ENV["NP_KUBE_AGENT_USER"]]
    tap(mine and all(r["method"] == "GET" for r in mine) and node("node-p")["metadata"]["resourceVersion"] == rv0,
        "plan only reads: GETs in the request log, the Node's resourceVersion unchanged", [(r["method"], r["path"]) for r in mine])
    t = plan("node-p", drift)
    tap(t.returncode == 4 and "== Against the cluster: Node node-p" in t.stdout and "PATCH /api/v1/nodes/node-p/status" in t.stdout
        and "Event FirmwareDrift" in t.stdout, "the text plan lists the requests and the Event", t.stdout[-1500:])

    # the agent then sends exactly those writes, and leaves the labels the plan showed
    last = control("GET", "/requests")["last_seq"]
    a = subprocess.run([BIN, "run", "--node-name", "node-p", "--kubeconfig", ENV["NP_KUBE_AGENT_KUBECONFIG"], "--policy", drift,
                        "--cycles", "2", "--poll", "0.3", "--settle", "0"], capture_output=True, text=True, timeout=120)
    tap(a.returncode == 0 and agent_writes(last) == [(w["method"], w["path"]) for w in all_writes],
        "the agent's writes (request log) are the plan's, in order", agent_writes(last))
    labels = node("node-p")["metadata"]["labels"]
    tap(all(labels.get(k) == v for k, v in meta.get("labels", {}).items()), "the Node carries the plan's labels", labels)

    p = plan("node-p", drift, "-o", "json")
    cl = json.loads(p.stdout).get("cluster", {}) if p.returncode == 4 else {}
    tap(p.returncode == 4 and cl.get("writes") == [], "after the agent ran: no writes (steady state)", cl.get("writes"))
    ev = {e["reason"]: e for e in cl.get("events", [])}
    tap(ev.get("FirmwareDrift", {}).get("send") is False and "BundlePinned" in ev["FirmwareDrift"]["why"],
        "the Event is not sent again: condition BundlePinned already reports it", ev.get("FirmwareDrift"))
    t = plan("node-p", drift)
    tap("no writes" in t.stdout, "the text plan says so", t.stdout[-600:])

    # the safety valve: 2 of 3 other lab nodes carry the taint, node-q would make 75% > 30%
    for i, tainted in ((1, True), (2, True), (3, False)):
        create_node(f"node-w{i}", {"nodeprint.io/class": "lab"},
                    [{"key": "nodeprint.io/firmware-unpinned", "effect": "NoSchedule"}] if tainted else [])
    create_node("node-q", {"team": "storage"})
    p = plan("node-q", drift, "-o", "json")
    cl = json.loads(p.stdout).get("cluster", {}) if p.returncode == 4 else {}
    ref = cl.get("refusedTaints", [])
    tap([r["key"] for r in ref] == ["nodeprint.io/firmware-unpinned"] and "safety valve" in ref[0]["why"],
        "the plan shows the safety valve's refusal and why", ref)
    tw = [w for w in cl.get("writes", []) if "taints" in w["body"].get("spec", {})]
    tap(tw == [], "and no taint write for the refused taint", tw)
    tr = [e for e in cl.get("events", []) if e["reason"] == "TaintRefused"]
    tap(len(tr) == 1 and tr[0]["send"] is True and tr[0]["subject"] == "nodeprint.io/firmware-unpinned",
        "and the TaintRefused Event the agent would send", cl.get("events"))

    # a Node not labelled with its class yet counts as one of the class: with the one other "solo" node
    # tainted, adding ours makes 2 of 2 (the agent's first cycle LISTs before its label patch)
    solo = write(f"{tmp}/solo.yaml", "classes:\n  - name: solo\n    pins: {kernel: {release: ['1.0.*']}}\n")
    create_node("node-s1", {"nodeprint.io/class": "solo"}, [{"key": "nodeprint.io/firmware-unpinned", "effect": "NoSchedule"}])
    create_node("node-s2", {})
    p = plan("node-s2", solo, "-o", "json")
    cl = json.loads(p.stdout).get("cluster", {}) if p.returncode == 4 else {}
    ref = cl.get("refusedTaints", [])
    tap(len(ref) == 1 and "1 of 2 nodes" in ref[0]["why"], "an unlabelled Node counts in its class: the valve refuses "
        "the 2nd of 2 (regression: it was allowed as a one-node class)", ref or p.stderr)
    a = subprocess.run([BIN, "run", "--node-name", "node-s2", "--kubeconfig", ENV["NP_KUBE_AGENT_KUBECONFIG"], "--policy", solo,
                        "--cycles", "2", "--poll", "0.3", "--settle", "0"], capture_output=True, text=True, timeout=120)
    keys = [t["key"] for t in node("node-s2")["spec"].get("taints", [])]
    tap(a.returncode == 0 and "nodeprint.io/firmware-unpinned" not in keys and
        node("node-s2")["metadata"]["labels"].get("nodeprint.io/class") == "solo",
        "and the agent does not add it on its first cycles, while labelling the class", keys)

    # an own taint whose finding is clear stays during the hold-down: the plan says so instead of
    # claiming a steady state (it cannot know since when the finding is clear)
    create_node("node-h", {}, [{"key": "nodeprint.io/nvme-critical", "effect": "NoSchedule"}])
    p = plan("node-h", drift, "-o", "json")
    cl = json.loads(p.stdout).get("cluster", {}) if p.returncode == 4 else {}
    held = cl.get("heldTaints", [])
    tap([(h["key"], h["effect"]) for h in held] == [("nodeprint.io/nvme-critical", "NoSchedule")]
        and "taintHoldDownSeconds (300 s)" in held[0]["why"], "a stale own taint is listed as held, with the hold-down", held)
    t = plan("node-h", drift)
    tap("taint nodeprint.io/nvme-critical:NoSchedule kept for now" in t.stdout, "and the text plan says it", t.stdout[-800:])

    p = plan("node-none", drift)
    tap(p.returncode == 1 and "node-none" in p.stderr and "not found" in p.stderr.lower(),
        "a Node that does not exist: a clear error, exit 1", p.stderr)
    p = subprocess.run([BIN, "inspect", "--cluster"], capture_output=True, text=True)
    tap(p.returncode != 0 and "options of plan" in p.stderr, "inspect refuses --cluster", p.stderr)


if __name__ == "__main__":
    run_with_server(main, "test_plan")
