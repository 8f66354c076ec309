#!/usr/bin/env python3
"""test_server.py - the test cluster the kube and vm suites use: a real kube-apiserver (v1.37.2, from
tests/cluster/build.sh) behind the fault proxy (tests/cluster/faultproxy), started by tests/kube/server.sh.

Checks the API behaviour nodeprint relies on, with kubectl of the pinned release and curl as independent
clients (nodes, labels, taints, describe, events of both APIs, every patch type, resourceVersion
conflicts, field and label selectors, pagination, watch, the 422 Status of invalid writes, admission,
authentication modes and real token revocation), and the proxy itself: that it is transparent (users,
HTTP/2, client certificates) and that every fault mode shows as asked in its request log. A restart in
the same folder keeps the ports, tokens and objects. Prints TAP. Needs curl and python3.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # tests/: taplib
import taplib  # noqa: E402
from taplib import eq, tap  # noqa: E402

ENV = {}
START_ENV = {}


def curl(method, path, body=None, ctype=None, token="admin", extra=(), http1=False):
    """One request; returns (http status or 0, parsed JSON body or text, curl exit code, headers)."""
    args = ["curl", "-sS", "--max-time", "20", "--cacert", ENV["NP_KUBE_CA"], "-X", method,
            "-D", "-", "-o", "/dev/stdout", "-A", "np-test-curl/1"]
    if http1:
        args.append("--http1.1")
    if token == "admin":
        args += ["-H", "Authorization: Bearer " + ENV["NP_KUBE_ADMIN_TOKEN"]]
    elif token == "agent":
        args += ["-H", "Authorization: Bearer " + ENV["NP_KUBE_AGENT_TOKEN"]]
    elif token:
        args += ["-H", "Authorization: Bearer " + token]
    if ctype:
        args += ["-H", "Content-Type: " + ctype]
    if body is not None:
        args += ["--data-binary", body if isinstance(body, str) else json.dumps(body)]
    args += list(extra)
    url = path if path.startswith("https://") else ENV["NP_KUBE_SERVER"] + path
    p = subprocess.run(args + [url], capture_output=True)  # bytes: keep the CRLFs of the header block
    out = p.stdout.decode("utf-8", "replace")
    status, headers = 0, {}
    # headers block(s), then body
    while out.startswith("HTTP/"):
        head, _, out = out.partition("\r\n\r\n")
        lines = head.split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
    try:
        data = json.loads(out) if out.strip() else None
    except ValueError:
        data = out
    return status, data, p.returncode, headers


def ctl(method, what, body=None):
    return curl(method, ENV["NP_KUBE_CONTROL_URL"] + "/" + what, body,
                "application/json" if body is not None else None)


def fault(**kw):
    st, data, _, _ = ctl("POST", "faults", kw)
    if st != 201:
        raise RuntimeError("fault %r not accepted: %s %r" % (kw, st, data))
    return data


def log_since(seq):
    _, data, _, _ = ctl("GET", "requests?since=%d" % seq)
    return data["requests"]


def last_seq():
    return ctl("GET", "requests?since=999999999")[1]["last_seq"]


KUBECTL = None  # the pinned release's, from the cluster's env (NP_K8S_BIN)


def kubectl(*args, kubeconfig=None, stdin=None):
    p = subprocess.run([KUBECTL, "--kubeconfig", kubeconfig or ENV["NP_KUBE_KUBECONFIG"]] + list(args),
                       input=stdin, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def status_causes(data):
    return sorted(c.get("field", "") for c in (data or {}).get("details", {}).get("causes", []))


def main():
    global KUBECTL
    tmp = tempfile.mkdtemp(prefix="np-kube-test.")
    START_ENV.update(os.environ)
    s = subprocess.run([os.path.join(HERE, "server.sh"), "start", tmp], capture_output=True, text=True, env=START_ENV)
    if not tap(s.returncode == 0, "kube-apiserver and the fault proxy start and become ready", s.stderr[-3000:]):
        return
    print("# " + s.stderr.strip().replace("\n", "\n# "))
    for line in s.stdout.splitlines():
        k, _, v = line[len("export "):].partition("=")
        ENV[k] = v.strip("'")
    KUBECTL = os.path.join(ENV["NP_K8S_BIN"], "kubectl")
    try:
        run_tests(tmp)
        restart(tmp)
    finally:
        subprocess.run([os.path.join(HERE, "server.sh"), "stop", tmp])
        if not os.path.exists(os.path.join(tmp, "pid")):
            shutil.rmtree(tmp, ignore_errors=True)
    tap(subprocess.run(["sh", "-c", "kill -0 %s" % ENV["NP_KUBE_PID"]], capture_output=True).returncode != 0,
        "server.sh stop ends kube-apiserver")
    shutil.rmtree(tmp, ignore_errors=True)


NODE = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1", "labels": {"kubernetes.io/hostname": "node-1"}},
        "spec": {"taints": [{"key": "autoscaler.example.com/scale-down", "value": "soon", "effect": "PreferNoSchedule"}]}}


def restart(tmp):
    """stop + start in the same folder: same port, CA, tokens and objects."""
    server = os.path.join(HERE, "server.sh")
    before = dict(ENV)
    rv = curl("GET", "/api/v1/nodes/node-1")[1]["metadata"]["resourceVersion"]
    old = os.path.join(tmp, "other")
    shutil.copy(ENV["NP_KUBE_CLIENT_CERT"], old + "/old-admin.crt")
    shutil.copy(ENV["NP_KUBE_CLIENT_KEY"], old + "/old-admin.key")
    subprocess.run([server, "stop", tmp], capture_output=True)
    st, _, rc, _ = curl("GET", "/api/v1/nodes/node-1")
    tap(st == 0 and rc != 0, "stopped: the port refuses connections", (st, rc))
    s = subprocess.run([server, "start", tmp], capture_output=True, text=True, env=START_ENV)
    for line in s.stdout.splitlines():
        k, _, v = line[len("export "):].partition("=")
        ENV[k] = v.strip("'")
    same = [k for k in ("NP_KUBE_SERVER", "NP_KUBE_ADMIN_TOKEN", "NP_KUBE_AGENT_TOKEN") if ENV.get(k) == before.get(k)]
    tap(s.returncode == 0 and len(same) == 3, "restart in the same folder keeps port and tokens", s.stderr + repr(same))
    st, n, _, _ = curl("GET", "/api/v1/nodes/node-1")
    eq((st, n["metadata"]["resourceVersion"] == rv, n["metadata"]["labels"].get("disktype")), (200, True, "nvme"),
       "restart keeps the stored objects and their resourceVersion")
    st, _, _, _ = curl("GET", "/api/v1/nodes/node-1", token=None,
                       extra=["--cert", old + "/old-admin.crt", "--key", old + "/old-admin.key"])
    eq(st, 200, "restart keeps the CA (client certificates issued before stay valid)")


def run_tests(tmp):
    # ---- basic wiring ----
    st, data, _, _ = curl("GET", "/version")
    eq((st, data.get("gitVersion")), (200, "v1.37.2"), "GET /version: kube-apiserver of the pinned release")
    st, data, _, _ = curl("GET", "/api/v1/nodes", token=None)
    eq((st, "system:anonymous" in (data or {}).get("message", "")), (403, True),
       "no credentials -> 403: anonymous requests are on, as in kube-apiserver's default, and RBAC refuses them")
    st, data, _, _ = curl("GET", "/api/v1/nodes", token="not-a-token")
    eq((st, data.get("kind"), data.get("reason")), (401, "Status", "Unauthorized"), "unknown token -> 401 Status")
    st, _, rc, _ = curl("GET", "/api/v1/nodes", extra=["-w", "", "-o", "/dev/null", "--http2"])
    p = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_version}", "--cacert", ENV["NP_KUBE_CA"],
                        "-H", "Authorization: Bearer " + ENV["NP_KUBE_ADMIN_TOKEN"], ENV["NP_KUBE_SERVER"] + "/api/v1/nodes"],
                       capture_output=True, text=True)
    eq(p.stdout, "2", "HTTP/2 is offered (ALPN h2)")
    p = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", ENV["NP_KUBE_SERVER"] + "/api"],
                       capture_output=True, text=True)
    tap(p.stdout == "000", "TLS: the server's certificate is not trusted without the test CA", p.stdout)
    st, data, _, _ = curl("GET", "/api/v1/namespaces")
    names = sorted(i["metadata"]["name"] for i in data.get("items", []))
    tap(st == 200 and {"default", "kube-system", "nodeprint"} <= set(names), "default namespaces exist", names)

    # ---- kubectl as an independent client (or curl when absent) ----
    rc, out, err = kubectl("version", "-o", "json")
    eq(json.loads(out or "{}").get("clientVersion", {}).get("gitVersion"), "v1.37.2", "kubectl of the pinned release")
    rc, out, err = kubectl("create", "-f", "-", stdin=json.dumps(NODE))
    tap(rc == 0, "kubectl create node", err)
    rc, out, err = kubectl("get", "nodes", "--no-headers")
    eq(out.split()[:1], ["node-1"], "kubectl get nodes")
    rc, out, err = kubectl("label", "node", "node-1", "disktype=ssd")
    tap(rc == 0, "kubectl label node", err)
    rc, out, err = kubectl("taint", "node", "node-1", "dedicated=test:NoSchedule")
    tap(rc == 0, "kubectl taint node", err)
    st, n, _, _ = curl("GET", "/api/v1/nodes/node-1")
    eq(n["metadata"]["labels"].get("disktype"), "ssd", "label stored")
    eq(sorted((t["key"], t.get("value"), t["effect"]) for t in n["spec"]["taints"]),
       [("autoscaler.example.com/scale-down", "soon", "PreferNoSchedule"), ("dedicated", "test", "NoSchedule"),
        ("node.kubernetes.io/not-ready", None, "NoSchedule")],
       "taint added, the other writers' taints kept (not-ready: added to every new Node by the TaintNodesByCondition "
       "admission plugin)")
    if KUBECTL:
        rc, out, err = kubectl("describe", "node", "node-1")
        tap(rc == 0 and "dedicated=test:NoSchedule" in out and "disktype=ssd" in out, "kubectl describe node", out + err)
        rc, out, err = kubectl("--kubeconfig", ENV["NP_KUBE_CERT_KUBECONFIG"], "get", "node", "node-1", "-o", "name")
        eq(out.strip(), "node/node-1", "kubectl with a client certificate")
        rc, out, err = kubectl("get", "nodes", "-o", "name", kubeconfig=ENV["NP_KUBE_AGENT_TOKENFILE_KUBECONFIG"])
        eq(out.strip(), "node/node-1", "kubectl with the agent's tokenFile")
        rc, out, err = kubectl("taint", "node", "node-1", "dedicated=test:NoSchedule-")
        tap(rc == 0, "kubectl taint removal", err)
        rc, out, err = kubectl("taint", "node", "node-1", "dedicated=test:NoSchedule")

    # ---- events: core/v1 and events.k8s.io/v1 ----
    ev = {"metadata": {"name": "node-1.np1"}, "involvedObject": {"kind": "Node", "name": "node-1", "uid": "node-1"},
          "reason": "NVMeCriticalWarning", "message": "nvme0 spare below threshold", "type": "Warning", "count": 1,
          "source": {"component": "nodeprint", "host": "node-1"}}
    st, _, _, _ = curl("POST", "/api/v1/namespaces/default/events", ev, "application/json")
    eq(st, 201, "POST core/v1 event")
    st, data, _, _ = curl("PATCH", "/api/v1/namespaces/default/events/node-1.np1", {"count": 2},
                          "application/strategic-merge-patch+json")
    eq((st, data.get("count")), (200, 2), "PATCH core/v1 event (count)")
    ev2 = {"metadata": {"name": "node-1.np2"}, "eventTime": "2026-01-01T00:00:00.000000Z", "reportingController": "nodeprint.io/agent",
           "reportingInstance": "nodeprint-node-1", "action": "Inspect", "reason": "PathFailed", "note": "mpatha lost a path",
           "type": "Warning", "regarding": {"kind": "Node", "name": "node-1"}}
    st, data, _, _ = curl("POST", "/apis/events.k8s.io/v1/namespaces/default/events", ev2, "application/json")
    eq(st, 201, "POST events.k8s.io/v1 event")
    st, data, _, _ = curl("PATCH", "/apis/events.k8s.io/v1/namespaces/default/events/node-1.np2",
                          {"series": {"count": 2, "lastObservedTime": "2026-01-01T00:01:00.000000Z"}}, "application/merge-patch+json")
    eq((st, (data.get("series") or {}).get("count")), (200, 2), "PATCH events.k8s.io/v1 event series")
    st, data, _, _ = curl("GET", "/api/v1/namespaces/default/events/node-1.np2")
    eq((data.get("message"), data.get("involvedObject", {}).get("name")), ("mpatha lost a path", "node-1"),
       "events.k8s.io event read back through core/v1")
    st, data, _, _ = curl("GET", "/api/v1/namespaces/default/events?fieldSelector=involvedObject.kind%3DNode,involvedObject.name%3Dnode-1,reason%3DNVMeCriticalWarning")
    eq([i["metadata"]["name"] for i in data.get("items", [])], ["node-1.np1"], "events field selector involvedObject.*,reason")
    st, data, _, _ = curl("GET", "/apis/events.k8s.io/v1/namespaces/default/events?fieldSelector=regarding.name%3Dnode-1,reportingController%3Dnodeprint.io/agent")
    eq([i["metadata"]["name"] for i in data.get("items", [])], ["node-1.np2"], "events.k8s.io field selector regarding.name,reportingController")
    if KUBECTL:
        rc, out, err = kubectl("get", "events", "--field-selector", "involvedObject.name=node-1")
        tap(rc == 0 and "NVMeCriticalWarning" in out and "PathFailed" in out, "kubectl get events --field-selector", out + err)
        rc, out, err = kubectl("describe", "node", "node-1")
        tap("NVMeCriticalWarning" in out, "kubectl describe node shows the node's events", out)

    # ---- patches of each type ----
    st, n, _, _ = curl("PATCH", "/api/v1/nodes/node-1/status",
                       {"status": {"conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"},
                                                  {"type": "MemoryPressure", "status": "False"}]}}, "application/merge-patch+json")
    eq(st, 200, "merge patch nodes/status")
    st, n, _, _ = curl("PATCH", "/api/v1/nodes/node-1/status",
                       {"status": {"conditions": [{"type": "nodeprint.io/StorageHealthy", "status": "False", "reason": "NVMeSpareLow"}]}},
                       "application/strategic-merge-patch+json")
    eq(sorted(c["type"] + "=" + c["status"] for c in n["status"]["conditions"]),
       ["MemoryPressure=False", "Ready=True", "nodeprint.io/StorageHealthy=False"],
       "strategic merge patch adds a condition by type, keeps the others")
    st, n, _, _ = curl("PATCH", "/api/v1/nodes/node-1", {"spec": {"unschedulable": True}, "status": {"conditions": []}},
                       "application/merge-patch+json")
    eq((st, len(n["status"]["conditions"]), n["spec"].get("unschedulable")), (200, 3, True),
       "status is ignored on the main resource")
    rv = n["metadata"]["resourceVersion"]
    st, n, _, _ = curl("PATCH", "/api/v1/nodes/node-1",
                       [{"op": "test", "path": "/metadata/labels/disktype", "value": "ssd"},
                        {"op": "replace", "path": "/metadata/labels/disktype", "value": "nvme"}], "application/json-patch+json")
    eq((st, n["metadata"]["labels"].get("disktype")), (200, "nvme"), "JSON patch with a passing test op")
    tap(int(n["metadata"]["resourceVersion"]) > int(rv), "resourceVersion increases on write",
        (rv, n["metadata"]["resourceVersion"]))
    st, data, _, _ = curl("PATCH", "/api/v1/nodes/node-1",
                          [{"op": "test", "path": "/metadata/labels/disktype", "value": "ssd"},
                           {"op": "remove", "path": "/metadata/labels/disktype"}], "application/json-patch+json")
    eq((st, data.get("kind"), data.get("reason")), (422, "Status", "Invalid"), "JSON patch with a failing test op -> 422 Status")
    st, data, _, _ = curl("PATCH", "/api/v1/nodes/node-1", {"metadata": {"resourceVersion": rv, "labels": {"x": "y"}}},
                          "application/merge-patch+json")
    eq((st, data.get("reason")), (409, "Conflict"), "merge patch with a stale resourceVersion -> 409 Conflict")
    cur = curl("GET", "/api/v1/nodes/node-1")[1]["metadata"]["resourceVersion"]
    st, data, _, _ = curl("PATCH", "/api/v1/nodes/node-1", {"metadata": {"resourceVersion": cur, "labels": {"x": "y"}}},
                          "application/merge-patch+json")
    eq(st, 200, "merge patch with the current resourceVersion -> 200")
    apply = ("apiVersion: v1\nkind: Node\nmetadata:\n  name: node-1\n  labels:\n    nodeprint.io/bundle: abc123\n")
    st, n, _, _ = curl("PATCH", "/api/v1/nodes/node-1?fieldManager=nodeprint", apply, "application/apply-patch+yaml")
    eq((st, n["metadata"]["labels"].get("nodeprint.io/bundle"), n["metadata"]["labels"].get("x")), (200, "abc123", "y"),
       "server-side apply adds its label, keeps others")
    managers = sorted(m["manager"] for m in n["metadata"].get("managedFields", []))
    tap("nodeprint" in managers, "server-side apply records its field manager", managers)
    if KUBECTL:
        steal = ("apiVersion: v1\nkind: Node\nmetadata:\n  name: node-1\nspec:\n  taints:\n"
                 "  - key: dedicated\n    value: other\n    effect: NoSchedule\n")
        st, data, _, _ = curl("PATCH", "/api/v1/nodes/node-1?fieldManager=nodeprint", steal, "application/apply-patch+yaml")
        eq((st, data.get("reason")), (409, "Conflict"), "server-side apply conflicting with kubectl's taint -> 409")
    st, n, _, _ = curl("PATCH", "/api/v1/nodes/node-1", {"spec": {"unschedulable": False}}, "application/merge-patch+json")

    # ---- selectors, pagination, other resources, watch ----
    for i in range(3):
        pod = {"metadata": {"name": "p%d" % i, "namespace": "default", "labels": {"app": "np" if i < 2 else "other"}},
               "spec": {"nodeName": "node-1" if i != 1 else "node-2", "containers": [{"name": "c", "image": "i"}]}}
        curl("POST", "/api/v1/namespaces/default/pods", pod, "application/json")
    st, data, _, _ = curl("GET", "/api/v1/namespaces/default/pods?fieldSelector=spec.nodeName%3Dnode-1")
    eq(sorted(i["metadata"]["name"] for i in data["items"]), ["p0", "p2"], "LIST pods fieldSelector spec.nodeName")
    st, data, _, _ = curl("GET", "/api/v1/namespaces/default/pods?labelSelector=app%3Dnp,app!%3Dother")
    eq(sorted(i["metadata"]["name"] for i in data["items"]), ["p0", "p1"], "LIST pods labelSelector")
    st, data, _, _ = curl("GET", "/api/v1/nodes?fieldSelector=metadata.name%3Dnode-1")
    eq([i["metadata"]["name"] for i in data["items"]], ["node-1"], "LIST nodes fieldSelector metadata.name")
    st, data, _, _ = curl("GET", "/api/v1/pods?fieldSelector=spec.bogus%3Dx")
    eq(st, 400, "unsupported field selector -> 400")
    st, page1, _, _ = curl("GET", "/api/v1/namespaces/default/pods?limit=2")
    cont = page1.get("metadata", {}).get("continue", "")
    st, page2, _, _ = curl("GET", "/api/v1/namespaces/default/pods?limit=2&continue=" + cont)
    eq((len(page1["items"]), bool(cont), len(page2["items"]), page2["metadata"].get("continue", "")), (2, True, 1, ""),
       "pagination limit/continue")
    pv = {"metadata": {"name": "pv-1"}, "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                                                  "hostPath": {"path": "/tmp"}}}
    st, _, _, _ = curl("POST", "/api/v1/persistentvolumes", pv, "application/json")
    st2, data, _, _ = curl("GET", "/api/v1/persistentvolumes/pv-1")
    eq((st, st2, data.get("status", {}).get("phase")), (201, 200, "Pending"), "persistentvolumes create/get")
    pvc = {"metadata": {"name": "pvc-1"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}
    st, _, _, _ = curl("POST", "/api/v1/namespaces/default/persistentvolumeclaims", pvc, "application/json")
    st2, data, _, _ = curl("GET", "/api/v1/namespaces/default/persistentvolumeclaims/pvc-1")
    eq((st, st2), (201, 200), "persistentvolumeclaims create/get")
    lease = {"metadata": {"name": "node-1"}, "spec": {"holderIdentity": "node-1", "leaseDurationSeconds": 40}}
    st, _, _, _ = curl("POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", lease, "application/json")
    st2, data, _, _ = curl("GET", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-1")
    eq((st, st2, data.get("spec", {}).get("holderIdentity")), (201, 200, "node-1"), "leases create/get")
    rv = curl("GET", "/api/v1/nodes/node-1")[1]["metadata"]["resourceVersion"]
    w = subprocess.Popen(["curl", "-sS", "-N", "--max-time", "15", "--cacert", ENV["NP_KUBE_CA"], "-H",
                          "Authorization: Bearer " + ENV["NP_KUBE_ADMIN_TOKEN"],
                          ENV["NP_KUBE_SERVER"] + "/api/v1/nodes?watch=true&fieldSelector=metadata.name%3Dnode-1&resourceVersion="
                          + rv + "&timeoutSeconds=3"], stdout=subprocess.PIPE, text=True)
    time.sleep(0.5)
    curl("PATCH", "/api/v1/nodes/node-1", {"metadata": {"labels": {"watched": "yes"}}}, "application/merge-patch+json")
    out, _ = w.communicate(timeout=30)
    evs = [json.loads(l) for l in out.splitlines() if l.strip()]
    tap(any(e["type"] == "MODIFIED" and e["object"]["metadata"]["labels"].get("watched") == "yes" for e in evs),
        "WATCH a node sees the MODIFIED event", out[-500:])

    # ---- validation: 422 with a Status body ----
    def invalid(path, body, ctype, fields, name):
        st, data, _, _ = curl("PATCH" if ctype.endswith("patch+json") else "POST", path, body, ctype)
        ok = st == 422 and isinstance(data, dict) and data.get("kind") == "Status" and data.get("reason") == "Invalid"
        got = status_causes(data) if isinstance(data, dict) else data
        tap(ok and all(f in got for f in fields), name, "status %s, causes %r, want %r" % (st, got, fields))

    mp = "application/merge-patch+json"
    invalid("/api/v1/nodes/node-1", {"spec": {"taints": [{"key": "bad key!", "effect": "NoSchedule"}]}}, mp,
            ["metadata.taints[0].key"], "taint key not a qualified name -> 422 (kube-apiserver names the field metadata.taints)")
    invalid("/api/v1/nodes/node-1", {"spec": {"taints": [{"key": "a", "value": "has spaces", "effect": "NoSchedule"}]}}, mp,
            ["metadata.taints[0].value"], "taint value not a label value -> 422")
    invalid("/api/v1/nodes/node-1", {"spec": {"taints": [{"key": "a", "effect": "Sometimes"}]}}, mp,
            ["metadata.taints[0].effect"], "taint effect not supported -> 422")
    invalid("/api/v1/nodes/node-1", {"spec": {"taints": [{"key": "a"}]}}, mp,
            ["metadata.taints[0].effect"], "taint effect missing -> 422")
    invalid("/api/v1/nodes/node-1", {"spec": {"taints": [{"key": "a", "value": "1", "effect": "NoSchedule"},
                                                         {"key": "a", "value": "2", "effect": "NoSchedule"}]}}, mp,
            ["metadata.taints[1]"], "duplicate taint key+effect -> 422")
    # kube-apiserver does not validate Node conditions: another writer may leave any status, or no type
    # (the agent reads such foreign conditions and leaves them alone: tests/kube/test_agent.py)
    st, n, _, _ = curl("PATCH", "/api/v1/nodes/node-1/status", {"status": {"conditions": [
        {"type": "Ready", "status": "True", "reason": "KubeletReady"}, {"type": "MemoryPressure", "status": "False"},
        {"type": "example.com/Odd", "status": "Maybe"}, {"type": "", "status": "True"}]}}, mp)
    eq((st, [(c["type"], c["status"]) for c in (n or {}).get("status", {}).get("conditions", [])][2:]),
       (200, [("example.com/Odd", "Maybe"), ("", "True")]), "a condition status outside True|False|Unknown and an "
       "empty condition type are stored (not validated)")
    invalid("/api/v1/nodes/node-1", {"metadata": {"labels": {"bad": "has spaces"}}}, mp,
            ["metadata.labels"], "label value invalid -> 422 (apimachinery)")
    invalid("/api/v1/nodes/node-1", {"metadata": {"annotations": {"bad key!": "v"}}}, mp,
            ["metadata.annotations"], "annotation key invalid -> 422 (apimachinery)")
    invalid("/api/v1/namespaces/default/events", {"metadata": {"name": "e-bad3"}, "involvedObject": {"kind": "Node", "name": "node-1"},
                                                   "eventTime": "2026-01-01T00:00:00.000000Z", "type": "Normal"},
            "application/json", ["action", "reason", "reportingComponent", "reportingInstance"],
            "core/v1 event with eventTime needs reason, action, reporting* -> 422")
    bad = dict(ev2, metadata={"name": "e-bad4"}, type="Info", regarding={})
    del bad["eventTime"]
    invalid("/apis/events.k8s.io/v1/namespaces/default/events", bad, "application/json",
            ["eventTime", "type"], "events.k8s.io event without eventTime, bad type -> 422")
    invalid("/apis/events.k8s.io/v1/namespaces/default/events/node-1.np2", {"series": {"count": 1, "lastObservedTime": None}}, mp,
            ["series.count", "series.lastObservedTime"], "events.k8s.io series count < 2 -> 422")
    invalid("/apis/events.k8s.io/v1/namespaces/default/events/node-1.np2", {"reason": "Other"}, mp,
            ["reason"], "events.k8s.io reason is immutable -> 422")
    invalid("/api/v1/nodes", {"metadata": {"name": "Bad_Node"}}, "application/json",
            ["metadata.name"], "node name not a DNS subdomain -> 422")

    # ---- admission: NamespaceLifecycle, ValidatingAdmissionPolicy (real CEL) on the agent's node-name extra ----
    cm = {"metadata": {"name": "c"}, "data": {"a": "b"}}
    st, data, _, _ = curl("POST", "/api/v1/namespaces/no-such-ns/configmaps", cm, "application/json")
    eq((st, (data or {}).get("reason")), (404, "NotFound"), "NamespaceLifecycle: no objects in a missing namespace")
    curl("POST", "/api/v1/nodes", {"metadata": {"name": "node-2"}}, "application/json")
    vap = {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
           "metadata": {"name": "np-own-node"},
           "spec": {"matchConstraints": {"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["UPDATE"],
                                                            "resources": ["nodes", "nodes/status"]}]},
                    "matchConditions": [{"name": "agent", "expression": "request.userInfo.username == '%s'" % ENV["NP_KUBE_AGENT_USER"]}],
                    "validations": [{"expression": "request.userInfo.extra[?'authentication.kubernetes.io/node-name']"
                                                   ".orValue([''])[0] == object.metadata.name",
                                     "message": "nodeprint may only write its own Node"}]}}
    binding = {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
               "metadata": {"name": "np-own-node"}, "spec": {"policyName": "np-own-node", "validationActions": ["Deny"]}}
    st1, data, _, _ = curl("POST", "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies", vap, "application/json")
    st2, _, _, _ = curl("POST", "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings", binding, "application/json")
    eq((st1, st2, (data or {}).get("spec", {}).get("failurePolicy"),
        (data or {}).get("spec", {}).get("matchConstraints", {}).get("namespaceSelector")), (201, 201, "Fail", {}),
       "ValidatingAdmissionPolicy and binding created, defaulted as kube-apiserver does")
    lbl = {"metadata": {"labels": {"nodeprint.io/vap": "1"}}}
    for _ in range(50):  # the plugin sees the new policy through its informer
        st, data, _, _ = curl("PATCH", "/api/v1/nodes/node-2", lbl, mp, token="agent")
        if st != 200:
            break
        time.sleep(0.1)
    eq((st, (data or {}).get("reason"), "nodeprint may only write its own Node" in (data or {}).get("message", "")),
       (422, "Invalid", True), "VAP denies the agent a write to another Node")
    st, _, _, _ = curl("PATCH", "/api/v1/nodes/%s/status" % ENV["NP_KUBE_AGENT_NODE"],
                       {"status": {"conditions": [{"type": "nodeprint.io/Probe", "status": "True"}]}},
                       "application/strategic-merge-patch+json", token="agent")
    st2, _, _, _ = curl("PATCH", "/api/v1/nodes/node-2", lbl, mp)
    eq((st, st2), (200, 200), "VAP lets the agent write its own Node, and the admin any Node")
    curl("DELETE", "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings/np-own-node")
    curl("DELETE", "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies/np-own-node")

    # ---- manifests: server-side dry run with strict field validation ----
    ds = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "nodeprint", "namespace": "nodeprint"},
          "spec": {"selector": {"matchLabels": {"app": "nodeprint"}},
                   "template": {"metadata": {"labels": {"app": "nodeprint"}},
                                "spec": {"containers": [{"name": "agent", "image": "nodeprint:test"}]}}}}
    st, _, _, _ = curl("POST", "/apis/apps/v1/namespaces/nodeprint/daemonsets?dryRun=All&fieldValidation=Strict", ds, "application/json")
    bad = json.loads(json.dumps(ds))
    bad["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    st2, data, _, _ = curl("POST", "/apis/apps/v1/namespaces/nodeprint/daemonsets?dryRun=All&fieldValidation=Strict", bad, "application/json")
    st3, _, _, _ = curl("GET", "/apis/apps/v1/namespaces/nodeprint/daemonsets/nodeprint")
    eq((st, st2, "imagePullPolicyy" in str((data or {}).get("message")), st3), (201, 400, True, 404),
       "DaemonSet dry run accepted; an unknown field refused by strict field validation; nothing stored")
    for path, obj in (("/api/v1/namespaces/nodeprint/serviceaccounts", {"metadata": {"name": "nodeprint-dry"}}),
                      ("/api/v1/namespaces/nodeprint/configmaps", {"metadata": {"name": "nodeprint-policy"}, "data": {"policy.yaml": "x"}}),
                      ("/apis/rbac.authorization.k8s.io/v1/clusterroles", {"metadata": {"name": "nodeprint-dry"}, "rules": [
                          {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "patch"]}]}),
                      ("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {"metadata": {"name": "nodeprint-dry"},
                          "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "nodeprint"},
                          "subjects": [{"kind": "ServiceAccount", "name": "nodeprint", "namespace": "nodeprint"}]})):
        st, _, _, _ = curl("POST", path + "?dryRun=All&fieldValidation=Strict", obj, "application/json")
        eq(st, 201, "dry run of %s" % path.rsplit("/", 1)[1])

    # ---- authentication modes, as the request log records them ----
    seq = last_seq()
    curl("GET", "/api/v1/nodes/node-1", token="agent")
    curl("GET", "/api/v1/nodes/node-1", token=None, extra=["--cert", ENV["NP_KUBE_AGENT_CLIENT_CERT"], "--key", ENV["NP_KUBE_AGENT_CLIENT_KEY"]])
    curl("GET", "/api/v1/nodes/node-1", token=None, extra=["--cert", ENV["NP_KUBE_CLIENT_CERT"], "--key", ENV["NP_KUBE_CLIENT_KEY"]])
    got = [(e["user"], e["status"]) for e in log_since(seq)]
    eq(got, [(ENV["NP_KUBE_AGENT_USER"], 200), (ENV["NP_KUBE_AGENT_USER"], 200), (ENV["NP_KUBE_ADMIN_USER"], 200)],
       "through the proxy: agent token, agent and admin client certificates; users in the request log")
    ssr = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    st, data, _, _ = curl("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", ssr, "application/json", token="agent")
    ui = (data or {}).get("status", {}).get("userInfo", {})
    eq((st, ui.get("username"), ui.get("extra", {}).get("authentication.kubernetes.io/node-name"),
        "system:serviceaccounts:nodeprint" in ui.get("groups", []), "system:authenticated" in ui.get("groups", [])),
       (201, ENV["NP_KUBE_AGENT_USER"], [ENV["NP_KUBE_AGENT_NODE"]], True, True),
       "SelfSubjectReview: the agent token carries the pod-bound node-name extra and its groups")
    rc, out, err = kubectl("auth", "whoami", "-o", "jsonpath={.status.userInfo.username}",
                           kubeconfig=ENV["NP_KUBE_AGENT_CERT_KUBECONFIG"])
    eq(out, ENV["NP_KUBE_AGENT_USER"], "kubectl auth whoami with the agent's client certificate")
    other = os.path.join(tmp, "other")
    os.makedirs(other)
    subprocess.run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout key.pem -out crt.pem "
                   "-days 1 -subj /CN=intruder/O=system:masters", shell=True, cwd=other, capture_output=True)
    st, _, _, _ = curl("GET", ENV["NP_KUBE_APISERVER_URL"] + "/api/v1/nodes", token=None,
                       extra=["--cert", other + "/crt.pem", "--key", other + "/key.pem"])
    st2, _, _, _ = curl("GET", "/api/v1/nodes", token=None, extra=["--cert", other + "/crt.pem", "--key", other + "/key.pem"])
    eq((st, st2), (401, 401), "client certificate from another CA -> 401 (kube-apiserver, and the proxy alike)")
    # a bound token is revoked by deleting the object it is bound to; the apiserver caches a token it
    # accepted for up to 10 s, so the 401 comes within that time
    rc1, _, _ = kubectl("-n", "nodeprint", "create", "secret", "generic", "np-bound")
    rc2, tok, _ = kubectl("-n", "nodeprint", "create", "token", "nodeprint", "--bound-object-kind", "Secret",
                          "--bound-object-name", "np-bound")
    tok = tok.strip()
    st, _, _, _ = curl("GET", "/api/v1/nodes/node-1", token=tok)
    kubectl("-n", "nodeprint", "delete", "secret", "np-bound")
    t0 = time.time()
    st2 = 200
    while st2 == 200 and time.time() - t0 < 15:
        time.sleep(0.5)
        st2, _, _, _ = curl("GET", ENV["NP_KUBE_APISERVER_URL"] + "/api/v1/nodes/node-1", token=tok)
    st3, _, _, _ = curl("GET", "/api/v1/nodes/node-1", token=tok)
    eq((rc1, rc2, st, st2, st3), (0, 0, 200, 401, 401), "a token bound to a Secret: accepted, then 401 once the Secret is "
       "deleted (after %.1f s), through the proxy too" % (time.time() - t0))
    st, _, _, _ = curl(ENV["NP_KUBE_CONTROL_URL"] and "GET", ENV["NP_KUBE_CONTROL_URL"] + "/requests", token="agent")
    eq(st, 401, "control API refuses the agent token")
    rc = [e for e in log_since(seq) if "/np-test" in e["path"]]
    eq(rc, [], "control API calls are not in the request log")

    # ---- fault injection, each mode visible in the request log ----
    path = "/api/v1/nodes/node-1"
    for code, reason in ((500, "InternalError"), (409, "Conflict"), (401, "Unauthorized")):
        seq = last_seq()
        fault(type=str(code), count=1, method="GET", path=path)
        st, data, _, _ = curl("GET", path)
        st2, _, _, _ = curl("GET", path)
        lg = [(e["status"], e.get("fault", "")) for e in log_since(seq)]
        eq((st, data.get("reason"), st2, lg), (code, reason, 200, [(code, str(code)), (200, "")]),
           "fault %d: next request answered %d with a Status, then normal; both in the log" % (code, code))
    seq = last_seq()
    fault(type="429", count=2, retry_after_s=3, path="/api/v1/nodes")
    r1 = curl("GET", path)
    r2 = curl("GET", "/api/v1/nodes")
    r3 = curl("GET", path)
    eq((r1[0], r1[3].get("retry-after"), r1[1].get("details", {}).get("retryAfterSeconds"), r2[0], r3[0]),
       (429, "3", 3, 429, 200), "fault 429 x2 with Retry-After: 3, then normal")
    eq([(e["status"], e.get("fault", "")) for e in log_since(seq)], [(429, "429"), (429, "429"), (200, "")],
       "fault 429 in the request log")
    seq = last_seq()
    fault(type="500", method="PATCH", path=path)
    st1, _, _, _ = curl("GET", path)
    st2, _, _, _ = curl("PATCH", path, {"metadata": {"labels": {"f": "1"}}}, mp)
    st3, _, _, _ = curl("PATCH", path, {"metadata": {"labels": {"f": "2"}}}, mp)
    eq((st1, st2, st3), (200, 500, 200), "fault matched by method: GET untouched, next PATCH 500")
    lg = log_since(seq)
    eq([(e["method"], e["status"], e["content_type"]) for e in lg],
       [("GET", 200, ""), ("PATCH", 500, mp), ("PATCH", 200, mp)], "request log: method, status, content type")
    e = lg[-1]
    tap(e["path"] == path and e["user"] == "np-admin" and e["user_agent"] == "np-test-curl/1" and e["time"].endswith("Z")
        and e["seq"] > seq, "request log entry: path, user, user agent, time, seq", e)
    seq = last_seq()
    fault(type="500", path_regex="^/api/v1/namespaces/[^/]+/events$", method="POST")
    st1, _, _, _ = curl("GET", "/api/v1/namespaces/default/events")
    st2, _, _, _ = curl("POST", "/api/v1/namespaces/default/events", dict(ev, metadata={"name": "ev-regex"}), "application/json")
    eq((st1, st2), (200, 500), "fault matched by path_regex and method")
    seq = last_seq()
    fault(type="delay", delay_ms=400, path=path)
    st, _, _, _ = curl("GET", path)
    lg = log_since(seq)
    eq((st, [(x["status"], x.get("fault")) for x in lg]), (200, [(200, "delay")]), "fault delay: answered normally, logged as delay")
    tap(lg and lg[0]["duration_ms"] >= 400, "fault delay: the request took at least delay_ms (server side)", lg)
    seq = last_seq()
    fault(type="drop", count=2, path=path)
    _, _, rc1, _ = curl("GET", path, http1=True)
    _, _, rc2, _ = curl("GET", path)
    st3, _, _, _ = curl("GET", path)
    tap(rc1 == 52 and rc2 not in (0, 52) and st3 == 200,
        "fault drop: HTTP/1.1 connection closed with no reply (curl 52), HTTP/2 stream reset, then normal",
        (rc1, rc2, st3))
    eq([(x["status"], x.get("fault")) for x in log_since(seq)], [(0, "drop"), (0, "drop"), (200, None)],
       "fault drop in the request log (status 0)")
    seq = last_seq()
    fault(type="500", user=ENV["NP_KUBE_AGENT_USER"])
    st1, _, _, _ = curl("GET", path)
    st2, _, _, _ = curl("GET", path, token=None, extra=["--cert", ENV["NP_KUBE_AGENT_CLIENT_CERT"], "--key", ENV["NP_KUBE_AGENT_CLIENT_KEY"]])
    fault(type="503", user_agent="nodeprint/")
    st3, _, _, _ = curl("GET", path, token="agent")
    st4, _, _, _ = curl("GET", path, token="agent", extra=["-A", "nodeprint/0.1 (test)"])
    eq((st1, st2, st3, st4), (200, 500, 200, 503),
       "fault matched by user (agent's client certificate) and by User-Agent prefix; others untouched")
    st, data, _, _ = ctl("POST", "faults", {"type": "418x"})
    eq(st, 400, "control: a malformed fault is refused")
    fault(type="500", count=5, path="/never")
    st, data, _, _ = ctl("GET", "faults")
    eq([(f["type"], f["count"], f["path"]) for f in data["faults"]], [("500", 5, "/never")], "control: pending faults listed")
    ctl("DELETE", "faults")
    eq(ctl("GET", "faults")[1]["faults"], [], "control: faults cleared")
    ctl("DELETE", "requests")
    eq(log_since(0), [], "control: request log reset")
    curl("GET", "/api/v1/nodes", token="agent")
    lg = log_since(0)
    eq([(x["path"], x["user"]) for x in lg], [("/api/v1/nodes", ENV["NP_KUBE_AGENT_USER"])], "request log records again after a reset")


if __name__ == "__main__":
    taplib.run(main, "test_server")
