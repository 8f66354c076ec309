#!/bin/sh
# Per-section benchmark figures, called by bench.py with the binary: runs every tests/bench/section_*.py.
cd "$(dirname "$0")/../.."
for s in tests/bench/section_*.py; do
	[ -f "$s" ] && python3 "$s" "${1:-build/nodeprint}"
done
exit 0
