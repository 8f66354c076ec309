#!/usr/bin/env python3
"""End-to-end: the net section of `nodeprint inspect` on this real machine.

TAP output. Independent sources: `ethtool -i`, `ethtool -k` and `ethtool` (ethtool package),
`ip -s -s -j link` (iproute2), and /sys/class/net, /proc/interrupts, /proc/stat read by this test.
Counters move between two reads: error and drop counters are compared exactly, byte and packet
counters must lie between a read taken before and one taken after nodeprint runs.
"""
import glob, json, os, re, subprocess, sys

import report_schema

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/: taplib
import taplib  # noqa: E402
from taplib import tap  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("NODEPRINT", os.path.join(ROOT, "build", "nodeprint"))

# `ethtool -k` shows these features under the legacy names of ethtool's off_flag_def table;
# each stands for exactly one kernel feature (the multi-feature groups tx-checksumming,
# scatter-gather and tcp-segmentation-offload are shown with their members indented).
LEGACY = {
    "rx-checksumming": "rx-checksum", "udp-fragmentation-offload": "tx-udp-fragmentation",
    "generic-segmentation-offload": "tx-generic-segmentation", "generic-receive-offload": "rx-gro",
    "large-receive-offload": "rx-lro", "rx-vlan-offload": "rx-vlan-hw-parse",
    "tx-vlan-offload": "tx-vlan-hw-insert", "ntuple-filters": "rx-ntuple-filter",
    "receive-hashing": "rx-hashing",
}
GROUPS = {"tx-checksumming", "scatter-gather", "tcp-segmentation-offload"}


