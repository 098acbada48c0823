#!/usr/bin/env bash
# image/mkinitramfs.sh --init PATH --supervisor PATH --kernel-dir DIR
#                      --output FILE [options]
#
# Host-side build step. Builds the guest's initramfs (a gzip'd cpio "newc"
# archive) reproducibly: the same inputs and tools give the same bytes.
# Needs root only for --console-node yes (mknod).
#
#   --init PATH              static ELF, becomes /init (0755)
#   --supervisor PATH        static ELF, becomes /sbin/warden-supervisor (0755)
#   --kernel-dir DIR         output of image/fetch-kernel.sh (kernel.lock,
#                            modules/<kver>/); the modules of --modules-list
#                            and their dependencies go into /lib/modules/<kver>/
#                            and their load order into /etc/warden/modules
#   --modules-list FILE      default image/modules.list
#   --busybox yes|no         default yes: /bin/busybox (the static build of
#                            Debian's busybox-static, /usr/bin/busybox) and a
#                            symlink per applet where `busybox --list-full`
#                            puts it, never replacing a file already placed
#   --extra SRC:DST[:MODE]   repeatable: regular file SRC becomes DST (absolute
#                            path in the image) with octal MODE (default 0755
#                            if SRC is executable, else 0644); DST must not
#                            exist already. SRC may not contain ":".
#   --console-node yes|no    default yes: /dev/console, char 5:1, 0600
#   --output FILE            the archive, e.g. build/image/initramfs.cpio.gz
#   --manifest FILE          default: "manifest" beside --output
#
# /etc/warden/sources records the pinned sources the image is built from:
# the kernel package of KDIR/kernel.lock and the "guest" lines of
# deps/sources.lock (docs/image.md).
#
# Also writes FILE's SHA-256, in sha256sum format, to FILE minus ".cpio.gz"
# plus ".sha256" (build/image/initramfs.sha256). The manifest of the image
# is /etc/warden/manifest inside it and the --manifest copy outside; it lists
# every entry of the archive except itself. Formats and reproducibility
# rules: docs/image.md.
#
# Timestamps: every entry's mtime is $SOURCE_DATE_EPOCH, by default the
# commit time of HEAD, or 0 outside a git work tree.
set -euo pipefail

readonly PROG=mkinitramfs
umask 022
export LC_ALL=C

die() {
	printf '%s: error: %s\n' "$PROG" "$*" >&2
	exit 1
}
say() { printf '%s: %s\n' "$PROG" "$*" >&2; }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)

readonly BUSYBOX_BIN=/usr/bin/busybox
# Paths the image may hold: whitespace-free so the manifest's columns split
# cleanly, and nothing a shell or parser could mistake ("[" is a busybox
# applet).
readonly PATH_RE='^/[][A-Za-z0-9._+@/-]+$'

INIT='' SUPERVISOR='' KDIR='' OUTPUT='' MANIFEST=''
MODLIST=$HERE/modules.list
BUSYBOX=yes
CONSOLE=yes
EXTRAS=()

usage() {
	die "usage: image/mkinitramfs.sh --init PATH --supervisor PATH --kernel-dir DIR --output FILE [--modules-list FILE] [--busybox yes|no] [--extra SRC:DST[:MODE]]... [--console-node yes|no] [--manifest FILE]"
}

while [[ $# -gt 0 ]]; do
	opt=$1
	case $opt in
	--*=*) set -- "${opt%%=*}" "${opt#*=}" "${@:2}" && continue ;;
	--init | --supervisor | --kernel-dir | --modules-list | --busybox | --extra | \
		--console-node | --output | --manifest)
		[[ $# -ge 2 ]] || die "$opt needs a value"
		val=$2
		shift 2
		;;
	*) usage ;;
	esac
	case $opt in
	--init) INIT=$val ;;
	--supervisor) SUPERVISOR=$val ;;
	--kernel-dir) KDIR=${val%/} ;;
	--modules-list) MODLIST=$val ;;
	--busybox) BUSYBOX=$val ;;
	--extra) EXTRAS+=("$val") ;;
	--console-node) CONSOLE=$val ;;
	--output) OUTPUT=$val ;;
	--manifest) MANIFEST=$val ;;
	esac
done

