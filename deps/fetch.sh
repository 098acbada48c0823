#!/usr/bin/env bash
# deps/fetch.sh: download, verify and unpack the pinned third-party sources.
#
# Usage: deps/fetch.sh [NAME...]
#   With no NAME: every Debian source package (kind dsc) in deps/sources.lock.
#   A NAME of kind deb (the test kernel) is downloaded and verified only.
#
# Environment:
#   WARDEN_DL_DIR   download cache (default: build/dl in the repository)
#   WARDEN_SRC_DIR  unpacked, patched trees (default: build/src)
#
# Order, for each entry: download what the cache lacks (apt-get source
# --download-only NAME=VERSION, or apt-get download for a .deb), check every
# file's SHA-256 against the lock, and only then unpack into
# SRC_DIR/NAME-VERSION and apply Debian's debian/patches/series with
# `patch -p1`. A digest mismatch stops everything: nothing unverified is
# ever unpacked. A tree that is already unpacked from the same digests is
# left alone (stamp file, see lock.sh).
set -euo pipefail

# shellcheck source=deps/lock.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lock.sh"

DL_DIR=${WARDEN_DL_DIR:-$ROOT_DIR/build/dl}
APT_LOG=apt.log
DEB_SRC_NAME=warden-deb-src.sources

deb_src_ready=0
# apt's --format field, not a shell expansion.
# shellcheck disable=SC2016
APT_CREATED_BY='$(CREATED_BY)'

# ensure_deb_src: apt-get source needs deb-src entries and their indexes.
# Without entries, add a deb-src copy of the distribution's deb822 entries
# (debian.sources, the Debian 12 default) and update. The apt directories
# come from apt's own configuration, so APT_CONFIG is honoured.
ensure_deb_src() {
	((deb_src_ready)) && return 0
	if ! apt-get indextargets --no-release-info --format "$APT_CREATED_BY" |
		grep -qx Sources; then
		local parts=''
		eval "$(apt-config shell parts Dir::Etc::SourceParts/d)"
		[[ -n $parts ]] || die "apt-config does not name a sources.list.d directory"
		parts=${parts%/}
		local from=$parts/debian.sources to=$parts/$DEB_SRC_NAME
		[[ -r $from ]] ||
			die "apt has no deb-src entries and there is no $from to derive them from; add deb-src entries by hand"
		say "adding deb-src entries: $to (a copy of $from)"
		sed -E 's/^Types:.*/Types: deb-src/' -- "$from" >"$to.tmp"
		mv -f -- "$to.tmp" "$to"
		apt_update
	elif ! apt-get indextargets --format "$APT_CREATED_BY" | grep -qx Sources; then
		apt_update
	fi
	deb_src_ready=1
}

apt_update() {
	say "running apt-get update (log: $(rel "$DL_DIR/$APT_LOG"))"
	apt-get update >>"$DL_DIR/$APT_LOG" 2>&1 ||
		die "apt-get update failed; see $(rel "$DL_DIR/$APT_LOG")"
}

# download: bring the current entry's files into the cache.
download() {
	local spec=$LOCK_NAME=$LOCK_VERSION
	if [[ $LOCK_KIND == dsc ]]; then
		ensure_deb_src
		say "downloading source $spec into $(rel "$DL_DIR")"
		(cd -- "$DL_DIR" && apt-get source --download-only "$spec") \
			>>"$DL_DIR/$APT_LOG" 2>&1 ||
			die "apt-get source $spec failed: the pinned version $LOCK_VERSION may have left the archive (see apt-cache showsrc $LOCK_NAME, $(rel "$DL_DIR/$APT_LOG") and deps/README.md)"
	else
		say "downloading package $spec into $(rel "$DL_DIR")"
		(cd -- "$DL_DIR" && apt-get download "$spec") \
			>>"$DL_DIR/$APT_LOG" 2>&1 ||
			die "apt-get download $spec failed: the pinned version $LOCK_VERSION may have left the archive (see apt-cache policy $LOCK_NAME, $(rel "$DL_DIR/$APT_LOG") and deps/README.md)"
	fi
}

