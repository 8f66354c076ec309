#!/usr/bin/env python3
"""The DaemonSet on a real node: a control plane (tests/cluster/cluster.sh), containerd v2 + runc + a
kubelet v1.37.2 on this machine (tests/node/node.sh), make image's OCI archive imported with ctr, and
manifests/ applied with the built kubectl. No kube-proxy runs, so the Pod is told the apiserver's
address the way kube-proxy-less clusters do (KUBERNETES_SERVICE_HOST/PORT; nothing else changes).

Asserts: the Pod Running and Ready (readiness probe on /readyz), the Node published through the
in-cluster config and the pod-bound token (labels = this machine's own `nodeprint inspect`, the
conditions), the container's capabilities and read-only root as the manifest says (/proc/self/status
through kubectl exec), the kernel log read inside the Pod, /healthz and /readyz served, `kubectl logs`
showing the structured log; a Pod restart; the Helm chart (real Helm) installed in their place; then
the privilege removed with the chart's switch (helm upgrade --set privileged=false: SYS_ADMIN + SYSLOG): the Pod runs on, the Node says MultipathHealthy=Unknown (KernelLogUnreadable), one
SourceUnreadable Warning Event, nodeprint_source_up{source="kmsg"} 0; and back. With
NP_NODE_TOKEN_ROTATION=1 (11 minutes more): a 600 s projected token, renewed by the kubelet, and the
agent's requests still answered after the first token expired (audit log). Then helm uninstall,
whose post-delete hook Job runs `nodeprint cleanup` on the kubelet (no nodeprint.io/ key left). Times (image import,
Pod start, first publish) as TAP comments. Needs root. TAP output."""
import calendar, fcntl, json, os, re, shutil, socket, subprocess, sys, tempfile, time, urllib.request, yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ARCHIVE = os.path.join(ROOT, "build", "image", "nodeprint-0.1.0.oci.tar")
BIN = os.path.join(ROOT, "build", "nodeprint")
NS = "nodeprint"
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/: taplib
import taplib  # noqa: E402
from taplib import tap  # noqa: E402
times = {}


def exports(text):
    return dict(re.findall(r"^export (\w+)='([^']*)'$", text, re.M))


class Kube:
    def __init__(self, env):
        self.env = env

    def __call__(self, *args, check=True, input=None, timeout=120):
        p = subprocess.run([self.env["NP_KUBECTL"], "--kubeconfig", self.env["NP_KUBE_KUBECONFIG"], *args],
                           capture_output=True, text=True, input=input, timeout=timeout)
        if check and p.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)}: {p.stderr.strip()}")
        return p.stdout

    def json(self, *args):
        return json.loads(self(*args, "-o", "json"))


def wait(what, fn, timeout):
    t0 = time.monotonic()
    last = None
    while time.monotonic() - t0 < timeout:
        try:
            last = fn()
            if last:
                return last, time.monotonic() - t0
        except (RuntimeError, KeyError, IndexError, ValueError, OSError) as e:
            last = e
        time.sleep(0.2)
    return None, f"{what}: not within {timeout} s (last: {last})"


def manifests(kube, server):
    """manifests/ as kustomize renders it, the Pod told the apiserver's address (no kube-proxy)."""
    docs = [d for d in yaml.safe_load_all(kube("kustomize", os.path.join(ROOT, "manifests"))) if d]
    for d in docs:
        if d["kind"] != "DaemonSet":
            continue
        c = d["spec"]["template"]["spec"]["containers"][0]
        c["env"] += [{"name": "KUBERNETES_SERVICE_HOST", "value": "127.0.0.1"},
                     {"name": "KUBERNETES_SERVICE_PORT", "value": server.rsplit(":", 1)[1]}]
    return yaml.safe_dump_all(docs)


def ready_pod(kube, not_named=()):
    pods = kube.json("-n", NS, "get", "pods")["items"]
    for p in pods:
        if p["metadata"]["name"] in not_named or p["metadata"].get("deletionTimestamp"):
            continue
        conds = {c["type"]: c["status"] for c in p["status"].get("conditions", [])}
        if p["status"].get("phase") == "Running" and conds.get("Ready") == "True":
            return p
    return None


