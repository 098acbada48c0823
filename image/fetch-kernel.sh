#!/usr/bin/env bash
# image/fetch-kernel.sh OUTDIR
#
# Host-side build step, run unprivileged or as root. Fetches the Debian cloud
# kernel that tests and the demo boot (users bring their own kernel) without
# installing it, and lays out:
#
#   OUTDIR/vmlinuz                  the kernel image
#   OUTDIR/modules/<kver>/          lib/modules/<kver> of the package, plus a
#                                   modules.dep generated here (see below)
#   OUTDIR/kernel.lock              what was fetched: pin, package, digests
#
# The pin (package name, version, .deb file name, SHA-256) is read from the
# one line of deps/sources.lock whose name starts with "linux-image". The .deb
# is downloaded with apt-get into a cache (build/dl, or $WARDEN_DL_DIR) and
# its SHA-256 is checked against the pin before anything is unpacked. A
# digest mismatch is fatal and never falls back.
#
# Fallback, the one exception to the pin: Debian's security archive removes
# superseded kernels. If the pinned package cannot be downloaded (and is not
# in the cache), a NOTICE line says so and the current dependency of
# linux-image-cloud-amd64 is used instead; apt verifies that .deb against
# Debian's signed index, and kernel.lock records "pin-honoured no" with the
# digest actually used. docs/image.md explains why this is acceptable for a
# test-only kernel.
#
# modules.dep: the .deb does not ship one (Debian's postinst runs depmod at
# install time, and we do not install). It is generated from the "depends="
# field that the kernel build (modpost) writes into each module's .modinfo
# section, in depmod's syntax: "path: deps", where deps is the module's whole
# dependency closure in depmod's order (a module's dependencies come after
# it, so loading the list right to left works).
#
# Incremental: if OUTDIR/kernel.lock matches the current pin and OUTDIR's
# vmlinuz still has the recorded digest, nothing is done.
#
# Environment: WARDEN_DL_DIR (download cache), WARDEN_SOURCES_LOCK (pin file,
# default deps/sources.lock).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# deps/lock.sh is the one reader of deps/sources.lock (lock_names,
# lock_read, LOCK_*). Sourced first: its say/die are replaced below.
# shellcheck source=deps/lock.sh
. "$REPO/deps/lock.sh"
LOCK=${WARDEN_SOURCES_LOCK:-$LOCK}

readonly PROG=fetch-kernel
readonly FALLBACK_META=linux-image-cloud-amd64

die() {
	printf '%s: error: %s\n' "$PROG" "$*" >&2
	exit 1
}
say() { printf '%s: %s\n' "$PROG" "$*" >&2; }

