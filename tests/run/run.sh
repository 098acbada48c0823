#!/usr/bin/env bash
# tests/run/run.sh BINDIR KERNEL_DIR IMAGE - `warden run` end to end.
#
# The image-directory tests (--image OUTDIR) build a small golden image of
# their own with `warden image build` and IMAGE as its base, and check
# what the launcher refuses, before and at the guest's HELLO (another root
# hash, another initramfs manifest).
#
# Every job test runs twice: in a real QEMU microVM (--vmm qemu, the image
# under test and its kernel) and in namespaces on this kernel (--vmm local,
# warden-init and warden-supervisor from BINDIR). The command-line tests
# start no guest. Each test is one function named for the behaviour it
# proves and prints "ok NAME" or "FAIL NAME: why" (then the launcher's
# stderr); the last line is "run: N passed, M failed".
#
# Each test gives the launcher its own TMPDIR, so "no QEMU left" and "no
# temporary directory left" are checked on exactly what that test started.
# No timing assertions: every limit below only keeps a hung launcher from
# hanging the suite. --vmm local needs root (namespaces); without root those
# cases fail and say so.
set -euo pipefail

if [[ $# -ne 3 ]]; then
	echo "usage: tests/run/run.sh BINDIR KERNEL_DIR IMAGE" >&2
	exit 2
fi
BIN=$(cd -- "$1" && pwd)
KERNEL_DIR=$(cd -- "$2" && pwd)
IMAGE=$(cd -- "$(dirname -- "$3")" && pwd)/$(basename -- "$3")
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$HERE/../.." && pwd)
WARDEN=$BIN/warden
KERNEL=$KERNEL_DIR/vmlinuz
readonly JOB_LIMIT_S=600   # one job, boot included (TCG on a busy machine is slow)
readonly START_LIMIT_S=300 # until the launcher says the agent started
readonly MODES=(qemu local)

# shellcheck source=tests/lib/report.sh
. "$ROOT/tests/lib/report.sh"
# shellcheck source=tests/lib/terminal.sh
. "$ROOT/tests/lib/terminal.sh"
# shellcheck source=tests/lib/uids.sh
. "$ROOT/tests/lib/uids.sh"

WORK=$(mktemp -d /tmp/warden-run-tests.XXXXXX)
bg_pids=()
cleanup() {
	local p
	for p in "${bg_pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	rm -rf -- "$WORK"
}
trap cleanup EXIT

report_detail() {
	local f=$WORK/${1//[^A-Za-z0-9_]/_}.err
	if [[ -s $f ]]; then sed 's/^/    stderr| /' "$f" | tail -30; fi
}

# The file a test's stderr goes to, and a private TMPDIR for one test.
err_of() { echo "$WORK/${1//[^A-Za-z0-9_]/_}.err"; }
tmp_of() { mktemp -d "$WORK/t.XXXX"; } # short: a socket path goes inside

# The options that choose the guest for MODE (local: LOCAL_ARGS, below).
vm_args() {
	if [[ $1 == qemu ]]; then echo "--kernel $KERNEL --image $IMAGE"; else echo "${LOCAL_ARGS[*]}"; fi
}

# Local mode runs on this kernel: the sandbox layers it lacks are turned
# off by policy (the product refuses otherwise), loudly, and the records
# (which say so) go to an audit directory, away from the stderr under test.
LOCAL_ARGS=(--audit-dir "$WORK/audit")
read -r local_policy < <("$ROOT/tests/lib/local-policy.sh" "$WORK/local-policy.json")
if [[ -n $local_policy ]]; then
	echo "run: --vmm local on this kernel: $local_policy" >&2
	LOCAL_ARGS+=(--policy "$WORK/local-policy.json")
fi

# warden run in MODE with the test's TMPDIR; extra options, then -- ARGV.
wrun() {
	local mode=$1 tmp=$2 vm
	shift 2
	read -ra vm <<<"$(vm_args "$mode")"
	TMPDIR=$tmp timeout -s KILL "$JOB_LIMIT_S" "$WARDEN" run --vmm "$mode" "${vm[@]}" "$@"
}

# Nothing the test's launcher started may be left: no QEMU using its
# TMPDIR, no private directory in it. Sets `why`.
nothing_left() {
	local tmp=$1
	if pgrep -f "qemu-system.*$tmp" >/dev/null; then
		why="a QEMU process is still running"
		return 1
	fi
	local left
	left=$(find "$tmp" -mindepth 1 -maxdepth 1 -printf '%f ')
	if [[ -n $left ]]; then
		why="left in TMPDIR: $left"
		return 1
	fi
}

# Exactly one line on stderr, and it is the launcher's.
one_warden_line() {
	local f=$1 n
	n=$(wc -l <"$f")
	[[ $n -eq 1 ]] && grep -q '^warden: ' "$f"
}

# ---- jobs, in both modes ---------------------------------------------------

# The uid range local jobs' ids come from (docs/cli.md).

test_streams_and_exit_status() {
	local mode=$1 t="${FUNCNAME[0]}[$1]" rc=0 err tmp
	err=$(err_of "$t")
	tmp=$(tmp_of "$t")
	wrun "$mode" "$tmp" -- /bin/sh -c 'echo hi; echo err >&2; exit 7' \
		>"$WORK/out" 2>"$err" || rc=$?
	[[ $rc -eq 7 ]] || { fail "$t" "exit status $rc, want 7"; return; }
	[[ $(cat "$WORK/out") == hi ]] || { fail "$t" "stdout is '$(head -c 200 "$WORK/out")'"; return; }
	grep -qx err "$err" || { fail "$t" "no 'err' line on stderr"; return; }
	grep -q '^hi$' "$err" && { fail "$t" "stdout leaked into stderr"; return; }
	ok "$t"
}

# The agent is unprivileged: in the microVM nobody (uid and gid 65534), in
# local mode a host uid and gid of its own from the range (docs/cli.md);
# no supplementary group, no capability in any set, and no_new_privs,
# whatever ran it (root).
test_agent_runs_unprivileged_with_no_new_privs() {
	local mode=$1 t="${FUNCNAME[0]}[$1]" rc=0 err tmp id=65534
	err=$(err_of "$t")
	tmp=$(tmp_of "$t")
	wrun "$mode" "$tmp" -- /bin/sh -c 'id -u; id -g; id -G; grep -E "^(NoNewPrivs|CapEff|CapPrm|CapInh|CapAmb):" /proc/self/status' \
		>"$WORK/out" 2>"$err" || rc=$?
	[[ $rc -eq 0 ]] || { fail "$t" "exit status $rc"; return; }
	if [[ $mode == local ]]; then
		id=$(sed -n 1p "$WORK/out")
		in_uid_range "$id" || { fail "$t" "uid '$id', not in $UID_FIRST-$UID_LAST"; return; }
	fi
	[[ $(sed -n 1p "$WORK/out") == "$id" ]] || { fail "$t" "uid $(sed -n 1p "$WORK/out")"; return; }
	[[ $(sed -n 2p "$WORK/out") == "$id" ]] || { fail "$t" "gid $(sed -n 2p "$WORK/out")"; return; }
	[[ $(sed -n 3p "$WORK/out") == "$id" ]] || { fail "$t" "groups '$(sed -n 3p "$WORK/out")'"; return; }
	grep -Eq '^NoNewPrivs:[[:space:]]+1$' "$WORK/out" || { fail "$t" "no_new_privs is not set"; return; }
	if grep -E '^Cap(Eff|Prm|Inh|Amb):' "$WORK/out" | grep -vq '0000000000000000$'; then
		fail "$t" "a capability set is not empty: $(grep '^Cap' "$WORK/out" | tr '\n' ' ')"
		return
	fi
	ok "$t"
}

# --tty: the agent gets a terminal of its own with the host terminal's size
# (script(1) gives warden a terminal of 33x101 here).
test_tty_gives_the_agent_a_terminal_of_the_host_size() {
	local mode=$1 t="${FUNCNAME[0]}[$1]" rc=0 err tmp vm inner
	err=$(err_of "$t")
	tmp=$(tmp_of "$t")
	read -ra vm <<<"$(vm_args "$mode")"
	printf -v inner '%q ' env TMPDIR="$tmp" "$WARDEN" run --vmm "$mode" "${vm[@]}" \
		--tty -- /bin/sh -c 'tty; stty size; test -t 0 && test -t 1 && echo both-ttys'
	inner="stty rows 33 cols 101; $inner"
	timeout -s KILL "$JOB_LIMIT_S" script -qec "$inner" /dev/null </dev/null >"$WORK/out" 2>"$err" || rc=$?
	tr -d '\r' <"$WORK/out" >"$WORK/out.txt"
	[[ $rc -eq 0 ]] || { fail "$t" "exit status $rc: $(tail -2 "$WORK/out.txt")"; return; }
	grep -q '^.*/dev/pts/[0-9]*$' "$WORK/out.txt" || { fail "$t" "no terminal: $(head -3 "$WORK/out.txt")"; return; }
	grep -qx '33 101' "$WORK/out.txt" || { fail "$t" "window size not passed: $(head -3 "$WORK/out.txt")"; return; }
	grep -qx 'both-ttys' "$WORK/out.txt" || { fail "$t" "stdin or stdout is not the terminal"; return; }
	ok "$t"
}

test_stdin_reaches_the_agent() {
	local mode=$1 t="${FUNCNAME[0]}[$1]" rc=0 err tmp
	err=$(err_of "$t")
	tmp=$(tmp_of "$t")
	echo data | wrun "$mode" "$tmp" -- cat >"$WORK/out" 2>"$err" || rc=$?
	[[ $rc -eq 0 ]] || { fail "$t" "exit status $rc, want 0"; return; }
	[[ $(cat "$WORK/out") == data ]] || { fail "$t" "the agent saw '$(head -c 200 "$WORK/out")'"; return; }
	ok "$t"
}

test_signal_death_is_128_plus_n() {
	local mode=$1 t="${FUNCNAME[0]}[$1]" err tmp sig n rc
	err=$(err_of "$t")
	tmp=$(tmp_of "$t")
	for sig in KILL TERM; do
		n=$(kill -l "$sig")
		rc=0
		wrun "$mode" "$tmp" -- /bin/sh -c "kill -$sig \$\$" </dev/null >/dev/null 2>"$err" || rc=$?
		[[ $rc -eq $((128 + n)) ]] || { fail "$t" "SIG$sig: exit status $rc, want $((128 + n))"; return; }
	done
	ok "$t"
}

# A signal warden gets is forwarded to the agent (through the sandbox's
# PID 1, which has to be allowed to signal another uid).
test_forwarded_signal_reaches_the_agent() {
	local mode=$1 t="${FUNCNAME[0]}[$1]" rc=0 err tmp vm pid
	err=$(err_of "$t")
	tmp=$(tmp_of "$t")
	read -ra vm <<<"$(vm_args "$mode")"
	# Started directly, so that the signal reaches warden itself.
	TMPDIR=$tmp "$WARDEN" run --vmm "$mode" "${vm[@]}" --timeout 300s -- /bin/sh -c \
		'trap "echo got-usr1; exit 5" USR1; echo ready; while :; do sleep 0.1; done' \
		</dev/null >"$WORK/fwd.out" 2>"$err" &
	pid=$!
	bg_pids+=("$pid")
	wait_for_line "$WORK/fwd.out" ready "$START_LIMIT_S" ||
		{ fail "$t" "the job never started"; kill -KILL "$pid"; return; }
	kill -USR1 "$pid"
	wait "$pid" || rc=$?
	[[ $rc -eq 5 ]] || { fail "$t" "exit status $rc, want the agent's 5"; return; }
	grep -qx got-usr1 "$WORK/fwd.out" || { fail "$t" "the agent never saw SIGUSR1"; return; }
	ok "$t"
}

test_timeout_kills_the_job() {
	local mode=$1 t="${FUNCNAME[0]}[$1]" rc=0 err tmp why=''
	err=$(err_of "$t")
	tmp=$(tmp_of "$t")
	wrun "$mode" "$tmp" --timeout 3 -- sleep 1000 </dev/null >/dev/null 2>"$err" || rc=$?
	[[ $rc -eq 124 ]] || { fail "$t" "exit status $rc, want 124"; return; }
	grep -q '^warden: error: .*--timeout' "$err" || { fail "$t" "no line about the timeout"; return; }
	nothing_left "$tmp" || { fail "$t" "$why"; return; }
	ok "$t"
}

test_sigint_tears_the_guest_down() {
	local mode=$1 t="${FUNCNAME[0]}[$1]" rc=0 err tmp why='' pid waited=0 vm
	err=$(err_of "$t")
	tmp=$(tmp_of "$t")
	read -ra vm <<<"$(vm_args "$mode")"
	# Started directly, so that the signal reaches warden itself.
	TMPDIR=$tmp "$WARDEN" run --vmm "$mode" "${vm[@]}" -v -- sleep 1000 </dev/null >/dev/null 2>"$err" &
	pid=$!
	bg_pids+=("$pid")
	until grep -q 'job started' "$err"; do
		if ! kill -0 "$pid" 2>/dev/null || [[ $waited -ge $((START_LIMIT_S * 10)) ]]; then
			fail "$t" "the job never started"
			return
		fi
		sleep 0.1
		waited=$((waited + 1))
	done
	kill -INT "$pid"
	waited=0
	while kill -0 "$pid" 2>/dev/null; do
		if [[ $waited -ge $((START_LIMIT_S * 10)) ]]; then
			kill -KILL "$pid"
			fail "$t" "warden did not end after SIGINT"
			return
		fi
		sleep 0.1
		waited=$((waited + 1))
	done
	wait "$pid" || rc=$?
	[[ $rc -eq 130 ]] || { fail "$t" "exit status $rc, want 130"; return; }
	nothing_left "$tmp" || { fail "$t" "$why"; return; }
	ok "$t"
}

test_10mib_of_stdout_arrive_intact() {
	local mode=$1 t="${FUNCNAME[0]}[$1]" err tmp want got status
	err=$(err_of "$t")
	tmp=$(tmp_of "$t")
	# The same 10 MiB made on both sides (seq prints the same digits in the
	# guest's busybox and on this host: 1..1450000 is 10,488,889 bytes),
	# checked by digest.
	want=$(seq 1 1450000 | sha256sum)
	# Through a pipe, as a user would: the reader's pace is the launcher's.
	set +e
	wrun "$mode" "$tmp" -- seq 1 1450000 </dev/null 2>"$err" |
		sha256sum >"$WORK/sum"
	status=("${PIPESTATUS[@]}")
	set -e
	got=$(cat "$WORK/sum")
	[[ ${status[0]} -eq 0 ]] || { fail "$t" "exit status ${status[0]}, want 0"; return; }
	[[ $got == "$want" ]] || { fail "$t" "SHA-256 differs: got ${got%% *}, want ${want%% *}"; return; }
	ok "$t"
}

# The agent writes ESC [ 2 J, CSI as C1 (its two bytes a second apart, so
# in two DATA frames), CR LF (also split) and OSC 52 (tests/lib/terminal.sh).
# By default its output is its own, byte for byte; with --sanitize-output
# no raw control reaches either stream, the split CSI is one escape (not
# two stray bytes), and CR LF still ends the line.
test_sanitize_output_escapes_split_sequences() {
	local mode=$1 t="${FUNCNAME[0]}[$1]" rc=0 err tmp
	err=$(err_of "$t")
	tmp=$(tmp_of "$t")
	wrun "$mode" "$tmp" -- /bin/sh -c "$CONTROLS_JOB" >"$WORK/out" 2>"$err" || rc=$?
	[[ $rc -eq 0 ]] || { fail "$t" "exit status $rc"; return; }
	controls_raw_ok "$WORK/out" || { fail "$t" "$why"; return; }
	wrun "$mode" "$tmp" --sanitize-output -- /bin/sh -c "$CONTROLS_JOB" >"$WORK/out" 2>"$err" ||
		rc=$?
	[[ $rc -eq 0 ]] || { fail "$t" "--sanitize-output: exit status $rc"; return; }
	controls_safe_ok "$WORK/out" "$err" || { fail "$t" "$why"; return; }
	nothing_left "$tmp" || { fail "$t" "$why"; return; }
	ok "$t"
}

test_file_uploads_arrive_exact_and_executable() {
	local mode=$1 t="${FUNCNAME[0]}[$1]" rc=0 err tmp want
	err=$(err_of "$t")
	tmp=$(tmp_of "$t")
	# shellcheck disable=SC2016 # $1 is for the script, not for this shell
	printf '#!/bin/sh\necho "script ran with $1"\n' >"$WORK/script.sh"
	chmod 0755 "$WORK/script.sh"
	head -c 300000 /dev/urandom >"$WORK/data.bin"
	chmod 0640 "$WORK/data.bin"
	want=$(sha256sum <"$WORK/data.bin")
	wrun "$mode" "$tmp" --file "$WORK/script.sh:run.sh" --file "$WORK/data.bin:data.bin" -- \
		/bin/sh -c './run.sh arg && sha256sum < data.bin && if [ -x data.bin ]; then echo data-executable; fi' \
		</dev/null >"$WORK/out" 2>"$err" || rc=$?
	[[ $rc -eq 0 ]] || { fail "$t" "exit status $rc, want 0"; return; }
	grep -qx 'script ran with arg' "$WORK/out" || { fail "$t" "run.sh did not run"; return; }
	grep -qx -- "$want" "$WORK/out" || { fail "$t" "data.bin's SHA-256 differs in the guest"; return; }
	grep -q data-executable "$WORK/out" && { fail "$t" "data.bin became executable"; return; }
	ok "$t"
}

test_orphans_do_not_outlive_the_job() {
	local mode=$1 t="${FUNCNAME[0]}[$1]" rc=0 err tmp why='' secs
	err=$(err_of "$t")
	tmp=$(tmp_of "$t")
	secs=$((100000 + RANDOM)) # a sleep no one else runs
	wrun "$mode" "$tmp" -- /bin/sh -c "setsid sleep $secs </dev/null >/dev/null 2>&1 & nohup sleep $((secs + 1)) </dev/null >/dev/null 2>&1 & echo started" \
		</dev/null >"$WORK/out" 2>"$err" || rc=$?
	[[ $rc -eq 0 ]] || { fail "$t" "exit status $rc, want 0 (the job did not end with its agent)"; return; }
	grep -qx started "$WORK/out" || { fail "$t" "the agent did not run"; return; }
	if pgrep -f "sleep ($secs|$((secs + 1)))\$" >/dev/null; then
		fail "$t" "an orphan sleep is still running on the host"
		return
	fi
	nothing_left "$tmp" || { fail "$t" "$why"; return; }
	ok "$t"
}

# ---- the command line, no guest ----------------------------------------------

# Run warden with ARGS; it must exit 125 with one "warden: ..." line that
# matches PATTERN. Sets `why`.
usage_error() {
	local name=$1 pattern=$2 rc=0 err
	shift 2
	err=$(err_of "$name")
	TMPDIR=$WORK timeout -s KILL 60 "$WARDEN" "$@" </dev/null >/dev/null 2>"$err" || rc=$?
	if [[ $rc -ne 125 ]]; then
		why="'$*': exit status $rc, want 125"
		return 1
	fi
	if ! one_warden_line "$err"; then
		why="'$*': not exactly one 'warden: ' line on stderr"
		return 1
	fi
	if ! grep -Eq -- "$pattern" "$err"; then
		why="'$*': the line does not say '$pattern'"
		return 1
	fi
}

test_unknown_flag_is_a_usage_error() {
	local t=${FUNCNAME[0]} why=''
	usage_error "$t" "unknown option '--bogus'" run --bogus -- true || { fail "$t" "$why"; return; }
	usage_error "$t" "unknown command 'bogus'" bogus || { fail "$t" "$why"; return; }
	ok "$t"
}

test_missing_kernel_or_image_is_reported() {
	local t=${FUNCNAME[0]} why='' alone=$WORK/alone/bin
	usage_error "$t" "--kernel $WORK/none: No such file" run --kernel "$WORK/none" -- true ||
		{ fail "$t" "$why"; return; }
	usage_error "$t" "--image $WORK/none: No such file" run --kernel "$KERNEL" \
		--image "$WORK/none" -- true || { fail "$t" "$why"; return; }
	# The defaults are looked up beside the binary: a lone copy finds none.
	mkdir -p "$alone"
	cp "$WARDEN" "$alone/warden"
	WARDEN=$alone/warden usage_error "$t" "no guest kernel" run -- true || { fail "$t" "$why"; return; }
	WARDEN=$alone/warden usage_error "$t" "no warden-init" run --vmm local -- true ||
		{ fail "$t" "$why"; return; }
	ok "$t"
}

test_unreadable_file_is_reported() {
	local t=${FUNCNAME[0]} why=''
	usage_error "$t" "--file $WORK/none: No such file" run --file "$WORK/none:x" -- true ||
		{ fail "$t" "$why"; return; }
	usage_error "$t" "--file $WORK: not a regular file" run --file "$WORK:x" -- true ||
		{ fail "$t" "$why"; return; }
	ok "$t"
}

test_malformed_file_is_reported() {
	local t=${FUNCNAME[0]} why=''
	usage_error "$t" "expected HOST_PATH:NAME" run --file "$KERNEL" -- true || { fail "$t" "$why"; return; }
	usage_error "$t" "NAME must be a plain file name" run --file "$KERNEL:sub/name" -- true ||
		{ fail "$t" "$why"; return; }
	ok "$t"
}

test_timeout_junk_is_reported() {
	local t=${FUNCNAME[0]} why=''
	usage_error "$t" "--timeout: 'junk' is not a number" run --timeout junk -- true ||
		{ fail "$t" "$why"; return; }
	ok "$t"
}

# ---- local mode only: jobs that share this kernel ---------------------------

readonly NPROC=32 # RLIMIT_NPROC of the fork tests' agents
"$ROOT/tests/lib/local-policy.sh" "$WORK/nproc.json" "\"rlimits\": {\"nproc\": $NPROC}" >/dev/null

# A local job with the fork tests' policy and forkhold uploaded; -- ARGV.
wlocal() {
	local tmp=$1
	shift
	TMPDIR=$tmp timeout -s KILL "$JOB_LIMIT_S" "$WARDEN" run --vmm local --audit-dir "$WORK/audit" \
		--policy "$WORK/nproc.json" --file "$BIN/tests/sandbox/forkhold:forkhold" "$@"
}

# Two local jobs at once run as two host uids of their own.
test_local_jobs_have_their_own_uids() {
	local t=${FUNCNAME[0]} err pid
	err=$(err_of "$t")
	wlocal "$(tmp_of "$t")" -- /bin/sh -c 'id -u; sleep 5' </dev/null >"$WORK/a.out" 2>"$err" &
	pid=$!
	bg_pids+=("$pid")
	wait_for_line "$WORK/a.out" '' "$START_LIMIT_S" || true # its first line, the uid
	wlocal "$(tmp_of "$t")" -- /bin/sh -c 'id -u' </dev/null >"$WORK/b.out" 2>>"$err" || true
	wait "$pid" || true
	distinct_uids "$WORK/a.out" "$WORK/b.out" || { fail "$t" "$why"; return; }
	ok "$t"
}

# One local job holds every process its RLIMIT_NPROC allows; another,
# meanwhile, still forks: the limit counts its own uid, not a shared one.
test_local_process_exhaustion_stays_in_its_job() {
	local t=${FUNCNAME[0]} err pid rc=0
	err=$(err_of "$t")
	wlocal "$(tmp_of "$t")" --timeout 300s -- ./forkhold hold </dev/null >"$WORK/a.out" 2>"$err" &
	pid=$!
	bg_pids+=("$pid")
	if ! wait_for_line "$WORK/a.out" held "$START_LIMIT_S"; then
		kill -KILL "$pid" 2>/dev/null || true
		fail "$t" "the first job never held its processes"
		return
	fi
	wlocal "$(tmp_of "$t")" -- ./forkhold once </dev/null >"$WORK/out" 2>>"$err" || rc=$?
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" || true
	held_and_forked "$WORK/a.out" "$WORK/out" "$rc" "$NPROC" job || { fail "$t" "$why"; return; }
	ok "$t"
}

# ---- image directories (--image OUTDIR, docs/cli.md) -------------------------

# A small golden image of a tiny root filesystem, built once with this
# tree's warden, base initramfs and kernel; with a baked policy too.
IMG=$WORK/img
IMG_POLICY=$WORK/img-policy
make_images() {
	mkdir -p "$WORK/rootfs/etc" "$WORK/rootfs/usr/bin"
	echo image >"$WORK/rootfs/etc/marker"
	printf '{\n  "sandbox": {"rlimits": {"nofile": 256}}\n}\n' >"$WORK/baked.json"
	"$WARDEN" image build --rootfs "$WORK/rootfs" --base "$IMAGE" --kernel "$KERNEL_DIR" \
		--output "$IMG" 2>"$WORK/image-build.err" &&
		"$WARDEN" image build --rootfs "$WORK/rootfs" --base "$IMAGE" --kernel "$KERNEL_DIR" \
			--policy "$WORK/baked.json" --output "$IMG_POLICY" 2>>"$WORK/image-build.err"
}

# A copy of image directory $1 at $2 (the files are small but for the kernel).
copy_image() { cp -a -- "$1" "$2"; }

test_image_dir_with_vmm_local_is_refused() {
	local t=${FUNCNAME[0]} why=''
	usage_error "$t" "--image applies to --vmm qemu only" run --vmm local --image "$IMG" -- true ||
		{ fail "$t" "$why"; return; }
	ok "$t"
}

# A kernel that is not manifest.json's: refused before anything boots.
test_image_dir_that_differs_from_its_manifest_is_refused() {
	local t=${FUNCNAME[0]} why='' bad=$WORK/img-bad
	copy_image "$IMG" "$bad"
	printf 'x' >>"$bad/vmlinuz"
	usage_error "$t" "vmlinuz: [0-9]+ bytes, manifest.json says" run --image "$bad" -- true ||
		{ fail "$t" "$why"; return; }
	ok "$t"
}

# An image that bakes a policy runs it or nothing: another --policy is
# refused here, before a VM starts (the guest refuses it too).
test_image_baked_policy_excludes_another_policy() {
	local t=${FUNCNAME[0]} why=''
	printf '{"sandbox":{"rlimits":{"nofile":512}}}' >"$WORK/other.json"
	usage_error "$t" "bakes its own policy" run --image "$IMG_POLICY" --policy "$WORK/other.json" \
		-- true || { fail "$t" "$why"; return; }
	ok "$t"
}

# manifest.json edited to pin another root hash: the guest's initramfs
# pins (and its HELLO reports) the real one, or none, and the launcher
# sends it nothing: no job, the command never runs; one line, 125, and
# the launcher's own record in the audit directory.
test_guest_without_the_images_root_hash_gets_no_job() {
	local t=${FUNCNAME[0]} rc=0 err tmp why='' bad=$WORK/img-hash old new
	err=$(err_of "$t")
	tmp=$(tmp_of "$t")
	copy_image "$IMG" "$bad"
	old=$(grep -o '"root_hash":"[0-9a-f]\{64\}"' "$bad/manifest.json")
	new='"root_hash":"'$(printf 'a%.0s' {1..64})'"'
	[[ $old != "$new" ]] || { fail "$t" "the image's root hash is all a"; return; }
	sed -i "s/$old/$new/" "$bad/manifest.json"
	mkdir -p "$WORK/img-audit"
	TMPDIR=$tmp timeout -s KILL "$JOB_LIMIT_S" "$WARDEN" run --image "$bad" \
		--audit-dir "$WORK/img-audit" -- /bin/sh -c 'echo ran' </dev/null >"$WORK/out" \
		2>"$err" || rc=$?
	[[ $rc -eq 125 ]] || { fail "$t" "exit status $rc, want 125"; return; }
	[[ ! -s $WORK/out ]] || { fail "$t" "the command ran: '$(head -c 100 "$WORK/out")'"; return; }
	# One error line (TCG's notice may precede it), and no console tail.
	if [[ $(grep -c '^warden: error: ' "$err") -ne 1 ]] || grep -qv '^warden: ' "$err"; then
		fail "$t" "not exactly one 'warden: error:' line on stderr"
		return
	fi
	grep -q "the guest's root filesystem has root hash .*manifest.json pins a\{64\}; no job was sent" \
		"$err" || { fail "$t" "the line does not name both hashes"; return; }
	grep -q '"activity":"root-hash-mismatch",.*"class":"image","data":{"expected":"a\{64\}",' \
		"$WORK/img-audit/launcher.jsonl" || { fail "$t" "no image/root-hash-mismatch record"; return; }
	nothing_left "$tmp" || { fail "$t" "$why"; return; }
	ok "$t"
}

# manifest.json edited, consistently, to record another digest of the
# initramfs's /etc/warden/manifest (initramfs.manifest_sha256 and the
# entry's sha256): the guest that boots reports the real one in its HELLO,
# and the launcher sends it nothing: 125, one line naming both, and an
# image/manifest-mismatch record.
test_guest_with_another_initramfs_manifest_gets_no_job() {
	local t=${FUNCNAME[0]} rc=0 err tmp why='' bad=$WORK/img-manifest old new
	err=$(err_of "$t")
	tmp=$(tmp_of "$t")
	copy_image "$IMG" "$bad"
	old=$(grep -o '"manifest_sha256":"[0-9a-f]\{64\}"' "$bad/manifest.json" | grep -o '[0-9a-f]\{64\}')
	new=$(printf 'b%.0s' {1..64})
	[[ $old != "$new" ]] || { fail "$t" "the image's manifest digest is all b"; return; }
	sed -i "s/$old/$new/g" "$bad/manifest.json"
	"$WARDEN" image inspect "$bad" >/dev/null 2>"$err" ||
		{ fail "$t" "the edited manifest.json does not read: $(tail -1 "$err")"; return; }
	mkdir -p "$WORK/img-audit-m"
	TMPDIR=$tmp timeout -s KILL "$JOB_LIMIT_S" "$WARDEN" run --image "$bad" \
		--audit-dir "$WORK/img-audit-m" -- /bin/sh -c 'echo ran' </dev/null >"$WORK/out" \
		2>"$err" || rc=$?
	[[ $rc -eq 125 ]] || { fail "$t" "exit status $rc, want 125"; return; }
	[[ ! -s $WORK/out ]] || { fail "$t" "the command ran: '$(head -c 100 "$WORK/out")'"; return; }
	if [[ $(grep -c '^warden: error: ' "$err") -ne 1 ]] || grep -qv '^warden: ' "$err"; then
		fail "$t" "not exactly one 'warden: error:' line on stderr"
		return
	fi
	grep -q "the guest's initramfs has manifest sha256 $old, manifest.json pins b\{64\}; no job was sent" \
		"$err" || { fail "$t" "the line does not name both digests"; return; }
	grep -q "\"activity\":\"manifest-mismatch\",.*\"class\":\"image\",\"data\":{\"expected\":\"b\{64\}\",.*\"reported\":\"$old\"" \
		"$WORK/img-audit-m/launcher.jsonl" || { fail "$t" "no image/manifest-mismatch record"; return; }
	nothing_left "$tmp" || { fail "$t" "$why"; return; }
	ok "$t"
}

for f in "$WARDEN" "$BIN/warden-init" "$BIN/warden-supervisor" "$KERNEL" "$IMAGE"; do
	if [[ ! -r $f ]]; then
		echo "tests/run: $f is missing (make all image)" >&2
		echo "run: 0 passed, 1 failed"
		exit 1
	fi
done

test_unknown_flag_is_a_usage_error
test_missing_kernel_or_image_is_reported
test_unreadable_file_is_reported
test_malformed_file_is_reported
test_timeout_junk_is_reported
for mode in "${MODES[@]}"; do
	test_streams_and_exit_status "$mode"
	test_stdin_reaches_the_agent "$mode"
	test_signal_death_is_128_plus_n "$mode"
	test_forwarded_signal_reaches_the_agent "$mode"
	test_timeout_kills_the_job "$mode"
	test_sigint_tears_the_guest_down "$mode"
	test_10mib_of_stdout_arrive_intact "$mode"
	test_file_uploads_arrive_exact_and_executable "$mode"
	test_sanitize_output_escapes_split_sequences "$mode"
	test_orphans_do_not_outlive_the_job "$mode"
	test_agent_runs_unprivileged_with_no_new_privs "$mode"
	test_tty_gives_the_agent_a_terminal_of_the_host_size "$mode"
done
test_local_jobs_have_their_own_uids
test_local_process_exhaustion_stays_in_its_job
if make_images; then
	test_image_dir_with_vmm_local_is_refused
	test_image_dir_that_differs_from_its_manifest_is_refused
	test_image_baked_policy_excludes_another_policy
	test_guest_without_the_images_root_hash_gets_no_job
	test_guest_with_another_initramfs_manifest_gets_no_job
else
	fail "image directories" "warden image build failed: $(tail -1 "$WORK/image-build.err")"
fi
report_end run
