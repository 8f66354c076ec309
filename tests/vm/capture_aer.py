#!/usr/bin/env python3
"""capture_aer.py NAME - boot the node-in-a-box, raise real AER errors on the virtio-net function
(QEMU's pcie_aer_inject_error: correctable RCVR x2 and BAD_TLP, uncorrectable POISON_TLP), let the
guest kernel's AER driver count them, then record the guest as tests/fixtures/NAME (capture.py
--preset inspect run in the guest, see docs/node-in-a-box.md). Nothing in the tree is hand-written:
the counters are what the guest's aer_dev_* files said."""
import sys, time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import nib  # noqa: E402


def main(name):
    dest = nib.REPO / "tests" / "fixtures" / name
    if dest.exists():
        raise SystemExit(f"{dest} exists: remove it first")
    with nib.Guest(nib.full_devices(), name="capture-aer") as g:
        g.out("/nib/setup.sh nvme; /nib/setup.sh nics", timeout=180)
        for err in ("-c nic2 RCVR", "-c nic2 RCVR", "-c nic2 BAD_TLP", "nic2 POISON_TLP"):
            print(err, "->", g.qmp.hmp(f"pcie_aer_inject_error {err}").strip() or "ok")
            time.sleep(2)  # the guest's AER driver handles each message from its IRQ
        print(g.out("for f in /sys/bus/pci/devices/*/aer_dev_correctable; do echo $f; cat $f; done", timeout=60))
        nib.guest_capture(g, dest)
    print(f"captured the guest into {dest}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    main(sys.argv[1])
