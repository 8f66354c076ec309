#!/usr/bin/env python3
"""cluster.py - what tests share about the real test cluster (tests/cluster/cluster.sh, docs/test-cluster.md).

Stable interface for tests (import with sys.path.insert(0, ROOT + "/tests/cluster")):
  tap(ok, name, detail="") -> ok            one TAP line ("ok N - name"), detail as comments on failure
  run_with_cluster(main, label, start=True)  start a cluster in a temp folder, main(cluster, tmp), stop it,
                                             print the plan "1..N" and exit 1 on any failure
  Cluster(dir)                              a running cluster's handle (env read from DIR/env)
    .env                                    the NP_KUBE_* variables (cluster.sh's header lists them)
    .start() / .stop() / .restart()         cluster.sh start|stop|restart DIR (restart keeps state)
    .kubectl(*args, check=True, input=None, kubeconfig=None) -> CompletedProcess (the built kubectl)
    .api(method, path, body=None, token=None, ctype=...) -> (status, parsed JSON body)
    .create_node(name, labels=None, taints=(), cpu="4", memory="8Gi", pods="110", heartbeat=True,
                 wait_ready=True)           a Node as a kubelet registers it: capacity, allocatable,
                                            addresses, Ready=True, and its Lease (kept renewed); returns
                                            once the not-ready taint admission adds is lifted
    .set_heartbeat(name, on)                stop / resume renewing the Node's Lease (stopped, it goes Ready
                                            Unknown; resumed, Ready=True is posted again)
    .apply_manifests(path=ROOT/manifests, valve_classes=())  kubectl apply -k (Namespace, RBAC, admission
                                            policies, ...); the valve Role then names each class's Lease
    .agent_pod(node) -> pod name            a Pod of manifests/' DaemonSet spec bound to node (it never
                                            starts: there is no kubelet); its labels do not match the
                                            DaemonSet's selector, so the DaemonSet controller leaves it
    .agent_token(node, seconds=3600) -> str TokenRequest (the API's, as kubectl create token sends it)
                                            bound to that Pod: the token carries
                                            authentication.kubernetes.io/node-name = node
    .agent_kubeconfig(node, path=None, token_file=False) -> path  kubeconfig with that token (inline,
                                            or tokenFile: path + ".token")
    .run_agent(node, policy, kubeconfig, host_root=None, cycles=3, poll=0.3, settle=0, extra=())
                                            `nodeprint run` to the end of its cycles -> CompletedProcess
    .audit_mark() -> int                    the audit log's current size (an offset)
    .audit(since=0, user=None) -> [event]   audit events (audit.k8s.io/v1 Event dicts) after offset since
    .wait(fn, timeout=30, every=0.25)       poll fn() until truthy; returns its last value
  AGENT_USER                                the agent's user name (system:serviceaccount:nodeprint:nodeprint)
  HOST_ROOT, HOST_RELEASE                   a captured host root (tests/fixtures/host-vm) and its kernel
  write(path, text) -> path

Command line: cluster.py heartbeat DIR (run by cluster.sh: renews every Node's Lease every 10 s unless
the Node has the annotation HEARTBEAT_OFF="true"), cluster.py agent DIR NODE (prints a kubeconfig path),
cluster.py node DIR NAME... (registers Nodes).
"""
import datetime, json, os, shutil, signal, ssl, subprocess, sys, tempfile, time, urllib.error, urllib.request

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/: taplib
import taplib  # noqa: E402
from taplib import tap  # noqa: E402,F401 - the cluster and helm tests import it from here

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SCRIPT = os.path.join(HERE, "cluster.sh")
NODEPRINT = os.environ.get("NODEPRINT", os.path.join(ROOT, "build", "nodeprint"))
AGENT_NS, AGENT_SA = "nodeprint", "nodeprint"
AGENT_USER = f"system:serviceaccount:{AGENT_NS}:{AGENT_SA}"
# a captured host root (tests/capture.py) the agent reads in these tests, and its kernel release
HOST_ROOT = os.path.join(ROOT, "tests", "fixtures", "host-vm")
HOST_RELEASE = "6.18.44-fc-v669"
HEARTBEAT_OFF = "test.np/no-heartbeat"     # annotation: the heartbeat helper leaves this Node's Lease
LEASE_SECONDS = 40                          # kubelet's default node lease duration
RENEW_SECONDS = 10                          # kubelet renews at a quarter of it


