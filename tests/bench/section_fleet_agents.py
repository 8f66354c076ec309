#!/usr/bin/env python3
"""Fleet figures for `make bench` (issue 12): NP_FLEET_BENCH_AGENTS agents (default 200) as processes of
this machine against one real control plane (tests/cluster/fleet.py: own Node, bound token, captured
host root of one of four classes, one in ten on an unpinned firmware; shipped RBAC and admission
policies), measured from the API server's audit log, /proc and a WATCH on Nodes:

  cold start     all agents started at once: requests, 429s, time until every Node converged
  steady state   NP_FLEET_STEADY_S seconds (default 600) with nothing changing: requests/s cluster-wide
                 and per agent, writes, kube-apiserver and etcd CPU and RSS, agents' RSS (start and
                 end of the window: flat?) and CPU
  restart        all agents restarted at once: own labels, taints, conditions removed, re-added or
                 changed (the NFD #2408 failure), Node writes, Events re-posted
  flap storm     every agent's kernel log gets 50 path flaps (100 records) within 10 s at the same
                 moment: Events per node and cluster-wide, 429s, time until quiet
  API outage     kube-apiserver stopped for NP_FLEET_OUTAGE_S (default 60) s, then the control plane
                 restarted: agents alive, own keys lost, time until every agent reads its Node again

Figures, not a verdict. Prints them (each with the load average then) and writes them to
build/fleet-agents-bench.json; docs/scale.md records a run. Skipped with a message when the
test cluster cannot be built. NP_FLEET_POLL sets the agents' --poll (default 10, the DaemonSet's); NP_FLEET_STEPS a comma-separated
subset of cold,steady,restart,flaps,outage (cold first); NP_KEEP_TMP=1 keeps the agents' logs.
    tests/bench/section_fleet_agents.py [build/nodeprint]
"""
import json, os, platform, signal, subprocess, sys, tempfile, time, urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "nodeprint"))
os.environ["NODEPRINT"] = BIN
sys.path.insert(0, os.path.join(ROOT, "tests", "cluster"))
from cluster import Cluster  # noqa: E402
import fleet  # noqa: E402

N = int(os.environ.get("NP_FLEET_BENCH_AGENTS", "200"))
STEADY = int(os.environ.get("NP_FLEET_STEADY_S", "600"))
OUTAGE = int(os.environ.get("NP_FLEET_OUTAGE_S", "60"))
POLL = float(os.environ.get("NP_FLEET_POLL", "10"))
FLAPS = 50
SEL = urllib.parse.quote(fleet.CLASS_LABEL, safe="")
FIG = {"agents": N, "poll_s": POLL}


def load():
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def names():
    return [f"fleet-{i:03d}" for i in range(N)]


def say(key, line, **fig):
    FIG[key] = dict(fig, load=load())
    print(f"  {line}  [load {FIG[key]['load']}]", flush=True)


def codes(reqs, code):
    return sum(1 for e in reqs if e["responseStatus"]["code"] == code)


def component_usage(c):
    """{name: (rss KiB, cpu s)} of kube-apiserver and etcd (their pid files)."""
    out = {}
    for n in ("kube-apiserver", "etcd"):
        try:
            out[n] = fleet.proc_usage(int(open(os.path.join(c.dir, "run", n + ".pid")).read()))
        except (OSError, ValueError):
            out[n] = (0, 0.0)
    return out


def flap_records(fl, name, at_us):
    """FLAPS fail/reinstate pairs of one path, 100 ms apart in kernel time after the root's last record:
    the lines dm-multipath prints (drivers/md/dm-mpath.c fail_path / reinstate_path, DMWARN)."""
    seq, ts = fl.last_kmsg(name)
    out = []
    for i in range(FLAPS):
        for verb in ("Failing", "Reinstating"):
            seq += 1
            ts = max(ts, at_us) + 100000
            out.append(f"4,{seq},{ts},-;device-mapper: multipath: 254:0: {verb} path 8:16.\n".encode())
    return out


