#!/usr/bin/env python3
"""A fleet on the real control plane (issue 12), small enough for `make check`: NP_FLEET_AGENTS agents
(default 20) as processes of this machine (tests/cluster/fleet.py), each with its own Node, its own
bound token and its own captured host root of one of four classes, one in ten on a firmware its
class does not pin; the shipped RBAC and admission policies enforced.

Checked from the API server's request log and a WATCH on Nodes, never from the agents' own claims:
every Node converges (class, bundle state, BundlePinned; only drifting ones tainted); once converged,
polls write nothing; resyncs are jittered (each agent's full reads of its Node come at periods
spread over [resync/2, resync], not in lockstep); and every agent restarted at once removes, re-adds
or changes no label, taint or condition and writes nothing to its Node (the NFD #2408 failure).
Figures go to stdout as '# figure' lines. TAP output.
"""
import os, sys, time, urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster import run_with_cluster, tap  # noqa: E402
import fleet  # noqa: E402

N = int(os.environ.get("NP_FLEET_AGENTS", "20"))
POLL, RESYNC = 2, 8
PREFIX = fleet.PREFIX
SEL = urllib.parse.quote(fleet.CLASS_LABEL, safe="")


def names():
    return [f"fleet-{i:03d}" for i in range(N)]


def drifting(n):
    return names().index(n) % 10 == 0


def event_reasons(c, since):
    """{reason: n} of the Events the agents created at or after wall time @since."""
    out = {}
    st, lst = c.api("GET", "/api/v1/events")
    for ev in lst.get("items", []) if st == 200 else []:
        t = ev.get("firstTimestamp") or ev.get("eventTime") or ""
        if ev.get("reportingComponent", ev.get("source", {}).get("component", "")).startswith("nodeprint") and t and \
                fleet.audit_time({"stageTimestamp": t.replace("Z", ".0Z") if "." not in t else t}) >= since - 1:
            out[ev["reason"]] = out.get(ev["reason"], 0) + 1
    return out


def main(c, tmp):
    p = c.apply_manifests()
    tap(p.returncode == 0, "the shipped manifests applied (RBAC, admission policies)", p.stderr)
    fl = fleet.Fleet(c, tmp, names(), poll=POLL, resync=RESYNC, extra=("--smart-interval", "3600"))
    t0 = time.monotonic()
    fl.register(labels=fl.class_labels)
    drift = fl.roots(drift=drifting)
    print(f"# figure setup: {N} Nodes, bound tokens and host roots in {time.monotonic() - t0:.1f} s", flush=True)
    w = fleet.NodeWatch(c, SEL)
    w.start()
    try:
        mark, t0 = c.audit_mark(), time.monotonic()
        fl.start_all()
        late = c.wait(lambda: not fleet.converged(c, SEL, N, drift), timeout=60 + N, every=1)
        t_conv = time.monotonic() - t0
        reqs = fleet.agent_requests(c, mark)
        tap(late is True, f"{N} agents started at once: every Node converged in {t_conv:.1f} s "
            f"({sum(drift.values())} drifting on unpinned firmware)", fleet.converged(c, SEL, N, drift))
        print(f"# figure cold start: {len(reqs)} requests ({len(reqs) / N:.1f} per agent), "
              f"{sum(e['responseStatus']['code'] == 429 for e in reqs)} answered 429: {fleet.by_verb(reqs)}", flush=True)
        gone = [n for n in names() if n not in fl.alive()]
        tap(not gone, "no agent exited", {n: fl.log(n)[-400:] for n in gone[:3]})

        # steady state: nothing changes, so polls write nothing; the resync GETs are jittered
        time.sleep(POLL * 2)
        mark, t0 = c.audit_mark(), time.time()
        window = 3 * RESYNC + 2
        time.sleep(window)
        reqs = fleet.agent_requests(c, mark)
        writes = [e for e in reqs if e["verb"] in fleet.WRITES]
        tap(not writes, f"steady state ({window} s, --poll {POLL}): no write from {N} agents' polls "
            f"({len(reqs)} requests: {fleet.by_verb(reqs)})", [(e["verb"], e["requestURI"]) for e in writes[:10]])
        gets = {}
        for e in reqs:
            if e["verb"] == "get" and fleet.resource_of(e) == "nodes":
                gets.setdefault(e["objectRef"]["name"], []).append(fleet.audit_time(e))
        periods = sorted(round(b - a, 1) for n, ts in gets.items() if not drift[n] for a, b in zip(ts, ts[1:]))
        # each period: jittered in [R/2, R], then the next poll; without jitter every one is R (+ a poll)
        short = [x for x in periods if x <= 0.8 * RESYNC + POLL / 2]   # without jitter: none
        tap(len(periods) >= N and periods[-1] <= RESYNC + POLL + 1.5 and len(short) >= len(periods) / 4,
            f"resyncs are jittered: {len(periods)} periods between full reads of a Node in "
            f"[{periods[0] if periods else '-'}, {periods[-1] if periods else '-'}] s, {len(short)} of them under "
            f"{0.8 * RESYNC + POLL / 2:g} s (--resync {RESYNC}: drawn in [{RESYNC / 2:g}, {RESYNC}] s, then the next poll)",
            periods)

        # every agent restarted at once (a DaemonSet rollout, a node pool's agents upgraded)
        wm, mark, t0, wall0 = w.mark(), c.audit_mark(), time.monotonic(), time.time()
        codes = fl.stop_all()
        before = {n: fleet.cycles_logged(fl.log(n)) for n in names()}
        tap(all(v == 0 for v in codes.values()), f"SIGTERM: all {N} agents exit 0",
            {k: v for k, v in codes.items() if v != 0})
        fl.start_all()
        # each restarted agent has read its Node and judged it at least twice
        ok = c.wait(lambda: all(fleet.cycles_logged(fl.log(n)) >= before[n] + 2 for n in names()), timeout=60, every=1)
        time.sleep(POLL)
        reqs = fleet.agent_requests(c, mark)
        removed, changed = w.since(wm)
        nw = fleet.node_writes(reqs)
        evs = [e for e in reqs if e["verb"] == "create" and fleet.resource_of(e) == "events"]
        tap(ok and not removed and not changed and not nw and not evs,
            f"all {N} agents restarted at once: no label, taint or condition removed, re-added or changed "
            f"(watch: {len(removed)} removals, {len(changed)} changes), no write to a Node (audit: {len(nw)}), "
            f"no Event announced again ({len(evs)}); {len(reqs)} requests: {fleet.by_verb(reqs)}",
            (removed[:10], changed[:10], [(e["verb"], e["requestURI"]) for e in nw[:10]], event_reasons(c, wall0)))
        print(f"# figure restart of all: {len(reqs)} requests in {time.monotonic() - t0:.1f} s, "
              f"{len(nw)} Node writes, {len(removed)} removals; Events created by reason: "
              f"{event_reasons(c, wall0)}", flush=True)
    finally:
        fl.stop_all()
        w.stop_ = True


if __name__ == "__main__":
    run_with_cluster(main, "test_fleet")
