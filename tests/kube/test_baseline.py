#!/usr/bin/env python3
"""Baselines in the cluster (issue 14) against the real test API server, kubectl as a second client.

`nodeprint baseline run --pin --cluster` stores the pinned baseline in ConfigMap
nodeprint-baselines-<class>; a `compare` on another state folder (no local records) finds it there
and stores its verdict beside it; the agent (`run --state-dir`) runs a compare when the Node carries
nodeprint.io/baseline-request, publishes condition BundleRegression, label bundle-verdict and an
Event, and removes the request; `nodeprint fleet` shows the class's pinned baseline and the verdict.
fio runs for real (1 s profile, a file under /var/tmp). TAP output.
"""
import json, os, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kubetest import ENV, run_with_server, tap, valve_classes  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("NODEPRINT", os.path.join(ROOT, "build", "nodeprint"))


def kubectl(*args, check=True, stdin=None):
    p = subprocess.run(["kubectl", "--kubeconfig", ENV["NP_KUBE_KUBECONFIG"], *args], capture_output=True,
                       text=True, timeout=60, input=stdin)
    if check and p.returncode != 0:
        raise RuntimeError(f"kubectl {' '.join(args)}: {p.stderr}")
    return p.stdout


def nodeprint(*args, timeout=120):
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "POD_NAMESPACE": "nodeprint"})


