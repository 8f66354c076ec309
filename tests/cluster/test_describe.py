#!/usr/bin/env python3
"""`kubectl describe node` and `kubectl events --for node/...` with the pinned kubectl (v1.37.2, built
by tests/cluster/build.sh) against the real cluster after `nodeprint run`: the fingerprint, the taints,
the conditions and the Events show. The outputs are saved in build/test-logs/cluster-describe-node.txt
and cluster-events.txt; NP_UPDATE_SAMPLES=1 also writes them into docs/samples.md. TAP output."""
import os, re, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster import HOST_RELEASE, HOST_ROOT, ROOT, run_with_cluster, tap  # noqa: E402

LOG = os.environ.get("NP_TEST_LOG", os.path.join(ROOT, "build", "test-logs"))
SAMPLES = os.path.join(ROOT, "docs", "samples.md")


def main(c, tmp):
    c.apply_manifests(valve_classes=("r740",))
    c.create_node("node-a", labels={"node.kubernetes.io/instance-type": "r740", "team": "storage"},
                  taints=[{"key": "dedicated", "value": "storage", "effect": "NoSchedule"}])
    kc = c.agent_kubeconfig("node-a")
    pol = os.path.join(tmp, "r740.yaml")
    with open(pol, "w") as f:
        f.write("classes:\n  - name: r740\n    match: {nodeLabels: {node.kubernetes.io/instance-type: r740}}\n"
                "    pins: {kernel: {release: ['6.1.0-*-amd64']}}\n")
    p = c.run_agent("node-a", pol, kc, host_root=HOST_ROOT, cycles=2)
    tap(p.returncode == 0, "nodeprint run on node-a (class r740, kernel not pinned)", p.stderr[-1000:])
    hash_ = c.node("node-a")["metadata"]["labels"].get("nodeprint.io/bundle", "?")
    v = c.kubectl("version", "--client", "-o", "json").stdout
    tap('"gitVersion": "v1.37.2"' in v, "kubectl is the pinned v1.37.2", v)

    d = c.kubectl("describe", "node", "node-a").stdout
    tap(f"nodeprint.io/bundle={hash_}" in d and "nodeprint.io/bundle-state=drift" in d and "nodeprint.io/class=r740" in d,
        "describe: bundle, bundle-state and class labels", d[:1500])
    tap(re.search(r'nodeprint\.io/fingerprint:\s*\n\s*\{"hash":"' + hash_, d) is not None, "describe: the fingerprint annotation", d[:2000])
    tap(re.search(r"Taints:\s+dedicated=storage:NoSchedule\n\s+nodeprint\.io/firmware-unpinned:NoSchedule", d) is not None,
        "describe: our taint after the foreign one", d)
    tap(re.search(rf"BundlePinned\s+False\s.*Drift\s+kernel release runs {HOST_RELEASE}, not a pinned version", d) is not None and
        re.search(r"Ready\s+True\s.*KubeletReady", d) is not None, "describe: BundlePinned False (Drift) and kubelet's Ready", d)
    tap(re.search(rf"Warning\s+FirmwareDrift\s+\S+\s+nodeprint\s+kernel release runs {HOST_RELEASE}", d) is not None,
        "describe: the FirmwareDrift Event (found by the Node's uid)", d[-1500:])
    e = c.kubectl("events", "--for", "node/node-a").stdout
    tap(re.search(rf"Warning\s+FirmwareDrift\s+Node/node-a\s+kernel release runs {HOST_RELEASE}", e) is not None,
        "kubectl events --for node/node-a: FirmwareDrift", e)

    os.makedirs(LOG, exist_ok=True)
    with open(os.path.join(LOG, "cluster-describe-node.txt"), "w") as f:
        f.write(d)
    with open(os.path.join(LOG, "cluster-events.txt"), "w") as f:
        f.write(e)
    if os.environ.get("NP_UPDATE_SAMPLES"):
        update_samples(d, e)


def update_samples(describe, events):
    """Replace the fenced blocks under docs/samples.md's describe and events headings."""
    # the part nodeprint writes: up to the Addresses, then the Events
    head = describe.split("\nAddresses:")[0]
    evpart = describe[describe.find("\nEvents:"):].rstrip("\n") if "\nEvents:" in describe else ""
    text = open(SAMPLES).read()
    for heading, body in (("## `kubectl describe node node-a` (the part nodeprint writes)", head + "\n..." + evpart),
                          ("## `kubectl events --for node/node-a`", events.rstrip("\n"))):
        i = text.index(heading)
        a = text.index("```\n", i) + 4
        b = text.index("\n```", a)
        text = text[:a] + body + text[b:]
    with open(SAMPLES, "w") as f:
        f.write(text)


if __name__ == "__main__":
    run_with_cluster(main, "test_describe")
