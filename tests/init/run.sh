#!/usr/bin/env bash
# tests/init/run.sh - warden-init as PID 1 of a fresh PID namespace.
#
# Usage: tests/init/run.sh BINDIR      (BINDIR holds warden-init and tests/init/probe)
#
# Every test starts
#
#   unshare --pid --fork --mount-proc --kill-child BINDIR/warden-init --ns \
#       [warden.KEY=VALUE]... -- BINDIR/tests/init/probe MODE ARG...
#
# with the probe (tests/init/probe.c) in the supervisor's place, then checks
# init's exit status, its stderr and what the probe left in the test's own
# temporary directory. One function per behaviour, named for what it proves;
# each prints "ok NAME" or "FAIL NAME: reason" (followed by init's stderr),
# and the last line is "init: N passed, M failed". Exits 1 if anything failed.
#
# Needs root (unshare). Every run is bounded by RUN_TIMEOUT_S, so a hung
# init is a failure, never a stuck job. The only timing assertion is the
# one the requirement states (the namespace ends within grace + 1 s of
# SIGTERM); GRACE_S is large enough that process start-up cannot matter.
set -euo pipefail

readonly RUN_TIMEOUT_S=30
readonly GRACE_S=2
readonly BURST=1000
readonly CONFIG_EXIT=78 # INIT_EXIT_CONFIG
readonly USAGE_EXIT=2   # INIT_EXIT_USAGE
readonly INITIAL_PIDNS_INO=4026531836 # 0xEFFFFFFC, PROC_PID_INIT_INO

