#!/usr/bin/env python3
"""`nodeprint fleet`'s drift report against the real kube-apiserver (tests/kube/server.sh).

The real agent publishes its labels and fingerprint annotation on node-a (class r740, pinned); the other
Nodes are that bundle varied as a fleet drifts (NIC firmware, kernel and NVMe firmware, a class without
pins, Nodes without an agent), with every label and the hash derived as the agent derives them
(tests/kube/fleetgen.py, checked against what the agent wrote). Asserts the counts per class, the pinned
bundle, the exact differing components and versions, --class/--bundle, the exit status of --fail-on,
and that a LIST in pages of 5 counts every Node once. TAP output.
"""
import json, math, os, ssl, subprocess, sys, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fleetgen  # noqa: E402
from kubetest import ENV, run_with_server, tap, valve_classes  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("NODEPRINT", os.path.join(ROOT, "build", "nodeprint"))
P = fleetgen.P


def kubectl(*args):
    return subprocess.run(["kubectl", "--kubeconfig", ENV["NP_KUBE_KUBECONFIG"], *args], capture_output=True, text=True,
                          timeout=120, check=True).stdout


def requests_log(since=0):
    ctx = ssl.create_default_context(cafile=ENV["NP_KUBE_CA"])
    req = urllib.request.Request(f"{ENV['NP_KUBE_CONTROL_URL']}/requests?since={since}",
                                 headers={"Authorization": "Bearer " + ENV["NP_KUBE_ADMIN_TOKEN"]})
    with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
        return json.loads(r.read())


def fleet(*args):
    p = subprocess.run([BIN, "fleet", "--kubeconfig", ENV["NP_KUBE_KUBECONFIG"], *args], capture_output=True,
                       text=True, timeout=120)
    j = None
    if "json" in args and p.stdout:
        try:
            j = json.loads(p.stdout)
        except ValueError:
            pass
    return p, j