def run(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def sysfs_stats(ifname):
    d = f"/sys/class/net/{ifname}/statistics"
    out = {}
    for f in sorted(os.listdir(d)):
        try:
            with open(os.path.join(d, f)) as fh:
                out[f] = int(fh.read())
        except OSError:
            pass
    return out


def read(path):
    with open(path) as f:
        return f.read().strip()


def ethtool_i(ifname):
    """`ethtool -i` split at the first ': ' only (case 26); empty and N/A -> None."""
    p = run("ethtool", "-i", ifname)
    out = {}
    for line in p.stdout.splitlines():
        k, sep, v = line.partition(":")
        if not sep:
            continue
        v = v[1:] if v.startswith(" ") else v
        v = v.strip()
        out[k.strip()] = None if v in ("", "N/A") else v
    return p.returncode, out


def ethtool_k(ifname):
    p = run("ethtool", "-k", ifname)
    out = {}
    for line in p.stdout.splitlines()[1:]:
        k, sep, v = line.strip().partition(": ")
        if sep:
            out[k] = v.strip()
    return p.returncode, out


def ethtool_link(ifname):
    p = run("ethtool", ifname)
    m = re.search(r"Speed: (\d+)Mb/s", p.stdout)
    d = re.search(r"Duplex: (Full|Half)", p.stdout)
    return (int(m.group(1)) if m else None), (d.group(1).lower() if d else None)


def pci_ids(ifname):
    """vendor:device of the first PCI ancestor of the interface's device (this test's own walk)."""
    p = os.path.realpath(f"/sys/class/net/{ifname}/device")
    while p.startswith("/sys/devices/") and p != "/sys/devices":
        sub = os.path.join(p, "subsystem")
        if os.path.islink(sub) and os.path.basename(os.readlink(sub)) == "pci":
            break
        p = os.path.dirname(p)
    else:
        p = os.path.realpath(f"/sys/class/net/{ifname}/device")
    return (read(os.path.join(p, "vendor")).replace("0x", ""),
            read(os.path.join(p, "device")).replace("0x", ""), p)


def proc_interrupts():
    with open("/proc/interrupts") as f:
        lines = f.read().splitlines()
    ncpu = len(lines[0].split())
    out = {}
    for l in lines[1:]:
        label, _, rest = l.partition(":")
        words = rest.split()
        counts = []
        for w in words[:ncpu]:
            if not w.isdigit():
                break
            counts.append(int(w))
        out[label.strip()] = (counts, words[-1] if len(words) > len(counts) else None)
    return ncpu, out


def check_nic(nic, before, after):
    name = nic["name"]
    rc, ei = ethtool_i(name)
    tap(rc == 0, f"{name}: ethtool -i runs")
    for ours, theirs in (("driver", "driver"), ("driver_version", "version"),
                         ("firmware_version", "firmware-version"), ("bus_info", "bus-info")):
        tap(nic[ours] == ei.get(theirs), f"{name}: {ours} equals ethtool -i {theirs}",
            f"ours={nic[ours]!r} ethtool={ei.get(theirs)!r}")
    tap(nic["driver_version_is_kernel_release"] == (nic["driver_version"] == os.uname().release),
        f"{name}: driver_version_is_kernel_release matches uname -r")

    rc, ek = ethtool_k(name)
    feats = nic["features"] or {}
    tap(rc == 0 and len(feats) > 0, f"{name}: features reported ({len(feats)})")
    compared, bad = 0, []
    for k, v in ek.items():
        if k in GROUPS:
            continue
        kern = LEGACY.get(k, k)
        if kern in feats:
            compared += 1
            if feats[kern] != v:
                bad.append(f"{k}: ours={feats[kern]!r} ethtool={v!r}")
    tap(not bad, f"{name}: {compared} features have ethtool -k's on/off/fixed value", "\n".join(bad))
    missing = [k for k in ek if k not in GROUPS and LEGACY.get(k, k) not in feats]
    tap(compared >= 20 and not missing, f"{name}: every ethtool -k feature is reported", missing)

    speed, duplex = ethtool_link(name)
    tap(nic["speed_mbps"] == speed, f"{name}: speed equals ethtool ({speed})", nic["speed_mbps"])
    tap(nic["duplex"] == duplex, f"{name}: duplex equals ethtool ({duplex})", nic["duplex"])

    ipj = json.loads(run("ip", "-s", "-s", "-j", "link", "show", name).stdout)[0]
    tap(nic["mtu"] == ipj["mtu"], f"{name}: mtu equals ip -j link", f"{nic['mtu']} vs {ipj['mtu']}")
    tap(nic["operstate"].upper() == ipj["operstate"], f"{name}: operstate equals ip -j link",
        f"{nic['operstate']} vs {ipj['operstate']}")
    tap(nic["ifindex"] == ipj["ifindex"], f"{name}: ifindex equals ip -j link")

    st = nic["stats"]
    tap(set(st) == set(before), f"{name}: stats names are exactly the sysfs statistics files",
        sorted(set(st) ^ set(before)))
    exact = [k for k in before if re.search(r"errors|dropped|collisions", k)]
    bad = [k for k in exact if not (before[k] == st.get(k) == after[k])]
    tap(not bad, f"{name}: {len(exact)} error/drop counters equal sysfs", bad)
    mono = [k for k in ("rx_bytes", "tx_bytes", "rx_packets", "tx_packets") if k in before]
    bad = [k for k in mono if not before[k] <= st.get(k, -1) <= after[k]]
    tap(len(mono) == 4 and not bad, f"{name}: byte/packet counters within sysfs before..after", bad)
    s64 = ipj["stats64"]
    pairs = [("rx_errors", s64["rx"]["errors"]), ("tx_errors", s64["tx"]["errors"]),
             ("rx_dropped", s64["rx"]["dropped"]), ("tx_dropped", s64["tx"]["dropped"])]
    # case 27: iproute2's "overrun" (old) and "missed" (new) are two different kernel counters
    if "over_errors" in s64["rx"]:
        pairs.append(("rx_over_errors", s64["rx"]["over_errors"]))
    if "missed_errors" in s64["rx"]:
        pairs.append(("rx_missed_errors", s64["rx"]["missed_errors"]))
    bad = [f"{k}: ours={st.get(k)} ip={v}" for k, v in pairs if st.get(k) != v]
    tap(not bad, f"{name}: {len(pairs)} counters equal ip -s -s -j link stats64", "\n".join(bad))
    tap("rx_missed_errors" in st and "rx_over_errors" in st and "missed" not in st and "overrun" not in st,
        f"{name}: missed and overrun kept as rx_missed_errors and rx_over_errors")

    qdir = f"/sys/class/net/{name}/queues"
    tap(nic["rx_queues"] == len(glob.glob(qdir + "/rx-*")) and nic["tx_queues"] == len(glob.glob(qdir + "/tx-*")),
        f"{name}: rx/tx queue counts equal sysfs queues/", f"{nic['rx_queues']}/{nic['tx_queues']}")

    vendor, device, pdir = pci_ids(name)
    tap((nic["vendor_id"], nic["device_id"]) == (vendor, device), f"{name}: vendor/device ids equal sysfs {vendor}:{device}")

    ncpu, irqs = proc_interrupts()
    msi = sorted(os.listdir(os.path.join(pdir, "msi_irqs"))) if os.path.isdir(os.path.join(pdir, "msi_irqs")) else []
    ours = [q["irq"] for q in nic["irqs"]]
    tap(set(msi) <= set(ours), f"{name}: every MSI vector of the device is listed ({len(msi)})",
        f"msi={msi} ours={ours}")
    bad = []
    for q in nic["irqs"]:
        counts, action = irqs.get(q["irq"], ([], None))
        if q["name"] != action or len(q["per_cpu"]) != ncpu or q["total"] != sum(q["per_cpu"]):
            bad.append(q["irq"])
        elif any(a > b for a, b in zip(q["per_cpu"], counts)):  # counts only grow
            bad.append(q["irq"])
    tap(not bad, f"{name}: IRQ lines match /proc/interrupts (name, columns, counts <= now)", bad)
    if nic["irq_skew_percent"] is not None:
        tap(100.0 / ncpu - 0.01 <= nic["irq_skew_percent"] <= 100.0,
            f"{name}: irq skew {nic['irq_skew_percent']}% within [100/ncpu, 100]")


def check_interval(devs):
    """--interval: the rates' interrupt count fits within what /proc/interrupts moved around the run."""
    if not devs:
        return
    _, before = proc_interrupts()
    p = run(BIN, "inspect", "-o", "json", "--only", "net", "--interval", "0.5")
    _, after = proc_interrupts()
    tap(p.returncode == 0, "inspect --interval 0.5 exits 0", p.stderr)
    if p.returncode != 0:
        return
    sec = report_schema.loads(p.stdout)["net"]
    tap(sec.get("interval_s") == 0.5, "interval_s is 0.5", sec.get("interval_s"))
    si = sec.get("softirq_interval_percent_per_cpu") or []
    tap(len(si) == len(sec["softirq_percent_per_cpu"]) and all(v is None or 0 <= v <= 100 for v in si),
        "softirq_interval_percent_per_cpu: one 0..100 figure (or null) per CPU", si)
    for nic in sec["interfaces"]:
        rates = nic.get("rates") or {}
        lines = [q["irq"] for q in nic["irqs"]]
        moved = sum(sum(after[i][0]) - sum(before[i][0]) for i in lines if i in before and i in after)
        ips = rates.get("irqs_per_s")
        tap(ips is not None and 0 <= ips * 0.5 <= moved + 0.01,
            f"{nic['name']}: rates.irqs_per_s x interval ({ips}) within the {moved} interrupts seen around the run")


def check_documented(sec):
    """Every JSON key of the section (interfaces, irqs, rates included) is documented in docs/report/net.md."""
    with open(os.path.join(ROOT, "docs", "report", "net.md")) as f:
        doc = f.read()
    keys = set(sec)
    for i in sec["interfaces"]:
        keys |= set(i)
        for q in i["irqs"]:
            keys |= set(q)
        keys |= set(i.get("rates") or {})
    keys |= {"interval_s", "softirq_interval_percent_per_cpu", "rates", "irqs_per_s"}
    missing = sorted(k for k in keys if not any(f"`{form}`" in doc for form in (k, f"{k}[]", f"irqs[].{k}")))
    tap(not missing, f"all {len(keys)} net JSON keys are documented in docs/report/net.md", missing)


def main():
    for tool in ("ethtool", "ip"):
        if run("sh", "-c", f"command -v {tool}").returncode != 0:
            tap(False, f"{tool} is installed (scripts/deps.sh test)")
            return
    devs = sorted(i for i in os.listdir("/sys/class/net") if os.path.exists(f"/sys/class/net/{i}/device"))
    before = {i: sysfs_stats(i) for i in devs}
    p = run(BIN, "inspect", "-o", "json", "--only", "net")
    after = {i: sysfs_stats(i) for i in devs}
    tap(p.returncode == 0, "nodeprint inspect -o json --only net exits 0", p.stderr)
    if p.returncode != 0:
        return
    doc = report_schema.loads(p.stdout)
    sec = doc["net"]
    tap("error" not in sec, "net section has no error", sec.get("error"))
    nics = {i["name"]: i for i in sec["interfaces"]}
    tap(sorted(nics) == devs, "interfaces are exactly those with a sysfs device", f"{sorted(nics)} vs {devs}")
    tap("eth0" in nics and nics["eth0"]["driver"] == "virtio_net", "eth0 has driver virtio_net")
    for name in devs:
        if name in nics:
            tap("error" not in nics[name], f"{name}: no per-interface error", nics[name].get("error"))
            check_nic(nics[name], before[name], after[name])

    with open("/proc/stat") as f:
        cpus = [int(l.split()[0][3:]) for l in f if re.match(r"cpu\d+ ", l)]
    sq = sec["softirq_percent_per_cpu"]
    tap(len(sq) == max(cpus) + 1 and all(sq[c] is not None and 0 <= sq[c] <= 100 for c in cpus),
        f"softirq_percent_per_cpu has a 0..100 figure for each of {len(cpus)} CPUs", sq)

    check_interval(devs)
    check_documented(doc["net"])

    items = [c for c in doc["fingerprint"]["components"] if c["component"] == "nic"]
    want = set()
    for name in devs:
        i = nics.get(name)
        if i:
            v, d, _ = pci_ids(name)
            want.add((f"{i['driver']} {v}:{d}",
                      f"driver {i['driver_version'] or 'none'} firmware {i['firmware_version'] or 'none'}"))
    tap({(c["key"], c["value"]) for c in items} == want, "bundle has one nic item per driver and device model",
        f"{items} vs {want}")


if __name__ == "__main__":
    taplib.run(main, "test_net")
