#!/usr/bin/env bash
# bench/run.sh BINDIR KERNEL_DIR IMAGE - warden's figures, printed, never asserted.
#
#   1. namespace mode: init's own boot work (first instruction -> supervisor
#      ready on its channel), N runs, and the wall time of whole
#      init + /bin/true commands for warden-init, tini-static and catatonit
#   2. microVM: K boots of the image, the kernel's time and init's phases as
#      the supervisor reports them in its hello
#   3. sizes of the static binaries, beside tini-static and catatonit
#   4. the channel: throughput and round trip, framed+MAC against raw
#      bytes, over AF_UNIX and over virtio-serial into a microVM
#   5. the sandbox: `warden sandbox -- /bin/true` against bubblewrap
#      (bwrap --unshare-all --die-with-parent --ro-bind / / --dev /dev
#      --proc /proc /bin/true), whole processes, and the in-process spawn
#      latency (request to the agent's exec), p50 and p99, and the cost of
#      egress's connect() check (a loop of loopback connects, off and on)
#   6. the audit log: records per second end to end in local mode (a job
#      of N denied calls, guest emit to the host's segment on disk, with
#      checkpoints), the guest's emit rate alone, the host's verify rate;
#      the cost of auditing an exec (a job of execs with audit.exec on and
#      off); ECDSA P-256 signatures per second, BearSSL against
#      `openssl speed ecdsap256`
#   7. golden images: `warden image build` of the Debian python image (time
#      and sizes) against mkfs.erofs + veritysetup alone on the same tree;
#      boots to READY from that image (the verified root filesystem) against
#      the initramfs-only image, in the same run (goal: less than 10% more);
#      the first read of a 64 MiB file through dm-verity against the same
#      erofs mounted plain (bench/rdbench in the guest)
#   8. egress, in local mode: 1 GiB up and down through the agent's HTTP
#      proxy (CONNECT, the channel, the host's dialer) against tinyproxy
#      configured alike and a direct loopback connection (target: 2x
#      tinyproxy); CONNECT to the first byte p50/p99 for the three; the
#      supervisor's and the launcher's RSS with 1,000 tunnels open
#
# Targets are printed next to the figures as ratios; nothing fails because a
# figure misses its target. The exit status is 1 only when a figure could
# not be measured at all (no PID namespace, no QEMU, no baseline binary...),
# which is also said loudly. docs/bench.md explains every figure.
#
# Environment:
#   BENCH_NS_RUNS    runs per namespace-mode figure (default 50, at least 30)
#   BENCH_VM_BOOTS   microVM boots (default 3 under TCG, 10 under KVM)
#   BENCH_CHAN_MIB, BENCH_CHAN_ROUNDS        AF_UNIX figures (256 MiB, 20000)
#   BENCH_CHAN_VM_MIB, BENCH_CHAN_VM_ROUNDS  virtio-serial figures (32 MiB, 1000)
#   BENCH_AUDIT_RECORDS  records of the end-to-end audit job (default 300000)
#   BENCH_AUDIT_EXECS    execs of the exec-cost job (default 2000)
#   BENCH_CONNECTS   connect()s of the egress-check figure (default 5000)
#   BENCH_IMAGE_BOOTS    boots of each image in section 7 (default 3 under TCG, 10 under KVM)
#   BENCH_ROOTFS_TAR     the Debian tar of section 7 (default build/rootfs/debian-python.tar,
#                        made by image/debian-rootfs.sh when missing)
#   BENCH_EGRESS_MIB     section 8's bulk transfer each way (default 1024 MiB)
#   BENCH_EGRESS_SETUPS  connections of the set-up figure (default 500)
#   BENCH_EGRESS_HOLD    tunnels held open for the memory figure (default 1000)
#   BENCH_SECTIONS       the sections to run, by number (default "1 2 3 4 5 6 7 8")
set -euo pipefail
export LC_ALL=C # EPOCHREALTIME's decimal point, sort order

if [[ $# -ne 3 ]]; then
	echo "usage: bench/run.sh BINDIR KERNEL_DIR IMAGE" >&2
	exit 2
fi
for dir in "$1" "$2" "$(dirname -- "$3")"; do
	if [[ ! -d $dir ]]; then
		echo "bench: $dir: no such directory (build first: make bench)" >&2
		exit 1
	fi
done
BIN=$(cd -- "$1" && pwd)
KERNEL_DIR=$(cd -- "$2" && pwd)
IMAGE=$(cd -- "$(dirname -- "$3")" && pwd)/$(basename -- "$3")
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$HERE/.." && pwd)
KERNEL=$KERNEL_DIR/vmlinuz

readonly TARGET_READY_MS=5
readonly TARGET_INIT_KIB=100
readonly MIN_NS_RUNS=30
readonly NS_TIMEOUT_S=30  # one namespace run; only so that nothing hangs
readonly TINI=/usr/bin/tini-static
readonly CATATONIT=/usr/bin/catatonit

N=${BENCH_NS_RUNS:-50}
if ! [[ $N =~ ^[0-9]+$ ]] || ((N < MIN_NS_RUNS)); then
	echo "bench: BENCH_NS_RUNS='$N' is not a number >= $MIN_NS_RUNS; using $MIN_NS_RUNS" >&2
	N=$MIN_NS_RUNS
fi

# shellcheck source=tests/lib/qemu.sh
. "$ROOT/tests/lib/qemu.sh"

# Scratch space on tmpfs when there is one, so that the figures do not include
# writing the logs of the runs to a disk.
WORK=$(mktemp -d /dev/shm/warden-bench.XXXXXX 2>/dev/null) || WORK=$(mktemp -d /tmp/warden-bench.XXXXXX)
# ... except the audit logs of section 6, whose fdatasync is part of what
# is measured: they go to a disk, as an operator's --audit-dir would.
DISK=$(mktemp -d /var/tmp/warden-bench-audit.XXXXXX)
LISTEN_PID=""
cleanup() {
	if [[ -n $LISTEN_PID ]]; then kill "$LISTEN_PID" 2>/dev/null || true; fi
	qemu_cleanup
	rm -rf "$WORK" "$DISK"
}
trap cleanup EXIT

UNMEASURED=()
unmeasured() {
	UNMEASURED+=("$1")
	echo "  !!! NOT MEASURED: $1"
}

# Microseconds since the epoch, from bash itself (no fork).
now_us() {
	local t=$EPOCHREALTIME
	echo "${t/./}"
}

# Values on stdin, one a line -> "count median p90 min max" (p90: nearest rank).
stats() {
	sort -g | awk '{ v[NR] = $1 }
	END {
		n = NR
		if (n == 0) { print "0 0 0 0 0"; exit }
		med = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
		k = int(0.9 * n); if (k < 0.9 * n) k++
		printf "%d %.6f %.6f %.6f %.6f\n", n, med, v[k], v[1], v[n]
	}'
}

# Scale a number: fmt VALUE DIVISOR DECIMALS
fmt() { awk -v v="$1" -v d="$2" -v p="$3" 'BEGIN { printf "%.*f", p, v / d }'; }

accel_name() {
	case "$1" in *kvm*) echo KVM ;; *) echo TCG ;; esac
}

