#!/usr/bin/env python3
"""Blind is never healthy, on this machine: the built binary run as root (every source read) and as
nobody (setpriv --reuid=65534: /dev/kmsg refused, as in a container without the device rule), through
the live / and through a host root (--host-root, /sys /proc /dev bind-mounted in a private mount
namespace, as the DaemonSet mounts them), and a captured NVMe host root whose /dev/nvme0 is a real
character device nobody may open. Asserts the exit status 3, the BLIND block at the top, the
report's "sources", the plan's Unknown conditions with the source's reason, the one Warning Event,
and the agent's nodeprint_source_up metric and single log line. TAP output."""
import json, os, shutil, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/: taplib
import taplib  # noqa: E402
from taplib import tap  # noqa: E402
from agent import Agent  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("NODEPRINT", os.path.join(ROOT, "build", "nodeprint"))
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def run(*args, prefix=(), timeout=120):
    return subprocess.run([*prefix, BIN, *args], capture_output=True, text=True, timeout=timeout)


def cond(rep, typ):
    return next((c for c in rep["plan"]["conditions"] if c["type"] == typ), {})


def source(rep, name):
    return next((s for s in rep["sources"] if s["source"] == name), {})


def events(rep, reason):
    return [e for e in rep["plan"]["events"] if e["reason"] == reason]


def kmsg_readable_by_nobody():
    p = subprocess.run([*NOBODY, "head", "-c", "1", "/dev/kmsg"], capture_output=True, timeout=10)
    return p.returncode == 0


def live_root():
    """As root every source of this machine is read: exit 0, no BLIND block, nothing Unknown by blindness."""
    p = run("inspect", "-o", "json")
    rep = json.loads(p.stdout)
    down = [s["source"] for s in rep["sources"] if not s["up"]]
    tap(p.returncode == 0 and not down, "as root: every source up, exit 0", f"exit {p.returncode} down={down}")
    tap(cond(rep, "MultipathHealthy").get("status") == "True" and not events(rep, "SourceUnreadable"),
        "as root: MultipathHealthy True, no SourceUnreadable Event", cond(rep, "MultipathHealthy"))
    txt = run("inspect", "--color", "never")
    tap(txt.returncode == 0 and "BLIND" not in txt.stdout, "as root: no BLIND block", txt.stdout[:300])


def check_kmsg_blind(rep, rc, how):
    km = source(rep, "kmsg")
    tap(rc == 3, f"{how}: exit status 3 (done, but blind)", rc)
    tap(km.get("up") is False and km.get("errno") == "EPERM" and km.get("reason") == "KernelLogUnreadable",
        f"{how}: sources[kmsg] is down with EPERM", km)
    mp = cond(rep, "MultipathHealthy")
    tap(mp.get("status") == "Unknown" and mp.get("reason") == "KernelLogUnreadable" and "/dev/kmsg" in mp.get("message", ""),
        f"{how}: MultipathHealthy Unknown, reason KernelLogUnreadable", mp)
    up = {s["source"] for s in rep["sources"] if s["up"]}
    tap({"pci", "block", "net"} <= up and cond(rep, "PCIeHealthy").get("status") == "True",
        f"{how}: the readable sources stay up and their conditions True", rep["sources"])
    ev = events(rep, "SourceUnreadable")
    tap(len(ev) == 1 and ev[0]["type"] == "Warning" and ev[0]["involvedObject"]["kind"] == "Node"
        and "/dev/kmsg" in ev[0]["message"] and "MultipathHealthy" in ev[0]["message"],
        f"{how}: one Warning Event SourceUnreadable on the Node", ev)
    f = [x for x in rep["plan"]["findings"] if x["id"] == "source-unreadable"]
    tap(len(f) == 1 and f[0]["subject"] == "kmsg" and not rep["plan"]["taints"],
        f"{how}: one source-unreadable finding (subject kmsg), no taint", f)


def live_nobody():
    p = run("inspect", "-o", "json", prefix=NOBODY)
    check_kmsg_blind(json.loads(p.stdout), p.returncode, "as nobody")
    txt = run("inspect", "--color", "never", prefix=NOBODY)
    lines = txt.stdout.splitlines()
    first = next((i for i, l in enumerate(lines) if l.startswith("== ")), -1)
    tap(txt.returncode == 3 and first >= 0 and lines[first].startswith("== BLIND")
        and "KernelLogUnreadable: the kernel log: /dev/kmsg: unavailable: permission (EPERM)" in txt.stdout,
        "as nobody: the BLIND block is the first section and names /dev/kmsg", "\n".join(lines[:8]))


