#!/usr/bin/env python3
"""fleet.py - many `nodeprint run` agents as processes of this machine against one real control plane
(tests/cluster/cluster.py), the way a DaemonSet runs them: each with its own Node, its own token
(TokenRequest bound to a Pod of the DaemonSet's spec on that Node, so the shipped RBAC and admission
policies judge it as the real one), its own host root and its own policy file. Shared by
tests/cluster/test_valve.py, tests/cluster/test_fleet.py and tests/bench/section_fleet_agents.py.

Stable interface (import with sys.path.insert(0, ROOT + "/tests/cluster")):
  CLASSES                                 (class, fixture) pairs: four captured host roots
  Fleet(cluster, tmp, names, poll=10, resync=300, extra=(), host_root=None)
    .register(labels=fn(name) -> dict)    create the Nodes and one kubeconfig per Node (threads)
    .roots(drift=fn(name) -> bool)        a host root per agent (hard-linked copy of its class's fixture
                                          with a private dev/kmsg) and its policy: the class pinned to
                                          what its root carries, or, for drifting agents, the firmware
                                          pinned to a value it does not carry (firmware-unpinned)
    .set_drift(name, on)                  switch an agent to the drifting policy of its class, or back
    .write_policy(name, text)             replace an agent's policy file (atomically: rename)
    .start(name) / .start_all()           launch `nodeprint run` (stdout+stderr to TMP/agents/NAME.log)
    .kill(name, sig=SIGKILL) / .stop_all(sig=SIGTERM)   signal and reap
    .alive() -> [name]                    agents still running
    .usage() -> {name: (rss_kib, cpu_s)}  from /proc/PID/status (VmRSS) and /proc/PID/stat (utime+stime)
    .kmsg_append(name, records)           append kernel-log records to the agent's dev/kmsg
  agent_requests(cluster, since) -> [event]   the agents' audit events (their user, nodeprint's UA)
  by_verb(events) -> {"VERB resource[/sub]": n}
  node_of(event) -> the Node an agent's request was for (its objectRef, or the Event's name prefix)
  node_writes(events), audit_time(event), cycles_logged(log)
  converged(cluster, selector, n, drift) -> []   the Nodes whose class, bundle state, BundlePinned and
                                          taint are not yet what their agent's root and policy give
  proc_usage(pid) -> (rss_kib, cpu_s)
  NodeWatch(cluster, selector)            a thread keeping every Node's nodeprint keys from a WATCH and
                                          counting removals of labels, taints and conditions
"""
import concurrent.futures, datetime, http.client, json, os, shutil, signal, ssl, subprocess, threading, time

from cluster import AGENT_NS, AGENT_USER, NODEPRINT, ROOT

FIXTURES = os.path.join(ROOT, "tests", "fixtures")
# four classes of captured hosts (tests/capture.py, tests/vm/nib.py): different kernels, CPUs, BIOS,
# NUMA layouts and PCIe errors, so the fleet carries four bundles; class d's capture lacks most
# sources (a NIC-only capture): its agents are blind, their bundle unjudged (state unknown)
CLASSES = (("a", "host-vm"), ("b", "nib-numa"), ("c", "nib-q35-aer"), ("d", "host-vm-net"))
BLIND_CLASSES = {"d"}
# the kernel log a root without its own gets: a real capture (tests/kmsg_capture.py)
KMSG_CAPTURE = os.path.join(FIXTURES, "storagelog-kmsg", "dev", "kmsg")
PREFIX = "nodeprint.io"
# the Node label that puts a Node in its class (outside nodeprint's prefix: the agent owns those keys)
CLASS_LABEL = "test.np/fleet-class"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_usage(pid):
    """(resident set KiB, user+system CPU seconds) of process @pid; (0, 0.0) once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            rss = next((int(ln.split()[1]) for ln in f if ln.startswith("VmRSS:")), 0)
        with open(f"/proc/{pid}/stat") as f:
            st = f.read().rsplit(")", 1)[1].split()
        return rss, (int(st[11]) + int(st[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return 0, 0.0


def bundle_facts(fixture):
    """{component: {key: value}} of a fixture's bundle (kernel, cpu, bios, ...), from `nodeprint inspect`."""
    p = subprocess.run([NODEPRINT, "inspect", "-o", "json", "--host-root", os.path.join(FIXTURES, fixture)],
                       capture_output=True, text=True, timeout=60)
    out = {}
    for c in json.loads(p.stdout)["fingerprint"]["components"]:
        out.setdefault(c["component"], {})[c["key"]] = c["value"]
    return out


