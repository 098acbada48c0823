#!/usr/bin/env bash
# tests/escape/run.sh BINDIR KERNEL_DIR IMAGE [IMAGE_DIR] - the escape battery.
#
# Every program in tests/escape/ runs as the agent and tries one way out
# (escape.h: it prints "escape NAME: blocked: ..." or "... ESCAPED: ...").
# The battery runs twice: in the real microVM (--vmm qemu) and in local
# mode (--vmm local, this kernel). A program passes when its verdict is
# "blocked", no line anywhere says ESCAPED, and every seccomp record it
# announced ("expect-record: SYSCALL") is among the job's records.
#
# Directives in a program's opening comment:
#   escape-job: own            a job of its own (it ends or poisons the job)
#   escape-timeout: 3s         the job's --timeout
#   escape-expect: verdict | verdict-or-oom | timeout
#   escape-local-policy: JSON  sandbox members added in local mode
#   escape-local-cgroup: JSON  sandbox.cgroup members, in local mode where
#                              the cgroup layer is on
#   escape-weakened: TEXT      an ESCAPED verdict is the documented limit of
#                              a layer the policy turned off: accepted only
#                              when a policy/layer-off record of the job
#                              says TEXT (and reported as such)
#   escape-input: host-paths   the job gets host_paths.list: what of this
#                              host (this run's directories, the build's,
#                              the runner's cgroups, /usr/local in local
#                              mode) the agent must not see
# In the microVM the other programs share one job (one boot; more when they
# outnumber a job's files), run one after the other by a shell script; in
# local mode each is its own job. A dozen
# of them run again under Docker's default seccomp profile (from
# tests/data), whose allowlist the hard
# denials must still override, and five under a profile whose default
# allows everything, where the argument filters and the exec audit must
# hold all the same.
#
# With IMAGE_DIR (a golden image from `warden image build`: the Debian
# root filesystem of tests/image/run.sh), the filesystem and privilege
# programs run once more in the microVM booted from it, where the agent's
# root is the image's verified erofs instead of the initramfs.
set -euo pipefail