if [[ $# -ne 1 ]]; then
	echo "usage: tests/init/run.sh BINDIR" >&2
	exit 2
fi
BIN=$(cd -- "$1" && pwd)
INIT=$BIN/warden-init
PROBE=$BIN/tests/init/probe
for f in "$INIT" "$PROBE"; do
	if [[ ! -x $f ]]; then
		echo "tests/init: $f is missing (make $f)" >&2
		echo "init: 0 passed, 1 failed"
		exit 1
	fi
done

# The harness must be able to make PID namespaces at all; if it cannot, that
# is this machine, not warden-init: say so loudly and run nothing.
if [[ $(id -u) -ne 0 ]] ||
	! why_not=$(unshare --pid --fork --mount-proc --kill-child true 2>&1); then
	echo "SKIP: tests/init: cannot create a PID namespace here" \
		"(uid $(id -u)): ${why_not:-not root}" >&2
	echo "SKIP: tests/init: the PID 1 tests did NOT run"
	echo "init: 0 passed, 0 failed, 1 skipped"
	exit 0
fi

WORK=$(mktemp -d /tmp/warden-init-tests.XXXXXX)
bg_pids=()
cleanup() {
	local p
	for p in "${bg_pids[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
	done
	rm -rf -- "$WORK"
}
trap cleanup EXIT

passed=0
failed=0
dir=    # the running test's directory
why=    # the running test's first failed check
status= # exit status of the last init run
hung=   # "yes" when that run hit RUN_TIMEOUT_S
bg_pid= # the background run (a `timeout` process) of the running test

# ---- running init ------------------------------------------------------------

ns_init=(unshare --pid --fork --mount-proc --kill-child "$INIT" --ns)

# run_init ARG... : init --ns ARG... in a new PID namespace, to its end.
run_init() {
	local start=$SECONDS
	status=0
	timeout -k 5 "$RUN_TIMEOUT_S" "${ns_init[@]}" "$@" >"$dir/stdout" 2>"$dir/stderr" ||
		status=$?
	hung=no
	if ((SECONDS - start >= RUN_TIMEOUT_S)); then hung=yes; fi
}

# start_init ARG... : the same in the background; wait_init collects it.
start_init() {
	timeout -k 5 "$RUN_TIMEOUT_S" "${ns_init[@]}" "$@" >"$dir/stdout" 2>"$dir/stderr" &
	bg_pid=$!
	bg_pids+=("$bg_pid")
	bg_start=$SECONDS
}

wait_init() {
	status=0
	wait "$bg_pid" || status=$?
	hung=no
	if ((SECONDS - bg_start >= RUN_TIMEOUT_S)); then hung=yes; fi
}

# Until the probe publishes DIR/ready (or the run ends early).
wait_ready() {
	local i
	for ((i = 0; i < 2000; i++)); do
		[[ -e $dir/ready ]] && return 0
		kill -0 "$bg_pid" 2>/dev/null || break
		sleep 0.01
	done
	why="the probe never got ready"
	return 1
}

# The outer pid of the namespace's PID 1: timeout -> unshare -> warden-init.
init_pid() {
	local unshare_pid
	unshare_pid=$(pgrep -P "$bg_pid" -x unshare) &&
		pgrep -P "$unshare_pid" -x warden-init
}

# Write the outer pid of every process in PID 1's namespace to FILE, one a line.
record_members() {
	local ns p
	ns=$(readlink "/proc/$1/ns/pid")
	echo "$ns" >"$2.ns"
	for p in /proc/[0-9]*; do
		if [[ $(readlink "$p/ns/pid" 2>/dev/null || true) == "$ns" ]]; then
			echo "${p#/proc/}"
		fi
	done >"$2"
}

# Print the recorded pids that still exist in that namespace.
survivors() {
	local ns p
	ns=$(cat -- "$1.ns")
	while read -r p; do
		if [[ $(readlink "/proc/$p/ns/pid" 2>/dev/null || true) == "$ns" ]]; then
			echo "$p"
		fi
	done <"$1"
}

now_ms() {
	local us=${EPOCHREALTIME//[!0-9]/}
	echo $((us / 1000))
}

# ---- checks: each sets $why and fails, so a test reads `check || return 0` ----

expect_status() {
	if [[ $hung == yes ]]; then
		why="did not end within ${RUN_TIMEOUT_S} s"
		return 1
	fi
	if [[ $status -ne $1 ]]; then
		why="exit status $status, expected $1${2:+ ($2)}"
		return 1
	fi
}

expect_stderr() {
	grep -qF -- "$1" "$dir/stderr" && return 0
	why="stderr lacks '$1'"
	return 1
}

expect_no_stderr() {
	grep -qF -- "$1" "$dir/stderr" || return 0
	why="stderr has '$1'"
	return 1
}

expect_file() {
	[[ -e $1 ]] && return 0
	why="${2:-$1 is missing}"
	return 1
}

expect_no_file() {
	[[ ! -e $1 ]] && return 0
	why="${2:-$1 exists}"
	return 1
}

# ---- 1. reaping --------------------------------------------------------------

test_orphans_are_reaped() {
	run_init -- "$PROBE" orphans 50
	expect_status 0 "the probe saw orphans not reaped, or zombies" || return 0
	expect_stderr "all 50 orphans reaped, no zombie left" || return 0
}

test_burst_of_1000_simultaneous_exits_leaves_no_zombie() {
	run_init -- "$PROBE" orphans "$BURST"
	expect_status 0 "the probe saw orphans not reaped, or zombies" || return 0
	expect_stderr "$BURST orphans belong to PID 1; releasing them at once" || return 0
	expect_stderr "all $BURST orphans reaped, no zombie left" || return 0
}

# ---- 2. exit statuses ----------------------------------------------------------

test_exit_status_passes_through() {
	local n
	for n in 0 1 7 255; do
		run_init -- "$PROBE" exit "$n"
		expect_status "$n" "supervisor exited $n" || return 0
	done
}

test_death_by_signal_gives_128_plus_n() {
	local sig
	for sig in 6 9 11 15; do
		run_init -- "$PROBE" signal "$sig"
		expect_status $((128 + sig)) "supervisor killed by signal $sig" || return 0
		expect_stderr "supervisor killed by signal $sig " || return 0
	done
}

test_missing_program_gives_127() {
	local prog
	for prog in "$dir/absent" /nonexistent/program /etc/hostname/below-a-file; do
		run_init -- "$prog"
		expect_status 127 "$prog" || return 0
		expect_stderr "exec $prog: " || return 0
	done
}

test_unexecutable_program_gives_126() {
	local prog
	printf '#!/bin/sh\nexit 0\n' >"$dir/no-x-bit"
	chmod 0644 "$dir/no-x-bit"
	printf 'not a program\n' >"$dir/no-format"
	chmod 0755 "$dir/no-format"
	mkdir "$dir/a-directory"
	for prog in "$dir/no-x-bit" "$dir/a-directory" "$dir/no-format"; do
		run_init -- "$prog"
		expect_status 126 "$prog" || return 0
	done
}

# ---- 3. SIGTERM to PID 1 ----------------------------------------------------------

test_sigterm_reaches_every_process_and_kill_follows_grace() {
	local pid t0 t1 elapsed limit=$(((GRACE_S + 1) * 1000))
	start_init "warden.grace=${GRACE_S}s" -- "$PROBE" term "$dir"
	wait_ready || return 0
	if ! pid=$(init_pid); then
		why="cannot find the namespace's PID 1"
		return 0
	fi
	t0=$(now_ms)
	kill -TERM "$pid"
	wait_init
	t1=$(now_ms)
	elapsed=$((t1 - t0))
	expect_status 143 "the supervisor dies of the TERM it recorded" || return 0
	expect_file "$dir/term.supervisor" "the supervisor never got TERM" || return 0
	expect_file "$dir/term.child" "a child of the supervisor never got TERM" || return 0
	expect_stderr "grace over; KILL to the rest" || return 0
	expect_no_stderr "processes survive SIGKILL" || return 0
	expect_stderr "all processes gone" || return 0
	if ((elapsed < GRACE_S * 1000)); then
		why="ended ${elapsed} ms after TERM: the grace of ${GRACE_S} s was not given"
		return 0
	fi
	if ((elapsed > limit)); then
		why="ended ${elapsed} ms after TERM, over grace + 1 s (${limit} ms)"
		return 0
	fi
	echo "  (namespace ended ${elapsed} ms after TERM; grace ${GRACE_S} s)"
}

# ---- 4 and 8. the supervisor's end ends everything ---------------------------------

# linger_then ARG... : the probe leaves three immortal processes (one in its
# own session ignoring every signal, one an orphan), then ends as ARG says.
# Checks that each process of the namespace is gone when init has ended.
linger_then() {
	local pid count left
	start_init -- "$PROBE" linger "$dir" "$@"
	wait_ready || return 1
	if ! pid=$(init_pid); then
		why="cannot find the namespace's PID 1"
		return 1
	fi
	record_members "$pid" "$dir/members"
	count=$(wc -l <"$dir/members")
	touch "$dir/go"
	wait_init
	if ((count < 5)); then
		why="expected PID 1, the probe and 3 lingering processes; saw $count"
		return 1
	fi
	left=$(survivors "$dir/members")
	if [[ -n $left ]]; then
		why="still running after init ended: pids ${left//$'\n'/ }"
		return 1
	fi
	# Not only the kernel's namespace teardown: init saw them all die first.
	expect_no_stderr "processes survive SIGKILL" || return 1
	expect_stderr "all processes gone" || return 1
}

test_supervisor_crash_kills_everything() {
	linger_then signal 11 || return 0
	expect_status 139 "128 + SIGSEGV" || return 0
	expect_stderr "supervisor killed by signal 11" || return 0
	expect_stderr "KILL to all" || return 0
}

test_clean_supervisor_exit_still_kills_everything() {
	linger_then exit 0 || return 0
	expect_status 0 || return 0
	expect_stderr "supervisor exited with status 0; KILL to all" || return 0
}

# ---- 5. what the supervisor inherits -----------------------------------------------

test_children_inherit_no_fd_above_2() {
	# Control: without init, the probe does see the extra fds.
	status=0
	timeout -k 5 "$RUN_TIMEOUT_S" unshare --pid --fork --mount-proc --kill-child \
		"$PROBE" clean-state 3</dev/null 7</dev/null 2>"$dir/stderr" || status=$?
	if [[ $status -eq 0 ]] || ! grep -q "fd 3 is open" "$dir/stderr" ||
		! grep -q "fd 7 is open" "$dir/stderr"; then
		why="control: the probe did not see fds 3 and 7 without init"
		return 0
	fi
	run_init -- "$PROBE" clean-state 3</dev/null 7</dev/null
	expect_status 0 "the probe found fds above 2" || return 0
}

test_children_get_default_signal_state() {
	local ignoring=(bash -c 'trap "" INT QUIT PIPE HUP TERM; exec "$@"' ignoring)
	local dirty=("$PROBE" dirty)

	# Controls: both launchers really leave their marks without init.
	status=0
	timeout -k 5 "$RUN_TIMEOUT_S" "${ignoring[@]}" unshare --pid --fork --mount-proc \
		--kill-child "$PROBE" clean-state 2>"$dir/stderr" || status=$?
	if [[ $status -eq 0 ]] || ! grep -q "not clean: SigIgn" "$dir/stderr"; then
		why="control: a shell's ignored signals did not reach the probe without init"
		return 0
	fi
	status=0
	timeout -k 5 "$RUN_TIMEOUT_S" "${dirty[@]}" unshare --pid --fork --mount-proc \
		--kill-child "$PROBE" clean-state 2>"$dir/stderr" || status=$?
	if [[ $status -eq 0 ]] || ! grep -q "not clean: SigBlk" "$dir/stderr"; then
		why="control: blocked signals did not reach the probe without init"
		return 0
	fi

	run_init -- "$PROBE" clean-state
	expect_status 0 "plain launch" || return 0
	status=0
	timeout -k 5 "$RUN_TIMEOUT_S" "${ignoring[@]}" "${ns_init[@]}" -- "$PROBE" clean-state \
		>"$dir/stdout" 2>"$dir/stderr" || status=$?
	hung=no
	expect_status 0 "launched by a shell that ignores INT QUIT PIPE HUP TERM" || return 0
	status=0
	timeout -k 5 "$RUN_TIMEOUT_S" "${dirty[@]}" "${ns_init[@]}" -- "$PROBE" clean-state \
		>"$dir/stdout" 2>"$dir/stderr" || status=$?
	expect_status 0 "launched with every signal blocked, several ignored, fds 3 and 7" ||
		return 0
}

# ---- 6. configuration errors -----------------------------------------------------

test_bad_value_gives_one_line_and_exit_78() {
	local arg key lines
	for arg in warden.grace=banana warden.shutdown=sideways warden.restarts=99 \
		warden.restart_backoff=1ms warden.channel=unix; do
		key=${arg%%=*}
		rm -f -- "$dir/started"
		run_init "$arg" -- "$PROBE" mark "$dir/started"
		expect_status "$CONFIG_EXIT" "$arg" || return 0
		lines=$(wc -l <"$dir/stderr")
		if [[ $lines -ne 1 ]]; then
			why="$arg: $lines lines on stderr, expected exactly 1"
			return 0
		fi
		expect_stderr "$key" || return 0
		expect_no_file "$dir/started" "$arg: the supervisor was started anyway" || return 0
	done
}

test_unknown_key_is_reported_but_not_fatal() {
	run_init warden.nonsense=1 -- "$PROBE" mark "$dir/started"
	expect_status 0 || return 0
	expect_stderr "unknown key warden.nonsense ignored" || return 0
	expect_file "$dir/started" "the supervisor was not started" || return 0
}

# ---- 7. restarts -----------------------------------------------------------------

test_failing_supervisor_is_restarted_then_its_status_returned() {
	local want
	run_init warden.restarts=2 warden.restart_backoff=10ms -- "$PROBE" restart "$dir/runs" 3
	want=$'run\nempty\nrun\nempty\nrun\nempty'
	if [[ $(cat -- "$dir/runs" 2>/dev/null) != "$want" ]]; then
		why="expected 3 runs, each on an emptied namespace; the runs file says:"
		why+=" $(tr '\n' ' ' <"$dir/runs")"
		return 0
	fi
	expect_status 3 "the last run's status" || return 0
	expect_stderr "restart 2 of 2" || return 0
}

test_clean_supervisor_exit_is_not_restarted() {
	run_init warden.restarts=2 warden.restart_backoff=10ms -- "$PROBE" restart "$dir/runs" 0
	expect_status 0 || return 0
	if [[ $(cat -- "$dir/runs" 2>/dev/null) != $'run\nempty' ]]; then
		why="expected exactly one run; the runs file says: $(tr '\n' ' ' <"$dir/runs")"
		return 0
	fi
}

# ---- 9. --ns only as PID 1 of a new PID namespace ---------------------------------

test_ns_is_refused_when_not_pid_1() {
	status=0
	timeout -k 5 "$RUN_TIMEOUT_S" "$INIT" --ns -- "$PROBE" mark "$dir/started" \
		2>"$dir/stderr" || status=$?
	hung=no
	expect_status "$USAGE_EXIT" "run directly" || return 0
	expect_stderr "must run as PID 1" || return 0
	# PID 2 of a new namespace (a shell is PID 1 there) is no better.
	status=0
	# shellcheck disable=SC2016 # expanded by the inner shell
	timeout -k 5 "$RUN_TIMEOUT_S" unshare --pid --fork --mount-proc --kill-child \
		bash -c '"$@"; rc=$?; exit "$rc"' pid1 "$INIT" --ns -- "$PROBE" mark "$dir/started" \
		2>"$dir/stderr" || status=$?
	expect_status "$USAGE_EXIT" "as PID 2 of a new namespace" || return 0
	expect_stderr "must run as PID 1" || return 0
	expect_no_file "$dir/started" "the supervisor was started anyway" || return 0
}

# The real initial PID namespace has a PID 1 already, so init is shown one:
# in a private mount namespace, /proc/self/ns/pid is bound to this shell's
# own namespace file, the initial one. init decides by that inode alone.
test_ns_is_refused_in_the_initial_pid_namespace() {
	local ino
	ino=$(stat -L -c %i /proc/self/ns/pid)
	if [[ $ino != "$INITIAL_PIDNS_INO" ]]; then
		why=skip
		echo "SKIP ${FUNCNAME[0]}: this shell is not in the initial PID namespace (inode $ino)"
		return 0
	fi
	mkdir "$dir/fakeproc"
	status=0
	# shellcheck disable=SC2016 # expanded by the inner shell
	timeout -k 5 "$RUN_TIMEOUT_S" unshare --pid --fork --mount --propagation private bash -c '
		set -euo pipefail
		fake=$1 nsfile=$2
		shift 2
		mount -t tmpfs -o size=64k warden-test "$fake"
		mkdir -p "$fake/self/ns"
		: >"$fake/self/ns/pid"
		mount --bind "$nsfile" "$fake/self/ns/pid"
		mount --rbind "$fake" /proc
		exec "$@"' fake-initial "$dir/fakeproc" "/proc/$$/ns/pid" \
		"$INIT" --ns -- "$PROBE" mark "$dir/started" 2>"$dir/stderr" || status=$?
	hung=no
	expect_status "$USAGE_EXIT" || return 0
	expect_stderr "--ns in the initial PID namespace: refusing" || return 0
	expect_no_file "$dir/started" "the supervisor was started anyway" || return 0
}

# ---- driver ---------------------------------------------------------------------

# Without --ns, init believes it is a VM's PID 1 and would mount, load
# modules and write sysctls: in a PID namespace that would be the host's.
test_vm_mode_is_refused_in_a_pid_namespace() {
	status=0
	timeout -k 5 "$RUN_TIMEOUT_S" unshare --pid --fork --mount --propagation private --kill-child \
		"$INIT" 2>"$dir/stderr" || status=$?
	hung=no
	expect_status "$USAGE_EXIT" || return 0
	expect_stderr "not PID 1 of a VM (a PID namespace): run with --ns instead" || return 0
	if grep -q 'module\|sysctl\|mount /dev' "$dir/stderr"; then
		why="it went on to touch the system"
	fi
}

run_test() {
	local name=$1
	dir=$WORK/$name
	mkdir -p -- "$dir"
	: >"$dir/stderr"
	why=
	"$name" || why=${why:-"the test itself failed (status $?)"}
	if [[ $why == skip ]]; then
		return 0
	elif [[ -z $why ]]; then
		echo "ok $name"
		passed=$((passed + 1))
	else
		echo "FAIL $name: $why"
		sed 's/^/    | /' -- "$dir/stderr"
		failed=$((failed + 1))
	fi
}

tests=(
	test_orphans_are_reaped
	test_burst_of_1000_simultaneous_exits_leaves_no_zombie
	test_exit_status_passes_through
	test_death_by_signal_gives_128_plus_n
	test_missing_program_gives_127
	test_unexecutable_program_gives_126
	test_sigterm_reaches_every_process_and_kill_follows_grace
	test_supervisor_crash_kills_everything
	test_children_inherit_no_fd_above_2
	test_children_get_default_signal_state
	test_bad_value_gives_one_line_and_exit_78
	test_unknown_key_is_reported_but_not_fatal
	test_failing_supervisor_is_restarted_then_its_status_returned
	test_clean_supervisor_exit_is_not_restarted
	test_clean_supervisor_exit_still_kills_everything
	test_ns_is_refused_when_not_pid_1
	test_ns_is_refused_in_the_initial_pid_namespace
	test_vm_mode_is_refused_in_a_pid_namespace
)
for t in "${tests[@]}"; do
	run_test "$t"
done

echo "init: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
