#!/usr/bin/env python3
"""The DaemonSet's container under a real OCI runtime (runc), without a kubelet: make image's OCI image
unpacked by umoci, manifests/daemonset.yaml's container translated flag by flag into the config a
kubelet asks containerd for (tests/node/oci.py), run on this machine's kernel with the host's /sys,
/proc and /dev bind-mounted at /host as the manifest says.

  as shipped (privileged)       the capabilities of a privileged container, read-only root, the host
                                mounts read-only down to their submounts; the kernel log is read and
                                nothing is blind (exit 0)
  unprivileged (SYS_ADMIN +     exactly those two capabilities, no privilege escalation; the device
  SYSLOG, the old manifest)     cgroup refuses /host/dev/kmsg with EPERM: inspect exits 3 with the
                                kernel log down and MultipathHealthy Unknown, the agent runs on
  unprivileged + c 1:11 r       one device rule and the read works: the device cgroup decides, not
                                the capabilities
runc: $NP_RUNC, else the test world's (tests/cluster/build.sh runtime), else Debian's. TAP output."""
import copy, json, os, shutil, subprocess, sys, tempfile, yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import oci  # noqa: E402

IMAGE = os.path.join(ROOT, "build", "image", "nodeprint-oci")
CAP_SYS_ADMIN, CAP_SYSLOG = 21, 34
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/: taplib
import taplib  # noqa: E402
from taplib import tap  # noqa: E402


def find_runc():
    cache = os.environ.get("NP_K8S_CACHE", os.path.join(ROOT, ".cache", "k8s"))
    for c in (os.environ.get("NP_RUNC"), os.path.join(cache, "bin", "runc"), shutil.which("runc")):
        if c and os.access(c, os.X_OK):
            return c
    return None


def daemonset():
    with open(os.path.join(ROOT, "manifests", "daemonset.yaml")) as f:
        return yaml.safe_load(f)


def unprivileged(ds):
    """The container as the manifest had it before it needed privileged: SYS_ADMIN + SYSLOG."""
    ds = copy.deepcopy(ds)
    _, c = oci.container_of(ds)
    sc = c["securityContext"]
    sc.pop("privileged", None)
    sc.update({"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"], "add": ["SYS_ADMIN", "SYSLOG"]}})
    return ds


class Runner:
    def __init__(self, runc, rootfs, work):
        self.runc, self.rootfs, self.work, self.k = runc, rootfs, work, 0

    def run(self, ds, argv, entry=("/usr/bin/nodeprint",), extra_devices=()):
        self.k += 1
        bundle = os.path.join(self.work, f"b{self.k}")
        os.makedirs(bundle)
        cfg = oci.translate(ds, self.rootfs, args=argv, extra_devices=extra_devices, env={"NODE_NAME": "node-runc"},
                            entrypoint=entry)
        with open(os.path.join(bundle, "config.json"), "w") as f:
            json.dump(cfg, f)
        return subprocess.run([self.runc, "run", "--bundle", bundle, f"np-node-{os.getpid()}-{self.k}"],
                              capture_output=True, text=True, timeout=120)

    def sh(self, ds, script, **kw):
        return self.run(ds, [script], entry=("/bin/sh", "-c"), **kw)


PROBE = ("grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status; "
         "dd if=/host/dev/kmsg of=/dev/null bs=16384 count=1 iflag=nonblock 2>/tmp/e && echo kmsg=ok || echo kmsg=$(cat /tmp/e); "
         "touch /x 2>/dev/null && echo root=rw || echo root=ro; "
         "touch /host/dev/shm/np-x 2>/dev/null && echo devshm=rw || echo devshm=ro; "
         "touch /tmp/x && echo tmp=rw")


def status_of(out):
    st = {}
    for line in out.splitlines():
        k, sep, v = line.partition(":") if ":" in line.split("=")[0] else line.partition("=")
        if sep:
            st[k.strip()] = v.strip()
    return st


def inspect(r, ds, **kw):
    p = r.run(ds, ["inspect", "-o", "json", "--host-root", "/host"], **kw)
    rep = json.loads(p.stdout) if p.stdout.startswith("{") else {}
    return p, rep


def cond(rep, t):
    return next((c for c in rep.get("plan", {}).get("conditions", []) if c["type"] == t), {})


def down(rep):
    return {s["source"]: s.get("errno") for s in rep.get("sources", []) if not s["up"]}


