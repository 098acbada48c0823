#!/usr/bin/env bash
# tests/image/boot.sh BINDIR KERNEL_DIR - the verified root filesystem at boot.
#
# Builds its own golden images by hand, the way the image tool lays them
# out (docs/image.md): a small erofs of a temporary tree, its dm-verity
# tree by `veritysetup format --no-superblock --format=1`, the pin
# /etc/warden/rootfs written here and added with mkinitramfs.sh --extra,
# tests/image/rootcheck as the supervisor (/test/rootcheck), and a
# modprobe stand-in at /sbin/modprobe that logs every module request the
# kernel makes to the console. Each test boots QEMU's microvm directly
# with the two read-only virtio-blk devices of docs/image.md ("Booting an
# image") and judges init's console lines and rootcheck's findings:
#
#   - the good image: verified, mapped, mounted read-only/nodev/nosuid,
#     its content readable, exec from it works, attacks through it fail,
#     the environment and init's record say so, no module was requested;
#   - a flipped byte in the hash tree (top block, level 0): refused at
#     setup with one line, no supervisor, the VM ends;
#   - a flipped byte in one file's data block: that file reads EIO, the
#     others read fine;
#   - a wrong root hash in the pin, a missing device, a device of the
#     wrong size: refused with one line;
#   - a module changed after signing, or with its signature stripped: the
#     kernel refuses it (module.sig_enforce=1) and the boot fails closed
#     naming it;
#   - a kernel that does not enforce signatures: refused, unless
#     warden.module_sig=optional, and the record says which;
#   - an image without a pin: no root filesystem, and the record says so.
#
# Needs root (mkinitramfs's /dev/console node), qemu-system-x86_64,
# mkfs.erofs (erofs-utils) and veritysetup (cryptsetup-bin). No timing
# assertions: BOOT_LIMIT only keeps a hung guest from hanging the suite.
set -euo pipefail

BIN=$(cd "$1" && pwd)
KERNEL_DIR=$(cd "$2" && pwd)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
KERNEL=$KERNEL_DIR/vmlinuz
BOOT_LIMIT=180 # seconds; a TCG boot takes a few
BLOCK=4096
SALT=5a175a175a175a175a175a175a175a175a175a175a175a175a175a175a175a17 # 64 hex digits
MARKER=WARDEN-CORRUPT-ME

# shellcheck source=tests/lib/qemu.sh
. "$ROOT/tests/lib/qemu.sh"
# shellcheck source=tests/lib/report.sh
. "$ROOT/tests/lib/report.sh"

WORK=$(mktemp -d /tmp/warden-image-boot.XXXXXX)
trap 'qemu_cleanup; rm -rf "$WORK"' EXIT

report_detail() {
	if [ -f "$WORK/$1.log" ]; then sed 's/^/    console| /' "$WORK/$1.log" | tail -40; fi
}

for tool in qemu-system-x86_64 mkfs.erofs veritysetup cpio; do
	if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$tool" ]; then
		echo "image-boot: $tool not found (scripts/bootstrap.sh installs it)" >&2
		echo "image-boot: 0 passed, 1 failed"
		exit 1
	fi
done
VERITYSETUP=$(command -v veritysetup || echo /usr/sbin/veritysetup)

# ---- the golden image, by hand ---------------------------------------------