def glob_quote(v):
    return "".join(f"[{ch}]" if ch in "*?[" else ch for ch in v)


def class_policy(facts, drift_of=None, extra=""):
    """A policy whose classes match the Node label CLASS_LABEL and pin each class's kernel and
    firmware (CPU microcode or BIOS) to what its captured root carries; the class @drift_of has its
    firmware pinned to a version nobody runs (the firmware-unpinned finding, reason Drift)."""
    lines = ["taintHoldDownSeconds: 0", "classes:"]
    for cls, _ in CLASSES:
        f = facts[cls]
        pins = [f"      kernel: {{release: ['{glob_quote(f['kernel']['release'])}']}}"]
        for comp in ("cpu", "bios"):
            for k, v in f.get(comp, {}).items():
                want = "0.0.0-unapproved" if cls == drift_of else glob_quote(v)
                pins.append(f"      {comp}: {{'{glob_quote(k)}': ['{want}']}}")
        lines += [f"  - name: fleet-{cls}", f"    match: {{nodeLabels: {{'{CLASS_LABEL}': '{cls}'}}}}",
                  "    pins:", *pins]
    return "\n".join(lines) + "\n" + extra


class Fleet:
    def __init__(self, cluster, tmp, names, poll=10, resync=300, extra=(), host_root=None):
        self.c, self.tmp, self.names = cluster, tmp, list(names)
        self.poll, self.resync, self.extra, self.host_root = poll, resync, list(extra), host_root
        self.dir = os.path.join(tmp, "agents")
        os.makedirs(self.dir, exist_ok=True)
        self.procs, self.kubeconfigs, self.root_of, self.class_of = {}, {}, {}, {}

    # --- the world ------------------------------------------------------------------------------
    def register(self, labels=lambda n: {}, threads=6):
        """Create every Node (not waiting for node-lifecycle) and a kubeconfig with a bound token each."""
        def one(n):
            self.c.create_node(n, labels=labels(n), wait_ready=False)
            self.kubeconfigs[n] = self.c.agent_kubeconfig(n, path=os.path.join(self.dir, n + ".kubeconfig"))
        self.c.agent_pod(self.names[0])     # the pod template, read once before the threads
        with concurrent.futures.ThreadPoolExecutor(threads) as ex:
            list(ex.map(one, self.names))

    def class_labels(self, n):
        """The Node labels that put @n in its class (round robin over CLASSES by its index)."""
        cls = CLASSES[self.names.index(n) % len(CLASSES)][0]
        self.class_of[n] = cls
        return {CLASS_LABEL: cls}

    def roots(self, drift=lambda n: False):
        """Each agent's host root and policy (see the module's doc). Returns {name: drifting}."""
        self.facts = facts = {cls: bundle_facts(fx) for cls, fx in CLASSES}
        fixture = dict(CLASSES)
        out = {}
        for n in self.names:
            cls = self.class_of.get(n) or self.class_labels(n)
            root = os.path.join(self.dir, n + ".root")
            shutil.rmtree(root, ignore_errors=True)
            subprocess.run(["cp", "-al", os.path.join(FIXTURES, fixture[cls]), root], check=True)
            kmsg = os.path.join(root, "dev", "kmsg")
            src = kmsg if os.path.exists(kmsg) else KMSG_CAPTURE
            os.makedirs(os.path.dirname(kmsg), exist_ok=True)
            data = open(src, "rb").read()
            if os.path.exists(kmsg):
                os.unlink(kmsg)     # a hard link to the fixture: appends must not reach it
            with open(kmsg, "wb") as f:
                f.write(data)
            self.root_of[n] = root
            out[n] = bool(drift(n))
            self.write_policy(n, class_policy(facts, drift_of=cls if out[n] else None))
        return out

    def set_drift(self, name, on):
        """Give agent @name the policy of its class with (@on) or without its firmware drifting."""
        self.write_policy(name, class_policy(self.facts, drift_of=self.class_of[name] if on else None))

    def write_policy(self, name, text):
        path = os.path.join(self.dir, name + ".yaml")
        with open(path + ".tmp", "w") as f:
            f.write(text)
        os.rename(path + ".tmp", path)
        return path

    def kmsg_append(self, name, records):
        """Append @records (bytes, one kernel record each, `PRI,SEQ,TS_US,FLAGS;text\\n`) to the
        agent's dev/kmsg, as the kernel adds them to its ring; they are read at the agent's next cycle."""
        with open(os.path.join(self.root_of[name], "dev", "kmsg"), "ab") as f:
            f.write(b"".join(records))

    def last_kmsg(self, name):
        """(sequence number, timestamp in µs) of the last record of the agent's dev/kmsg."""
        with open(os.path.join(self.root_of[name], "dev", "kmsg"), "rb") as f:
            f.seek(max(0, os.path.getsize(f.name) - 65536))
            last = None
            for line in f.read().split(b"\n"):
                head = line.split(b";", 1)[0].split(b",")
                if len(head) >= 3 and head[1].isdigit() and head[2].isdigit():
                    last = (int(head[1]), int(head[2]))
            return last or (0, 0)

    # --- the agents -----------------------------------------------------------------------------
    def argv(self, name):
        a = [NODEPRINT, "run", "--node-name", name, "--kubeconfig", self.kubeconfigs[name],
             "--policy", os.path.join(self.dir, name + ".yaml"), "--poll", str(self.poll),
             "--resync", str(self.resync), "--settle", "0", *self.extra]
        root = self.root_of.get(name) or self.host_root
        return a + (["--host-root", root] if root else [])

    def start(self, name):
        log = open(os.path.join(self.dir, name + ".log"), "a")
        self.procs[name] = subprocess.Popen(self.argv(name), stdout=log, stderr=log,
                                            env=dict(os.environ, NODEPRINT_NAMESPACE=AGENT_NS))
        log.close()

    def start_all(self):
        for n in self.names:
            self.start(n)

    def kill(self, name, sig=signal.SIGKILL):
        p = self.procs.pop(name, None)
        if p:
            p.send_signal(sig)
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def stop_all(self, sig=signal.SIGTERM):
        """Signal every agent at once, then reap them all."""
        procs = list(self.procs.items())
        self.procs.clear()
        for _, p in procs:
            p.send_signal(sig)
        for _, p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        return {n: p.returncode for n, p in procs}

    def alive(self):
        return [n for n, p in self.procs.items() if p.poll() is None]

    def usage(self):
        return {n: proc_usage(p.pid) for n, p in self.procs.items()}

    def log(self, name):
        try:
            return open(os.path.join(self.dir, name + ".log"), errors="replace").read()
        except OSError:
            return ""


