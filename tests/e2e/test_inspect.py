#!/usr/bin/env python3
"""End-to-end: `nodeprint inspect` on this real machine, checked against independent sources.

TAP output. Sources: uname(2) via os.uname(), files this test reads itself, and the fingerprint's
own contract (same machine -> same hash; one changed component -> another hash).
"""
import json, os, shutil, subprocess, sys, tempfile

import report_schema

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/: taplib
import taplib  # noqa: E402
from taplib import tap  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("NODEPRINT", os.path.join(ROOT, "build", "nodeprint"))


def inspect(*args):
    p = subprocess.run([BIN, "inspect", "-o", "json", *args], capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise RuntimeError(f"exit {p.returncode}: {p.stderr}")
    return report_schema.loads(p.stdout)


def read(path):
    with open(path) as f:
        return f.read().strip()


def main():
    rep = inspect()
    tap(rep.get("schemaVersion") == 1, "schemaVersion is 1", rep.get("schemaVersion"))
    k = rep["kernel"]
    tap(k["release"] == os.uname().release, "kernel release equals uname -r", f"{k['release']} vs {os.uname().release}")
    tap(k["version"] == os.uname().version, "kernel version equals uname -v", f"{k['version']} vs {os.uname().version}")
    tap(k["machine"] == os.uname().machine, "machine equals uname -m")
    tap(k["tainted"] == int(read("/proc/sys/kernel/tainted")), "tainted equals /proc/sys/kernel/tainted")
    tap(k["boot_id"] == read("/proc/sys/kernel/random/boot_id"), "boot id equals the kernel's")
    cpus = sum(1 for line in open("/proc/cpuinfo") if line.startswith("processor"))
    tap(k["cpu"]["count"] == cpus, "cpu count equals /proc/cpuinfo processors", f"{k['cpu']['count']} vs {cpus}")
    osr = dict(l.split("=", 1) for l in read("/etc/os-release").splitlines() if "=" in l)
    tap(k["os"]["id"] == osr["ID"].strip('"'), "os id equals /etc/os-release ID")

    # fingerprint: stable across runs, and it names the kernel release
    fp = rep["fingerprint"]
    tap(len(fp["hash"]) == 12 and all(c in "0123456789abcdef" for c in fp["hash"]), "fingerprint hash is 12 hex digits", fp["hash"])
    comps = [(c["component"], c["key"], c["value"]) for c in fp["components"]]
    tap(("kernel", "release", os.uname().release) in comps, "bundle holds the kernel release")
    tap(comps == sorted(comps), "bundle components are sorted")
    again = inspect()
    tap(again["fingerprint"]["hash"] == fp["hash"], "same machine gives the same hash on a second run",
        f"{fp['hash']} vs {again['fingerprint']['hash']}")

    # one changed component -> another hash: copy the kernel's view into a host root and bump osrelease
    with tempfile.TemporaryDirectory() as d:
        for p in ["proc/sys/kernel/osrelease", "proc/sys/kernel/version", "proc/sys/kernel/tainted", "proc/cpuinfo", "etc/os-release"]:
            os.makedirs(os.path.join(d, os.path.dirname(p)), exist_ok=True)
            shutil.copyfile("/" + p, os.path.join(d, p))
        a = inspect("--host-root", d, "--only", "kernel")["fingerprint"]["hash"]
        b = inspect("--host-root", d, "--only", "kernel")["fingerprint"]["hash"]
        with open(os.path.join(d, "proc/sys/kernel/osrelease"), "w") as f:
            f.write(os.uname().release + "+1\n")
        c = inspect("--host-root", d, "--only", "kernel")
        tap(a == b, "a fixed host root hashes the same twice")
        tap(c["fingerprint"]["hash"] != a, "a changed kernel release changes the hash", f"{a} == {c['fingerprint']['hash']}")
        tap(c["kernel"]["release"] == os.uname().release + "+1", "the host root, not the live kernel, is read")

    # the plan with the built-in policy: labels valid, the bundle label equals the fingerprint
    import re
    plan = rep.get("plan", {})
    labels = plan.get("labels", {})
    tap(labels.get("nodeprint.io/bundle") == fp["hash"], "plan labels the node with its bundle hash", labels)
    tap(labels.get("nodeprint.io/bundle-state") == "unknown", "no pins in the default policy: bundle-state unknown")
    valid = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
    tap(all(valid.match(v) and len(v) <= 63 for v in labels.values()), "every planned label value is valid", labels)
    ann = plan.get("annotations", {}).get("nodeprint.io/fingerprint", "")
    tap(0 < len(ann) <= 8192 and json.loads(ann)["hash"] == fp["hash"], "fingerprint annotation is compact JSON within 8 KiB")
    bad = subprocess.run([BIN, "plan", "--policy", "/nonexistent.yaml"], capture_output=True, text=True)
    tap(bad.returncode == 2 and "/nonexistent.yaml" in bad.stderr, "a missing policy file is a clear error", bad.stderr)

    # text output: the sections of the playbook, no colour when not a TTY
    p = subprocess.run([BIN, "inspect"], capture_output=True, text=True, timeout=120)
    tap(p.returncode == 0 and "== Kernel ==" in p.stdout and "\033[" not in p.stdout,
        "text report has sections and no colour off a TTY", p.stderr)
    bad = subprocess.run([BIN, "inspect", "--host-root", "/nonexistent-root"], capture_output=True, text=True)
    tap(bad.returncode == 2 and "nonexistent-root" in bad.stderr, "a missing host root is a usage error (exit 2)", bad.stderr)
    bad = subprocess.run([BIN, "inspect", "--only", "nosuch"], capture_output=True, text=True)
    tap(bad.returncode == 2 and "nosuch" in bad.stderr, "an unknown section is a clear error", bad.stderr)


if __name__ == "__main__":
    taplib.run(main, "test_inspect")
