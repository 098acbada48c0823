#!/usr/bin/env bash
# tests/lib/uids.sh - the host uid range of jobs on this kernel
# (docs/cli.md, "Host uids"), for the suites that source it.
# shellcheck disable=SC2034 # UID_FIRST and UID_LAST are the callers' too

IFS=- read -r UID_FIRST UID_LAST <<<"${WARDEN_UID_RANGE:-60578-61183}"

# in_uid_range ID: is ID a number of the range?
in_uid_range() { [[ $1 =~ ^[0-9]+$ ]] && ((UID_FIRST <= $1 && $1 <= UID_LAST)); }

# distinct_uids FILE_A FILE_B: the first lines of the two files are two
# different uids of the range; otherwise false, with the reason in $why.
distinct_uids() {
	local a b
	a=$(head -1 "$1")
	b=$(head -1 "$2")
	in_uid_range "$a" || { why="first uid '$a', not in $UID_FIRST-$UID_LAST"; return 1; }
	in_uid_range "$b" || { why="second uid '$b', not in $UID_FIRST-$UID_LAST"; return 1; }
	[[ $a != "$b" ]] || { why="both ran as uid $a"; return 1; }
}

# held_and_forked HELD_OUT OTHER_OUT STATUS NPROC WHO: the first job held
# NPROC - 1 processes (its RLIMIT_NPROC) while the other, run meanwhile with
# STATUS, could still fork; otherwise false, with the reason in $why. WHO
# names the two in messages ("job", "command").
held_and_forked() {
	grep -q "^held $(($4 - 1)): Resource temporarily unavailable" "$1" ||
		{ why="the first $5: $(head -1 "$1"), want $(($4 - 1)) held"; return 1; }
	if [[ $3 -ne 0 ]] || ! grep -qx forked "$2"; then
		why="the second $5 could not fork (status $3): $(head -c 200 "$2")"
		return 1
	fi
}
