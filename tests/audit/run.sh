#!/usr/bin/env bash
# tests/audit/run.sh BINDIR KERNEL_DIR IMAGE - the signed audit log, end to end.
#
# Jobs run in a real QEMU microVM (qemu) and in local mode (local), keep
# their log with --audit-dir, and `warden audit verify` judges it:
#
#   - every event class of docs/audit.md appears, and the log verifies;
#   - an exec path with terminal control sequences reaches no terminal raw
#     (run -v, audit show, audit show --json);
#   - tampering (a flipped byte, a deleted, swapped or inserted line, a
#     cut tail, a rollback to an older prefix, another key) is caught and
#     the first bad record named; the intact log passes;
#   - openssl(1) verifies checkpoint signatures made in the guest;
#   - segments rotate and prune keeps what it must;
#   - faults: the collector stopped for 10 s (the agent waits, nothing is
#     lost), the collector's disk full (the job fails closed, what is stored
#     verifies), a chatty job's records all arrive, gap-free;
#   - floods: 16 threads looping on one denied call make a small log whose
#     counts add up to the denials the agent saw; a small budget
#     (audit.max_records, audit.max_bytes) ends the job with status 123, a
#     line naming it, and a log that closes with the limit record, the
#     job's end and a checkpoint, and verifies.
#   - exec records name the file that ran: a caller that flips its exec's
#     path while it is read (execrace), execs of a memfd (memfdexec), an
#     exec of a 4000-byte path of control bytes (execlong: the record cut,
#     not lost, and the job's status the exec's own).
#
# Each test prints "ok NAME" or "FAIL NAME: why"; the last line is
# "audit: N passed, M failed". Needs root (local mode does).
set -euo pipefail

