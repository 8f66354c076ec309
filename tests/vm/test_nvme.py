#!/usr/bin/env python3
"""test_nvme.py - node-in-a-box, NVMe group: QEMU's NVMe controller under the guest's nvme driver; the
nvme section's identity equals `nvme id-ctrl`, its SMART page equals `nvme smart-log -o json` (Debian's
nvme-cli in the same guest); a critical warning set from the host (QMP qom-set smart_critical_warning)
is decoded into its named bits.
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nib  # noqa: E402

SERIAL = "NIB0001"
# nodeprint smart field -> nvme-cli 2.3 `smart-log -o json` key (counters above 2^53 are strings there)
SMART = {"critical_warning": "critical_warning", "temperature_kelvin": "temperature",
         "available_spare_percent": "avail_spare", "available_spare_threshold_percent": "spare_thresh",
         "percentage_used": "percent_used", "data_units_read": "data_units_read",
         "data_units_written": "data_units_written", "host_read_commands": "host_read_commands",
         "host_write_commands": "host_write_commands", "controller_busy_time_minutes": "controller_busy_time",
         "power_cycles": "power_cycles", "power_on_hours": "power_on_hours",
         "unsafe_shutdowns": "unsafe_shutdowns", "media_errors": "media_errors",
         "num_err_log_entries": "num_err_log_entries", "warning_temp_time_minutes": "warning_temp_time",
         "critical_comp_time_minutes": "critical_comp_time"}
BITS = ["available_spare", "temperature", "reliability", "read_only", "volatile_memory_backup",
        "persistent_memory_region"]


def ctrl(rep, name="nvme0"):
    for c in rep["nvme"]["controllers"]:
        if c["name"] == name:
            return c
    raise KeyError(f"{name} not in the nvme section: {rep['nvme']}")


def smart_cmp(tap, g, what):
    rep = g.inspect("--only nvme")
    sl = g.json("nvme smart-log /dev/nvme0 -o json")
    sm = ctrl(rep)["smart"]
    got = {k: int(sm[k]) for k in SMART}
    want = {k: int(sl[v]) for k, v in SMART.items()}
    tap.eq(got, want, f"nvme {what}: SMART fields equal `nvme smart-log -o json`")
    return sm


def identity(tap, g):
    g.out("/nib/setup.sh nvme")
    rep = g.inspect("--only nvme")
    tap.eq(rep["nvme"].get("error"), None, "nvme: section has no error")
    tap.eq([c["name"] for c in rep["nvme"]["controllers"]], ["nvme0"], "nvme: one controller, nvme0")
    c = ctrl(rep)
    tap.eq(c.get("error"), None, "nvme0: no error (admin commands went through libnvme)")
    idc = g.json("nvme id-ctrl /dev/nvme0 -o json")
    tap.eq((c["model"], c["serial"], c["firmware_rev"]), (idc["mn"].strip(), idc["sn"].strip(), idc["fr"].strip()),
           "nvme0: model, serial, firmware_rev equal `nvme id-ctrl` (trimmed)")
    tap.eq((c["model"], c["serial"]), ("QEMU NVMe Ctrl", SERIAL), "nvme0: model is QEMU's, serial the -device serial=")
    qv = re.search(r"version (\d+\.\d+\.\d+)", subprocess.run(["qemu-system-x86_64", "--version"],
                   stdout=subprocess.PIPE, text=True).stdout)
    tap.eq(c["firmware_rev"], qv and qv[1][:8], "nvme0: firmware_rev is the QEMU version running it")
    sysfs = {k: g.out(f"cat /sys/class/nvme/nvme0/{k}").strip() for k in ("transport", "address", "state")}
    tap.eq({k: c[k] for k in sysfs}, sysfs, "nvme0: transport, address, state equal sysfs (pcie, live)")
    ns = c["namespaces"]
    tap.eq([(n["name"], n["nsid"], n["size_bytes"]) for n in ns],
           [("nvme0n1", 1, int(g.out("cat /sys/block/nvme0n1/size")) * 512)], "nvme0: namespace nvme0n1, nsid 1, size = sysfs")
    tap.eq(ns[0]["size_bytes"], 64 << 20, "nvme0n1: 64 MiB, the backing file's size")


def smart(tap, g):
    g.out("dd if=/dev/nvme0n1 of=/dev/null bs=4k count=256 iflag=direct && "
          "dd if=/dev/zero of=/dev/nvme0n1 bs=4k count=128 oflag=direct")
    sm = smart_cmp(tap, g, "after I/O")
    tap.ok(int(sm["host_read_commands"]) > 0 and int(sm["host_write_commands"]) > 0,
           "nvme0: host read and write command counters moved after direct I/O", sm)
    tap.eq(sm["temperature_celsius"], sm["temperature_kelvin"] - 273, "nvme0: temperature_celsius = kelvin - 273")
    tap.eq((int(sm["data_read_bytes"]), int(sm["data_written_bytes"])),
           (int(sm["data_units_read"]) * 512000, int(sm["data_units_written"]) * 512000),
           "nvme0: data_*_bytes = data units x 512,000")
    tap.eq((sm["critical_warning"], sm["critical_warning_bits"]), (0, []), "nvme0: no critical warning before the fault")


def critical_warning(tap, g):
    """The host sets bits 0 (spare) and 2 (reliability) of the controller's critical warning."""
    g.qmp.execute("qom-set", path="/machine/peripheral/nvme0", property="smart_critical_warning", value=5)
    sm = smart_cmp(tap, g, "after QMP smart_critical_warning=5")
    tap.eq((sm["critical_warning"], sm["critical_warning_bits"]), (5, ["available_spare", "reliability"]),
           "nvme0: critical_warning 5 decoded as available_spare + reliability")
    g.qmp.execute("qom-set", path="/machine/peripheral/nvme0", property="smart_critical_warning", value=8)
    sm = smart_cmp(tap, g, "after QMP smart_critical_warning=8")
    tap.eq(sm["critical_warning_bits"], ["read_only"], "nvme0: critical_warning 8 decoded as read_only")


if __name__ == "__main__":
    nib.run_group("nvme", nib.Devices().nvme(serial=SERIAL), [identity, smart, critical_warning])