# ---- header -------------------------------------------------------------------

cpu=$(awk -F': ' '$1 ~ /^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null) ]]; then
	rev="$rev (uncommitted changes)"
fi
echo "warden bench: $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $rev"
echo "host: Linux $(uname -r), ${cpu:-unknown CPU}, $(nproc) CPUs"
echo "figures are printed, never asserted; targets appear only as ratios"
echo "load average at start: $(cut -d ' ' -f 1-3 /proc/loadavg)"

# Local mode on this kernel: the sandbox layers it lacks are turned off by
# policy (the product refuses otherwise); said once here.
LOCAL_POLICY=$WORK/local-policy.json
local_msg=$("$ROOT/tests/lib/local-policy.sh" "$LOCAL_POLICY")
[[ -n $local_msg ]] && echo "local mode on this kernel: $local_msg"

# Said under a section's tables when other work shared the CPUs meanwhile.
load_note() {
	local load
	load=$(cut -d ' ' -f 1 /proc/loadavg)
	if awk -v l="$load" 'BEGIN { exit !(l >= 0.5) }'; then
		echo "  note: the host was not idle (1-min load average $load on $(nproc) CPUs): scheduling"
		echo "  delays go into the medians and p90s; min is the closest to the program's own cost"
	fi
}

# ---- 1. namespace mode -------------------------------------------------------

# One namespace run: ns_run guarded|bare ERRFILE COMMAND... ; prints its wall
# time in us and returns the command's status. The warm-up run of each
# command is guarded by timeout(1) so that a hang cannot stall the bench;
# the measured runs are the bare command, as timeout's own process would
# add its start-up to every figure.
ns_run() {
	local guard=$1 err=$2 start end rc=0
	shift 2
	start=$(now_us)
	if [[ $guard == guarded ]]; then
		timeout -s KILL "$NS_TIMEOUT_S" unshare --pid --fork --mount-proc "$@" >/dev/null 2>"$err" || rc=$?
	else
		unshare --pid --fork --mount-proc "$@" >/dev/null 2>"$err" || rc=$?
	fi
	end=$(now_us)
	echo $((end - start))
	return "$rc"
}

# One whole job in local mode: `warden run --vmm local -v -- /bin/true`.
# Appends init's ready figure (ns, from the authenticated HELLO, as warden
# prints it with -v) to $WORK/ready.ns and the wall time (us) to
# $WORK/wall.handshake; returns non-zero if the job failed.
handshake_run() {
	local keep=$1 start end rc=0 ready
	start=$(now_us)
	if [[ $keep == keep ]]; then
		"$BIN/warden" run --vmm local --policy "$LOCAL_POLICY" -v -- /bin/true >/dev/null 2>"$WORK/local.err" || rc=$?
	else
		timeout -s KILL "$NS_TIMEOUT_S" "$BIN/warden" run --vmm local --policy "$LOCAL_POLICY" -v -- /bin/true \
			>/dev/null 2>"$WORK/local.err" || rc=$?
	fi
	end=$(now_us)
	ready=$(sed -n 's/.*supervisor ready \(at \)\{0,1\}\([0-9.]*\) ms after init started.*/\2/p' "$WORK/local.err" | head -1)
	if [[ $rc -ne 0 || -z $ready ]]; then
		{
			echo "    local job failed: status $rc"
			sed 's/^/    warden| /' "$WORK/local.err" | tail -20
		} >&2
		return 1
	fi
	if [[ $keep == keep ]]; then
		awk -v ms="$ready" 'BEGIN { printf "%.0f\n", ms * 1e6 }' >>"$WORK/ready.ns"
		echo $((end - start)) >>"$WORK/wall.handshake"
	fi
}

bench_namespace() {
	local why i name failed_hs=0 wall rc guard
	local -A cmd_of failed
	local names=(floor tini catatonit warden)
	echo
	echo "== 1. namespace mode: $N runs per figure (after one warm-up) =="

	if [[ $(id -u) -ne 0 ]] || ! why=$(unshare --pid --fork --mount-proc /bin/true 2>&1); then
		unmeasured "namespace mode: cannot create a PID namespace here (uid $(id -u)): ${why:-not root}"
		return
	fi

	# 1a. init's own boot work, as the supervisor reports it in its HELLO.
	: >"$WORK/ready.ns"
	: >"$WORK/wall.handshake"
	if [[ ! -x $BIN/warden ]]; then
		unmeasured "init -> supervisor ready: $BIN/warden is missing"
	elif handshake_run discard; then
		for ((i = 0; i < N; i++)); do
			handshake_run keep || failed_hs=$((failed_hs + 1))
		done
	else
		echo "    the warm-up job failed: no further local jobs" >&2
	fi
	echo
	echo "init's own boot work: first instruction -> supervisor ready (channel open), from the HELLO"
	if [[ ! -s $WORK/ready.ns ]]; then
		[[ ! -x $BIN/warden ]] || unmeasured "init -> supervisor ready: no local job completed"
	else
		read -r n med p90 min max < <(stats <"$WORK/ready.ns")
		printf '  %-26s %9s %9s %9s %9s  %s\n' "" "median" "p90" "min" "max" "runs"
		printf '  %-26s %9s %9s %9s %9s  %s\n' "ready [ms]" "$(fmt "$med" 1e6 3)" \
			"$(fmt "$p90" 1e6 3)" "$(fmt "$min" 1e6 3)" "$(fmt "$max" 1e6 3)" "$n"
		printf '  %-26s %9s %9s %9s %9s\n' "ratio to the ${TARGET_READY_MS} ms target" \
			"$(fmt "$med" "${TARGET_READY_MS}e6" 3)" "$(fmt "$p90" "${TARGET_READY_MS}e6" 3)" \
			"$(fmt "$min" "${TARGET_READY_MS}e6" 3)" "$(fmt "$max" "${TARGET_READY_MS}e6" 3)"
		((failed_hs == 0)) || echo "  WARNING: $failed_hs handshake run(s) failed and are not counted"
	fi

	# 1b. Whole commands, wall clock, round robin so that drift hits all alike.
	cmd_of[floor]="/bin/true"
	cmd_of[tini]="$TINI -s -- /bin/true"
	cmd_of[catatonit]="$CATATONIT -- /bin/true"
	cmd_of[warden]="$BIN/warden-init --ns -- /bin/true"
	for name in "${names[@]}"; do
		: >"$WORK/wall.$name"
		failed[$name]=0
	done
	for ((i = -1; i < N; i++)); do
		for name in "${names[@]}"; do
			[[ $name != tini || -x $TINI ]] || continue
			[[ $name != catatonit || -x $CATATONIT ]] || continue
			rc=0
			guard=bare
			((i >= 0)) || guard=guarded # the warm-up
			# shellcheck disable=SC2086 # the command is several words on purpose
			wall=$(ns_run "$guard" "$WORK/$name.err" ${cmd_of[$name]}) || rc=$?
			if ((rc != 0)); then
				failed[$name]=$((failed[$name] + 1))
				if ((failed[$name] == 1)); then
					echo "    $name run failed with status $rc:" >&2
					sed 's/^/    | /' "$WORK/$name.err" | tail -10 >&2
				fi
			elif ((i >= 0)); then
				echo "$wall" >>"$WORK/wall.$name"
			fi
		done
	done

	echo
	echo "whole command, wall clock from the shell (fork of unshare to its exit), same job: /bin/true"
	printf '  %-62s %8s %8s %8s %10s  %s\n' "command [ms]" "median" "p90" "min" "-floor" "runs"
	local floor_med=""
	if [[ -s $WORK/wall.floor ]]; then
		read -r _ floor_med _ < <(stats <"$WORK/wall.floor")
	fi
	local -A label=(
		[floor]="floor, no init: unshare --pid --fork --mount-proc /bin/true"
		[tini]="tini-static: unshare ... tini-static -s -- /bin/true"
		[catatonit]="catatonit: unshare ... catatonit -- /bin/true"
		[warden]="warden: unshare ... warden-init --ns -- /bin/true"
		[handshake]="job start to end: warden run --vmm local -- /bin/true"
	)
	for name in "${names[@]}" handshake; do
		if [[ ! -s $WORK/wall.$name ]]; then
			case "$name" in
			tini) unmeasured "tini-static wall time: $([[ -x $TINI ]] && echo "no run succeeded" ||
				echo "$TINI is missing (Debian package tini)")" ;;
			catatonit) unmeasured "catatonit wall time: $([[ -x $CATATONIT ]] && echo "no run succeeded" ||
				echo "$CATATONIT is missing (Debian package catatonit)")" ;;
			handshake) ;; # said above
			*) unmeasured "$name wall time: no run succeeded" ;;
			esac
			continue
		fi
		read -r n med p90 min _ < <(stats <"$WORK/wall.$name")
		local over="-"
		if [[ -n $floor_med && $name != floor ]]; then
			over=$(awk -v a="$med" -v b="$floor_med" 'BEGIN { printf "%+.3f", (a - b) / 1e3 }')
		fi
		printf '  %-62s %8s %8s %8s %10s  %s\n' "${label[$name]}" "$(fmt "$med" 1e3 3)" \
			"$(fmt "$p90" 1e3 3)" "$(fmt "$min" 1e3 3)" "$over" "$n"
		if [[ $name != handshake ]] && ((failed[$name] > 0)); then
			echo "    WARNING: ${failed[$name]} $name run(s) failed and are not counted"
		fi
	done
	echo "  (-floor: median minus the floor's median, i.e. what the init adds to a bare namespace;"
	echo "   the last row is a whole job: namespaces, init, supervisor, handshake, job, exit, shutdown)"
	load_note
}