def node_obj(kube, node):
    return kube.json("get", "node", node)


def cond(nd, t):
    return next((c for c in nd["status"].get("conditions", []) if c["type"] == t), {})


def http(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.status, r.read().decode()


def check_running(kube, env, node, pod, host_rep):
    ip = pod["status"].get("podIP")
    cs = pod["status"]["containerStatuses"][0]
    tap(cs["ready"] and cs["restartCount"] == 0 and ip, f"Pod {pod['metadata']['name']} Running and Ready, no restart", cs)
    nd, t = wait("first publish", lambda: (x := node_obj(kube, node))["metadata"]["labels"].get("nodeprint.io/bundle") and x, 60)
    if not nd:
        tap(False, "the Node is published", t)
        return
    labels = nd["metadata"]["labels"]
    tap(labels.get("nodeprint.io/bundle") == host_rep["fingerprint"]["hash"],
        "Node label nodeprint.io/bundle = this machine's own inspect (in-cluster config, pod-bound token)",
        f"{labels.get('nodeprint.io/bundle')} vs {host_rep['fingerprint']['hash']}")
    mine = {c["type"]: c["status"] for c in host_rep["plan"]["conditions"]}
    got = {t: cond(nd, t).get("status") for t in mine}
    tap(got == mine and got.get("MultipathHealthy") == "True", "the Node's conditions are the host's plan (kernel log read: MultipathHealthy True)",
        f"{got} vs {mine}")
    ann = nd["metadata"].get("annotations", {}).get("nodeprint.io/fingerprint", "")
    tap(host_rep["fingerprint"]["hash"] in ann, "the fingerprint annotation is written")
    code, body = http(f"http://{ip}:20270/healthz")
    code2, _ = http(f"http://{ip}:20270/readyz")
    tap(code == 200 and code2 == 200, "/healthz and /readyz served on the node's address (hostNetwork)", f"{code} {code2}")
    _, metrics = http(f"http://{ip}:20270/metrics")
    tap('nodeprint_source_up{source="kmsg"} 1' in metrics, "metrics: the kernel log is a source that is up")
    logs = kube("-n", NS, "logs", pod["metadata"]["name"])
    tap(f'msg="started" node={node}' in logs and 'msg="cycle"' in logs and "kmsg=yes" in logs,
        "kubectl logs: the structured (logfmt) log, kernel log followed", logs[-600:])


def check_container(kube, pod):
    probe = ("grep -E '^(CapEff|NoNewPrivs):' /proc/self/status; "
             "dd if=/host/dev/kmsg of=/dev/null bs=16384 count=1 iflag=nonblock 2>/dev/null && echo kmsg=ok; "
             "touch /x 2>/dev/null || echo root=ro; touch /host/dev/shm/np 2>/dev/null || echo devshm=ro; "
             "touch /tmp/np && echo tmp=rw")
    out = kube("-n", NS, "exec", pod["metadata"]["name"], "--", "sh", "-c", probe, check=False)
    eff = re.search(r"CapEff:\s+([0-9a-f]+)", out)
    with open("/proc/self/status") as f:
        bnd = int(re.search(r"CapBnd:\s+([0-9a-f]+)", f.read()).group(1), 16)
    tap(eff and int(eff.group(1), 16) == bnd, "kubectl exec: privileged, every capability of the runtime", out)
    tap("root=ro" in out and "tmp=rw" in out and "devshm=ro" in out,
        "kubectl exec: read-only root, /tmp writable, host submounts read-only (recursiveReadOnly)", out)
    tap("kmsg=ok" in out, "kubectl exec: /host/dev/kmsg is read inside the Pod", out)


def helm(env, *args):
    p = subprocess.run([env["NP_HELM"], "--kubeconfig", env["NP_KUBE_KUBECONFIG"], *args], capture_output=True,
                       text=True, timeout=300)
    if p.returncode != 0:
        raise RuntimeError(f"helm {' '.join(args)}: {p.stderr.strip()}")
    return p.stdout


def server_env(env):
    """--set-json of the chart's env value: the apiserver's address (no kube-proxy here)."""
    return ("env=[{\"name\":\"KUBERNETES_SERVICE_HOST\",\"value\":\"127.0.0.1\"},"
            f"{{\"name\":\"KUBERNETES_SERVICE_PORT\",\"value\":\"{env['NP_KUBE_SERVER'].rsplit(':', 1)[1]}\"}}]")


def check_helm(kube, env, node):
    """The chart replaces the manifests: helm install, the Pod Ready, the Node still published."""
    kube("delete", "-f", "-", "--wait=true", "--timeout=120s", input=manifests(kube, env["NP_KUBE_SERVER"]))
    t0 = time.monotonic()
    # the chart installs into the release namespace and does not own it (the manifests' was deleted)
    helm(env, "install", "nodeprint", os.path.join(ROOT, "helm", "nodeprint"), "-n", NS, "--create-namespace",
         "--set-json", server_env(env))
    pod, t = wait("Pod Ready (helm)", lambda: ready_pod(kube), 120)
    times["helm install -> Pod Ready"] = t if pod else None
    tap(bool(pod), "helm install (the real Helm): the chart's Pod Running and Ready", t)
    nd = node_obj(kube, node) if pod else {}
    tap(bool(pod) and nd["metadata"]["labels"].get("nodeprint.io/bundle") and
        cond(nd, "MultipathHealthy").get("status") == "True", "helm install: the Node stays published", t)
    return bool(pod)


def check_blind(kube, env, node):
    """The privilege removed with the chart's switch (helm upgrade --set privileged=false)."""
    old = [p["metadata"]["name"] for p in kube.json("-n", NS, "get", "pods")["items"]]
    helm(env, "upgrade", "nodeprint", os.path.join(ROOT, "helm", "nodeprint"), "-n", NS, "--reuse-values",
         "--set", "privileged=false")
    pod, t = wait("unprivileged pod Ready", lambda: ready_pod(kube, old), 90)
    if not pod:
        tap(False, "without the privilege: the Pod runs and is Ready", t)
        return
    cs = pod["status"]["containerStatuses"][0]
    tap(cs["restartCount"] == 0, "without the privilege: the Pod runs and is Ready, no crash", cs)
    out = kube("-n", NS, "exec", pod["metadata"]["name"], "--", "sh", "-c",
               "grep CapEff /proc/self/status; dd if=/host/dev/kmsg of=/dev/null bs=16384 count=1 iflag=nonblock 2>&1",
               check=False)
    tap("Operation not permitted" in out,
        "without the privilege: /host/dev/kmsg gives EPERM in the Pod", out)
    nd, t = wait("MultipathHealthy Unknown",
                 lambda: (x := node_obj(kube, node)) and cond(x, "MultipathHealthy").get("status") == "Unknown" and x, 60)
    c = cond(nd, "MultipathHealthy") if nd else {}
    tap(c.get("reason") == "KernelLogUnreadable" and "EPERM" in c.get("message", ""),
        "without the privilege: the Node says MultipathHealthy=Unknown (KernelLogUnreadable), not True", nd and c or t)
    ev, t = wait("SourceUnreadable Event", lambda: kube.json("get", "events", "-A", "--field-selector",
                                                             "reason=SourceUnreadable")["items"], 30)
    ok = bool(ev) and ev[0]["type"] == "Warning" and ev[0]["involvedObject"]["kind"] == "Node" \
        and ev[0]["involvedObject"]["name"] == node and "/dev/kmsg" in ev[0]["message"]
    tap(ok, "without the privilege: one SourceUnreadable Warning Event on the Node says what and why", ev or t)
    _, metrics = http(f"http://{pod['status']['podIP']}:20270/metrics")
    tap('nodeprint_source_up{source="kmsg"} 0' in metrics, "without the privilege: nodeprint_source_up{source=\"kmsg\"} 0")
    time.sleep(12)  # at least one more cycle (poll 10 s): the Event is not sent again
    ev2 = kube.json("get", "events", "-A", "--field-selector", "reason=SourceUnreadable")["items"]
    tap(len(ev2) == 1 and (ev2[0].get("count") or 1) == 1, "the Event is not repeated every cycle",
        [(e["metadata"]["name"], e.get("count")) for e in ev2])
    # and back
    helm(env, "upgrade", "nodeprint", os.path.join(ROOT, "helm", "nodeprint"), "-n", NS, "--reuse-values",
         "--set", "privileged=true")
    nd, t = wait("MultipathHealthy True again",
                 lambda: (x := node_obj(kube, node)) and cond(x, "MultipathHealthy").get("status") == "True" and x, 90)
    tap(bool(nd), "privilege restored: MultipathHealthy True again", t)


def check_uninstall(kube, env, node):
    """helm uninstall: the post-delete hook Job runs `nodeprint cleanup` on this kubelet; afterwards no
    nodeprint.io/ key or nodeprint condition is left on the Node, every other key is."""
    before = node_obj(kube, node)
    theirs = lambda nd: ({k: v for k, v in nd["metadata"].get("labels", {}).items() if not k.startswith("nodeprint.io/")},
                         [t for t in nd["spec"].get("taints", []) if not t["key"].startswith("nodeprint.io/")],
                         sorted(c["type"] for c in nd["status"].get("conditions", []) if c["type"] in
                                ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")))
    t0 = time.monotonic()
    p = subprocess.run([env["NP_HELM"], "--kubeconfig", env["NP_KUBE_KUBECONFIG"], "uninstall", "nodeprint", "-n", NS,
                        "--timeout", "240s"], capture_output=True, text=True, timeout=300)
    times["helm uninstall (hook Job included)"] = time.monotonic() - t0
    after = node_obj(kube, node)
    own = [k for k in list(after["metadata"].get("labels", {})) + list(after["metadata"].get("annotations", {}))
           if k.startswith("nodeprint.io/")] + [t["key"] for t in after["spec"].get("taints", [])
                                                if t["key"].startswith("nodeprint.io/")] + \
        [c["type"] for c in after["status"].get("conditions", []) if c["type"] in ("BundlePinned", "NVMeHealthy", "MultipathHealthy", "PCIeHealthy", "VolumePathsHealthy",
                       "OffloadsCompliant", "NICHealthy", "BundleRegression", "StorageTimeoutsConsistent",
                       "NUMALocal", "RDMAHealthy")]
    tap(p.returncode == 0 and not own, "helm uninstall: the post-delete Job ran nodeprint cleanup on this kubelet, "
        "no nodeprint.io/ key or nodeprint condition is left", f"{own}\n{p.stdout}{p.stderr}")
    tap(theirs(after) == theirs(before), "and every other label, taint and kubelet condition is kept",
        f"{theirs(before)}\n{theirs(after)}")
    tap(subprocess.run([env["NP_KUBECTL"], "--kubeconfig", env["NP_KUBE_KUBECONFIG"], "get", "ns", NS],
                       capture_output=True).returncode == 0, "the namespace stays (the chart does not own it)")


def jwt_claims(token):
    import base64
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def check_rotation(kube, env, node):
    """NP_NODE_TOKEN_ROTATION=1 (11 minutes): the agent's token projected with the shortest expiry a
    TokenRequest allows (600 s; the kubelet renews it at 80 %) and --resync=20, so the agent keeps
    making requests; after the first token has expired its requests still succeed, with a new token."""
    ds = kube.json("-n", NS, "get", "ds", "nodeprint")
    args = ds["spec"]["template"]["spec"]["containers"][0]["args"] + ["--resync=20"]
    sa = "/var/run/secrets/kubernetes.io/serviceaccount"
    patch = {"spec": {"template": {"spec": {
        "automountServiceAccountToken": False,
        "volumes": [{"name": "sa-token", "projected": {"sources": [
            {"serviceAccountToken": {"path": "token", "expirationSeconds": 600}},
            {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"fieldPath": "metadata.namespace"}}]}}]}}],
        "containers": [{"name": "nodeprint", "args": args,
                        "volumeMounts": [{"name": "sa-token", "mountPath": sa, "readOnly": True}]}]}}}}
    old = [p["metadata"]["name"] for p in kube.json("-n", NS, "get", "pods")["items"]]
    kube("-n", NS, "patch", "ds", "nodeprint", "--type", "strategic", "-p", json.dumps(patch))
    pod, t = wait("Pod with a 600 s token Ready", lambda: ready_pod(kube, old), 120)
    if not pod:
        tap(False, "token rotation: the Pod with a 600 s token is Ready", t)
        return
    name = pod["metadata"]["name"]
    first = jwt_claims(kube("-n", NS, "exec", name, "--", "cat", f"{sa}/token"))
    tap(first["exp"] - first["iat"] == 600, "token rotation: the projected token lasts 600 s", first)
    seen = {first["jti"]}
    while time.time() < first["exp"] + 45:
        time.sleep(15)
        seen.add(jwt_claims(kube("-n", NS, "exec", name, "--", "cat", f"{sa}/token"))["jti"])
    tap(len(seen) >= 2, f"token rotation: the kubelet renewed the token ({len(seen)} tokens seen)", seen)
    user = "system:serviceaccount:nodeprint:nodeprint"
    after, bad = [], []
    with open(env["NP_KUBE_AUDIT_LOG"]) as f:
        for line in f:
            e = json.loads(line)
            if e.get("user", {}).get("username") != user or e.get("stage") != "ResponseComplete":
                continue
            code = e.get("responseStatus", {}).get("code", 0)
            if code == 401:
                bad.append(e["requestURI"])
            ts = e.get("stageTimestamp", "")
            if ts and calendar.timegm(time.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S")) > first["exp"] and 200 <= code < 300:
                after.append(e["requestURI"])
    tap(len(after) >= 2 and not bad, f"token rotation: {len(after)} agent requests answered 2xx after the first "
        "token expired, none 401", f"401s: {bad[:5]}")
    cs = kube.json("-n", NS, "get", "pod", name)["status"]["containerStatuses"][0]
    tap(cs["ready"] and cs["restartCount"] == 0, "token rotation: the Pod stayed Ready, no restart", cs)


def node_lock(tap):
    """One real node per machine: the kubelet slot, hostNetwork port 20270 and the shared
    /var/lib/kubelet mount are the machine's; a second node test waits here (up to 20 minutes).
    Returns the open lock file (held while it stays open), or None after a failed TAP line."""
    lock = open(os.path.join(tempfile.gettempdir(), "nodeprint-node-test.lock"), "w")
    t0 = time.monotonic()
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() - t0 > 1200:
                tap(False, "another node test holds this machine's node for 20 minutes")
                return None
            time.sleep(2)
    if time.monotonic() - t0 > 1:
        print(f"# waited {time.monotonic() - t0:.0f} s for another node test on this machine")
    return lock


def main():
    if os.geteuid() != 0 or not os.path.exists(ARCHIVE) or not os.path.exists(BIN):
        tap(False, "prerequisites: root, make image's archive, build/nodeprint", f"uid={os.geteuid()} {ARCHIVE}")
        return 1
    lock = node_lock(tap)
    if not lock:
        return 1
    node = socket.gethostname()
    work = tempfile.mkdtemp(prefix="np-node-")
    cdir, ndir = os.path.join(work, "cluster"), os.path.join(work, "node")
    env = dict(os.environ)
    cluster_started = node_started = False
    try:
        p = subprocess.run([os.path.join(ROOT, "tests", "cluster", "cluster.sh"), "start", cdir], capture_output=True,
                           text=True, timeout=1800)
        cluster_started = p.returncode == 0
        tap(cluster_started, "control plane up (tests/cluster/cluster.sh)", p.stderr[-800:])
        if not cluster_started:
            return 1
        env.update(exports(p.stdout))
        t0 = time.monotonic()
        p = subprocess.run([os.path.join(HERE, "node.sh"), "start", node, ndir], capture_output=True, text=True,
                           env=env, timeout=1800)
        node_started = p.returncode == 0
        times["node registered and Ready"] = time.monotonic() - t0
        tap(node_started, f"containerd + runc + kubelet: Node {node} registered and Ready", p.stderr[-1500:])
        if not node_started:
            return 1
        env.update(exports(p.stdout))
        kube = Kube(env)
        ver = kube("get", "node", node, "-o", "jsonpath={.status.nodeInfo.kubeletVersion} {.status.nodeInfo.containerRuntimeVersion}")
        print(f"# node {node}: kubelet {ver}")
        t0 = time.monotonic()
        p = subprocess.run([os.path.join(HERE, "node.sh"), "import", ndir, ARCHIVE, "docker.io/library/nodeprint"],
                           capture_output=True, text=True, env=env, timeout=300)
        times["image import (ctr)"] = time.monotonic() - t0
        tap(p.returncode == 0, "make image's OCI archive imported into containerd", p.stderr[-600:])
        host_rep = json.loads(subprocess.run([BIN, "inspect", "-o", "json"], capture_output=True, text=True).stdout)

        t0 = time.monotonic()
        kube("apply", "-f", "-", input=manifests(kube, env["NP_KUBE_SERVER"]))
        pod, t = wait("Pod Ready", lambda: ready_pod(kube), 120)
        times["apply -> Pod Ready"] = t if pod else None
        if not pod:
            tap(False, "the DaemonSet's Pod Running and Ready", f"{t}\n" + kube("-n", NS, "describe", "pods", check=False)[-1500:])
            return 1
        nd, t = wait("published", lambda: node_obj(kube, node)["metadata"]["labels"].get("nodeprint.io/bundle"), 60)
        times["apply -> first publish"] = time.monotonic() - t0 if nd else None
        check_running(kube, env, node, pod, host_rep)
        check_container(kube, pod)

        # a Pod restart: the DaemonSet brings a new one, which finds the Node as it left it
        before = node_obj(kube, node)["metadata"]["labels"]
        t0 = time.monotonic()
        kube("-n", NS, "delete", "pod", pod["metadata"]["name"], "--wait=false")
        new, t = wait("new Pod Ready", lambda: ready_pod(kube, [pod["metadata"]["name"]]), 120)
        times["Pod restart -> Ready"] = t if new else None
        after = node_obj(kube, node)["metadata"]["labels"] if new else {}
        tap(bool(new) and {k: v for k, v in after.items() if k.startswith("nodeprint.io/")} ==
            {k: v for k, v in before.items() if k.startswith("nodeprint.io/")},
            "Pod restart: a new Pod Ready, the Node's labels kept", t)
        if check_helm(kube, env, node):
            check_blind(kube, env, node)
            if os.environ.get("NP_NODE_TOKEN_ROTATION") == "1":
                check_rotation(kube, env, node)
            else:
                print("# token rotation not run: NP_NODE_TOKEN_ROTATION=1 (11 minutes: a token lasts at least 600 s)")
            check_uninstall(kube, env, node)
        return 0
    finally:
        if node_started:
            subprocess.run([env["NP_HELM"], "--kubeconfig", env["NP_KUBE_KUBECONFIG"], "uninstall", "nodeprint",
                            "-n", NS, "--no-hooks"], capture_output=True, timeout=120)
            Kube(env)("delete", "-f", "-", "--wait=false", check=False,
                      input=manifests(Kube(env), env["NP_KUBE_SERVER"]))
            subprocess.run([os.path.join(HERE, "node.sh"), "stop", ndir], env=env, capture_output=True, timeout=300)
        if cluster_started:
            subprocess.run([os.path.join(ROOT, "tests", "cluster", "cluster.sh"), "stop", cdir], capture_output=True,
                           timeout=300)
        shutil.rmtree(work, ignore_errors=True)
        for k, v in times.items():
            print(f"# time: {k}: " + (f"{v:.1f} s" if isinstance(v, (int, float)) else "-"))


if __name__ == "__main__":
    taplib.run(main, "test_node")
