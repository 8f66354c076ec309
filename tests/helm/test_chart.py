#!/usr/bin/env python3
"""helm/nodeprint: the chart's rendering by the real Helm (`helm template`, v4.3.2 built by
tests/cluster/build.sh) against manifests/, value by value, and accepted by the real cluster. TAP output.

1. default values, release "nodeprint" in namespace "nodeprint", render exactly the objects of
   `kubectl kustomize manifests/` (parsed YAML, matched by kind/namespace/name), and of the manifests/
   files read directly - less what only one side has by design: the Namespace (kustomize users get
   it from manifests/; the chart installs into the release namespace and never owns one), Helm's two
   bookkeeping labels (helm.sh/chart, app.kubernetes.io/managed-by) and the uninstall hook objects;
2. a non-default value changes exactly the fields it should (every other field of every object equal);
3. bad values fail with a clear message (required, a labelPrefix the policy contradicts, ...);
4. `kubectl apply --dry-run=server --validate=strict` of renderings is accepted by kube-apiserver
   (tests/cluster/cluster.sh), and the chart's admission policy with another prefix is enforced there.
"""
import glob, json, os, subprocess, sys, tempfile, time

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHART = os.path.join(ROOT, "helm", "nodeprint")
BUILD = os.path.join(ROOT, "tests", "cluster", "build.sh")
sys.path.insert(0, os.path.join(ROOT, "tests", "cluster"))
from cluster import Cluster, tap  # noqa: E402
import taplib  # noqa: E402 - tests/, on the path through cluster
HELM = KUBECTL = None


def render(*args, release="nodeprint"):
    """(returncode, stdout, stderr) of `helm template RELEASE CHART -n nodeprint` with args (a later -n wins)."""
    p = subprocess.run([HELM, "template", release, CHART, "-n", "nodeprint", *args], capture_output=True, text=True,
                       timeout=60)
    return p.returncode, p.stdout, p.stderr


HELM_ONLY = ("helm.sh/chart", "app.kubernetes.io/managed-by")


def is_hook(o):
    return "helm.sh/hook" in (o["metadata"].get("annotations") or {})


def as_manifests(objs):
    """@objs as manifests/ has them: no hook objects, no Helm bookkeeping labels (copies)."""
    out = {}
    for k, o in objs.items():
        if is_hook(o):
            continue
        o = json.loads(json.dumps(o))
        for labels in (o["metadata"].get("labels"), o.get("spec", {}).get("template", {}).get("metadata", {}).get("labels")):
            for h in HELM_ONLY:
                (labels or {}).pop(h, None)
        out[k] = o
    return out


def objects(text):
    """{(kind, namespace, name): object} of a multi-document YAML text."""
    out = {}
    for d in yaml.safe_load_all(text):
        if d is None:
            continue
        key = (d["kind"], d["metadata"].get("namespace", ""), d["metadata"]["name"])
        assert key not in out, f"duplicate {key}"
        out[key] = d
    return out


def rendered(*args, hooks=False, release="nodeprint"):
    """The objects of a rendering; the uninstall hook objects only with @hooks."""
    rc, out, err = render(*args, release=release)
    if rc != 0:
        raise RuntimeError(f"helm template {' '.join(args)}: {err}")
    return {k: o for k, o in objects(out).items() if hooks or not is_hook(o)}