# ---- 2. microVM --------------------------------------------------------------

# ready line fields, in the order reported
readonly VM_FIELDS=(t0 mounts modules sysctls system spawn ready)

bench_vm() {
	local accel mode k boots name rc line f v
	echo
	echo "== 2. microVM boots (QEMU microvm, the image as built) =="
	for f in "$KERNEL" "$IMAGE"; do
		if [[ ! -r $f ]]; then
			unmeasured "microVM boot: $f is missing (make image)"
			return
		fi
	done
	if ! command -v qemu-system-x86_64 >/dev/null; then
		unmeasured "microVM boot: qemu-system-x86_64 is not installed"
		return
	fi
	if [[ ! -x $BIN/warden ]]; then
		unmeasured "microVM boot: $BIN/warden is missing"
		return
	fi
	QEMU_ACCEL=$(qemu_accel "$KERNEL")
	accel=$(accel_name "$QEMU_ACCEL")
	if [[ $accel == KVM ]]; then boots=${BENCH_VM_BOOTS:-10}; else boots=${BENCH_VM_BOOTS:-3}; fi
	if ! [[ $boots =~ ^[0-9]+$ ]] || ((boots < 1)); then
		echo "bench: BENCH_VM_BOOTS='$boots' is not a positive number; using 3" >&2
		boots=3
	fi
	mode="$accel ($QEMU_ACCEL)"
	echo "accelerator: $mode, $boots boot(s), kernel $(awk '$1=="name"{n=$2} $1=="version"{v=$2} END{print n, v}' "$KERNEL_DIR/kernel.lock" 2>/dev/null)"
	if [[ $accel == TCG ]]; then
		echo "  note: TCG emulates the guest CPU, so every guest figure below is inflated against KVM"
	fi
	for f in "${VM_FIELDS[@]}" host; do : >"$WORK/vm.$f"; done

	for ((k = 1; k <= boots; k++)); do
		name=boot$k
		rc=0
		"$BIN/warden" run -v --timeout 120 --kernel "$KERNEL" --image "$IMAGE" -- /bin/true \
			>/dev/null 2>"$WORK/$name.err" || rc=$?
		line=$(grep -m 1 'boot (guest clock):' "$WORK/$name.err" || true)
		if [[ $rc -ne 0 || -z $line ]]; then
			echo "    boot $k: warden run status $rc, no boot figures" >&2
			sed 's/^/    warden| /' "$WORK/$name.err" | tail -20 >&2
			continue
		fi
		# "kernel 3699.7 ms, mounts 53.8 ms, ..., supervisor ready at 573.2 ms ..."
		for f in t0 mounts modules sysctls system spawn ready; do
			case $f in
			t0) v=$(sed -n 's/.*kernel \([0-9.]*\) ms.*/\1/p' <<<"$line") ;;
			ready) v=$(sed -n 's/.*supervisor ready at \([0-9.]*\) ms.*/\1/p' <<<"$line") ;;
			*) v=$(sed -n "s/.* $f \\([0-9.]*\\) ms.*/\\1/p" <<<"$line") ;;
			esac
			[[ -z $v ]] || awk -v ms="$v" 'BEGIN { printf "%.0f\n", ms * 1e6 }' >>"$WORK/vm.$f"
		done
		v=$(sed -n 's/.*guest ready \([0-9]*\) ms after the VMM started.*/\1/p' "$WORK/$name.err" | head -1)
		[[ -z $v ]] || echo $((v * 1000)) >>"$WORK/vm.host"
	done

	if [[ ! -s $WORK/vm.ready ]]; then
		unmeasured "microVM boot: no boot reached the supervisor's ready line"
		return
	fi
	# Derived per boot: what follows the spawn (exec, supervisor start, channel
	# open) and the guest's whole time to ready.
	paste -d ' ' "$WORK/vm.ready" "$WORK/vm.mounts" "$WORK/vm.modules" "$WORK/vm.sysctls" \
		"$WORK/vm.system" "$WORK/vm.spawn" |
		awk '{ print $1 - $2 - $3 - $4 - $5 - $6 }' >"$WORK/vm.rest"
	paste -d ' ' "$WORK/vm.t0" "$WORK/vm.ready" | awk '{ print $1 + $2 }' >"$WORK/vm.total"

	local -a rows=(
		"t0|kernel: start of timekeeping -> init's first instruction|1e6"
		"mounts|init: console, /proc, command line, early mounts|1e6"
		"modules|init: kernel modules loaded and locked|1e6"
		"sysctls|init: hardening sysctls and lockdown|1e6"
		"system|init: loopback, host name, CRNG check|1e6"
		"spawn|init: fork -> supervisor's exec|1e6"
		"rest|supervisor: exec, start, channel open|1e6"
		"ready|init -> ready (sum of the six above)|1e6"
		"total|kernel + init -> ready (t0 + ready)|1e6"
		"host|host: QEMU launched -> guest's READY received|1e3"
	)
	local row key text div
	echo
	printf '  %-56s %9s %9s %9s  %s\n' "phase [ms]" "median" "min" "max" "boots"
	for row in "${rows[@]}"; do
		IFS='|' read -r key text div <<<"$row"
		read -r n med _ min max < <(stats <"$WORK/vm.$key")
		printf '  %-56s %9s %9s %9s  %s\n' "$text" "$(fmt "$med" "$div" 2)" "$(fmt "$min" "$div" 2)" \
			"$(fmt "$max" "$div" 2)" "$n"
	done
	echo "  ($accel; the guest figures are its CLOCK_MONOTONIC as init and the supervisor read it)"
	load_note
}

