#!/bin/sh
# aer_inject.sh DOMAIN:BUS:DEV.FN UNCOR_STATUS COR_STATUS - software AER error injection in the guest
# (CONFIG_PCIEAER_INJECT): writes struct aer_error_inj (drivers/pci/pcie/aer_inject.c: u8 bus, dev, fn,
# pad; u32 uncor_status, cor_status, header_log[4], domain; 32 bytes little-endian) to /dev/aer_inject.
# QEMU 7.2 does not deliver correctable errors injected from the host; this path reaches the same AER
# driver code (aer_isr -> aer_print_error -> aer_stats) as a real root port interrupt.
set -eu
addr=$1 uncor=$(($2)) cor=$(($3))
dom=$((0x${addr%%:*})); rest=${addr#*:}
bus=$((0x${rest%%:*})); df=${rest#*:}
dev=$((0x${df%%.*})); fn=$((0x${df#*.}))
[ -e /dev/aer_inject ] || modprobe aer_inject
o() { printf '\\%03o' "$1"; }
le32() { o $(($1 & 255)); o $((($1 >> 8) & 255)); o $((($1 >> 16) & 255)); o $((($1 >> 24) & 255)); }
# shellcheck disable=SC2059
printf "$(o $bus)$(o $dev)$(o $fn)$(o 0)$(le32 $uncor)$(le32 $cor)$(le32 0)$(le32 0)$(le32 0)$(le32 0)$(le32 $dom)" > /dev/aer_inject
