#!/usr/bin/env python3
"""A Node refused a safety-valve slot backs off (issue 24; docs/reference.md, "Safety valve"), on the
real control plane (tests/cluster/cluster.sh, shipped RBAC and admission policies, tokens bound to
Pods on their Nodes): 10 agents of one class, maxTaintedPercent 30 (3 slots, 7 Nodes waiting),
`--poll 1`.

Counted from the audit log, per waiting agent (the bound token's node-name) over the same window:
its GETs of the class's Lease and its LISTs of the class's Nodes, with `safetyValve.retryMaxSeconds:
8` (backoff) and with `retryMaxSeconds: 0` (every cycle, the behaviour before). With the backoff a
waiting agent asks at most about once per retryMaxSeconds/2 and skips the LIST while the Lease
stands still; without it, every cycle does both. And the hand-over stays bounded: each slot given
back (a tainted Node recovers) is taken by a waiting Node within retryMaxSeconds plus one poll of
the Lease write that freed it, timed from a poll of the Lease; with seven waiting Nodes, and with a
single one whose pauses reached the cap (the worst case). Figures go to
stdout as '# figure ...' lines. TAP.
"""
import os, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_valve as tv  # noqa: E402
from cluster import AGENT_USER, HOST_RELEASE, run_with_cluster, tap  # noqa: E402

tv.N = N = 10
POLL = 1.0
CAP = 8.0
WINDOW = 12.0
BUDGET = tv.PCT * N // 100


class Fleet(tv.Fleet):
    """test_valve's fleet with safetyValve.retryMaxSeconds in the policy."""

    def policy(self, name, pinned, retry=CAP):
        release = HOST_RELEASE if pinned else "1.0.*"
        self.write_policy(name, f"taintHoldDownSeconds: 0\nsafetyValve: {{maxTaintedPercent: {tv.PCT}, "
                          f"slotTTLSeconds: 300, retryMaxSeconds: {retry}}}\n"
                          f"classes:\n  - name: {tv.CLASS}\n    pins: {{kernel: {{release: ['{release}']}}}}\n")


def per_agent(c, since, agents):
    """{node: (Lease GETs, Node LISTs)} of @agents' requests after audit offset @since."""
    out = {n: [0, 0] for n in agents}
    for e in c.audit(since, user=AGENT_USER):
        node = ((e.get("user", {}).get("extra") or {}).get("authentication.kubernetes.io/node-name") or [""])[0]
        o = e.get("objectRef", {})
        if node not in out or e.get("stage") != "ResponseComplete":
            continue
        if o.get("resource") == "leases" and o.get("name") == tv.LEASE and e["verb"] == "get":
            out[node][0] += 1
        elif o.get("resource") == "nodes" and e["verb"] == "list":
            out[node][1] += 1
    return {n: tuple(v) for n, v in out.items()}


def window(c, w, waiting, label):
    """Count the waiting agents' valve requests over WINDOW seconds in which nothing is freed."""
    seq = c.audit_mark()
    t0 = time.monotonic()
    time.sleep(WINDOW)
    counts = per_agent(c, seq, waiting)
    dt = time.monotonic() - t0
    gets = sorted(v[0] for v in counts.values())
    lists = sorted(v[1] for v in counts.values())
    print(f"# figure {label}: over {dt:.0f} s per waiting agent: Lease GETs {gets}, Node LISTs {lists} "
          f"(poll {POLL:g} s)", flush=True)
    return gets, lists, dt


