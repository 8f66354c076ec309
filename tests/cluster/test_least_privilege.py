#!/usr/bin/env python3
"""Least privilege, proven against the real control plane (tests/cluster/cluster.sh): the agent runs
with exactly the ClusterRole and the safety valve's Role of manifests/ (applied with the built
kubectl, `apply -k`) and a token
from TokenRequest bound to a Pod of the DaemonSet's spec on its Node. The audit log then shows no
agent request answered 403, and every verb of the node and event rules used; writes outside what the
agent may do are denied, each by the layer that should (RBAC or the ValidatingAdmissionPolicy). TAP.
"""
import json, os, re, signal, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster import AGENT_USER, HOST_RELEASE, HOST_ROOT, NODEPRINT, run_with_cluster, tap, write  # noqa: E402

VAP = "validation.policy.admission.k8s.io/validation_failure"



def agent_requests(events):
    """The agent's own requests (its user and nodeprint's User-Agent), one per request."""
    return [e for e in events if e["user"]["username"] == AGENT_USER and e.get("userAgent", "").startswith("nodeprint/")
            and e["stage"] == "ResponseComplete"]


def rule_keys(role):
    """{(apiGroup, resource[/subresource], verb)} a (Cluster)Role grants."""
    out = set()
    for r in role["rules"]:
        for g in r.get("apiGroups", []):
            for res in r["resources"]:
                for v in r["verbs"]:
                    out.add((g, res, v))
    return out


def used_key(e):
    o = e.get("objectRef", {})
    res = o.get("resource", "") + ("/" + o["subresource"] if o.get("subresource") else "")
    return (o.get("apiGroup", ""), res, e["verb"])


def denial(c, mark, uri_part):
    """(code, 'RBAC' | 'admission policy <name>' | '?', message) of the last request of the agent's
    user after @mark whose URI contains @uri_part: RBAC's decision is the audit annotation
    authorization.k8s.io/decision; an admission policy that denies (validationActions Deny) is named
    in the response status the audit event keeps."""
    evs = [e for e in c.audit(mark, user=AGENT_USER) if uri_part in e["requestURI"] and e["stage"] == "ResponseComplete"]
    if not evs:
        return None, "no audit entry", ""
    e = evs[-1]
    ann = e.get("annotations", {})
    rs = e.get("responseStatus", {})
    code, msg = rs.get("code"), rs.get("message", "")
    if ann.get("authorization.k8s.io/decision") == "forbid":
        return code, "RBAC", ann.get("authorization.k8s.io/reason", "") + msg
    m = re.search(r"ValidatingAdmissionPolicy '([^']+)' with binding '[^']+' denied request: (.*)", msg)
    if m and ann.get("authorization.k8s.io/decision") == "allow":
        return code, f"admission policy {m.group(1)}", m.group(2)
    return code, "?", json.dumps(e)[-800:]


