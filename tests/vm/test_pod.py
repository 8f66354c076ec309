#!/usr/bin/env python3
"""test_pod.py - node-in-a-box, pod group (issue 20): the shipped DaemonSet on a real kubelet inside the
guest. A control plane on the host (tests/cluster/cluster.sh: etcd, kube-apiserver, scheduler,
controller-manager v1.37.2); in the guest (Debian's kernel under QEMU, cgroup v2, emulated NVMe,
scsi_debug + dm-multipath) containerd v2 + runc + kubelet v1.37.2 (tests/vm/guest/node.sh), run from
a read-only 9p share of tests/cluster/build.sh's binaries, registered with a client certificate of
system:node:NODE (tests/node/node.sh files). The guest's only network is QEMU's user network
10.96.0.0/24 with 10.96.0.1:443 - the `kubernetes` Service's ClusterIP - forwarded to the host's
apiserver (what kube-proxy does for that one Service), so manifests/ is applied exactly as shipped:
the Pod finds the apiserver through the in-cluster config. The kubelet's port is forwarded back from
the host for `kubectl logs` and `exec`; the Node is named after the host's hostname, the address the
apiserver dials (as tests/node/node.sh does).

Asserted from the API and from oracles in the guest, not from the agent's word: the Pod Running and
Ready on the guest's Node; the Node's labels = the guest's own `nodeprint inspect` (bundle) and
`nvme id-ctrl` (model, firmware); NVMeHealthy and MultipathHealthy True; inside the Pod (kubectl
exec nodeprint inspect) the SMART page = `nvme smart-log` of the guest and the multipath map's paths
= `dmsetup status`; the kernel log a source that is up (the Pod's /metrics); then a real path failure
(`dmsetup message mpatha 0 fail_path`) -> the PathFailed Event on the Node within 30 s; `kubectl
logs` shows the logfmt log. Times (image import, Pod start, first publish, path failure -> Event) as
`# time:` lines and in $NP_TEST_LOG/vm-pod-times.json. Needs root. TAP output."""
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nib  # noqa: E402
from test_nvme import SMART  # noqa: E402
from test_storage import dm_status, mpath, np_groups  # noqa: E402
sys.path.insert(0, str(nib.REPO / "tests" / "node"))
sys.path.insert(0, str(nib.REPO / "tests"))
from ports import free_port  # noqa: E402 - the tests' one port picker
from test_node import NS, Kube, cond, ready_pod  # noqa: E402  (kubectl of the cluster's env, raising RuntimeError)

ARCHIVE = nib.REPO / "build" / "image" / "nodeprint-0.1.0.oci.tar"
CLUSTER = nib.REPO / "tests" / "cluster" / "cluster.sh"
NODE_SH = nib.REPO / "tests" / "node" / "node.sh"
LOG_DIR = Path(os.environ.get("NP_TEST_LOG") or nib.REPO / "build" / "test-logs")
P = "nodeprint.io"
EVENT_BOUND = 30     # seconds from the injected path failure to the Event on the Node


def wait(what, fn, timeout, step=0.5):
    """Poll @fn until it returns a true value: (value, seconds), or raises GuestError naming @what."""
    t0 = time.monotonic()
    last = None
    while time.monotonic() - t0 < timeout:
        try:
            v = fn()
            if v:
                return v, time.monotonic() - t0
        except (nib.GuestError, RuntimeError, KeyError, IndexError, ValueError) as e:
            last = e
        time.sleep(step)
    raise nib.GuestError(f"{what}: not within {timeout} s (last error: {last})")


@contextlib.contextmanager
def pod_guest(addr, api_port, bindir):
    """The guest, booted; (guest, the host port forwarded to its kubelet). A QEMU that dies while it
    boots (its host forwarding port taken between free_port() and QEMU's bind, on a busy machine) is
    started once more on a new port, its own message logged."""
    for attempt in (1, 2):
        port = free_port(addr)
        devices = nib.Devices().nvme().share("k8sbin", bindir, libs_of=["runc"]).cluster_net(api_port, (addr, port))
        g = nib.Guest(devices, name="pod", mem="2048M")
        try:
            g.__enter__()
        except nib.GuestError as e:
            if attempt == 2:
                raise
            nib.log(f"guest pod did not boot, once more on a new port: {e}")
            continue
        try:
            yield g, port
        finally:
            g.stop()
        return


