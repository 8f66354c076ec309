#!/usr/bin/env python3
"""Uninstall on the real control plane (tests/cluster/cluster.sh): `helm install` the chart into a
namespace it does not own, let the agent (pod-bound token, the chart's admission policy enforcing)
write its labels, fingerprint annotation, taint and conditions on a Node that also carries other
owners' keys, then `helm uninstall`. Helm deletes the release and creates the post-delete hook: its
ServiceAccount, roles and Job. This control plane has no kubelet, so no pod runs the Job: the test
does what the kubelet would - confirms the deleted DaemonSet pods gone, and runs the Job's own
container args (`nodeprint cleanup ...`) with a token of the Job's own ServiceAccount, which proves its
RBAC is enough. Afterwards no nodeprint.io/ key and no nodeprint condition remains, every foreign key
does, the Namespace is still there and the release's objects are gone. TAP output.
"""
import json, os, subprocess, sys


HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from cluster import HOST_ROOT, NODEPRINT, ROOT, run_with_cluster, tap, write  # noqa: E402
from fleet import own_condition_types  # noqa: E402

CHART = os.path.join(ROOT, "helm", "nodeprint")
NODE = "node-u"
FOREIGN_TAINT = {"key": "dedicated", "value": "storage", "effect": "NoSchedule"}
FOREIGN_COND = {"type": "KernelDeadlock", "status": "False", "reason": "KernelHasNoDeadlock",
                "message": "kernel has no deadlock", "lastHeartbeatTime": "2026-12-07T10:00:00Z",
                "lastTransitionTime": "2026-12-07T10:00:00Z"}
OWN_TYPES = own_condition_types()


def ours(nd):
    md = nd["metadata"]
    keys = [k for k in list(md.get("labels", {})) + list(md.get("annotations", {})) if k.startswith("nodeprint.io/")]
    keys += [t["key"] for t in nd["spec"].get("taints", []) if t["key"].startswith("nodeprint.io/")]
    return keys + [c["type"] for c in nd["status"].get("conditions", []) if c["type"] in OWN_TYPES]


def foreign(nd):
    md = nd["metadata"]
    return ({k: v for k, v in md.get("labels", {}).items() if not k.startswith("nodeprint.io/")},
            {k: v for k, v in md.get("annotations", {}).items() if not k.startswith("nodeprint.io/")},
            [t for t in nd["spec"].get("taints", []) if not t["key"].startswith("nodeprint.io/")],
            [c for c in nd["status"].get("conditions", []) if c["type"] not in OWN_TYPES and c["type"] != "Ready"])