# ---- 3. sizes ------------------------------------------------------------------

bench_sizes() {
	local name path stripped bytes installed linkage text data bss tini_bytes="" init_bytes=""
	local -a names=(warden-init warden-supervisor tini-static catatonit)
	local -A path_of=(
		[warden-init]=$BIN/warden-init
		[warden-supervisor]=$BIN/warden-supervisor
		[tini-static]=$TINI
		[catatonit]=$CATATONIT
	)
	local have_size=no
	command -v size >/dev/null && have_size=yes
	echo
	echo "== 3. binary sizes (each stripped here with strip --strip-all; installed size beside) =="
	for name in "${names[@]}"; do
		path=${path_of[$name]}
		[[ -r $path ]] || continue
		stripped=$WORK/size.$name
		strip --strip-all -o "$stripped" "$path" 2>/dev/null || cp "$path" "$stripped"
		bytes=$(stat -c %s "$stripped")
		[[ $name != tini-static ]] || tini_bytes=$bytes
		[[ $name != warden-init ]] || init_bytes=$bytes
	done
	printf '  %-18s %9s %8s %10s %8s %8s %8s  %-18s %s\n' "binary" "bytes" "KiB" "installed" \
		"text" "data" "bss" "linkage" "vs tini-static"
	for name in "${names[@]}"; do
		path=${path_of[$name]}
		if [[ ! -r $path ]]; then
			unmeasured "size of $name: $path is missing"
			continue
		fi
		stripped=$WORK/size.$name
		bytes=$(stat -c %s "$stripped")
		installed=$(stat -c %s "$path")
		text=-
		data=-
		bss=-
		if [[ $have_size == yes ]]; then
			read -r text data bss _ < <(size "$stripped" | tail -n 1)
		fi
		if readelf -lW "$stripped" 2>/dev/null | grep -q 'INTERP'; then
			linkage=dynamic
		elif readelf -hW "$stripped" 2>/dev/null | grep -q 'DYN'; then
			linkage=static-pie
		else
			linkage=static
		fi
		printf '  %-18s %9s %8s %10s %8s %8s %8s  %-18s %s\n' "$name" "$bytes" \
			"$(fmt "$bytes" 1024 1)" "$installed" "$text" "$data" "$bss" "$linkage" \
			"$([[ -n $tini_bytes ]] && fmt "$bytes" "$tini_bytes" 3 || echo -)"
	done
	[[ $have_size == yes ]] || echo "  (size(1) is not installed: no text/data/bss)"
	if [[ -n $init_bytes ]]; then
		echo "  warden-init: $(fmt "$init_bytes" 1024 1) KiB = $(fmt "$init_bytes" "$((TARGET_INIT_KIB * 1024))" 3) x the ${TARGET_INIT_KIB} KiB target$(
			[[ -n $tini_bytes ]] && echo ", $(fmt "$init_bytes" "$tini_bytes" 3) x tini-static"
		)"
	fi
}

# ---- 4. the channel ---------------------------------------------------------------

# Framed + MAC against raw bytes over the same transport, in one run: over a
# Unix socket pair on this host, and over virtio-serial into a microVM whose
# supervisor is replaced by the bench's guest end.
bench_channel() {
	local tool=$BIN/bench/chanbench dir=$WORK/chan-overlay rc=0
	echo
	echo "== 4. channel: throughput and round trip (framed+MAC vs raw bytes)"
	if [[ ! -x $tool ]]; then
		unmeasured "channel: $tool is missing (make $tool)"
		return
	fi
	"$tool" unix "${BENCH_CHAN_MIB:-256}" "${BENCH_CHAN_ROUNDS:-20000}" | sed 's/^/  /' ||
		unmeasured "channel over AF_UNIX"
	mkdir -p "$dir/test"
	install -m 0755 "$tool" "$dir/test/chanbench"
	(cd "$dir" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) | gzip -n >"$WORK/chan-overlay.gz"
	cat "$IMAGE" "$WORK/chan-overlay.gz" >"$WORK/chan.img"
	qemu_boot chan "$KERNEL_DIR/vmlinuz" "$WORK/chan.img" "warden.supervisor=/test/chanbench"
	"$tool" client "$WORK/chan.sock" "${BENCH_CHAN_VM_MIB:-32}" "${BENCH_CHAN_VM_ROUNDS:-1000}" |
		sed 's/^/  /' || rc=$?
	qemu_wait chan 60 || true
	if [[ $rc -ne 0 ]]; then
		unmeasured "channel over virtio-serial"
		tail -5 "$WORK/chan.log" | sed 's/^/    console| /'
	fi
	echo "  (under $(accel_name "$(qemu_accel "$KERNEL_DIR/vmlinuz")"); the guest's MAC is BearSSL's portable AES and GHASH unless its CPU model has AES-NI and PCLMULQDQ)"
}