[[ $# -eq 1 ]] || die "usage: image/fetch-kernel.sh OUTDIR"
OUTDIR=${1%/}
[[ -n $OUTDIR ]] || die "OUTDIR is empty"
DLDIR=${WARDEN_DL_DIR:-$REPO/build/dl}

for tool in apt-get apt-cache dpkg-deb sha256sum readelf xargs awk; do
	command -v "$tool" >/dev/null || die "$tool not found (needed to fetch the kernel)"
done

# --- the pin ---------------------------------------------------------------

[[ -f $LOCK ]] || die "$LOCK not found: the kernel pin lives there"
pins=$(lock_names deb | grep '^linux-image' || true)
[[ -n $pins ]] || die "no linux-image line (kind deb) in $LOCK"
[[ $(wc -l <<<"$pins") -eq 1 ]] || die "more than one linux-image line in $LOCK"
lock_read "$pins"
PIN_NAME=$LOCK_NAME PIN_VERSION=$LOCK_VERSION PIN_FILE=$LOCK_FILE PIN_SHA256=$LOCK_SHA256
[[ $PIN_NAME =~ ^linux-image-[a-z0-9][a-z0-9.+-]*$ ]] || die "bad kernel package name in $LOCK: $PIN_NAME"
[[ $PIN_VERSION =~ ^[0-9A-Za-z.+~-]+$ ]] || die "bad kernel version in $LOCK: $PIN_VERSION"
[[ $PIN_FILE == "${PIN_NAME}_${PIN_VERSION}_amd64.deb" ]] ||
	die "kernel file in $LOCK is $PIN_FILE, expected ${PIN_NAME}_${PIN_VERSION}_amd64.deb"

sha256_of() { sha256sum "$1" | awk '{ print $1 }'; }
lock_get() { awk -v k="$1" '$1 == k { print $2; exit }' "$OUTDIR/kernel.lock"; }

# --- incremental check -----------------------------------------------------

if [[ -f $OUTDIR/kernel.lock && -f $OUTDIR/vmlinuz ]] &&
	[[ $(lock_get pin-name) == "$PIN_NAME" && $(lock_get pin-version) == "$PIN_VERSION" &&
		$(lock_get pin-sha256) == "$PIN_SHA256" ]] &&
	[[ -f $OUTDIR/modules/$(lock_get kver)/modules.dep ]] &&
	[[ $(sha256_of "$OUTDIR/vmlinuz") == "$(lock_get vmlinuz-sha256)" ]]; then
	if [[ $(lock_get pin-honoured) == yes ]]; then
		say "$OUTDIR is up to date ($PIN_NAME=$PIN_VERSION)"
	else
		say "NOTICE: $OUTDIR is up to date but holds $(lock_get name)=$(lock_get version), NOT the pinned $PIN_NAME=$PIN_VERSION (see $OUTDIR/kernel.lock)"
	fi
	exit 0
fi

# --- download --------------------------------------------------------------

WORK=
STAGE=
cleanup() {
	[[ -z $WORK ]] || rm -rf -- "$WORK"
	[[ -z $STAGE ]] || rm -rf -- "$STAGE"
}
trap cleanup EXIT

mkdir -p -- "$DLDIR" || die "cannot create download cache $DLDIR"
WORK=$(mktemp -d "$DLDIR/.fetch-kernel.XXXXXX")
APTLOG=$WORK/apt.log

# apt_download NAME VERSION: apt-get download into $WORK/NAME_VERSION_amd64.deb.
# As root apt drops to the _apt user to download and warns (then downloads
# unsandboxed) if _apt cannot write the directory; so download into a fresh
# directory under ${TMPDIR:-/tmp} handed to _apt, then move the file into
# $WORK, which only we can write, before it is checked.
apt_download() {
	local get rc=0
	get=$(mktemp -d "${TMPDIR:-/tmp}/warden-apt.XXXXXX")
	chmod 0755 "$get"
	if [[ $(id -u) -eq 0 ]] && id _apt >/dev/null 2>&1; then
		chown _apt "$get"
	fi
	(cd "$get" && apt-get download -q "$1=$2") >"$APTLOG" 2>&1 || rc=$?
	if [[ $rc -eq 0 ]]; then
		if [[ -f $get/${1}_${2}_amd64.deb ]]; then
			mv -f -- "$get/${1}_${2}_amd64.deb" "$WORK/"
		else
			printf 'E: apt-get download did not produce %s\n' "${1}_${2}_amd64.deb" >>"$APTLOG"
			rc=1
		fi
	fi
	rm -rf -- "$get"
	return "$rc"
}

apt_error() {
	local line
	line=$(grep -E '^(E|Err):' "$APTLOG" | tail -n 1 || true)
	printf '%s' "${line:-$(tail -n 1 "$APTLOG")}"
}

PIN_HONOURED=yes
if [[ -f $DLDIR/$PIN_FILE ]]; then
	say "using cached $DLDIR/$PIN_FILE"
	got=$(sha256_of "$DLDIR/$PIN_FILE")
	[[ $got == "$PIN_SHA256" ]] ||
		die "cached $DLDIR/$PIN_FILE has sha256 $got, pinned $PIN_SHA256: remove it or fix the pin"
	NAME=$PIN_NAME VERSION=$PIN_VERSION DEB=$DLDIR/$PIN_FILE SHA256=$PIN_SHA256
else
	say "downloading $PIN_NAME=$PIN_VERSION"
	if apt_download "$PIN_NAME" "$PIN_VERSION"; then
		got=$(sha256_of "$WORK/$PIN_FILE")
		[[ $got == "$PIN_SHA256" ]] ||
			die "$PIN_FILE has sha256 $got, pinned $PIN_SHA256: refusing to unpack it"
		mv -f -- "$WORK/$PIN_FILE" "$DLDIR/$PIN_FILE"
		say "verified $PIN_FILE sha256 $PIN_SHA256"
		NAME=$PIN_NAME VERSION=$PIN_VERSION DEB=$DLDIR/$PIN_FILE SHA256=$PIN_SHA256
	else
		say "NOTICE: the pinned kernel $PIN_NAME=$PIN_VERSION cannot be downloaded (gone from the Debian archive?; apt said: $(apt_error)); using the current $FALLBACK_META dependency instead, verified by apt against Debian's signed index"
		PIN_HONOURED=no
		dep=$(apt-cache show --no-all-versions "$FALLBACK_META" 2>/dev/null |
			sed -n 's/^Depends: *\(linux-image-[a-z0-9.+-]*\) *(= *\([^)[:space:]]*\) *).*/\1 \2/p' | head -n 1)
		[[ -n $dep ]] || die "cannot read the Depends of $FALLBACK_META from apt's index (run apt-get update?)"
		read -r NAME VERSION <<<"$dep"
		say "downloading $NAME=$VERSION (fallback)"
		apt_download "$NAME" "$VERSION" ||
			die "fallback download of $NAME=$VERSION failed too (apt-get update?): $(apt_error)"
		DEB=$WORK/${NAME}_${VERSION}_amd64.deb
		SHA256=$(sha256_of "$DEB")
		say "fallback $NAME=$VERSION has sha256 $SHA256 (not pinned)"
	fi
fi

# --- unpack ------------------------------------------------------------------

mkdir -p -- "$(dirname -- "$OUTDIR")"
STAGE=$(mktemp -d "$OUTDIR.tmp.XXXXXX")
say "unpacking ${DEB##*/}"
dpkg-deb -x "$DEB" "$STAGE/deb" || die "dpkg-deb -x ${DEB##*/} failed"

kvers=$(cd "$STAGE/deb/lib/modules" 2>/dev/null && ls -1)
[[ -n $kvers ]] || die "${DEB##*/} has no lib/modules/<kver>"
[[ $(wc -l <<<"$kvers") -eq 1 ]] || die "${DEB##*/} has more than one lib/modules/<kver>"
KVER=$kvers
[[ $KVER =~ ^[A-Za-z0-9._+-]+$ ]] || die "unexpected kernel release name: $KVER"
[[ -f $STAGE/deb/boot/vmlinuz-$KVER ]] || die "${DEB##*/} has no boot/vmlinuz-$KVER"

mv -- "$STAGE/deb/boot/vmlinuz-$KVER" "$STAGE/vmlinuz"
mkdir -- "$STAGE/modules"
mv -- "$STAGE/deb/lib/modules/$KVER" "$STAGE/modules/$KVER"
rm -rf -- "$STAGE/deb"

# --- modules.dep -------------------------------------------------------------

MODDIR=$STAGE/modules/$KVER
[[ ! -e $MODDIR/modules.dep ]] || die "${DEB##*/} unexpectedly ships modules.dep"
(cd "$MODDIR" && find . -name '*.ko' -type f -print0 | LC_ALL=C sort -z |
	xargs -0 -r readelf -W -p .modinfo) >"$WORK/modinfo.raw" 2>"$WORK/readelf.err" ||
	die "readelf cannot read .modinfo: $(head -n 1 "$WORK/readelf.err")"
# readelf prints "File: ./PATH", then "  [ offset]  key=value" per string.
LC_ALL=C awk '
	function flush() {
		if (cur == "") return
		if (name == "") { printf "%s has no name= in .modinfo\n", cur > "/dev/stderr"; exit 2 }
		print cur, name, (deps == "") ? "-" : deps
	}
	/^File: / {
		flush(); cur = substr($0, 7); sub(/^\.\//, "", cur); name = ""; deps = ""
		if (cur !~ /^[A-Za-z0-9._+\/-]+$/) { printf "unexpected module path %s\n", cur > "/dev/stderr"; exit 2 }
		next
	}
	/^  \[ *[0-9a-f]+\]  name=/ { v = $0; sub(/^[^]]*\]  name=/, "", v); name = v; next }
	/^  \[ *[0-9a-f]+\]  depends=/ { v = $0; sub(/^[^]]*\]  depends=/, "", v); deps = v; next }
	END { flush() }' "$WORK/modinfo.raw" >"$WORK/modinfo.txt" 2>"$WORK/awk.err" ||
	die "cannot parse the modules' .modinfo: $(head -n 1 "$WORK/awk.err")"