def main(c, tmp):
    helm = c.env["NP_HELM"]
    kc = c.env["NP_KUBE_KUBECONFIG"]

    def h(*args, timeout=120):
        return subprocess.run([helm, "--kubeconfig", kc, *args], capture_output=True, text=True, timeout=timeout)

    c.create_node(NODE, labels={"team": "storage", "nodeprint.io-other/x": "1"}, taints=[FOREIGN_TAINT])
    c.must("PATCH", f"/api/v1/nodes/{NODE}", {"metadata": {"annotations": {"example.com/owner": "ops"}}})
    st = c.must("GET", f"/api/v1/nodes/{NODE}")["status"]
    c.must("PATCH", f"/api/v1/nodes/{NODE}/status", {"status": {"conditions": st["conditions"] + [FOREIGN_COND]}},
           ctype="application/strategic-merge-patch+json")
    c.kubectl("create", "namespace", "nodeprint")
    # the policy the agent runs is the chart's too: its valve Role names the class's Lease
    # (the built-in policy with a class: the chart derives the admission policy's condition types from
    # its actions and the valve Role's Lease names from its classes)
    default = subprocess.run([NODEPRINT, "policy", "--default"], capture_output=True, text=True).stdout
    assert "classes: []" in default
    drift = write(os.path.join(tmp, "drift.yaml"), default.replace(
        "classes: []", "classes:\n  - name: lab\n    pins: {kernel: {release: ['1.0.*']}}"))
    p = h("install", "nodeprint", CHART, "-n", "nodeprint", "--set", "image.repository=nodeprint",
          "--set-file", f"policy={drift}")
    if not tap(p.returncode == 0 and "STATUS: deployed" in p.stdout, "helm install into an existing namespace",
               p.stdout + p.stderr):
        return
    agent_kc = c.agent_kubeconfig(NODE)
    p = c.run_agent(NODE, drift, agent_kc, host_root=HOST_ROOT, cycles=2)
    before = c.node(NODE)
    own = ours(before)
    tap("nodeprint.io/bundle" in own and "nodeprint.io/fingerprint" in own and "nodeprint.io/firmware-unpinned" in own
        and "BundlePinned" in own, "the agent wrote its keys through the chart's admission policy", f"{own}\n{p.stderr[-800:]}")

    un = subprocess.Popen([helm, "--kubeconfig", kc, "uninstall", "nodeprint", "-n", "nodeprint", "--timeout", "120s"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        job = c.wait(lambda: (r := c.api("GET", "/apis/batch/v1/namespaces/nodeprint/jobs/nodeprint-cleanup"))[0] == 200
                     and r, timeout=60)
        found = job and job[0] == 200
        tap(found, "helm uninstall creates the post-delete hook Job and waits for it")
        if not found:
            return
        spec = job[1]["spec"]["template"]["spec"]
        gone = [k for k in ("daemonset/nodeprint", "configmap/nodeprint-policy", "serviceaccount/nodeprint")
                if c.kubectl("get", k, "-n", "nodeprint", check=False).returncode == 0]
        vap = c.kubectl("get", "validatingadmissionpolicy", "nodeprint-own-node", check=False)
        tap(not gone and vap.returncode != 0,
            "by then the release's DaemonSet, ConfigMap, ServiceAccount and admission policy are gone", gone)
        # what the kubelet would do: confirm the DaemonSet's pods gone, run the Job's container as its
        # ServiceAccount, and report the Job complete
        c.kubectl("delete", "pods", "-n", "nodeprint", "-l",
                  "app.kubernetes.io/name=nodeprint,app.kubernetes.io/instance=nodeprint", "--force", "--grace-period=0",
                  check=False)
        tok = c.kubectl("create", "token", spec["serviceAccountName"], "-n", "nodeprint").stdout.strip()
        jkc = os.path.join(tmp, "cleanup.kubeconfig")
        write(jkc, "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n"
                   f"  cluster: {{server: '{c.env['NP_KUBE_SERVER']}', certificate-authority: '{c.env['NP_KUBE_CA']}'}}\n"
                   f"users:\n- name: u\n  user: {{token: '{tok}'}}\ncontexts:\n- name: c\n  context: {{cluster: c, user: u}}\n"
                   "current-context: c\n")
        args = spec["containers"][0]["args"]
        p = subprocess.run([NODEPRINT, *args, "--kubeconfig", jkc], capture_output=True, text=True, timeout=180)
        tap(p.returncode == 0 and f"{NODE}: removed" in p.stdout,
            "the Job's command, run with a token of the Job's own ServiceAccount, cleans the Node", p.stdout + p.stderr)
        now = c.must("GET", "/apis/batch/v1/namespaces/nodeprint/jobs/nodeprint-cleanup")["status"].get("startTime")
        c.kubectl("delete", "pods", "-n", "nodeprint", "-l", "batch.kubernetes.io/job-name=nodeprint-cleanup", "--force",
                  "--grace-period=0", check=False)
        t = "2026-12-07T10:00:00Z"
        st, out = c.api("PATCH", "/apis/batch/v1/namespaces/nodeprint/jobs/nodeprint-cleanup/status", {"status": {
            "startTime": now or t, "completionTime": now or t, "succeeded": 1, "active": 0, "ready": 0, "terminating": 0, "conditions": [
                {"type": "SuccessCriteriaMet", "status": "True", "lastProbeTime": now or t, "lastTransitionTime": now or t},
                {"type": "Complete", "status": "True", "lastProbeTime": now or t, "lastTransitionTime": now or t}]}})
        out_s, err_s = un.communicate(timeout=150)
        tap(un.returncode == 0 and "uninstalled" in out_s, "helm uninstall completes once the Job has (hook-succeeded)",
            f"{st} {out}\n{out_s}{err_s}")
    finally:
        if un.poll() is None:
            un.kill()
    left = [k for k in ("job/nodeprint-cleanup", "serviceaccount/nodeprint-cleanup", "role/nodeprint-cleanup")
            if c.kubectl("get", k, "-n", "nodeprint", check=False).returncode == 0]
    left += [k for k in ("clusterrole/nodeprint-cleanup", "clusterrolebinding/nodeprint-cleanup")
             if c.kubectl("get", k, check=False).returncode == 0]
    tap(not left, "and deletes the hook's Job, ServiceAccount and roles afterwards", left)
    tap(c.kubectl("get", "namespace", "nodeprint", check=False).returncode == 0,
        "the Namespace stays (the chart never owned it)")
    after = c.node(NODE)
    tap(not ours(after), "after uninstall no nodeprint.io/ key and no nodeprint condition remains on the Node", ours(after))
    fb, fa = foreign(before), foreign(after)
    tap(fa == fb and fa[0].get("nodeprint.io-other/x") == "1" and fa[2] == [FOREIGN_TAINT] and
        [x["type"] for x in fa[3]] == ["MemoryPressure", "DiskPressure", "PIDPressure", "KernelDeadlock"],
        "every foreign label, annotation, taint and condition is still there, unchanged", f"{fb}\n{fa}")
    ready = [x for x in after["status"]["conditions"] if x["type"] == "Ready"]
    tap(ready and ready[0]["status"] == "True", "the kubelet's Ready condition is untouched")


if __name__ == "__main__":
    run_with_cluster(main, "test_uninstall")
