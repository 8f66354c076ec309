#!/usr/bin/env python3
"""helm/nodeprint's monitoring and packaging, checked by the real tools: the alerts
(files/prometheus-rules.yaml and the PrometheusRule the chart renders from it) by `promtool check
rules` and `promtool test rules` on sample series (tests/helm/prometheus-rules.test.yaml); the Grafana
dashboard (every query parsed by promtool, every nodeprint metric it or an alert names documented in
docs/reference.md and written by pkg/agent/metrics.c or a section's metrics hook in pkg/report); the Service, ServiceMonitor and PodMonitor
selecting the agents' pods and port; NOTES.txt through `helm install --dry-run=client`; `helm lint`.
Helm is the pinned v4.3.2 of tests/cluster/build.sh; promtool is Debian's (package prometheus). TAP.
"""
import json, os, re, subprocess, sys, tempfile

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHART = os.path.join(ROOT, "helm", "nodeprint")
RULES = os.path.join(CHART, "files", "prometheus-rules.yaml")
DASH = os.path.join(CHART, "files", "grafana-dashboard.json")
sys.path.insert(0, os.path.join(ROOT, "tests"))
import taplib  # noqa: E402
from taplib import tap  # noqa: E402
HELM = None


def render(*args):
    p = subprocess.run([HELM, "template", "nodeprint", CHART, "-n", "nodeprint", *args], capture_output=True,
                       text=True, timeout=60)
    if p.returncode != 0:
        raise RuntimeError(p.stderr)
    return {(d["kind"], d["metadata"]["name"]): d for d in yaml.safe_load_all(p.stdout) if d}


def promtool(*args, cwd=None):
    return subprocess.run(["promtool", *args], capture_output=True, text=True, timeout=120, cwd=cwd)


def check_exprs(exprs):
    """promtool check rules on @exprs as recording rules: each must parse as PromQL."""
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
        yaml.safe_dump({"groups": [{"name": "exprs", "rules": [{"record": f"nodeprint:check:{i}", "expr": e}
                                                                for i, e in enumerate(exprs)]}]}, f)
        f.flush()
        return promtool("check", "rules", f.name)


def known_metrics():
    """nodeprint_* names both documented (docs/reference.md) and written (pkg/agent/metrics.c, process.c and
    the sections' metrics hooks, NP_SECTION_METRICS in pkg/report)."""
    doc = set(re.findall(r"`(nodeprint_[a-z_]+)`", open(os.path.join(ROOT, "docs", "reference.md")).read()))
    src = "".join(open(os.path.join(ROOT, "pkg", "agent", f)).read() for f in ("metrics.c", "process.c"))
    rep = os.path.join(ROOT, "pkg", "report")
    for f in sorted(os.listdir(rep)):
        text = open(os.path.join(rep, f)).read() if f.endswith(".c") else ""
        src += text if "\nNP_SECTION_METRICS(" in text else ""
    return {m for m in doc if m in src}


def base_name(m):
    return re.sub(r"_(bucket|sum|count)$", "", m) if m.endswith(("_bucket", "_sum", "_count")) and \
        not m.endswith("_total") else m


def test_rules():
    p = promtool("check", "rules", RULES)
    tap(p.returncode == 0 and "SUCCESS: 6 rules found" in p.stdout, "promtool check rules: files/prometheus-rules.yaml",
        p.stdout + p.stderr)
    p = promtool("test", "rules", "prometheus-rules.test.yaml", cwd=os.path.dirname(os.path.abspath(__file__)))
    tap(p.returncode == 0 and "SUCCESS" in p.stdout,
        "promtool test rules: each alert fires on its sample series when it should, and not before or after",
        p.stdout + p.stderr)
    groups = yaml.safe_load(open(RULES))["groups"]
    names = [r["alert"] for g in groups for r in g["rules"]]
    tap(names == ["NodeprintNVMeCriticalWarning", "NodeprintMultipathPathFlapping", "NodeprintVolumeStall",
                  "NodeprintBundleDrift", "NodeprintAgentNotCycling", "NodeprintSourceBlind"],
        "alerts: NVMe critical warning, path flapping, volume stall, bundle drift, agent not cycling, blind", names)
    tested = set(re.findall(r"alertname: (\w+)", open(os.path.join(os.path.dirname(__file__),
                                                                   "prometheus-rules.test.yaml")).read()))
    tap(set(names) <= tested, "every alert has a promtool test case", set(names) - tested)
    known = known_metrics()
    used = {base_name(m) for g in groups for r in g["rules"] for m in re.findall(r"nodeprint_[a-z_]+", r["expr"])}
    tap(used and used <= known, "every metric an alert uses is documented and exported by the agent", used - known)
    objs = render("--set", "metrics.prometheusRule.enabled=true", "--set", "metrics.prometheusRule.labels.release=kps")
    pr = objs.get(("PrometheusRule", "nodeprint"))
    tap(pr and pr["spec"] == yaml.safe_load(open(RULES)) and pr["metadata"]["labels"].get("release") == "kps",
        "the chart's PrometheusRule carries exactly the rule file, with the labels asked for")
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
        yaml.safe_dump(pr["spec"] if pr else {}, f)
        f.flush()
        p = promtool("check", "rules", f.name)
    tap(p.returncode == 0 and "SUCCESS: 6 rules found" in p.stdout, "promtool check rules: the rendered PrometheusRule's spec",
        p.stdout + p.stderr)