def main():
    runc = find_runc()
    if not runc or not os.path.isdir(IMAGE) or not shutil.which("umoci"):
        tap(False, "prerequisites: runc, umoci and make image's build/image/nodeprint-oci",
            f"runc={runc} image={os.path.isdir(IMAGE)} umoci={shutil.which('umoci')}")
        return 1
    ver = subprocess.run([runc, "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    print(f"# {ver} ({runc}), cgroup {'v2' if oci.cgroup_v2() else 'v1'}")
    work = tempfile.mkdtemp(prefix="np-node-runc-")
    try:
        bundle = os.path.join(work, "image")
        p = subprocess.run(["umoci", "unpack", "--image", IMAGE + ":0.1.0", bundle], capture_output=True, text=True)
        tap(p.returncode == 0, "umoci unpacks the image", p.stderr)
        r = Runner(runc, os.path.join(bundle, "rootfs"), work)
        ds = daemonset()
        _, c = oci.container_of(ds)
        tap(c["securityContext"].get("privileged") is True and c["securityContext"].get("readOnlyRootFilesystem") is True,
            "the manifest: privileged, read-only root", c["securityContext"])

        # as shipped
        p = r.sh(ds, PROBE)
        st = status_of(p.stdout)
        bnd = int(open("/proc/self/status").read().split("CapBnd:")[1].split()[0], 16)
        tap(int(st.get("CapEff", "0"), 16) == bnd, "privileged: every capability the runtime holds",
            p.stdout + p.stderr)
        tap(st.get("kmsg") == "ok", "privileged: /host/dev/kmsg opens and reads", p.stdout)
        tap(st.get("root") == "ro" and st.get("tmp") == "rw", "privileged: read-only root, /tmp writable", p.stdout)
        tap(st.get("devshm") == "ro", "privileged: /host/dev's submounts read-only too (recursiveReadOnly)", p.stdout)
        p, rep = inspect(r, ds)
        tap(p.returncode == 0 and not down(rep), "privileged: inspect --host-root /host sees every source, exit 0",
            f"exit {p.returncode} down={down(rep)} {p.stderr[-300:]}")
        tap(cond(rep, "MultipathHealthy").get("status") == "True", "privileged: MultipathHealthy True", cond(rep, "MultipathHealthy"))

        # without the privilege
        un = unprivileged(ds)
        p = r.sh(un, PROBE)
        st = status_of(p.stdout)
        want = 1 << CAP_SYS_ADMIN | 1 << CAP_SYSLOG
        tap(int(st.get("CapEff", "0"), 16) == want and st.get("NoNewPrivs") == "1",
            "unprivileged: exactly SYS_ADMIN + SYSLOG, no privilege escalation", p.stdout + p.stderr)
        tap("Operation not permitted" in st.get("kmsg", ""), "unprivileged: /host/dev/kmsg gives EPERM (device cgroup)", p.stdout)
        p, rep = inspect(r, un)
        tap(p.returncode == 3 and down(rep).get("kmsg") == "EPERM", "unprivileged: inspect exits 3, kmsg down with EPERM",
            f"exit {p.returncode} down={down(rep)} {p.stderr[-300:]}")
        mp = cond(rep, "MultipathHealthy")
        tap(mp.get("status") == "Unknown" and mp.get("reason") == "KernelLogUnreadable",
            "unprivileged: MultipathHealthy Unknown (KernelLogUnreadable), not True", mp)
        ev = [e for e in rep.get("plan", {}).get("events", []) if e["reason"] == "SourceUnreadable"]
        tap(len(ev) == 1 and "EPERM" in ev[0]["message"], "unprivileged: one SourceUnreadable Warning Event planned", ev)
        p = r.run(un, ["run", "--dry-run", "--node-name", "node-runc", "--host-root", "/host", "--cycles", "3",
                       "--poll", "0.2", "--log-format", "json"])
        lines = [json.loads(x) for x in p.stderr.splitlines() if x.startswith("{")]
        blind = [x for x in lines if x.get("msg", "").startswith("blind:")]
        tap(p.returncode == 0 and sum(x.get("msg") == "cycle" for x in lines) == 3 and len(blind) == 1,
            "unprivileged: the agent runs 3 cycles, logs blind once (JSON log), exits 0", p.stderr[-800:])

        # the device rule alone
        rule = [{"allow": True, "type": "c", "major": 1, "minor": 11, "access": "r"}]
        p, rep = inspect(r, un, extra_devices=rule)
        tap(p.returncode == 0 and not down(rep), "unprivileged + device rule c 1:11 r: the kernel log is read, exit 0",
            f"exit {p.returncode} down={down(rep)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    taplib.run(main, "test_runtime")
