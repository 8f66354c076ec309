#!/usr/bin/env python3
"""The safety valve under concurrency (issue 24): many `nodeprint run` agents, one per Node of one
class, against the real control plane (tests/cluster/cluster.sh: kube-apiserver with RBAC and the
shipped manifests' admission policies enforced; each agent with a token bound to a Pod on its own
Node), with a policy change that makes every Node's bundle unpinned.

What is checked, from a WATCH on Nodes (never from the agents' own claims): at no instant do more than
floor(maxTaintedPercent x class / 100) Nodes carry a nodeprint NoSchedule/NoExecute taint; the wave
settles at exactly that many; every refused Node has its condition and a TaintRefused Event; slots
freed by recovering Nodes go to waiting ones; the same with half the agents killed and restarted
mid-wave, and with the API server stopped and started mid-wave; and no slot leaks: once the wave is
over the Lease's slots are exactly the tainted Nodes, and none once every Node recovers. Requests
are counted from the audit log (the agents' user and User-Agent).
NP_VALVE_AGENTS sets the fleet size (default 20); tests/bench runs it larger. Figures (max tainted
share, time to settle, requests) go to stdout as '# figure ...' lines and to $NP_VALVE_FIGURES (JSON).
TAP output.
"""
import collections, json, os, ssl, subprocess, sys, threading, time, urllib.error, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster import HOST_RELEASE, HOST_ROOT, NODEPRINT as BIN, run_with_cluster, tap  # noqa: E402
import fleet  # noqa: E402

ENV = {}
CL = {}
N = int(os.environ.get("NP_VALVE_AGENTS", "20"))
PCT = 30
BUDGET = PCT * N // 100
PREFIX = "nodeprint.io"
CLASS = "wave"
LEASE = f"nodeprint-valve-{CLASS}"
NS = "nodeprint"
FIG = {"agents": N, "maxTaintedPercent": PCT, "budget": BUDGET}


def names():
    return [f"wave-{i:03d}" for i in range(N)]


