#!/usr/bin/env bash
# tests/image/repro.sh BINDIR KERNEL_DIR - the image is bit-for-bit reproducible.
#
# Builds the initramfs twice from the same tree, into different folders,
# under different umasks and temporary directories, and compares the bytes
# and the manifests. Also checks that the manifest names every file of the
# archive with the right digest, so a reproducible but wrong image fails.
set -euo pipefail

BIN=$(cd "$1" && pwd)
KERNEL_DIR=$(cd "$2" && pwd)
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK=$(mktemp -d /tmp/warden-repro.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# shellcheck source=tests/lib/report.sh
. "$ROOT/tests/lib/report.sh"

build() {
	local out=$1 mask=$2
	mkdir -p "$(dirname "$out")" "$WORK/tmp-$mask"
	(umask "$mask" && TMPDIR="$WORK/tmp-$mask" "$ROOT/image/mkinitramfs.sh" \
		--init "$BIN/warden-init" --supervisor "$BIN/warden-supervisor" \
		--kernel-dir "$KERNEL_DIR" --output "$out") 2>"$out.log"
}

test_image_built_twice_is_bit_identical() {
	local t=${FUNCNAME[0]}
	build "$WORK/a/initramfs.cpio.gz" 022 || { fail "$t" "first build: $(tail -1 "$WORK/a/initramfs.cpio.gz.log")"; return; }
	build "$WORK/b/deeper/initramfs.cpio.gz" 077 || { fail "$t" "second build: $(tail -1 "$WORK/b/deeper/initramfs.cpio.gz.log")"; return; }
	if ! cmp -s "$WORK/a/initramfs.cpio.gz" "$WORK/b/deeper/initramfs.cpio.gz"; then
		fail "$t" "the two archives differ"
		return
	fi
	cmp -s "$WORK/a/manifest" "$WORK/b/deeper/manifest" || { fail "$t" "the two manifests differ"; return; }
	echo "    sha256 $(sha256sum "$WORK/a/initramfs.cpio.gz" | cut -d' ' -f1)"
	ok "$t"
}

test_manifest_matches_the_archive() {
	local t=${FUNCNAME[0]} x=$WORK/x bad=0 path type digest
	mkdir -p "$x"
	(cd "$x" && zcat "$WORK/a/initramfs.cpio.gz" | cpio --quiet -idm --no-absolute-filenames 2>/dev/null)
	cmp -s "$x/etc/warden/manifest" "$WORK/a/manifest" || { fail "$t" "the manifest inside differs from the one beside"; return; }
	while read -r path type _ _ digest; do
		[ "$type" = f ] || continue
		if [ "$(sha256sum "$x$path" | cut -d' ' -f1)" != "$digest" ]; then
			echo "    $path: digest differs"
			bad=$((bad + 1))
		fi
	done < <(grep '^/' "$WORK/a/manifest")
	# Every regular file but the manifest itself is listed.
	while read -r path; do
		[ "$path" = /etc/warden/manifest ] && continue
		grep -q "^$path f " "$WORK/a/manifest" || { echo "    $path: not in the manifest"; bad=$((bad + 1)); }
	done < <(cd "$x" && find . -type f | sed 's#^\.##')
	[ "$bad" -eq 0 ] || { fail "$t" "$bad mismatches"; return; }
	[ "$(stat -c %a "$x/init")" = 755 ] || { fail "$t" "/init is not 0755"; return; }
	ok "$t"
}

test_image_built_twice_is_bit_identical
test_manifest_matches_the_archive
report_end image
