#!/usr/bin/env python3
"""The remediation contract (docs/reference.md, "Remediation contract") with a real kubelet writing
beside nodeprint: the control plane (tests/cluster/cluster.sh), containerd + runc + kubelet v1.37.2 on
this machine (tests/node/node.sh, the kubelet writing its status every 3 s), and `nodeprint run` as a process for
that Node with the shipped RBAC and admission policies and a token bound to a Pod on it (the fixture
host tree, so the pins are known). tests/cluster/test_contract.py proves the same against a second
client; here the other writer is the kubelet itself:

- the kubelet owns Ready and the pressures: its heartbeats keep moving their lastHeartbeatTime while
  nodeprint patches, and their status, reason and lastTransitionTime stay as the kubelet set them;
  nodeprint's condition stays as nodeprint set it across the kubelet's status updates;
- a resourceVersion conflict for real: nodeprint's taint write (a merge patch carrying the
  resourceVersion it read) is held back by a pass-through proxy until the kubelet's next status update
  has landed; the API server answers 409 (audit log), nodeprint reads again and writes, and nothing of
  the kubelet's is lost;
- lastTransitionTime moves only when the status changes (findings arriving and leaving under one
  condition); the condition is healthy again within one cycle once its cause is gone;
- `kubectl wait --for=condition=...` (the pinned kubectl) on nodeprint's condition. Needs root. TAP.
"""
import datetime, http.client, json, os, re, signal, socket, ssl, subprocess, sys, tempfile, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "cluster"))
sys.path.insert(0, HERE)
from cluster import AGENT_USER, HOST_ROOT, NODEPRINT, Cluster, tap, write  # noqa: E402
import taplib  # noqa: E402 - tests/, on the path through cluster
import test_contract as contract  # noqa: E402  (tests/cluster: the policy of findings under one condition)
import test_node  # noqa: E402

KUBELET = ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")
STATUS_S = 3         # the kubelet writes its status this often (tests/node/node.sh NP_NODE_STATUS_SECONDS)
HOLD_S = 8           # > STATUS_S, < the agent's request timeout (10 s)


class Proxy(ThreadingHTTPServer):
    """Plain HTTP on 127.0.0.1 to the API server's HTTPS, the request as sent (the agent's bearer
    token included). The first @hold merge patches of the Node that carry a resourceVersion wait
    until the kubelet has written the Node's status (Ready's lastHeartbeatTime, which only the kubelet
    writes, moved), HOLD_S seconds at most: a write by another writer (the node or TTL controller)
    does not end the hold, so the conflict is with the kubelet's write. @windows: (start, end) wall
    times of each hold."""
    daemon_threads = True

    def __init__(self, c, node):
        super().__init__(("127.0.0.1", 0), Handler)
        upstream, ca, self.c = c.env["NP_KUBE_SERVER"], c.env["NP_KUBE_CA"], c
        self.host, self.port_ = upstream.split("//")[1].rsplit(":", 1)
        self.ctx = ssl.create_default_context(cafile=ca)
        self.node, self.hold, self.held, self.gone, self.windows = node, 0, [], [], []
        self.lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do(self):
        s = self.server
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.command == "PATCH" and self.path.split("?")[0] == f"/api/v1/nodes/{s.node}" and b'"resourceVersion"' in body:
            with s.lock:
                go = s.hold > 0
                s.hold -= go
            if go:
                s.held.append(json.loads(body)["metadata"]["resourceVersion"])
                start, end = time.time(), time.monotonic() + HOLD_S
                beat = conds(s.c, s.node)["Ready"]["lastHeartbeatTime"]
                while time.monotonic() < end and conds(s.c, s.node)["Ready"]["lastHeartbeatTime"] == beat:
                    time.sleep(0.1)
                s.windows.append((start, time.time()))
        c = http.client.HTTPSConnection(s.host, int(s.port_), context=s.ctx, timeout=60)
        hdr = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection", "accept-encoding")}
        c.request(self.command, self.path, body=body or None, headers=hdr)
        r = c.getresponse()
        data = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        try:
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            s.gone.append(f"{self.command} {self.path} {r.status}")   # the client left (the agent stopping)
        c.close()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do


