#!/usr/bin/env python3
"""test_agent.py - node-in-a-box, agent group: issue 6 end to end. `nodeprint run` runs in the guest
(Debian's kernel under QEMU, emulated NVMe, scsi_debug + dm-multipath), a real kube-apiserver behind the
fault proxy (tests/kube/server.sh) on the host; the guest reaches the proxy only through QEMU user
networking (guestfwd 10.0.2.100:6443 -> tests/vm/fwd.py -> 127.0.0.1:PORT; the kubeconfig's tls-server-name is
`localhost`, a name the proxy's certificate carries). The agent's token is a real bound service-account
token (TokenRequest, bound to a Pod on the guest's Node) under the shipped RBAC. kubectl of the pinned
release on the host is the independent client.

Faults are injected for real: the NVMe controller's SMART critical warning from the host (QMP qom-set),
multipath path failures in the guest's kernel (`fail_path` / `reinstate_path` messages to the map, 20
flaps: the DM_TARGET_MSG ioctl of `dmsetup message`, from a resident injector, INJECTOR below), an I/O held by scsi_debug's delay under a CSI block volume whose PV, PVC and Pod exist on
the server. Checked: the right labels, taints, conditions and Events appear; the kubelet's condition,
another owner's label, annotation and taint stay as they were; the Node's fingerprint label equals the
guest's own `nodeprint inspect`; a restart of the agent writes nothing (request log) and leaves the
Node's resourceVersion unchanged; `kubectl describe node` shows it all.

Latency (issue 6 benchmark): from the host's injection of each path transition to the agent's
Event request in the server's request log, p50/p99 over 40 transitions (20 flaps). The host-side
measure includes the message to the guest and its ioctl (the injector's round trip is measured and
printed too; NIB_INJECT=dmsetup: a guest shell command running dmsetup, as before). The
figures go to the TAP comments and to $NP_TEST_LOG/vm-agent-latency.json (read by `make bench`).
"""
import base64
import contextlib
import json
import os
import re
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nib  # noqa: E402

NODE = "nib-node"
PREFIX = "nodeprint.io"
FLAPS = int(os.environ.get("NIB_FLAPS", "20"))
SD = "/sys/bus/pseudo/drivers/scsi_debug"
SERVER = nib.REPO / "tests" / "kube" / "server.sh"
LOG_DIR = Path(os.environ.get("NP_TEST_LOG") or nib.REPO / "build" / "test-logs")
POLICY = """apiVersion: nodeprint.io/v1
kind: Policy
events: {burst: 100, perMinute: 60}
health:
  block: {stallSeconds: 3}
"""
FOREIGN_TAINT = {"key": "dedicated", "value": "storage", "effect": "NoSchedule"}
READY = {"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status",
         "lastHeartbeatTime": "2026-11-29T18:00:00Z", "lastTransitionTime": "2026-11-29T17:00:00Z"}


class Cluster:
    """The host side: the test API server's env, kubectl, the control API (request log)."""

    def __init__(self, env):
        self.env = env
        self.ctx = ssl.create_default_context(cafile=env["NP_KUBE_CA"])

    def kubectl(self, *args, input=None, check=True):
        p = subprocess.run(["kubectl", "--kubeconfig", self.env["NP_KUBE_KUBECONFIG"], *args], input=input,
                           capture_output=True, text=True, timeout=60)
        if check and p.returncode != 0:
            raise nib.GuestError(f"kubectl {' '.join(args)}: {p.stderr.strip()}")
        return p.stdout

    def create(self, obj):
        return json.loads(self.kubectl("create", "-o", "json", "-f", "-", input=json.dumps(obj)))

    def get(self, *what):
        return json.loads(self.kubectl("get", *what, "-o", "json"))

    def _req(self, base, method, path, body=None, ctype="application/json"):
        req = urllib.request.Request(base + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": "Bearer " + self.env["NP_KUBE_ADMIN_TOKEN"],
                                              "Content-Type": ctype})
        with urllib.request.urlopen(req, context=self.ctx, timeout=10) as r:
            data = r.read()
            return json.loads(data) if data else None

    def api(self, method, path, body=None, ctype="application/json"):
        return self._req(self.env["NP_KUBE_SERVER"], method, path, body, ctype)

    def requests(self, since=0):
        """Request log entries with seq > @since (the agent's only: its service-account user)."""
        log = self._req(self.env["NP_KUBE_CONTROL_URL"], "GET", f"/requests?since={since}")
        user = self.env["NP_KUBE_AGENT_USER"]
        return log["last_seq"], [r for r in log["requests"] if r["user"] == user]

    def events(self, **sel):
        fs = ",".join(f"{k}={v}" for k, v in sel.items())
        return self.get("events", "-A", "--field-selector", fs)["items"]


def ts(rfc3339):
    """Request log time (RFC 3339, nanoseconds, UTC) -> Unix seconds."""
    head, _, frac = rfc3339.rstrip("Z").partition(".")
    return datetime.fromisoformat(head + "+00:00").timestamp() + (float("0." + frac) if frac else 0.0)