def test_dashboard():
    d = json.load(open(DASH))
    exprs = [t["expr"] for pn in d["panels"] for t in pn.get("targets", [])]
    tap(d.get("uid") == "nodeprint" and len(d["panels"]) >= 12 and all(pn.get("targets") for pn in d["panels"]) and
        all(pn["datasource"]["uid"] == "${datasource}" for pn in d["panels"]),
        f"grafana-dashboard.json: {len(d['panels'])} panels, each with queries on the chosen data source")
    ids = [pn["id"] for pn in d["panels"]]
    tap(len(set(ids)) == len(ids), "panel ids are unique")
    p = check_exprs([e.replace("$node", ".*") for e in exprs])
    tap(p.returncode == 0, f"promtool parses every dashboard query ({len(exprs)})", p.stdout + p.stderr)
    known = known_metrics()
    used = {base_name(m) for e in exprs for m in re.findall(r"nodeprint_[a-z_]+", e)}
    tap(used <= known and len(used) >= 12, f"every metric the dashboard uses ({len(used)}) is documented and exported",
        used - known)
    objs = render("--set", "metrics.dashboard.enabled=true")
    cm = objs.get(("ConfigMap", "nodeprint-dashboard"))
    tap(cm and json.loads(cm["data"]["nodeprint.json"]) == d and cm["metadata"]["labels"].get("grafana_dashboard") == "1",
        "metrics.dashboard.enabled: a ConfigMap holding the dashboard, labelled for Grafana's sidecar")


def test_scrape_objects():
    objs = render("--set", "metrics.service.enabled=true", "--set", "metrics.serviceMonitor.enabled=true",
                  "--set", "metrics.podMonitor.enabled=true", "--set", "metrics.serviceMonitor.labels.release=kps")
    ds = objs[("DaemonSet", "nodeprint")]
    pod_labels = ds["spec"]["template"]["metadata"]["labels"]
    ports = {p["name"]: p["containerPort"] for p in ds["spec"]["template"]["spec"]["containers"][0]["ports"]}
    svc = objs.get(("Service", "nodeprint-metrics"), {})
    sm = objs.get(("ServiceMonitor", "nodeprint"), {})
    pm = objs.get(("PodMonitor", "nodeprint"), {})
    sel = svc.get("spec", {}).get("selector", {})
    tap(svc and svc["spec"]["clusterIP"] == "None" and sel and all(pod_labels.get(k) == v for k, v in sel.items()) and
        svc["spec"]["ports"][0]["targetPort"] == "metrics" and "metrics" in ports,
        "the headless Service selects the agents' pods and their metrics port", svc)
    sm_sel = sm.get("spec", {}).get("selector", {}).get("matchLabels", {})
    tap(sm and all(svc["metadata"]["labels"].get(k) == v for k, v in sm_sel.items()) and
        sm["spec"]["endpoints"][0]["port"] == svc["spec"]["ports"][0]["name"] and
        sm["metadata"]["labels"].get("release") == "kps" and
        sm["spec"]["endpoints"][0]["relabelings"][0]["targetLabel"] == "node",
        "the ServiceMonitor selects that Service and port, adds node, carries the labels asked for", sm)
    pm_sel = pm.get("spec", {}).get("selector", {}).get("matchLabels", {})
    tap(pm and pm_sel and all(pod_labels.get(k) == v for k, v in pm_sel.items()) and
        pm["spec"]["podMetricsEndpoints"][0]["port"] in ports, "the PodMonitor selects the pods and their port", pm)
    try:
        render("--set", "metrics.serviceMonitor.enabled=true")
        ok, err = False, "rendered"
    except RuntimeError as e:
        ok, err = "needs metrics.service.enabled" in str(e), str(e)
    tap(ok, "a ServiceMonitor without its Service fails with a clear message", err)
    objs = render()
    tap(not [k for k in objs if k[0] in ("Service", "ServiceMonitor", "PodMonitor", "PrometheusRule")],
        "by default no Service, monitor or rule (no CRD needed)")


