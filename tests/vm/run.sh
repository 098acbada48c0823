#!/usr/bin/env bash
# tests/vm/run.sh BINDIR KERNEL_DIR IMAGE - warden-init in a real microVM.
#
# Boots the image under QEMU's microvm machine with Debian's cloud kernel
# and checks, from inside (vmcheck) and from the host (`warden run`, QEMU's
# exit status, the console): modules loaded and locked, every sysctl of
# init's table, the mounts, lockdown, a whole job through warden run over
# virtio-serial, and a clean end of the VM. No timing assertions: limits
# are only there so that nothing hangs.
set -euo pipefail

BIN=$(cd "$1" && pwd)
KERNEL_DIR=$(cd "$2" && pwd)
IMAGE=$(cd "$(dirname "$3")" && pwd)/$(basename "$3")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
KERNEL=$KERNEL_DIR/vmlinuz
BOOT_LIMIT=180 # seconds; a TCG boot takes a few

# shellcheck source=tests/lib/qemu.sh
. "$ROOT/tests/lib/qemu.sh"

WORK=$(mktemp -d /tmp/warden-vm.XXXXXX)
trap 'qemu_cleanup; rm -rf "$WORK"' EXIT

# shellcheck source=tests/lib/report.sh
. "$ROOT/tests/lib/report.sh"
report_detail() {
	if [ -f "$WORK/$1.log" ]; then sed 's/^/    console| /' "$WORK/$1.log" | tail -40; fi
}

# A whole job through `warden run` (handshake, job, exit, shutdown) on the
# given image, keeping the console in $WORK/NAME.log. On failure sets `why`.
vm_session() {
	local t=$1 initrd=$2 rc=0
	shift 2
	local kargs=()
	for k in "$@"; do kargs+=(--kernel-arg "$k"); done
	"$BIN/warden" run --image "$initrd" --kernel "$KERNEL" --console "$WORK/$t.log" \
		--timeout "$BOOT_LIMIT" "${kargs[@]}" -- /bin/sh -c 'echo job-ran' \
		>"$WORK/$t.out" 2>"$WORK/$t.err" || rc=$?
	if [ "$rc" -ne 0 ]; then
		why="warden run exited $rc: $(grep -m1 'warden: error' "$WORK/$t.err" || tail -1 "$WORK/$t.err")"
		return 1
	fi
	grep -qx 'job-ran' "$WORK/$t.out" || { why="the job's output did not arrive"; return 1; }
	grep -q 'warden-init: info: power off' "$WORK/$t.log" || { why="no orderly power-off"; return 1; }
}

# Boot a VM that ends by itself; on failure sets `why`.
vm_run_to_end() {
	local t=$1 initrd=$2 append=$3 flavour=${4:-acpi} rc=0
	qemu_boot "$t" "$KERNEL" "$initrd" "$append" "$flavour"
	qemu_wait "$t" "$BOOT_LIMIT" || rc=$?
	[ "$rc" -eq 0 ] || { why="QEMU exited $rc, not 0 (a clean end)"; return 1; }
}

# An extra archive appended to the image: the kernel unpacks both, so the
# image under test stays byte-for-byte the one `make image` built.
overlay() {
	local out=$1 dir=$WORK/overlay
	mkdir -p "$dir/test"
	install -m 0755 "$BIN/tests/vm/vmcheck" "$dir/test/vmcheck"
	(cd "$dir" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) | gzip -n >"$WORK/overlay.cpio.gz"
	cat "$IMAGE" "$WORK/overlay.cpio.gz" >"$out"
}

no_panic() { ! grep -q "Kernel panic" "$WORK/$1.log"; }

test_vm_boots_hardened_and_powers_off() {
	local t=${FUNCNAME[0]} why=''
	overlay "$WORK/check.img"
	vm_session "$t" "$WORK/check.img" "warden.supervisor=/test/vmcheck" || { fail "$t" "$why"; return; }
	grep '^vmcheck: ' "$WORK/$t.log" | sed 's/^/    /'
	if ! grep -Eq '^vmcheck: [1-9][0-9]* passed, 0 failed' "$WORK/$t.log"; then
		fail "$t" "checks inside the VM failed"
		return
	fi
	grep -q 'warden-init: info: power off' "$WORK/$t.log" || { fail "$t" "no power-off report"; return; }
	no_panic "$t" || { fail "$t" "kernel panic"; return; }
	ok "$t"
}

