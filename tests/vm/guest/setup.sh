#!/bin/sh
# setup.sh WHAT... - load drivers in the guest and wait until their devices exist.
#   nvme | nics | multipath (scsi_debug: one LU behind 2 hosts, dm map "mpatha") | aer | all
# Prints nothing on success; a device that does not appear is an error (exit 1).
wait_for() { # path [tenths]
	i=0; while [ ! -e "$1" ] && [ $i -lt "${2:-100}" ]; do sleep 0.1; i=$((i + 1)); done
	[ -e "$1" ] || { echo "setup: $1 did not appear" >&2; exit 1; }
}
nvme() {
	modprobe nvme && wait_for /dev/nvme0n1
}
nics() {
	modprobe e1000e && modprobe virtio_net || exit 1
	wait_for /sys/class/net/eth0; wait_for /sys/class/net/eth1
	for d in /sys/class/net/eth*; do ip link set "${d##*/}" up; done
	# the link comes up asynchronously (e1000e: "NIC Link is Up" a moment later)
	for d in /sys/class/net/eth*; do
		i=0; while [ "$(cat "$d/operstate")" != up ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
		[ "$(cat "$d/operstate")" = up ] || { echo "setup: ${d##*/} link not up" >&2; exit 1; }
	done
}
multipath() {
	# One scsi_debug LU reached through two hosts: two SCSI disks with one WWID, the two paths of one map.
	modprobe scsi_debug add_host=2 num_tgts=1 max_luns=1 vpd_use_hostno=0 dev_size_mb=16 \
		inq_vendor=NIBVEND inq_product=NIBDISK || exit 1
	modprobe sd_mod; modprobe dm-multipath; modprobe dm-round-robin
	wait_for /sys/block/sda/dev; wait_for /sys/block/sdb/dev
	a=$(cat /sys/block/sda/dev); b=$(cat /sys/block/sdb/dev)
	wwid=$(sed 's/^naa\./3/' /sys/block/sda/device/wwid)
	DM_DISABLE_UDEV=1 dmsetup create mpatha --uuid "mpath-$wwid" \
		--table "0 $(cat /sys/block/sda/size) multipath 0 0 1 1 round-robin 0 2 1 $a 1 $b 1" || exit 1
}
aer() {
	modprobe aer_inject || exit 1
	wait_for /dev/aer_inject
}
for w in "$@"; do
	case $w in
	all) nvme; nics; multipath; aer ;;
	nvme | nics | multipath | aer) $w ;;
	*) echo "setup: unknown '$w'" >&2; exit 2 ;;
	esac
done