def main(c, tmp):
    # the documented step for a policy with classes: the valve Role names each class's Lease
    p = c.apply_manifests(valve_classes=("lab",))
    tap("clusterrole.rbac.authorization.k8s.io/nodeprint created" in p.stdout,
        "kubectl apply -k manifests/ with the built kubectl", p.stdout + p.stderr)
    role = json.loads(c.kubectl("get", "clusterrole", "nodeprint", "-o", "json").stdout)
    valve_role = json.loads(c.kubectl("get", "role", "nodeprint-valve", "-n", "nodeprint", "-o", "json").stdout)
    for n in ("node-1", "node-2", "node-3"):
        c.create_node(n, labels={"team": "storage"}, taints=[{"key": "dedicated", "value": "storage", "effect": "NoSchedule"}])
    kc = c.agent_kubeconfig("node-1")
    who = json.loads(c.kubectl("auth", "whoami", "-o", "json", kubeconfig=kc).stdout)["status"]["userInfo"]
    tap(who["username"] == AGENT_USER and who.get("extra", {}).get("authentication.kubernetes.io/node-name") == ["node-1"],
        "the bound token (TokenRequest for the Pod on node-1) carries node-name node-1", who)

    # the admission policy takes effect once its informer has it: wait until a foreign write is denied
    c.wait(lambda: c.kubectl("label", "--overwrite", "node", "node-2", "nodeprint.io/probe=1",
                             kubeconfig=kc, check=False).returncode != 0, timeout=30, every=0.5)

    drift_text = ("taintHoldDownSeconds: 0\nevents: {aggregateSeconds: 600}\n"
                  "classes:\n  - name: lab\n    pins: {kernel: {release: ['1.0.*']}}\n")
    pinned_text = drift_text.replace("'1.0.*'", f"'{HOST_RELEASE}'")
    drift = write(f"{tmp}/drift.yaml", drift_text)
    mark = c.audit_mark()
    # drift: taint (after the safety valve's LIST), condition, FirmwareDrift Event; to the end of its cycles
    logs = [c.run_agent("node-1", drift, kc, host_root=HOST_ROOT, cycles=3)]
    # one long-running agent whose policy flips pinned -> drift -> pinned -> drift: its second
    # FirmwareDrift repeats the first within events.aggregateSeconds, a count PATCH of the same Event
    live = write(f"{tmp}/live.yaml", pinned_text)
    bg = subprocess.Popen([NODEPRINT, "run", "--node-name", "node-1", "--kubeconfig", kc, "--policy", live,
                           "--host-root", HOST_ROOT, "--poll", "0.3", "--settle", "0"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    states = []
    try:
        for text, want in ((pinned_text, "pinned"), (drift_text, "drift"), (pinned_text, "pinned"), (drift_text, "drift")):
            if states:      # (the first is the file it starts with; a SIGHUP before its handler would end it)
                write(live, text)
                bg.send_signal(signal.SIGHUP)
            got = c.wait(lambda: (n := c.node("node-1"))["metadata"]["labels"].get("nodeprint.io/bundle-state") == want and
                         any(t["key"] == "nodeprint.io/firmware-unpinned" for t in n["spec"].get("taints", [])) == (want == "drift"),
                         timeout=30)
            states.append((want, bool(got)))
        time.sleep(1)
    finally:
        bg.terminate()
        logs.append(subprocess.CompletedProcess(bg.args, bg.wait(timeout=30), "", bg.stderr.read()))
    tap(all(ok for _, ok in states), "the agent published drift and pinned in turn with the shipped RBAC only",
        (states, [x.stderr[-600:] for x in logs]))
    ev = json.loads(c.kubectl("get", "events", "-n", "default", "--field-selector",
                              "involvedObject.name=node-1,reason=FirmwareDrift", "-o", "json").stdout)["items"]
    tap(sorted(e.get("count", 1) for e in ev) == [1, 2], "FirmwareDrift: the first run's Event, and one of count 2 from the "
        "long-running agent", [(e["metadata"]["name"], e.get("count")) for e in ev])
    reqs = agent_requests(c.audit(mark))
    by = {}
    for e in reqs:
        k = f"{e['verb']} {used_key(e)[1]} {e['responseStatus']['code']}"
        by[k] = by.get(k, 0) + 1
    print(f"# agent requests by verb, resource and status: {json.dumps(dict(sorted(by.items())))}", flush=True)
    forbidden = [f"{e['verb']} {e['requestURI']}" for e in reqs if e["responseStatus"]["code"] == 403]
    tap(reqs and not forbidden, f"audit log: {len(reqs)} agent requests, 0 answered 403", forbidden)
    tap(all(x.returncode == 0 for x in logs), "every agent run exits 0", [x.stderr[-400:] for x in logs])

    granted = rule_keys(role)
    valve_granted = rule_keys(valve_role)
    used = {used_key(e) for e in reqs if e["responseStatus"]["code"] < 400}
    beyond = sorted(used - granted - valve_granted)
    tap(not beyond, "every request the agent made is one the ClusterRole or the valve Role grants", beyond)
    lease_names = {e["objectRef"].get("name") for e in reqs if e.get("objectRef", {}).get("resource") == "leases"}
    tap(sorted(valve_granted) == [("coordination.k8s.io", "leases", v) for v in ("create", "get", "update")] and
        used & valve_granted == valve_granted and lease_names <= {"nodeprint-valve-lab", None},
        "the valve Role: leases create/get/update, all used, on the class's Lease only", (sorted(used & valve_granted), lease_names))
    tap(valve_role["metadata"]["namespace"] == "nodeprint", "the valve Role is a Role in nodeprint's namespace")
    # pods list, persistentvolumes get: only Events about a stalled volume resolve Pods and PVs; the
    # node-in-a-box agent group (tests/vm) makes that happen on a real kernel
    here = {k for k in granted if k[1] not in ("pods", "persistentvolumes")}
    unused = sorted(here - used)
    tap(not unused, "every node and event verb of the ClusterRole is used", unused)

    # denials, each by the layer meant for it
    m = c.audit_mark()
    p = c.kubectl("label", "--overwrite", "node", "node-2", "nodeprint.io/bundle=x", kubeconfig=kc, check=False)
    code, by_what, msg = denial(c, m, "/nodes/node-2")
    tap(p.returncode != 0 and code == 403 and by_what == "admission policy nodeprint-own-node" and "own Node" in msg,
        f"node-1's token writing node-2: {code}, denied by the {by_what}", (p.stderr, msg))
    m = c.audit_mark()
    p = c.kubectl("label", "--overwrite", "node", "node-1", "team=web", kubeconfig=kc, check=False)
    code, by_what, msg = denial(c, m, "/nodes/node-1")
    tap(p.returncode != 0 and code == 403 and by_what == "admission policy nodeprint-own-node" and "labels under" in msg,
        f"a label outside nodeprint.io/ on its own Node: {code}, denied by the {by_what}", (p.stderr, msg))
    m = c.audit_mark()
    p = c.kubectl("taint", "node", "node-1", "dedicated=storage:NoSchedule-", kubeconfig=kc, check=False)
    code, by_what, msg = denial(c, m, "/nodes/node-1")
    tap(p.returncode != 0 and code == 403 and by_what == "admission policy nodeprint-own-node" and "taints" in msg,
        f"removing a foreign taint: {code}, denied by the {by_what}", (p.stderr, msg))
    tap(any(t["key"] == "dedicated" for t in c.node("node-1")["spec"]["taints"]), "the foreign taint is still there")
    m = c.audit_mark()
    p = c.kubectl("delete", "node", "node-3", kubeconfig=kc, check=False)
    code, by_what, msg = denial(c, m, "/nodes/node-3")
    tap(p.returncode != 0 and code == 403 and by_what == "RBAC", f"deleting a Node: {code}, denied by {by_what}", (p.stderr, msg))
    m = c.audit_mark()
    p = c.kubectl("get", "secrets", "-n", "kube-system", kubeconfig=kc, check=False)
    code, by_what, msg = denial(c, m, "/secrets")
    tap(p.returncode != 0 and code == 403 and by_what == "RBAC", f"reading Secrets: {code}, denied by {by_what}", p.stderr)
    m = c.audit_mark()
    st, body = c.api("POST", "/apis/coordination.k8s.io/v1/namespaces/nodeprint/leases",
                     {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "not-the-valve"}},
                     token=agent_token(kc))
    code, by_what, msg = denial(c, m, "/leases")
    tap(st == 403 and by_what == "admission policy nodeprint-valve-leases" and "safety valve" in msg,
        f"creating a Lease that is not the valve's: {code}, denied by the {by_what}", (body, msg))
    _, other = c.api("POST", "/apis/coordination.k8s.io/v1/namespaces/nodeprint/leases",
                     {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "someone-elses"}})
    m = c.audit_mark()
    st, body = c.api("PUT", "/apis/coordination.k8s.io/v1/namespaces/nodeprint/leases/someone-elses",
                     {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                      "metadata": {"name": "someone-elses", "namespace": "nodeprint",
                                   "resourceVersion": other["metadata"]["resourceVersion"]},
                      "spec": {"holderIdentity": "x"}}, token=agent_token(kc))
    code, by_what, msg = denial(c, m, "/leases/someone-elses")
    tap(st == 403 and by_what == "admission policy nodeprint-valve-leases",
        f"updating another Lease in its namespace: {code}, denied by the {by_what}", (body, msg))
    m = c.audit_mark()
    st, body = c.api("GET", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-2", token=agent_token(kc))
    code, by_what, msg = denial(c, m, "/leases/node-2")
    tap(st == 403 and by_what == "RBAC", f"reading another Lease (a Node's heartbeat): {code}, denied by {by_what}", (body, msg))
    m = c.audit_mark()
    st, body = c.api("PATCH", "/api/v1/nodes/node-1/status", {"status": {"conditions": [
        {"type": "Ready", "status": "False", "reason": "Hijacked", "message": "x"}]}}, token=agent_token(kc),
        ctype="application/strategic-merge-patch+json")
    code, by_what, msg = denial(c, m, "/nodes/node-1/status")
    tap(st == 403 and code == 403 and by_what == "admission policy nodeprint-own-node" and "condition types" in msg,
        f"writing kubelet's Ready condition: {code}, denied by the {by_what}", (body, msg))
    tap({x["type"]: x["status"] for x in c.node("node-1")["status"]["conditions"]}.get("Ready") == "True",
        "kubelet's Ready condition is unchanged")


def agent_token(kubeconfig):
    return re.search(r"token: '([^']+)'", open(kubeconfig).read()).group(1)


if __name__ == "__main__":
    run_with_cluster(main, "test_least_privilege")