def main(tmp):
    valve_classes('r740')  # the policies' classes below (manifests/rbac.yaml)
    kubectl("create", "namespace", "nodeprint", check=False)  # the server may create it
    node = {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": "node-a", "labels": {"kubernetes.io/hostname": "node-a", "rack": "r740"}}}
    kubectl("create", "-f", "-", stdin=json.dumps(node))
    work = tempfile.mkdtemp(prefix="np-kube-baseline-", dir="/var/tmp")
    pol = f"{tmp}/policy.yaml"
    with open(pol, "w") as f:
        f.write(f"""classes:
  - name: r740
    match: {{nodeLabels: {{rack: r740}}}}
baseline:
  directory: {work}
  fileSizeMiB: 16
  maxUtilPercent: 100
  busySampleSeconds: 0.2
  wallSeconds: 20
  repeats: 2
  profiles:
    - {{name: quick, rw: randread, blockSize: 4k, iodepth: 4, seconds: 1}}
""")
    agent_kc = ENV["NP_KUBE_AGENT_KUBECONFIG"]
    common = ["--policy", pol, "--node-name", "node-a", "--kubeconfig", agent_kc, "-o", "json"]

    p = nodeprint("baseline", "run", "--pin", "--state-dir", f"{tmp}/s1", *common)
    recs = json.loads(p.stdout) if p.returncode == 0 else []
    tap(p.returncode == 0 and len(recs) == 1 and recs[0]["class"] == "r740",
        "baseline run --pin --cluster: class r740 from the Node's labels", p.stderr[-1500:])
    cm = json.loads(kubectl("get", "configmap", "-n", "nodeprint", "nodeprint-baselines-r740", "-o", "json",
                            check=False) or "{}")
    data = cm.get("data", {})
    keys = sorted(data)
    tap(len(keys) == 1 and keys[0].startswith("baseline.") and json.loads(data[keys[0]])["pinned"] is True and
        cm["metadata"]["labels"].get("app.kubernetes.io/component") == "baselines",
        "ConfigMap nodeprint-baselines-r740 holds the pinned baseline", keys)

    # compare from an empty state folder: the reference comes from the ConfigMap
    p = nodeprint("baseline", "compare", "--state-dir", f"{tmp}/s2", *common)
    vs = json.loads(p.stdout) if p.stdout.strip().startswith("[") else []
    tap(len(vs) == 1 and vs[0]["kind"] == "verdict" and vs[0]["reference"] == recs[0]["bundle"] and
        p.returncode in (0, 3, 4), f"compare finds the pinned baseline in the ConfigMap ({vs[0]['verdict'] if vs else '-'})",
        p.stderr[-1500:])
    data = json.loads(kubectl("get", "configmap", "-n", "nodeprint", "nodeprint-baselines-r740", "-o", "json"))["data"]
    tap(sorted(k.split(".")[0] for k in data) == ["baseline", "verdict"], "the verdict is stored beside it", sorted(data))

    p = nodeprint("baseline", "show", "--state-dir", f"{tmp}/empty", "--cluster", "--kubeconfig", agent_kc,
                  "--node-name", "node-a", "--policy", pol)
    tap(p.returncode == 0 and "pinned baseline" in p.stdout and "verdict" in p.stdout and
        "not allowed to list ConfigMaps" in p.stderr and "this Node's class, r740" in p.stderr,
        "baseline show --cluster as the agent (its Role may get, not list): the records of its own class's ConfigMap",
        p.stdout + p.stderr)
    p = nodeprint("baseline", "show", "--state-dir", f"{tmp}/empty", "--cluster", "--kubeconfig", ENV["NP_KUBE_KUBECONFIG"],
                  "--node-name", "node-a", "--policy", pol)
    tap(p.returncode == 0 and "pinned baseline" in p.stdout and "not allowed" not in p.stderr,
        "baseline show --cluster as an admin lists every class's ConfigMap", p.stdout + p.stderr)

    # the agent: a request annotation runs one compare; the verdict is published, the request removed
    kubectl("annotate", "node", "node-a", "nodeprint.io/baseline-request=first")
    p = subprocess.run([BIN, "run", "--node-name", "node-a", "--kubeconfig", agent_kc, "--policy", pol,
                        "--state-dir", f"{tmp}/s3", "--cycles", "40", "--poll", "0.4", "--settle", "0"],
                       capture_output=True, text=True, timeout=180, env={**os.environ, "POD_NAMESPACE": "nodeprint"})
    nd = json.loads(kubectl("get", "node", "node-a", "-o", "json"))
    conds = {c["type"]: c for c in nd["status"].get("conditions", [])}
    br = conds.get("BundleRegression", {})
    labels = nd["metadata"].get("labels", {})
    verdict = labels.get("nodeprint.io/bundle-verdict")
    tap(p.returncode == 0 and "baseline compare started on request" in p.stderr and
        "baseline compare ended" in p.stderr, "the agent ran one compare on request", p.stderr[-2000:])
    want_status = {"pass": "False", "regressed": "True", None: "Unknown"}[verdict]
    tap(br.get("status") == want_status and "quick:" in br.get("message", "") and "over 2 runs" in br.get("message", ""),
        f"condition BundleRegression={br.get('status')} ({br.get('reason')}) agrees with the label "
        f"bundle-verdict={verdict}", br)
    tap("nodeprint.io/baseline-request" not in nd["metadata"].get("annotations", {}),
        "the request annotation is removed once handled", nd["metadata"].get("annotations"))
    ev = json.loads(kubectl("get", "events", "-A", "--field-selector", "involvedObject.name=node-a", "-o", "json"))
    bev = [e for e in ev["items"] if e["reason"] in ("BundleRegression", "BundleVerdict")]
    tap(len(bev) == 1 and "p99" in bev[0]["message"] and bev[0]["count"] == 1,
        "one Event with the numbers (not one per cycle)", [(e["reason"], e.get("count")) for e in ev["items"]])
    started = p.stderr.count("baseline compare started on request")
    tap(started == 1, f"one request, one compare ({started})", p.stderr[-800:])

    # fleet: the class's pinned baseline and this bundle's verdicts
    p = nodeprint("fleet", "--kubeconfig", ENV["NP_KUBE_KUBECONFIG"], "--policy", pol, "--namespace", "nodeprint")
    tap(p.returncode == 0 and "class r740, " in p.stdout and "pinned bundle " + recs[0]["bundle"] in p.stdout and
        "on class r740: p99 " in p.stdout and "(1 node tested" in p.stdout, "fleet shows the baseline and the verdict",
        p.stdout + p.stderr)
    p = nodeprint("fleet", "--kubeconfig", ENV["NP_KUBE_KUBECONFIG"], "--policy", pol, "--namespace", "nodeprint",
                  "-o", "json")
    fj = json.loads(p.stdout) if p.returncode == 0 else {}
    b = fj.get("baselines", [{}])[0] if fj.get("baselines") else {}
    tap(b.get("class") == "r740" and b.get("bundles", [{}])[0].get("nodes_tested") == 1,
        "fleet -o json: baselines[].bundles[].nodes_tested", json.dumps(fj.get("baselines"))[:600])
    subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    run_with_server(main, "test_baseline.py")