# verify FILE SHA256: the one gate between the network and the build.
verify() {
	local file=$1 want=$2 got
	[[ -f $DL_DIR/$file ]] || die "$file: missing from $(rel "$DL_DIR") after download"
	read -r got _ < <(sha256sum -b -- "$DL_DIR/$file")
	[[ $got == "$want" ]] ||
		die "$file: SHA-256 mismatch (expected $want, got $got)"
}

# apply_series DIR: Debian's patch series, in order, quilt-style. No fuzz,
# so a patch never lands somewhere it was not written for.
apply_series() {
	local dir=$1 series=$1/debian/patches/series line patch opt n=0 out
	[[ -f $series ]] || return 0
	while IFS= read -r line; do
		line=${line%%#*}
		read -r patch opt _ <<<"$line" || true
		[[ -n ${patch:-} ]] || continue
		[[ -z ${opt:-} || $opt == -p1 ]] ||
			die "$LOCK_NAME: series entry '$patch' asks for $opt; only -p1 is supported"
		if ! out=$(patch -d "$dir" -p1 --batch --forward --fuzz=0 \
			--remove-empty-files --no-backup-if-mismatch \
			-i "$dir/debian/patches/$patch" 2>&1); then
			printf '%s\n' "$out" >&2
			die "$LOCK_NAME: Debian patch $patch does not apply"
		fi
		n=$((n + 1))
	done <"$series"
	say "$LOCK_NAME: applied $n Debian patch(es)"
}

# unpack: SRC_DIR/NAME-VERSION from the verified tarballs, via a temporary
# directory renamed into place once patched, so a half-done tree never
# carries a stamp.
unpack() {
	local dir tmp want top
	dir=$(lock_srcdir)
	want="$LOCK_SHA256 $LOCK_DEBIAN_SHA256"
	if [[ -f $dir/$SRC_STAMP && $(<"$dir/$SRC_STAMP") == "$want" ]]; then
		return 0
	fi
	say "unpacking $LOCK_FILE and $LOCK_DEBIAN_FILE into $(rel "$dir")"
	tmp=$dir.tmp
	rm -rf -- "$dir" "$tmp"
	mkdir -p -- "$tmp/orig"
	tar -xf "$DL_DIR/$LOCK_FILE" -C "$tmp/orig" --no-same-owner
	top=("$tmp"/orig/*)
	if ((${#top[@]} != 1)) || [[ ! -d ${top[0]} ]]; then
		die "$LOCK_FILE: expected one top-level directory"
	fi
	mv -- "${top[0]}" "$tmp/tree"
	rmdir -- "$tmp/orig"
	rm -rf -- "$tmp/tree/debian"
	tar -xf "$DL_DIR/$LOCK_DEBIAN_FILE" -C "$tmp/tree" --no-same-owner
	apply_series "$tmp/tree"
	printf '%s\n' "$want" >"$tmp/tree/$SRC_STAMP"
	mv -- "$tmp/tree" "$dir"
	rmdir -- "$tmp"
}

# fetch_one NAME: download what the cache lacks, then verify every file.
fetch_one() {
	lock_read "$1"
	local files=("$LOCK_FILE") sums=("$LOCK_SHA256") i
	if [[ $LOCK_KIND == dsc ]]; then
		files+=("$LOCK_DEBIAN_FILE")
		sums+=("$LOCK_DEBIAN_SHA256")
	fi
	for i in "${!files[@]}"; do
		if [[ ! -f $DL_DIR/${files[i]} ]]; then
			download
			break
		fi
	done
	for i in "${!files[@]}"; do
		verify "${files[i]}" "${sums[i]}"
	done
}

main() {
	local names=("$@") name
	if ((${#names[@]} == 0)); then
		mapfile -t names < <(lock_names dsc)
	fi
	need apt-get apt
	need sha256sum coreutils
	need patch patch
	need xz xz-utils
	mkdir -p -- "$DL_DIR" "$SRC_DIR"
	DL_DIR=$(cd -- "$DL_DIR" && pwd)
	SRC_DIR=$(cd -- "$SRC_DIR" && pwd)
	# Every file is verified before anything is unpacked: a mismatch
	# leaves the source trees as they were.
	for name in "${names[@]}"; do
		fetch_one "$name"
	done
	for name in "${names[@]}"; do
		lock_read "$name"
		[[ $LOCK_KIND == dsc ]] && unpack
	done
	return 0
}

main "$@"