test_vm_bad_value_gives_one_line_and_powers_off() {
	local t=${FUNCNAME[0]} why='' errors
	vm_run_to_end "$t" "$IMAGE" "warden.grace=banana" || { fail "$t" "$why"; return; }
	errors=$(grep -c 'warden-init: error:' "$WORK/$t.log" || true)
	if [ "$errors" -ne 1 ]; then fail "$t" "$errors error lines, want exactly 1"; return; fi
	grep -q "warden-init: error: kernel command line: warden.grace: 'banana' is not a number" \
		"$WORK/$t.log" || { fail "$t" "the error line does not name the key"; return; }
	grep -q 'warden-init: info: supervisor: started' "$WORK/$t.log" && { fail "$t" "supervisor was started"; return; }
	no_panic "$t" || { fail "$t" "kernel panic"; return; }
	ok "$t"
}

# Debian's kernel carries a built-in archive with /dev/console, so leaving
# the node out of the image is not enough: the image here has a directory
# there instead, which the kernel cannot open as its console ("unable to
# open an initial console"), so init starts with no fd 0, 1 or 2 and must
# find the console itself.
test_vm_boots_without_console_node() {
	local t=${FUNCNAME[0]} why='' dir=$WORK/noconsole-overlay
	"$ROOT/image/mkinitramfs.sh" --init "$BIN/warden-init" --supervisor "$BIN/warden-supervisor" \
		--kernel-dir "$KERNEL_DIR" --console-node no --output "$WORK/noconsole.cpio.gz" 2>"$WORK/mk.err" ||
		{ fail "$t" "mkinitramfs: $(tail -1 "$WORK/mk.err")"; return; }
	if zcat "$WORK/noconsole.cpio.gz" | cpio --quiet -it 2>/dev/null | grep -qx 'dev/console'; then
		fail "$t" "the image still has dev/console"
		return
	fi
	mkdir -p "$dir/dev/console"
	(cd "$dir" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) | gzip -n >>"$WORK/noconsole.cpio.gz"
	vm_session "$t" "$WORK/noconsole.cpio.gz" || { fail "$t" "$why"; return; }
	grep -q 'unable to open an initial console' "$WORK/$t.log" ||
		{ fail "$t" "the kernel did open a console: this test proves nothing"; return; }
	grep -q 'warden-init: info: mount /tmp' "$WORK/$t.log" || { fail "$t" "init's lines did not reach the console"; return; }
	no_panic "$t" || { fail "$t" "kernel panic"; return; }
	ok "$t"
}

test_vm_supervisor_failure_powers_off() {
	local t=${FUNCNAME[0]} why=''
	vm_run_to_end "$t" "$IMAGE" "warden.supervisor=/bin/false" || { fail "$t" "$why"; return; }
	grep -q 'shutdown: supervisor exited with status 1; KILL to all' "$WORK/$t.log" ||
		{ fail "$t" "the reason was not reported"; return; }
	grep -q 'warden-init: info: power off' "$WORK/$t.log" || { fail "$t" "no power-off report"; return; }
	no_panic "$t" || { fail "$t" "kernel panic"; return; }
	ok "$t"
}

# Firecracker's way: no ACPI, devices only on the kernel command line, and a
# reset to end the VM. Proves init hands virtio_mmio the parameters QEMU put
# on the command line (the kernel applies them only to built-in code) and
# that warden.shutdown=reboot ends the VMM. (QEMU's microvm routes no device
# interrupt without ACPI, so the channel itself is not checked here; the
# supervisor's failure ends the VM, which is the fail-closed path.)
test_vm_without_acpi_gets_module_params_and_resets() {
	local t=${FUNCNAME[0]} why=''
	vm_run_to_end "$t" "$IMAGE" "warden.supervisor=/bin/true" noacpi || { fail "$t" "$why"; return; }
	grep -Eq 'warden-init: info: module virtio_mmio: loaded with device=[0-9]+@0x[0-9a-f]+:[0-9]+' "$WORK/$t.log" ||
		{ fail "$t" "virtio_mmio got no device parameters"; return; }
	grep -q 'warden-init: info: reset' "$WORK/$t.log" || { fail "$t" "no reset report"; return; }
	no_panic "$t" || { fail "$t" "kernel panic"; return; }
	ok "$t"
}

QEMU_ACCEL=$(qemu_accel "$KERNEL")
echo "microVM tests ($(echo "$QEMU_ACCEL" | sed 's/-accel //; s/ -cpu host//'), kernel $(awk '$1=="name"{n=$2} $1=="version"{v=$2} END{print n, v}' "$KERNEL_DIR/kernel.lock"))"
test_vm_boots_hardened_and_powers_off
test_vm_bad_value_gives_one_line_and_powers_off
test_vm_boots_without_console_node
test_vm_supervisor_failure_powers_off
test_vm_without_acpi_gets_module_params_and_resets
report_end vm