# make_rootfs: $WORK/root.erofs, $WORK/root.verity, ROOT_HASH, DATA_BLOCKS.
make_rootfs() {
	local tree=$WORK/tree out
	mkdir -p "$tree/bin" "$tree/data"
	install -m 0755 "$BIN/tests/image/rootcheck" "$tree/bin/rootcheck"
	install -m 4755 "$BIN/tests/image/rootcheck" "$tree/bin/rootcheck-suid"
	printf 'hello from the image\n' >"$tree/data/hello.txt"
	# Whole blocks of their own, so a flip in one touches no other file.
	{
		printf '%s' "$MARKER"
		head -c $((4 * BLOCK)) /dev/zero | tr '\0' 'c'
	} >"$tree/data/corrupt.bin"
	head -c $((4 * BLOCK)) /dev/zero | tr '\0' 'o' >"$tree/data/other.bin"
	# Over 128 data blocks in all, so that the tree has two levels.
	head -c $((160 * BLOCK)) /dev/zero | tr '\0' 'f' >"$tree/data/filler.bin"
	mknod -m 0666 "$tree/data/null" c 1 3
	mkfs.erofs --quiet -x -1 -T 0 --all-root "$WORK/root.erofs" "$tree" >"$WORK/mkfs.log" 2>&1
	DATA_BLOCKS=$(($(stat -c %s "$WORK/root.erofs") / BLOCK))
	[ $((DATA_BLOCKS * BLOCK)) -eq "$(stat -c %s "$WORK/root.erofs")" ] ||
		{ echo "image-boot: mkfs.erofs made a size that is not whole blocks" >&2; exit 1; }
	out=$("$VERITYSETUP" format --no-superblock --format=1 --hash=sha256 --salt="$SALT" \
		--data-block-size=$BLOCK --hash-block-size=$BLOCK "$WORK/root.erofs" "$WORK/root.verity")
	ROOT_HASH=$(echo "$out" | awk '/^Root hash:/ { print $3 }')
	[[ $ROOT_HASH =~ ^[0-9a-f]{64}$ ]] || { echo "image-boot: no root hash from veritysetup" >&2; exit 1; }
}

# write_pin FILE [ROOT_HASH [DATA_BLOCKS]]: the pin of docs/image.md.
write_pin() {
	cat >"$1" <<EOF
# warden rootfs pin (docs/image.md)
format 1
fs erofs
data-serial warden-rootfs
hash-serial warden-verity
data-blocks ${3:-$DATA_BLOCKS}
data-block-size 4096
hash-block-size 4096
hash-offset 0
algorithm sha256
salt $SALT
root-hash ${2:-$ROOT_HASH}
EOF
}

# The kernel runs /sbin/modprobe for every module it asks for; this one
# only says so on the console (an error-level kernel message, shown even
# with "quiet") and fails.
make_modprobe() {
	cat >"$WORK/modprobe" <<'EOF'
#!/bin/sh
echo "<3>image-boot: request_module $*" >/dev/kmsg
exit 1
EOF
	chmod 0755 "$WORK/modprobe"
}

# build_initrd OUT PIN|- [KERNEL_DIR]: the initramfs, with the pin if given.
build_initrd() {
	local out=$1 pin=$2 kdir=${3:-$KERNEL_DIR} extra=()
	[ "$pin" = - ] || extra+=(--extra "$pin:/etc/warden/rootfs:0644")
	"$ROOT/image/mkinitramfs.sh" --init "$BIN/warden-init" --supervisor "$BIN/warden-supervisor" \
		--kernel-dir "$kdir" --extra "$BIN/tests/image/rootcheck:/test/rootcheck:0755" \
		--extra "$WORK/modprobe:/sbin/modprobe:0755" "${extra[@]}" --output "$out" \
		>"$out.log" 2>&1 || { echo "image-boot: mkinitramfs: $(tail -1 "$out.log")" >&2; return 1; }
}

# flip FILE OFFSET: change one byte (xor 0x01).
flip() {
	local file=$1 off=$2 byte
	byte=$(od -An -tu1 -j "$off" -N 1 "$file" | tr -d ' ')
	[ -n "$byte" ] || { echo "image-boot: $file has no byte $off" >&2; return 1; }
	# shellcheck disable=SC2059 # the format is the byte, in octal
	printf "\\$(printf '%03o' $((byte ^ 1)))" | dd of="$file" bs=1 seek="$off" conv=notrunc status=none
}

# ---- booting ------------------------------------------------------------------