def cold_start(c, fl, drift):
    mark, t0 = c.audit_mark(), time.monotonic()
    fl.start_all()
    spread = time.monotonic() - t0
    ok = c.wait(lambda: not fleet.converged(c, SEL, N, drift), timeout=300 + N, every=2)
    t = time.monotonic() - t0
    reqs = fleet.agent_requests(c, mark)
    say("cold_start", f"cold start: {N} agents launched in {spread:.1f} s; every Node converged "
        f"{'in %.1f s' % t if ok else 'NOT within %.0f s' % t}; {len(reqs)} requests ({len(reqs) / N:.1f}/agent), "
        f"{codes(reqs, 429)} answered 429, {codes(reqs, 409)} 409: {fleet.by_verb(reqs)}",
        converged=bool(ok), converge_s=round(t, 1), launch_s=round(spread, 1), requests=len(reqs),
        per_agent=round(len(reqs) / N, 2), http_429=codes(reqs, 429), by=fleet.by_verb(reqs))


def steady(c, fl):
    time.sleep(2 * POLL)
    u0, k0 = fl.usage(), component_usage(c)
    mark, t0 = c.audit_mark(), time.monotonic()
    time.sleep(STEADY)
    dt = time.monotonic() - t0
    u1, k1 = fl.usage(), component_usage(c)
    every = [e for e in c.audit(mark) if e.get("stage") == "ResponseComplete"]
    reqs = fleet.agent_requests(c, mark)
    writes = [e for e in reqs if e["verb"] in fleet.WRITES]
    users = {}
    for e in every:
        u = e.get("user", {}).get("username", "?")
        users[u] = users.get(u, 0) + 1
    rss0 = sorted(v[0] for v in u0.values() if v[0])
    rss1 = sorted(v[0] for v in u1.values() if v[0])
    cpu = sorted(u1[n][1] - u0[n][1] for n in u1 if n in u0)
    api = {n: {"rss_mib": round(k1[n][0] / 1024, 1), "cpu_pct": round(100 * (k1[n][1] - k0[n][1]) / dt, 1)} for n in k1}
    say("steady", f"steady state {dt:.0f} s, nothing changing: cluster-wide {len(every) / dt:.2f} requests/s "
        f"(all users); agents {len(reqs) / dt:.3f} requests/s = {len(reqs) / dt / N * 3600:.1f}/agent/hour, "
        f"{len(writes)} writes: {fleet.by_verb(reqs)}",
        seconds=round(dt), cluster_rps=round(len(every) / dt, 2), agent_rps=round(len(reqs) / dt, 3),
        per_agent_per_hour=round(len(reqs) / dt / N * 3600, 1), agent_writes=len(writes), by=fleet.by_verb(reqs),
        by_user_rps={u: round(n / dt, 2) for u, n in sorted(users.items(), key=lambda kv: -kv[1])[:8]})
    say("steady_usage", f"kube-apiserver {api['kube-apiserver']['cpu_pct']}% CPU, {api['kube-apiserver']['rss_mib']} MiB; "
        f"etcd {api['etcd']['cpu_pct']}% CPU, {api['etcd']['rss_mib']} MiB; agent RSS median "
        f"{rss1[len(rss1) // 2] / 1024:.1f} MiB, max {rss1[-1] / 1024:.1f} MiB (window start: median "
        f"{rss0[len(rss0) // 2] / 1024:.1f}, max {rss0[-1] / 1024:.1f}); agent CPU median "
        f"{100 * cpu[len(cpu) // 2] / dt:.2f}%, max {100 * cpu[-1] / dt:.2f}%, all {N} together {100 * sum(cpu) / dt:.1f}%",
        control_plane=api, agent_rss_mib={"median": round(rss1[len(rss1) // 2] / 1024, 2), "max": round(rss1[-1] / 1024, 2),
                                          "median_start": round(rss0[len(rss0) // 2] / 1024, 2),
                                          "max_start": round(rss0[-1] / 1024, 2)},
        agent_cpu_pct={"median": round(100 * cpu[len(cpu) // 2] / dt, 3), "max": round(100 * cpu[-1] / dt, 3),
                       "sum": round(100 * sum(cpu) / dt, 1)})


def restart(c, fl, w):
    wm, mark, t0 = w.mark(), c.audit_mark(), time.monotonic()
    before = {n: fleet.cycles_logged(fl.log(n)) for n in names()}
    rc = fl.stop_all()
    fl.start_all()
    ok = c.wait(lambda: all(fleet.cycles_logged(fl.log(n)) >= before[n] + 2 for n in names()), timeout=120 + 3 * POLL,
                every=2)
    t = time.monotonic() - t0
    reqs = fleet.agent_requests(c, mark)
    removed, changed = w.since(wm)
    nw = fleet.node_writes(reqs)
    evs = [e for e in reqs if e["verb"] == "create" and fleet.resource_of(e) == "events"]
    say("restart", f"restart of all at once: {sum(v != 0 for v in rc.values())} non-zero exits; "
        f"{'every agent judged twice' if ok else 'NOT every agent judged twice'} in {t:.1f} s; own keys removed "
        f"{len(removed)}, changed {len(changed)} (watch); Node writes {len(nw)}, Events posted {len(evs)} (audit); "
        f"{len(reqs)} requests, {codes(reqs, 429)} answered 429: {fleet.by_verb(reqs)}",
        seconds=round(t, 1), removed=len(removed), changed=len(changed), node_writes=len(nw), events=len(evs),
        requests=len(reqs), http_429=codes(reqs, 429), by=fleet.by_verb(reqs))


def flap_storm(c, fl):
    mark, t0, wall0 = c.audit_mark(), time.monotonic(), time.time()
    at = {n: fl.last_kmsg(n)[1] + 1000000 for n in names()}
    recs = {n: flap_records(fl, n, at[n]) for n in names()}
    for step in range(10):          # 10 % of every agent's records each second, all agents together
        for n in names():
            k = len(recs[n]) // 10
            fl.kmsg_append(n, recs[n][step * k:(step + 1) * k])
        time.sleep(max(0.0, t0 + step + 1 - time.monotonic()))
    last, quiet_for = time.monotonic(), max(15.0, 2 * POLL)
    seen = 0
    while time.monotonic() - last < quiet_for and time.monotonic() - t0 < 300:
        time.sleep(2)
        ev = [e for e in fleet.agent_requests(c, mark) if fleet.resource_of(e) == "events"]
        if len(ev) != seen:
            seen, last = len(ev), time.monotonic()
    reqs = fleet.agent_requests(c, mark)
    ev = [e for e in reqs if fleet.resource_of(e) == "events"]
    st, lst = c.api("GET", "/api/v1/events?limit=5000")
    kept, per_node = {}, {}
    for e in lst.get("items", []) if st == 200 else []:
        t = e.get("lastTimestamp") or ""
        if e.get("reportingComponent") == "nodeprint.io/agent" and t and fleet.audit_time(
                {"stageTimestamp": t.replace("Z", ".0Z")}) >= wall0 - 1:
            kept[e["reason"]] = kept.get(e["reason"], 0) + e.get("count", 1)
            n = e["involvedObject"]["name"]
            per_node[n] = per_node.get(n, 0) + 1
    counts = sorted(per_node.values()) or [0]
    say("flap_storm", f"flap storm ({FLAPS} flaps = {2 * FLAPS} kernel records per agent within 10 s, all agents): "
        f"{len(ev)} Event requests cluster-wide; Event objects per node median {counts[len(counts) // 2]} "
        f"max {counts[-1]} ({len(per_node)} nodes); quiet {last - t0:.1f} s after the first record; {codes(reqs, 429)} answered 429; "
        f"Events on the API by reason (their counts summed): {kept}; {fleet.by_verb(reqs)}",
        event_requests=len(ev), per_node_median=counts[len(counts) // 2], per_node_max=counts[-1],
        nodes_posting=len(per_node), quiet_after_s=round(last - t0, 1), http_429=codes(reqs, 429),
        by_reason=kept, records_per_agent=2 * FLAPS)


def outage(c, fl, w, drift):
    """The API server stopped; while it is down every drifting agent's policy is fixed (its firmware
    pinned again), so after the outage they have work to do: their taints and drift to clear."""
    keys = {n: dict(w.keys.get(n, {})) for n in names()}
    wm = w.mark()
    pid = int(open(os.path.join(c.dir, "run", "kube-apiserver.pid")).read())
    t0 = time.monotonic()
    os.kill(pid, signal.SIGTERM)
    fixed = [n for n in names() if drift[n]]
    for n in fixed:
        fl.set_drift(n, False)
    time.sleep(OUTAGE)
    alive_down = len(fl.alive())
    t_restart = time.monotonic()
    c.restart()
    t_up = time.monotonic()
    mark = c.audit_mark()
    after = {n: False for n in names()}
    ok = c.wait(lambda: not fleet.converged(c, SEL, N, after) and not any(
        k[0] == "taint" and not k[1].endswith(":PreferNoSchedule") for n in fixed for k in w.keys.get(n, {})),
        timeout=120 + 3 * POLL, every=2)
    t_back = time.monotonic() - t_up
    time.sleep(3)
    removed, changed = w.since(wm)
    # keys the unchanged Nodes lost (the fixed ones drop their taint: meant)
    lost = {n: sorted(set(keys[n]) - set(w.keys.get(n, {}))) for n in names() if n not in fixed}
    lost = {n: v for n, v in lost.items() if v}
    reqs = fleet.agent_requests(c, mark)
    fails = sum(fl.log(n).count("publish failed") for n in names())
    say("outage", f"API outage: kube-apiserver down {t_up - t0:.0f} s (stopped {OUTAGE} s, then the control plane "
        f"restarted, which took {t_up - t_restart:.0f} s to be ready; meanwhile {len(fixed)} drifting agents got a "
        f"fixed policy); agents alive {alive_down}/{N} during, "
        f"{len(fl.alive())}/{N} after; every Node converged to the new policies "
        f"{'%.1f s after the control plane was ready' % t_back if ok else 'NOT within %.0f s' % t_back}; keys lost on the "
        f"{N - len(fixed)} other Nodes: {len(lost)}; {len(reqs)} requests after, {codes(reqs, 429)} answered 429; "
        f"'publish failed' log lines (all time) {fails}",
        down_s=round(t_up - t0), restart_s=round(t_up - t_restart, 1), alive_during=alive_down, alive_after=len(fl.alive()), reconverged=bool(ok),
        reconverge_s=round(t_back, 1), fixed=len(fixed), nodes_lost_keys=len(lost), removed=len(removed),
        changed=len(changed), requests=len(reqs), http_429=codes(reqs, 429), publish_failed_lines=fails)


def cpu_model():
    try:
        return next(ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name"))
    except (OSError, StopIteration):
        return "?"


def mem_gib():
    return int(next(ln.split()[1] for ln in open("/proc/meminfo") if ln.startswith("MemTotal"))) / 2**20


def main():
    build = subprocess.run([os.path.join(ROOT, "tests", "cluster", "build.sh")], capture_output=True, text=True)
    if build.returncode != 0:
        print(f"fleet: skipped, tests/cluster/build.sh failed: {build.stderr[-300:]}")
        return
    os.environ["PATH"] = build.stdout.strip() + os.pathsep + os.environ.get("PATH", "")
    FIG["machine"] = f"{platform.node()}: {os.cpu_count()} CPUs ({cpu_model()}), {mem_gib():.0f} GiB"
    FIG["date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"\n== Fleet: {N} agents on one real control plane (tests/cluster/fleet.py), --poll {POLL:g}; "
          f"{FIG['machine']}, {FIG['date']} ==", flush=True)
    with tempfile.TemporaryDirectory(prefix="np-fleet-bench.") as tmp_:
        tmp = tempfile.mkdtemp(prefix="np-fleet-bench.") if os.environ.get("NP_KEEP_TMP") else tmp_
        c = Cluster(os.path.join(tmp, "cluster"))
        fl = w = None
        try:
            c.start()
            c.apply_manifests()
            fl = fleet.Fleet(c, tmp, names(), poll=POLL, extra=("--smart-interval", "3600"))
            t0 = time.monotonic()
            fl.register(labels=fl.class_labels)
            drift = fl.roots(drift=lambda n: names().index(n) % 10 == 0)
            print(f"  setup: {N} Nodes, bound tokens, host roots in {time.monotonic() - t0:.0f} s", flush=True)
            w = fleet.NodeWatch(c, SEL)
            w.start()
            steps = {"cold": lambda: cold_start(c, fl, drift), "steady": lambda: steady(c, fl),
                     "restart": lambda: restart(c, fl, w), "flaps": lambda: flap_storm(c, fl),
                     "outage": lambda: outage(c, fl, w, drift)}
            for k in os.environ.get("NP_FLEET_STEPS", ",".join(steps)).split(","):
                steps[k]()
        except Exception as e:
            import traceback
            print(f"  fleet: stopped early: {e!r}\n{traceback.format_exc()[-1500:]}", flush=True)
        finally:
            if fl:
                fl.stop_all()
            if w:
                w.stop_ = True
            c.stop()
    with open(os.path.join(ROOT, "build", "fleet-agents-bench.json"), "w") as f:
        json.dump(FIG, f, indent=1)
    print("  figures saved in build/fleet-agents-bench.json", flush=True)


if __name__ == "__main__":
    main()
