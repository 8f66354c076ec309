#!/usr/bin/env python3
"""Policy reload reaches the sections' own state: the agent's stall detector lives across cycles
(the block section's state), and SIGHUP with a new health.block.stallSeconds changes the next
cycle's findings. Host root: the host-vm-block capture with vda's in-flight count (diskstats field
9) set to 3 and no completions from one cycle to the next - a stall by the kernel's counters. TAP."""
import os, re, shutil, signal, sys, tempfile, time

from agent import Agent

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/: taplib
import taplib  # noqa: E402
from taplib import tap  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "tests", "fixtures", "host-vm-block")


def stall_findings(agent):
    text = agent.get("/metrics")[1]
    m = re.search(r'^nodeprint_findings\{finding="volume-stall"\} (\d+)$', text, re.M)
    return int(m.group(1)) if m else 0


def main():
    tmp = tempfile.mkdtemp(prefix="np-reload-")
    try:
        root = os.path.join(tmp, "root")
        shutil.copytree(FIX, root, symlinks=True)
        ds = os.path.join(root, "proc", "diskstats")
        lines = open(ds).read().splitlines()
        for i, line in enumerate(lines):
            f = line.split()
            if f[2] == "vda":
                f[11] = "3"  # field 9: I/Os currently in progress
                lines[i] = " ".join(f)
        open(ds, "w").write("\n".join(lines) + "\n")
        pol = os.path.join(tmp, "policy.yaml")
        open(pol, "w").write("health: {block: {stallSeconds: 3600}}\n")
        with Agent("node-reload", "--host-root", root, "--policy", pol, "--poll", "0.3") as agent:
            agent.wait("/readyz")
            time.sleep(1.5)
            before = stall_findings(agent)
            tap(before == 0, "stallSeconds 3600: vda's in-flight I/O without completions is no stall yet", before)
            open(pol, "w").write("health: {block: {stallSeconds: 1}}\n")
            agent.proc.send_signal(signal.SIGHUP)
            after = 0
            for _ in range(30):
                time.sleep(0.2)
                after = stall_findings(agent)
                if after:
                    break
            tap(after == 1, "SIGHUP with stallSeconds 1: the next cycles find vda stalled (volume-stall)", after)
            rc, err = agent.stop()
            tap(rc == 0 and "SIGHUP: reloading the policy" in err, "the agent said it reloaded and exits 0", err[-600:])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    taplib.run(main, "test_reload")
