#!/usr/bin/env bash
# tests/image/tool.sh BINDIR KERNEL_DIR BASE_INITRAMFS ROOTFS_TAR
#
# `warden image build | inspect | verify` end to end (docs/image.md):
#
#   - a small directory rootfs (a static binary, a setuid file, a symlink)
#     builds into exactly the five files; verify says OK; inspect shows the
#     root hash that /etc/warden/rootfs pins inside the initramfs; the
#     erofs holds the tree, setuid stripped, every mtime the epoch;
#   - two builds from two separately staged copies of the tree (another
#     creation order, other mtimes, another parent directory) give the same
#     five files, byte for byte; SOURCE_DATE_EPOCH is honoured;
#   - the same for the Debian rootfs tar (image/debian-rootfs.sh, cached);
#   - one flipped byte in rootfs.erofs, rootfs.verity, initramfs.cpio.gz,
#     manifest.json or vmlinuz: verify exits 1 naming that file; a forged
#     manifest.json whose digest was updated for a changed rootfs.erofs is
#     caught by the pin in the initramfs;
#   - --policy and --extra land in the initramfs and its manifest; a bad
#     policy, a reserved --extra path, an existing OUTDIR, a kernel whose
#     release is not the modules', a changed base: refused, and a failed
#     build leaves neither OUTDIR nor OUTDIR.tmp-* behind; symlinks with
#     long targets past a small --max-size, and a rootfs.erofs past the
#     bound and its allowance: refused.
set -euo pipefail