def wait(what, fn, timeout=90, step=0.5):
    """Poll @fn until it returns a true value; returns it, or raises GuestError naming @what."""
    end = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > end:
            raise nib.GuestError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(step)


def own_taints(node):
    return sorted((t["key"], t["effect"]) for t in node["spec"].get("taints", []) if t["key"].startswith(PREFIX + "/"))


def cond(node, ctype):
    return next((c for c in node["status"].get("conditions", []) if c["type"] == ctype), None)


def event_count(items, reason):
    return sum((e.get("series") or {}).get("count") or e.get("count") or 1 for e in items if e["reason"] == reason)


def is_event_write(r):
    return r["method"] in ("POST", "PATCH", "PUT") and "/events" in r["path"]


# ---------------------------------------------------------------------------------------------
# set-up: objects on the server, the guest's network, kubeconfig, policy, kubelet tree, the agent

def create_node(k):
    """The guest's Node as a kubelet (Ready) and another owner (a label, an annotation, a taint) left it."""
    k.create({"apiVersion": "v1", "kind": "Node", "metadata": {
        "name": NODE, "labels": {"kubernetes.io/hostname": NODE, "team": "storage"},
        "annotations": {"example.com/owner": "platform"}}, "spec": {"taints": [FOREIGN_TAINT]}})
    k.api("PATCH", f"/api/v1/nodes/{NODE}/status", {"status": {"conditions": [READY]}}, "application/merge-patch+json")


def cluster_objects(k):
    """A Node as a kubelet and another owner left it, and a Pod whose PVC is bound to a CSI block PV."""
    create_node(k)
    k.create({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv-nib"},
              "spec": {"capacity": {"storage": "16Mi"}, "accessModes": ["ReadWriteOnce"], "volumeMode": "Block",
                       "csi": {"driver": "nib.csi.example.com", "volumeHandle": "mpatha"},
                       "claimRef": {"kind": "PersistentVolumeClaim", "namespace": "default", "name": "data-nib"}}})
    k.create({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data-nib", "namespace": "default"},
              "spec": {"accessModes": ["ReadWriteOnce"], "volumeMode": "Block", "volumeName": "pv-nib",
                       "resources": {"requests": {"storage": "16Mi"}}}})
    pod = k.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "app-nib", "namespace": "default"},
                    "spec": {"nodeName": NODE, "containers": [{"name": "app", "image": "busybox",
                                                               "volumeDevices": [{"name": "data", "devicePath": "/dev/xvda"}]}],
                             "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data-nib"}}]}})
    return pod["metadata"]["uid"]


def kubeconfig(env):
    ca = base64.b64encode(Path(env["NP_KUBE_CA"]).read_bytes()).decode()
    token = Path(env["NP_KUBE_AGENT_TOKEN_FILE"]).read_text().strip()
    return json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "nib",
        "clusters": [{"name": "host", "cluster": {"server": "https://10.0.2.100:6443", "tls-server-name": "localhost",
                                                  "certificate-authority-data": ca}}],
        "users": [{"name": "agent", "user": {"token": token}}],
        "contexts": [{"name": "nib", "context": {"cluster": "host", "user": "agent"}}]})


def guest_net(g, env, policy):
    """The guest's way to the API server (Devices.api_net's NIC as 10.0.2.15/24), its kubeconfig and
    @policy in the share (/share/kubeconfig, /share/policy.yaml: what start_agent() passes)."""
    g.out("modprobe virtio_net; i=0; while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; "
          "ip addr add 10.0.2.15/24 dev eth0 && ip link set eth0 up")
    (g.share / "kubeconfig").write_text(kubeconfig(env))
    (g.share / "policy.yaml").write_text(policy)


def guest_setup(g, env, pod_uid):
    g.out("/nib/setup.sh nvme multipath")
    g.out("dd if=/dev/mapper/mpatha of=/dev/null bs=4k count=16 iflag=direct")
    guest_net(g, env, POLICY)
    # the kubelet's layout of a CSI block volume: the device bind-mounted on a file under the pod,
    # vol_data.json under the plugin folder (pkg/volume/csi, csi_block.go)
    vol = f"/var/lib/kubelet/pods/{pod_uid}/volumeDevices/kubernetes.io~csi"
    data = "/var/lib/kubelet/plugins/kubernetes.io/csi/volumeDevices/pv-nib/data"
    vd = json.dumps({"driverName": "nib.csi.example.com", "volumeHandle": "mpatha", "specVolID": "pv-nib",
                     "nodeName": NODE, "volumeLifecycleMode": "Persistent"})
    g.out(f"mkdir -p {vol} {data} && touch {vol}/pv-nib && mount --bind /dev/mapper/mpatha {vol}/pv-nib && "
          f"echo '{vd}' > {data}/vol_data.json")