nmod=$(wc -l <"$WORK/modinfo.txt")
[[ $nmod -gt 0 ]] || die "${DEB##*/} has no kernel modules"
say "generating modules.dep from .modinfo of $nmod modules"

# Input lines: "path name dep1,dep2" (or "-"). Output: depmod's format, the
# closure of each module's dependencies, dependencies after their users.
LC_ALL=C awk '
	# Module names: "-" and "_" are the same (depends= keeps file names).
	{ n = $2; gsub(/-/, "_", n); d = ($3 == "-") ? "" : $3; gsub(/-/, "_", d)
	  if (n in path) { printf "two modules named %s\n", n > "/dev/stderr"; exit 2 }
	  path[n] = $1; order[NR] = n; direct[n] = d }
	function visit(n, seen, out,    ds, i, cnt) {
		if (n in seen) {
			if (seen[n] == 1) { printf "dependency cycle at %s\n", n > "/dev/stderr"; exit 2 }
			return
		}
		if (!(n in path)) { printf "%s needs %s, which is not in the package\n", cur, n > "/dev/stderr"; exit 2 }
		seen[n] = 1
		cnt = split(direct[n], ds, ",")
		for (i = 1; i <= cnt; i++) visit(ds[i], seen, out)
		seen[n] = 2
		out[++out[0]] = n
	}
	END {
		for (k = 1; k <= NR; k++) {
			cur = order[k]
			split("", seen); split("", out); out[0] = 0
			visit(cur, seen, out)
			line = path[cur] ":"
			for (i = out[0] - 1; i >= 1; i--) line = line " " path[out[i]]
			print line
		}
	}' "$WORK/modinfo.txt" >"$MODDIR/modules.dep" 2>"$WORK/awk.err" ||
	die "cannot generate modules.dep: $(head -n 1 "$WORK/awk.err")"

# --- record and install ----------------------------------------------------

{
	printf '# warden kernel lock, written by image/fetch-kernel.sh: "key value" lines\n'
	printf 'pin-name %s\npin-version %s\npin-sha256 %s\n' "$PIN_NAME" "$PIN_VERSION" "$PIN_SHA256"
	printf 'pin-honoured %s\n' "$PIN_HONOURED"
	printf 'name %s\nversion %s\nsha256 %s\n' "$NAME" "$VERSION" "$SHA256"
	printf 'kver %s\n' "$KVER"
	printf 'vmlinuz-sha256 %s\n' "$(sha256_of "$STAGE/vmlinuz")"
} >"$STAGE/kernel.lock"

rm -rf -- "$OUTDIR"
mv -- "$STAGE" "$OUTDIR"
STAGE=
chmod 0755 "$OUTDIR"
say "wrote $OUTDIR (kernel $KVER from $NAME=$VERSION, pin honoured: $PIN_HONOURED)"