# --- the request log -------------------------------------------------------------------------------
def agent_requests(c, since):
    """The agents' requests (their service account, nodeprint's User-Agent) after audit offset @since."""
    return [e for e in c.audit(since, user=AGENT_USER) if e.get("userAgent", "").startswith("nodeprint/")
            and e.get("stage") == "ResponseComplete"]


def resource_of(e):
    o = e.get("objectRef", {})
    return o.get("resource", "") + ("/" + o["subresource"] if o.get("subresource") else "")


def by_verb(events):
    out = {}
    for e in events:
        k = f"{e['verb']} {resource_of(e)}"
        out[k] = out.get(k, 0) + 1
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def node_of(e):
    """The Node an agent's request was about: the Node itself, or an Event named <node>.<suffix>."""
    o = e.get("objectRef", {})
    if o.get("resource") == "nodes":
        return o.get("name")
    if o.get("resource") == "events" and o.get("name"):
        return o["name"].rsplit(".", 1)[0]
    return None


def converged(c, selector, n, drift):
    """Every one of the @n Nodes of @selector (URL-quoted) carries its class and the bundle state its
    policy gives it, with BundlePinned to match, and a bundle label unless its agent is blind (blind
    is never a new bundle); only drifting ones (@drift: {name: bool}) may carry a hard taint of ours
    (how many do is the safety valve's business: tests/cluster/test_valve.py).
    Returns the Nodes not there yet ((name, own labels, BundlePinned, tainted)), [] when all are."""
    st, lst = c.api("GET", f"/api/v1/nodes?labelSelector={selector}")
    if st != 200:
        return ["(list failed)"]
    late = []
    for nd in lst["items"]:
        name, lab = nd["metadata"]["name"], nd["metadata"].get("labels", {})
        blind = lab.get(CLASS_LABEL) in BLIND_CLASSES
        want = "unknown" if blind else "drift" if drift[name] else "pinned"
        cond = next((x["status"] for x in nd["status"].get("conditions", []) if x["type"] == "BundlePinned"), None)
        tainted = any(t["key"].startswith(PREFIX + "/") and t["effect"] != "PreferNoSchedule"
                      for t in nd["spec"].get("taints") or [])
        if (lab.get(f"{PREFIX}/class") != "fleet-" + lab.get(CLASS_LABEL, "?") or
                lab.get(f"{PREFIX}/bundle-state") != want or blind == bool(lab.get(f"{PREFIX}/bundle")) or
                cond != {"unknown": "Unknown", "drift": "False", "pinned": "True"}[want] or (tainted and not drift[name])):
            late.append((name, {k: v for k, v in lab.items() if k.startswith(PREFIX)}, cond, tainted))
    return late if len(lst["items"]) == n else ["(nodes missing)"]