# boot NAME INITRD DATA|- HASH|- [APPEND [SIG]]: QEMU with the two devices
# (either may be left out), the console in $WORK/NAME.log; sets `why` and
# returns 1 unless QEMU ends by itself with status 0. SIG is the
# module.sig_enforce token, "module.sig_enforce=1" unless given ("" for none).
boot() {
	local t=$1 initrd=$2 data=$3 hash=$4 append=${5:-} sig=${6-module.sig_enforce=1}
	local accel rc=0 devs=()
	accel=$(qemu_accel "$KERNEL")
	case "$accel" in *tcg*) append="tsc_early_khz=2000000 $append" ;; esac
	if [ "$data" != - ]; then
		devs+=(-drive "file=$data,format=raw,if=none,id=rootfs,readonly=on"
			-device "virtio-blk-device,drive=rootfs,serial=warden-rootfs")
	fi
	if [ "$hash" != - ]; then
		devs+=(-drive "file=$hash,format=raw,if=none,id=verity,readonly=on"
			-device "virtio-blk-device,drive=verity,serial=warden-verity")
	fi
	# shellcheck disable=SC2086 # accel is several words on purpose
	qemu-system-x86_64 -M microvm $accel -m 256 -smp 1 -no-reboot -nodefaults \
		-display none -monitor none -serial "file:$WORK/$t.log" \
		-kernel "$KERNEL" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 init=/init quiet $sig warden.supervisor=/test/rootcheck $append" \
		-device virtio-rng-device "${devs[@]}" >"$WORK/$t.qemu.out" 2>&1 &
	QEMU_PID=$!
	QEMU_PIDS+=("$QEMU_PID")
	qemu_wait "$t" "$BOOT_LIMIT" || rc=$?
	[ "$rc" -eq 0 ] || { why="QEMU exited $rc, not 0 (a clean end)"; return 1; }
	! grep -q "Kernel panic" "$WORK/$t.log" || { why="kernel panic"; return 1; }
}

console_has() { grep -qF -- "$2" "$WORK/$1.log"; }

# The boot stopped at init's rootfs or modules phase: exactly one error
# line, containing TEXT; no supervisor; the VM powered off.
assert_refused() {
	local t=$1 text=$2 errors
	errors=$(grep -c 'warden-init: error:' "$WORK/$t.log" || true)
	[ "$errors" -eq 1 ] || { why="$errors error lines, want exactly 1"; return 1; }
	grep 'warden-init: error:' "$WORK/$t.log" | grep -qF -- "$text" ||
		{ why="the error line does not say '$text'"; return 1; }
	! console_has "$t" 'supervisor: started' || { why="the supervisor was started"; return 1; }
	! console_has "$t" 'rootcheck:' || { why="rootcheck ran"; return 1; }
	console_has "$t" 'warden-init: info: power off' || { why="no power-off"; return 1; }
}

# rootcheck finished and none of its fixed checks failed.
assert_rootcheck_clean() {
	local t=$1
	grep -Eq '^rootcheck: [1-9][0-9]* passed, 0 failed' "$WORK/$t.log" ||
		{ why="rootcheck: $(grep -m1 '^rootcheck: FAIL' "$WORK/$t.log" || echo 'no summary')"; return 1; }
}

# ---- the tests ----------------------------------------------------------------------

