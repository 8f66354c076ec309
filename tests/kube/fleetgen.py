"""fleetgen.py - Node objects for `nodeprint fleet`'s tests and benchmark, in the shapes a real agent published.

capture() runs the real agent (`nodeprint run`) once on the Node node-a, created from the captured Node
tests/fixtures/kube/node.json, and reads back the labels and P/fingerprint annotation it wrote; the NVMe
item is the one `nodeprint inspect --only nvme` reads from the captured QEMU NVMe tree
(tests/fixtures/qemu-nvme). variant() varies the class and components of that bundle and recomputes what
the agent would derive from them: the hash (docs/report.md, "The fingerprint"), the kernel and
firmware labels (docs/reference.md, label values), the annotation. check_derivation() proves the
recomputation equals what the agent wrote. create() POSTs Nodes to kube-apiserver concurrently."""
import hashlib, http.client, json, os, re, ssl, subprocess, threading, urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
P = "nodeprint.io"


def bundle_hash(components):
    """First 12 hex digits of SHA-256 over "nodeprint-bundle-v1\\n" + sorted unique "c\\tk\\tv\\n" lines."""
    lines = sorted({f"{c}\t{k}\t{v}\n".encode() for c, k, v in components})
    return hashlib.sha256(b"nodeprint-bundle-v1\n" + b"".join(lines)).hexdigest()[:12]


def label_value(raw):
    """A label value as the agent makes it (short values only: no hashing past 63 characters)."""
    v = re.sub(r"[^-A-Za-z0-9_.]+", "_", raw)
    v = re.sub(r"^[^A-Za-z0-9]+|[^A-Za-z0-9]+$", "", v)
    assert len(v) <= 63, v
    return v


def derived_labels(components, klass, state):
    """The agent's P/ labels for a bundle: class, bundle, bundle-state, kernel, nic.i/nvme.i model and firmware."""
    out = {f"{P}/bundle": bundle_hash(components), f"{P}/bundle-state": state}
    if klass:
        out[f"{P}/class"] = klass
    for c, k, v in components:
        if c == "kernel" and k == "release":
            out[f"{P}/kernel"] = label_value(v)
    for comp in ("nvme", "nic"):
        for i, (k, v) in enumerate(sorted((k, v) for c, k, v in components if c == comp)):
            out[f"{P}/{comp}.{i}.model"] = label_value(k)
            out[f"{P}/{comp}.{i}.firmware"] = label_value(v)
    return out


def base_node(name, labels=None):
    """The captured Node (tests/fixtures/kube/node.json) as a new object named @name."""
    n = json.load(open(os.path.join(ROOT, "tests", "fixtures", "kube", "node.json")))
    md = n["metadata"]
    for k in ("resourceVersion", "uid", "creationTimestamp"):
        md.pop(k, None)
    md["name"] = name
    md["labels"]["kubernetes.io/hostname"] = name
    md["labels"].update(labels or {})
    n["spec"]["taints"] = [t for t in n["spec"].get("taints", []) if t["key"] != "node.kubernetes.io/unschedulable"]
    return n


def nvme_item(binary):
    """["nvme", model, firmware]: the bundle item the agent makes of the captured QEMU NVMe controller."""
    p = subprocess.run([binary, "inspect", "--host-root", os.path.join(ROOT, "tests", "fixtures", "qemu-nvme", "root"),
                        "--only", "nvme", "-o", "json"], capture_output=True, text=True, timeout=60)
    items = [c for c in json.loads(p.stdout)["fingerprint"]["components"] if c["component"] == "nvme"]
    return [items[0]["component"], items[0]["key"], items[0]["value"]]


def host_bundle(binary):
    """This host's bundle as `nodeprint inspect` reads it, and the policy pins that match it plus the captured
    NVMe item: (components sorted, kernel release, [nic key, value] or None, nvme item, pins)."""
    probe = json.loads(subprocess.run([binary, "inspect", "-o", "json"], capture_output=True, text=True).stdout)
    comps = sorted([c["component"], c["key"], c["value"]] for c in probe["fingerprint"]["components"])
    nvme = nvme_item(binary)
    release = next(v for c, k, v in comps if c == "kernel")
    nic = next(([k, v] for c, k, v in comps if c == "nic"), None)
    pins = {"kernel": {"release": [release]}, "nvme": {nvme[1]: [nvme[2]]}}
    if nic:
        pins["nic"] = {nic[0]: [nic[1]]}
    return comps, release, nic, nvme, pins


