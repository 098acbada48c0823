# shellcheck shell=bash
# tests/lib/qemu.sh - boot a warden image in a QEMU microVM (sourced, bash).
#
#   qemu_boot NAME KERNEL INITRD APPEND [acpi|noacpi]
#       starts QEMU in the background with the console in $WORK/NAME.log and
#       the virtio-serial port "warden" on the Unix socket $WORK/NAME.sock;
#       sets QEMU_PID
#   qemu_wait NAME SECONDS
#       waits for QEMU to exit; its status, or 124 if it had to be killed
#
# KVM when /dev/kvm is usable, else TCG (slower, same behaviour). A
# /dev/kvm node is not proof: nested KVM can exist and still fail to run a
# guest, so the first call boots the kernel once under KVM (no initrd: it
# panics at once and, with panic=-1 and -no-reboot, QEMU exits) and uses KVM
# only if that worked. WORK must be set by the caller; every QEMU started
# here is killed on exit.
#
# Under TCG the guest kernel cannot calibrate its TSC against microvm's PIT
# and stops before init (seen with Debian's 6.1 cloud kernel), so the TSC
# frequency is given on the command line (tsc_early_khz); KVM needs none.
#
# Two machine flavours:
#   acpi    (default) microvm with ACPI: devices in the DSDT, power-off ends
#           QEMU (warden.shutdown=poweroff, init's default)
#   noacpi  microvm without ACPI, as Firecracker: devices only on the kernel
#           command line (virtio_mmio.device=..., which QEMU appends and init
#           passes to the virtio_mmio module), no power-off device, so the
#           guest resets (warden.shutdown=reboot) and -no-reboot ends QEMU

QEMU_PIDS=()
QEMU_MACHINE="microvm"
QEMU_ACCEL=""

qemu_accel() {
	local kernel=$1
	if [ -z "$QEMU_ACCEL" ]; then
		QEMU_ACCEL="-accel tcg"
		if [ -r /dev/kvm ] && [ -w /dev/kvm ] &&
			timeout 20 qemu-system-x86_64 -M microvm -accel kvm -cpu host -m 128 \
				-no-reboot -nodefaults -display none -monitor none -serial none \
				-kernel "$kernel" -append "panic=-1 quiet" >/dev/null 2>&1; then
			QEMU_ACCEL="-accel kvm -cpu host"
		fi
	fi
	echo "$QEMU_ACCEL"
}

qemu_boot() {
	local name=$1 kernel=$2 initrd=$3 append=$4 flavour=${5:-acpi}
	local accel machine=$QEMU_MACHINE
	accel=$(qemu_accel "$kernel")
	case "$accel" in *tcg*) append="tsc_early_khz=2000000 $append" ;; esac
	if [ "$flavour" = noacpi ]; then
		machine="$machine,acpi=off"
		append="warden.shutdown=reboot $append"
	fi
	# shellcheck disable=SC2086 # accel is several words on purpose
	qemu-system-x86_64 -M "$machine" $accel -m 256 -smp 1 -no-reboot -nodefaults \
		-display none -monitor none -serial "file:$WORK/$name.log" \
		-kernel "$kernel" -initrd "$initrd" -append "console=ttyS0 panic=-1 init=/init quiet module.sig_enforce=1 $append" \
		-device virtio-serial-device \
		-chardev "socket,id=c0,path=$WORK/$name.sock,server=on,wait=off" \
		-device virtserialport,chardev=c0,name=warden \
		-device virtio-rng-device \
		>"$WORK/$name.qemu.out" 2>&1 &
	QEMU_PID=$!
	QEMU_PIDS+=("$QEMU_PID")
}

qemu_wait() {
	local name=$1 limit=$2 waited=0
	while kill -0 "$QEMU_PID" 2>/dev/null; do
		if [ "$waited" -ge $((limit * 10)) ]; then
			echo "qemu ($name) still running after ${limit}s: killed" >&2
			kill -9 "$QEMU_PID" 2>/dev/null || true
			wait "$QEMU_PID" 2>/dev/null || true
			return 124
		fi
		sleep 0.1
		waited=$((waited + 1))
	done
	local rc=0
	wait "$QEMU_PID" || rc=$?
	return "$rc"
}

qemu_cleanup() {
	local pid
	for pid in "${QEMU_PIDS[@]}"; do
		kill -9 "$pid" 2>/dev/null || true
	done
}