if [[ $# -ne 3 && $# -ne 4 ]]; then
	echo "usage: tests/escape/run.sh BINDIR KERNEL_DIR IMAGE [IMAGE_DIR]" >&2
	exit 2
fi
IMAGE_DIR=${4:-}
BIN=$(cd -- "$1" && pwd)
KERNEL=$(cd -- "$2" && pwd)/vmlinuz
IMAGE=$(cd -- "$(dirname -- "$3")" && pwd)/$(basename -- "$3")
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$HERE/../.." && pwd)
WARDEN=$BIN/warden
PROGS=$BIN/tests/escape
readonly JOB_LIMIT_S=900
readonly JOB_MAX_FILES=64 # WD_JOB_MAX_FILES (vsock/msg.h): --file at most so often

# shellcheck source=tests/lib/report.sh
. "$ROOT/tests/lib/report.sh"

WORK=$(mktemp -d /tmp/warden-escape.XXXXXX)
trap 'rm -rf -- "$WORK"' EXIT

report_detail() {
	local f=$WORK/${1//[^A-Za-z0-9_]/_}.detail
	if [[ -s $f ]]; then sed 's/^/    | /' "$f" | tail -20; fi
}

directive() {
	sed -n "s/^[/ ]\* escape-$2: //p" "$HERE/$1.c" | sed 's| *\*/$||' | head -1
}

shared=()
own=()
for p in "$PROGS"/*; do
	n=$(basename -- "$p")
	[[ -f $HERE/$n.c ]] || continue
	if [[ $(directive "$n" job) == own* ]]; then own+=("$n"); else shared+=("$n"); fi
done
total=$((${#shared[@]} + ${#own[@]}))
if [[ $total -lt 40 ]]; then
	echo "escape: only $total programs built in $PROGS" >&2
	exit 1
fi

# host_paths MODE FILE: what of this host the agent must not see
# (escape-input: host-paths). /usr/local is the host's own only in local
# mode; in the microVM it would be the image's.
host_paths() {
	{
		echo "path $WORK"
		echo "path $BIN"
		sed -n 's/^[^:]*:[^:]*:\(\/..*\)$/path \1/p' /proc/self/cgroup | sort -u
		[[ $1 == local ]] && echo "empty /usr/local"
	} >"$2"
	if [[ $1 == local && -z $(ls -A /usr/local 2>/dev/null) ]]; then
		echo "escape: this host's /usr/local is empty: host_paths cannot tell it is hidden" >&2
	fi
}

# layer_off_says RECORDS TEXT: a policy/layer-off record of the job says TEXT.
layer_off_says() {
	grep -rh '"activity":"layer-off"' "$1" 2>/dev/null | grep '"class":"policy"' | grep -qF -- "$2"
}

# check MODE NAME OUT ERR RECORDS RC: the verdict of one program.
check() {
	local n=$2 out=$3 err=$4 records=$5 rc=$6 t="$2[$1]" expect sys weakened
	local detail=$WORK/${t//[^A-Za-z0-9_]/_}.detail
	expect=$(directive "$n" expect)
	expect=${expect:-verdict}
	weakened=$(directive "$n" weakened)
	{ grep "^escape $n: " "$out" || true; tail -5 "$err"; } >"$detail"
	if grep -q "^escape $n: ESCAPED: " "$out"; then
		if [[ -n $weakened ]] && layer_off_says "$records" "$weakened"; then
			echo "escape: $t: $(grep -m1 "^escape $n: ESCAPED: " "$out" | sed 's/^[^:]*: //')" \
				"- a known limit with the layer off, and the record says \"$weakened\"" >&2
			ok "$t"
			return
		fi
		fail "$t" "$(grep -m1 "^escape $n: ESCAPED: " "$out")"
		return
	fi
	case $expect in
	timeout)
		[[ $rc -eq 124 ]] || { fail "$t" "exit status $rc, want 124 (the deadline)"; return; } ;;
	verdict-or-oom)
		if ! grep -q "^escape $n: blocked: " "$out" && ! grep -q 'OOM killer' "$err"; then
			fail "$t" "neither a verdict nor an OOM kill (exit $rc)"
			return
		fi ;;
	*)
		grep -q "^escape $n: blocked: " "$out" || { fail "$t" "no verdict (exit $rc)"; return; } ;;
	esac
	while read -r sys; do
		grep -rqF "\"syscall\":\"$sys\"" "$records" 2>/dev/null ||
			{ fail "$t" "no seccomp record names $sys"; return; }
	done < <(sed -n "s/^escape $n: expect-record: //p" "$out")
	ok "$t"
}

# ---- local mode: each program its own job ----------------------------------

local_job() {
	local n=$1 dir=$WORK/local-$1 extra timeout args=() rc=0
	mkdir -p "$dir"
	extra=$(directive "$n" local-policy)
	"$ROOT/tests/lib/local-policy.sh" "$dir/policy.json" "$extra" "" \
		"$(directive "$n" local-cgroup)" >/dev/null
	timeout=$(directive "$n" timeout)
	args=(--vmm local --policy "$dir/policy.json" --audit-dir "$dir/audit" --timeout "${timeout:-120s}")
	[[ $n == fill_workdir ]] && args+=(--mem 64)
	if [[ $(directive "$n" input) == host-paths* ]]; then
		host_paths local "$dir/host_paths.list"
		args+=(--file "$dir/host_paths.list:host_paths.list")
	fi
	(cd "$PROGS" && TMPDIR=$dir timeout -s KILL "$JOB_LIMIT_S" "$WARDEN" run "${args[@]}" \
		--file "$PROGS/$n:$n" -- "./$n" >"$dir/out" 2>"$dir/err") || rc=$?
	check local "$n" "$dir/out" "$dir/err" "$dir/audit" "$rc"
}

if [[ $(id -u) -ne 0 ]]; then
	fail "local" "--vmm local needs root"
else
	msg=$("$ROOT/tests/lib/local-policy.sh" "$WORK/probe.json")
	[[ -n $msg ]] && echo "escape: local mode: $msg" >&2
	for n in "${shared[@]}" "${own[@]}"; do local_job "$n"; done
fi

# ---- the microVM: one job for the shared programs, one each for the rest ---

vm_job() {
	local dir=$1 rc=0
	shift
	mkdir -p "$dir"
	TMPDIR=$dir timeout -s KILL "$JOB_LIMIT_S" "$WARDEN" run --kernel "$KERNEL" --image "$IMAGE" \
		--audit-dir "$dir/audit" "$@" >"$dir/out" 2>"$dir/err" || rc=$?
	echo "$rc"
}

driver=$WORK/battery.sh
cat >"$driver" <<'EOF'
#!/bin/sh
# Each program in turn; its status after it.
for p in "$@"; do
	./"$p"
	echo "escape-rc $p $?"
done
EOF
chmod +x "$driver"
host_paths qemu "$WORK/host_paths.qemu"
# As few jobs as the job's file limit allows: the driver and host_paths.list
# go with each batch.
per_job=$((JOB_MAX_FILES - 2))
for ((k = 0; k < ${#shared[@]}; k += per_job)); do
	batch=("${shared[@]:k:per_job}")
	files=(--file "$driver:battery.sh" --file "$WORK/host_paths.qemu:host_paths.list")
	for n in "${batch[@]}"; do files+=(--file "$PROGS/$n:$n"); done
	dir=$WORK/vm-shared-$k
	rc=$(vm_job "$dir" --timeout 600s "${files[@]}" -- ./battery.sh "${batch[@]}")
	if [[ $rc -ne 0 ]]; then
		echo "escape: a shared microVM job ended with status $rc:" >&2
		tail -5 "$dir/err" >&2
	fi
	for n in "${batch[@]}"; do
		grep -q "^escape-rc $n " "$dir/out" || { fail "${n}[qemu]" "it never ran (the job ended with $rc)"; continue; }
		check qemu "$n" "$dir/out" "$dir/err" "$dir/audit" \
			"$(sed -n "s/^escape-rc $n //p" "$dir/out")"
	done
done
for n in "${own[@]}"; do
	timeout=$(directive "$n" timeout)
	dir=$WORK/vm-$n
	files=(--file "$PROGS/$n:$n")
	if [[ $(directive "$n" input) == host-paths* ]]; then
		files+=(--file "$WORK/host_paths.qemu:host_paths.list")
	fi
	rc=$(vm_job "$dir" --timeout "${timeout:-300s}" "${files[@]}" -- "./$n")
	check qemu "$n" "$dir/out" "$dir/err" "$dir/audit" "$rc"
done

# ---- under a seccomp profile ---------------------------------------------------
#
# under_profile LABEL MEMBERS PROGRAM...: the programs under the profile in
# the policy's "sandbox" MEMBERS, each its own job in local mode, then all
# in one microVM job ($WORK/LABEL-vm).
under_profile() {
	local label=$1 members=$2 n dir rc files
	shift 2
	printf '{"sandbox": {%s}}\n' "$members" >"$WORK/$label-policy.json"
	for n in "$@"; do
		dir=$WORK/$label-local-$n
		mkdir -p "$dir"
		"$ROOT/tests/lib/local-policy.sh" "$dir/policy.json" "$members" >/dev/null
		rc=0
		(cd "$PROGS" && TMPDIR=$dir timeout -s KILL "$JOB_LIMIT_S" "$WARDEN" run --vmm local \
			--policy "$dir/policy.json" --audit-dir "$dir/audit" --timeout 120s \
			--file "$PROGS/$n:$n" -- "./$n" >"$dir/out" 2>"$dir/err") || rc=$?
		check "$label-local" "$n" "$dir/out" "$dir/err" "$dir/audit" "$rc"
	done
	files=(--file "$driver:battery.sh")
	for n in "$@"; do files+=(--file "$PROGS/$n:$n"); done
	dir=$WORK/$label-vm
	rc=$(vm_job "$dir" --policy "$WORK/$label-policy.json" --timeout 600s "${files[@]}" \
		-- ./battery.sh "$@")
	for n in "$@"; do
		grep -q "^escape-rc $n " "$dir/out" ||
			{ fail "${n}[$label-qemu]" "it never ran (the job ended with $rc)"; continue; }
		check "$label-qemu" "$n" "$dir/out" "$dir/err" "$dir/audit" \
			"$(sed -n "s/^escape-rc $n //p" "$dir/out")"
	done
}

# recorded NAME DIR PATTERN WHY: ok when a record in DIR matches PATTERN.
recorded() {
	if grep -rq -- "$3" "$2" 2>/dev/null; then ok "$1"; else fail "$1" "$4"; fi
}

# Docker's default profile replaces the built-in allowlist (it allows
# ptrace, process_vm_readv and clone with some namespace flags, for
# example); the hard denials must still hold on top of it, and ordinary
# programs run.
TESTDATA=$ROOT/tests/data
PROFILE=$TESTDATA/docker-default-seccomp.json
if [[ ! -r $PROFILE ]]; then
	fail "docker-profile" "no $PROFILE"
else
	under_profile docker "\"seccomp\": {\"profile\": $(cat "$PROFILE")}" ptrace_init \
		ptrace_sibling process_vm_readv clone_newns unshare_user socket_vsock io_uring bpf \
		mount personality tiocsti x32
	recorded "docker-profile-is-recorded[qemu]" "$WORK/docker-vm/audit" \
		'"weakened":"seccomp: a Docker/OCI profile' \
		"no record says the profile replaced the allowlist"
fi

# A profile whose default allows every syscall it does not name: the
# argument filters, the hard denials and the exec audit hold all the same
# (by construction: sandbox/sbfilter.c), and the allowing default is a record.
allow_progs=(clone_newns unshare_user socket_netlink personality tiocsti)
under_profile allow '"seccomp": {"profile": {"defaultAction": "SCMP_ACT_ALLOW"}}' \
	"${allow_progs[@]}"
for n in "${allow_progs[@]}"; do
	recorded "exec-is-recorded[allow-local-$n]" "$WORK/allow-local-$n/audit" \
		"\"path\":\"./$n\",\"syscall\":\"execve\"" "no process/exec record of ./$n"
	recorded "exec-is-recorded[allow-qemu-$n]" "$WORK/allow-vm/audit" \
		"\"path\":\"./$n\",\"syscall\":\"execve\"" "no process/exec record of ./$n"
done
recorded "allowing-default-is-recorded[qemu]" "$WORK/allow-vm/audit" \
	'"weakened":"seccomp: the profile.s defaultAction SCMP_ACT_ALLOW allows' \
	"no record says the profile's default allows"

# ---- against a golden image with a real root filesystem -------------------
#
# The filesystem and privilege classes, in one job booted from IMAGE_DIR
# (its own kernel, initramfs and verified root filesystem).
image_progs=(write_outside symlink_race setuid_binary dev_nodes chroot pivot_root mount umount
	open_tree move_mount fsopen mount_setattr open_by_handle_at name_to_handle_at capabilities
	unshare_user setns clone_newns proc_init proc_masked proc_scan fd_scan host_paths
	signal_init ptrace_init)
if [[ -n $IMAGE_DIR ]]; then
	files=(--file "$driver:battery.sh" --file "$WORK/host_paths.qemu:host_paths.list")
	for n in "${image_progs[@]}"; do files+=(--file "$PROGS/$n:$n"); done
	dir=$WORK/image-vm
	mkdir -p "$dir"
	rc=0
	TMPDIR=$dir timeout -s KILL "$JOB_LIMIT_S" "$WARDEN" run --image "$IMAGE_DIR" \
		--audit-dir "$dir/audit" --timeout 600s "${files[@]}" -- ./battery.sh "${image_progs[@]}" \
		>"$dir/out" 2>"$dir/err" || rc=$?
	for n in "${image_progs[@]}"; do
		grep -q "^escape-rc $n " "$dir/out" ||
			{ fail "${n}[image-qemu]" "it never ran (the job ended with $rc)"; continue; }
		check image-qemu "$n" "$dir/out" "$dir/err" "$dir/audit" \
			"$(sed -n "s/^escape-rc $n //p" "$dir/out")"
	done
	recorded "image-root-is-the-image[image-qemu]" "$dir/audit" '"rootfs":{"data":"vda"' \
		"the boot record does not name the image's root filesystem"
else
	skip "escape[image-qemu]" "no image directory given (make test-escape gives one)"
fi

report_end escape
