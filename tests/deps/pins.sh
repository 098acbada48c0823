#!/usr/bin/env bash
# tests/deps/pins.sh - a third-party tarball that does not match its pinned
# SHA-256 stops the build with one clear line, and nothing is unpacked.
#
# Works on copies in a temporary cache: the real build/dl is only read.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK=$(mktemp -d /tmp/warden-pins.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
# shellcheck source=tests/lib/report.sh
. "$ROOT/tests/lib/report.sh"

test_tampered_tarball_stops_the_build_unpacked_nothing() {
	local t=${FUNCNAME[0]} rc=0 out lines
	mkdir -p "$WORK/dl" "$WORK/src"
	cp "$ROOT"/build/dl/cjson_* "$WORK/dl/" 2>/dev/null || { fail "$t" "no cjson tarballs in build/dl (run make deps)"; return; }
	# One flipped byte in the middle of the upstream tarball.
	printf '\xff' | dd of="$WORK/dl/cjson_1.7.15.orig.tar.gz" bs=1 seek=1000 conv=notrunc status=none
	out=$(WARDEN_DL_DIR="$WORK/dl" WARDEN_SRC_DIR="$WORK/src" "$ROOT/deps/fetch.sh" cjson 2>&1) || rc=$?
	lines=$(printf '%s\n' "$out" | grep -c 'mismatch' || true)
	if [ "$rc" -eq 0 ]; then fail "$t" "fetch.sh accepted a tampered tarball"; return; fi
	if [ "$lines" -ne 1 ] || ! printf '%s\n' "$out" | grep -q 'cjson_1.7.15.orig.tar.gz: SHA-256 mismatch (expected 5308fd4b'; then
		fail "$t" "no single clear mismatch line: $out"
		return
	fi
	if [ -n "$(ls -A "$WORK/src")" ]; then fail "$t" "something was unpacked"; return; fi
	ok "$t"
}

test_tampered_tarball_stops_the_build_unpacked_nothing
report_end deps