def guest_runtime(tap, g, files, times):
    """containerd + runc in the guest, the sandbox image imported, the agent's image importing."""
    shutil.copytree(files, g.share, dirs_exist_ok=True)
    shutil.copy(ARCHIVE, g.share / "image.tar")
    g.out("/nib/setup.sh nvme multipath && dd if=/dev/mapper/mpatha of=/dev/null bs=4k count=16 iflag=direct")
    rc, out, err = g.sh("/nib/node.sh runtime", timeout=180)
    for what, ms in re.findall(r"node.sh: (.+?) (\d+) ms", err):
        times[f"guest: {what}"] = int(ms) / 1000
    return tap.ok(rc == 0, "containerd and runc start in the guest (cgroup v2), the sandbox image imported", err[-1500:])


def guest_kubelet(tap, g, kube, files, node, port, times):
    """The kubelet in the guest, registered with the host's apiserver: the Node Ready; the image imported."""
    shutil.copy(files / "kubelet.kubeconfig", g.share / "kubelet.kubeconfig")    # node.sh kubeconfig
    t0 = time.monotonic()
    g.out(f"/nib/node.sh kubelet {node} {port}", timeout=120)
    _, t = wait(f"Node {node} Ready", lambda: cond(kube.json("get", "node", node), "Ready").get("status") == "True",
                180)
    times["kubelet start -> Node Ready"] = t
    nd = kube.json("get", "node", node)
    info = nd["status"]["nodeInfo"]
    print(f"# node {node} (the guest): kubelet {info['kubeletVersion']}, {info['containerRuntimeVersion']}, "
          f"kernel {info['kernelVersion']}, {info['osImage']}", flush=True)
    tap.eq((info["kernelVersion"], [a["address"] for a in nd["status"]["addresses"] if a["type"] == "InternalIP"]),
           (g.out("uname -r").strip(), ["10.96.0.15"]),
           "the guest's kubelet registers the Node and it is Ready: kernel = the guest's uname -r, address 10.96.0.15")
    ms, _ = wait("make image's archive imported in the guest", lambda: read(g, "log/import.ms").strip(), 240)
    times["guest: image import (ctr, in the background)"] = int(ms) / 1000
    times["waited for the import after Node Ready"] = time.monotonic() - t0 - t
    return True


def daemonset(tap, g, kube, node, times):
    """manifests/ as shipped: the Pod Ready on the guest's Node, the Node published."""
    t0 = time.monotonic()
    kube("apply", "-k", str(nib.REPO / "manifests"))
    try:
        pod, t = wait("the DaemonSet's Pod Ready", lambda: ready_pod(kube), 180)
    except nib.GuestError as e:
        tap.fail("the DaemonSet's Pod Running and Ready on the guest's Node",
                 f"{e}\n" + kube("-n", NS, "describe", "pods", check=False)[-2000:] + "\n--- kubelet\n" +
                 "\n".join(read(g, "log/kubelet.log").splitlines()[-20:]))
        return None
    times["apply -> Pod Ready"] = t
    cs = pod["status"]["containerStatuses"][0]
    tap.ok(pod["spec"]["nodeName"] == node and cs["ready"] and cs["restartCount"] == 0
           and pod["status"].get("podIP") == "10.96.0.15",
           f"Pod {pod['metadata']['name']} Running and Ready on the guest's Node, hostNetwork, no restart", cs)
    nd, _ = wait("the Node published", lambda: (x := kube.json("get", "node", node)) and
                 cond(x, "NVMeHealthy").get("status") and cond(x, "MultipathHealthy").get("status") and
                 x["metadata"]["labels"].get(f"{P}/bundle") and x, 120)
    times["apply -> first publish"] = time.monotonic() - t0
    labels = nd["metadata"]["labels"]
    rep = g.inspect()
    tap.eq(labels.get(f"{P}/bundle"), rep["fingerprint"]["hash"],
           "label bundle = the guest's own `nodeprint inspect` (the Pod wrote it through the in-cluster config)")
    idc = g.json("nvme id-ctrl /dev/nvme0 -o json")
    tap.eq((labels.get(f"{P}/nvme.0.model"), labels.get(f"{P}/nvme.0.firmware")),
           (idc["mn"].strip().replace(" ", "_"), idc["fr"].strip().replace(" ", "_")),
           "labels nvme.0.model/firmware = the guest's `nvme id-ctrl` (SMART device read in the Pod)")
    got = {c: (cond(nd, c).get("status"), cond(nd, c).get("reason")) for c in ("NVMeHealthy", "MultipathHealthy")}
    tap.eq(got, {"NVMeHealthy": ("True", "AllChecksPassed"), "MultipathHealthy": ("True", "AllChecksPassed")},
           "conditions NVMeHealthy and MultipathHealthy True with data read (not Unknown)")
    return pod