if [[ $# -ne 3 ]]; then
	echo "usage: tests/audit/run.sh BINDIR KERNEL_DIR IMAGE" >&2
	exit 2
fi
BIN=$(cd -- "$1" && pwd)
KERNEL=$(cd -- "$2" && pwd)/vmlinuz
IMAGE=$(cd -- "$(dirname -- "$3")" && pwd)/$(basename -- "$3")
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$HERE/../.." && pwd)
WARDEN=$BIN/warden
CHATTY=$BIN/tests/audit/chatty
FLOOD=$BIN/tests/audit/flood
readonly JOB_LIMIT_S=900
# The chatty job's size: a million records in both modes (under TCG the
# microVM's takes some minutes: about 2 500 records a second).
readonly CHATTY_LOCAL=${AUDIT_CHATTY_LOCAL:-1000000}
readonly CHATTY_QEMU=${AUDIT_CHATTY_QEMU:-1000000}

# shellcheck source=tests/lib/report.sh
. "$ROOT/tests/lib/report.sh"
# shellcheck source=tests/lib/procs.sh
. "$ROOT/tests/lib/procs.sh"
# shellcheck source=tests/lib/terminal.sh
. "$ROOT/tests/lib/terminal.sh"

WORK=$(mktemp -d /tmp/warden-audit.XXXXXX)
cleanup() {
	if mountpoint -q "$WORK/full" 2>/dev/null; then umount "$WORK/full"; fi
	[[ -n ${AUDIT_KEEP:-} ]] || rm -rf -- "$WORK"
}
trap cleanup EXIT

report_detail() {
	if [[ -s $WORK/err ]]; then sed 's/^/    stderr| /' "$WORK/err" | tail -15; fi
	if [[ -s $WORK/verify ]]; then sed 's/^/    verify| /' "$WORK/verify" | tail -5; fi
}

# policy FILE [TOP-LEVEL MEMBERS]: for local mode, the layers this kernel
# lacks turned off (said once, loudly); for the microVM, as given.
policy() {
	local file=$1 top=${2:-} said
	said=$("$ROOT/tests/lib/local-policy.sh" "$file.local" "" "$top")
	if [[ -n $said && ! -e $WORK/said ]]; then
		echo "audit: --vmm local on this kernel: $said" >&2
		: >"$WORK/said"
	fi
	printf '{"sandbox": {"landlock": false}%s}\n' "${top:+, $top}" >"$file.qemu"
}

# wrun MODE DIR POLICY [OPTIONS] -- ARGV: a job whose log goes to DIR.
wrun() {
	local mode=$1 dir=$2 pol=$3 vm=()
	shift 3
	[[ $mode == qemu ]] && vm=(--kernel "$KERNEL" --image "$IMAGE")
	timeout -s KILL "$JOB_LIMIT_S" "$WARDEN" run --vmm "$mode" "${vm[@]}" \
		--policy "$pol.$mode" --audit-dir "$dir" --file "$CHATTY:chatty" "$@"
}

# verify ARGS...: `warden audit verify`, output in $WORK/verify; the status.
verify() {
	local rc=0
	"$WARDEN" audit verify "$@" >"$WORK/verify" 2>&1 || rc=$?
	return "$rc"
}

# The records of DIR's log (one log per directory here), without headers.
records() {
	cat "$1"/audit-*.jsonl | grep -v '^{"segment":'
}

count() { records "$1" | grep -c "$2" || true; }

# ---- the events --------------------------------------------------------------

test_every_event_class_is_recorded() {
	local mode=$1 t="${FUNCNAME[0]}[$1]" rc=0 dir=$WORK/events-$1 want missing=()
	policy "$WORK/events" '"audit": {"checkpoint_every": 5}'
	wrun "$mode" "$dir" "$WORK/events" -- /bin/sh -c './chatty 3; exit 3' \
		>"$WORK/out" 2>"$WORK/err" || rc=$?
	[[ $rc -eq 3 ]] || { fail "$t" "exit status $rc, want 3"; return; }
	verify "$dir" || { fail "$t" "verify: status $?"; return; }
	for want in lifecycle/start lifecycle/boot auth/channel lifecycle/job policy/load \
		policy/layer-off process/start process/exec seccomp/deny lifecycle/job-end \
		audit/checkpoint lifecycle/shutdown; do
		[[ $(count "$dir" "\"activity\":\"${want#*/}\",.*\"class\":\"${want%/*}\"") -gt 0 ]] ||
			missing+=("$want")
	done
	[[ ${#missing[@]} -eq 0 ]] || { fail "$t" "no record of: ${missing[*]}"; return; }
	[[ $(count "$dir" '"class":"seccomp"') -eq 3 ]] ||
		{ fail "$t" "$(count "$dir" '"class":"seccomp"') seccomp records, want 3"; return; }
	# The shell and chatty: two execs, the first the agent's own.
	[[ $(count "$dir" '"activity":"exec",.*"path":"./chatty"') -eq 1 ]] ||
		{ fail "$t" "no process/exec record of ./chatty"; return; }
	# PID 1 did the boot's hardening in the microVM, not in local mode.
	if [[ $mode == qemu ]] && [[ $(count "$dir" '"activity":"boot",.*"modules_locked":true') -ne 1 ]]; then
		fail "$t" "the microVM's boot record does not say the modules are locked"
		return
	fi
	ok "$t"
}

test_deadline_is_recorded() {
	local mode=$1 t="${FUNCNAME[0]}[$1]" rc=0 dir=$WORK/deadline-$1
	policy "$WORK/deadline"
	wrun "$mode" "$dir" "$WORK/deadline" --timeout 2s -- /bin/sleep 60 \
		>"$WORK/out" 2>"$WORK/err" || rc=$?
	[[ $rc -eq 124 ]] || { fail "$t" "exit status $rc, want 124"; return; }
	verify "$dir" || { fail "$t" "verify: status $?"; return; }
	[[ $(count "$dir" '"activity":"deadline",.*"class":"limit"') -eq 1 ]] ||
		{ fail "$t" "no limit/deadline record"; return; }
	ok "$t"
}

# The memory limit is a cgroup's: the microVM has cgroup2 (this host may not).
test_oom_kill_is_recorded() {
	local t="${FUNCNAME[0]}[qemu]" rc=0 dir=$WORK/oom
	printf '{"sandbox": {"cgroup": {"memory_mib": 24}}}\n' >"$WORK/oom.qemu"
	# shellcheck disable=SC2016 # the agent's shell expands it
	wrun qemu "$dir" "$WORK/oom" -- /bin/sh -c \
		'v=$(head -c 67108864 /dev/zero | tr "\0" x); echo ${#v}' \
		>"$WORK/out" 2>"$WORK/err" || rc=$?
	verify "$dir" || { fail "$t" "verify: status $?"; return; }
	[[ $(count "$dir" '"activity":"memory",.*"class":"limit"') -eq 1 ]] ||
		{ fail "$t" "no limit/memory record (exit status $rc)"; return; }
	ok "$t"
}

# The supervisor fails (an upload larger than the working directory): why
# is a record, before the ERROR frame, and a checkpoint covers it.
test_supervisor_failure_is_recorded() {
	local t=${FUNCNAME[0]} rc=0 dir=$WORK/failure
	policy "$WORK/failure"
	head -c $((80 << 20)) /dev/zero >"$WORK/big"
	timeout -s KILL "$JOB_LIMIT_S" "$WARDEN" run --vmm local --mem 64 --policy "$WORK/failure.local" \
		--audit-dir "$dir" --file "$WORK/big:big" -- /bin/true >"$WORK/out" 2>"$WORK/err" || rc=$?
	rm -f -- "$WORK/big"
	[[ $rc -eq 125 ]] || { fail "$t" "exit status $rc, want 125"; return; }
	verify "$dir" || { fail "$t" "verify: status $?"; return; }
	[[ $(count "$dir" '"activity":"failure",.*"class":"lifecycle".*No space left on device') -eq 1 ]] ||
		{ fail "$t" "no lifecycle/failure record with the reason"; return; }
	ok "$t"
}

# show: one line per record, filtered by class and outcome; --json the
# records themselves.
test_show_filters() {
	local t=${FUNCNAME[0]} dir=$WORK/events-local n
	[[ -d $dir ]] || { fail "$t" "no log from the events test"; return; }
	"$WARDEN" audit show "$dir" --class seccomp >"$WORK/show" 2>&1 || { fail "$t" "status $?"; return; }
	n=$(wc -l <"$WORK/show")
	[[ $n -eq 3 ]] || { fail "$t" "--class seccomp: $n lines, want 3"; return; }
	grep -c 'seccomp/deny  denied' "$WORK/show" | grep -qx 3 || { fail "$t" "lines: $(head -1 "$WORK/show")"; return; }
	"$WARDEN" audit show "$dir" --outcome failure --json >"$WORK/show" 2>&1 || { fail "$t" "status $?"; return; }
	[[ $(grep -c '"outcome":"failure"' "$WORK/show") -eq $(wc -l <"$WORK/show") && -s $WORK/show ]] ||
		{ fail "$t" "--outcome failure --json: $(head -c 200 "$WORK/show")"; return; }
	"$WARDEN" audit show "$dir" --since 2000-01-01T00:00:00Z --until 2000-01-02T00:00:00Z >"$WORK/show" 2>&1 ||
		{ fail "$t" "status $?"; return; }
	[[ ! -s $WORK/show ]] || { fail "$t" "records from the year 2000"; return; }
	ok "$t"
}

# ---- terminal control characters ----------------------------------------------

# The agent execs a path of its choosing that holds ESC [ 2 J (clear the
# screen), OSC 52 (write the clipboard, BEL-terminated), CSI and OSC as C1
# (U+009B, U+009D) and DEL. The exec record carries the path; wherever
# warden prints that record for a person (`run -v`, `audit show`, `audit
# show --json`) no raw control byte may reach the output, and the escaped
# form must. The log with the escaped record verifies (the guest's writer
# and the host's canonical check agree); the same log with the C1 control
# put back raw does not, and `show` still prints it escaped.
test_control_characters_are_escaped() {
	local mode=$1 t="${FUNCNAME[0]}[$1]" rc=0 dir=$WORK/controls-$1 vm=() seg
	local job=$EXEC_JOB want=$EXEC_PATH_ESCAPED
	policy "$WORK/controls"
	[[ $mode == qemu ]] && vm=(--kernel "$KERNEL" --image "$IMAGE")
	timeout -s KILL "$JOB_LIMIT_S" "$WARDEN" run --vmm "$mode" "${vm[@]}" \
		--policy "$WORK/controls.$mode" -v -- /bin/sh -c "$job" >"$WORK/out" 2>"$WORK/err" ||
		rc=$?
	[[ $rc -eq 0 ]] || { fail "$t" "run -v: exit status $rc"; return; }
	grep -qF "record: {\"activity\":\"exec\"" "$WORK/err" ||
		{ fail "$t" "run -v printed no exec record"; return; }
	raw_controls "$WORK/err" && { fail "$t" "run -v: a raw control byte on stderr"; return; }
	grep -qF "\"path\":\"$want\"" "$WORK/err" ||
		{ fail "$t" "run -v: no escaped path on stderr"; return; }

	rc=0
	wrun "$mode" "$dir" "$WORK/controls" -- /bin/sh -c "$job" >"$WORK/out" 2>"$WORK/err" || rc=$?
	[[ $rc -eq 0 ]] || { fail "$t" "run --audit-dir: exit status $rc"; return; }
	verify "$dir" || { fail "$t" "the log with the escaped path does not verify: $?"; return; }
	[[ $(records "$dir" | grep -cF "\"path\":\"$want\"") -eq 1 ]] ||
		{ fail "$t" "no exec record with the escaped path in the log"; return; }
	"$WARDEN" audit show "$dir" --json >"$WORK/show" 2>&1 || { fail "$t" "show --json: $?"; return; }
	raw_controls "$WORK/show" && { fail "$t" "show --json: a raw control byte"; return; }
	# A verified record comes out byte for byte.
	records "$dir" | cmp -s - "$WORK/show" || { fail "$t" "show --json changed a record"; return; }
	"$WARDEN" audit show "$dir" --class process >"$WORK/show" 2>&1 || { fail "$t" "show: $?"; return; }
	raw_controls "$WORK/show" && { fail "$t" "show: a raw control byte"; return; }
	grep -qF "$want" "$WORK/show" || { fail "$t" "show: no escaped path"; return; }

	# The record with its CSI raw (as a guest writing RFC 8259's minimum
	# would): not canonical, and shown escaped all the same.
	rm -rf -- "$WORK/controls-raw"
	cp -a -- "$dir" "$WORK/controls-raw"
	seg=$(echo "$WORK"/controls-raw/audit-*.000001.jsonl)
	sed -i 's/\\u009b1m/\xc2\x9b1m/' "$seg"
	cmp -s "$seg" "$dir/${seg##*/}" && { fail "$t" "no CSI to put back raw"; return; }
	rc=0
	verify "$WORK/controls-raw" || rc=$?
	[[ $rc -eq 1 ]] || { fail "$t" "a raw C1 control verifies (status $rc)"; return; }
	grep -q "raw C1 control" "$WORK/verify" || { fail "$t" "verify does not say why"; return; }
	raw_controls "$WORK/verify" && { fail "$t" "verify printed a raw control byte"; return; }
	"$WARDEN" audit show "$WORK/controls-raw" --json >"$WORK/show" 2>&1 ||
		{ fail "$t" "show --json (raw): $?"; return; }
	raw_controls "$WORK/show" && { fail "$t" "show --json passed a raw C1 control"; return; }
	grep -qF "$want" "$WORK/show" || { fail "$t" "show --json (raw): no escaped path"; return; }
	ok "$t"
}

# ---- exec records ----------------------------------------------------------------

PROGS=$BIN/tests/audit

# no_exec_audit MODE POLICY: true (and says so) when the local policy had
# to turn exec records off: this kernel has no fanotify permission events.
no_exec_audit() {
	[[ $1 == local ]] && grep -q '"exec": false' "$2.local"
}

# exec_job MODE NAME WANT TEST ARGS...: one of the exec tests' jobs, its
# log in $WORK/NAME-MODE; fails (or skips, saying why) unless it ends with
# status WANT and its log verifies.
exec_job() {
	local mode=$1 name=$2 want=$3 t=$4 rc=0
	shift 4
	policy "$WORK/$name"
	if no_exec_audit "$mode" "$WORK/$name"; then
		skip "$t" "no fanotify permission events here"
		return 1
	fi
	wrun "$mode" "$WORK/$name-$mode" "$WORK/$name" "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
	[[ $rc -eq $want ]] || { fail "$t" "exit status $rc, want $want"; return 1; }
	verify "$WORK/$name-$mode" || { fail "$t" "verify: status $?"; return 1; }
}

# The main records (not an interpreter's) whose file has DIGEST.
ran_digest() {
	count "$1" "\"activity\":\"exec\",.*\"sha256\":\"$2\",\"size\":[0-9]*},\"requested\""
}

# One thread flips the path of its exec between /bin/true and ./evil while
# the supervisor reads it (200 execs from vfork children, which share the
# memory). Each record must name the file that ran: as many records carry
# ./evil's digest as ./evil ran (its exit status, and its marks in a log),
# and some ran one program while asking for the other, or the race never
# happened and nothing was shown.
test_exec_records_name_what_ran() {
	local mode=$1 t="${FUNCNAME[0]}[$1]" dir=$WORK/race-$1 evil line ran_true ran_evil marks
	local named swapped
	evil=$(sha256sum <"$PROGS/evil" | cut -d' ' -f1)
	exec_job "$mode" race 0 "$t" --file "$PROGS/evil:evil" --file "$PROGS/execrace:execrace" \
		-- ./execrace 200 || return 0
	line=$(grep '^execrace: ' "$WORK/out") || { fail "$t" "no result from execrace"; return; }
	read -r ran_true ran_evil marks < <(awk '{print $3, $5, $9}' <<<"$line")
	[[ $ran_evil -eq $marks ]] || { fail "$t" "$line: evil's statuses and marks differ"; return; }
	named=$(ran_digest "$dir" "$evil")
	[[ $named -eq $ran_evil ]] ||
		{ fail "$t" "$line, but $named records name ./evil's file"; return; }
	# Every child whose exec ran has its record: the program's own, and one each.
	[[ $(count "$dir" '"activity":"exec",.*"requested":') -eq $((ran_true + ran_evil + 1)) ]] ||
		{ fail "$t" "$line, $(count "$dir" '"activity":"exec",.*"requested":') exec records"; return; }
	swapped=$(($(records "$dir" | grep "\"sha256\":\"$evil\"" |
		grep -c '"requested":{[^}]*"path":"/bin/true"' || true) +
		$(records "$dir" | grep '"requested":{[^}]*"path":"./evil"' | grep -vc "\"sha256\":\"$evil\"" || true)))
	[[ $swapped -gt 0 ]] ||
		{ fail "$t" "$line: no exec ran other than it asked (the race did not happen)"; return; }
	ok "$t ($line; $swapped ran the other program than they asked for)"
}

# A memfd run with execveat(AT_EMPTY_PATH) and through /proc/self/fd: both
# ran, and both records name the memfd and its digest (./evil's bytes).
test_memfd_execs_are_recorded() {
	local mode=$1 t="${FUNCNAME[0]}[$1]" dir=$WORK/memfd-$1 evil
	evil=$(sha256sum <"$PROGS/evil" | cut -d' ' -f1)
	exec_job "$mode" memfd 0 "$t" --file "$PROGS/evil:evil" --file "$PROGS/memfdexec:memfdexec" \
		-- ./memfdexec ./evil || return 0
	grep -q '^memfdexec: empty-path 42 proc-fd 42$' "$WORK/out" ||
		{ fail "$t" "$(grep '^memfdexec' "$WORK/out" || echo 'no result')"; return; }
	[[ $(count "$dir" "\"path\":\"/memfd:memfdexec (deleted)\",\"sha256\":\"$evil\"") -eq 2 ]] ||
		{ fail "$t" "not two records of the memfd with ./evil's digest"; return; }
	[[ $(count "$dir" '"requested":{[^}]*"flags":4096,"path":"","syscall":"execveat"') -eq 1 ]] ||
		{ fail "$t" "no record of the execveat with AT_EMPTY_PATH as asked"; return; }
	ok "$t"
}

# An exec by a path of 3990 control bytes (each 6 bytes of JSON) with
# 288 KiB of control-laden arguments: its record is there, cut within the
# record's bound with the lengths and digests of the whole paths, the log
# verifies, and the job's status is the exec'd program's (7), not warden's.
test_long_exec_record_is_cut_not_lost() {
	local mode=$1 t="${FUNCNAME[0]}[$1]" dir=$WORK/long-$1 data
	exec_job "$mode" long 7 "$t" --file "$PROGS/execlong:execlong" -- ./execlong || return 0
	grep -q '^execlong: child ran, argc 5$' "$WORK/out" || { fail "$t" "the copy never ran"; return; }
	data=$(records "$dir" | grep '"activity":"exec",.*"requested":{"argc":5,' |
		sed 's/.*"data":\(.*\),"metadata".*/\1/') || { fail "$t" "no record of the exec"; return; }
	[[ ${#data} -le 2048 ]] || { fail "$t" "its data is ${#data} bytes, over 2048"; return; }
	grep -q '"requested":{[^}]*"path":{"len":3990,"prefix":"\\u0001' <<<"$data" ||
		{ fail "$t" "the requested path is not cut with its length"; return; }
	grep -q '"file":{[^}]*"path":{"len":[0-9]*,"prefix":"[^"]*","sha256":"[0-9a-f]\{64\}"}' <<<"$data" ||
		{ fail "$t" "the file's path is not cut with its length and digest"; return; }
	ok "$t"
}

# ---- tampering ----------------------------------------------------------------

# A log of a few hundred records and many checkpoints to tamper with.
make_log() {
	local rc=0
	policy "$WORK/tamper" '"audit": {"checkpoint_every": 10}'
	wrun local "$WORK/orig" "$WORK/tamper" -- ./chatty 200 >"$WORK/out" 2>"$WORK/err" || rc=$?
	[[ $rc -eq 0 ]] && verify "$WORK/orig"
}

# fresh: a copy of the intact log in $WORK/t; prints its segment's path.
fresh() {
	rm -rf -- "$WORK/t"
	cp -a -- "$WORK/orig" "$WORK/t"
	echo "$WORK"/t/audit-*.000001.jsonl
}

# expect_caught NAME WHAT [VERIFY ARGS]: verify must fail (1) and name WHAT.
expect_caught() {
	local t=$1 what=$2 rc=0
	shift 2
	verify "$WORK/t" "$@" || rc=$?
	[[ $rc -eq 1 ]] || { fail "$t" "verify: status $rc, want 1"; return; }
	grep -q -- "$what" "$WORK/verify" || { fail "$t" "the report does not say '$what'"; return; }
	ok "$t"
}

test_tampering_is_caught() {
	local seg n
	if ! make_log; then
		fail "tampering" "no intact log to start from (verify status: $?)"
		return
	fi
	ok "intact_log_verifies"

	# Line k+1 is record k (line 1 is the segment header).
	seg=$(fresh)
	sed -i '51s/"syscall":"unshare"/"syscall":"unshard"/' "$seg"
	if cmp -s "$seg" "$WORK"/orig/audit-*.000001.jsonl; then
		fail flipped_byte_is_caught "record 50 is not a denial: nothing was changed"
	else
		expect_caught flipped_byte_is_caught "record 50"
	fi

	seg=$(fresh)
	sed -i '81d' "$seg"
	expect_caught deleted_line_is_caught "record 81"

	seg=$(fresh)
	awk 'NR == 61 { held = $0; next } NR == 62 { print; print held; next } { print }' "$seg" \
		>"$seg.swapped" && mv "$seg.swapped" "$seg"
	expect_caught swapped_lines_are_caught "record 61"

	seg=$(fresh)
	sed -i '100r /dev/stdin' "$seg" < <(sed -n '90p' "$seg")
	expect_caught inserted_line_is_caught "record 89"

	seg=$(fresh)
	n=$(wc -l <"$seg")
	head -n $((n - 5)) "$seg" >"$seg.cut" && mv "$seg.cut" "$seg"
	expect_caught cut_tail_is_caught "truncated or rolled back"

	# A rollback: the log cut after an older checkpoint, its .checkpoint
	# replaced by that one, so the directory is consistent in itself. The
	# final checkpoint kept elsewhere (the run's summary) catches it.
	seg=$(fresh)
	cp -- "$WORK"/t/audit-*.checkpoint "$WORK/real-final"
	n=$(grep -n '"activity":"checkpoint"' "$seg" | sed -n '5p' | cut -d: -f1)
	head -n "$n" "$seg" >"$seg.old" && mv "$seg.old" "$seg"
	sed -n "${n}p" "$seg" | sed 's/.*"note":"\([^"]*\)".*/\1/' |
		{ IFS= read -r note; printf '%b' "$note"; } >"$WORK"/t/audit-*.checkpoint
	if verify "$WORK/t"; then ok "rollback_is_consistent_in_itself"; else
		fail "rollback_is_consistent_in_itself" "verify: status $?"; fi
	expect_caught rollback_is_caught_by_the_kept_checkpoint "truncated or rolled back" \
		--checkpoint "$WORK/real-final"

	# Another key: the log pinned to a key that did not sign it.
	fresh >/dev/null
	openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null |
		openssl pkey -pubout -out "$WORK/other.pem" 2>/dev/null
	expect_caught other_key_is_refused "another key" --pubkey "$WORK/other.pem"
	fresh >/dev/null
	if verify "$WORK/t" --pubkey "$WORK"/t/audit-*.pub; then ok "own_key_verifies"; else
		fail "own_key_verifies" "verify: status $?"; fi
}

# ---- openssl ------------------------------------------------------------------

# openssl_verifies NOTEFILE PEM: the note's signature, checked by openssl.
openssl_verifies() {
	local note=$1 pem=$2 n
	n=$(grep -n '^$' "$note" | head -1 | cut -d: -f1)
	head -n $((n - 1)) "$note" >"$WORK/body"
	sed -n "$((n + 1))p" "$note" | awk '{print $NF}' | base64 -d | tail -c +5 >"$WORK/sig.der"
	openssl dgst -sha256 -verify "$pem" -signature "$WORK/sig.der" "$WORK/body" >/dev/null 2>&1
}

test_openssl_verifies_guest_checkpoints() {
	local mode=$1 t="${FUNCNAME[0]}[$1]" dir=$WORK/events-$1 note
	[[ -d $dir ]] || { fail "$t" "no log from the events test"; return; }
	openssl_verifies "$dir"/audit-*.checkpoint "$dir"/audit-*.pub ||
		{ fail "$t" "openssl: the final checkpoint does not verify"; return; }
	# A checkpoint from the middle of the log, from its record.
	note=$(records "$dir" | grep '"activity":"checkpoint"' | head -1 |
		sed 's/.*"note":"\([^"]*\)".*/\1/')
	printf '%b' "$note" >"$WORK/mid.note"
	openssl_verifies "$WORK/mid.note" "$dir"/audit-*.pub ||
		{ fail "$t" "openssl: a checkpoint record's note does not verify"; return; }
	# And a signature openssl must refuse: the tree size changed.
	sed -i '2s/^[0-9]*/9999/' "$WORK/mid.note"
	openssl_verifies "$WORK/mid.note" "$dir"/audit-*.pub &&
		{ fail "$t" "openssl accepts a changed checkpoint"; return; }
	ok "$t"
}

# ---- segments -----------------------------------------------------------------

test_segments_rotate_and_prune_keeps_what_it_must() {
	local t=${FUNCNAME[0]} rc=0 dir=$WORK/segments segs left
	policy "$WORK/segments"
	wrun local "$dir" "$WORK/segments" --audit-segment-mib 1 -- ./chatty 6000 \
		>"$WORK/out" 2>"$WORK/err" || rc=$?
	[[ $rc -eq 0 ]] || { fail "$t" "exit status $rc"; return; }
	segs=$(find "$dir" -name 'audit-*.jsonl' | wc -l)
	[[ $segs -ge 3 ]] || { fail "$t" "$segs segments, want 3 or more"; return; }
	verify "$dir" || { fail "$t" "verify: status $?"; return; }
	"$WARDEN" audit prune "$dir" --older-than 0s >"$WORK/plan" 2>&1 ||
		{ fail "$t" "prune (plan): status $?"; return; }
	[[ $(find "$dir" -name 'audit-*.jsonl' | wc -l) -eq $segs ]] ||
		{ fail "$t" "prune without --apply removed a file"; return; }
	grep -q "^$((segs - 1)) segments to remove" "$WORK/plan" ||
		{ fail "$t" "the plan: $(tail -1 "$WORK/plan")"; return; }
	"$WARDEN" audit prune "$dir" --older-than 0s --apply >"$WORK/plan" 2>&1 ||
		{ fail "$t" "prune --apply: status $?"; return; }
	left=$(find "$dir" -name 'audit-*.jsonl' | wc -l)
	[[ $left -eq 1 ]] || { fail "$t" "$left segments left, want the last one"; return; }
	verify "$dir" || { fail "$t" "verify after prune: status $?"; return; }
	ok "$t"
}

# A segment whose content does not verify is never pruned.
test_prune_keeps_a_bad_segment() {
	local t=${FUNCNAME[0]} dir=$WORK/segments2 rc=0 first
	policy "$WORK/segments"
	wrun local "$dir" "$WORK/segments" --audit-segment-mib 1 -- ./chatty 4000 \
		>"$WORK/out" 2>"$WORK/err" || rc=$?
	[[ $rc -eq 0 ]] || { fail "$t" "exit status $rc"; return; }
	first=$(find "$dir" -name 'audit-*.000001.jsonl')
	cp -- "$first" "$WORK/first.orig"
	sed -i '0,/"syscall":"unshare"/s//"syscall":"unshard"/' "$first"
	cmp -s "$first" "$WORK/first.orig" && { fail "$t" "no denial to change in segment 1"; return; }
	"$WARDEN" audit prune "$dir" --older-than 0s --apply >"$WORK/plan" 2>&1 || true
	[[ -f $first ]] || { fail "$t" "the tampered segment was removed"; return; }
	ok "$t"
}

# ---- faults -------------------------------------------------------------------

# gap_free DIR N: the log verifies, holds N seccomp records, gap-free.
gap_free() {
	local dir=$1 n=$2 got
	verify "$dir" || { why="verify: status $?"; return 1; }
	got=$(count "$dir" '"class":"seccomp"')
	[[ $got -eq $n ]] || { why="$got seccomp records, want $n"; return 1; }
}

# The collector stops (SIGSTOP) for 10 s while the agent makes records: the
# guest's queue fills, the agent's next audited call waits, nothing is lost,
# and the stall is a record.
test_collector_stall_blocks_the_agent() {
	local mode=$1 t="${FUNCNAME[0]}[$1]" dir=$WORK/stall-$1 pid wpid rc=0 n=300000 why
	policy "$WORK/stall" '"audit": {"memory_bytes": 65536, "spill_bytes": 524288}'
	[[ $mode == qemu ]] && n=30000 # long enough to outlast the stop
	wrun "$mode" "$dir" "$WORK/stall" -- ./chatty "$n" 2 >"$WORK/out" 2>"$WORK/err" &
	pid=$!
	if ! timeout 300 bash -c "until [[ \$(cat $dir/audit-*.jsonl 2>/dev/null | wc -l) -gt 200 ]]; do
		sleep 0.1; done"; then
		kill "$pid" 2>/dev/null
		wait "$pid" || true
		fail "$t" "no records arrived"
		return
	fi
	wpid=$(launcher_pid "$dir")
	[[ -n $wpid ]] || { fail "$t" "no warden process to stop"; wait "$pid" || true; return; }
	kill -STOP "$wpid"
	sleep 10
	kill -CONT "$wpid"
	wait "$pid" || rc=$?
	[[ $rc -eq 0 ]] || { fail "$t" "exit status $rc"; return; }
	grep -q "chatty: $n denied" "$WORK/out" || { fail "$t" "the agent: $(cat "$WORK/out")"; return; }
	gap_free "$dir" "$n" || { fail "$t" "$why"; return; }
	[[ $(count "$dir" '"activity":"stall",.*"data":{"blocked_ms":[0-9]\{4,\}') -gt 0 ]] ||
		{ fail "$t" "no audit/stall record of a wait of seconds"; return; }
	ok "$t"
}

# The collector's disk fills: the job fails closed with a clear reason and
# what is stored verifies (status 2: its last records are not signed).
test_full_disk_fails_closed() {
	local mode=$1 t="${FUNCNAME[0]}[$1]" rc=0 vrc=0
	mkdir -p "$WORK/full"
	mountpoint -q "$WORK/full" || mount -t tmpfs -o size=512k tmpfs "$WORK/full"
	rm -rf "${WORK:?}/full/"*
	policy "$WORK/full-pol"
	wrun "$mode" "$WORK/full/log" "$WORK/full-pol" -- ./chatty 100000 \
		>"$WORK/out" 2>"$WORK/err" || rc=$?
	[[ $rc -eq 125 ]] || { fail "$t" "exit status $rc, want 125"; return; }
	grep -q 'No space left on device' "$WORK/err" ||
		{ fail "$t" "no clear reason on stderr"; return; }
	verify "$WORK/full/log" || vrc=$?
	[[ $vrc -eq 0 || $vrc -eq 2 ]] || { fail "$t" "what is stored does not verify ($vrc)"; return; }
	ok "$t"
}

# supervisor_of PID: the first warden-supervisor below the launcher PID
# (local mode: the supervisor is a process of this host).
supervisor_of() {
	local s p
	for s in $(pgrep -x warden-supervis); do
		p=$s
		while [[ $p -gt 1 ]]; do
			p=$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null) || break
			if [[ $p == "$1" ]]; then
				echo "$s"
				return
			fi
		done
	done
}

# The channel breaks three times mid-job, cut from outside both programs
# (tests/audit/fdcut: the socket shut down both ways, what was in flight
# lost): each time the guest resumes it, and the job ends as if nothing had
# happened: every record once and in order, every line of the agent's
# output once and in order, one auth/resume record per break. In local mode
# the second cut is the supervisor's end, so both sides see a break first.
test_channel_break_is_resumed() {
	local mode=$1 t="${FUNCNAME[0]}[$1]" dir=$WORK/resume-$1 pid wpid victim rc=0 n=400000
	local lines=100000 cut why
	policy "$WORK/resume"
	[[ $mode == qemu ]] && n=30000 lines=5000
	wrun "$mode" "$dir" "$WORK/resume" -- ./chatty "$n" 2 "$lines" >"$WORK/out" 2>"$WORK/err" &
	pid=$!
	for cut in 1 2 3; do
		# Some records between the breaks, so each is a different place.
		if ! timeout 300 bash -c "until [[ \$(cat $dir/audit-*.jsonl 2>/dev/null | wc -l) -gt $((cut * 300)) ]]; do
			sleep 0.05; done"; then
			why="too few records before break $cut"
			break
		fi
		wpid=$(launcher_pid "$dir")
		victim=$wpid
		if [[ $mode == local && $cut -eq 2 ]]; then victim=$(supervisor_of "$wpid"); fi
		[[ -n $victim ]] || { why="no process to cut at break $cut"; break; }
		"$BIN/tests/audit/fdcut" "$victim" /chan.sock >/dev/null ||
			{ why="nothing to cut at break $cut"; break; }
		if ! timeout 120 bash -c "until [[ \$(grep -c 'channel resumed' $WORK/err) -ge $cut ]]; do
			sleep 0.05; done"; then
			why="break $cut not resumed within 120 s"
			break
		fi
	done
	wait "$pid" || rc=$?
	[[ -z ${why:-} ]] || { fail "$t" "$why"; return; }
	[[ $rc -eq 0 ]] || { fail "$t" "exit status $rc"; return; }
	grep -q "chatty: $n denied" "$WORK/out" || { fail "$t" "the agent: $(tail -1 "$WORK/out")"; return; }
	seq 0 $((lines - 1)) | sed 's/^/chatty: line /' | cmp -s - <(grep '^chatty: line ' "$WORK/out") ||
		{ fail "$t" "the agent's output is not whole and in order"; return; }
	gap_free "$dir" "$n" || { fail "$t" "$why"; return; }
	[[ $(count "$dir" '"activity":"resume",.*"epoch":[123],') -eq 3 ]] ||
		{ fail "$t" "$(count "$dir" '"activity":"resume"') auth/resume records, want 3"; return; }
	ok "$t"
}

# A million distinct records: past the default budget (500 000 records,
# 256 MiB), which this policy raises.
test_chatty_job_arrives_gap_free() {
	local mode=$1 t="${FUNCNAME[0]}[$1]" rc=0 dir=$WORK/chatty-$1 n why
	n=$CHATTY_LOCAL
	[[ $mode == qemu ]] && n=$CHATTY_QEMU
	policy "$WORK/chatty" '"audit": {"max_records": 4000000, "max_bytes": 4294967296}'
	wrun "$mode" "$dir" "$WORK/chatty" -- ./chatty "$n" 4 >"$WORK/out" 2>"$WORK/err" || rc=$?
	[[ $rc -eq 0 ]] || { fail "$t" "exit status $rc"; return; }
	gap_free "$dir" "$n" || { fail "$t" "$why"; return; }
	ok "$t ($n records)"
}

# ---- floods -------------------------------------------------------------------

# sum_counts DIR: the denials DIR's seccomp/deny records stand for.
sum_counts() {
	records "$1" | grep '"class":"seccomp"' | sed -n 's/.*"count":\([0-9]*\).*/\1/p' |
		awk '{ s += $1 } END { print s + 0 }'
}

# 16 threads loop on the same denied call for 5 s (tens of thousands of
# calls a second): each thread's first denial is a record, then one a
# second with its count. The counts add up to the denials the agent itself
# saw, exactly; the log stays small and verifies.
test_flood_is_coalesced_and_counted() {
	local mode=$1 t="${FUNCNAME[0]}[$1]" rc=0 dir=$WORK/flood-$1 denied sum n
	policy "$WORK/flood"
	wrun "$mode" "$dir" "$WORK/flood" --file "$FLOOD:flood" -- ./flood 5 16 \
		>"$WORK/out" 2>"$WORK/err" || rc=$?
	[[ $rc -eq 0 ]] || { fail "$t" "exit status $rc: $(tail -1 "$WORK/out")"; return; }
	denied=$(sed -n 's/^flood: \([0-9]*\) denied$/\1/p' "$WORK/out")
	[[ -n $denied ]] || { fail "$t" "the agent did not say how many: $(cat "$WORK/out")"; return; }
	verify "$dir" || { fail "$t" "verify: status $?"; return; }
	sum=$(sum_counts "$dir")
	[[ $sum -eq $denied ]] || { fail "$t" "the records count $sum denials, the agent saw $denied"; return; }
	n=$(count "$dir" '"class":"seccomp"')
	# At most two a second per thread (an interval's end and a checkpoint).
	[[ $n -le 400 && $denied -gt $((10 * n)) ]] ||
		{ fail "$t" "$n seccomp records for $denied denials: not coalesced"; return; }
	[[ $(count "$dir" '"class":"seccomp",.*"count":[0-9]*,"errno":"EPERM","first_time":') -gt 0 ]] ||
		{ fail "$t" "no record with a count and its first and last time"; return; }
	ok "$t ($denied denials in $n records)"
}

# classes DIR: "class/activity" of each record, in order, on one line.
classes() {
	records "$1" | sed -n 's/^{"activity":"\([a-z-]*\)",.*},"class":"\([a-z]*\)",.*/\2\/\1/p' | tr '\n' ' '
}

# A small budget: the agent makes distinct records until the budget less
# its reserve is spent; the job is killed, warden says why in one line
# and exits 123; the log closes with the limit record, the job's end and
# a checkpoint, stays within the budget, and verifies.
test_small_budget_ends_the_job() {
	local mode=$1 budget=$2 t="${FUNCNAME[0]}[$1,$2]" rc=0 dir=$WORK/budget-$1-$2 value used
	value=300
	[[ $budget == max_bytes ]] && value=1048576
	policy "$WORK/budget" "\"audit\": {\"$budget\": $value}"
	wrun "$mode" "$dir" "$WORK/budget" -- ./chatty 100000 4 >"$WORK/out" 2>"$WORK/err" || rc=$?
	[[ $rc -eq 123 ]] || { fail "$t" "exit status $rc, want 123"; return; }
	grep -q "^warden: error: the job's audit log reached its budget audit.$budget ($value," "$WORK/err" ||
		{ fail "$t" "no line naming the budget"; return; }
	[[ $(grep -c '^warden: error:' "$WORK/err") -eq 1 ]] || { fail "$t" "more than one error line"; return; }
	verify "$dir" || { fail "$t" "verify: status $?"; return; }
	[[ $(count "$dir" "\"class\":\"limit\",\"data\":{\"budget\":\"$budget\",.*\"limit\":$value,") -eq 1 ]] ||
		{ fail "$t" "no limit/audit-budget record naming $budget"; return; }
	[[ $(classes "$dir") == *" limit/audit-budget lifecycle/job-end audit/checkpoint "* ]] ||
		{ fail "$t" "the log does not close with limit, job-end, checkpoint: ...$(classes "$dir" | tail -c 200)"; return; }
	if [[ $budget == max_records ]]; then used=$(records "$dir" | wc -l); else used=$(records "$dir" | wc -c); fi
	[[ $used -le $value ]] || { fail "$t" "the log holds $used, over $value"; return; }
	ok "$t"
}

# AUDIT_MODES and AUDIT_ONLY (test names) narrow a run by hand.
read -ra modes <<<"${AUDIT_MODES:-local qemu}"
run() { if [[ -z ${AUDIT_ONLY:-} || " $AUDIT_ONLY " == *" $1 "* ]]; then "$@"; fi; }
for mode in "${modes[@]}"; do
	run test_every_event_class_is_recorded "$mode"
	run test_control_characters_are_escaped "$mode"
	run test_deadline_is_recorded "$mode"
	run test_openssl_verifies_guest_checkpoints "$mode"
	run test_collector_stall_blocks_the_agent "$mode"
	run test_full_disk_fails_closed "$mode"
	run test_channel_break_is_resumed "$mode"
	run test_chatty_job_arrives_gap_free "$mode"
	run test_flood_is_coalesced_and_counted "$mode"
	run test_small_budget_ends_the_job "$mode" max_records
	run test_exec_records_name_what_ran "$mode"
	run test_memfd_execs_are_recorded "$mode"
	run test_long_exec_record_is_cut_not_lost "$mode"
done
if [[ " ${modes[*]} " == *" local "* ]]; then run test_small_budget_ends_the_job local max_bytes; fi
if [[ " ${modes[*]} " == *" qemu "* ]]; then run test_oom_kill_is_recorded; fi
if [[ " ${modes[*]} " == *" local "* ]]; then run test_show_filters; fi
run test_supervisor_failure_is_recorded
run test_tampering_is_caught
run test_segments_rotate_and_prune_keeps_what_it_must
run test_prune_keeps_a_bad_segment
report_end audit
