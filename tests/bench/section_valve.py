#!/usr/bin/env python3
"""Safety-valve figures for `make bench` (issue 24): tests/cluster/test_valve.py at a larger fleet
(NP_VALVE_BENCH_AGENTS, default 200 agents, the fleet of issue 12; the suite runs 20) through the fleet
harness (tests/cluster/fleet.py) on the real control plane, printing the
maximum share of the class ever tainted (from a WATCH on Nodes), the time each wave took to settle,
the agents' requests and the Lease conflicts. Figures, not a verdict: a failed check is printed with
the rest. Skipped with a message when the test cluster cannot be built."""
import json, os, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "nodeprint")


def main():
    n = int(os.environ.get("NP_VALVE_BENCH_AGENTS", "200"))
    build = subprocess.run([os.path.join(ROOT, "tests", "cluster", "build.sh")], capture_output=True, text=True)
    if build.returncode != 0:
        print(f"safety valve: skipped, tests/cluster/build.sh failed: {build.stderr[-300:]}")
        return
    with tempfile.TemporaryDirectory() as tmp:
        fig = os.path.join(tmp, "figures.json")
        env = dict(os.environ, NODEPRINT=os.path.abspath(BIN), NP_VALVE_AGENTS=str(n), NP_VALVE_FIGURES=fig,
                   PATH=build.stdout.strip() + os.pathsep + os.environ.get("PATH", ""))
        p = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "cluster", "test_valve.py")], env=env,
                           capture_output=True, text=True, timeout=3600)
        failed = [ln for ln in p.stdout.splitlines() if ln.startswith("not ok")]
        print(f"\n== Safety valve: {n} agents, one class, maxTaintedPercent 30 (tests/cluster/test_valve.py) ==")
        if not os.path.exists(fig):
            print("  no figures (the test stopped early):", p.stdout[-600:], p.stderr[-600:])
            return
        d = json.load(open(fig))
        print(f"  budget {d['budget']} of {d['agents']}; max tainted per wave (watch): {d.get('max_tainted')}")
        for k, v in d.items():
            if isinstance(v, dict) and "settle_s" in v:
                print(f"  {k:40s} settled {v['settle_s']:6.1f} s  {v['requests']:5d} requests "
                      f"({v['per_agent']:.1f}/agent)  {v['lease_conflicts']} lease 409s")
        print(f"  outage {d.get('outage_s')} s; a dead holder's slot reclaimed after {d.get('ttl_reclaim_s')} s "
              f"(TTL 20 s); a deleted Node's after {d.get('gone_reclaim_s')} s")
        for ln in failed:
            print("  CHECK FAILED:", ln)


if __name__ == "__main__":
    main()