def diff(a, b, path=""):
    """Paths (".spec.x[1].y") where a and b differ; lists compared element by element."""
    if type(a) is not type(b):
        return [path]
    if isinstance(a, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(f"{path}.{k}")
            else:
                out += diff(a[k], b[k], f"{path}.{k}")
        return out
    if isinstance(a, list):
        if len(a) != len(b):
            return [path]
        out = []
        for i, (x, y) in enumerate(zip(a, b)):
            out += diff(x, y, f"{path}[{i}]")
        return out
    return [] if a == b else [path]


def changes(base, other):
    """{key: [paths]} of objects that differ; a missing/extra object is [\"<absent>\"]/[\"<new>\"]."""
    out = {}
    for k in sorted(set(base) | set(other)):
        if k not in other:
            out[k] = ["<absent>"]
        elif k not in base:
            out[k] = ["<new>"]
        else:
            d = diff(base[k], other[k])
            if d:
                out[k] = d
    return out


DS = ("DaemonSet", "nodeprint", "nodeprint")
VAP = ("ValidatingAdmissionPolicy", "", "nodeprint-own-node")
VAPB = ("ValidatingAdmissionPolicyBinding", "", "nodeprint-own-node")
VAP_BL = ("ValidatingAdmissionPolicy", "", "nodeprint-baselines")
VAPB_BL = ("ValidatingAdmissionPolicyBinding", "", "nodeprint-baselines")
CM = ("ConfigMap", "nodeprint", "nodeprint-policy")
C0 = ".spec.template.spec.containers[0]"


def container(objs):
    return objs[DS]["spec"]["template"]["spec"]["containers"][0]


def test_default(base_text):
    kust = subprocess.run([KUBECTL, "kustomize", os.path.join(ROOT, "manifests")],
                          capture_output=True, text=True, timeout=120)
    if not tap(kust.returncode == 0, "kubectl kustomize manifests/ runs", kust.stderr):
        return
    want = {k: o for k, o in objects(kust.stdout).items() if k[0] != "Namespace"}
    full = objects(base_text)
    got = as_manifests(full)
    tap(sorted(got) == sorted(want), "default rendering has exactly the objects of manifests/ (less its Namespace, "
        "plus the uninstall hook)",
        f"chart only: {sorted(set(got) - set(want))}\nmanifests only: {sorted(set(want) - set(got))}")
    c = changes(want, got)
    tap(not c, "default rendering equals kubectl kustomize manifests/ field for field", c)
    direct = {}
    for f in sorted(glob.glob(os.path.join(ROOT, "manifests", "*.yaml"))):
        if not f.endswith("kustomization.yaml"):
            direct.update(objects(open(f).read()))
    direct = {k: o for k, o in direct.items() if k[0] != "Namespace"}
    c = changes(direct, got)
    tap(not c, "and equals the manifests/ files parsed directly (no kustomize rewriting)", c)
    chart = yaml.safe_load(open(os.path.join(CHART, "Chart.yaml")))
    std = {"helm.sh/chart": f"nodeprint-{chart['version']}", "app.kubernetes.io/name": "nodeprint",
           "app.kubernetes.io/instance": "nodeprint", "app.kubernetes.io/version": chart["appVersion"],
           "app.kubernetes.io/managed-by": "Helm"}
    labels = {k: o["metadata"].get("labels") for k, o in full.items()}
    tap(all(v and all(v.get(a) == b for a, b in std.items()) for v in labels.values()),
        "every object carries the standard labels (helm.sh/chart, name, instance, version, managed-by)", labels)
    docs = base_text.split("---\n")
    tap(docs[0] == "" and all(d.startswith("# Source: nodeprint/templates/") for d in docs[1:]) and
        len(docs) - 1 == len(full), "helm template layout: one '# Source:' document per object, none empty",
        base_text[:400])


def test_values(base):
    # image
    o = rendered("--set", "image.tag=9.9.9", "--set", "image.repository=registry.example/np",
                 "--set", "image.pullPolicy=Always")
    c = changes(base, o)
    tap(c == {DS: [f"{C0}.image", f"{C0}.imagePullPolicy"]} and container(o)["image"] == "registry.example/np:9.9.9"
        and container(o)["imagePullPolicy"] == "Always", "image repository/tag/pullPolicy change only the container image", c)

    # the label prefix: policy, admission policy CEL and messages, own-taint tolerations - nothing else
    o = rendered("--set", "labelPrefix=hw.example.com")
    c = changes(base, o)
    want = {CM: [".data.policy.yaml"], DS: [f".spec.template.spec.tolerations[{i}].key" for i in range(6)],
            VAP: [".spec.validations[1].message", ".spec.validations[2].message", ".spec.validations[3].message",
                  ".spec.variables[0].expression"]}
    tap(c == want, "labelPrefix changes exactly the policy, the VAP prefix and messages, the tolerations", c)
    pol = yaml.safe_load(o[CM]["data"]["policy.yaml"])
    tap(pol["labelPrefix"] == "hw.example.com" and
        o[CM]["data"]["policy.yaml"].replace("hw.example.com", "nodeprint.io") == base[CM]["data"]["policy.yaml"],
        "the policy's labelPrefix follows it (one source of truth)", pol.get("labelPrefix"))
    tap(o[VAP]["spec"]["variables"][0]["expression"] == '"hw.example.com/"' and
        o[VAP]["spec"]["validations"][1]["message"].endswith("labels under hw.example.com/"),
        "the VAP CEL prefix is the new prefix", o[VAP]["spec"]["variables"][0])
    keys = [t.get("key") for t in o[DS]["spec"]["template"]["spec"]["tolerations"]]
    tap(keys == ["hw.example.com/firmware-unpinned", "hw.example.com/gpu-fault", "hw.example.com/gpu-missing",
                 "hw.example.com/multipath-degraded",
                 "hw.example.com/nvme-critical", "hw.example.com/path-flapping", None, None],
        "tolerations are the new prefix's own taints, then values.tolerations", keys)

    # metrics off: the port serves only the probes (--health-address); the probes stay
    o = rendered("--set", "metrics.enabled=false")
    c = changes(base, o)
    args = container(o)["args"]
    tap(c == {DS: [f"{C0}.args[4]", f"{C0}.livenessProbe.httpGet.port", f"{C0}.ports[0].name",
                   f"{C0}.readinessProbe.httpGet.port"]} and
        args[4] == "--health-address=:20270" and container(o)["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}
        and container(o)["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "health"},
        "metrics.enabled=false: --health-address on the same port, both probes kept, nothing else", c)
    o = rendered("--set", "metrics.address=127.0.0.1", "--set", "metrics.port=9200")
    c = changes(base, o)
    tap(c == {DS: [f"{C0}.args[4]", f"{C0}.ports[0].containerPort"]} and
        container(o)["args"][4] == "--metrics-address=127.0.0.1:9200" and
        container(o)["ports"][0]["containerPort"] == 9200, "metrics address and port reach the args and the port", c)

    # privileged off: the securityContext of capabilities SYS_ADMIN + SYSLOG, nothing else changes
    o = rendered("--set", "privileged=false")
    c = changes(base, o)
    tap(set(c) == {DS} and all(p.startswith(f"{C0}.securityContext") for p in c[DS]) and
        container(base)["securityContext"].get("privileged") is True and
        container(o)["securityContext"] == {"readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False,
                                            "runAsUser": 0, "runAsNonRoot": False,
                                            "capabilities": {"drop": ["ALL"], "add": ["SYS_ADMIN", "SYSLOG"]}},
        "privileged=false: only the securityContext changes, to SYS_ADMIN + SYSLOG without escalation", c)

    # extra environment (kube-proxy-less clusters): appended after NODE_NAME, nothing else
    o = rendered("--set-json", 'env=[{"name":"KUBERNETES_SERVICE_HOST","value":"10.0.0.10"}]')
    c = changes(base, o)
    tap(c == {DS: [f"{C0}.env"]} and container(o)["env"][2] == {"name": "KUBERNETES_SERVICE_HOST", "value": "10.0.0.10"}
        and [e["name"] for e in container(o)["env"][:2]] == ["NODE_NAME", "NODEPRINT_NAMESPACE"],
        "env: appended after NODE_NAME and NODEPRINT_NAMESPACE", c)

    # admission policy off: both policies and their bindings gone, nothing else
    o = rendered("--set", "admissionPolicy.enabled=false")
    c = changes(base, o)
    lvap = ("ValidatingAdmissionPolicy", "", "nodeprint-valve-leases")
    lvapb = ("ValidatingAdmissionPolicyBinding", "", "nodeprint-valve-leases")
    tap(c == {VAP: ["<absent>"], VAPB: ["<absent>"], VAP_BL: ["<absent>"], VAPB_BL: ["<absent>"], lvap: ["<absent>"],
              lvapb: ["<absent>"]}, "admissionPolicy.enabled=false removes the VAPs and their bindings only", c)

    # the release namespace: every namespaced object goes there, the admission policy names its service account
    o = rendered("-n", "storage-ops")
    nss = sorted({k[1] for k in o})
    tap(nss == ["", "storage-ops"] and not any(k[0] == "Namespace" for k in o) and
        o[("ValidatingAdmissionPolicy", "", "nodeprint-own-node")]["spec"]["matchConditions"][0]["expression"] ==
        'request.userInfo.username == "system:serviceaccount:storage-ops:nodeprint"' and
        o[("ClusterRoleBinding", "", "nodeprint")]["subjects"][0]["namespace"] == "storage-ops",
        "helm -n storage-ops: objects in the release namespace, no Namespace object, the VAP and binding follow", nss)
    # a second release: other names and selector, so it never collides with or selects the first
    o = rendered(release="np2")
    ds2 = o.get(("DaemonSet", "nodeprint", "np2-nodeprint"), {})
    tap(not set(o) & set(base) and ds2.get("spec", {}).get("selector", {}).get("matchLabels") ==
        {"app.kubernetes.io/name": "nodeprint", "app.kubernetes.io/instance": "np2"},
        "release np2: every object named np2-nodeprint*, its selector has instance np2", sorted(o))
    o = rendered("--set", "fullnameOverride=hwprint", "--set", "nameOverride=hw")
    ds3 = o.get(("DaemonSet", "nodeprint", "hwprint"), {})
    tap(ds3 and ds3["metadata"]["labels"]["app.kubernetes.io/name"] == "hw" and
        ("ConfigMap", "nodeprint", "hwprint-policy") in o, "fullnameOverride names the objects, nameOverride the app label",
        sorted(o))
    o = rendered("--set", "imagePullSecrets[0].name=regcred")
    tap(changes(base, o) == {DS: [".spec.template.spec.imagePullSecrets"]} and
        o[DS]["spec"]["template"]["spec"]["imagePullSecrets"] == [{"name": "regcred"}],
        "imagePullSecrets reach the pod spec, nothing else", changes(base, o))

    # the safety valve's Role: leases of the release namespace only; its admission policy names the Leases
    o = rendered("-n", "storage-ops")
    role = o.get(("Role", "storage-ops", "nodeprint-valve"), {})
    vap = o.get(("ValidatingAdmissionPolicy", "", "nodeprint-valve-leases"), {})
    tap(role.get("rules") == [{"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
                               "verbs": ["get", "create", "update"]}] and
        vap.get("spec", {}).get("matchConditions", [{}])[0].get("expression") ==
        'request.userInfo.username == "system:serviceaccount:storage-ops:nodeprint"',
        "the valve Role: leases get/create/update in the release namespace; the VAP follows its service account",
        (role, vap.get("spec")))

    # scheduling and resources through -f, as an operator would
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
        f.write("nodeSelector: {kubernetes.io/os: linux, node-role/storage: \"\"}\n"
                "priorityClassName: nodeprint-high\n"
                "tolerations: [{key: dedicated, operator: Equal, value: storage, effect: NoExecute}]\n"
                "resources: {requests: {cpu: 20m, memory: 32Mi}, limits: {memory: 128Mi}}\n")
        f.flush()
        o = rendered("-f", f.name)
    spec = o[DS]["spec"]["template"]["spec"]
    c = changes(base, o)
    tap(set(c) == {DS} and set(c[DS]) == {".spec.template.spec.nodeSelector", ".spec.template.spec.priorityClassName",
                                          ".spec.template.spec.tolerations",
                                          f"{C0}.resources.requests.cpu",
                                          f"{C0}.resources.requests.memory", f"{C0}.resources.limits.memory"} and
        spec["nodeSelector"] == {"kubernetes.io/os": "linux", "node-role/storage": ""} and
        spec["priorityClassName"] == "nodeprint-high" and
        spec["tolerations"][6] == {"key": "dedicated", "operator": "Equal", "value": "storage", "effect": "NoExecute"} and
        # maps coalesce with the chart's defaults as in Helm: limits.cpu stays (null would remove it)
        container(o)["resources"] == {"requests": {"cpu": "20m", "memory": "32Mi"},
                                      "limits": {"cpu": "200m", "memory": "128Mi"}},
        "nodeSelector, priorityClassName, tolerations, resources from -f change only themselves", c)

    # a policy with its own finding: its condition joins the VAP's list, its taint the tolerations
    pol = base[CM]["data"]["policy.yaml"].replace(
        "labelPrefix: nodeprint.io", "labelPrefix: {{ .Values.labelPrefix }}")
    assert "\nactions:\n" in pol
    pol = pol.replace("\nactions:\n", "\nactions:\n"
                      "  raid-degraded:      {condition: RAIDHealthy, taint: NoExecute, event: RAIDDegraded}\n", 1)
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
        yaml.safe_dump({"policy": pol}, f)
        f.flush()
        o = rendered("-f", f.name)
    conds = o[VAP]["spec"]["variables"][2]["expression"]
    keys = [t.get("key") for t in o[DS]["spec"]["template"]["spec"]["tolerations"]]
    tap(set(changes(base, o)) == {CM, VAP, DS} and
        conds == '["AcceleratorsHealthy", "BundlePinned", "BundleRegression", "MultipathHealthy", "NICHealthy", "NUMALocal", "NVMeHealthy", '
                 '"OffloadsCompliant", "PCIeHealthy", "RAIDHealthy", "RDMAHealthy", "StorageTimeoutsConsistent", "VolumePathsHealthy"]' and
        "nodeprint.io/raid-degraded" in keys and "raid-degraded" in o[CM]["data"]["policy.yaml"],
        "a policy action's condition and taint reach the VAP and the tolerations", f"{conds}\n{keys}")


def test_policy_without_actions(base):
    """A policy file without actions: the agent keeps the built-in ones, so the VAP must too."""
    pol = "apiVersion: nodeprint.io/v1\nkind: Policy\nlabelPrefix: {{ .Values.labelPrefix }}\n" \
          "actions:\n  nvme-critical: {taint: none}\n"
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
        yaml.safe_dump({"policy": pol}, f)
        f.flush()
        o = rendered("-f", f.name)
    tap(o[VAP]["spec"]["variables"][2]["expression"] == base[VAP]["spec"]["variables"][2]["expression"],
        "a policy that only retunes one action keeps every built-in condition type in the VAP",
        o[VAP]["spec"]["variables"][2]["expression"])
    keys = [t.get("key") for t in o[DS]["spec"]["template"]["spec"]["tolerations"]]
    tap("nodeprint.io/nvme-critical" not in keys and "nodeprint.io/firmware-unpinned" in keys,
        "its taint: none drops that taint only, the built-in ones stay", keys)
    got = subprocess.run([os.path.join(ROOT, "build", "nodeprint"), "policy", "--default"], capture_output=True,
                         text=True, timeout=30).stdout
    with open(os.path.join(CHART, "files", "default-actions.yaml")) as f:
        shipped = yaml.safe_load(f)
    tap(shipped == {"actions": yaml.safe_load(got)["actions"]},
        "helm/nodeprint/files/default-actions.yaml equals `nodeprint policy --default`'s actions", shipped)


def test_errors():
    rc, out, err = render("--set", "image.repository=")
    tap(rc == 1 and out == "" and "values don't meet the specifications of the schema" in err and
        "/image/repository" in err, "an empty required value fails values.schema.json, naming the value", err)
    rc, out, err = render("--set", "image.repository=null")
    tap(rc == 1 and "repository" in err, "a null (deleted) required value fails", err)
    rc, out, err = render("--set", "metrics.prot=1")
    tap(rc == 1 and "'prot' not allowed" in err, "a misspelt value fails values.schema.json instead of being ignored", err)
    rc, out, err = render("--set", "metrics.port=70000")
    tap(rc == 1 and "/metrics/port" in err, "a port over 65535 fails values.schema.json", err)
    rc, out, err = render("--kube-version", "1.29.0")
    tap(rc == 1 and "kubeVersion: >=1.30.0-0" in err, "Kubernetes 1.29 is refused (kubeVersion: the admission policy needs 1.30)", err)
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
        f.write("policy: |\n  apiVersion: nodeprint.io/v1\n  kind: Policy\n  labelPrefix: nodeprint.io\n")
        f.flush()
        rc, out, err = render("-f", f.name, "--set", "labelPrefix=hw.example.com")
    tap(rc == 1 and 'policy labelPrefix "nodeprint.io" differs from labelPrefix "hw.example.com"' in err,
        "a policy whose labelPrefix contradicts labelPrefix fails", err)
    rc, out, err = render("--set", "labelPrefix=Bad/Prefix")
    tap(rc == 1 and "/labelPrefix" in err and "does not match pattern" in err,
        "a labelPrefix that is not a DNS subdomain fails (it goes into CEL)", err)
    rc, out, err = render("--set-string", "policy=: [not yaml")
    tap(rc == 1 and "policy is not a YAML mapping" in err, "a policy that is not YAML fails", err)


def enforce(c):
    """The chart's admission policy with a non-default prefix, applied for real, enforces that prefix
    (the CEL the chart templates, run by kube-apiserver's ValidatingAdmissionPolicy plugin), for the
    agent's pod-bound token. The policy with the default prefix is tested by tests/cluster."""
    rc, out, err = render("--set", "labelPrefix=hw.example.com")
    node = "node-1"
    c.create_node(node)
    p = c.kubectl("apply", "-f", "-", input=out, check=False)
    if not tap(rc == 0 and p.returncode == 0, "the rendering with labelPrefix=hw.example.com applies", err + p.stderr):
        return
    kc = c.agent_kubeconfig(node)

    def k(*args):
        return c.kubectl(*args, kubeconfig=kc, check=False)
    # the plugin's informer sees a new policy within a second or so: probe until a foreign key is denied
    for _ in range(40):
        denied = k("label", "--overwrite", "node", node, "nodeprint.io/probe=1")
        if denied.returncode != 0:
            break
        c.kubectl("label", "node", node, "nodeprint.io/probe-")
        time.sleep(0.25)
    tap(denied.returncode != 0 and "may only add, change or remove labels under hw.example.com/" in denied.stderr,
        "agent: a label under the old default prefix nodeprint.io/ is denied", denied.stdout + denied.stderr)
    p = k("label", "node", node, "hw.example.com/bundle=abc")
    tap(p.returncode == 0, "agent: a label under hw.example.com/ is allowed on its own node", p.stderr)
    p = k("taint", "node", node, "hw.example.com/nvme-critical=:NoSchedule")
    q = k("taint", "node", node, "nodeprint.io/nvme-critical=:NoSchedule")
    tap(p.returncode == 0 and q.returncode != 0 and "taints whose key is under hw.example.com/" in q.stderr,
        "agent: a taint under hw.example.com/ is allowed, one under nodeprint.io/ denied", p.stderr + q.stderr)
    taints = c.node(node)["spec"].get("taints", [])
    tap([t["key"] for t in taints] == ["hw.example.com/nvme-critical"], "the node carries only the allowed taint", taints)


def dry_run(tmp):
    """kubectl apply --dry-run=server --validate=strict of renderings on the real cluster."""
    c = Cluster(os.path.join(tmp, "cluster"))
    try:
        c.start()
    except RuntimeError as e:
        tap(False, "the test cluster starts", str(e))
        return
    try:
        # the release namespace exists before a dry run of the rest (helm install --create-namespace)
        p = c.kubectl("create", "namespace", "nodeprint", check=False)
        tap(p.returncode == 0 and "namespace/nodeprint created" in p.stdout, "the release namespace is created", p.stdout + p.stderr)
        for name, args in (("default values", []),
                           ("labelPrefix, image, metrics port, nodeSelector", [
                               "--set", "labelPrefix=hw.example.com", "--set", "image.tag=9.9.9",
                               "--set", "metrics.port=9200", "--set", "nodeSelector.kubernetes\\.io/os=linux"]),
                           ("metrics and admission policy off", [
                               "--set", "metrics.enabled=false", "--set", "admissionPolicy.enabled=false"])):
            rc, out, err = render(*args)
            if not tap(rc == 0, f"renders ({name})", err):
                continue
            p = c.kubectl("apply", "--dry-run=server", "--validate=strict", "-f", "-", input=out, check=False)
            want = len(objects(out))
            got = [l for l in p.stdout.splitlines() if l.endswith("(server dry run)")]
            tap(p.returncode == 0 and len(got) == want and not p.stderr.strip(),
                f"kubectl apply --dry-run=server --validate=strict accepts the rendering ({name}, {want} objects)",
                p.stdout + p.stderr)
        # the check can fail: a field the API does not know is refused by strict validation
        rc, out, err = render()
        bad = out.replace("      hostNetwork: true\n", "      hostNetwork: true\n      hostNetworking: true\n", 1)
        p = c.kubectl("apply", "--dry-run=server", "--validate=strict", "-f", "-", input=bad, check=False)
        tap(bad != out and p.returncode != 0 and "hostNetworking" in p.stderr,
            "and refuses a rendering with an unknown field (the check is real)", p.stdout + p.stderr)
        enforce(c)
    finally:
        c.stop()


SHARED = os.environ.get("NODEPRINT_SHARED", os.path.join(ROOT, "..", "shared"))  # beside the clone
SCHEMAS = os.path.join(SHARED, "k8s", "schemas-v1.32.2")


def schema_check():
    """Second check where ../shared/k8s is present: the strict JSON schemas (additionalProperties:
    false) of every object kind they cover (all but Namespace), for three renderings."""
    if not os.path.isdir(SCHEMAS):
        print("# ../shared/k8s/schemas-v1.32.2 absent: strict JSON schema check not run")
        return
    import jsonschema

    def schema_of(o):
        group = o["apiVersion"].split("/")[0] if "/" in o["apiVersion"] else ""
        name = o["kind"].lower() + (f"-{group.split('.')[0]}" if group else "") + "-" + o["apiVersion"].split("/")[-1]
        f = os.path.join(SCHEMAS, name + ".json")
        return json.load(open(f)) if os.path.exists(f) else None

    for name, args in (("default values", []),
                       ("labelPrefix, metrics port, nodeSelector", ["--set", "labelPrefix=hw.example.com",
                                                                    "--set", "metrics.port=9200",
                                                                    "--set", "nodeSelector.kubernetes\\.io/os=linux"]),
                       ("metrics off", ["--set", "metrics.enabled=false"])):
        objs = rendered(*args)
        errs, checked = [], []
        for k, o in sorted(objs.items()):
            sch = schema_of(o)
            if sch is None:
                continue
            checked.append(k[0])
            for e in jsonschema.Draft7Validator(sch).iter_errors(o):
                errs.append(f"{k}: {'/'.join(map(str, e.absolute_path))}: {e.message[:200]}")
        # ../shared/k8s has no Role/RoleBinding schema: those are checked by the real apiserver's dry run
        uncovered = sorted({k[0] for k in objs} - set(checked))
        tap(not errs and set(uncovered) <= {"Role", "RoleBinding"} and
            {"DaemonSet", "ConfigMap", "ClusterRole", "ValidatingAdmissionPolicy"} <= set(checked),
            f"strict JSON schemas (../shared/k8s) accept every object they cover ({name}, {len(checked)})",
            "\n".join(errs) or f"checked {checked}, no schema for {uncovered}")
    objs = rendered()
    bad = json.loads(json.dumps(objs[DS]))
    bad["spec"]["template"]["spec"]["hostNetworking"] = True
    sch = schema_of(bad)
    tap(any("hostNetworking" in e.message for e in jsonschema.Draft7Validator(sch).iter_errors(bad)),
        "and refuse an unknown field (the schemas are strict)")


def main():
    global HELM, KUBECTL
    b = subprocess.run([BUILD, "helm", "kube"], capture_output=True, text=True, timeout=5400)
    if not tap(b.returncode == 0, "tests/cluster/build.sh builds helm and kubectl", b.stderr[-2000:]):
        return
    HELM, KUBECTL = os.path.join(b.stdout.strip(), "helm"), os.path.join(b.stdout.strip(), "kubectl")
    v = subprocess.run([HELM, "version", "--short"], capture_output=True, text=True).stdout
    tap(v.startswith("v4.3.2"), "helm is the pinned v4.3.2", v)
    rc, base_text, err = render()
    if not tap(rc == 0, "chart renders with default values", err):
        return
    base = {k: o for k, o in objects(base_text).items() if not is_hook(o)}
    test_default(base_text)
    for t in (lambda: test_values(base), lambda: test_policy_without_actions(base), test_errors, schema_check):
        try:
            t()
        except Exception as e:
            tap(False, "test crashed", repr(e))
    with tempfile.TemporaryDirectory() as tmp:
        dry_run(tmp)


if __name__ == "__main__":
    taplib.run(main, "test_chart")
