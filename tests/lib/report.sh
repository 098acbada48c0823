# shellcheck shell=bash
# tests/lib/report.sh - one line per test and the closing count (sourced).
#
#   ok NAME            the test passed
#   fail NAME REASON   it failed, and why
#   report_end SUITE   prints "SUITE: N passed, M failed"; status 1 if any failed
#
# A suite may define report_detail NAME, called after each failure to show
# more (a console log, say).

passed=0
failed=0

ok() {
	echo "ok $1"
	passed=$((passed + 1))
}

fail() {
	echo "FAIL $1: $2"
	failed=$((failed + 1))
	if declare -F report_detail >/dev/null; then report_detail "$1"; fi
}

report_end() {
	echo "$1: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}