# ---- 5. the sandbox -----------------------------------------------------------

bench_sandbox() {
	local policy=$LOCAL_POLICY i t0 t1 bw=() ws=() tool=$BIN/bench/sbbench
	echo
	echo "5. the sandbox: warden sandbox -- /bin/true against bubblewrap, $N runs each"
	if ! command -v bwrap >/dev/null; then
		unmeasured "warden sandbox against bubblewrap (no bwrap)"
		return
	fi
	# Interleaved, so that load changes hit both alike; timed from bash's own
	# clock with no command substitution (a subshell would add a fork to both).
	for ((i = 0; i < N; i++)); do
		t0=${EPOCHREALTIME/./}
		"$BIN/warden" sandbox --policy "$policy" --records /dev/null -- /bin/true ||
			{ unmeasured "warden sandbox -- /bin/true (status $?)"; return; }
		t1=${EPOCHREALTIME/./}
		ws+=($((t1 - t0)))
		t0=${EPOCHREALTIME/./}
		bwrap --unshare-all --die-with-parent --ro-bind / / --dev /dev --proc /proc /bin/true ||
			{ unmeasured "bwrap (status $?)"; return; }
		t1=${EPOCHREALTIME/./}
		bw+=($((t1 - t0)))
	done
	read -r _ wmed wp90 wmin _ < <(printf '%s\n' "${ws[@]}" | stats)
	read -r _ bmed bp90 bmin _ < <(printf '%s\n' "${bw[@]}" | stats)
	printf '  %-34s median %7s ms  p90 %7s ms  min %7s ms\n' "warden sandbox (every layer here)" \
		"$(fmt "$wmed" 1000 2)" "$(fmt "$wp90" 1000 2)" "$(fmt "$wmin" 1000 2)"
	printf '  %-34s median %7s ms  p90 %7s ms  min %7s ms\n' "bwrap --unshare-all" \
		"$(fmt "$bmed" 1000 2)" "$(fmt "$bp90" 1000 2)" "$(fmt "$bmin" 1000 2)"
	echo "  ratio warden/bwrap (median): $(fmt "$wmed" "$bmed" 2) (target <= 0.50)"
	if [[ -x $tool ]]; then
		"$tool" "$policy" "$N" -- /bin/true | sort -g | awk -v n="$N" '
			{ v[NR] = $1 }
			END { k = int(0.99 * NR); if (k < 0.99 * NR) k++
			      printf "  spawn latency (request to exec), %d spawns: p50 %.2f ms, p99 %.2f ms\n",
			             NR, v[int((NR + 1) / 2)] / 1000, v[k] / 1000 }'
	else
		unmeasured "sandbox spawn latency (no $tool)"
	fi
	echo "  (warden sandbox: every layer this kernel has, seccomp with its build-time filter;"
	echo "   bwrap as invoked: namespaces and mounts, no seccomp filter)"
	bench_connect_check
	load_note
}

# With egress on, each connect() of the agent is checked by the supervisor
# (docs/sandbox.md, "Egress plumbing"): a loop of connect()s to a loopback
# listener of the agent's own, egress off and on, the runner of the
# sandbox tests in the supervisor's place.
bench_connect_check() {
	local box=$BIN/tests/sandbox/tools/egbox probe=$BIN/tests/sandbox/netprobe dir off on
	local n=${BENCH_CONNECTS:-5000}
	if [[ ! -x $box || ! -x $probe ]]; then
		unmeasured "connect() with the egress check (no $box or $probe)"
		return
	fi
	dir=$(mktemp -d /var/tmp/warden-bench-connect.XXXXXX)
	cp -- "$probe" "$dir/" && chmod 0755 "$dir"
	"$ROOT/tests/lib/local-policy.sh" "$dir/policy.json" "\"ro_binds\": [\"$dir\"]" >/dev/null
	off=$("$box" --policy "$dir/policy.json" --records /dev/null -- "$dir/netprobe" connects "$n" |
		sed -n 's/^connect_ns: //p')
	on=$("$box" --egress --policy "$dir/policy.json" --records /dev/null -- "$dir/netprobe" connects "$n" |
		sed -n 's/^connect_ns: //p')
	rm -rf -- "$dir"
	if [[ -z $off || -z $on ]]; then
		unmeasured "connect() with the egress check"
		return
	fi
	printf '  connect() to a loopback listener, %d each: egress off %s us, on %s us (check +%s us)\n' \
		"$n" "$(fmt "$off" 1000 1)" "$(fmt "$on" 1000 1)" "$(fmt "$((on - off))" 1000 1)"
}

# ---- 6. the audit log ---------------------------------------------------------

# A local-mode job's wall time in ms: job_ms POLICY AUDITDIR ARGV...
job_ms() {
	local pol=$1 dir=$2 t0 t1
	shift 2
	rm -rf "$dir"
	t0=${EPOCHREALTIME/./}
	"$BIN/warden" run --vmm local --policy "$pol" --audit-dir "$dir" \
		--file "$BIN/tests/audit/chatty:chatty" "$@" >/dev/null 2>"$WORK/audit.err" || return 1
	t1=${EPOCHREALTIME/./}
	echo $(((t1 - t0) / 1000))
}

