#!/usr/bin/env bash
# image/debian-rootfs.sh OUTPUT.tar [PACKAGE]...
#
# Host-side build step for the tests and the demo: a Debian bookworm
# root filesystem as a tar archive, made with mmdebstrap (--variant=minbase)
# from Debian's own mirror, with python3, ca-certificates, curl and git plus
# any PACKAGE given. It is the input of `warden image build --rootfs`; a
# platform team would bring its own (`docker export`, its own mmdebstrap).
#
# The archive is cached: when OUTPUT.tar exists and OUTPUT.tar.packages
# names the same package set, nothing is done. Needs root (mmdebstrap's
# root mode) and the network path to deb.debian.org that apt uses.
#
# SOURCE_DATE_EPOCH, when set, is passed on (mmdebstrap clamps the
# timestamps it writes); `warden image build` clamps them all anyway.
set -euo pipefail

readonly PROG=debian-rootfs
readonly SUITE=bookworm
readonly MIRROR=http://deb.debian.org/debian
readonly BASE_PACKAGES=(python3 ca-certificates curl git)

die() {
	printf '%s: error: %s\n' "$PROG" "$*" >&2
	exit 1
}
say() { printf '%s: %s\n' "$PROG" "$*" >&2; }

[[ $# -ge 1 ]] || die "usage: image/debian-rootfs.sh OUTPUT.tar [PACKAGE]..."
OUTPUT=$1
shift
packages=("${BASE_PACKAGES[@]}" "$@")
for p in "${packages[@]}"; do
	[[ $p =~ ^[a-z0-9][a-z0-9+.-]+$ ]] || die "not a Debian package name: $p"
done
want=$(printf '%s\n' "$SUITE" "${packages[@]}" | LC_ALL=C sort -u | tr '\n' ' ')

if [[ -s $OUTPUT && -f $OUTPUT.packages && $(cat "$OUTPUT.packages") == "$want" ]]; then
	say "cached: $OUTPUT ($want)"
	exit 0
fi
command -v mmdebstrap >/dev/null || die "mmdebstrap not found (scripts/bootstrap.sh installs it)"
[[ $(id -u) -eq 0 ]] || die "needs root (mmdebstrap's root mode)"

mkdir -p -- "$(dirname -- "$OUTPUT")"
tmp=$(mktemp "$OUTPUT.tmp.XXXXXX")
trap 'rm -f -- "$tmp"' EXIT
include=$(
	IFS=,
	printf '%s' "${packages[*]}"
)
say "mmdebstrap $SUITE minbase + $include (about a minute)"
t0=$(date +%s)
# --skip=output/mknod: the archive carries no device nodes (the image would
# strip them anyway, and say so).
if ! mmdebstrap --quiet --mode=root --variant=minbase --format=tar \
	--include="$include" --skip=output/mknod \
	--aptopt='Acquire::Retries "3"' \
	"$SUITE" "$tmp" "deb $MIRROR $SUITE main" "deb $MIRROR-security $SUITE-security main" \
	2>"$tmp.log"; then
	tail -n 20 "$tmp.log" >&2
	rm -f -- "$tmp.log"
	die "mmdebstrap failed"
fi
rm -f -- "$tmp.log"
mv -f -- "$tmp" "$OUTPUT"
printf '%s' "$want" >"$OUTPUT.packages"
say "wrote $OUTPUT ($(stat -c %s "$OUTPUT") bytes, $(($(date +%s) - t0)) s)"
