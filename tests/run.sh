#!/bin/bash
# run.sh - run nodeprint's test suites and print one closing line "N passed, N failed".
#   tests/run.sh            every suite
#   tests/run.sh unit e2e   only those suites (unit, asan, e2e, image, vm, kube, cluster, helm, node, fuzz-regress)
# Every test reports TAP ("ok N - name" / "not ok N - name"); this script counts them.
# A suite that cannot run (missing prerequisite) fails loudly; it never passes silently.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=(unit asan fuzz-regress e2e image vm kube cluster helm node)
export CMOCKA_MESSAGE_OUTPUT=tap
LOG=${NP_TEST_LOG:-build/test-logs}
mkdir -p "$LOG"
pass=0 fail=0 failed_names=()

# count TAP lines of one runner's output; $1 = label, rest = command
run_tap() {
	local label=$1; shift
	local out="$LOG/${label//\//_}.log" rc
	"$@" >"$out" 2>&1; rc=$?
	local p f
	p=$(grep -cE '^ok [0-9]+' "$out")
	f=$(grep -cE '^not ok [0-9]+' "$out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi   # crashed or refused: count as a failure
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; fi     # ran nothing: a failure, never a silent pass
	pass=$((pass + p)); fail=$((fail + f))
	printf '%-40s %3d passed, %d failed\n' "$label" "$p" "$f"
	if [ "$f" -gt 0 ]; then
		failed_names+=("$label")
		grep -E '^not ok|^# ' "$out" | head -40 | sed 's/^/    /'
		[ "$rc" -ne 0 ] && tail -20 "$out" | sed 's/^/    | /'
	fi
}

unit_in() {
	local dir=$1 label=$2 t
	for t in "$dir"/tests/test_*; do
		[ -x "$t" ] || continue
		run_tap "$label/$(basename "$t")" env NP_SRCDIR="$ROOT" "$t"
	done
}

# the Kubernetes test world (kubectl, helm, control plane) at its pinned versions: every suite that
# runs `kubectl` gets the one tests/cluster/build.sh built first on PATH, never the machine's
for s in "${suites[@]}"; do
	case $s in
	vm | kube | cluster | helm | node)
		if k8s_bin=$(tests/cluster/build.sh 2>"$LOG/test-world-build.log"); then
			export PATH="$k8s_bin:$PATH"
		else
			echo "run.sh: tests/cluster/build.sh failed (see $LOG/test-world-build.log):" >&2
			tail -5 "$LOG/test-world-build.log" >&2
		fi
		break ;;
	esac
done

for s in "${suites[@]}"; do
	case $s in
	unit) unit_in build unit ;;
	asan) ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		unit_in build-asan asan ;;
	e2e | image | vm | kube | cluster | helm | node | fuzz-regress)
		for t in tests/"$s"/test_*.sh tests/"$s"/test_*.py; do
			[ -f "$t" ] || continue
			run_tap "$s/$(basename "$t")" "$t"
		done ;;
	*) echo "run.sh: unknown suite '$s'" >&2; exit 2 ;;
	esac
done
echo
if [ ${#failed_names[@]} -gt 0 ]; then echo "failed: ${failed_names[*]}"; fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