def write(path, text):
    """Write @text to @path; returns path."""
    with open(path, "w") as f:
        f.write(text)
    return path


def now_micro():
    """RFC 3339 with microseconds, UTC (a MicroTime such as a Lease's renewTime)."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_env(d):
    env = {}
    with open(os.path.join(d, "env")) as f:
        for line in f:
            k, _, v = line.strip().partition("=")
            if k:
                env[k] = v
    return env


class Cluster:
    def __init__(self, d):
        self.dir = os.path.abspath(d)
        self.env = read_env(self.dir) if os.path.exists(os.path.join(self.dir, "env")) else {}
        self._ctx = None
        self._pod_template, self._pod_uid = {}, {}

    # --- life cycle ---------------------------------------------------------------------------
    def _script(self, verb):
        p = subprocess.run([SCRIPT, verb, self.dir], capture_output=True, text=True, timeout=3600)
        if p.returncode != 0:
            raise RuntimeError(f"cluster.sh {verb} failed: {p.stderr[-3000:]}")
        self.env = read_env(self.dir)
        self._ctx = None
        return p

    def start(self):
        return self._script("start")

    def restart(self):
        return self._script("restart")

    def stop(self):
        subprocess.run([SCRIPT, "stop", self.dir], capture_output=True, timeout=120)

    # --- clients ------------------------------------------------------------------------------
    def kubectl(self, *args, check=True, input=None, kubeconfig=None, timeout=120):
        p = subprocess.run([self.env["NP_KUBECTL"], "--kubeconfig", kubeconfig or self.env["NP_KUBE_KUBECONFIG"], *args],
                           input=input, capture_output=True, text=True, timeout=timeout)
        if check and p.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)}: {p.stderr}")
        return p

    def api(self, method, path, body=None, token=None, ctype="application/merge-patch+json", timeout=15):
        """One request as the admin (or with @token); (HTTP status, parsed JSON body, the text when it is
        not JSON, or None when empty)."""
        if self._ctx is None:
            self._ctx = ssl.create_default_context(cafile=self.env["NP_KUBE_CA"])
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": "Bearer " + (token or self.env["NP_KUBE_ADMIN_TOKEN"])}
        if data is not None:
            headers["Content-Type"] = ctype if method in ("PATCH",) else "application/json"
        req = urllib.request.Request(self.env["NP_KUBE_SERVER"] + path, method=method, data=data, headers=headers)
        try:
            with urllib.request.urlopen(req, context=self._ctx, timeout=timeout) as r:
                status, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode(errors="replace")     # /readyz, /livez: text

    def must(self, method, path, body=None, **kw):
        st, out = self.api(method, path, body, **kw)
        if st >= 300:
            raise RuntimeError(f"{method} {path}: {st} {out}")
        return out

    @staticmethod
    def wait(fn, timeout=30, every=0.25):
        """Call fn() until it returns something truthy or @timeout seconds pass; its last value."""
        end = time.monotonic() + timeout
        while True:
            v = fn()
            if v or time.monotonic() >= end:
                return v
            time.sleep(every)

    # --- nodes --------------------------------------------------------------------------------
    def create_node(self, name, labels=None, taints=(), cpu="4", memory="8Gi", pods="110", heartbeat=True,
                    wait_ready=True):
        """Register Node @name as a kubelet does (labels kubernetes.io/hostname, os, arch; capacity and
        allocatable; InternalIP 127.0.0.1; Ready=True) and create its Lease; with @wait_ready, return
        once node-lifecycle has lifted the not-ready taint admission put on it. Returns the Node."""
        lab = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"}
        lab.update(labels or {})
        meta = {"name": name, "labels": lab}
        if not heartbeat:
            meta["annotations"] = {HEARTBEAT_OFF: "true"}
        self.must("POST", "/api/v1/nodes", {"apiVersion": "v1", "kind": "Node", "metadata": meta,
                                            "spec": {"taints": [dict(t) for t in taints]}})
        res = {"cpu": cpu, "memory": memory, "pods": pods, "ephemeral-storage": "100Gi"}
        t = now_rfc3339()
        status = {"capacity": res, "allocatable": res,
                  "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}, {"type": "Hostname", "address": name}],
                  "conditions": [
                      {"type": c, "status": "False", "reason": r, "message": m, "lastHeartbeatTime": t, "lastTransitionTime": t}
                      for c, r, m in (("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                                      ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                                      ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"))] +
                  [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status",
                    "lastHeartbeatTime": t, "lastTransitionTime": t}],
                  "nodeInfo": {"kubeletVersion": "v1.37.2", "operatingSystem": "linux", "architecture": "amd64",
                               "containerRuntimeVersion": "none://0", "kernelVersion": os.uname().release,
                               "osImage": "nodeprint test node", "kubeProxyVersion": "", "machineID": "", "systemUUID": "",
                               "bootID": ""}}
        node = self.must("PATCH", f"/api/v1/nodes/{name}/status", {"status": status})
        renew_lease(self, node)
        if wait_ready:
            # TaintNodesByCondition admission registers it tainted not-ready:NoSchedule; node-lifecycle
            # removes that once it has seen Ready=True (within its 5 s monitor period)
            node = self.wait(lambda: (n := self.node(name)) and not [
                t for t in n["spec"].get("taints", []) if t["key"] == "node.kubernetes.io/not-ready"] and n, timeout=60)
            if not node:
                raise RuntimeError(f"node {name}: still tainted not-ready after 60 s")
        return node

    def set_heartbeat(self, name, on):
        """Resume (on: the Lease renewed and Ready=True posted, as a kubelet coming back does) or stop
        renewing Node @name's Lease; stopped, node-lifecycle marks it Ready Unknown after its grace period
        (50 s) and taints it node.kubernetes.io/unreachable (NoExecute only while other Nodes of the zone
        are healthy: with all of them down it enters full disruption mode and evicts nothing)."""
        self.must("PATCH", f"/api/v1/nodes/{name}", {"metadata": {"annotations": {HEARTBEAT_OFF: None if on else "true"}}})
        if on:      # a kubelet back: its Lease, and Ready=True posted again (node-lifecycle set it Unknown)
            renew_lease(self, self.must("GET", f"/api/v1/nodes/{name}"))
            t = now_rfc3339()
            self.must("PATCH", f"/api/v1/nodes/{name}/status", {"status": {"conditions": [
                {"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status",
                 "lastHeartbeatTime": t, "lastTransitionTime": t}]}}, ctype="application/strategic-merge-patch+json")

    def node(self, name):
        return self.must("GET", f"/api/v1/nodes/{name}")

    # --- the agent ----------------------------------------------------------------------------
    def apply_manifests(self, path=None, valve_classes=()):
        """kubectl apply -k manifests/; when the safety valve's Role names its Leases (resourceNames),
        add nodeprint-valve-<class> of each of @valve_classes (the shipped Role grants the namespace's
        leases, the admission policy limits the names). Returns apply's CompletedProcess."""
        p = self.kubectl("apply", "-k", path or os.path.join(ROOT, "manifests"))
        role = json.loads(self.kubectl("get", "role", "nodeprint-valve", "-n", AGENT_NS, "-o", "json").stdout)
        if valve_classes and "resourceNames" in role["rules"][0]:   # the shipped Role names none
            self.kubectl("patch", "role", "nodeprint-valve", "-n", AGENT_NS, "--type", "json", "-p", json.dumps(
                [{"op": "add", "path": "/rules/0/resourceNames/-", "value": f"nodeprint-valve-{k}"} for k in valve_classes]))
        return p

    def agent_pod(self, node, manifests=None):
        """A Pod of the manifests' DaemonSet pod template, bound to @node (spec.nodeName), in the
        agent's namespace; created once. Returns its name."""
        name = f"nodeprint-agent-{node}"
        st, pod = self.api("GET", f"/api/v1/namespaces/{AGENT_NS}/pods/{name}")
        if st == 200:
            self._pod_uid[name] = pod["metadata"]["uid"]
            return name
        tmpl = self._pod_template.get(manifests) or self._read_pod_template(manifests)
        labels = dict(tmpl["metadata"].get("labels", {}))
        labels["app.kubernetes.io/name"] = "nodeprint-test-agent"   # outside the DaemonSet's selector
        pod = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": name, "namespace": AGENT_NS, "labels": labels},
               "spec": dict(tmpl["spec"], nodeName=node)}
        self._pod_uid[name] = self.must("POST", f"/api/v1/namespaces/{AGENT_NS}/pods", pod)["metadata"]["uid"]
        return name

    def _read_pod_template(self, manifests):
        """The DaemonSet's pod template of @manifests (kustomized once per Cluster)."""
        docs = self.kubectl("kustomize", manifests or os.path.join(ROOT, "manifests")).stdout
        ds = None
        for doc in docs.split("\n---\n"):
            if "\nkind: DaemonSet\n" in "\n" + doc:
                ds = doc
        if ds is None:
            raise RuntimeError("no DaemonSet in the manifests")
        # the YAML -> JSON conversion is kubectl's own (python3-yaml would do too; one parser less)
        dsj = json.loads(self.kubectl("create", "--dry-run=client", "-o", "json", "-f", "-", input=ds).stdout)
        self._pod_template[manifests] = dsj["spec"]["template"]
        return self._pod_template[manifests]

    def agent_token(self, node, seconds=3600):
        """A service-account token of the agent from TokenRequest, bound to agent_pod(node): the
        real authentication.kubernetes.io/node-name extra. Returns the token."""
        pod = self.agent_pod(node)
        tr = self.must("POST", f"/api/v1/namespaces/{AGENT_NS}/serviceaccounts/{AGENT_SA}/token", {
            "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
            "spec": {"expirationSeconds": seconds,
                     "boundObjectRef": {"apiVersion": "v1", "kind": "Pod", "name": pod, "uid": self._pod_uid[pod]}}})
        return tr["status"]["token"]

    def agent_kubeconfig(self, node, path=None, token_file=False, seconds=3600):
        """A kubeconfig for nodeprint on @node (token inline, or tokenFile: PATH.token). Returns the path."""
        path = path or os.path.join(self.dir, f"agent-{node}.kubeconfig")
        tok = self.agent_token(node, seconds)
        if token_file:
            with open(path + ".token", "w") as f:
                f.write(tok + "\n")
            user = f"tokenFile: '{path}.token'"
        else:
            user = f"token: '{tok}'"
        with open(path, "w") as f:
            f.write("apiVersion: v1\nkind: Config\nclusters:\n- name: np-test\n"
                    f"  cluster: {{server: '{self.env['NP_KUBE_SERVER']}', certificate-authority: '{self.env['NP_KUBE_CA']}'}}\n"
                    f"users:\n- name: nodeprint\n  user: {{{user}}}\n"
                    "contexts:\n- name: np-test\n  context: {cluster: np-test, user: nodeprint, namespace: default}\n"
                    "current-context: np-test\n")
        os.chmod(path, 0o600)
        return path

    def run_agent(self, node, policy, kubeconfig, host_root=None, cycles=3, poll=0.3, settle=0, extra=(), timeout=180):
        """`nodeprint run` for @node to the end of @cycles (built binary, $NODEPRINT overrides);
        the CompletedProcess (its log is stderr)."""
        args = [NODEPRINT, "run", "--node-name", node, "--kubeconfig", kubeconfig, "--cycles", str(cycles),
                "--poll", str(poll), "--settle", str(settle), *extra]
        if policy:
            args += ["--policy", policy]
        if host_root:
            args += ["--host-root", host_root]
        return subprocess.run(args, capture_output=True, text=True, timeout=timeout)

    # --- the request log ----------------------------------------------------------------------
    def audit_mark(self):
        try:
            return os.path.getsize(self.env["NP_KUBE_AUDIT_LOG"])
        except OSError:
            return 0

    def audit(self, since=0, user=None):
        """Audit events (dicts: verb, requestURI, user.username, objectRef, responseStatus.code,
        annotations authorization.k8s.io/decision and /reason, ...) written after byte offset @since,
        only @user's when given."""
        out = []
        try:
            with open(self.env["NP_KUBE_AUDIT_LOG"], "rb") as f:
                f.seek(since)
                data = f.read()
        except OSError:
            return out
        for line in data.splitlines():
            try:
                ev = json.loads(line)
            except ValueError:
                continue    # a line being written
            if user is None or ev.get("user", {}).get("username") == user:
                out.append(ev)
        return out


