#!/usr/bin/env bash
# tests/run-unit.sh - run cmocka unit-test binaries and count their cases.
#
# Usage: tests/run-unit.sh FLAVOUR BINARY...
#
# Shows each binary's own cmocka output, a per-binary tally, and ends with
# the one line CI reads:
#
#   unit-FLAVOUR: N passed, M failed
#
# Counting: a case passes only when cmocka printed "[       OK ] NAME" for
# it. Every other case the binary announced ("Running K test(s)") counts as
# failed, so a binary that dies half-way (a sanitizer report, a signal)
# fails all the cases it did not finish. A binary that exits non-zero after
# all its cases passed (a leak report at exit) counts as one more failure,
# and so does a binary that is missing or announces no cases at all.
# Exits 1 if anything failed.
set -euo pipefail

if [[ $# -lt 2 ]]; then
	echo "usage: tests/run-unit.sh FLAVOUR BINARY..." >&2
	exit 2
fi
flavour=$1
shift

# Each binary may take this long; a hang is a failure, not a stuck CI job.
readonly BINARY_TIMEOUT_S=300

# cmocka's plain format is the one parsed below, whatever the caller's environment says.
export CMOCKA_MESSAGE_OUTPUT=STDOUT

log=$(mktemp)
trap 'rm -f -- "$log"' EXIT

passed=0
failed=0
for bin in "$@"; do
	name=$(basename -- "$bin")
	echo "== $name ($flavour)"
	if [[ ! -x $bin ]]; then
		echo "$name: not built ($bin missing)"
		failed=$((failed + 1))
		continue
	fi
	rc=0
	timeout -s KILL "$BINARY_TIMEOUT_S" "$bin" >"$log" 2>&1 || rc=$?
	cat -- "$log"

	announced=$(sed -n 's/^\[==========\] Running \([0-9][0-9]*\) test(s)\.$/\1/p' "$log" |
		head -n 1)
	ok=$(grep -c '^\[       OK \] ' "$log" || true)
	if [[ -z $announced || $announced -eq 0 ]]; then
		echo "$name: FAILED: ran no test case (exit status $rc)"
		failed=$((failed + 1))
		continue
	fi
	bad=$((announced - ok))
	echo "$name: $ok of $announced cases passed, exit status $rc"
	if [[ $rc -ne 0 && $bad -eq 0 ]]; then
		echo "$name: FAILED: non-zero exit after all cases passed (see the report above)"
		bad=1
	fi
	passed=$((passed + ok))
	failed=$((failed + bad))
done

echo "unit-$flavour: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