def stamp(e):
    """An audit event's requestReceivedTimestamp in seconds since the epoch."""
    return datetime.datetime.strptime(e["requestReceivedTimestamp"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def conds(c, node):
    return {x["type"]: x for x in c.node(node)["status"].get("conditions", [])}


def kubelet_part(cs):
    """What the kubelet owns of its conditions, its heartbeat left out."""
    return {t: {k: v for k, v in cs[t].items() if k != "lastHeartbeatTime"} for t in KUBELET if t in cs}


def beats(c, node, n, timeout):
    """Wait for @n more kubelet heartbeats (Ready's lastHeartbeatTime moving); the times seen."""
    seen = [conds(c, node)["Ready"]["lastHeartbeatTime"]]
    c.wait(lambda: seen.append(conds(c, node)["Ready"]["lastHeartbeatTime"]) or len(set(seen)) > n,
           timeout=timeout, every=0.5)
    return sorted(set(seen))


def run(c, node, tmp):
    p = c.apply_manifests()
    tap(p.returncode == 0, "the shipped manifests applied", p.stderr)
    # nodeprint runs as a process here: no DaemonSet Pod beside it (its image is not imported)
    c.kubectl("delete", "daemonset", "-n", "nodeprint", "--all", "--wait=false", check=False)
    kc = c.agent_kubeconfig(node)
    proxy = Proxy(c, node)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    token = re.search(r"token: '([^']+)'", open(kc).read()).group(1)
    kc = write(f"{tmp}/agent-via-proxy.kubeconfig",
               "apiVersion: v1\nkind: Config\nclusters:\n- name: proxy\n"
               f"  cluster: {{server: 'http://127.0.0.1:{proxy.server_address[1]}'}}\n"
               f"users:\n- name: nodeprint\n  user: {{token: '{token}'}}\n"
               "contexts:\n- name: proxy\n  context: {cluster: proxy, user: nodeprint}\ncurrent-context: proxy\n")
    before = conds(c, node)
    tap(all(before.get(t, {}).get("status") == ("True" if t == "Ready" else "False") for t in KUBELET),
        "the kubelet registered its Node: Ready=True, no pressure", {t: before.get(t) for t in KUBELET})

    live = write(f"{tmp}/live.yaml", contract.policy(kernel_ok=False, module_ok=True))
    seq = c.audit_mark()
    proxy.hold = 1
    agent = subprocess.Popen([NODEPRINT, "run", "--node-name", node, "--kubeconfig", kc, "--policy", live,
                              "--host-root", HOST_ROOT, "--poll", "0.5", "--settle", "0"],
                             stdout=subprocess.DEVNULL, stderr=open(f"{tmp}/agent.log", "w"))
    try:
        bp = c.wait(lambda: (x := conds(c, node).get("BundlePinned")) and x["status"] == "False" and x, timeout=30)
        tap(bool(bp) and bp["reason"] == "Drift", "nodeprint reports BundlePinned=False (kernel drift) beside the kubelet", bp)
        t1 = bp and bp["lastTransitionTime"]
        w = c.kubectl("wait", "--for=condition=BundlePinned=False", f"node/{node}", "--timeout=20s", check=False)
        tap(w.returncode == 0 and "condition met" in w.stdout, "kubectl wait --for=condition=BundlePinned=False",
            w.stdout + w.stderr)

        # the taint write held back past a kubelet status update: 409 for real, then read again and written
        tainted = c.wait(lambda: any(t["key"].startswith("nodeprint.io/") for t in c.node(node)["spec"].get("taints", [])),
                         timeout=HOLD_S + 20)
        ev = [e for e in c.audit(seq) if e.get("stage") == "ResponseComplete" and
              e.get("objectRef", {}).get("resource") == "nodes" and e.get("objectRef", {}).get("name") == node]
        mine = [e for e in ev if e["user"]["username"] == AGENT_USER and e["verb"] in ("get", "patch") and
                not e["objectRef"].get("subresource")]
        conflicts = [i for i, e in enumerate(mine) if e["verb"] == "patch" and e["responseStatus"]["code"] == 409]
        # after the 409 nodeprint reads the Node again and its patch goes through
        reread = conflicts and [(e["verb"], e["responseStatus"]["code"]) for e in mine[conflicts[0] + 1:]][:2] == \
            [("get", 200), ("patch", 200)]
        # the kubelet's status updates while the patch was held (audit times are the API server's,
        # the hold's the proxy's: the same clock, 0.5 s allowed for the request in flight)
        hold = proxy.windows[:1] and (proxy.windows[0][0] - 0.5, proxy.windows[0][1] + 0.5)
        kubelet_writes = [e for e in ev if e["user"]["username"] == f"system:node:{node}" and
                          e["objectRef"].get("subresource") == "status" and e["verb"] in ("patch", "update") and
                          hold and hold[0] <= stamp(e) <= hold[1]]
        t409 = conflicts and stamp(mine[conflicts[0]])
        print("# writes of the Node around the first 409: " + repr(t409 and [
            (round(stamp(e) - t409, 2), e["user"]["username"], e["verb"], e["objectRef"].get("subresource"),
             e["responseStatus"]["code"]) for e in ev
            if e["verb"] not in ("get", "list", "watch") and t409 - HOLD_S - 1 <= stamp(e) <= t409 + 0.5]))
        tap(bool(proxy.held) and conflicts and reread and bool(tainted) and kubelet_writes and not proxy.gone,
            f"a resourceVersion conflict for real: nodeprint's taint patch read at {proxy.held[:1]} met the kubelet's "
            f"status update ({len(kubelet_writes)} within the hold) and got {len(conflicts)} x 409; it read again and the "
            f"taint is on", ([(e['verb'], e['responseStatus']['code']) for e in mine], len(kubelet_writes)))

        # the kubelet's heartbeats go on beside nodeprint's patches; neither drops the other's conditions
        mid = conds(c, node)
        hb = beats(c, node, 2, 8 * STATUS_S)
        after = conds(c, node)
        tap(len(hb) >= 3 and kubelet_part(after) == kubelet_part(before) and
            after["Ready"]["lastHeartbeatTime"] > before["Ready"]["lastHeartbeatTime"],
            f"the kubelet's heartbeats go on ({len(hb) - 1} more: {hb[-2:]}); Ready and the pressures keep status, "
            f"reason and lastTransitionTime", (kubelet_part(before), kubelet_part(after)))
        tap(after.get("BundlePinned") == mid.get("BundlePinned") or
            ({k: v for k, v in after["BundlePinned"].items() if k != "lastHeartbeatTime"} ==
             {k: v for k, v in mid["BundlePinned"].items() if k != "lastHeartbeatTime"}),
            "nodeprint's BundlePinned intact across the kubelet's status updates", (mid.get("BundlePinned"),
                                                                                  after.get("BundlePinned")))

        # findings arriving and leaving under one condition: its transition time stays
        time.sleep(1.2)
        write(live, contract.policy(kernel_ok=False, module_ok=False))
        two = c.wait(lambda: (x := conds(c, node)["BundlePinned"]) and "vxlan" in x["message"] and x, timeout=30)
        write(live, contract.policy(kernel_ok=True, module_ok=False))
        one = c.wait(lambda: (x := conds(c, node)["BundlePinned"]) and "vxlan" in x["message"] and
                     contract.HOST_RELEASE not in x["message"] and x, timeout=30)
        tap(bool(two) and bool(one) and two["status"] == one["status"] == "False" and
            two["lastTransitionTime"] == one["lastTransitionTime"] == t1,
            "findings arriving and leaving under BundlePinned (kernel, +module, -kernel): lastTransitionTime unchanged",
            (t1, two, one))

        # the cause gone: healthy within one cycle
        write(live, contract.policy(kernel_ok=True, module_ok=True))
        t0 = time.monotonic()
        ok = c.wait(lambda: conds(c, node)["BundlePinned"]["status"] == "True", timeout=20, every=0.1)
        dt = time.monotonic() - t0
        x = conds(c, node)["BundlePinned"]
        tap(ok and dt < 3 and x["lastTransitionTime"] != t1, f"the cause gone: BundlePinned=True after {dt:.1f} s", x)
        w = c.kubectl("wait", "--for=condition=BundlePinned=True", f"node/{node}", "--timeout=20s", check=False)
        tap(w.returncode == 0, "kubectl wait --for=condition=BundlePinned=True", w.stdout + w.stderr)
        beats(c, node, 1, 8 * STATUS_S)
    finally:
        agent.send_signal(signal.SIGTERM)
        agent.wait(timeout=30)
        proxy.shutdown()
        if proxy.gone:
            print(f"# the agent left before its answer (stopping): {proxy.gone}")
    end = conds(c, node)
    tap(kubelet_part(end) == kubelet_part(before) and end["Ready"]["lastHeartbeatTime"] > after["Ready"]["lastHeartbeatTime"],
        "at the end the kubelet's conditions are as it keeps them, its heartbeat still moving",
        (kubelet_part(before), kubelet_part(end)))
    own = sorted(set(end) - set(before))
    tap("BundlePinned" in own and not set(own) & set(KUBELET), "nodeprint added only its own condition types", own)


def main():
    if os.geteuid() != 0 or not os.path.exists(NODEPRINT):
        tap(False, "prerequisites: root, build/nodeprint", f"uid={os.geteuid()}")
        return
    lock = test_node.node_lock(tap)
    if not lock:
        return
    node = socket.gethostname()
    work = tempfile.mkdtemp(prefix="np-node-contract-")
    c = Cluster(os.path.join(work, "cluster"))
    ndir = os.path.join(work, "node")
    node_started = False
    t0 = time.monotonic()
    try:
        c.start()
        env = dict(os.environ, **c.env, NP_NODE_STATUS_SECONDS=str(STATUS_S))
        p = subprocess.run([os.path.join(HERE, "node.sh"), "start", node, ndir], capture_output=True, text=True,
                           env=env, timeout=1800)
        node_started = p.returncode == 0
        tap(node_started, f"containerd + runc + kubelet: Node {node} registered and Ready "
            f"({time.monotonic() - t0:.0f} s with the control plane)", p.stderr[-1500:])
        if node_started:
            run(c, node, work)
    finally:
        if node_started:
            subprocess.run([os.path.join(HERE, "node.sh"), "stop", ndir], env=dict(os.environ, **c.env),
                           capture_output=True, timeout=300)
        c.stop()
        subprocess.run(["rm", "-rf", work])
        print(f"# time: whole test {time.monotonic() - t0:.0f} s")


if __name__ == "__main__":
    taplib.run(main, "test_kubelet_contract")
