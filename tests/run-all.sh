#!/usr/bin/env bash
# tests/run-all.sh "MAKE" TARGET... - run each test target, then one total.
#
# Every suite ends with a line "<suite>: N passed, M failed"; this adds them
# up. A target that fails without such a line (a build error, a crash)
# counts as one failure. All targets run even when one fails, so one
# report shows everything; the exit status is non-zero if anything failed.
set -uo pipefail

make_cmd=$1
shift
total_passed=0
total_failed=0
log=$(mktemp /tmp/warden-test.XXXXXX)
trap 'rm -f "$log"' EXIT

for target in "$@"; do
	echo "== $target"
	start=$(date +%s)
	# shellcheck disable=SC2086 # make_cmd is a command with its options
	$make_cmd "$target" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	summary=$(grep -E '^[A-Za-z0-9_-]+( \([a-z]+\))?: [0-9]+ passed, [0-9]+ failed' "$log" || true)
	if [ -n "$summary" ]; then
		p=$(echo "$summary" | sed -E 's/.*: ([0-9]+) passed.*/\1/' | awk '{s += $1} END {print s + 0}')
		f=$(echo "$summary" | sed -E 's/.* ([0-9]+) failed.*/\1/' | awk '{s += $1} END {print s + 0}')
	else
		p=0
		f=0
	fi
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "== $target failed (status $rc) without a test failure: counted as one"
		f=1
	fi
	total_passed=$((total_passed + p))
	total_failed=$((total_failed + f))
	echo "== $target: $p passed, $f failed ($(($(date +%s) - start)) s)"
done
echo "test: $total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
