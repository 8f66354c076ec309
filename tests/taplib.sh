# shellcheck shell=bash
# taplib.sh - TAP for nodeprint's bash tests, the bash side of tests/taplib.py (one copy: every bash
# suite sources it; tests/run.sh counts the lines).
#   tap OK|FAIL name [detail]  prints "ok N - name" or "not ok N - name" and, on a failure, the first
#                              30 lines of detail as "# " comments; returns 0 on OK, 1 on FAIL
#   tap_finish                 prints the plan "1..N"; returns 1 when a test failed, else 0
#   tap_bail name [detail]     one failing line, the plan, exit 1 (a prerequisite is missing)
# TAP_N and TAP_FAILED are the counts so far.
TAP_N=0
TAP_FAILED=0

tap() {
	TAP_N=$((TAP_N + 1))
	if [ "$1" = OK ]; then
		echo "ok $TAP_N - $2"
		return 0
	fi
	echo "not ok $TAP_N - $2"
	TAP_FAILED=$((TAP_FAILED + 1))
	if [ -n "${3-}" ]; then printf '%s\n' "$3" | head -30 | sed 's/^/# /'; fi
	return 1
}

tap_finish() {
	echo "1..$TAP_N"
	[ "$TAP_FAILED" -eq 0 ]
}

tap_bail() {
	tap FAIL "$1" "${2-}"
	tap_finish
	exit 1
}