[[ -n $INIT && -n $SUPERVISOR && -n $KDIR && -n $OUTPUT ]] || usage
[[ $BUSYBOX == yes || $BUSYBOX == no ]] || die "--busybox must be yes or no, not $BUSYBOX"
[[ $CONSOLE == yes || $CONSOLE == no ]] || die "--console-node must be yes or no, not $CONSOLE"
[[ -n $MANIFEST ]] || MANIFEST=$(dirname -- "$OUTPUT")/manifest
if [[ $OUTPUT == *.cpio.gz ]]; then SHAFILE=${OUTPUT%.cpio.gz}.sha256; else SHAFILE=$OUTPUT.sha256; fi

for tool in cpio gzip find sort sha256sum readelf touch install; do
	command -v "$tool" >/dev/null || die "$tool not found (needed to build the initramfs)"
done
if [[ $CONSOLE == yes && $(id -u) -ne 0 ]]; then
	die "--console-node yes needs root (mknod /dev/console); run as root or pass --console-node no"
fi

# safe.directory: another user's checkout must give the same epoch, not 0.
if [[ -n ${SOURCE_DATE_EPOCH:-} ]]; then
	epoch_from="from the environment"
elif SOURCE_DATE_EPOCH=$(git -c safe.directory="$REPO" -C "$REPO" log -1 --format=%ct 2>/dev/null) &&
	[[ -n $SOURCE_DATE_EPOCH ]]; then
	epoch_from="HEAD's commit time"
else
	SOURCE_DATE_EPOCH=0 epoch_from="no git commit to take it from"
fi
[[ $SOURCE_DATE_EPOCH =~ ^[0-9]+$ ]] || die "SOURCE_DATE_EPOCH must be a number of seconds, not $SOURCE_DATE_EPOCH"
say "timestamps: SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH ($epoch_from)"

# A guest binary must be a static ELF: there is no dynamic loader or libc
# in the image, and a dynamic /init would only fail at boot, obscurely.
require_static_elf() {
	local what=$1 file=$2
	[[ -f $file ]] || die "$what $file is not a regular file"
	readelf -h "$file" >/dev/null 2>&1 || die "$what $file is not an ELF file"
	if readelf -lW "$file" 2>/dev/null | grep -q 'INTERP'; then
		die "$what $file is dynamically linked; the image needs static binaries"
	fi
}

require_static_elf --init "$INIT"
require_static_elf --supervisor "$SUPERVISOR"
[[ -f $KDIR/kernel.lock ]] || die "$KDIR/kernel.lock not found (run image/fetch-kernel.sh $KDIR)"
KVER=$(awk '$1 == "kver" { print $2; exit }' "$KDIR/kernel.lock")
[[ $KVER =~ ^[A-Za-z0-9._+-]+$ ]] || die "$KDIR/kernel.lock has no usable kver line"
MODDIR=$KDIR/modules/$KVER
[[ -d $MODDIR ]] || die "$MODDIR not found"
if [[ $BUSYBOX == yes ]]; then
	require_static_elf busybox "$BUSYBOX_BIN"
fi

WORK=''
TMPOUT=''
cleanup() {
	[[ -z $WORK ]] || rm -rf -- "$WORK"
	[[ -z $TMPOUT ]] || rm -f -- "$TMPOUT"
}
trap cleanup EXIT
WORK=$(mktemp -d "${TMPDIR:-/tmp}/warden-initramfs.XXXXXX")
ST=$WORK/root # the image's tree
mkdir -m 0755 -- "$ST"

# --- the fixed tree ----------------------------------------------------------

# /proc, /sys, /run, /tmp are mount points for PID 1; /dev gets devtmpfs.
mkdir -p -- "$ST"/{bin,sbin,dev,proc,sys,run,tmp,etc/warden,lib/modules/"$KVER"}

install -m 0755 -- "$INIT" "$ST/init"
say "added /init from $INIT"
install -m 0755 -- "$SUPERVISOR" "$ST/sbin/warden-supervisor"
say "added /sbin/warden-supervisor from $SUPERVISOR"

"$HERE/resolve-modules.sh" "$MODDIR" "$MODLIST" >"$ST/etc/warden/modules" 2>"$WORK/resolve.err" ||
	die "$(tail -n 1 "$WORK/resolve.err" | sed "s/^resolve-modules: error: /resolve-modules: /")"