def test_install_notes():
    p = subprocess.run([HELM, "lint", CHART], capture_output=True, text=True, timeout=60)
    tap(p.returncode == 0 and "0 chart(s) failed" in p.stdout, "helm lint", p.stdout + p.stderr)
    p = subprocess.run([HELM, "install", "np", CHART, "-n", "storage-ops", "--dry-run=client"], capture_output=True,
                       text=True, timeout=60)
    notes = p.stdout.split("NOTES:", 1)[-1]
    tap(p.returncode == 0 and "kubectl label namespace storage-ops pod-security.kubernetes.io/enforce=privileged" in notes
        and "rollout status ds/np-nodeprint" in notes and "http://NODE-IP:20270/metrics" in notes and
        "post-delete Job removes" in notes, "NOTES.txt: privileged namespace label, rollout, describe, metrics, uninstall",
        notes)
    p = subprocess.run([HELM, "install", "np", CHART, "-n", "x", "--dry-run=client", "--set", "cleanup.enabled=false",
                        "--set", "admissionPolicy.enabled=false"], capture_output=True, text=True, timeout=60)
    notes = p.stdout.split("NOTES:", 1)[-1]
    tap("nodeprint cleanup --all" in notes and "WARNING: admissionPolicy.enabled=false" in notes,
        "NOTES.txt warns without the admission policy and says how to clean up without the hook", notes)


def test_cleanup_hook():
    objs = render()
    hooks = {k: o for k, o in objs.items() if "helm.sh/hook" in (o["metadata"].get("annotations") or {})}
    tap(sorted(k[0] for k in hooks) == ["ClusterRole", "ClusterRoleBinding", "Job", "Role", "RoleBinding", "ServiceAccount"]
        and all(o["metadata"]["annotations"]["helm.sh/hook"] == "post-delete" for o in hooks.values()),
        "the uninstall hook: a Job and its ServiceAccount and roles, all post-delete", sorted(hooks))
    job = hooks.get(("Job", "nodeprint-cleanup"), {})
    c = job["spec"]["template"]["spec"]["containers"][0]
    # the condition types the chart's admission policy lets the agent write: what it may have left
    vap = objs[("ValidatingAdmissionPolicy", "nodeprint-own-node")]
    types = json.loads([v for v in vap["spec"]["variables"] if v["name"] == "ownConditions"][0]["expression"])
    tap(c["args"][:2] == ["cleanup", "--all"] and "--label-prefix=nodeprint.io" in c["args"] and
        f"--condition-types={','.join(types)}" in c["args"] and
        "--wait-for-pods=app.kubernetes.io/name=nodeprint,app.kubernetes.io/instance=nodeprint" in c["args"],
        "the Job runs nodeprint cleanup --all with the prefix, the admission policy's condition types, the agents' selector",
        c["args"])
    rules = hooks[("ClusterRole", "nodeprint-cleanup")]["rules"]
    tap(rules == [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list", "patch"]},
                  {"apiGroups": [""], "resources": ["nodes/status"], "verbs": ["patch"]}],
        "its ClusterRole: get/list/patch nodes, patch nodes/status, nothing else", rules)
    tol = {t.get("key") for t in job["spec"]["template"]["spec"]["tolerations"]}
    tap({"nodeprint.io/firmware-unpinned", "nodeprint.io/nvme-critical"} <= tol,
        "it tolerates nodeprint's own taints (the nodes it cleans may all carry them)", tol)
    tap(not [k for k in render("--set", "cleanup.enabled=false") if k[1] == "nodeprint-cleanup"],
        "cleanup.enabled=false: no hook")


def main():
    global HELM
    b = subprocess.run([os.path.join(ROOT, "tests", "cluster", "build.sh"), "helm"], capture_output=True, text=True,
                       timeout=5400)
    if not tap(b.returncode == 0, "tests/cluster/build.sh builds helm", b.stderr[-2000:]):
        return
    HELM = os.path.join(b.stdout.strip(), "helm")
    p = subprocess.run(["promtool", "--version"], capture_output=True, text=True)
    if not tap(p.returncode == 0, "promtool (Debian's prometheus package) runs", p.stderr):
        return
    for t in (test_rules, test_dashboard, test_scrape_objects, test_install_notes, test_cleanup_hook):
        try:
            t()
        except Exception as e:
            tap(False, f"{t.__name__} crashed", repr(e))


if __name__ == "__main__":
    taplib.run(main, "test_monitoring")
