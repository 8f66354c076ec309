#!/usr/bin/env python3
"""Eviction safety against the real taint-eviction controller (tests/cluster/cluster.sh):
- a policy action with taint NoExecute evicts exactly the pods of the node without a matching
  toleration (and one with tolerationSeconds after it), nothing on the other node;
- the default policy never uses NoExecute;
- with the shipped policy (ConfigMap of manifests/) plus a class the node drifts from, an agent
  restart, an API outage (the whole control plane restarted under a running agent) and a host root
  that becomes unreadable never put a NoExecute taint on the Node nor evict a pod: every version of
  the Node is watched with kubectl. TAP output."""
import json, os, shutil, subprocess, sys, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster import HOST_ROOT, NODEPRINT, run_with_cluster, tap, write  # noqa: E402

TAINT = "nodeprint.io/firmware-unpinned"



def pod(name, node, tolerations=()):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
            "spec": {"nodeName": node, "terminationGracePeriodSeconds": 30, "tolerations": list(tolerations),
                     "containers": [{"name": "app", "image": "registry.invalid/app:1"}]}}


def evicted(c, name):
    """True when the pod is being deleted (deletionTimestamp: no kubelet finishes it) or gone."""
    st, p = c.api("GET", f"/api/v1/namespaces/default/pods/{name}")
    return st == 404 or bool(p["metadata"].get("deletionTimestamp"))


def disruption(c, name):
    st, p = c.api("GET", f"/api/v1/namespaces/default/pods/{name}")
    if st != 200:
        return ""
    for cond in p.get("status", {}).get("conditions", []):
        if cond["type"] == "DisruptionTarget":
            return cond.get("reason", "")
    return ""


class NodeWatch:
    """Every version of a Node, from `kubectl get --watch` started again whenever it ends (a control
    plane restart ends it), JSON objects appended to @path."""
    def __init__(self, c, name, path):
        self.c, self.name, self.path, self.runs, self.proc = c, name, path, 0, None
        self.done = threading.Event()
        self.out = open(path, "w")
        self.t = threading.Thread(target=self._loop, daemon=True)
        self.t.start()

    def _loop(self):
        while not self.done.is_set():
            self.proc = subprocess.Popen([self.c.env["NP_KUBECTL"], "--kubeconfig", self.c.env["NP_KUBE_KUBECONFIG"], "get",
                                          "node", self.name, "--watch", "-o", "json"], stdout=self.out, stderr=subprocess.DEVNULL)
            self.runs += 1
            self.proc.wait()
            self.done.wait(0.5)

    def stop(self):
        self.done.set()
        if self.proc:
            self.proc.terminate()
        self.t.join(timeout=10)
        self.out.close()

    def versions(self):
        out, dec = [], json.JSONDecoder()
        text, i = open(self.path).read(), 0
        while i < len(text):
            while i < len(text) and text[i].isspace():
                i += 1
            if i >= len(text):
                break
            obj, i = dec.raw_decode(text, i)
            out.append(obj)
        return out