def audit_time(e):
    """When the API server received the request (seconds since the epoch, µs precision)."""
    t = e.get("requestReceivedTimestamp") or e.get("stageTimestamp")
    return datetime.datetime.strptime(t.rstrip("Z")[:26], "%Y-%m-%dT%H:%M:%S.%f").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def cycles_logged(log):
    """How many cycles an agent's log reports (its `cycle` lines)."""
    return sum(1 for ln in log.splitlines() if CYCLE_MARK in ln)


CYCLE_MARK = 'msg="cycle"'
WRITES = ("create", "update", "patch", "delete", "deletecollection")


def node_writes(events):
    return [e for e in events if e["verb"] in WRITES and e.get("objectRef", {}).get("resource") == "nodes"]


# --- what the Nodes carry, from a WATCH ----------------------------------------------------------------
def own_keys(node):
    """The nodeprint keys a Node carries: {("label"|"taint"|"condition", key): value}."""
    out = {}
    meta = node.get("metadata", {})
    for k, v in (meta.get("labels") or {}).items():
        if k.startswith(PREFIX + "/"):
            out[("label", k)] = v
    for t in (node.get("spec") or {}).get("taints") or []:
        if t.get("key", "").startswith(PREFIX + "/"):
            out[("taint", t["key"] + ":" + t.get("effect", ""))] = t.get("value", "")
    for cd in (node.get("status") or {}).get("conditions") or []:
        if cd.get("type") in OWN_CONDITIONS:
            out[("condition", cd["type"])] = cd.get("status")
    return out


def own_condition_types():
    """nodeprint's condition types: every built-in action's (`nodeprint policy --default`) and the
    baseline verdict's (a hand-kept list goes stale when a section adds one)."""
    import yaml
    acts = yaml.safe_load(subprocess.run([NODEPRINT, "policy", "--default"], capture_output=True, text=True,
                                         check=True).stdout)["actions"].values()
    return {a["condition"] for a in acts if a.get("condition")} | {"BundleRegression"}


OWN_CONDITIONS = own_condition_types()


class NodeWatch(threading.Thread):
    """Keeps every matching Node's nodeprint keys from a WATCH (re-listing when the stream ends, an
    outage included) and counts each key that disappears (a removal) or changes value, per Node."""

    def __init__(self, c, selector=""):
        super().__init__(daemon=True)
        self.c, self.sel = c, selector
        self.keys, self.removed, self.changed = {}, [], []
        self.lock, self.stop_ = threading.Lock(), False
        self.events = 0

    def apply(self, name, node):
        now = own_keys(node) if node else {}
        with self.lock:
            before = self.keys.get(name)
            if before is not None:
                for k, v in before.items():
                    if k not in now:
                        self.removed.append((time.time(), name, k))
                    elif now[k] != v:
                        self.changed.append((time.time(), name, k, v, now[k]))
            self.keys[name] = now

    def mark(self):
        with self.lock:
            return len(self.removed), len(self.changed)

    def since(self, mark):
        with self.lock:
            return self.removed[mark[0]:], self.changed[mark[1]:]

    def run(self):
        q = f"labelSelector={self.sel}&" if self.sel else ""
        host, port = self.c.env["NP_KUBE_SERVER"].split("//")[1].split(":")
        while not self.stop_:
            try:
                st, lst = self.c.api("GET", f"/api/v1/nodes?{q}")
                if st != 200:
                    time.sleep(0.5)
                    continue
                for n in lst["items"]:
                    self.apply(n["metadata"]["name"], n)
                conn = http.client.HTTPSConnection(host, int(port), timeout=90,
                                                   context=ssl.create_default_context(cafile=self.c.env["NP_KUBE_CA"]))
                conn.request("GET", f"/api/v1/nodes?watch=1&{q}resourceVersion={lst['metadata']['resourceVersion']}"
                             "&timeoutSeconds=60", headers={"Authorization": "Bearer " + self.c.env["NP_KUBE_ADMIN_TOKEN"]})
                r = conn.getresponse()
                while not self.stop_:
                    line = r.readline()
                    if not line:
                        break
                    ev = json.loads(line)
                    if ev["type"] in ("ADDED", "MODIFIED", "DELETED"):
                        self.events += 1
                        o = ev["object"]
                        self.apply(o["metadata"]["name"], None if ev["type"] == "DELETED" else o)
                conn.close()
            except Exception:
                time.sleep(0.5)
