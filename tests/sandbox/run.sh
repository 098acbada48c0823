#!/usr/bin/env bash
# tests/sandbox/run.sh BINDIR - `warden sandbox` end to end, on this kernel.
#
# The command's streams and status, 127 and 124, signal forwarding, the
# records file, the refusal of a layer this kernel lacks, policy errors,
# what the command sees, and its exec records. Needs root (the command
# itself does). Each test prints "ok NAME" or "FAIL NAME: why"; the last line is
# "sandbox: N passed, M failed". The escape battery (tests/escape/) covers
# the layers themselves.
set -euo pipefail

if [[ $# -ne 1 ]]; then
	echo "usage: tests/sandbox/run.sh BINDIR" >&2
	exit 2
fi
BIN=$(cd -- "$1" && pwd)
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$HERE/../.." && pwd)
WARDEN=$BIN/warden
readonly LIMIT_S=120 # only so that a hang cannot stall the suite

# shellcheck source=tests/lib/report.sh
. "$ROOT/tests/lib/report.sh"

WORK=$(mktemp -d /tmp/warden-sandbox-tests.XXXXXX)
trap 'rm -rf -- "$WORK"' EXIT
POLICY=$WORK/policy.json
missing=$("$ROOT/tests/lib/local-policy.sh" "$POLICY")
[[ -n $missing ]] && echo "sandbox: $missing" >&2

report_detail() {
	if [[ -s $WORK/err ]]; then sed 's/^/    stderr| /' "$WORK/err" | tail -10; fi
}

ws() {
	timeout -s KILL "$LIMIT_S" "$WARDEN" sandbox "$@"
}

test_streams_and_status_pass_through() {
	local t=${FUNCNAME[0]} rc=0
	ws --policy "$POLICY" --records "$WORK/rec" -- /bin/sh -c 'echo out; echo err >&2; exit 7' \
		>"$WORK/out" 2>"$WORK/err" || rc=$?
	[[ $rc -eq 7 ]] || { fail "$t" "status $rc, want 7"; return; }
	[[ $(cat "$WORK/out") == out ]] || { fail "$t" "stdout '$(head -c 100 "$WORK/out")'"; return; }
	grep -qx err "$WORK/err" || { fail "$t" "no 'err' on stderr"; return; }
	ok "$t"
}

test_missing_command_is_127() {
	local t=${FUNCNAME[0]} rc=0
	ws --policy "$POLICY" --records "$WORK/rec" -- /no/such/command >/dev/null 2>"$WORK/err" || rc=$?
	[[ $rc -eq 127 ]] || { fail "$t" "status $rc, want 127"; return; }
	ok "$t"
}

test_timeout_kills_everything_and_is_124() {
	local t=${FUNCNAME[0]} rc=0 marker
	marker=9$$$RANDOM # a sleep no other process runs
	ws --policy "$POLICY" --records "$WORK/rec" --timeout 1s -- /bin/sh -c \
		"sleep $marker & sleep $((marker + 1))" >/dev/null 2>"$WORK/err" || rc=$?
	[[ $rc -eq 124 ]] || { fail "$t" "status $rc, want 124"; return; }
	if pgrep -f "sleep $marker" >/dev/null || pgrep -f "sleep $((marker + 1))" >/dev/null; then
		fail "$t" "a process of the sandbox is still running"
		return
	fi
	ok "$t"
}

test_sigterm_reaches_the_command() {
	local t=${FUNCNAME[0]} rc=0 pid
	# Not under timeout(1): the signal must reach warden itself.
	"$WARDEN" sandbox --policy "$POLICY" --records "$WORK/rec" --timeout 60s -- /bin/sh -c \
		'trap "echo got-term; exit 9" TERM; echo ready; while :; do sleep 0.1; done' \
		>"$WORK/out" 2>"$WORK/err" &
	pid=$!
	wait_for_line "$WORK/out" ready 10 ||
		{ fail "$t" "the command never started"; kill -KILL "$pid"; return; }
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	[[ $rc -eq 9 ]] || { fail "$t" "status $rc, want the command's own 9"; return; }
	grep -q got-term "$WORK/out" || { fail "$t" "the command never saw TERM"; return; }
	ok "$t"
}

test_denials_are_records() {
	local t=${FUNCNAME[0]} rc=0
	rm -f "$WORK/rec"
	ws --policy "$POLICY" --records "$WORK/rec" -- /usr/bin/unshare -U /bin/true \
		>/dev/null 2>"$WORK/err" || rc=$?
	[[ $rc -ne 0 ]] || { fail "$t" "unshare -U succeeded in the sandbox"; return; }
	grep -q '"class":"seccomp","data":{.*"syscall":"unshare"' "$WORK/rec" 2>/dev/null ||
		{ fail "$t" "no record of the unshare denial in --records"; return; }
	if [[ -n $missing ]] && ! grep -q '"class":"policy","data":{"weakened"' "$WORK/rec"; then
		fail "$t" "the layers the policy turned off are not recorded"
		return
	fi
	ok "$t"
}

# Without a policy, a layer this kernel lacks stops the command, naming it.
test_missing_layer_is_refused_without_policy() {
	local t=${FUNCNAME[0]} rc=0
	ws -- /bin/true >/dev/null 2>"$WORK/err" || rc=$?
	if [[ -z $missing ]]; then
		[[ $rc -eq 0 ]] || { fail "$t" "status $rc on a kernel with every layer"; return; }
		ok "$t"
		return
	fi
	[[ $rc -eq 125 ]] || { fail "$t" "status $rc, want 125 (a layer is missing: $missing)"; return; }
	grep -Eq 'sandbox: (landlock|cgroup):.*the policy can turn' "$WORK/err" ||
		{ fail "$t" "no line naming the layer and the policy setting"; return; }
	ok "$t"
}

test_invalid_policy_is_one_line_and_125() {
	local t=${FUNCNAME[0]} rc=0
	echo '{"sandbox": {"rlimits": {"nofile": 0}}}' >"$WORK/bad.json"
	ws --policy "$WORK/bad.json" -- /bin/true >/dev/null 2>"$WORK/err" || rc=$?
	[[ $rc -eq 125 ]] || { fail "$t" "status $rc, want 125"; return; }
	if [[ $(wc -l <"$WORK/err") -ne 1 ]] || ! grep -q 'sandbox.rlimits' "$WORK/err"; then
		fail "$t" "not one line naming sandbox.rlimits"
		return
	fi
	ok "$t"
}

test_unprivileged_caller_is_refused() {
	local t=${FUNCNAME[0]} rc=0
	setpriv --reuid=65534 --regid=65534 --clear-groups "$WARDEN" sandbox -- /bin/true \
		>/dev/null 2>"$WORK/err" || rc=$?
	if [[ $rc -ne 125 ]] || ! grep -q 'needs root' "$WORK/err"; then
		fail "$t" "status $rc, want 125 and 'needs root'"
		return
	fi
	ok "$t"
}

# The command's world: nobody, no capability, the minimal root, its own
# host name, loopback only, /work as cwd and HOME, only PATH/HOME/TERM.
test_the_command_sees_the_sandbox() {
	local t=${FUNCNAME[0]} rc=0 want
	# shellcheck disable=SC2016 # expanded by the sandbox's shell
	env -i TERM=xterm SECRET=1 "$WARDEN" sandbox --policy "$POLICY" --records "$WORK/rec" \
		--env K=v -- /bin/sh -c \
		'id -u; id -G; grep ^CapEff /proc/self/status; hostname; ls /; pwd; echo "$HOME";
		 ls /sys/class/net; env | sort' >"$WORK/out" 2>"$WORK/err" || rc=$?
	[[ $rc -eq 0 ]] || { fail "$t" "status $rc"; return; }
	want=$(printf '%s\n' 65534 65534 'CapEff:	0000000000000000' sandbox)
	[[ $(head -4 "$WORK/out") == "$want" ]] || { fail "$t" "identity: $(head -4 "$WORK/out" | tr '\n' ' ')"; return; }
	grep -qx etc "$WORK/out" && { fail "$t" "/etc is visible"; return; }
	if ! grep -qx proc "$WORK/out" || ! grep -qx work "$WORK/out" || ! grep -qx tmp "$WORK/out"; then
		fail "$t" "the root lacks proc, tmp or work"
		return
	fi
	[[ $(grep -c '^/work$' "$WORK/out") -eq 2 ]] || { fail "$t" "cwd or HOME is not /work"; return; }
	grep -q '^SECRET=' "$WORK/out" && { fail "$t" "warden's environment leaked"; return; }
	grep -qx 'K=v' "$WORK/out" || { fail "$t" "--env K=v is missing"; return; }
	ok "$t"
}

# Execs are records in --records, each naming the file that ran with its
# digest. One by a path of 3990 control bytes with 288 KiB of control-laden
# arguments (tests/audit/execlong, handed in on stdin) is recorded cut
# within its bound, not skipped, and the status is the program's own (7).
test_execs_are_records_cut_not_lost() {
	local t=${FUNCNAME[0]} rc=0 prog=$BIN/tests/audit/execlong digest line
	[[ -x $prog ]] || { fail "$t" "no $prog (make it first)"; return; }
	digest=$(sha256sum <"$prog" | cut -d' ' -f1)
	rm -f "$WORK/rec"
	ws --policy "$POLICY" --records "$WORK/rec" -- /bin/sh -c \
		'cat >execlong && chmod 755 execlong && exec ./execlong' <"$prog" >"$WORK/out" 2>"$WORK/err" ||
		rc=$?
	[[ $rc -eq 7 ]] || { fail "$t" "status $rc, want the program's own 7"; return; }
	grep -q '^execlong: child ran, argc 5$' "$WORK/out" || { fail "$t" "the copy never ran"; return; }
	grep -q "\"class\":\"process\",\"data\":{\"file\":{[^}]*\"path\":\"/work/execlong\",\"sha256\":\"$digest\"" \
		"$WORK/rec" || { fail "$t" "no record names ./execlong's file and digest"; return; }
	line=$(grep '"requested":{"argc":5,' "$WORK/rec") || { fail "$t" "no record of the long exec"; return; }
	[[ ${#line} -le 2200 ]] || { fail "$t" "its record is ${#line} bytes"; return; }
	grep -q '"path":{"len":3990,"prefix":"\\u0001' <<<"$line" ||
		{ fail "$t" "the requested path is not cut with its length"; return; }
	ok "$t"
}

if [[ $(id -u) -ne 0 ]]; then
	fail "sandbox" "warden sandbox needs root"
	report_end sandbox
fi
test_streams_and_status_pass_through
test_missing_command_is_127
test_timeout_kills_everything_and_is_124
test_sigterm_reaches_the_command
test_denials_are_records
test_missing_layer_is_refused_without_policy
test_invalid_policy_is_one_line_and_125
test_unprivileged_caller_is_refused
test_the_command_sees_the_sandbox
test_execs_are_records_cut_not_lost
report_end sandbox
