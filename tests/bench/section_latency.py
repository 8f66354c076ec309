#!/usr/bin/env python3
"""Latency figures for `make bench` (issue 6): kernel event -> API request. Runs the node-in-a-box
agent group (tests/vm/test_agent.py: the agent in a QEMU/TCG guest, the test API server on the host)
and prints what it measured: for each of 40 path transitions (20 flaps, fail_path / reinstate_path
messages to the guest's multipath map), the time from the host's injection to the agent's Event request
in the server's request log; and SMART critical warning (QMP) -> taint write. The host-side clock includes
sending the message to the guest and its DM ioctl there (a resident injector on a virtio-serial port; with
NIB_INJECT=dmsetup a guest shell command running dmsetup; their round trips are printed too), so the
figures are upper bounds. Target: p99 under 1 s. The same Events split by the agent's own debug log
(CLOCK_MONOTONIC in the guest, so the host's load weighs less): kernel record -> the loop wakes -> read and
classified -> the publisher -> the request answered. And an I/O held under a CSI volume -> the first
VolumePathStall request with `--poll 60` (the stall watch). Skipped with a message when the guest cannot run.
    tests/bench/section_latency.py [build/nodeprint]
"""
import json, os, re, statistics, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "nodeprint")


def in_agent(log, offset_ms=0.0, first=None):
    """The agent's own split of its first @first kernel-log Events (its debug line `kernel log event latency`,
    CLOCK_MONOTONIC in the guest): record -> loop wakes (plus @offset_ms, printk's stamp minus CLOCK_MONOTONIC),
    read + classify, to the publisher, book + request. Returns (n, p50, p99, medians, totals in log order) in ms,
    or None."""
    rows = [dict(re.findall(r"(\w+)=([-\d.]+)", ln)) for ln in log.splitlines() if 'msg="kernel log event latency"' in ln]
    keys = ("wake_ms", "classify_ms", "queue_ms", "request_ms")
    rows = [{k: float(r[k]) + (offset_ms if k == "wake_ms" else 0) for k in keys}
            for r in rows if all(k in r for k in keys)][:first]
    if not rows:
        return None
    in_order = [sum(r.values()) for r in rows]
    total = sorted(in_order)
    q = statistics.quantiles(total, n=100, method="inclusive") if len(total) > 1 else total * 99
    med = {k: statistics.median(r[k] for r in rows) for k in keys}
    extra = [dict(re.findall(r"(\w+)=([-\d.]+)", ln)) for ln in log.splitlines()
             if 'msg="kernel log event latency"' in ln][:len(rows)]
    med["throttle_ms_max"] = max(float(r.get("throttle_ms", 0)) for r in extra)
    med["connects"] = sum(int(r.get("connects", 0)) for r in extra)
    return len(rows), statistics.median(total), q[98], med, in_order


def main():
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, NP_TEST_LOG=tmp, NODEPRINT_VM_BIN=os.path.abspath(BIN))
        p = subprocess.run([os.path.join(ROOT, "tests", "vm", "test_agent.py")], env=env, capture_output=True,
                           text=True, timeout=3600)
        path = os.path.join(tmp, "vm-agent-latency.json")
        if not os.path.exists(path):
            tail = "\n".join(("  " + ln) for ln in (p.stdout + p.stderr).splitlines()[-8:])
            print(f"latency: skipped (the node-in-a-box agent group did not measure; its last lines:)\n{tail}")
            return 0
        r = json.load(open(path))
        failed = sum(ln.startswith("not ok") for ln in p.stdout.splitlines())
        print(f"latency: path transition (host injects) -> Event request (API server log), {r['transitions']} transitions "
              f"(20 flaps), QEMU/TCG guest: p50 {r['p50_s'] * 1000:.0f} ms, p99 {r['p99_s'] * 1000:.0f} ms, "
              f"max {r['max_s'] * 1000:.0f} ms (target p99 < 1000 ms)")
        inj = r.get("injector") or "dmsetup"
        inj_rtt = (f"the injector's round trip alone (virtio-serial, no ioctl): "
                   f"{r['injector_rtt_median_s'] * 1000:.1f} ms median; " if r.get("injector_rtt_median_s") else "")
        print(f"latency: injected with {inj}; {inj_rtt}a guest shell command's round trip alone: "
              f"{r['guest_command_rtt_median_s'] * 1000:.0f} ms median; PathFailed p50 {r['path_failed_p50_s'] * 1000:.0f} ms, PathReinstated p50 {r['path_reinstated_p50_s'] * 1000:.0f} ms")
        print(f"latency: SMART critical warning (QMP) -> taint written: {r['nvme_critical_to_taint_s']:.2f} s "
              f"(--smart-interval 2 --poll 2 in the test; the default SMART interval is 60 s)")
        offsets = [o for o in r.get("kmsg_clock_offset_ms") or [] if o is not None]
        offset = statistics.mean(offsets) if offsets else 0.0
        try:
            split = in_agent(open(os.path.join(tmp, "vm-agent-guest.log"), errors="replace").read(), offset,
                             r["transitions"])
        except OSError:
            split = None
        if split:
            n, p50, p99, med, in_order = split
            print(f"latency: in the guest (CLOCK_MONOTONIC; printk stamps corrected by their offset measured in the guest, "
                  f"{'/'.join(f'{o:.1f}' for o in offsets) or 'none'} ms), kernel record -> request answered, {n} Events: "
                  f"p50 {p50:.1f} ms, p99 {p99:.1f} ms; medians: record -> loop wakes {med['wake_ms']:.2f} ms, "
                  f"read + classify {med['classify_ms']:.2f} ms, to the publisher {med['queue_ms']:.2f} ms, "
                  f"book + request {med['request_ms']:.1f} ms (the API client's rate limit held one at most "
                  f"{med['throttle_ms_max']:.0f} ms; {med['connects']} new connections)")
        host = r.get("transitions_ms") or []
        if split and len(host) == len(in_order) > 1:
            # the host's figure minus the agent's, transition by transition: the injection itself (the command
            # to the guest, its shell and dmsetup, up to the kernel's record), give or take the clock offset
            rest = sorted(h - a for h, a in zip(host, in_order))
            q = statistics.quantiles(rest, n=100, method="inclusive")
            worst = max(range(len(host)), key=lambda i: host[i])
            server = sorted(v for v in r.get("server_ms") or [] if v >= 0)
            if server:
                print(f"latency: of the agent's book + request, the API server's own time (the fault proxy's log, to the "
                      f"response's status): p50 {statistics.median(server):.1f} ms, max {server[-1]:.1f} ms")
            print(f"latency: host-side minus the agent's own time, per transition (the injection up to the kernel's "
                  f"record): p50 {statistics.median(rest):.0f} ms, p99 {q[98]:.0f} ms; "
                  f"the slowest transition host-side, {host[worst]:.0f} ms, spent {in_order[worst]:.0f} ms in the agent")
        if r.get("stall_to_event_s", -1) >= 0:
            print(f"latency: I/O held under a volume (host starts dd) -> first VolumePathStall request: "
                  f"{r['stall_to_event_s']:.2f} s (stallSeconds 3, --poll 60: the stall watch, not a cycle)")
        if failed:
            print(f"latency: note: {failed} checks of tests/vm/test_agent.py failed in this run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