test_verified_rootfs_is_mounted_read_only_and_usable() {
	local t=${FUNCNAME[0]} why='' rec
	boot "$t" "$WORK/good.cpio.gz" "$WORK/root.erofs" "$WORK/root.verity" || { fail "$t" "$why"; return; }
	grep '^rootcheck: ' "$WORK/$t.log" | grep -v '^rootcheck: env WARDEN_INIT_RECORD' | sed 's/^/    /'
	assert_rootcheck_clean "$t" || { fail "$t" "$why"; return; }
	console_has "$t" "rootfs: hash tree of vdb verified" || { fail "$t" "no verification line"; return; }
	console_has "$t" "rootfs: /dev/dm-0 (warden-root, verity over vda and vdb) mounted read-only, nodev, nosuid at /run/warden/rootfs" ||
		{ fail "$t" "no mount line"; return; }
	console_has "$t" "rootcheck: env WARDEN_ROOTFS=/run/warden/rootfs" || { fail "$t" "WARDEN_ROOTFS"; return; }
	console_has "$t" "rootcheck: env WARDEN_ROOTFS_HASH=$ROOT_HASH" ||
		{ fail "$t" "WARDEN_ROOTFS_HASH is not veritysetup's root hash"; return; }
	console_has "$t" "rootcheck: env WARDEN_ROOTFS_DM=warden-root" || { fail "$t" "WARDEN_ROOTFS_DM"; return; }
	rec="\"rootfs\":{\"data\":\"vda\",\"dm\":\"warden-root\",\"hash\":\"vdb\",\"mount\":\"/run/warden/rootfs\",\"root_hash\":\"$ROOT_HASH\"}"
	console_has "$t" "$rec" || { fail "$t" "init's record lacks $rec"; return; }
	console_has "$t" '"module_sig_enforce":true' || { fail "$t" "the record does not say module_sig_enforce true"; return; }
	console_has "$t" "rootcheck: sig_enforce Y" || { fail "$t" "the kernel does not enforce module signatures"; return; }
	for f in hello.txt:21 corrupt.bin:$((4 * BLOCK + ${#MARKER})) other.bin:$((4 * BLOCK)) \
		filler.bin:$((160 * BLOCK)); do
		console_has "$t" "rootcheck: file /data/${f%%:*} ok ${f#*:}" || { fail "$t" "/data/${f%%:*} did not read whole"; return; }
	done
	# The stand-in saw rootcheck's vfat request, and nothing else.
	console_has "$t" "image-boot: request_module -q -- fs-vfat" ||
		{ fail "$t" "the modprobe stand-in saw nothing: it proves nothing"; return; }
	if grep 'image-boot: request_module' "$WORK/$t.log" | grep -qv -- 'request_module -q -- fs-vfat'; then
		fail "$t" "the kernel asked for a module: $(grep 'image-boot: request_module' "$WORK/$t.log" | grep -v fs-vfat | head -1)"
		return
	fi
	console_has "$t" 'warden-init: info: power off' || { fail "$t" "no power-off"; return; }
	# Nothing went wrong on the way, the root filesystem's unmount at shutdown included.
	! console_has "$t" 'warden-init: warn:' || { fail "$t" "$(grep -m1 'warden-init: warn:' "$WORK/$t.log")"; return; }
	ok "$t"
}

test_flipped_hash_tree_byte_is_refused_at_setup() {
	local t=${FUNCNAME[0]} why='' where off
	# The tree has the top level first; level 0 (the data blocks' digests) last.
	for where in top:5 level0:$((BLOCK + 100)); do
		off=${where#*:}
		cp "$WORK/root.verity" "$WORK/$t.verity"
		flip "$WORK/$t.verity" "$off"
		boot "$t-${where%%:*}" "$WORK/good.cpio.gz" "$WORK/root.erofs" "$WORK/$t.verity" ||
			{ fail "$t" "${where%%:*}: $why"; return; }
		assert_refused "$t-${where%%:*}" \
			"rootfs: hash tree does not match the pinned root hash (device vdb)" ||
			{ fail "$t" "${where%%:*}: $why"; return; }
		! console_has "$t-${where%%:*}" "mounted read-only" || { fail "$t" "${where%%:*}: it was mounted"; return; }
	done
	ok "$t"
}

test_flipped_data_byte_gives_eio_on_that_file_only() {
	local t=${FUNCNAME[0]} why='' off
	off=$(grep -obUa -- "$MARKER" "$WORK/root.erofs" | head -1 | cut -d: -f1)
	[ -n "$off" ] || { fail "$t" "the marker is not in the image"; return; }
	cp "$WORK/root.erofs" "$WORK/$t.erofs"
	flip "$WORK/$t.erofs" "$((off + 3))"
	boot "$t" "$WORK/good.cpio.gz" "$WORK/$t.erofs" "$WORK/root.verity" || { fail "$t" "$why"; return; }
	grep '^rootcheck: file' "$WORK/$t.log" | sed 's/^/    /'
	console_has "$t" "rootcheck: file /data/corrupt.bin EIO" || { fail "$t" "the changed file did not read EIO"; return; }
	console_has "$t" "rootcheck: file /data/other.bin ok $((4 * BLOCK))" || { fail "$t" "another file did not read"; return; }
	console_has "$t" "rootcheck: file /data/hello.txt ok 21" || { fail "$t" "hello.txt did not read"; return; }
	grep -Eq 'verity: [0-9]+:[0-9]+: data block [0-9]+ is corrupted' "$WORK/$t.log" ||
		{ fail "$t" "dm-verity did not report the block"; return; }
	ok "$t"
}

test_wrong_root_hash_in_the_pin_is_refused() {
	local t=${FUNCNAME[0]} why='' wrong
	if [ "${ROOT_HASH:0:1}" = 0 ]; then wrong=1${ROOT_HASH:1}; else wrong=0${ROOT_HASH:1}; fi
	write_pin "$WORK/$t.pin" "$wrong"
	build_initrd "$WORK/$t.cpio.gz" "$WORK/$t.pin" || { fail "$t" "no initramfs"; return; }
	boot "$t" "$WORK/$t.cpio.gz" "$WORK/root.erofs" "$WORK/root.verity" || { fail "$t" "$why"; return; }
	assert_refused "$t" "rootfs: hash tree does not match the pinned root hash (device vdb)" ||
		{ fail "$t" "$why"; return; }
	ok "$t"
}

test_missing_device_is_refused() {
	local t=${FUNCNAME[0]} why=''
	boot "$t" "$WORK/good.cpio.gz" "$WORK/root.erofs" - || { fail "$t" "$why"; return; }
	assert_refused "$t" "rootfs: no block device with serial 'warden-verity' (its hash tree)" ||
		{ fail "$t" "$why"; return; }
	boot "$t-data" "$WORK/good.cpio.gz" - "$WORK/root.verity" || { fail "$t" "$why"; return; }
	assert_refused "$t-data" "rootfs: no block device with serial 'warden-rootfs' (the root filesystem)" ||
		{ fail "$t" "$why"; return; }
	ok "$t"
}

test_data_device_of_the_wrong_size_is_refused() {
	local t=${FUNCNAME[0]} why=''
	# One block more than the pin says: an appended block is not covered by the tree.
	cp "$WORK/root.erofs" "$WORK/$t.erofs"
	head -c "$BLOCK" /dev/zero >>"$WORK/$t.erofs"
	boot "$t" "$WORK/good.cpio.gz" "$WORK/$t.erofs" "$WORK/root.verity" || { fail "$t" "$why"; return; }
	assert_refused "$t" "rootfs: data device vda holds $(((DATA_BLOCKS + 1) * BLOCK)) bytes, the pin says $((DATA_BLOCKS * BLOCK))" ||
		{ fail "$t" "$why"; return; }
	ok "$t"
}

# kernel_copy DIR: a kernel directory for mkinitramfs whose module files
# are links to the real ones, so that one can be replaced.
kernel_copy() {
	local dir=$1 kver
	kver=$(awk '$1 == "kver" { print $2 }' "$KERNEL_DIR/kernel.lock")
	mkdir -p "$dir"
	cp "$KERNEL_DIR/kernel.lock" "$dir/"
	cp -as "$KERNEL_DIR/modules" "$dir/modules"
	MODFILE=$dir/modules/$kver/kernel/drivers/md/dm-verity.ko
	rm -f "$MODFILE"
	cp "$KERNEL_DIR/modules/$kver/kernel/drivers/md/dm-verity.ko" "$MODFILE"
}

# signed FILE: it ends with the kernel's module signature marker.
signed() { tail -c 28 "$1" | cmp -s - <(printf '~Module signature appended~\n'); }

test_altered_module_fails_closed() {
	local t=${FUNCNAME[0]} why='' size siglen
	# 1. One byte of the module's code changed after signing.
	kernel_copy "$WORK/k-altered"
	flip "$MODFILE" 4200
	build_initrd "$WORK/$t.cpio.gz" "$WORK/good.pin" "$WORK/k-altered" || { fail "$t" "no initramfs"; return; }
	boot "$t" "$WORK/$t.cpio.gz" "$WORK/root.erofs" "$WORK/root.verity" || { fail "$t" "$why"; return; }
	assert_refused "$t" "module dm_verity: finit_module: Key was rejected by service" ||
		{ fail "$t" "changed byte: $why"; return; }
	# 2. The signature stripped: "~Module signature appended~\n" (28 bytes)
	# ends the file, after the signature and its 12-byte trailer, whose
	# last four bytes are the signature's length (big-endian).
	kernel_copy "$WORK/k-stripped"
	size=$(stat -c %s "$MODFILE")
	signed "$MODFILE" || { fail "$t" "dm-verity.ko is not signed"; return; }
	siglen=$(tail -c 32 "$MODFILE" | head -c 4 | od -An -tu1 | awk '{ print (($1 * 256 + $2) * 256 + $3) * 256 + $4 }')
	truncate -s $((size - 28 - 12 - siglen)) "$MODFILE"
	! signed "$MODFILE" || { fail "$t" "still signed"; return; }
	readelf -h "$MODFILE" >/dev/null 2>&1 || { fail "$t" "the stripped module is no longer an ELF file"; return; }
	build_initrd "$WORK/$t-stripped.cpio.gz" "$WORK/good.pin" "$WORK/k-stripped" || { fail "$t" "no initramfs"; return; }
	boot "$t-stripped" "$WORK/$t-stripped.cpio.gz" "$WORK/root.erofs" "$WORK/root.verity" ||
		{ fail "$t" "stripped: $why"; return; }
	# The kernel answers EKEYREJECTED for an unsigned module when it enforces
	# signatures (kernel/module/signing.c: "Loading of unsigned module is rejected").
	assert_refused "$t-stripped" "module dm_verity: finit_module: Key was rejected by service" ||
		{ fail "$t" "stripped: $why"; return; }
	# The control: the same image on a kernel told not to enforce (and init
	# told to accept that) loads the stripped module and boots, so the
	# refusal above was the signature's, not a broken file's.
	boot "$t-control" "$WORK/$t-stripped.cpio.gz" "$WORK/root.erofs" "$WORK/root.verity" \
		"warden.module_sig=optional" "" || { fail "$t" "control: $why"; return; }
	console_has "$t-control" "module dm_verity: loaded" || { fail "$t" "control: the stripped module did not load"; return; }
	assert_rootcheck_clean "$t-control" || { fail "$t" "control: $why"; return; }
	ok "$t"
}

test_kernel_without_signature_enforcement_is_refused() {
	local t=${FUNCNAME[0]} why=''
	boot "$t" "$WORK/good.cpio.gz" "$WORK/root.erofs" "$WORK/root.verity" "" "" || { fail "$t" "$why"; return; }
	assert_refused "$t" "modules: the kernel does not enforce module signatures" || { fail "$t" "$why"; return; }
	console_has "$t" "module virtio_ring: loaded" && { fail "$t" "a module was loaded before the refusal"; return; }
	# The operator's explicit choice: boots, says so, and the record too.
	boot "$t-optional" "$WORK/good.cpio.gz" "$WORK/root.erofs" "$WORK/root.verity" \
		"warden.module_sig=optional" "" || { fail "$t" "optional: $why"; return; }
	console_has "$t-optional" "warden-init: warn: modules: the kernel does not enforce module signatures; accepted (warden.module_sig=optional)" ||
		{ fail "$t" "optional: no warning"; return; }
	console_has "$t-optional" '"module_sig_enforce":false' || { fail "$t" "optional: the record does not say false"; return; }
	console_has "$t-optional" "rootcheck: sig_enforce N" || { fail "$t" "optional: sig_enforce is not N"; return; }
	ok "$t"
}

test_image_without_pin_has_no_rootfs() {
	local t=${FUNCNAME[0]} why=''
	build_initrd "$WORK/$t.cpio.gz" - || { fail "$t" "no initramfs"; return; }
	boot "$t" "$WORK/$t.cpio.gz" - - || { fail "$t" "$why"; return; }
	console_has "$t" "rootfs: none (the image has no /etc/warden/rootfs)" || { fail "$t" "no 'none' line"; return; }
	console_has "$t" "rootcheck: env WARDEN_ROOTFS=(unset)" || { fail "$t" "WARDEN_ROOTFS is set"; return; }
	console_has "$t" '"rootfs":false' || { fail "$t" "the record does not say rootfs false"; return; }
	assert_rootcheck_clean "$t" || { fail "$t" "$why"; return; }
	ok "$t"
}

make_rootfs
[ "$DATA_BLOCKS" -gt 128 ] || { echo "image-boot: the test image has $DATA_BLOCKS blocks: one level only" >&2; exit 1; }
make_modprobe
write_pin "$WORK/good.pin"
build_initrd "$WORK/good.cpio.gz" "$WORK/good.pin"
QEMU_ACCEL=$(qemu_accel "$KERNEL")
echo "image boot tests ($(echo "$QEMU_ACCEL" | sed 's/-accel //; s/ -cpu host//'), rootfs $DATA_BLOCKS blocks, root hash $ROOT_HASH)"
test_verified_rootfs_is_mounted_read_only_and_usable
test_flipped_hash_tree_byte_is_refused_at_setup
test_flipped_data_byte_gives_eio_on_that_file_only
test_wrong_root_hash_in_the_pin_is_refused
test_missing_device_is_refused
test_data_device_of_the_wrong_size_is_refused
test_altered_module_fails_closed
test_kernel_without_signature_enforcement_is_refused
test_image_without_pin_has_no_rootfs
report_end image-boot