def write_policy(path, pins, pinned_classes, unpinned_classes):
    """A policy whose @pinned_classes (name -> the node label matching it) carry @pins; JSON is YAML."""
    classes = [{"name": n, "match": {"nodeLabels": m}, "pins": pins} for n, m in pinned_classes.items()]
    classes += [{"name": n, "match": {"nodeLabels": m}} for n, m in unpinned_classes.items()]
    with open(path, "w") as f:
        f.write(json.dumps({"classes": classes}))
    return path


def capture(binary, env, kubectl, policy, klass_label):
    """Create node-a (labelled for the policy's class), run the agent one cycle, return (labels, fingerprint)."""
    doc = base_node("node-a", klass_label)
    subprocess.run([kubectl, "--kubeconfig", env["NP_KUBE_KUBECONFIG"], "create", "-f", "-"], input=json.dumps(doc),
                   capture_output=True, text=True, check=True)
    p = subprocess.run([binary, "run", "--node-name", "node-a", "--kubeconfig", env["NP_KUBE_AGENT_KUBECONFIG"],
                        "--policy", policy, "--cycles", "1", "--poll", "0.3", "--settle", "0"],
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise RuntimeError(f"agent: {p.stderr[-1500:]}")
    nd = json.loads(subprocess.run([kubectl, "--kubeconfig", env["NP_KUBE_KUBECONFIG"], "get", "node", "node-a", "-o",
                                    "json"], capture_output=True, text=True, check=True).stdout)
    labels = {k: v for k, v in nd["metadata"]["labels"].items() if k.startswith(P + "/")}
    return labels, json.loads(nd["metadata"]["annotations"][f"{P}/fingerprint"])


def check_derivation(labels, fp):
    """[] when derived_labels() of the agent's own annotation equals the labels the agent wrote, else the differences."""
    want = derived_labels([tuple(c) for c in fp["components"]], labels.get(f"{P}/class"), fp["state"])
    return sorted(set(want.items()) ^ set(labels.items()))


def replace(components, comp, key, value):
    """@components with (comp, key)'s value set to @value (added when absent, removed when None)."""
    out = [list(c) for c in components if not (c[0] == comp and c[1] == key)]
    if value is not None:
        out.append([comp, key, value])
    return sorted(out)


def bump(release):
    """The next patch release, as a kernel update brings: 6.18.44-fc-v1300 -> 6.18.45-fc-v1300."""
    m = re.match(r"^(\d+\.\d+\.)(\d+)(.*)$", release)
    return f"{m.group(1)}{int(m.group(2)) + 1}{m.group(3)}" if m else release + ".1"


def variant(name, klass, components, state, extra_labels=None):
    """A Node as the agent leaves it: the captured Node with the agent's labels and annotation for @components."""
    n = base_node(name, extra_labels)
    n["metadata"]["labels"].update(derived_labels(components, klass, state))
    fp = {"hash": bundle_hash(components), "state": state, "components": [list(c) for c in components]}
    n["metadata"]["annotations"][f"{P}/fingerprint"] = json.dumps(fp, separators=(",", ":"))
    return n


def create(env, nodes, workers=8):
    """POST every Node as the admin, @workers connections at once. Returns the errors (empty when all were created)."""
    url = urllib.parse.urlsplit(env["NP_KUBE_SERVER"])
    ctx = ssl.create_default_context(cafile=env["NP_KUBE_CA"])
    hdr = {"Authorization": "Bearer " + env["NP_KUBE_ADMIN_TOKEN"], "Content-Type": "application/json"}
    errors, lock, it = [], threading.Lock(), iter(nodes)

    def worker():
        c = http.client.HTTPSConnection(url.hostname, url.port, context=ctx, timeout=60)
        while True:
            with lock:
                n = next(it, None)
            if n is None:
                break
            c.request("POST", "/api/v1/nodes", json.dumps(n), hdr)
            r = c.getresponse()
            body = r.read()
            if r.status != 201:
                with lock:
                    errors.append(f"{n['metadata']['name']}: {r.status} {body[:200]!r}")
        c.close()

    ts = [threading.Thread(target=worker) for _ in range(workers)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return errors


def delete_all(env, kubectl, selector):
    subprocess.run([kubectl, "--kubeconfig", env["NP_KUBE_KUBECONFIG"], "delete", "nodes", "-l", selector, "--wait=false"],
                   capture_output=True, text=True, timeout=600)

