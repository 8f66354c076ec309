#!/bin/sh
# make bench: figures, not a pass/fail test. See bench.py.
set -e
cd "$(dirname "$0")/../.."
exec python3 tests/bench/bench.py "${1:-build/nodeprint}"