def in_pod(tap, g, kube, pod):
    """What the Pod reads: SMART and the multipath map (kubectl exec), the kernel log (its metrics)."""
    name = pod["metadata"]["name"]
    rep = json.loads(kube("-n", NS, "exec", name, "--", "nodeprint", "inspect", "-o", "json", "--color", "never",
                          "--host-root", "/host", "--only", "nvme,multipath", check=False, timeout=120) or "{}")
    sl = g.json("nvme smart-log /dev/nvme0 -o json")
    ctl = next((c for c in rep.get("nvme", {}).get("controllers", []) if c["name"] == "nvme0"), {})
    sm = ctl.get("smart") or {}
    # the host-side counters move between the two reads only with I/O: none runs
    keys = [k for k in SMART if k not in ("host_read_commands", "data_units_read")]
    tap.eq({k: int(sm[k]) for k in keys if k in sm}, {k: int(sl[SMART[k]]) for k in keys},
           "kubectl exec: the Pod reads nvme0's SMART page = the guest's `nvme smart-log`")
    m = mpath(rep)
    tap.eq(np_groups(m), dm_status(g.out("dmsetup status mpatha")),
           "kubectl exec: the Pod reads multipath map mpatha, its paths = the guest's `dmsetup status`")
    # the node's address, as the kubelet's probes reach it (hostNetwork); a busy guest may reset one try
    metrics, _ = wait("the Pod's /metrics", lambda: (r := g.sh("wget -qO- http://10.96.0.15:20270/metrics"))[0] == 0
                      and r[1], 30, step=1)
    tap.ok('nodeprint_source_up{source="kmsg"} 1' in metrics and 'nodeprint_source_up{source="nvme"} 1' in metrics
           and 'nodeprint_source_up{source="multipath"} 1' in metrics,
           "the Pod's /metrics: kmsg, nvme and multipath sources up (the kernel log is read)",
           "\n".join(ln for ln in metrics.splitlines() if "source_up" in ln))


def path_failure(tap, g, kube, node, times):
    mm = g.out("dmsetup table mpatha").split()[-4]
    t0 = time.monotonic()
    g.out(f"dmsetup message mpatha 0 fail_path {mm}")
    try:
        ev, t = wait("the PathFailed Event", lambda: [
            e for e in kube.json("get", "events", "-A", "--field-selector", f"involvedObject.name={node}")["items"]
            if e["reason"] == "PathFailed" and f"Failing path {mm}" in e["message"]], EVENT_BOUND, step=0.25)
    finally:
        g.out(f"dmsetup message mpatha 0 reinstate_path {mm}")
    times["path failure -> Event on the Node"] = t
    tap.ok(ev[0]["involvedObject"]["kind"] == "Node" and ev[0]["type"] == "Warning" and
           ev[0]["involvedObject"].get("uid") == kube.json("get", "node", node)["metadata"]["uid"],
           f"fail_path {mm} in the guest -> PathFailed Warning Event on the Node in {t:.1f} s "
           f"(bound {EVENT_BOUND} s), read from the kernel log inside the Pod", ev[0])


def logs(tap, g, kube, node, pod):
    name = pod["metadata"]["name"]
    text = kube("-n", NS, "logs", name)
    tap.ok(f'msg="started" node={node}' in text and 'msg="cycle"' in text and "kmsg=yes" in text,
           "kubectl logs (apiserver -> the guest's kubelet): the logfmt log, kernel log followed", text[-800:])
    cs = kube.json("-n", NS, "get", "pod", name)["status"]["containerStatuses"][0]
    tap.ok(cs["ready"] and cs["restartCount"] == 0, "the Pod stayed Ready, no restart, through it all", cs)


def read(g, rel):
    try:
        return (g.share / rel).read_text(errors="replace")
    except OSError:
        return ""