bench_audit() {
	local n=${BENCH_AUDIT_RECORDS:-300000} e=${BENCH_AUDIT_EXECS:-2000} dir=$DISK/audit
	local t1 tn rate bytes on off v0 v1 sign osign ab=$BIN/bench/auditbench
	echo
	echo "6. the audit log"
	if [[ ! -x $BIN/tests/audit/chatty || ! -x $ab ]]; then
		unmeasured "the audit log (build tests/audit/chatty and bench/auditbench)"
		return
	fi
	# Guest emit to host disk: the supervisor's audit module makes N
	# records as fast as its queue takes them and sends them over a
	# channel (frames, MACs, acknowledgements) to the launcher's collector,
	# which checks each and acknowledges after fdatasync. Two processes, the
	# code of both sides, no event source.
	mkdir -p "$DISK/pipe"
	rate=$("$ab" pipe "$n" "$DISK/pipe" 2>/dev/null | awk '$1 == "pipe_records_per_s" { print $2 }')
	if [[ -n $rate ]] && "$BIN/warden" audit verify "$DISK/pipe" >/dev/null 2>&1; then
		printf '  %-46s %9s records/s  (%d records)\n' \
			"guest emit to host disk, checkpoints on" "$rate" "$n"
		echo "  ratio to the target of 100000 records/s: $(fmt "$rate" 100000 2) (target >= 1.00)"
	else
		unmeasured "audit: auditbench pipe (or its log does not verify)"
	fi
	# A whole job: N denied calls, each a record, with what a record costs
	# the agent too (the seccomp listener's round trip); less a one-record
	# job's time (boot, handshake, teardown).
	t1=$(job_ms "$LOCAL_POLICY" "$dir" -- ./chatty 1 1) || { unmeasured "audit: a job"; return; }
	tn=$(job_ms "$LOCAL_POLICY" "$dir" -- ./chatty "$n" 2) ||
		{ unmeasured "audit: the $n-record job"; return; }
	bytes=$(cat "$dir"/audit-*.jsonl | wc -c)
	rate=$(awk -v n="$n" -v ms="$((tn - t1))" 'BEGIN { printf "%.0f", n / (ms > 0 ? ms : 1) * 1000 }')
	printf '  %-46s %9s records/s  (%d records, %d ms, %d bytes each)\n' \
		"a local-mode job, each record a denied call" "$rate" "$n" "$((tn - t1))" "$((bytes / n))"
	echo "  ratio to the target of 100000 records/s: $(fmt "$rate" 100000 2) (the agent's calls through the listener included)"
	v0=${EPOCHREALTIME/./}
	"$BIN/warden" audit verify "$dir" >/dev/null 2>&1 || { unmeasured "audit: verify"; return; }
	v1=${EPOCHREALTIME/./}
	printf '  %-46s %9s records/s\n' "warden audit verify (the same log)" \
		"$(awk -v n="$n" -v us="$((v1 - v0))" 'BEGIN { printf "%.0f", n / us * 1e6 }')"
	printf '  %-46s %9s records/s\n' "guest emit alone (auditbench, no delivery)" \
		"$("$ab" emit "$n" 2>/dev/null | awk '$1 == "emit_records_per_s" { print $2 }')"
	# An exec with and without its record (the listener's round trip for
	# the call, the exec watcher's for each file the kernel opens: /bin/true
	# here is dynamic, so two, the program and ld.so).
	printf '{"sandbox": {"landlock": false, "cgroup": false}, "audit": {"exec": false}}\n' \
		>"$WORK/audit-off.json"
	on=$(job_ms "$LOCAL_POLICY" "$dir" -- /bin/sh -c "i=0; while [ \$i -lt $e ]; do /bin/true; i=\$((i+1)); done") ||
		{ unmeasured "audit: the exec job"; return; }
	off=$(job_ms "$WORK/audit-off.json" "$dir" -- /bin/sh -c "i=0; while [ \$i -lt $e ]; do /bin/true; i=\$((i+1)); done") ||
		{ unmeasured "audit: the exec job without exec records"; return; }
	printf '  %-46s %9s ms  (%s us per exec)\n' "$e execs, each recorded (audit.exec on)" "$on" \
		"$(fmt "$((on * 1000))" "$e" 1)"
	printf '  %-46s %9s ms  (%s us per exec)\n' "$e execs, not recorded (audit.exec off)" "$off" \
		"$(fmt "$((off * 1000))" "$e" 1)"
	echo "  ratio on/off: $(fmt "$on" "$off" 2); the record adds $(fmt "$(((on - off) * 1000))" "$e" 1) us per exec"
	# Signatures: BearSSL as built here against OpenSSL on the same machine.
	sign=$("$ab" crypto 2 | awk '$1 == "sign_per_s" { print $2 }')
	if command -v openssl >/dev/null; then
		osign=$(openssl speed -seconds 2 ecdsap256 2>/dev/null | awk '/nistp256/ { print $(NF - 1) }')
		printf '  %-46s %9s sign/s\n' "ECDSA P-256, BearSSL (i31, as linked)" "$sign"
		printf '  %-46s %9s sign/s\n' "ECDSA P-256, openssl speed ecdsap256" "${osign%.*}"
		echo "  ratio BearSSL/openssl: $(fmt "$sign" "${osign:-1}" 2) (a checkpoint every 1000 records needs ~100/s at 100000 records/s)"
	else
		unmeasured "openssl speed ecdsap256 (no openssl)"
	fi
	load_note
}

# ---- 7. golden images -----------------------------------------------------------

# boot_ready IMAGE NAME: one `warden run -v` of /bin/true; prints "total_ms rootfs_ms"
# (kernel + init -> ready from the HELLO; init's rootfs phase from the console, 0 without).
boot_ready() {
	local rc=0 line t0 ready rootfs
	"$BIN/warden" run -v --timeout 300 --image "$1" --console "$WORK/$2.console" -- /bin/true \
		>/dev/null 2>"$WORK/$2.err" || rc=$?
	line=$(grep -m 1 'boot (guest clock):' "$WORK/$2.err" || true)
	[[ $rc -eq 0 && -n $line ]] || return 1
	t0=$(sed -n 's/.*kernel \([0-9.]*\) ms.*/\1/p' <<<"$line")
	ready=$(sed -n 's/.*supervisor ready at \([0-9.]*\) ms.*/\1/p' <<<"$line")
	rootfs=$(sed -n 's/.*boot: kernel.* rootfs \([0-9.]*\) ms.*/\1/p' "$WORK/$2.console" | head -1)
	awk -v a="$t0" -v b="$ready" -v r="${rootfs:-0}" 'BEGIN { printf "%.3f %.3f\n", a + b, r }'
}