chmod 0644 "$ST/etc/warden/modules"
nmod=0
while IFS= read -r rel; do
	[[ -n $rel && $rel != \#* && $rel != kver\ * ]] || continue
	mkdir -p -- "$ST/lib/modules/$KVER/$(dirname -- "$rel")"
	install -m 0644 -- "$MODDIR/$rel" "$ST/lib/modules/$KVER/$rel"
	nmod=$((nmod + 1))
done <"$ST/etc/warden/modules"
say "added /etc/warden/modules and $nmod modules for kernel $KVER"

# /etc/warden/sources: what the image is built from, for `warden image build`'s
# manifest.json (docs/image.md): the kernel package the modules came from
# (kernel.lock) and the pinned sources of the guest's libraries
# (deps/sources.lock, use "guest"). "KIND NAME VERSION FILE SHA256" lines.
write_sources() {
	local lock=$REPO/deps/sources.lock kname kversion ksha kfile name kind use version _up file sha dfile dsha _rest
	[[ -r $lock ]] || die "$lock not found (the pinned sources)"
	kname=$(awk '$1 == "name" { print $2; exit }' "$KDIR/kernel.lock")
	kversion=$(awk '$1 == "version" { print $2; exit }' "$KDIR/kernel.lock")
	ksha=$(awk '$1 == "sha256" { print $2; exit }' "$KDIR/kernel.lock")
	[[ -n $kname && -n $kversion && $ksha =~ ^[0-9a-f]{64}$ ]] ||
		die "$KDIR/kernel.lock has no usable name, version and sha256 lines"
	kfile=$(awk -v n="$kname" -v v="$kversion" '$1 == n && $4 == v { print $6; exit }' "$lock")
	printf '# warden sources (docs/image.md): KIND NAME VERSION FILE SHA256\n'
	printf 'format 1\n'
	printf 'kernel-modules %s %s %s %s\n' "$kname" "$kversion" "${kfile:--}" "$ksha"
	while read -r name kind use version _up file sha dfile dsha _rest; do
		[[ $name != \#* && $use == guest ]] || continue
		printf 'guest-library %s %s %s %s\n' "$name" "$version" "$file" "$sha"
		if [[ $kind == dsc ]]; then
			printf 'guest-library-debian %s %s %s %s\n' "$name" "$version" "$dfile" "$dsha"
		fi
	done < <(grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' -- "$lock")
}
write_sources >"$ST/etc/warden/sources"
chmod 0644 "$ST/etc/warden/sources"
say "added /etc/warden/sources ($(($(wc -l <"$ST/etc/warden/sources") - 2)) pinned sources)"

if [[ $CONSOLE == yes ]]; then
	mknod -m 0600 "$ST/dev/console" c 5 1 || die "mknod /dev/console failed"
	say "added /dev/console (char 5:1, 0600)"
fi

if [[ $BUSYBOX == yes ]]; then
	install -m 0755 -- "$BUSYBOX_BIN" "$ST/bin/busybox"
	say "added /bin/busybox from $BUSYBOX_BIN"
fi

# --- extras ------------------------------------------------------------------

for spec in "${EXTRAS[@]}"; do
	IFS=: read -r src dst mode <<<"$spec"
	[[ -n $src && -n $dst ]] || die "--extra $spec: expected SRC:DST[:MODE]"
	[[ -f $src ]] || die "--extra $spec: $src is not a regular file"
	[[ $dst =~ $PATH_RE && $dst != */ && $dst != *//* && ! $dst =~ (^|/)\.\.?(/|$) ]] ||
		die "--extra $spec: $dst is not a clean absolute path"
	[[ $dst != /etc/warden/manifest ]] || die "--extra $spec: /etc/warden/manifest is written by this script"
	if [[ -z $mode ]]; then
		if [[ -x $src ]]; then mode=0755; else mode=0644; fi
	fi
	[[ $mode =~ ^0?[0-7]{3}$ ]] || die "--extra $spec: mode $mode is not octal 0000-0777 (no setuid, setgid or sticky bits)"
	[[ ! -e $ST$dst && ! -L $ST$dst ]] || die "--extra $spec: $dst is already in the image"
	mkdir -p -- "$ST$(dirname -- "$dst")" 2>/dev/null || die "--extra $spec: cannot create the directory of $dst"
	install -m "$mode" -- "$src" "$ST$dst"
	say "added $dst ($mode) from $src"
done

# --- busybox applet links --------------------------------------------------

if [[ $BUSYBOX == yes ]]; then
	nlink=0 skipped=''
	while IFS= read -r applet; do
		case $applet in
		bin/busybox) continue ;;
		# If /init cannot be executed, the kernel falls back to /sbin/init,
		# /etc/init, /bin/init, then /bin/sh. Busybox's init must not be
		# there to catch that and boot a system without warden in charge.
		sbin/init | etc/init | bin/init) continue ;;
		bin/* | sbin/* | usr/bin/* | usr/sbin/*) ;;
		*) continue ;; # "linuxrc": the legacy initrd entry point
		esac
		[[ /$applet =~ $PATH_RE ]] || die "busybox lists an unexpected applet path: $applet"
		if [[ -e $ST/$applet || -L $ST/$applet ]]; then
			skipped+=" /$applet"
			continue
		fi
		[[ -d $ST/${applet%/*} ]] || mkdir -p -- "$ST/${applet%/*}"
		ln -s /bin/busybox "$ST/$applet"
		nlink=$((nlink + 1))
	done < <("$BUSYBOX_BIN" --list-full | sort)
	say "added $nlink busybox applet links (not linked: /sbin/init; already a file:${skipped:- none})"
fi

# --- modes, manifest, timestamps -------------------------------------------

find "$ST" -type d -exec chmod 0755 {} +

# make_manifest ROOT: one line per entry, sorted by path (docs/image.md).
make_manifest() {
	local root=$1 path type mode size target octal
	printf '# warden-manifest 1: path type mode size sha256|target|major:minor (docs/image.md)\n'
	while IFS=$'\t' read -r path type mode size target; do
		[[ $path =~ $PATH_RE ]] || die "image path $path has characters the manifest cannot carry"
		printf -v octal '%04o' "$((8#$mode))"
		case $type in
		f) printf '%s f %s %s %s\n' "$path" "$octal" "$size" "$(sha256sum <"$root$path" | awk '{ print $1 }')" ;;
		l)
			[[ $target =~ ^[][A-Za-z0-9._+@/-]+$ ]] || die "symlink $path has an unexpected target $target"
			printf '%s l %s %s %s\n' "$path" "$octal" "${#target}" "$target"
			;;
		d) printf '%s d %s - -\n' "$path" "$octal" ;;
		c) printf '%s c %s - %s\n' "$path" "$octal" "$(stat -c '%Hr:%Lr' "$root$path")" ;;
		*) die "image entry $path has an unsupported type ($type)" ;;
		esac
	done < <(cd "$root" && find . -mindepth 1 -printf '/%P\t%y\t%m\t%s\t%l\n' | sort)
}

make_manifest "$ST" >"$WORK/manifest"
install -m 0644 -- "$WORK/manifest" "$ST/etc/warden/manifest"
nentries=$(($(wc -l <"$ST/etc/warden/manifest") - 1))
say "wrote /etc/warden/manifest ($nentries entries)"

find "$ST" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

# --- archive -----------------------------------------------------------------

mkdir -p -- "$(dirname -- "$OUTPUT")" "$(dirname -- "$MANIFEST")"
TMPOUT=$(mktemp "$OUTPUT.tmp.XXXXXX")
(cd "$ST" && find . -mindepth 1 -printf '%P\0' | sort -z |
	cpio --quiet -o -0 -H newc --reproducible -R 0:0) | gzip -n -9 >"$TMPOUT" ||
	die "cpio | gzip failed for $OUTPUT"
chmod 0644 "$TMPOUT"
mv -f -- "$TMPOUT" "$OUTPUT"
TMPOUT=
install -m 0644 -- "$ST/etc/warden/manifest" "$MANIFEST"
digest=$(sha256sum <"$OUTPUT" | awk '{ print $1 }')
printf '%s  %s\n' "$digest" "$(basename -- "$OUTPUT")" >"$SHAFILE"
say "wrote $OUTPUT ($(stat -c %s "$OUTPUT") bytes, sha256 $digest, mtime $SOURCE_DATE_EPOCH), $MANIFEST, $SHAFILE"