def api(method, path, body=None, ctype="application/json"):
    ctx = ssl.create_default_context(cafile=ENV["NP_KUBE_CA"])
    req = urllib.request.Request(ENV["NP_KUBE_SERVER"] + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": "Bearer " + ENV["NP_KUBE_ADMIN_TOKEN"], "Content-Type": ctype})
    with urllib.request.urlopen(req, context=ctx, timeout=20) as r:
        return json.loads(r.read() or b"null")


def hard(node):
    return any(t.get("key", "").startswith(PREFIX + "/") and t.get("effect") in ("NoSchedule", "NoExecute")
               for t in (node.get("spec") or {}).get("taints") or [])


class Watcher(fleet.NodeWatch):
    """Counts the class's Nodes with a hard taint of ours after every WATCH event (tests/cluster/fleet.py:
    re-lists and re-watches when the stream ends, an API outage included)."""

    def __init__(self):
        super().__init__(CL["c"], f"{PREFIX}%2Fclass%3D{CLASS}")
        self.tainted, self.max = set(), 0
        self.ever = set()  # Nodes seen tainted since the last reset
        self.last_change = time.monotonic()
        self.history = []  # (time, count)

    def apply(self, name, node):
        is_hard = node is not None and hard(node)
        with self.lock:
            before = len(self.tainted)
            (self.tainted.add if is_hard else self.tainted.discard)(name)
            if is_hard:
                self.ever.add(name)
            if len(self.tainted) != before:
                self.last_change = time.monotonic()
                self.history.append((time.monotonic(), len(self.tainted)))
            self.max = max(self.max, len(self.tainted))

    def count(self):
        with self.lock:
            return len(self.tainted)


class Fleet(fleet.Fleet):
    """The class's agents (tests/cluster/fleet.py), all on one captured root, with the valve's policy."""

    def __init__(self, c, tmp):
        super().__init__(c, tmp, names(), poll=os.environ.get("NP_VALVE_POLL", "2"), host_root=HOST_ROOT,
                         extra=("--smart-interval", "3600"))

    def policy(self, name, pinned, observe=False, path=None, rate=None):
        release = HOST_RELEASE if pinned else "1.0.*"
        limit = f", maxNewPerWindow: {rate[0]}, windowSeconds: {rate[1]}" if rate else ""
        text = (f"taintHoldDownSeconds: 0\nsafetyValve: {{maxTaintedPercent: {PCT}, slotTTLSeconds: 20{limit}}}\n"
                f"observe: {'true' if observe else 'false'}\n"
                f"classes:\n  - name: {CLASS}\n    pins: {{kernel: {{release: ['{release}']}}}}\n")
        if path:
            with open(path, "w") as f:
                f.write(text)
        else:
            self.write_policy(name, text)


def nodes():
    return {n["metadata"]["name"]: n for n in api("GET", f"/api/v1/nodes?labelSelector={PREFIX}%2Fclass%3D{CLASS}")["items"]}


def lease_book():
    try:
        l = api("GET", f"/apis/coordination.k8s.io/v1/namespaces/{NS}/leases/{LEASE}")
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return {}
        raise
    return json.loads(l["metadata"].get("annotations", {}).get(f"{PREFIX}/valve", "{}"))


def lease_slots():
    return set(lease_book().get("slots", {}))


OPTED_OUT = set()   # Nodes labelled <prefix>/taints=disabled


def refused_events(reason="TaintRefused"):
    ev = api("GET", f"/api/v1/events?fieldSelector=reason%3D{reason}")["items"]
    return {e["involvedObject"]["name"] for e in ev}


def opt_out(names_, on):
    for n in names_:
        api("PATCH", f"/api/v1/nodes/{n}", {"metadata": {"labels": {f"{PREFIX}/taints": "disabled" if on else None}}},
            "application/merge-patch+json")
        (OPTED_OUT.add if on else OPTED_OUT.discard)(n)


def cond(node, t="BundlePinned"):
    return next((c["status"] for c in node.get("status", {}).get("conditions", []) if c["type"] == t), None)


def wait(pred, timeout, step=0.5):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            v = pred()
            if v:
                return v
        except Exception:
            pass
        time.sleep(step)
    return None


def settled(w, want, quiet=4.0):
    """The wave is over: @want Nodes tainted, every Node's condition False, every untainted one refused
    with an Event, and no taint change for @quiet seconds."""
    if w.count() != want or time.monotonic() - w.last_change < quiet:
        return False
    nd = nodes()
    if len(nd) != N or any(cond(n) != "False" for n in nd.values()):
        return False
    untainted = {k for k, n in nd.items() if not hard(n)}
    return untainted - OPTED_OUT <= refused_events() and OPTED_OUT <= refused_events("TaintDisabled")


def recovered(w):
    nd = nodes()
    return w.count() == 0 and all(cond(n) == "True" for n in nd.values()) and not lease_slots()


def agent_requests(since):
    return fleet.agent_requests(CL["c"], since)


def summarise(label, reqs, t0, t_settle):
    by = fleet.by_verb(reqs)
    conflicts = sum(1 for e in reqs if e["responseStatus"]["code"] == 409 and e.get("objectRef", {}).get("resource") == "leases")
    FIG[label] = {"settle_s": round(t_settle - t0, 1), "requests": len(reqs), "per_agent": round(len(reqs) / N, 1),
                  "lease_conflicts": conflicts, "by": by}
    print(f"# figure {label}: settled in {t_settle - t0:.1f} s, {len(reqs)} requests ({len(reqs) / N:.1f} per agent), "
          f"{conflicts} lease conflicts (409), {by}", flush=True)


def last_seq():
    return CL["c"].audit_mark()


def wave(fl, w, label, disturb=None, together=False, rate=None):
    """Switch every agent's policy to drift (@together: stop them, then start all at once on it),
    optionally disturb the wave, wait for it to settle."""
    w.max = w.count()
    w.ever = set(w.tainted)
    if together:
        fl.stop_all()
    seq, t0 = last_seq(), time.monotonic()
    for n in names():
        fl.policy(n, pinned=False, rate=rate)
    if together:
        for n in names():
            fl.start(n)
        FIG.setdefault("start_spread_s", {})[label] = round(time.monotonic() - t0, 2)
    if disturb:
        disturb()
    ok = wait(lambda: settled(w, BUDGET), 90 + N)
    t1 = w.last_change if ok else time.monotonic()
    tap(w.max <= BUDGET, f"{label}: at most {BUDGET} of {N} Nodes ({PCT}%) ever carried a hard taint (watch: max {w.max})",
        w.history[-30:])
    nd = nodes()
    refused = refused_events()
    untainted = {k for k, n in nd.items() if not hard(n)}
    tap(ok and w.count() == BUDGET, f"{label}: settles at exactly {BUDGET} tainted", (w.count(), sorted(untainted)))
    tap(untainted and untainted - OPTED_OUT <= refused and all(cond(nd[k]) == "False" for k in untainted),
        f"{label}: every refused Node has BundlePinned=False and a TaintRefused Event", sorted(untainted - refused))
    if OPTED_OUT:
        tap(OPTED_OUT <= untainted and OPTED_OUT <= refused_events("TaintDisabled") and not (OPTED_OUT & w.ever),
            f"{label}: the {len(OPTED_OUT)} Nodes labelled {PREFIX}/taints=disabled were never tainted, each has a "
            f"TaintDisabled Event", (sorted(OPTED_OUT & w.ever), sorted(OPTED_OUT - refused_events("TaintDisabled"))))
    slots = lease_slots()
    tainted = {k for k, n in nd.items() if hard(n)}
    tap(slots == tainted, f"{label}: the Lease's slots are exactly the tainted Nodes (no leak)", (sorted(slots), sorted(tainted)))
    FIG.setdefault("max_tainted", {})[label] = w.max
    summarise(label, agent_requests(seq), t0, t1)
    return tainted


def recover_all(fl, w, label):
    seq, t0 = last_seq(), time.monotonic()
    for n in names():
        fl.policy(n, pinned=True)
    ok = wait(lambda: recovered(w), 60 + N)
    tap(ok, f"{label}: every Node recovers, every taint goes, every slot is given back", (w.count(), sorted(lease_slots())))
    summarise(label, agent_requests(seq), t0, w.last_change)


def main(c, tmp):
    CL["c"] = c
    ENV.update(c.env)
    p = c.apply_manifests()
    tap(p.returncode == 0, "the shipped manifests applied (RBAC, admission policies)", p.stderr)
    fl = Fleet(c, tmp)
    fl.register(labels=lambda n: {f"{PREFIX}/class": CLASS})
    w = Watcher()
    w.start()
    try:
        for n in names():
            fl.policy(n, pinned=True)
            fl.start(n)
        ok = wait(lambda: all(cond(x) == "True" for x in nodes().values()) and len(nodes()) == N, 60 + N)
        tap(ok, f"{N} agents start on a pinned policy: every Node BundlePinned=True, none tainted")
        tap(not lease_slots() and w.max == 0, "a healthy fleet takes no slot", sorted(lease_slots()))

        # 0. before the change: `fleet --policy` shows what it would do to the class
        drift = f"{tmp}/drift.yaml"
        fl.policy(None, pinned=False, path=drift)
        p = subprocess.run([BIN, "fleet", "--kubeconfig", ENV["NP_KUBE_KUBECONFIG"], "--policy", drift, "-o", "json"],
                           capture_output=True, text=True, timeout=60)
        cls = {c_.get("class"): c_ for c_ in (json.loads(p.stdout).get("classes", []) if p.returncode == 0 else [])}
        tap(cls.get(CLASS, {}) == {"class": CLASS, "nodes": N, "drifting": N, "opted_out": 0, "would_taint": N,
                                   "valve_budget": BUDGET, "valve_allows": BUDGET},
            f"fleet --policy: class {CLASS} would have {N} Nodes drift and tainted, the valve lets {BUDGET} through",
            p.stdout[-1500:] + p.stderr[-500:])
        opt_out(names()[:2], True)
        fl.policy(None, pinned=False, observe=True, path=f"{tmp}/observe.yaml")
        p = subprocess.run([BIN, "fleet", "--kubeconfig", ENV["NP_KUBE_KUBECONFIG"], "--policy", drift], capture_output=True,
                           text=True, timeout=60)
        q = subprocess.run([BIN, "fleet", "--kubeconfig", ENV["NP_KUBE_KUBECONFIG"], "--policy", f"{tmp}/observe.yaml",
                            "-o", "json"], capture_output=True, text=True, timeout=60)
        row = [ln.split() for ln in p.stdout.splitlines() if ln.startswith(CLASS + " ")]
        obs = {c_.get("class"): c_ for c_ in (json.loads(q.stdout).get("classes", []) if q.returncode == 0 else [])}
        tap([CLASS, str(N), str(N), "2", str(N - 2), str(BUDGET), str(BUDGET)] in row and
            obs.get(CLASS, {}).get("would_taint") == 0,
            "fleet: two opted-out Nodes are left out of would-taint; in observe mode nothing would be tainted",
            (p.stdout[-800:], q.stdout[-400:]))
        opt_out(names()[:2], False)

        # 1a. observe mode first: every Node's condition goes False, no taint, TaintObserved Events
        for n in names():
            fl.policy(n, pinned=False, observe=True)
        ok = wait(lambda: all(cond(x) == "False" for x in nodes().values()) and
                  set(names()) <= refused_events("TaintObserved"), 60 + N)
        time.sleep(3)
        tap(ok and w.max == 0 and not lease_slots(), f"observe mode: {N} Nodes drift (BundlePinned=False, TaintObserved "
            f"Events), none tainted, no slot taken", (w.max, sorted(lease_slots())))

        # 1. the policy change: every Node's bundle is unpinned at once
        first = wave(fl, w, "wave")

        # 2. the tainted Nodes recover: their slots go to Nodes that waited
        seq, t0 = last_seq(), time.monotonic()
        for n in first:
            fl.policy(n, pinned=True)
        ok = wait(lambda: (w.count() == BUDGET and not (w.tainted & first) and
                           time.monotonic() - w.last_change > 3), 60 + N)
        tap(ok and w.max <= BUDGET, f"freed slots go to waiting Nodes: {BUDGET} others tainted, never more than {BUDGET} "
            f"(max {w.max})", (sorted(w.tainted), sorted(first)))
        summarise("handover", agent_requests(seq), t0, w.last_change)
        recover_all(fl, w, "recovery")

        # 3. the reproduction: every agent starts within a fraction of a second on that policy
        opt_out(names()[-2:], True)
        wave(fl, w, "started together", together=True)
        recover_all(fl, w, "recovery after the start")
        opt_out(names()[-2:], False)

        # 4. half the agents killed (SIGKILL) and restarted mid-wave
        half = names()[::2]

        def restart():
            time.sleep(0.5)
            for n in half:
                fl.kill(n)
            time.sleep(1.0)
            for n in half:
                fl.start(n)
        wave(fl, w, "restarts mid-wave", disturb=restart)
        recover_all(fl, w, "recovery after restarts")

        # 5. the control plane stopped and started mid-wave (cluster.sh restart: same ports, same etcd)
        # with a rate limit of 2 new taints per 10 s the wave takes about 30 s, so the outage falls inside it;
        # the grants (the limit's own record, in the Lease) are sampled through the wave
        grants, sampling = {}, {"on": True}   # grant time -> how many (two in one second are two)

        def sample():
            while sampling["on"]:
                try:
                    for t_, k in collections.Counter(lease_book().get("grants", [])).items():
                        grants[t_] = max(grants.get(t_, 0), k)
                except Exception:
                    pass
                time.sleep(0.2)
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()

        def outage():
            wait(lambda: w.count() >= 1, 30, step=0.05)
            FIG["tainted_when_the_api_went_down"] = w.count()
            t = time.monotonic()
            c.restart()
            FIG["outage_s"] = round(time.monotonic() - t, 1)
        h0, wall0 = len(w.history), int(time.time())
        wave(fl, w, "API outage mid-wave", disturb=outage, rate=(2, 10))
        sampling["on"] = False
        down = FIG["tainted_when_the_api_went_down"]
        # (the book keeps the earlier waves' grants for their window)
        g = sorted(x for x, k in grants.items() if x >= wall0 for _ in range(k))
        tight = [(a, b) for a, b in zip(g, g[2:]) if b - a < 10]
        hist = [(0, 0)] + w.history[h0:]
        rises = [t for (t, n), (_, m) in zip(hist[1:], hist) if n > m]
        FIG["outage_wave_taints_in_any_9s_watch"] = max((sum(1 for u in rises if t <= u < t + 9) for t in rises), default=0)
        FIG["outage_wave_grants"] = [x - g[0] for x in g] if g else []
        tap(0 < down < BUDGET and len(g) >= 2 and not tight,
            f"the outage ({FIG['outage_s']} s) hit mid-wave ({down} of {BUDGET} tainted when the control plane stopped); "
            f"the rate limit held: {len(g)} grants at +{FIG['outage_wave_grants']} s, never 3 within 10 s "
            f"(maxNewPerWindow 2 per 10 s)", (g, tight, w.history[-12:]))
        recover_all(fl, w, "recovery after the outage")

        # 6. slots whose holder cannot give them back: an agent killed with its taint removed by hand
        # (reclaimed after slotTTLSeconds, 20 s here), and a Node deleted (reclaimed at once: 404)
        tainted = sorted(wave(fl, w, "wave before the leaks"))
        x, y = tainted[0], tainted[1]
        fl.kill(x)
        renewed = lease_book()["slots"][x]["renewed"]
        api("PATCH", f"/api/v1/nodes/{x}", {"spec": {"taints": [t for t in nodes()[x]["spec"]["taints"]
                                                              if not t["key"].startswith(PREFIX + "/")]}},
            "application/merge-patch+json")
        ok = wait(lambda: x not in lease_slots() and w.count() == BUDGET, 60)
        age = time.time() - renewed
        tap(ok and 20 <= age < 40 and w.max <= BUDGET, f"a dead agent's slot (its Node untainted by hand) is reclaimed after "
            f"the TTL ({age:.0f} s after its last renewal, TTL 20 s) and goes to a waiting Node (max {w.max})",
            (sorted(lease_slots()), sorted(w.tainted)))
        FIG["ttl_reclaim_s"] = round(age, 1)
        fl.kill(y)
        api("DELETE", f"/api/v1/nodes/{y}")
        t0 = time.monotonic()
        budget = PCT * (N - 1) // 100
        ok = wait(lambda: y not in lease_slots() and lease_slots() == set(w.tainted), 30)
        dt = time.monotonic() - t0
        tap(ok and w.count() <= budget, f"a deleted Node's slot is reclaimed at once ({dt:.0f} s; {w.count()} tainted, "
            f"budget {budget} of {N - 1})", (sorted(lease_slots()), sorted(w.tainted)))
        FIG["gone_reclaim_s"] = round(dt, 1)
    finally:
        fl.stop_all()
        w.stop_ = True
    out = os.environ.get("NP_VALVE_FIGURES")
    if out:
        with open(out, "w") as f:
            json.dump(FIG, f, indent=1)


if __name__ == "__main__":
    run_with_cluster(main, "test_valve")
