#!/bin/bash
# run.sh - fuzz every target for $1 seconds (default 30) with libFuzzer.
# Corpus: tests/fuzz/corpus/<target>/ (seeds from real captures; grows in build-fuzz/corpus).
# A crash is copied to tests/fuzz/regress/<target>/ so the test suite replays it forever.
set -u
cd "$(dirname "$0")/../.."
secs=${1:-30}
rc=0
for bin in build-fuzz/fuzz_*; do
	[ -x "$bin" ] || continue
	t=${bin#build-fuzz/fuzz_}
	work=build-fuzz/corpus/$t art=build-fuzz/artifacts/$t/
	mkdir -p "$work" "$art" "tests/fuzz/regress/$t"
	seeds=(); [ -d "tests/fuzz/corpus/$t" ] && seeds+=("tests/fuzz/corpus/$t")
	echo "== fuzz $t for ${secs}s"
	if ! "$bin" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=1024 -artifact_prefix="$art" \
		"$work" "${seeds[@]}" >"build-fuzz/$t.log" 2>&1; then
		rc=1
		tail -30 "build-fuzz/$t.log"
		cp "$art"/crash-* "$art"/leak-* "$art"/timeout-* "tests/fuzz/regress/$t/" 2>/dev/null
		echo "!! $t crashed; the input is now in tests/fuzz/regress/$t/ - fix it and commit that file"
	else
		grep -E '^(#[0-9]+.*DONE|Done)' "build-fuzz/$t.log" | tail -1
	fi
done
exit $rc