def start_agent(g, run, poll=2):
    """Start the agent in the guest; its log goes to /share/agent-RUN.log, its exit code to /share/agent-RUN.rc."""
    g.out(f"rm -f /share/agent-{run}.rc; (setsid nodeprint run --node-name {NODE} --kubeconfig /share/kubeconfig "
          f"--policy /share/policy.yaml --poll {poll} --smart-interval 2 --settle 5 --log-level debug "
          f">/share/agent-{run}.log 2>&1; echo $? > /share/agent-{run}.rc) </dev/null >/dev/null 2>&1 & "
          f"sleep 0.3; pidof nodeprint > /tmp/agent.pid")


def agent_log(g, run):
    try:
        return (g.share / f"agent-{run}.log").read_text(errors="replace")
    except OSError:
        return ""


def cycles(g, run):
    return agent_log(g, run).count('msg="cycle"') + agent_log(g, run).count("msg=cycle ")


# ---------------------------------------------------------------------------------------------
# scenarios

def baseline(tap, g, k, ctx):
    node = wait("the agent's first labels and conditions",
                lambda: (n := k.get("node", NODE)) and f"{PREFIX}/bundle" in n["metadata"].get("labels", {})
                and cond(n, "NVMeHealthy") and n, timeout=120)
    rep = g.inspect()
    labels = node["metadata"]["labels"]
    tap.eq(labels[f"{PREFIX}/bundle"], rep["fingerprint"]["hash"],
           "label bundle equals the guest's own `nodeprint inspect` fingerprint hash")
    tap.eq(labels.get(f"{PREFIX}/kernel"), g.out("uname -r").strip(), "label kernel equals the guest's uname -r")
    ann = node["metadata"]["annotations"].get(f"{PREFIX}/fingerprint", "")
    tap.ok(0 < len(ann) <= 8192 and json.loads(ann)["hash"] == rep["fingerprint"]["hash"],
           "annotation fingerprint: compact JSON of at most 8 KiB with the same hash", ann[:300])
    nvme_models = [c.get("model") for c in rep["nvme"]["controllers"]]
    tap.ok(any(key.endswith(".model") and labels[key].startswith("QEMU") for key in labels if key.startswith(f"{PREFIX}/nvme")),
           f"a label names the NVMe model ({nvme_models})", labels)
    tap.eq([(c, cond(node, c)["status"]) for c in ("NVMeHealthy", "MultipathHealthy", "VolumePathsHealthy")],
           [("NVMeHealthy", "True"), ("MultipathHealthy", "True"), ("VolumePathsHealthy", "True")],
           "conditions NVMeHealthy, MultipathHealthy, VolumePathsHealthy are True on a healthy guest")
    tap.eq(own_taints(node), [], "no nodeprint taint on a healthy guest")
    vols = [(v.get("pv_name"), v.get("pod_uid"), v.get("device")) for v in rep["volumes"]["volumes"]]
    tap.eq(vols, [("pv-nib", ctx["pod_uid"], "dm-0")], "the guest's report maps the CSI block volume pv-nib to dm-0")


def nvme_critical(tap, g, k, ctx):
    _, reqs = k.requests()
    seq0 = ctx["seq"] = max([0] + [r["seq"] for r in reqs])
    t0 = time.time()
    g.qmp.execute("qom-set", path="/machine/peripheral/nvme0", property="smart_critical_warning", value=5)
    # the agent writes the taint, then nodes/status: wait for both
    node = wait("taint nvme-critical and NVMeHealthy False", lambda: (n := k.get("node", NODE)) and
                (f"{PREFIX}/nvme-critical", "NoSchedule") in own_taints(n) and
                (cond(n, "NVMeHealthy") or {}).get("status") == "False" and n, timeout=60)
    tap.ok((f"{PREFIX}/nvme-critical", "NoSchedule") in own_taints(node),
           "critical warning 5 (spare + reliability) -> taint nodeprint.io/nvme-critical:NoSchedule", own_taints(node))
    c = cond(node, "NVMeHealthy")
    tap.ok(c and c["status"] == "False" and "nvme0" in c["message"],
           "condition NVMeHealthy False, the message names nvme0", c)
    ev = wait("Event NVMeCriticalWarning", lambda: k.events(reason="NVMeCriticalWarning"), timeout=30)
    tap.ok(ev[0]["involvedObject"]["kind"] == "Node" and ev[0]["involvedObject"]["name"] == NODE and ev[0]["type"] == "Warning",
           "Event NVMeCriticalWarning (Warning) on the Node", ev[0])
    _, reqs = k.requests(seq0)
    writes = [r for r in reqs if r["method"] != "GET" and r["path"] == f"/api/v1/nodes/{NODE}"]
    if writes:
        ctx["nvme_latency_s"] = ts(writes[0]["time"]) - t0
        print(f"# latency: SMART critical warning set (QMP) -> taint written: {ctx['nvme_latency_s']:.2f} s "
              f"(SMART read every 2 s, cycle every 2 s)", flush=True)


