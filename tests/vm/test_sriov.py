#!/usr/bin/env python3
"""test_sriov.py - node-in-a-box, SR-IOV on a real kernel: QEMU 7.2's NVMe controller as an SR-IOV
physical function (nvme-subsys, sriov_max_vfs=2). The pci section's `sriov` equals sysfs before and
after `echo 2 > sriov_numvfs` (total_vfs, num_vfs, each VF's address from virtfnN and its driver: the
nvme driver's probe of a VF without flexible resources assigned fails, so none is bound), and after
`echo 0` the VFs are gone.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nib  # noqa: E402


def devices():
    d = nib.Devices()
    rp = d._root_port()
    d.files.append(("nvme0.img", 64))
    d.args += ["-drive", "file=@RUN@/nvme0.img,if=none,id=nvme0d,format=raw",
               "-device", "nvme-subsys,id=s0,nqn=nib-sriov",
               "-device", f"nvme,serial=NIBSRIOV,id=nvme0,bus={rp},subsys=s0,sriov_max_vfs=2,sriov_vq_flexible=4,"
                          "sriov_vi_flexible=2,max_ioqpairs=8,msix_qsize=8",
               "-device", "nvme-ns,drive=nvme0d,nsid=1"]
    return d


def pf(g):
    return g.out("dirname $(ls -d /sys/bus/pci/devices/*/sriov_totalvfs | head -1)").strip()


def sriov(g, addr):
    rep = g.inspect("--only pci")
    for d in rep["pci"]["devices"]:
        if d["address"] == addr:
            return d["sriov"]
    raise KeyError(addr)


def want(g, p):
    vfs = []
    for v in g.out(f"ls -d {p}/virtfn* 2>/dev/null; true").split():
        drv = g.out(f"[ -e {v}/driver ] && basename $(readlink {v}/driver); true").strip() or None
        vfs.append({"address": g.out(f"basename $(readlink -f {v})").strip(), "driver": drv})
    return {"total_vfs": int(g.out(f"cat {p}/sriov_totalvfs")), "num_vfs": int(g.out(f"cat {p}/sriov_numvfs")),
            "vfs": sorted(vfs, key=lambda x: x["address"])}


def vfs(tap, g):
    g.out("modprobe nvme; i=0; while [ ! -e /dev/nvme0 ]; do sleep 0.1; i=$((i+1)); [ $i -lt 100 ] || break; done")
    p = pf(g)
    addr = os.path.basename(p)
    got = sriov(g, addr)
    tap.eq(got, want(g, p), f"sriov: {addr} before: total_vfs, num_vfs, vfs = sysfs")
    tap.eq((got or {}).get("total_vfs"), 2, "sriov: total_vfs 2 (QEMU sriov_max_vfs=2)")
    g.out(f"echo 2 > {p}/sriov_numvfs; sleep 1")
    got = sriov(g, addr)
    w = want(g, p)
    tap.eq(got and dict(got, vfs=sorted(got["vfs"], key=lambda x: x["address"])), w,
           f"sriov: after echo 2 > sriov_numvfs: num_vfs 2, each VF's address (virtfnN) and driver = sysfs")
    tap.eq(len(w["vfs"]), 2, "sriov: two VFs in sysfs")
    g.out(f"echo 0 > {p}/sriov_numvfs; sleep 1")
    got = sriov(g, addr)
    tap.eq((got or {}).get("num_vfs"), 0, "sriov: echo 0: num_vfs 0")
    tap.eq((got or {}).get("vfs"), [], "sriov: echo 0: no VF left")


SCENARIOS = [vfs]

if __name__ == "__main__":
    nib.run_group("sriov", devices(), SCENARIOS)
