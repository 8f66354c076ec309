#!/bin/bash
# Replays every fuzz target once over its seed corpus and its saved crash inputs
# (tests/fuzz/corpus/<t>, tests/fuzz/regress/<t>) under ASan/UBSan: no fuzzing,
# just the regression check that runs in `make check`. TAP output.
set -u
cd "$(dirname "$0")/../.."
. tests/taplib.sh
shopt -s nullglob
bins=(build-fuzz/fuzz_*)
[ ${#bins[@]} -gt 0 ] || tap_bail "no fuzz targets built (make fuzz-build)"
for bin in "${bins[@]}"; do
	t=${bin#build-fuzz/fuzz_}
	files=(tests/fuzz/corpus/"$t"/* tests/fuzz/regress/"$t"/*)
	if [ ${#files[@]} -eq 0 ]; then
		tap FAIL "$t: no seed corpus in tests/fuzz/corpus/$t"
	elif "$bin" -runs=0 "${files[@]}" >"build-fuzz/replay-$t.log" 2>&1; then
		tap OK "$t replays ${#files[@]} inputs"
	else
		tap FAIL "$t crashed on a saved input" "$(tail -20 "build-fuzz/replay-$t.log")"
	fi
done
tap_finish