bench_image() {
	local tar=${BENCH_ROOTFS_TAR:-$ROOT/build/rootfs/debian-python.tar} img=$WORK/debian-python
	local t0 t1 build_ms tools_ms accel boots k v n med min max rmed imed
	echo
	echo "== 7. golden images: warden image build, boots from a verified root, reads through dm-verity =="
	if [[ ! -s $tar ]] && ! "$ROOT/image/debian-rootfs.sh" "$tar" >/dev/null 2>"$WORK/rootfs.err"; then
		unmeasured "golden image: no Debian rootfs tar ($(tail -1 "$WORK/rootfs.err"))"
		return
	fi
	t0=$(now_us)
	if ! "$BIN/warden" image build --rootfs "$tar" --name debian-python --kernel "$KERNEL_DIR" \
		--base "$IMAGE" --output "$img" >/dev/null 2>"$WORK/build.err"; then
		unmeasured "golden image: warden image build failed: $(tail -1 "$WORK/build.err")"
		return
	fi
	t1=$(now_us)
	build_ms=$(((t1 - t0) / 1000))
	# The baseline: the two tools alone on the same tree (tar -x included),
	# without staging rules, the second tree walk, the C tree check, the
	# initramfs and the manifest.
	mkdir -p "$WORK/tree"
	t0=$(now_us)
	tar -xf "$tar" -C "$WORK/tree" --no-same-owner --no-same-permissions 2>/dev/null || true
	if ! mkfs.erofs --quiet -x -1 -T 0 "$WORK/plain.erofs" "$WORK/tree" >/dev/null 2>&1 ||
		! veritysetup format --no-superblock "$WORK/plain.erofs" "$WORK/plain.verity" >/dev/null 2>&1; then
		unmeasured "golden image: mkfs.erofs + veritysetup alone failed"
	fi
	t1=$(now_us)
	tools_ms=$(((t1 - t0) / 1000))
	rm -rf "$WORK/tree" "$WORK/plain.erofs" "$WORK/plain.verity"
	printf '  %-52s %9s ms\n' "warden image build (Debian bookworm + python3, tar)" "$build_ms"
	printf '  %-52s %9s ms\n' "tar -x, mkfs.erofs, veritysetup format alone" "$tools_ms"
	echo "  ratio warden/tools: $(fmt "$build_ms" "$tools_ms" 2)"
	printf '  %-52s %9s MiB\n' "rootfs tar" "$(fmt "$(stat -c %s "$tar")" 1048576 1)"
	for f in rootfs.erofs rootfs.verity initramfs.cpio.gz vmlinuz manifest.json; do
		printf '  %-52s %9s MiB\n' "$f" "$(fmt "$(stat -c %s "$img/$f")" 1048576 2)"
	done

	QEMU_ACCEL=$(qemu_accel "$KERNEL")
	accel=$(accel_name "$QEMU_ACCEL")
	if [[ $accel == KVM ]]; then boots=${BENCH_IMAGE_BOOTS:-10}; else boots=${BENCH_IMAGE_BOOTS:-3}; fi
	: >"$WORK/img.initramfs"
	: >"$WORK/img.rootfs"
	: >"$WORK/img.phase"
	# Interleaved, so that a change in the machine's load falls on both.
	for ((k = 1; k <= boots; k++)); do
		if v=$(boot_ready "$IMAGE" "ib$k"); then echo "${v% *}" >>"$WORK/img.initramfs"; fi
		if v=$(boot_ready "$img" "rb$k"); then
			echo "${v% *}" >>"$WORK/img.rootfs"
			echo "${v#* }" >>"$WORK/img.phase"
		fi
	done
	if [[ ! -s $WORK/img.initramfs || ! -s $WORK/img.rootfs ]]; then
		unmeasured "golden image: boots to READY ($(tail -1 "$WORK/rb1.err" 2>/dev/null))"
	else
		echo
		printf '  %-52s %9s %9s %9s  %s\n' "kernel + init -> ready [ms] ($accel)" "median" "min" "max" "boots"
		read -r n imed _ min max < <(stats <"$WORK/img.initramfs")
		printf '  %-52s %9s %9s %9s  %s\n' "initramfs only (the image as built)" "$(fmt "$imed" 1 1)" \
			"$(fmt "$min" 1 1)" "$(fmt "$max" 1 1)" "$n"
		read -r n rmed _ min max < <(stats <"$WORK/img.rootfs")
		printf '  %-52s %9s %9s %9s  %s\n' "Debian image, verified erofs root" "$(fmt "$rmed" 1 1)" \
			"$(fmt "$min" 1 1)" "$(fmt "$max" 1 1)" "$n"
		read -r n med _ min max < <(stats <"$WORK/img.phase")
		printf '  %-52s %9s %9s %9s  %s\n' "  of which init's rootfs phase (tree check, dm, mount)" \
			"$(fmt "$med" 1 1)" "$(fmt "$min" 1 1)" "$(fmt "$max" 1 1)" "$n"
		echo "  ratio verified root/initramfs only: $(fmt "$rmed" "$imed" 3) (target < 1.10)"
	fi

	# First reads: a 64 MiB file of random bytes in an image of its own,
	# read by bench/rdbench in the guest through dm-verity and through a
	# plain mapping of the same data device.
	local rd=$WORK/rdbench-root rdimg=$WORK/rdbench-image line
	if [[ ! -x $BIN/bench/rdbench ]]; then
		unmeasured "verity reads: $BIN/bench/rdbench is missing"
		return
	fi
	mkdir -p "$rd/opt/rdbench"
	head -c $((64 << 20)) /dev/urandom >"$rd/opt/rdbench/blob"
	if ! "$BIN/warden" image build --rootfs "$rd" --name rdbench --kernel "$KERNEL_DIR" --base "$IMAGE" \
		--extra "$BIN/bench/rdbench:/bench/rdbench:0755" --output "$rdimg" >/dev/null 2>"$WORK/rd.err"; then
		unmeasured "verity reads: image build failed: $(tail -1 "$WORK/rd.err")"
		return
	fi
	rm -rf "$rd"
	"$BIN/warden" run --timeout 600 --image "$rdimg" --console "$WORK/rd.console" \
		--kernel-arg warden.supervisor=/bench/rdbench -- /bin/true >/dev/null 2>&1 || true
	line=$(grep -m 1 '^rdbench: median' "$WORK/rd.console" || true)
	if [[ -z $line ]]; then
		unmeasured "verity reads: $(grep -m 1 '^rdbench: ' "$WORK/rd.console" || echo 'rdbench said nothing')"
		return
	fi
	echo
	grep '^rdbench: \(verity\|plain\) ' "$WORK/rd.console" | sed 's/^rdbench: /  /'
	read -r _ _ vms _ _ pms _ _ ratio <<<"${line#rdbench: }"
	printf '  %-52s %9s ms\n' "first read of 64 MiB through dm-verity (median)" "$vms"
	printf '  %-52s %9s ms\n' "the same from the plain erofs (median)" "$pms"
	echo "  ratio verity/plain: $ratio ($accel; page cache dropped before each read)"
	load_note
}

# ---- 8. egress -----------------------------------------------------------------

# Local mode (the proxies, the channel and the host's dialer all on this
# host's CPUs), tinyproxy (Debian's tinyproxy-bin) configured alike, and a
# direct loopback connection, in the same run, against one far end
# (bench/egbench serve).
EG_MIB=${BENCH_EGRESS_MIB:-1024}
EG_SETUPS=${BENCH_EGRESS_SETUPS:-500}
EG_HOLD=${BENCH_EGRESS_HOLD:-1000}

# The figure's number from one egbench line: "... : N MiB/s" or "p50 A us, p99 B us".
eg_mibs() { sed -n 's/.*: \([0-9.]*\) MiB\/s$/\1/p'; }

# wait_line FILE TEXT SECONDS: until FILE has TEXT, or SECONDS passed (1).
wait_line() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -qF -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# VmRSS of a process in KiB.
rss_kib() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status" 2>/dev/null; }