CLOCK_CHECK = """import os, time
r = os.open('/dev/kmsg', os.O_RDONLY | os.O_NONBLOCK)
os.lseek(r, 0, os.SEEK_END)
w = os.open('/dev/kmsg', os.O_WRONLY)
a = time.clock_gettime(time.CLOCK_MONOTONIC)
os.write(w, b'nib: clock check\\n')
b = time.clock_gettime(time.CLOCK_MONOTONIC)
end = b + 10
while time.clock_gettime(time.CLOCK_MONOTONIC) < end:
    try:
        rec = os.read(r, 8192).decode(errors='replace')
    except BlockingIOError:
        time.sleep(0.01)
        continue
    if 'nib: clock check' in rec:
        print(a, b, int(rec.split(',')[2]) / 1e6)
        break
"""


# The path transitions' injector (NIB_INJECT=ioctl, the default): a resident python3 in the guest that reads
# "MAP MESSAGE" lines from the virtio-serial port nib.inject and sends each to the map with the DM_TARGET_MSG
# ioctl, as `dmsetup message MAP 0 MESSAGE` does (include/uapi/linux/dm-ioctl.h: struct dm_ioctl, 312 bytes,
# then struct dm_target_msg), answering "ok" or "err ERRNO". The guest's python has no struct or socket module.
# NIB_INJECT=dmsetup runs `dmsetup message` through the guest's shell instead: the host-side figure then also
# holds a guest command (the shell, its 9p output files) and an exec of dmsetup under TCG.
INJECT = os.environ.get("NIB_INJECT", "ioctl")
INJECTOR = """import fcntl, os
DM_TARGET_MSG = 0xc138fd0e            # _IOWR(0xfd, 14, struct dm_ioctl)
os.nice(19)     # what runs after the ioctl (its answer, the next read) must not delay the kernel's work or the agent
port = next('/dev/' + p for p in os.listdir('/sys/class/virtio-ports')
            if open('/sys/class/virtio-ports/' + p + '/name').read().strip() == 'nib.inject')
ctl, io = os.open('/dev/mapper/control', os.O_RDWR), os.open(port, os.O_RDWR)
u32 = lambda v: v.to_bytes(4, 'little')
buf = b''
while True:
    data = os.read(io, 4096)
    if not data:
        break
    buf += data
    while b'\\n' in buf:
        line, buf = buf.split(b'\\n', 1)
        name, msg = line.split(b' ', 1)
        if msg == b'ping':                                              # the channel's round trip alone
            os.write(io, b'ok\\n')
            continue
        tmsg = bytes(8) + msg + b'\\0'                                  # sector 0, the message
        hdr = b''.join(map(u32, (4, 0, 0, 312 + len(tmsg), 312, 0, 0, 0, 0, 0))) + bytes(8) + \\
            name.ljust(128, b'\\0') + bytes(129 + 7)                    # version 4.0.0, sizes; dev 0, name, uuid
        try:
            fcntl.ioctl(ctl, DM_TARGET_MSG, bytearray(hdr + tmsg))
            os.write(io, b'ok\\n')
        except OSError as e:
            os.write(io, b'err %d\\n' % e.errno)
"""


class Injector:
    """The host's end of INJECTOR: message(map, text) sends one message and returns when the guest's
    ioctl has returned (GuestError when it failed)."""

    def __init__(self, g):
        (g.share / "inject.py").write_text(INJECTOR)
        self.s = g.serial_port("nib.inject")
        g.out("(setsid python3 -I -S /share/inject.py </dev/null >/share/inject.log 2>&1 &)")
        self.buf = b""

    def send(self, name, text):
        self.s.sendall(f"{name} {text}\n".encode())

    def answer(self, timeout=30):
        self.s.settimeout(timeout)
        while b"\n" not in self.buf:
            data = self.s.recv(4096)
            if not data:
                raise nib.GuestError("the injector closed its port")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        if line != b"ok":
            raise nib.GuestError(f"injector: {line.decode(errors='replace')}")

    def close(self):
        self.s.close()


def kmsg_clock_offset_ms(g):
    """printk's stamp minus the guest's CLOCK_MONOTONIC, in ms (it differs per boot under TCG: tens of ms either
    way): a record written to /dev/kmsg between two clock reads, read back. The agent's latency log measures
    record -> wake-up across these two clocks. None when not measurable."""
    (g.share / "clock_check.py").write_text(CLOCK_CHECK)
    try:
        a, b, stamp = map(float, g.out("python3 -I -S /share/clock_check.py").split())
    except (nib.GuestError, ValueError):
        return None
    return round((stamp - (a + b) / 2) * 1000, 3)


