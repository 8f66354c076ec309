#!/bin/bash
# Replays every fuzz target once over its seed corpus and its saved crash inputs
# (tests/fuzz/corpus/<t>, tests/fuzz/regress/<t>) under ASan/UBSan: no fuzzing,
# just the regression check that runs in `make check`. TAP output.
set -u
cd "$(dirname "$0")/../.."
n=0
shopt -s nullglob
bins=(build-fuzz/fuzz_*)
if [ ${#bins[@]} -eq 0 ]; then
	echo "not ok 1 - no fuzz targets built (make fuzz-build)"
	exit 1
fi
for bin in "${bins[@]}"; do
	t=${bin#build-fuzz/fuzz_}
	files=(tests/fuzz/corpus/"$t"/* tests/fuzz/regress/"$t"/*)
	n=$((n + 1))
	if [ ${#files[@]} -eq 0 ]; then
		echo "not ok $n - $t: no seed corpus in tests/fuzz/corpus/$t"
		continue
	fi
	if "$bin" -runs=0 "${files[@]}" >"build-fuzz/replay-$t.log" 2>&1; then
		echo "ok $n - $t replays ${#files[@]} inputs"
	else
		echo "not ok $n - $t crashed on a saved input"
		tail -20 "build-fuzz/replay-$t.log" | sed 's/^/# /'
	fi
done