def main(tmp):
    valve_classes("r740", "lab")
    pre = len(json.loads(kubectl("get", "nodes", "-o", "json"))["items"])
    comps, release, nic, nvme, pins = fleetgen.host_bundle(BIN)
    policy = fleetgen.write_policy(os.path.join(tmp, "policy.yaml"), pins,
                                   {"r740": {"node.kubernetes.io/instance-type": "r740"}}, {"lab": {"team": "lab"}})
    labels, fp = fleetgen.capture(BIN, ENV, "kubectl", policy, {})
    tap(labels.get(f"{P}/class") == "r740" and labels.get(f"{P}/bundle-state") == "pinned" and
        fp["components"] == comps, "the agent published node-a: class r740, pinned, its bundle's components", (labels, fp))
    tap(fleetgen.check_derivation(labels, fp) == [], "hash and labels derived from the annotation equal the agent's",
        fleetgen.check_derivation(labels, fp))

    # the fleet: node-a's bundle plus the captured NVMe controller, then varied as fleets drift
    base = sorted(comps + [nvme])
    nic_fw = f"{nic[1].rsplit(' firmware ', 1)[0]} firmware 16.35.2000" if nic else None
    nic_drift = fleetgen.replace(base, "nic", nic[0], nic_fw) if nic else None
    kn_drift = fleetgen.replace(fleetgen.replace(base, "kernel", "release", fleetgen.bump(release)), "nvme", nvme[1], "8.0.0")
    names = {"pinned": [f"r740-p-{i:02d}" for i in range(20)], "nic": [f"r740-nic-{i}" for i in range(6)] if nic else [],
             "kn": [f"r740-kn-{i}" for i in range(3)], "lab": [f"lab-{i}" for i in range(4)], "bare": ["bare-0", "bare-1"]}
    nodes = [fleetgen.variant(n, "r740", base, "pinned") for n in names["pinned"]]
    nodes += [fleetgen.variant(n, "r740", nic_drift, "drift") for n in names["nic"]]
    nodes += [fleetgen.variant(n, "r740", kn_drift, "drift") for n in names["kn"]]
    nodes += [fleetgen.variant(n, "lab", base, "unknown", {"team": "lab"}) for n in names["lab"]]
    nodes += [fleetgen.base_node(n) for n in names["bare"]]
    errors = fleetgen.create(ENV, nodes)
    tap(not errors, f"{len(nodes)} Nodes created in kube-apiserver", errors[:5])
    total = pre + 1 + len(nodes)
    h_base, h_a = fleetgen.bundle_hash(base), labels[f"{P}/bundle"]
    h_kn = fleetgen.bundle_hash(kn_drift)

    p, j = fleet("--policy", policy, "-o", "json")
    tap(p.returncode == 0 and j and j["nodes"] == total and j["unlabelled"] == pre + 2,
        f"fleet -o json: {total} Nodes, {pre + 2} without a bundle label", p.stdout[-600:] + p.stderr)
    drift = {d["class"]: d for d in (j or {}).get("drift", [])}
    n_nic = len(names["nic"])
    tap(drift.get("r740") == {"class": "r740", "nodes": 21 + n_nic + 3, "pinned_bundle": h_base, "pinned_bundle_nodes": 20,
                              "pinned_nodes": 21, "drift_nodes": n_nic + 3, "drift_bundles": 2 if nic else 1,
                              "unknown_nodes": 0},
        f"class r740: pinned bundle {h_base} on 20 Nodes, node-a pinned too, {n_nic + 3} drifted", drift.get("r740"))
    tap(drift.get("lab", {}).get("pinned_bundle") is None and drift.get("lab", {}).get("unknown_nodes") == 4,
        "class lab (no pins): the agents' label, 4 unknown, no pinned bundle", drift.get("lab"))
    groups = {(g["class"], g["bundle"]): g for g in (j or {}).get("groups", [])}
    kn = groups.get(("r740", h_kn), {})
    tap(kn.get("verdict") == "drift" and kn.get("nodes") == 3 and kn.get("reference_bundle") == h_base and
        kn.get("differs") == [{"component": "kernel", "key": "release", "pinned": release, "value": fleetgen.bump(release)},
                              {"component": "nvme", "key": nvme[1], "pinned": nvme[2], "value": "8.0.0"}],
        f"kernel {release} -> {fleetgen.bump(release)} and NVMe {nvme[2]} -> 8.0.0 named, nothing else", kn)
    if nic:
        g = groups.get(("r740", fleetgen.bundle_hash(nic_drift)), {})
        tap(g.get("verdict") == "drift" and g.get("nodes") == 6 and
            g.get("differs") == [{"component": "nic", "key": nic[0], "pinned": nic[1], "value": nic_fw}],
            f"NIC {nic[0]} firmware {nic[1]} -> {nic_fw} named, nothing else", g)
    else:
        tap(True, "# SKIP this host's bundle has no NIC item to vary")
    a = groups.get(("r740", h_a), {})
    tap(a.get("verdict") == "pinned" and not a.get("pinned_reference") and a.get("example_node") == "node-a" and
        a.get("differs") == [{"component": "nvme", "key": nvme[1], "pinned": nvme[2], "value": None}],
        "node-a is pinned, not the reference, and lacks the NVMe item", a)
    tap(groups.get(("r740", h_base), {}).get("pinned_reference") is True, "the 20-Node bundle is the pinned reference",
        groups.get(("r740", h_base)))

    p, _ = fleet("--policy", policy)
    want = f"      kernel release: {release} -> {fleetgen.bump(release)}\n"
    tap(p.returncode == 0 and f"class r740: {24 + n_nic} nodes, 21 pinned, {n_nic + 3} drifted in" in p.stdout and
        want in p.stdout and (not nic or f"      nic {nic[0]}: {nic[1]} -> {nic_fw}\n" in p.stdout),
        "the text report: counts per class and each differing component", p.stdout[-2500:])

    # exit status for CI
    cases = [(["--fail-on", "drift"], 4), (["--fail-on", "unknown"], 3), (["--fail-on", "drift,unknown"], 4),
             (["--class", "lab", "--fail-on", "drift"], 0), (["--class", "lab", "--fail-on", "unknown"], 3),
             (["--class", "r740", "--fail-on", "unknown"], 0), (["--bundle", h_base, "--fail-on", "unknown"], 3),
             (["--class", "r740", "--bundle", h_base, "--fail-on", "drift,unknown"], 0),
             (["--bundle", h_kn, "--fail-on", "drift"], 4), (["--fail-on", "warnings"], 2), ([], 0)]
    got = [(c, fleet("--policy", policy, "-o", "json", *c)[0].returncode) for c, _ in cases]
    tap(got == [(c, rc) for c, rc in cases], "--fail-on: 4 drift, 3 unknown, 0 clean, 2 bad value; scoped by --class/--bundle",
        [g for g, w in zip(got, cases) if g[1] != w[1]])

    # --class is a label selector: only r740's Nodes travel
    since = requests_log()["last_seq"]
    p, j = fleet("--policy", policy, "--class", "r740", "-o", "json")
    q = [r["query"] for r in requests_log(since)["requests"] if r["path"] == "/api/v1/nodes"]
    tap(j and j["nodes"] == 24 + n_nic and {g["class"] for g in j["groups"]} == {"r740"} and
        any(f"{P}%2Fclass%3Dr740" in x or f"{P}/class=r740" in x for x in q),
        "--class r740: a labelSelector LIST, only r740's Nodes", (q, (j or {}).get("nodes")))

    # paging: pages of 5, every Node counted once
    since = requests_log()["last_seq"]
    p, j = fleet("--policy", policy, "--bundle", h_base, "--page-size", "5", "-o", "json")
    lists = [r for r in requests_log(since)["requests"] if r["path"] == "/api/v1/nodes" and r["method"] == "GET"]
    shown = (j or {}).get("groups", [])
    got = sorted(n for g in shown for n in g.get("node_names", []))
    tap(lists and all(r["accept"].startswith("application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1")
                      for r in lists), "fleet asks the Node LIST for metadata only (PartialObjectMetadataList)",
        [r.get("accept") for r in lists][:2])
    cms = [r for r in requests_log(since)["requests"] if r["path"].endswith("/configmaps")]
    tap(cms and all(r["accept"] == "application/json" for r in cms), "and the baselines' ConfigMaps whole",
        [(r["path"], r.get("accept")) for r in cms][:2])
    tap(j and j["nodes"] == total and len(lists) == math.ceil(total / 5) and
        sum("continue=" in r["query"] for r in lists) == len(lists) - 1,
        f"--page-size 5: {math.ceil(total / 5)} pages for {total} Nodes, each after the first with a continue token",
        ((j or {}).get("nodes"), [r["query"][:60] for r in lists]))
    tap(got == sorted(names["pinned"] + names["lab"]) and len(set(got)) == len(got),
        f"--bundle {h_base}: its 24 Nodes (r740 and lab) listed once each over the pages", got)
    p, _ = fleet("--policy", policy, "--bundle", h_kn)
    tap(p.returncode == 0 and f"Nodes of bundle {h_kn} in class r740 (3):\n  r740-kn-0\n  r740-kn-1\n  r740-kn-2\n" in p.stdout,
        "--bundle text: the bundle's Nodes by name", p.stdout[-1200:])


if __name__ == "__main__":
    run_with_server(main, "fleet test")
