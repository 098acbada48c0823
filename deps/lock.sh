# shellcheck shell=bash
# deps/lock.sh: the one reader of deps/sources.lock, sourced by
# deps/fetch.sh and deps/build.sh (not run on its own).
#
# The format is documented at the top of deps/sources.lock. lock_read NAME
# fills the LOCK_* variables below from NAME's line and fails the whole
# script on a malformed line, so no caller ever acts on half a pin.

# Callers read these after lock_read.
# shellcheck disable=SC2034
LOCK_NAME='' LOCK_KIND='' LOCK_USE='' LOCK_VERSION='' LOCK_UPSTREAM=''
# shellcheck disable=SC2034
LOCK_FILE='' LOCK_SHA256='' LOCK_DEBIAN_FILE='' LOCK_DEBIAN_SHA256=''
# shellcheck disable=SC2034
LOCK_HOMEPAGE='' LOCK_LICENCE='' LOCK_LINE=''

DEPS_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT_DIR=$(dirname -- "$DEPS_DIR")
LOCK=$DEPS_DIR/sources.lock

say() { printf 'deps: %s\n' "$*" >&2; }
die() { printf 'deps: %s\n' "$*" >&2; exit 1; }

# need CMD PACKAGE: fail early, naming the Debian package that provides CMD.
need() {
	command -v -- "$1" >/dev/null 2>&1 || die "$1 not found (Debian package $2)"
}

# rel PATH: PATH relative to the repository when inside it, for messages.
rel() {
	if [[ $1 == "$ROOT_DIR"/* ]]; then
		printf '%s' "${1#"$ROOT_DIR"/}"
	else
		printf '%s' "$1"
	fi
}

# lock_lines: the lock's entries, comments and blank lines removed.
lock_lines() {
	[[ -r $LOCK ]] || die "$LOCK: cannot read the lock file"
	grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' -- "$LOCK" || true
}

# lock_names KIND: names of every entry of that kind, in lock order.
lock_names() {
	local kind=$1 name k _
	while read -r name k _; do
		[[ $k == "$kind" ]] && printf '%s\n' "$name"
	done < <(lock_lines)
	return 0
}

# lock_check_sha FIELD VALUE: a digest column must be 64 lower-case hex
# characters (or "-" where the kind has no such file).
lock_check_sha() {
	[[ $2 =~ ^[0-9a-f]{64}$ ]] ||
		die "$LOCK: $LOCK_NAME: $1 is not a SHA-256 ('$2')"
}

# lock_read NAME: load NAME's entry into LOCK_*; dies if absent or malformed.
lock_read() {
	local want=$1 line
	while IFS= read -r line; do
		read -r LOCK_NAME LOCK_KIND LOCK_USE LOCK_VERSION LOCK_UPSTREAM \
			LOCK_FILE LOCK_SHA256 LOCK_DEBIAN_FILE LOCK_DEBIAN_SHA256 \
			LOCK_HOMEPAGE LOCK_LICENCE <<<"$line"
		[[ $LOCK_NAME == "$want" ]] || continue
		LOCK_LINE=$line
		[[ -n $LOCK_LICENCE ]] || die "$LOCK: $want: expected 11 columns"
		case $LOCK_KIND in
		dsc)
			lock_check_sha sha256 "$LOCK_SHA256"
			lock_check_sha debian_sha256 "$LOCK_DEBIAN_SHA256"
			;;
		deb)
			lock_check_sha sha256 "$LOCK_SHA256"
			;;
		*) die "$LOCK: $want: unknown kind '$LOCK_KIND'" ;;
		esac
		case $LOCK_USE in
		guest | test) ;;
		*) die "$LOCK: $want: unknown use '$LOCK_USE'" ;;
		esac
		return 0
	done < <(lock_lines)
	die "$LOCK: no entry named '$want'"
}

# lock_srcdir: where fetch.sh unpacks the current entry. The Debian
# version (epoch dropped) is in the name, so moving a pin never reuses a
# tree patched for another version.
lock_srcdir() {
	printf '%s/%s-%s\n' "$SRC_DIR" "$LOCK_NAME" "${LOCK_VERSION#*:}"
}

# Unpacked, patched trees. The download cache is fetch.sh's business.
SRC_DIR=${WARDEN_SRC_DIR:-$ROOT_DIR/build/src}
# In each tree, written last by fetch.sh: "SHA256 DEBIAN_SHA256" of the
# verified tarballs it was unpacked from.
SRC_STAMP=.warden-patched