def path_flaps(tap, g, k, ctx):
    mm = g.out("dmsetup table mpatha").split()[-4]
    offsets = [kmsg_clock_offset_ms(g)]
    rtt, inj_rtt = [], []
    for _ in range(5):
        t = time.monotonic()
        g.out("true")
        rtt.append(time.monotonic() - t)
    inj = Injector(g) if INJECT == "ioctl" else None
    for _ in range(5 if inj else 0):
        t = time.monotonic()
        inj.send("-", "ping")
        inj.answer()
        inj_rtt.append(time.monotonic() - t)
    lat = {"PathFailed": [], "PathReinstated": []}
    in_order = []                       # the same, in the order injected: paired with the agent's log
    server_ms = []                      # the fault proxy's time for each Event request (to its response's status)
    last, _ = k.requests()
    for i in range(FLAPS):
        for reason, msg in (("PathFailed", "fail_path"), ("PathReinstated", "reinstate_path")):
            t0 = time.time()
            if inj:
                inj.send("mpatha", f"{msg} {mm}")
            else:
                g.out(f"dmsetup message mpatha 0 {msg} {mm}")
            hit = wait(f"{reason} event request (flap {i + 1})",
                       lambda: [r for r in k.requests(last)[1] if is_event_write(r)], timeout=30, step=0.05)
            lat[reason].append(ts(hit[0]["time"]) - t0)
            in_order.append(lat[reason][-1])
            if inj:
                inj.answer()            # long answered by now: the Event came after the ioctl
            server_ms.append(hit[0].get("duration_ms", -1))
            time.sleep(1.0)             # the cycle the event woke writes too: none of it counts for the next
            last, _ = k.requests()
    items = wait("all flap events", lambda: (e := k.events(**{"involvedObject.name": NODE})) and
                 event_count(e, "PathReinstated") >= FLAPS and e, timeout=30)
    # PathFailed comes from the kernel log (per path, at once) and from the multipath-degraded finding
    # (per map, at a cycle that saw the failed path): count the kernel's
    kern = [e for e in items if e["reason"] == "PathFailed" and f"Failing path {mm}" in e["message"]]
    tap.ok((event_count(kern, "PathFailed"), event_count(items, "PathReinstated")) == (FLAPS, FLAPS),
           f"{FLAPS} flaps of path {mm}: {FLAPS} PathFailed (`Failing path {mm}`) and {FLAPS} PathReinstated "
           "on the Node, aggregated by count", [(e["reason"], e.get("count"), e["message"]) for e in items])
    tap.ok(len(kern) == 1 and kern[0]["involvedObject"].get("uid") == k.get("node", NODE)["metadata"]["uid"],
           "one Event object for the path's failures, involvedObject.uid = the Node's uid", kern)
    node = wait("path-flapping", lambda: (n := k.get("node", NODE)) and
                (c := cond(n, "MultipathHealthy")) and c["status"] == "False" and n, timeout=30)
    c = cond(node, "MultipathHealthy")
    tap.ok(c["status"] == "False" and "flap" in (c["reason"] + c["message"]).lower(),
           "condition MultipathHealthy False after the flaps (path flapping)", c)
    ev = wait("Event PathFlapping", lambda: k.events(reason="PathFlapping"), timeout=30)
    tap.ok(ev[0]["involvedObject"]["name"] == NODE, "Event PathFlapping on the Node", ev[0])
    allv = sorted(lat["PathFailed"] + lat["PathReinstated"])
    q = statistics.quantiles(allv, n=100, method="inclusive")
    out = {"transitions": len(allv), "p50_s": round(statistics.median(allv), 3), "p99_s": round(q[98], 3),
           "max_s": round(allv[-1], 3), "guest_command_rtt_median_s": round(statistics.median(rtt), 3),
           "path_failed_p50_s": round(statistics.median(lat["PathFailed"]), 3),
           "path_reinstated_p50_s": round(statistics.median(lat["PathReinstated"]), 3),
           "nvme_critical_to_taint_s": round(ctx.get("nvme_latency_s", -1), 2),
           "kmsg_clock_offset_ms": offsets + [kmsg_clock_offset_ms(g)],
           "transitions_ms": [round(v * 1000, 1) for v in in_order], "server_ms": server_ms, "injector": INJECT,
           "injector_rtt_median_s": round(statistics.median(inj_rtt), 4) if inj_rtt else None}
    if inj:
        inj.close()
    ctx["latency"] = out
    print(f"# latency: path transition injected (host) -> Event request (server log), {len(allv)} transitions: "
          f"p50 {out['p50_s'] * 1000:.0f} ms, p99 {out['p99_s'] * 1000:.0f} ms, max {out['max_s'] * 1000:.0f} ms; "
          f"guest command round trip alone {out['guest_command_rtt_median_s'] * 1000:.0f} ms (median)", flush=True)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    (LOG_DIR / "vm-agent-latency.json").write_text(json.dumps(out, indent=1) + "\n")
    tap.ok(out["p99_s"] < 5, "every transition reached the API within 5 s (p99; the 1 s target is for `make bench`)", out)


