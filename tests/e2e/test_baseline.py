#!/usr/bin/env python3
"""End-to-end: `nodeprint baseline` with Debian's real fio on this machine.

TAP output. The test file lives on an ext4 filesystem on a loop device this test creates (a
tmpfs has no block device and no O_DIRECT). Independent sources: /proc/diskstats read by this
test (the loop device's completed reads grow by at least fio's I/O count), the folder's listing
(the test file is gone after every run, killed or not), /proc (no fio process is left behind).
Safety paths: a busy device is refused, the wall-time limit kills fio, SIGTERM stops it and
cleans up, a stale file of a killed run is removed, bad fio output is a clear error.
"""
import json, os, shutil, signal, subprocess, sys, tempfile, threading, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("NODEPRINT", os.path.join(ROOT, "build", "nodeprint"))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/: taplib
import taplib  # noqa: E402
from taplib import tap  # noqa: E402


def sh(*cmd, check=True):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {p.returncode}: {p.stderr}")
    return p.stdout.strip()


POLICY = """baseline:
  directory: {dir}
  fileSizeMiB: 32
  maxUtilPercent: {util}
  busySampleSeconds: 1
  wallSeconds: {wall}
  repeats: 2
  profiles:
    - {{name: rr-qd1, rw: randread, blockSize: 4k, iodepth: 1, seconds: {secs}}}
    - {{name: rr-qd8, rw: randread, blockSize: 4k, iodepth: 8, seconds: {secs}}}
"""


def write_policy(path, d, util=90, wall=10, secs=1, extra=""):
    with open(path, "w") as f:
        f.write(POLICY.format(dir=d, util=util, wall=wall, secs=secs) + extra)


def baseline(*args, timeout=120):
    return subprocess.run([BIN, "baseline", *args], capture_output=True, text=True, timeout=timeout)


def reads(dev):
    with open("/proc/diskstats") as f:
        for line in f:
            t = line.split()
            if t[2] == dev:
                return int(t[3])
    return None


