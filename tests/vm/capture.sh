#!/bin/sh
# capture.sh NAME - boot the node-in-a-box with all its devices and drivers and save the guest's
# /sys, /proc and kernel log subset as the fixture tree tests/fixtures/NAME (see docs/node-in-a-box.md).
set -eu
[ $# -eq 1 ] || { echo "usage: $0 NAME" >&2; exit 2; }
exec python3 "$(dirname "$0")/nib.py" capture "$1"
