#!/usr/bin/env bash
# scripts/demo.sh BINDIR KERNEL_DIR IMAGE - boot the image in a microVM, show
# init's report and the supervisor's handshake, and shut the VM down.
set -euo pipefail

BIN=$(cd "$1" && pwd)
KERNEL_DIR=$(cd "$2" && pwd)
IMAGE=$(cd "$(dirname "$3")" && pwd)/$(basename "$3")
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# shellcheck source=tests/lib/qemu.sh
. "$ROOT/tests/lib/qemu.sh"
WORK=$(mktemp -d /tmp/warden-demo.XXXXXX)
trap 'qemu_cleanup; rm -rf "$WORK"' EXIT

QEMU_ACCEL=$(qemu_accel "$KERNEL_DIR/vmlinuz")
echo "demo: booting $IMAGE in a QEMU microVM ($QEMU_ACCEL)"
qemu_boot demo "$KERNEL_DIR/vmlinuz" "$IMAGE" ""
echo "demo: host side: waiting for the supervisor's hello, then asking for shutdown"
rc=0
"$BIN/host-tests/chanctl" "$WORK/demo.sock" 180 >"$WORK/channel" 2>&1 || rc=$?
qemu_wait demo 60 || rc=$?
echo "demo: the guest's console (warden-init and warden-supervisor):"
grep -E '^(warden-|\[ *[0-9.]+\] (reboot|Kernel panic))' "$WORK/demo.log" | sed 's/^/  | /' || true
echo "demo: the channel, as the host saw it:"
sed 's/^/  | /' "$WORK/channel"
if [ "$rc" -ne 0 ]; then
	echo "demo: FAILED (status $rc)"
	exit 1
fi
echo "demo: the microVM booted, reported ready over virtio-serial and powered off (QEMU exit 0)"
echo "demo: running an agent job inside it needs \`warden run\`, which is not built yet"
