#!/usr/bin/env python3
"""Policy reload reaches the sections' own state: the agent's stall detector lives across cycles
(the block section's state), and SIGHUP with a new health.block.stallSeconds changes the next
cycle's findings. Host root: the host-vm-block capture with vda's in-flight count (diskstats field
9) set to 3 and no completions from one cycle to the next - a stall by the kernel's counters. TAP."""
import os, re, shutil, signal, socket, subprocess, sys, tempfile, time, urllib.request

import taplib
from taplib import tap

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("NODEPRINT", os.path.join(ROOT, "build", "nodeprint"))
FIX = os.path.join(ROOT, "tests", "fixtures", "host-vm-block")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def stall_findings(base):
    with urllib.request.urlopen(base + "/metrics", timeout=5) as r:
        text = r.read().decode()
    m = re.search(r'^nodeprint_findings\{finding="volume-stall"\} (\d+)$', text, re.M)
    return int(m.group(1)) if m else 0


def main():
    tmp = tempfile.mkdtemp(prefix="np-reload-")
    agent = None
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
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        agent = subprocess.Popen([BIN, "run", "--dry-run", "--node-name", "node-reload", "--host-root", root,
                                  "--policy", pol, "--poll", "0.3", "--metrics-address", f"127.0.0.1:{port}"],
                                 stderr=subprocess.PIPE, text=True)
        for _ in range(50):
            try:
                urllib.request.urlopen(base + "/readyz", timeout=2)
                break
            except OSError:
                time.sleep(0.1)
        time.sleep(1.5)
        before = stall_findings(base)
        tap(before == 0, "stallSeconds 3600: vda's in-flight I/O without completions is no stall yet", before)
        open(pol, "w").write("health: {block: {stallSeconds: 1}}\n")
        agent.send_signal(signal.SIGHUP)
        after = 0
        for _ in range(30):
            time.sleep(0.2)
            after = stall_findings(base)
            if after:
                break
        tap(after == 1, "SIGHUP with stallSeconds 1: the next cycles find vda stalled (volume-stall)", after)
        agent.terminate()
        rc = agent.wait(timeout=10)
        err = agent.stderr.read()
        tap(rc == 0 and "SIGHUP: reloading the policy" in err, "the agent said it reloaded and exits 0", err[-600:])
    finally:
        if agent and agent.poll() is None:
            agent.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"1..{taplib.n}")
    return 1 if taplib.failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:
        tap(False, "test_reload crashed", repr(e))
        print(f"1..{taplib.n}")
        sys.exit(1)