def kmsg_event_retry(tap, g, k, ctx):
    """A kernel-log Event the API refuses (500 for one whole retry series) is kept and sent at a later cycle."""
    mm = g.out("dmsetup table mpatha").split()[-4]
    kern = lambda: [e for e in k.events(**{"involvedObject.name": NODE}) if e["reason"] == "PathFailed"
                    and f"Failing path {mm}" in e["message"]]
    before = event_count(kern(), "PathFailed")
    k._req(k.env["NP_KUBE_CONTROL_URL"], "POST", "/faults",
           {"type": "500", "count": 5, "path": "/api/v1/namespaces/default/events", "user": k.env["NP_KUBE_AGENT_USER"]})
    g.out(f"dmsetup message mpatha 0 fail_path {mm}")
    items = wait("the refused PathFailed sent later", lambda: (e := kern()) and event_count(e, "PathFailed") > before and e,
                 timeout=60)
    g.out(f"dmsetup message mpatha 0 reinstate_path {mm}")
    k._req(k.env["NP_KUBE_CONTROL_URL"], "DELETE", "/faults")
    tap.ok(event_count(items, "PathFailed") == before + 1 and "kept for the next cycle" in agent_log(g, 1),
           "a PathFailed the API refused (500 x5) is kept and sent at the next cycle, once",
           (before, event_count(items, "PathFailed"), agent_log(g, 1)[-600:]))


def volume_stall(tap, g, k, ctx):
    g.out(f"until echo 2000 > {SD}/delay 2>/dev/null; do sleep 0.2; done")
    g.out("dd if=/dev/mapper/mpatha of=/dev/null bs=4k count=1 skip=77 iflag=direct 2>/dev/null & echo $! > /tmp/dd.pid")
    try:
        want = {("PersistentVolume", "", "pv-nib"), ("PersistentVolumeClaim", "default", "data-nib"),
                ("Pod", "default", "app-nib"), ("Node", "", NODE)}
        items = wait("VolumePathStall on PV, PVC, Pod and Node",
                     lambda: (e := k.events(reason="VolumePathStall")) and
                     {(x["involvedObject"]["kind"], x["involvedObject"].get("namespace", ""), x["involvedObject"]["name"])
                      for x in e} >= want and e, timeout=60)
        got = {(x["involvedObject"]["kind"], x["involvedObject"].get("namespace", ""), x["involvedObject"]["name"]) for x in items}
        tap.ok(got >= want, "stall under the volume: VolumePathStall on the PV, its PVC, the Pod and the Node", sorted(got))
        pod_ev = [x for x in items if x["involvedObject"]["kind"] == "Pod"]
        tap.ok(pod_ev and pod_ev[0]["involvedObject"]["uid"] == ctx["pod_uid"] and "pv-nib" in pod_ev[0]["message"],
               "the Pod's Event carries its uid and names the volume", pod_ev[:1])
        ke = k.kubectl("events", "-n", "default", "--for", "pod/app-nib")
        tap.ok("VolumePathStall" in ke, "`kubectl events --for pod/app-nib` finds it", ke)
        # the Events go out when the stall watch sees it; the condition with the cycle that kicks
        node = wait("VolumePathsHealthy False", lambda: (n := k.get("node", NODE)) and
                    (c := cond(n, "VolumePathsHealthy")) and c["status"] == "False" and n, timeout=15)
        c = cond(node, "VolumePathsHealthy")
        tap.ok(c and c["status"] == "False" and "dm-0" in c["message"],
               "condition VolumePathsHealthy False during the stall, naming dm-0", c)
    finally:
        g.out("while kill -0 $(cat /tmp/dd.pid) 2>/dev/null; do sleep 0.5; done", timeout=60)
        g.out(f"until echo 0 > {SD}/delay 2>/dev/null; do sleep 0.2; done")
    node = wait("VolumePathsHealthy True again", lambda: (n := k.get("node", NODE)) and
                (c := cond(n, "VolumePathsHealthy")) and c["status"] == "True" and n, timeout=60)
    tap.eq(cond(node, "VolumePathsHealthy")["reason"], "AllChecksPassed",
           "condition VolumePathsHealthy True again once the delayed read completed")