def main(c, tmp):
    tv.CL["c"] = c
    tv.ENV.update(c.env)
    p = c.apply_manifests()
    tap(p.returncode == 0, "the shipped manifests applied (RBAC, admission policies)", p.stderr)
    os.environ["NP_VALVE_POLL"] = str(POLL)
    fl = Fleet(c, tmp)
    fl.register(labels=lambda n: {f"{tv.PREFIX}/class": tv.CLASS})
    w = tv.Watcher()
    w.start()
    try:
        for n in tv.names():
            fl.policy(n, pinned=False)
            fl.start(n)
        ok = tv.wait(lambda: tv.settled(w, BUDGET), 60)
        tainted = {k for k, x in tv.nodes().items() if tv.hard(x)}
        waiting = sorted(set(tv.names()) - tainted)
        tap(ok and len(waiting) == N - BUDGET and w.max <= BUDGET,
            f"{N} agents drift at once: {BUDGET} tainted, {N - BUDGET} refused and waiting", (sorted(tainted), w.max))

        # after: the backoff (retryMaxSeconds 8), the Lease standing still
        time.sleep(CAP + 4)      # the pauses reach the cap (1, 2, 4, 8 s from the refusal)
        gets, lists, dt = window(c, w, waiting, f"backoff (retryMaxSeconds {CAP:g})")
        most = dt / (CAP / 2) + 1
        tap(max(gets) <= most and max(lists) <= 1 and min(gets) >= 1,
            f"with the backoff a waiting agent GETs the Lease at most {most:.0f} times in {dt:.0f} s (saw {max(gets)}), "
            f"LISTs the class at most once (saw {max(lists)}): the Lease's resourceVersion stood still", (gets, lists))

        # the hand-over: tainted Nodes recover one at a time; a waiting Node takes each freed slot
        handover = []
        for n in sorted(tainted):
            holders = tv.lease_slots()
            fl.policy(n, pinned=True)
            t_free = tv.wait(lambda: n not in tv.lease_slots() and time.monotonic(), 30, step=0.05)
            taken = tv.wait(lambda: (s := tv.lease_slots() - holders) and time.monotonic(), 3 * CAP, step=0.05)
            handover.append(round(taken - t_free, 1) if t_free and taken else None)
            tv.wait(lambda: w.count() == BUDGET and not tv.hard(tv.nodes()[n]), 30)
        bound = CAP + POLL
        print(f"# figure hand-over after a slot is given back: {handover} s (bound {bound:g} s)", flush=True)
        tap(all(h is not None and h <= bound + 1 for h in handover) and w.max <= BUDGET,
            f"each freed slot is taken by a waiting Node within retryMaxSeconds + one poll ({bound:g} s, "
            f"+1 s of test polling): {handover} s; never more than {BUDGET} tainted (max {w.max})", handover)

        # before: retryMaxSeconds 0, every cycle asks in full
        tainted = {k for k, x in tv.nodes().items() if tv.hard(x)}
        waiting = sorted(set(tv.names()) - tainted - {n for n in tv.names() if tv.cond(tv.nodes()[n]) == "True"})
        for n in waiting:
            fl.policy(n, pinned=False, retry=0)
        time.sleep(2 * POLL + 1)     # the policy read again: every cycle asks, pause or not
        before_gets, before_lists, dt = window(c, w, waiting, "no backoff (retryMaxSeconds 0)")
        least = 0.6 * dt / POLL
        tap(min(before_gets) >= least and min(before_lists) >= least,
            f"without it ({len(waiting)} waiting) each agent GETs the Lease and LISTs the class about every cycle: "
            f"at least {least:.0f} of each in {dt:.0f} s (saw {min(before_gets)}..{max(before_gets)} GETs, "
            f"{min(before_lists)}..{max(before_lists)} LISTs)", (before_gets, before_lists))
        print(f"# figure valve requests per waiting agent per minute (mean): backoff {60 * sum(gets) / len(gets) / WINDOW:.1f} "
              f"GET (most {60 * max(gets) / WINDOW:.0f}) + {60 * sum(lists) / len(lists) / WINDOW:.1f} LIST, none {60 * sum(before_gets) / len(before_gets) / WINDOW:.1f} GET "
              f"+ {60 * sum(before_lists) / len(before_lists) / WINDOW:.1f} LIST", flush=True)

        # the hand-over's worst case: one Node waits, its pauses at the cap, nobody else to ask sooner
        last = waiting[0]
        for n in waiting[1:]:
            fl.policy(n, pinned=True)
        fl.policy(last, pinned=False)
        tv.wait(lambda: all(tv.cond(tv.nodes()[n]) == "True" for n in waiting[1:]), 30)
        time.sleep(POLL + 1)     # its next refusal pauses at the cap at once (its count of refusals is high)
        g, l_, dt = window(c, w, [last], "the single waiting Node")
        tap(g[0] <= dt / (CAP / 2) + 1 and l_[0] <= 1, f"the single waiting Node pauses at the cap: {g[0]} Lease "
            f"GETs, {l_[0]} LISTs in {dt:.0f} s", (g, l_))
        holder = sorted(tv.lease_slots())[0]
        fl.policy(holder, pinned=True)
        t_free = tv.wait(lambda: holder not in tv.lease_slots() and time.monotonic(), 30, step=0.05)
        taken = tv.wait(lambda: last in tv.lease_slots() and time.monotonic(), 3 * CAP, step=0.05)
        dt = taken - t_free if t_free and taken else None
        print(f"# figure hand-over to a single waiting Node at the cap: {dt} s (bound {CAP + POLL:g} s)", flush=True)
        tap(dt is not None and dt <= CAP + POLL + 1 and tv.wait(lambda: tv.hard(tv.nodes()[last]), 10) and
            w.max <= BUDGET,
            f"one waiting Node, pausing at the cap: the freed slot is its {dt and round(dt, 1)} s after it was given "
            f"back (bound retryMaxSeconds + one poll, {CAP + POLL:g} s, +1 s of test polling; the Lease GETs "
            f"above show it asked no more often than every {CAP / 2:g} s), and it is tainted",
            (dt, sorted(tv.lease_slots())))
    finally:
        fl.stop_all()
        w.stop_ = True


if __name__ == "__main__":
    run_with_cluster(main, "test_valve_backoff")