def renew_lease(c, node):
    """Create or renew the Lease kube-node-lease/<node> as the kubelet does (holder = node name,
    owned by the Node so it goes with it)."""
    name = node["metadata"]["name"]
    body = {"spec": {"holderIdentity": name, "leaseDurationSeconds": LEASE_SECONDS, "renewTime": now_micro()}}
    st, _ = c.api("PATCH", f"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{name}", body)
    if st == 404:
        body.update(apiVersion="coordination.k8s.io/v1", kind="Lease",
                    metadata={"name": name, "namespace": "kube-node-lease", "ownerReferences": [
                        {"apiVersion": "v1", "kind": "Node", "name": name, "uid": node["metadata"]["uid"]}]})
        st, _ = c.api("POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", body)
    return st


def heartbeat(d):
    """Renew every Node's Lease every RENEW_SECONDS (no HEARTBEAT_OFF annotation) until SIGTERM."""
    c = Cluster(d)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    first = True
    while not stop:
        st, nodes = c.api("GET", "/api/v1/nodes")
        if st == 200:
            for n in nodes.get("items", []):
                if n["metadata"].get("annotations", {}).get(HEARTBEAT_OFF) != "true":
                    renew_lease(c, n)
            if first:
                open(os.path.join(c.dir, "run", "heartbeat.ready"), "w").close()
                first = False
        else:
            print(f"heartbeat: list nodes: {st} {str(nodes)[:200]}", file=sys.stderr, flush=True)
        for _ in range(RENEW_SECONDS * 4):
            if stop:
                break
            time.sleep(0.25)


def run_with_cluster(main, label, start=True):
    """Start a cluster in a temp folder, run main(cluster, tmp), stop it; print the TAP plan and exit
    with the result. A cluster that cannot start, or a crash in main, is a failure with its reason."""
    tmp = tempfile.mkdtemp(prefix="np-cluster-test.")
    c = Cluster(os.path.join(tmp, "cluster"))
    try:
        if start:
            c.start()
    except Exception as e:
        tap(False, "the test cluster starts", str(e))
    else:
        try:
            main(c, tmp)
        except Exception as e:
            import traceback
            tap(False, f"{label} crashed", repr(e) + "\n" + traceback.format_exc()[-2000:])
        finally:
            c.stop()
    if not taplib.failed or not os.environ.get("NP_KEEP_TMP"):
        shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(taplib.finish())


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "heartbeat":
        heartbeat(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "agent":
        print(Cluster(sys.argv[2]).agent_kubeconfig(sys.argv[3]))
    elif len(sys.argv) >= 4 and sys.argv[1] == "node":
        cl = Cluster(sys.argv[2])
        for nm in sys.argv[3:]:
            cl.create_node(nm)
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