def main(c, tmp):
    c.apply_manifests(valve_classes=("lab", "shipped"))
    c.create_node("node-1")
    c.create_node("node-2")
    c.wait(lambda: c.api("GET", "/api/v1/namespaces/default/serviceaccounts/default")[0] == 200, timeout=60)
    kc = c.agent_kubeconfig("node-1")

    # 1. NoExecute from a policy action: the real taint-eviction controller evicts
    pods = {"plain": pod("plain", "node-1"),
            "tolerant": pod("tolerant", "node-1", [{"key": TAINT, "operator": "Exists", "effect": "NoExecute"}]),
            "for-a-while": pod("for-a-while", "node-1", [{"key": TAINT, "operator": "Exists", "effect": "NoExecute",
                                                          "tolerationSeconds": 3}]),
            "other-key": pod("other-key", "node-1", [{"key": "example.com/other", "operator": "Exists", "effect": "NoExecute"}]),
            "elsewhere": pod("elsewhere", "node-2")}
    for p in pods.values():
        c.must("POST", "/api/v1/namespaces/default/pods", p)
    noexec = write(f"{tmp}/noexec.yaml", "classes:\n  - name: lab\n    pins: {kernel: {release: ['1.0.*']}}\n"
                   "actions:\n  firmware-unpinned: {condition: BundlePinned, taint: NoExecute, event: FirmwareDrift}\n")
    t0 = time.monotonic()
    p = c.run_agent("node-1", noexec, kc, host_root=HOST_ROOT, cycles=2)
    taints = [(t["key"], t["effect"]) for t in c.node("node-1")["spec"].get("taints", []) if t["key"].startswith("nodeprint.io/")]
    tap(p.returncode == 0 and taints == [(TAINT, "NoExecute")], "the NoExecute action taints node-1", (taints, p.stderr[-800:]))
    c.wait(lambda: evicted(c, "plain") and evicted(c, "other-key") and evicted(c, "for-a-while"), timeout=60)
    dt = time.monotonic() - t0
    state = {n: evicted(c, n) for n in pods}
    tap(state == {"plain": True, "tolerant": False, "for-a-while": True, "other-key": True, "elsewhere": False},
        f"evicted: exactly the pods without a matching toleration, and the one whose tolerationSeconds ran out ({dt:.0f} s)", state)
    reasons = {n: disruption(c, n) for n in ("plain", "other-key")}
    tap(all(r == "DeletionByTaintManager" for r in reasons.values()), "by the taint-eviction controller (DisruptionTarget reason)",
        reasons)
    time.sleep(3)
    tap(not evicted(c, "tolerant") and not evicted(c, "elsewhere"), "the tolerating pod and node-2's pod stay")

    # 2. the default policy never uses NoExecute
    dflt = subprocess.run([NODEPRINT, "policy", "--default"], capture_output=True, text=True).stdout
    acts = [ln for ln in dflt.splitlines() if "taint:" in ln]
    tap(len(acts) >= 10 and not [a for a in acts if "NoExecute" in a], f"the default policy: {len(acts)} actions, none NoExecute",
        acts)
    cm = json.loads(c.kubectl("get", "configmap", "-n", "nodeprint", "nodeprint-policy", "-o", "json").stdout)["data"]["policy.yaml"]
    tap("NoExecute" not in cm and [ln for ln in cm.splitlines() if "taint:" in ln] == acts,
        "the shipped ConfigMap's policy is the default one")

    # 3. restart, API outage, unreadable host root with the shipped policy: never NoExecute, never an eviction
    c.create_node("node-3")
    kc3 = c.agent_kubeconfig("node-3")
    c.must("POST", "/api/v1/namespaces/default/pods", pod("stays", "node-3"))
    shipped = write(f"{tmp}/shipped.yaml", cm.replace("classes: []", "classes:\n  - name: shipped\n    pins: {kernel: {release: ['1.0.*']}}"))
    watcher = NodeWatch(c, "node-3", f"{tmp}/watch.json")
    root = os.path.join(tmp, "host")
    shutil.copytree(HOST_ROOT, root, symlinks=True)
    try:
        p = c.run_agent("node-3", shipped, kc3, host_root=root, cycles=2)
        ok1 = p.returncode == 0 and [t["effect"] for t in c.node("node-3")["spec"].get("taints", []) if t["key"] == TAINT] == ["NoSchedule"]
        p2 = c.run_agent("node-3", shipped, kc3, host_root=root, cycles=2)   # a restart
        tap(ok1 and p2.returncode == 0, "shipped policy + drift: NoSchedule, agent restarted", p2.stderr[-600:])

        bg = subprocess.Popen([NODEPRINT, "run", "--node-name", "node-3", "--kubeconfig", kc3, "--policy", shipped,
                               "--host-root", root, "--poll", "0.3", "--settle", "0", "--resync", "2"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(2)
        c.restart()     # the API (and etcd, scheduler, controllers) gone for the restart's duration
        time.sleep(3)
        # the host root's contents gone under the running agent (it holds the folder open: renaming
        # the folder itself would change nothing it reads)
        for d in os.listdir(root):
            shutil.rmtree(os.path.join(root, d), ignore_errors=True) if os.path.isdir(os.path.join(root, d)) else os.unlink(os.path.join(root, d))
        blind = c.wait(lambda: {x["type"]: x["status"] for x in c.node("node-3")["status"]["conditions"]}.get("PCIeHealthy") == "Unknown",
                       timeout=20)
        time.sleep(2)
        bg.terminate()
        log = bg.communicate(timeout=30)[1]
        tap(bg.returncode == 0 and "Couldn't connect to server" in log and "publish failed, retrying next cycle" in log,
            "the agent lived through the API outage: connection refused, retried the next cycles", log[-1500:])
        tap(blind and 'msg="blind' in log, "and through the emptied host root: blind, PCIeHealthy Unknown", log[-1500:])
    finally:
        watcher.stop()
    versions = watcher.versions()
    noexec_seen = [(v["metadata"]["resourceVersion"], t) for v in versions for t in v["spec"].get("taints", [])
                   if t["effect"] == "NoExecute"]
    tap(watcher.runs >= 2 and len(versions) >= 5 and not noexec_seen,
        f"{len(versions)} versions of node-3 watched ({watcher.runs} watches, across the restart): none with a NoExecute taint",
        (watcher.runs, len(versions), noexec_seen))
    nd = c.node("node-3")
    conds = {x["type"]: x for x in nd["status"]["conditions"]}
    tap(conds.get("Ready", {}).get("status") == "True", "node-3 stayed Ready (its Lease renewed through the restart)", conds.get("Ready"))
    tap(not evicted(c, "stays"), "node-3's pod was never evicted")


if __name__ == "__main__":
    run_with_cluster(main, "test_eviction")