def main():
    tap = nib.Tap("pod")
    times = {}
    if os.geteuid() != 0 or not ARCHIVE.exists():
        tap.fail("pod: prerequisites", f"root and make image's archive ({ARCHIVE}) are needed; uid {os.geteuid()}")
        tap.finish()
    if not os.path.exists("/usr/lib/cni/loopback"):
        tap.fail("pod: prerequisites", "/usr/lib/cni/loopback is missing: scripts/deps.sh test (containernetworking-plugins)")
        tap.finish()
    work = Path(tempfile.mkdtemp(prefix="nib-pod-"))
    cdir, files = work / "cluster", work / "node"
    cluster = None
    try:
        bindir = subprocess.run([str(nib.REPO / "tests/cluster/build.sh"), "runtime", "kube", "etcd", "helm"],
                                capture_output=True, text=True, check=True, timeout=3600).stdout.strip()
        subprocess.run([str(NODE_SH), "guest", str(files)], capture_output=True, text=True, check=True, timeout=600)
        # the apiserver dials a Node by its Hostname address first: the host's name, which resolves here
        node = socket.gethostname()
        addr = socket.gethostbyname(node)
        api_port = free_port("127.0.0.1")
        # the control plane starts on the host while the guest boots and starts its runtime
        t0 = time.monotonic()
        cluster = subprocess.Popen([str(CLUSTER), "start", str(cdir)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True, env=dict(os.environ, NP_KUBE_PORT=str(api_port), NP_K8S_BIN=bindir))
        with pod_guest(addr, api_port, bindir) as (g, port):
            times["guest boot"] = g.boot_s
            try:
                if guest_runtime(tap, g, files, times):
                    out, err = cluster.communicate(timeout=600)
                    times["control plane start (host, beside the guest)"] = time.monotonic() - t0
                    if not tap.ok(cluster.returncode == 0, "control plane up on the host (tests/cluster/cluster.sh)",
                                  err[-800:]):
                        raise nib.GuestError("no control plane")
                    env = dict(os.environ, **dict(re.findall(r"^export (\w+)='([^']*)'$", out, re.M)))
                    kube = Kube(env)
                    subprocess.run([str(NODE_SH), "kubeconfig", node, str(files), "https://10.96.0.1:443"],
                                   capture_output=True, text=True, env=env, check=True, timeout=60)
                    if guest_kubelet(tap, g, kube, files, node, port, times):
                        pod = daemonset(tap, g, kube, node, times)
                        if pod:
                            in_pod(tap, g, kube, pod)
                            path_failure(tap, g, kube, node, times)
                            logs(tap, g, kube, node, pod)
            except (nib.GuestError, RuntimeError, KeyError, TypeError, IndexError, ValueError, OSError,
                    subprocess.CalledProcessError) as e:
                tap.fail(f"pod: {type(e).__name__}", f"{e} {getattr(e, 'stderr', '') or ''}\n--- kubelet log (tail)\n" +
                         "\n".join(read(g, "log/kubelet.log").splitlines()[-25:]))
            finally:
                LOG_DIR.mkdir(parents=True, exist_ok=True)
                for f in ("kubelet", "containerd"):
                    (LOG_DIR / f"vm-pod-{f}.log").write_text(read(g, f"log/{f}.log"))
                g.sh("kill $(cat /run/kubelet.pid) 2>/dev/null; /opt/k8s/crictl --runtime-endpoint "
                     "unix:///run/containerd/containerd.sock rmp -fa >/dev/null 2>&1; true", timeout=60)
    except nib.Missing as e:
        tap.fail("pod: prerequisites", f"node-in-a-box prerequisite missing: {e}")
    except (nib.GuestError, OSError, subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
        tap.fail("pod: guest or cluster", f"{type(e).__name__}: {e} {getattr(e, 'stderr', '') or ''}")
    finally:
        if cluster:
            if cluster.poll() is None:
                cluster.communicate(timeout=600)
            subprocess.run([str(CLUSTER), "stop", str(cdir)], capture_output=True, timeout=300)
        shutil.rmtree(work, ignore_errors=True)
        for k, v in times.items():
            print(f"# time: {k}: {v:.1f} s", flush=True)
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        (LOG_DIR / "vm-pod-times.json").write_text(json.dumps({k: round(v, 1) for k, v in times.items()}, indent=1) + "\n")
    tap.finish()


if __name__ == "__main__":
    main()