def fio_processes(marker):
    """pids whose command line mentions @marker (our test folder)."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "fio" in cmd and marker in cmd and "nodeprint" not in cmd.split()[0]:
            out.append((pid, cmd))
    return out


def leftovers(d):
    return [x for x in os.listdir(d) if x.startswith("nodeprint-baseline.")]


def main():
    if shutil.which("fio") is None:
        tap(False, "fio is installed (scripts/deps.sh test)")
        return
    work = tempfile.mkdtemp(prefix="np-baseline-e2e-", dir="/var/tmp")
    img, mnt, state = f"{work}/disk.img", f"{work}/mnt", f"{work}/state"
    os.makedirs(mnt)
    loop = None
    try:
        with open(img, "wb") as f:
            f.truncate(256 << 20)
        loop = sh("losetup", "-f", "--show", img)
        sh("mkfs.ext4", "-q", loop)
        sh("mount", loop, mnt)
        dev = os.path.basename(loop)
        pol = f"{work}/policy.yaml"
        write_policy(pol, mnt)
        return run_tests(work, mnt, state, pol, dev)
    finally:
        subprocess.run(["umount", mnt], capture_output=True)
        if loop:
            subprocess.run(["losetup", "-d", loop], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


def run_tests(work, mnt, state, pol, dev):
    # 1. a baseline: records on disk, fio's I/O seen by the kernel, no file left
    before = reads(dev)
    p = baseline("run", "--policy", pol, "--state-dir", state, "--pin", "-o", "json", "--node-name", "e2e-node")
    after = reads(dev)
    ok = p.returncode == 0
    recs = json.loads(p.stdout) if ok else []
    tap(ok and len(recs) == 2, "baseline run stores one record per profile", p.stderr)
    r0 = recs[0] if recs else {}
    tap(r0.get("device") == dev and r0.get("node") == "e2e-node" and r0.get("pinned") is True and
        r0.get("repeats") == 2 and r0.get("profile", {}).get("iodepth") == 1 and
        len(r0.get("bundle", "")) == 12 and r0.get("fio_version", "").startswith("fio-"),
        f"the record names the loop device {dev}, node, bundle, fio version and profile", json.dumps(r0)[:800])
    m = r0.get("median", {}) if r0 else {}
    tap(m.get("iops", 0) > 0 and 0 < m.get("clat_p50_us", 0) <= m.get("clat_p99_us", 0) <= m.get("clat_max_us", 0)
        and r0["min"]["clat_p99_us"] <= m["clat_p99_us"] <= r0["max"]["clat_p99_us"],
        "median p50 <= p99 <= max, and the median lies within min-max", json.dumps(m))
    # fio's completed reads (IOPS x seconds, 2 repeats x 2 profiles) show in the kernel's counters
    fio_ios = sum(rec["median"]["iops"] * rec["profile"]["seconds"] * rec["repeats"] for rec in recs) if recs else 0
    tap(before is not None and after is not None and after - before >= 0.5 * fio_ios,
        f"/proc/diskstats: {dev} completed reads grew by {after - before if after and before else '?'} "
        f"(fio: ~{fio_ios:.0f})")
    files = os.listdir(f"{state}/baselines") if os.path.isdir(f"{state}/baselines") else []
    tap(len([f for f in files if f.startswith("baseline.") and f.endswith(".json")]) == 2,
        "two record files in --state-dir/baselines", str(files))
    tap(leftovers(mnt) == [] and fio_processes(mnt) == [], "no test file and no fio process left", str(leftovers(mnt)))

    # 2. show lists them
    p = baseline("show", "--state-dir", state)
    tap(p.returncode == 0 and p.stdout.count("pinned baseline") == 2 and "rr-qd8" in p.stdout,
        "baseline show lists both pinned baselines", p.stdout + p.stderr)

    # 3. compare: a verdict per profile against that baseline, the exit code matches it
    p = baseline("compare", "--policy", pol, "--state-dir", state, "-o", "json", "--node-name", "e2e-node")
    vs = json.loads(p.stdout) if p.stdout.strip().startswith("[") else []
    verdicts = {v.get("verdict") for v in vs}
    want = 3 if "regressed" in verdicts else 4 if verdicts - {"pass"} else 0
    tap(len(vs) == 2 and all(v.get("kind") == "verdict" and v.get("reference") == r0.get("bundle") for v in vs)
        and p.returncode == want, f"compare judges both profiles against the pinned bundle (verdicts {verdicts}, "
        f"exit {p.returncode})", p.stderr)

    # 4. a busy device is refused: this test reads the loop device with O_DIRECT meanwhile
    stop = threading.Event()
    loopdev = f"/dev/{dev}"

    def load():
        while not stop.is_set():
            subprocess.run(["dd", f"if={loopdev}", "of=/dev/null", "bs=4k", "count=20000", "iflag=direct"],
                           capture_output=True)

    busy_pol = f"{work}/busy.yaml"
    write_policy(busy_pol, mnt, util=10)
    t = threading.Thread(target=load)
    t.start()
    time.sleep(0.5)
    try:
        p = baseline("run", "--policy", busy_pol, "--state-dir", state)
    finally:
        stop.set()
        t.join()
    tap(p.returncode == 5 and "refused" in p.stderr and "busy" in p.stderr and "maxUtilPercent 10" in p.stderr,
        "a busy device is refused (exit 5, %util named)", f"exit {p.returncode}: {p.stderr}")
    tap(leftovers(mnt) == [], "the refused run wrote no test file")

    # 5. the wall-time limit: a wrapper makes the real fio run 60 s; the limit is 3 s
    wrap = f"{work}/slow-fio"
    with open(wrap, "w") as f:
        f.write("#!/bin/sh\nexec fio \"$@\" --runtime=60s\n")
    os.chmod(wrap, 0o755)
    wall_pol = f"{work}/wall.yaml"
    write_policy(wall_pol, mnt, wall=3, secs=1)
    t0 = time.monotonic()
    p = baseline("run", "--policy", wall_pol, "--state-dir", state, "--fio", wrap, "--profile", "rr-qd1")
    took = time.monotonic() - t0
    tap(p.returncode == 1 and "wall-time limit" in p.stderr and took < 15,
        f"fio is killed at wallSeconds (exit 1 after {took:.1f} s)", p.stderr)
    time.sleep(0.2)
    tap(fio_processes(mnt) == [] and leftovers(mnt) == [], "after the kill: no fio process, no test file",
        str(fio_processes(mnt)) + str(leftovers(mnt)))

    # 6. SIGTERM while fio runs: fio stopped, file removed, exit 130
    long_pol = f"{work}/long.yaml"
    write_policy(long_pol, mnt, wall=60, secs=30)
    proc = subprocess.Popen([BIN, "baseline", "run", "--policy", long_pol, "--state-dir", state, "--profile",
                             "rr-qd1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not (leftovers(mnt) and fio_processes(mnt)):
        time.sleep(0.1)
    running = bool(leftovers(mnt)) and bool(fio_processes(mnt))
    time.sleep(1)
    proc.send_signal(signal.SIGTERM)
    try:
        out, err = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    time.sleep(0.2)
    tap(running and proc.returncode == 130 and "interrupted by signal 15" in err,
        f"SIGTERM stops the run (exit {proc.returncode})", err)
    tap(fio_processes(mnt) == [] and leftovers(mnt) == [], "after SIGTERM: no fio process, no test file",
        str(fio_processes(mnt)) + str(leftovers(mnt)))

    # 7. the file of a run killed with SIGKILL (its pid gone) is removed by the next run
    stale = f"{mnt}/nodeprint-baseline.999999999.fio"
    open(stale, "w").close()
    p = baseline("run", "--policy", pol, "--state-dir", f"{work}/state2", "--profile", "rr-qd1", "--repeats", "1")
    tap(p.returncode == 0 and not os.path.exists(stale) and "left by a killed run" in p.stderr,
        "a stale test file of a dead process is removed", p.stderr)

    # 8. bad fio output is a clear error
    for name, script, msg in (
            ("truncated JSON", "fio \"$@\" | head -c 700", "not valid JSON (truncated?)"),
            ("garbage", "echo 'fio: engine libaio not loadable'; exit 1", "no JSON document"),
            ("no fio binary", None, "install Debian's fio package")):
        path = f"{work}/bad-fio"
        if script:
            with open(path, "w") as f:
                f.write(f"#!/bin/sh\n{script}\n")
            os.chmod(path, 0o755)
        p = baseline("run", "--policy", pol, "--state-dir", f"{work}/state3", "--profile", "rr-qd1",
                     "--repeats", "1", "--fio", path if script else f"{work}/no-such-fio")
        tap(p.returncode == 1 and msg in p.stderr and leftovers(mnt) == [],
            f"fio {name}: exit 1, '{msg}', no file left", p.stderr)

    # 9. refusals before any I/O: a raw device the policy does not name; a write profile on a raw device;
    # a folder on no block device
    p = baseline("run", "--policy", pol, "--state-dir", state, "--yes-raw")
    tap(p.returncode == 2 and "names no baseline.rawDevice" in p.stderr, "--yes-raw without rawDevice is refused",
        p.stderr)
    raw_pol = f"{work}/raw.yaml"
    with open(raw_pol, "w") as f:
        f.write(f"baseline:\n  rawDevice: /dev/{dev}\n  maxUtilPercent: 90\n  busySampleSeconds: 0.2\n"
                "  wallSeconds: 10\n  profiles:\n    - {name: w, rw: randwrite, seconds: 1}\n")
    before_w = sh("cat", f"/sys/block/{dev}/stat").split()[4]
    p = baseline("run", "--policy", raw_pol, "--state-dir", state, "--yes-raw")
    after_w = sh("cat", f"/sys/block/{dev}/stat").split()[4]
    tap(p.returncode == 1 and "only ever read" in p.stderr and before_w == after_w,
        "a write profile on a raw device is refused, nothing written", p.stderr)
    shm = tempfile.mkdtemp(dir="/dev/shm")
    try:
        p = baseline("run", "--policy", pol, "--state-dir", state, "--directory", shm)
        tap(p.returncode == 1 and "no block device under it" in p.stderr, "a tmpfs folder is refused", p.stderr)
    finally:
        os.rmdir(shm)
    return 0


if __name__ == "__main__":
    taplib.run(main, "test_baseline")