BIN=$(cd "$1" && pwd)
KERNEL_DIR=$(cd "$2" && pwd)
BASE=$(cd "$(dirname "$3")" && pwd)/$(basename "$3")
TAR=$4
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WARDEN=$BIN/warden
WORK=$(mktemp -d /tmp/warden-imgtool.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# shellcheck source=tests/lib/report.sh
. "$ROOT/tests/lib/report.sh"

FILES=(initramfs.cpio.gz manifest.json rootfs.erofs rootfs.verity vmlinuz)
export LC_ALL=C

build() { # OUTDIR ARGS...: build, log in OUTDIR.log
	local out=$1
	shift
	"$WARDEN" image build --kernel "$KERNEL_DIR" --base "$BASE" --output "$out" "$@" \
		>"$out.log" 2>&1
}

# A small tree: a static binary, a setuid file, a script, a symlink, a
# nested directory. $2 reverses the creation order and sets other mtimes.
make_tree() {
	local d=$1 other=${2:-}
	mkdir -p "$d"
	if [ -n "$other" ]; then
		mkdir -p "$d/usr/share/doc" "$d/etc" "$d/bin"
		ln -s busybox "$d/bin/sh"
		printf 'hello\n' >"$d/etc/motd"
		printf 'a doc\n' >"$d/usr/share/doc/README"
		cp "$BIN/warden-init" "$d/bin/static-tool"
		cp /usr/bin/busybox "$d/bin/busybox"
		touch -d @123456789 "$d/etc/motd" "$d/bin/busybox"
	else
		mkdir -p "$d/bin" "$d/etc" "$d/usr/share/doc"
		cp /usr/bin/busybox "$d/bin/busybox"
		cp "$BIN/warden-init" "$d/bin/static-tool"
		printf 'a doc\n' >"$d/usr/share/doc/README"
		printf 'hello\n' >"$d/etc/motd"
		ln -s busybox "$d/bin/sh"
	fi
	chmod 4755 "$d/bin/busybox"
	chmod 0755 "$d/bin/static-tool"
}

same_files() { # DIR1 DIR2: the five files are identical
	local f
	for f in "${FILES[@]}"; do
		cmp -s "$1/$f" "$2/$f" || { echo "$f"; return 1; }
	done
}

# from_initramfs OUTDIR PATH: a file of the image's initramfs on stdout
from_initramfs() {
	zcat "$1/initramfs.cpio.gz" | cpio --quiet -i --to-stdout "${2#/}" 2>/dev/null
}

json() { # FILE EXPR: a value of manifest.json (python3)
	python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

flip_byte() { # FILE OFFSET
	python3 -c 'import sys; p,o=sys.argv[1],int(sys.argv[2]); d=bytearray(open(p,"rb").read()); d[o]^=1; open(p,"wb").write(bytes(d))' "$1" "$2"
}

# ---- a directory rootfs ------------------------------------------------------

test_dir_rootfs_builds_verifies_and_inspects() {
	local t=${FUNCNAME[0]} out=$WORK/dir1/image root hash held x=$WORK/dir1/x
	make_tree "$WORK/dir1/rootfs"
	build "$out" --rootfs "$WORK/dir1/rootfs" --name small ||
		{ fail "$t" "build: $(tail -1 "$out.log")"; return; }
	held=$(find "$out" -mindepth 1 -printf '%P\n' | sort | tr '\n' ' ')
	[ "$held" = "${FILES[*]} " ] || { fail "$t" "OUTDIR holds $held"; return; }
	"$WARDEN" image verify "$out" >"$WORK/v.out" 2>&1 || { fail "$t" "verify: $(cat "$WORK/v.out")"; return; }
	grep -qx "$out: OK" "$WORK/v.out" || { fail "$t" "verify printed $(cat "$WORK/v.out")"; return; }
	root=$(json "$out/manifest.json" 'm["rootfs"]["verity"]["root_hash"]')
	"$WARDEN" image inspect "$out" >"$WORK/i.out" || { fail "$t" "inspect failed"; return; }
	grep -q "root hash  *$root" "$WORK/i.out" || { fail "$t" "inspect does not show the root hash"; return; }
	grep -q '/bin/busybox (setuid)' "$WORK/i.out" || { fail "$t" "inspect does not list the stripped setuid bit"; return; }
	"$WARDEN" image inspect "$out" --json | cmp -s - "$out/manifest.json" ||
		{ fail "$t" "inspect --json is not manifest.json's canonical text"; return; }
	hash=$(from_initramfs "$out" /etc/warden/rootfs | awk '$1 == "root-hash" { print $2 }')
	[ "$hash" = "$root" ] || { fail "$t" "/etc/warden/rootfs pins '$hash', manifest.json $root"; return; }
	[ "$(from_initramfs "$out" /etc/warden/rootfs | awk '$1 == "data-blocks" { print $2 }')" = \
		"$(($(stat -c %s "$out/rootfs.erofs") / 4096))" ] || { fail "$t" "data-blocks is not the erofs's size"; return; }
	[ "$(from_initramfs "$out" /etc/warden/manifest | sha256sum | cut -d' ' -f1)" = \
		"$(json "$out/manifest.json" 'm["initramfs"]["manifest_sha256"]')" ] ||
		{ fail "$t" "manifest_sha256 is not /etc/warden/manifest's digest"; return; }
	# The erofs holds the tree: contents equal, setuid gone, times the epoch.
	fsck.erofs --extract="$x" "$out/rootfs.erofs" >/dev/null 2>&1 || { fail "$t" "fsck.erofs --extract failed"; return; }
	diff -r --no-dereference "$WORK/dir1/rootfs" "$x" >/dev/null || { fail "$t" "the erofs's tree differs from the source"; return; }
	[ "$(stat -c %a "$x/bin/busybox")" = 755 ] || { fail "$t" "setuid kept: $(stat -c %a "$x/bin/busybox")"; return; }
	[ "$(stat -c %Y "$x/etc/motd")" = "$(json "$out/manifest.json" 'm["epoch"]')" ] ||
		{ fail "$t" "mtime $(stat -c %Y "$x/etc/motd") is not the epoch"; return; }
	echo "    root hash $root"
	ok "$t"
}

test_initramfs_keeps_the_base_and_its_manifest_format() {
	local t=${FUNCNAME[0]} out=$WORK/dir1/image x=$WORK/dir1/initramfs path type digest bad=0
	[ -f "$out/manifest.json" ] || { fail "$t" "no image from the test before"; return; }
	mkdir -p "$x"
	(cd "$x" && zcat "$out/initramfs.cpio.gz" | cpio --quiet -idm --no-absolute-filenames 2>/dev/null)
	# Every entry of the base is there, as it was, but the manifest.
	while read -r path type _; do
		[ "$path" = /etc/warden/manifest ] && continue
		awk -v p="$path" -v t="$type" '$1 == p && $2 == t { found = 1 } END { exit !found }' \
			"$x/etc/warden/manifest" || { echo "    $path: lost"; bad=$((bad + 1)); }
	done < <(zcat "$BASE" | cpio --quiet -i --to-stdout etc/warden/manifest 2>/dev/null | grep '^/')
	# The new manifest describes the archive: every digest right, the pins listed.
	while read -r path type _ _ digest; do
		[ "$type" = f ] || continue
		[ "$(sha256sum "$x$path" | cut -d' ' -f1)" = "$digest" ] || { echo "    $path: digest differs"; bad=$((bad + 1)); }
	done < <(grep '^/' "$x/etc/warden/manifest")
	grep -q '^/etc/warden/rootfs f 0644 ' "$x/etc/warden/manifest" || bad=$((bad + 1))
	grep -q '^/etc/warden/image f 0644 ' "$x/etc/warden/manifest" || bad=$((bad + 1))
	head -1 "$x/etc/warden/manifest" | grep -q '^# warden-manifest 1: ' || bad=$((bad + 1))
	[ "$bad" -eq 0 ] || { fail "$t" "$bad differences"; return; }
	ok "$t"
}

test_dir_rootfs_is_reproducible() {
	local t=${FUNCNAME[0]} a=$WORK/repro/a/image b=$WORK/repro/b/image differ modes
	make_tree "$WORK/repro/a/rootfs"
	make_tree "$WORK/repro/b/x/rootfs" other
	(umask 077 && build "$a" --rootfs "$WORK/repro/a/rootfs" --name small) || { fail "$t" "build a: $(tail -1 "$a.log")"; return; }
	build "$b" --rootfs "$WORK/repro/b/x/rootfs/" --name small || { fail "$t" "build b: $(tail -1 "$b.log")"; return; }
	differ=$(same_files "$a" "$b") || { fail "$t" "$differ differs between the two builds"; return; }
	# Built under umask 077, still 0755 and 0644: modes are not the umask's.
	modes=$(cd "$a" && stat -c '%a' . "${FILES[@]}" | sort -u | tr '\n' ' ')
	[ "$modes" = "644 755 " ] || { fail "$t" "modes under umask 077: $modes"; return; }
	ok "$t"
}

test_source_date_epoch_is_honoured() {
	local t=${FUNCNAME[0]} out=$WORK/epoch/image mt
	make_tree "$WORK/epoch/rootfs"
	SOURCE_DATE_EPOCH=1234567890 build "$out" --rootfs "$WORK/epoch/rootfs" ||
		{ fail "$t" "build: $(tail -1 "$out.log")"; return; }
	[ "$(json "$out/manifest.json" 'm["epoch"]')" = 1234567890 ] || { fail "$t" "epoch not taken"; return; }
	# Every newc header's mtime field (the trailer's is 0).
	mt=$(zcat "$out/initramfs.cpio.gz" | python3 -c '
import sys
d, i, seen = sys.stdin.buffer.read(), 0, set()
while True:
    name_size, size = int(d[i + 94:i + 102], 16), int(d[i + 54:i + 62], 16)
    name = d[i + 110:i + 110 + name_size - 1]
    if name == b"TRAILER!!!":
        break
    seen.add(int(d[i + 46:i + 54], 16))
    i = (i + 110 + name_size + 3) // 4 * 4
    i = (i + size + 3) // 4 * 4
print(" ".join(str(s) for s in sorted(seen)))')
	[ "$mt" = 1234567890 ] || { fail "$t" "initramfs mtimes: $mt"; return; }
	SOURCE_DATE_EPOCH=soon build "$WORK/epoch/bad" --rootfs "$WORK/epoch/rootfs" &&
		{ fail "$t" "SOURCE_DATE_EPOCH=soon accepted"; return; }
	grep -q 'SOURCE_DATE_EPOCH' "$WORK/epoch/bad.log" || { fail "$t" "no clear error: $(tail -1 "$WORK/epoch/bad.log")"; return; }
	ok "$t"
}

# ---- the Debian rootfs tar --------------------------------------------------

test_debian_tar_builds_verifies_and_is_reproducible() {
	local t=${FUNCNAME[0]} a=$WORK/deb/a b=$WORK/deb/b differ x=$WORK/deb/x
	if [ ! -s "$TAR" ]; then
		skip "$t" "no $TAR (image/debian-rootfs.sh needs root and the Debian mirror)"
		return
	fi
	mkdir -p "$WORK/deb"
	build "$a" --rootfs "$TAR" || { fail "$t" "build: $(tail -1 "$a.log")"; return; }
	"$WARDEN" image verify "$a" >"$WORK/deb/v.out" 2>&1 || { fail "$t" "verify: $(cat "$WORK/deb/v.out")"; return; }
	[ "$(json "$a/manifest.json" 'm["name"]')" = debian-python ] || { fail "$t" "default name not from the tar"; return; }
	[ "$(json "$a/manifest.json" '[s["sha256"] for s in m["sources"] if s["what"] == "rootfs"][0]')" = \
		"$(sha256sum "$TAR" | cut -d' ' -f1)" ] || { fail "$t" "the rootfs source is not the tar's digest"; return; }
	json "$a/manifest.json" '[s["what"] for s in m["rootfs"]["stripped"]]' | grep -q char-device ||
		{ fail "$t" "no device listed as stripped"; return; }
	fsck.erofs --extract="$x" "$a/rootfs.erofs" >/dev/null 2>&1 || { fail "$t" "fsck.erofs --extract failed"; return; }
	[ -x "$x/usr/bin/python3" ] || [ -L "$x/usr/bin/python3" ] || { fail "$t" "no python3 in the erofs"; return; }
	[ -z "$(find "$x" -perm /6000 -print -quit)" ] || { fail "$t" "a setuid or setgid file in the erofs"; return; }
	build "$b" --rootfs "$TAR" || { fail "$t" "second build: $(tail -1 "$b.log")"; return; }
	differ=$(same_files "$a" "$b") || { fail "$t" "$differ differs between the two builds"; return; }
	echo "    $(json "$a/manifest.json" 'm["rootfs"]["entries"]') entries, rootfs.erofs $(stat -c %s "$a/rootfs.erofs") bytes, root hash $(json "$a/manifest.json" 'm["rootfs"]["verity"]["root_hash"]')"
	ok "$t"
}

# ---- tampering ----------------------------------------------------------------

# tampered NAME FILE OFFSET WANT: a copy of the image with one byte of FILE
# flipped; verify must exit 1 with WANT in its message.
tampered() {
	local t=$1 file=$2 off=$3 want=$4 copy=$WORK/tamper/$1 rc=0
	rm -rf "$copy"
	mkdir -p "$WORK/tamper"
	cp -a "$WORK/dir1/image" "$copy"
	flip_byte "$copy/$file" "$off"
	"$WARDEN" image verify "$copy" >"$copy.out" 2>&1 || rc=$?
	[ "$rc" -eq 1 ] || { fail "$t" "verify exited $rc: $(cat "$copy.out")"; return; }
	grep -q "verify: .*: $want" "$copy.out" || { fail "$t" "not named: $(cat "$copy.out")"; return; }
	echo "    $(sed 's/^warden: error: //' "$copy.out" | cut -c1-150)"
	ok "$t"
}

test_flipped_byte_in_rootfs_erofs_is_named() {
	tampered "${FUNCNAME[0]}" rootfs.erofs $(($(stat -c %s "$WORK/dir1/image/rootfs.erofs") / 2)) 'rootfs.erofs: sha256'
}

test_flipped_byte_in_rootfs_verity_is_named() {
	tampered "${FUNCNAME[0]}" rootfs.verity 100 'rootfs.verity: sha256'
}

test_flipped_byte_in_initramfs_is_named() {
	tampered "${FUNCNAME[0]}" initramfs.cpio.gz 5000 'initramfs.cpio.gz: sha256'
}

test_flipped_byte_in_vmlinuz_is_named() {
	tampered "${FUNCNAME[0]}" vmlinuz 4096 'vmlinuz: sha256'
}

test_flipped_byte_in_manifest_json_is_named() {
	local off
	# In the image's name: still valid, canonical JSON.
	off=$(grep -bo '"name":"small"' "$WORK/dir1/image/manifest.json" | head -1 | cut -d: -f1)
	tampered "${FUNCNAME[0]}" manifest.json $((off + 9)) 'manifest.json: its members outside "initramfs"'
}

test_flipped_byte_in_manifest_structure_is_named() {
	tampered "${FUNCNAME[0]}" manifest.json 1 'manifest.json:'
}

# A forger changes rootfs.erofs and writes its new digest into manifest.json:
# the manifest no longer matches the pin inside the (untouched) initramfs.
test_forged_manifest_digest_is_caught_by_the_pin() {
	local t=${FUNCNAME[0]} copy=$WORK/tamper/forged rc=0
	rm -rf "$copy"
	mkdir -p "$WORK/tamper"
	cp -a "$WORK/dir1/image" "$copy"
	flip_byte "$copy/rootfs.erofs" 8192
	python3 - "$copy" <<'EOF'
import hashlib, json, sys
d = sys.argv[1]
m = json.load(open(d + "/manifest.json"))
m["rootfs"]["sha256"] = hashlib.sha256(open(d + "/rootfs.erofs", "rb").read()).hexdigest()
open(d + "/manifest.json", "w").write(json.dumps(m, separators=(",", ":"), sort_keys=True) + "\n")
EOF
	"$WARDEN" image verify "$copy" >"$copy.out" 2>&1 || rc=$?
	[ "$rc" -eq 1 ] || { fail "$t" "verify exited $rc: $(cat "$copy.out")"; return; }
	grep -q 'manifest.json: its members outside "initramfs" are not the ones the initramfs pins' "$copy.out" ||
		{ fail "$t" "not caught by the pin: $(cat "$copy.out")"; return; }
	ok "$t"
}

# ---- options and refusals --------------------------------------------------

test_policy_and_extra_are_baked() {
	local t=${FUNCNAME[0]} out=$WORK/opts/image sum
	mkdir -p "$WORK/opts"
	make_tree "$WORK/opts/rootfs"
	printf '{}\n' >"$WORK/opts/policy.json"
	printf 'extra\n' >"$WORK/opts/extra.txt"
	build "$out" --rootfs "$WORK/opts/rootfs" --policy "$WORK/opts/policy.json" \
		--extra "$WORK/opts/extra.txt:/opt/extra/note.txt:0600" || { fail "$t" "build: $(tail -1 "$out.log")"; return; }
	sum=$(sha256sum "$WORK/opts/policy.json" | cut -d' ' -f1)
	[ "$(json "$out/manifest.json" 'm["policy"]["sha256"]')" = "$sum" ] || { fail "$t" "policy digest not recorded"; return; }
	[ "$(from_initramfs "$out" /etc/warden/policy.json)" = "{}" ] || { fail "$t" "no policy in the initramfs"; return; }
	grep -q '^/opt/extra/note.txt f 0600 6 ' <(from_initramfs "$out" /etc/warden/manifest) ||
		{ fail "$t" "the --extra is not in /etc/warden/manifest with mode 0600"; return; }
	"$WARDEN" image verify "$out" >/dev/null 2>&1 || { fail "$t" "verify failed"; return; }
	ok "$t"
}

# refused NAME WANT ARGS...: the build fails with WANT in its last line and
# leaves neither OUTDIR nor OUTDIR.tmp-* behind.
refused() {
	local t=$1 want=$2 out=$WORK/refused/$1 rc=0
	shift 2
	mkdir -p "$WORK/refused"
	build "$out" "$@" || rc=$?
	[ "$rc" -eq 125 ] || { fail "$t" "exit status $rc: $(tail -1 "$out.log")"; return; }
	grep -q -- "$want" "$out.log" || { fail "$t" "no '$want': $(tail -1 "$out.log")"; return; }
	[ ! -e "$out" ] || { fail "$t" "OUTDIR was left"; return; }
	compgen -G "$out.tmp-*" >/dev/null && { fail "$t" "$(compgen -G "$out.tmp-*") was left"; return; }
	ok "$t"
}

test_refusals() {
	local r=$WORK/refused/rootfs kdir=$WORK/refused/kernel
	mkdir -p "$WORK/refused"
	make_tree "$r"
	printf '{"no_such_section": 1}\n' >"$WORK/refused/bad-policy.json"
	printf 'x\n' >"$WORK/refused/x"
	refused bad_policy_is_refused "policy" --rootfs "$r" --policy "$WORK/refused/bad-policy.json"
	refused extra_on_a_reserved_path_is_refused "not a clean absolute path" --rootfs "$r" \
		--extra "$WORK/refused/x:/etc/warden/rootfs"
	refused extra_over_a_base_file_is_refused "already in the image" --rootfs "$r" \
		--extra "$WORK/refused/x:/init"
	mkdir -p "$kdir"
	cp "$KERNEL_DIR/vmlinuz" "$kdir/"
	sed 's/^kver .*/kver 9.9.9-other/' "$KERNEL_DIR/kernel.lock" >"$kdir/kernel.lock"
	refused kernel_lock_disagreeing_is_refused "kver 9.9.9-other" --rootfs "$r" --kernel "$kdir"
	# A refused rootfs entry: a tar member that climbs out of the tree.
	python3 - "$WORK/refused/evil.tar" <<'EOF'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.USTAR_FORMAT) as t:
    i = tarfile.TarInfo("../escape")
    i.size = 2
    t.addfile(i, io.BytesIO(b"x\n"))
EOF
	refused escaping_tar_member_is_refused "escape" --rootfs "$WORK/refused/evil.tar"
	# --max-size counts what holds no file bytes: 300 symlinks with
	# 4000-byte targets (1.2 MB of targets, no file at all) pass 1 MiB.
	mkdir -p "$WORK/refused/links"
	python3 -c 'import os,sys; [os.symlink("/" + "a" * 3999, "%s/l%03d" % (sys.argv[1], i)) for i in range(300)]' \
		"$WORK/refused/links"
	refused symlinks_count_against_max_size "would take the tree past 1048576 bytes (--max-size)" \
		--rootfs "$WORK/refused/links" --max-size 1M
	# 20000 files of 2100 bytes: staging charges 47 244 352 bytes, within
	# 46 MiB, but erofs gives each its own block (82 MB), past the bound
	# plus a quarter and 16 MiB (77 070 336 bytes).
	mkdir -p "$WORK/refused/tails"
	python3 -c 'import sys; [open("%s/f%05d" % (sys.argv[1], i), "wb").write(b"x" * 2100) for i in range(20000)]' \
		"$WORK/refused/tails"
	refused erofs_past_max_size_and_allowance_is_refused "more than the 77070336 allowed for --max-size 48234496" \
		--rootfs "$WORK/refused/tails" --max-size 46M
	rm -rf "$WORK/refused/tails"
	# A base whose /etc/warden/manifest no longer describes it.
	mkdir -p "$WORK/refused/base"
	(cd "$WORK/refused/base" && zcat "$BASE" | cpio --quiet -idm --no-absolute-filenames 2>/dev/null &&
		printf 'changed\n' >>init &&
		find . -mindepth 1 -printf '%P\0' | sort -z | cpio --quiet -o -0 -H newc -R 0:0 | gzip -n >../changed-base.cpio.gz)
	BASE=$WORK/refused/changed-base.cpio.gz refused changed_base_is_refused "does not describe its entries" --rootfs "$r"
	mkdir -p "$WORK/refused/exists"
	refused existing_output_is_refused "exists already" --rootfs "$r" --output "$WORK/refused/exists"
}

test_dir_rootfs_builds_verifies_and_inspects
test_initramfs_keeps_the_base_and_its_manifest_format
test_dir_rootfs_is_reproducible
test_source_date_epoch_is_honoured
test_flipped_byte_in_rootfs_erofs_is_named
test_flipped_byte_in_rootfs_verity_is_named
test_flipped_byte_in_initramfs_is_named
test_flipped_byte_in_vmlinuz_is_named
test_flipped_byte_in_manifest_json_is_named
test_flipped_byte_in_manifest_structure_is_named
test_forged_manifest_digest_is_caught_by_the_pin
test_policy_and_extra_are_baked
test_refusals
test_debian_tar_builds_verifies_and_is_reproducible
report_end image-tool