def stall_between_cycles(tap, g, k, ctx):
    """--poll 60: a stall under the volume is published by the stall watch, seconds after stallSeconds (3), not at
    the next cycle a minute later; the cycle it kicks writes the condition and sends none of its Events again."""
    start_agent(g, 3, poll=60)
    wait("the first cycle of the --poll 60 agent", lambda: cycles(g, 3) >= 1, timeout=60)
    mine = lambda: {e["metadata"]["name"]: e for e in k.events(reason="VolumePathStall")}
    before = set(mine())
    last, _ = k.requests()
    n_cycles = cycles(g, 3)
    g.out(f"until echo 2000 > {SD}/delay 2>/dev/null; do sleep 0.2; done")
    t0 = time.time()
    g.out("dd if=/dev/mapper/mpatha of=/dev/null bs=4k count=1 skip=99 iflag=direct 2>/dev/null & echo $! > /tmp/dd.pid")
    try:
        hit = wait("the first VolumePathStall request", lambda: [r for r in k.requests(last)[1]
                                                                if r["method"] == "POST" and "/events" in r["path"]],
                   timeout=30, step=0.1)
        lat = ts(hit[0]["time"]) - t0
        ctx["stall_latency_s"] = lat
        print(f"# latency: I/O held (host starts dd) -> first stall Event request: {lat:.2f} s "
              f"(stallSeconds 3, --poll 60)", flush=True)
        # its log line follows the last of its Events
        log = wait("the agent's log line of the stall watch",
                   lambda: 'msg="stall seen between cycles"' in (t := agent_log(g, 3)) and t, timeout=30)
        seen = log.find('msg="stall seen between cycles"')
        tap.ok(3.0 <= lat < 8.0 and seen > 0 and log[:seen].count('msg="cycle"') == n_cycles,
               f"--poll 60: the stall Event reached the API {lat:.1f} s after the I/O was held (stallSeconds 3), "
               "from the stall watch, with no cycle in between", log[-1500:])
        wait("VolumePathsHealthy False (the kicked cycle)", lambda: (n := k.get("node", NODE)) and
             (c := cond(n, "VolumePathsHealthy")) and c["status"] == "False", timeout=30)
        status = [r for r in k.requests(last)[1] if r["method"] == "PATCH" and r["path"] == f"/api/v1/nodes/{NODE}/status"]
        tap.ok(status and ts(status[0]["time"]) - t0 < 15,
               "the cycle the stall kicked wrote VolumePathsHealthy False within 15 s (--poll 60)", status[:1])
        new = {n: e for n, e in mine().items() if n not in before}
        dm0 = sorted((e["involvedObject"]["kind"], e["involvedObject"]["name"], e.get("count")) for e in new.values()
                     if e["message"].startswith("dm-0: "))
        tap.eq(dm0, [("Node", NODE, 1), ("PersistentVolume", "pv-nib", 1), ("PersistentVolumeClaim", "data-nib", 1),
                     ("Pod", "app-nib", 1)],
               "dm-0's stall: one Event each on the Node, the PV, its claim and the Pod, count 1 after the kicked cycle")
        held = [float(m) for e in new.values() for m in re.findall(r"none completed for ([\d.]+) s", e["message"])]
        tap.ok(held and all(3.0 <= h < 8.0 for h in held), "their messages say 3 s to 8 s without a completion",
               [e["message"] for e in new.values()])
    finally:
        g.out("while kill -0 $(cat /tmp/dd.pid) 2>/dev/null; do sleep 0.5; done", timeout=60)
        g.out(f"until echo 0 > {SD}/delay 2>/dev/null; do sleep 0.2; done")
        g.sh("kill -TERM $(pidof nodeprint)")


def describe(tap, g, k, ctx):
    text = k.kubectl("describe", "node", NODE)
    (LOG_DIR / "vm-agent-describe-node.txt").write_text(text)
    node = k.get("node", NODE)
    h = node["metadata"]["labels"][f"{PREFIX}/bundle"]
    for want, what in ((f"{PREFIX}/bundle={h}", "the bundle label"), (f"{PREFIX}/fingerprint:", "the fingerprint annotation"),
                       (f"{PREFIX}/nvme-critical:NoSchedule", "the nvme-critical taint"),
                       ("NVMeHealthy", "the NVMeHealthy condition"), ("dedicated=storage:NoSchedule", "the other owner's taint"),
                       ("PathFlapping", "the PathFlapping Event (found by the Node's uid)")):
        tap.ok(want in text, f"kubectl describe node shows {what}", text[-2500:])
    text = k.kubectl("describe", "pod", "-n", "default", "app-nib")
    tap.ok("VolumePathStall" in text, "kubectl describe pod app-nib shows the VolumePathStall Event", text[-1500:])


def foreign_kept(tap, g, k, ctx):
    node = k.get("node", NODE)
    md = node["metadata"]
    tap.eq((md["labels"].get("team"), md["annotations"].get("example.com/owner")), ("storage", "platform"),
           "another owner's label and annotation are unchanged")
    tap.ok(FOREIGN_TAINT in node["spec"]["taints"], "another owner's taint is kept", node["spec"]["taints"])
    tap.eq(cond(node, "Ready"), READY, "the kubelet's Ready condition is unchanged, timestamps included")