def host_root_nobody():
    """The issue's case: inspect --host-root /host, the host's /sys /proc /dev and os-release bind-mounted read-only."""
    tmp = tempfile.mkdtemp(prefix="np-blind-")
    try:
        os.chmod(tmp, 0o755)
        script = ("set -e; for d in sys proc dev; do mkdir -p $H/$d; mount --rbind -o ro /$d $H/$d; done; "
                  "mkdir -p $H/etc; touch $H/etc/os-release; mount --bind -o ro /etc/os-release $H/etc/os-release; "
                  f"exec {' '.join(NOBODY)} {BIN} inspect -o json --host-root $H")
        p = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script],
                           env={**os.environ, "H": tmp + "/host"}, capture_output=True, text=True, timeout=120)
        rep = json.loads(p.stdout) if p.stdout.startswith("{") else None
        if not rep:
            tap(False, "--host-root with bind mounts: a report", p.stderr)
            return
        tap(rep["host_root"].endswith("/host"), "--host-root: read through the host root", rep["host_root"])
        check_kmsg_blind(rep, p.returncode, "--host-root as nobody")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def nvme_denied():
    """A real capture of a QEMU NVMe host with its /dev/nvme0: the char device sysfs names, mode 0600."""
    tmp = tempfile.mkdtemp(prefix="np-blind-nvme-", dir=os.path.join(ROOT, "build"))
    try:
        os.chmod(tmp, 0o755)
        root = os.path.join(tmp, "root")
        shutil.copytree(os.path.join(ROOT, "tests", "fixtures", "qemu-nvme", "root"), root, symlinks=True)
        with open(os.path.join(root, "sys", "class", "nvme", "nvme0", "dev")) as f:
            major, minor = (int(x) for x in f.read().split(":"))
        os.makedirs(os.path.join(root, "dev"), exist_ok=True)
        os.mknod(os.path.join(root, "dev", "nvme0"), 0o600 | 0o020000, os.makedev(major, minor))
        p = run("inspect", "-o", "json", "--host-root", root, prefix=NOBODY)
        rep = json.loads(p.stdout)
        nv = source(rep, "nvme")
        tap(p.returncode == 3 and nv.get("up") is False and nv.get("reason") == "NVMeAdminDenied"
            and nv.get("errno") == "EACCES" and nv.get("item") == "nvme0",
            "NVMe: /dev/nvme0 refused -> sources[nvme] NVMeAdminDenied, EACCES, item nvme0", nv)
        c = cond(rep, "NVMeHealthy")
        tap(c.get("status") == "Unknown" and c.get("reason") == "NVMeAdminDenied" and "/dev/nvme0" in c.get("message", ""),
            "NVMe: NVMeHealthy Unknown (NVMeAdminDenied), never True", c)
        ctrl = rep["nvme"]["controllers"][0]
        tap(ctrl.get("model") and ctrl.get("firmware_rev"), "NVMe: the sysfs facts are still reported", ctrl)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def agent_nobody():
    with Agent("node-blind", "--poll", "0.3", prefix=NOBODY) as agent:
        _, text, _ = agent.wait("/metrics", until=lambda code, body: 'nodeprint_source_up{source="kmsg"}' in body,
                                tries=100)
        time.sleep(1.5)  # a few more cycles: the blind line must not repeat
        tap('nodeprint_source_up{source="kmsg"} 0' in text and 'nodeprint_source_up{source="pci"} 1' in text,
            "agent as nobody: nodeprint_source_up kmsg 0, pci 1", text[:400])
        tap('nodeprint_findings{finding="source-unreadable"} 1' in text, "agent: the finding is counted")
        rc, log = agent.stop()
        cycles = log.count('msg="cycle"')
        tap(rc == 0 and cycles >= 3, f"agent: runs on blind ({cycles} cycles) and exits 0 on SIGTERM", log[-600:])
        tap(log.count("msg=\"blind: sources cannot be read") == 1 and "sources=kmsg" in log,
            "agent: the blind line is logged once, not every cycle", log[-900:])


def main():
    live_root()
    if kmsg_readable_by_nobody():
        tap(False, "nobody can read /dev/kmsg here (kernel.dmesg_restrict=0?): the blind case cannot be made")
    else:
        live_nobody()
        host_root_nobody()
        agent_nobody()
    nvme_denied()


if __name__ == "__main__":
    taplib.run(main, "test_blind")
