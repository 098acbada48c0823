# shellcheck shell=bash
# tests/lib/report.sh - one line per test and the closing count (sourced).
#
#   ok NAME            the test passed
#   fail NAME REASON   it failed, and why
#   skip NAME REASON   it cannot run on this machine (a missing layer): said
#                      on stdout and stderr, counted neither way
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

skip() {
	echo "SKIP $1: $2"
	echo "SKIP $1: $2" >&2
}

report_end() {
	echo "$1: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

# wait_for_line FILE TEXT SECONDS: until a line of FILE contains TEXT
# (status 0), or SECONDS have passed (status 1). Polls every 0.1 s.
wait_for_line() {
	local file=$1 text=$2 i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -qF -- "$text" "$file" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