def restart(tap, g, k, ctx):
    g.out("kill -TERM $(cat /tmp/agent.pid); i=0; while [ ! -s /share/agent-1.rc ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done")
    tap.eq((g.share / "agent-1.rc").read_text().strip(), "0", "SIGTERM: the agent exits 0")
    before = k.get("node", NODE)
    last, _ = k.requests()
    start_agent(g, 2)
    wait("5 cycles of the restarted agent", lambda: cycles(g, 2) >= 5, timeout=90)
    _, reqs = k.requests(last)
    writes = [f"{r['method']} {r['path']}" for r in reqs if r["method"] != "GET"]
    tap.eq(writes, [], "restart: no write in 5 cycles (request log)")
    after = k.get("node", NODE)
    tap.ok(after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"],
           "restart: the Node's resourceVersion is unchanged (labels, taints, conditions all as they were)",
           json.dumps({"before": before["status"]["conditions"], "after": after["status"]["conditions"]}, indent=1))
    g.sh("kill -TERM $(cat /tmp/agent.pid)")


@contextlib.contextmanager
def api_server(tap, group):
    """The test API server (tests/kube/server.sh) with the agent's token bound to NODE, kubectl of the pinned
    release on PATH; yields (env, Cluster, proxy port) and always stops it. A server that does not start is a
    TAP failure and ends the group."""
    with tempfile.TemporaryDirectory() as tmp:
        sdir = os.path.join(tmp, "server")
        env_run = dict(os.environ, NP_KUBE_AGENT_NODE=NODE)
        p = subprocess.run([str(SERVER), "start", sdir], capture_output=True, text=True, timeout=3600, env=env_run)
        if p.returncode != 0:
            tap.fail(f"{group}: test API server starts", p.stderr[-3000:])
            tap.finish()
        try:
            env = dict(ln.strip().split("=", 1) for ln in open(os.path.join(sdir, "env")) if "=" in ln)
            os.environ["PATH"] = env["NP_K8S_BIN"] + os.pathsep + os.environ["PATH"]  # kubectl of the pinned release
            yield env, Cluster(env), env["NP_KUBE_SERVER"].rsplit(":", 1)[1]
        finally:
            subprocess.run([str(SERVER), "stop", sdir], capture_output=True)


def agent_group(group, devices, policy, scenarios, setup=None):
    """A group of agent scenarios (functions taking (tap, guest, Cluster)): the test API server, its Node,
    a guest with @devices(port) (port: the API server's, for Devices.api_net), @policy, setup(g) when given,
    the agent started; every error is a TAP failure with the agent log's tail. Exits with the TAP result."""
    tap = nib.Tap(group)
    with api_server(tap, group) as (env, k, port):
        try:
            create_node(k)
            with nib.Guest(devices(port), name=group) as g:
                guest_net(g, env, policy)
                if setup:
                    setup(g)
                start_agent(g, 1)
                for fn in scenarios:
                    try:
                        fn(tap, g, k)
                    except (nib.GuestError, KeyError, TypeError, IndexError, ValueError, OSError, StopIteration) as e:
                        tap.fail(f"{fn.__name__}: {type(e).__name__}", f"{e}\n--- agent log (tail)\n" +
                                 "\n".join(agent_log(g, 1).splitlines()[-30:]))
        except nib.Missing as e:
            tap.fail(f"{group}: prerequisites", f"node-in-a-box prerequisite missing: {e}")
        except (nib.GuestError, OSError) as e:
            tap.fail(f"{group}: guest or server", f"{type(e).__name__}: {e}")
    tap.finish()


SCENARIOS = [baseline, nvme_critical, path_flaps, kmsg_event_retry, volume_stall, describe, foreign_kept, restart,
             stall_between_cycles]


def main():
    tap = nib.Tap("agent")
    with api_server(tap, "agent") as (env, k, port):
        g = None
        try:
            ctx = {"pod_uid": cluster_objects(k)}
            with nib.Guest(nib.Devices().nvme().api_net(port).serial_port("nib.inject"), name="agent",
                           mem="1024M") as g:
                guest_setup(g, env, ctx["pod_uid"])
                start_agent(g, 1)
                for fn in SCENARIOS:
                    try:
                        fn(tap, g, k, ctx)
                    except (nib.GuestError, KeyError, TypeError, IndexError, ValueError, OSError) as e:
                        tap.fail(f"{fn.__name__}: {type(e).__name__}", f"{e}\n--- agent log (tail)\n" +
                                 "\n".join((agent_log(g, 1) + agent_log(g, 2) + agent_log(g, 3)).splitlines()[-30:]))
                LOG_DIR.mkdir(parents=True, exist_ok=True)
                (LOG_DIR / "vm-agent-guest.log").write_text(agent_log(g, 1) + agent_log(g, 2) + agent_log(g, 3))
                if "latency" in ctx:
                    ctx["latency"]["stall_to_event_s"] = round(ctx.get("stall_latency_s", -1), 2)
                    (LOG_DIR / "vm-agent-latency.json").write_text(json.dumps(ctx["latency"], indent=1) + "\n")
        except nib.Missing as e:
            tap.fail("agent: prerequisites", f"node-in-a-box prerequisite missing: {e}")
        except (nib.GuestError, OSError, subprocess.CalledProcessError) as e:
            tap.fail("agent: guest or server", f"{type(e).__name__}: {e}")
    tap.finish()


if __name__ == "__main__":
    main()