# eg_job NAME -- ARGS...: egbench as the agent in local mode, through
# warden's HTTP proxy; its output in $WORK/eg-NAME.out.
eg_job() {
	local name=$1
	shift 2
	"$BIN/warden" run --vmm local --policy "$WORK/eg-policy.json" --timeout 600 \
		--file "$BIN/bench/egbench:egbench" -- ./egbench "$@" \
		>"$WORK/eg-$name.out" 2>"$WORK/eg-$name.err" </dev/null
}

bench_egress() {
	local port tport warden_up warden_down tp_up tp_down d_up d_down w pid sup host i n
	echo
	echo "== 8. egress: through the agent's proxy, local mode (${EG_MIB} MiB each way) =="
	if ! command -v tinyproxy >/dev/null; then
		unmeasured "egress: no tinyproxy (Debian's tinyproxy-bin; make bootstrap installs it)"
		return
	fi
	"$BIN/bench/egbench" serve "$WORK/eg-port" &
	LISTEN_PID=$!
	for i in $(seq 50); do [[ -s $WORK/eg-port ]] && break; sleep 0.1; done
	port=$(cat "$WORK/eg-port")
	tport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	cat >"$WORK/tinyproxy.conf" <<EOF
Port $tport
Listen 127.0.0.1
Timeout 600
MaxClients 2048
LogLevel Error
Allow 127.0.0.1
ConnectPort $port
EOF
	tinyproxy -d -c "$WORK/tinyproxy.conf" >"$WORK/tinyproxy.log" 2>&1 &
	local tp_pid=$!
	"$ROOT/tests/lib/local-policy.sh" "$WORK/eg-policy.json" '"rlimits": {"nofile": 4096}' \
		"\"egress\": {\"allow\": [{\"cidr\": \"127.0.0.1/32\", \"ports\": [$port]}],
		\"hosts\": {\"bench.test\": \"127.0.0.1\"}, \"limits\": {\"connections\": 2048}}" >/dev/null
	sleep 0.3

	w=proxy:127.0.0.1:3128
	if ! eg_job up -- bulk "$w" bench.test "$port" "$EG_MIB" up ||
		! eg_job down -- bulk "$w" bench.test "$port" "$EG_MIB" down; then
		unmeasured "egress: warden's proxy: $(tail -1 "$WORK/eg-up.err" "$WORK/eg-down.err" | tr '\n' ' ')"
		kill "$tp_pid" 2>/dev/null
		return
	fi
	warden_up=$(eg_mibs <"$WORK/eg-up.out") warden_down=$(eg_mibs <"$WORK/eg-down.out")
	tp_up=$("$BIN/bench/egbench" bulk "proxy:127.0.0.1:$tport" 127.0.0.1 "$port" "$EG_MIB" up | eg_mibs)
	tp_down=$("$BIN/bench/egbench" bulk "proxy:127.0.0.1:$tport" 127.0.0.1 "$port" "$EG_MIB" down | eg_mibs)
	d_up=$("$BIN/bench/egbench" bulk direct 127.0.0.1 "$port" "$EG_MIB" up | eg_mibs)
	d_down=$("$BIN/bench/egbench" bulk direct 127.0.0.1 "$port" "$EG_MIB" down | eg_mibs)
	printf '  %-34s %12s %12s\n' "bulk, MiB/s" upload download
	printf '  %-34s %12s %12s\n' "warden (CONNECT, channel, dialer)" "$warden_up" "$warden_down"
	printf '  %-34s %12s %12s\n' "tinyproxy (CONNECT)" "$tp_up" "$tp_down"
	printf '  %-34s %12s %12s\n' "direct loopback" "$d_up" "$d_down"
	echo "  ratio warden/tinyproxy: up $(fmt "$warden_up" "$tp_up" 2), down $(fmt "$warden_down" "$tp_down" 2) (target: 2.00 or more)"
	echo "  ratio warden/direct:    up $(fmt "$warden_up" "$d_up" 2), down $(fmt "$warden_down" "$d_down" 2)"

	echo "  connection set-up, CONNECT to the first byte back ($EG_SETUPS one after another):"
	if eg_job setup -- setup "$w" bench.test "$port" "$EG_SETUPS"; then
		printf '    %-12s %s\n' warden "$(sed -n 's/^setup [0-9]* connections: //p' "$WORK/eg-setup.out")"
	else
		unmeasured "egress: set-up through warden: $(tail -1 "$WORK/eg-setup.err")"
	fi
	printf '    %-12s %s\n' tinyproxy "$("$BIN/bench/egbench" setup "proxy:127.0.0.1:$tport" 127.0.0.1 "$port" "$EG_SETUPS" | sed 's/^setup [0-9]* connections: //')"
	printf '    %-12s %s\n' direct "$("$BIN/bench/egbench" setup direct 127.0.0.1 "$port" "$EG_SETUPS" | sed 's/^setup [0-9]* connections: //')"
	kill "$tp_pid" 2>/dev/null || true

	echo "  memory with $EG_HOLD tunnels open at once (VmRSS, KiB; against 1 tunnel):"
	for n in 1 "$EG_HOLD"; do
		eg_job "hold$n" -- hold "$w" bench.test "$port" "$n" 20 &
		pid=$!
		if ! wait_line "$WORK/eg-hold$n.out" "holding $n" 120; then
			unmeasured "egress: $n tunnels were not all open: $(tail -1 "$WORK/eg-hold$n.err")"
			wait "$pid" || true
			continue
		fi
		host=$(pgrep -o -f "warden run --vmm local --policy $WORK/eg-policy.json" || true)
		sup=$(pgrep -o -x warden-supervis || true) # comm: 15 bytes; the oldest is the supervisor, not its forks
		printf '    %-6s tunnels: supervisor %8s, warden (host) %8s\n' "$n" \
			"$(rss_kib "${sup:-0}")" "$(rss_kib "${host:-0}")"
		wait "$pid" || true
	done
	kill "$LISTEN_PID" 2>/dev/null || true
	LISTEN_PID=""
	load_note
}

# BENCH_SECTIONS picks sections by number (default: all of them).
sections=" ${BENCH_SECTIONS:-1 2 3 4 5 6 7 8} "
[[ $sections == *" 1 "* ]] && bench_namespace
[[ $sections == *" 2 "* ]] && bench_vm
[[ $sections == *" 3 "* ]] && bench_sizes
[[ $sections == *" 4 "* ]] && bench_channel
[[ $sections == *" 5 "* ]] && bench_sandbox
[[ $sections == *" 6 "* ]] && bench_audit
[[ $sections == *" 7 "* ]] && bench_image
[[ $sections == *" 8 "* ]] && bench_egress

echo
if ((${#UNMEASURED[@]} > 0)); then
	{
		echo "!!! bench: ${#UNMEASURED[@]} figure(s) could NOT be measured:"
		printf '!!!   %s\n' "${UNMEASURED[@]}"
	} | tee /dev/stderr
	exit 1
fi
echo "bench: every figure measured"
