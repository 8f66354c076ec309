#!/usr/bin/env python3
"""test_gpu.py - node-in-a-box, the gpu section on a real kernel: QEMU's standard VGA (PCI class 0x030000,
1234:1111) is the one display controller; its class, IDs and (absent) driver equal sysfs; no NVIDIA
driver, so no nvidia_version; without a driver no fingerprint item. The NVIDIA parts (/proc/driver/nvidia)
are unproven here: no such GPU in the lab.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nib  # noqa: E402


def display(tap, g):
    rep = g.inspect("--only gpu")
    want = []
    for p in g.out("ls -d /sys/bus/pci/devices/*").split():
        cls = g.out(f"cat {p}/class").strip()
        if cls[2:4] in ("03", "12"):
            drv = g.out(f"[ -e {p}/driver ] && basename $(readlink {p}/driver); true").strip() or None
            want.append({"address": os.path.basename(p), "class": cls[2:], "vendor_id": g.out(f"cat {p}/vendor").strip()[2:],
                         "device_id": g.out(f"cat {p}/device").strip()[2:], "driver": drv})
    got = [{k: d[k] for k in ("address", "class", "vendor_id", "device_id", "driver")} for d in rep["gpu"]["devices"]]
    tap.eq(got, want, "gpu: display/accelerator functions (class 03xx/12xx), IDs and driver = sysfs")
    tap.eq([(d["class"], d["vendor_id"], d["device_id"]) for d in rep["gpu"]["devices"]], [("030000", "1234", "1111")],
           "gpu: exactly QEMU's VGA (030000, 1234:1111)")
    tap.eq(rep["gpu"]["nvidia_version"], None, "gpu: no /proc/driver/nvidia: nvidia_version null")
    tap.eq([c for c in rep["fingerprint"]["components"] if c["component"] == "gpu"], [],
           "gpu: no driver bound: no fingerprint item")


SCENARIOS = [display]

if __name__ == "__main__":
    d = nib.Devices()
    d.args += ["-device", "VGA"]
    nib.run_group("gpu", d, SCENARIOS)
