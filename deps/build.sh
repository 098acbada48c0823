#!/usr/bin/env bash
# deps/build.sh: build the pinned third-party libraries as static archives.
#
# Usage: deps/build.sh FLAVOUR PREFIX
#   musl   musl-gcc, hardened, for the guest's static binaries:
#          libseccomp libcap bearssl cjson, and cmocka for unit tests
#   glibc  the system gcc with ASan + UBSan, for the sanitizer test build:
#          libseccomp libcap bearssl cjson (cmocka comes from libcmocka-dev)
#
# Produces PREFIX/lib/lib{seccomp,cap,bearssl,cjson[,cmocka]}.a and the
# headers under PREFIX/include (seccomp.h, sys/capability.h, bearssl*.h,
# cjson/cJSON.h, cmocka.h). Sources come from deps/fetch.sh, which must
# have run first (it verifies the pinned digests; this script never
# downloads). Each library is built in a fresh copy of its patched tree
# under PREFIX/work and recorded by a stamp under PREFIX/stamps that holds
# the lock entry, flavour, compiler version, flags and this script's digest: a run whose
# inputs are unchanged does nothing, a changed input rebuilds that library.
set -euo pipefail

# shellcheck source=deps/lock.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lock.sh"

MUSL_INCLUDE=$ROOT_DIR/build/musl-include
HARDENING='-fPIE -fstack-protector-strong -fstack-clash-protection -ffunction-sections -fdata-sections'

usage() { die "usage: deps/build.sh musl|glibc PREFIX"; }

# musl_include: musl-gcc searches only musl's headers; the kernel UAPI
# headers (linux/, asm/, asm-generic/) are added after them with -idirafter.
musl_include() {
	local link target
	mkdir -p -- "$MUSL_INCLUDE"
	for link in linux:/usr/include/linux asm-generic:/usr/include/asm-generic \
		asm:/usr/include/x86_64-linux-gnu/asm; do
		target=${link#*:}
		[[ -d $target ]] || die "$target missing (Debian package linux-libc-dev)"
		if [[ $(readlink -- "$MUSL_INCLUDE/${link%%:*}" || true) != "$target" ]]; then
			ln -sfn -- "$target" "$MUSL_INCLUDE/${link%%:*}"
		fi
	done
}

# --- one function per library; each runs in its work tree ($PWD) ---------

build_libseccomp() {
	# The Debian patch series edits syscalls.csv; regenerate the gperf
	# table from it rather than trusting file dates to do so.
	rm -f src/syscalls.perf src/syscalls.perf.c
	./configure --enable-static --disable-shared --disable-python \
		--disable-dependency-tracking --silent \
		CC="$CC" CFLAGS="$CFLAGS" >/dev/null
	make -s -j2 -C src libseccomp.la
	install -m 0644 src/.libs/libseccomp.a "$PREFIX/lib/"
	install -m 0644 include/seccomp.h include/seccomp-syscalls.h "$PREFIX/include/"
}

build_libcap2() {
	# Only libcap.a: no tools, no pam_cap, no Go, no shared object. COPTS
	# carries our flags; libcap's Makefile adds its warnings and -fPIC.
	make -s -j2 -C libcap libcap.a CC="$CC" BUILD_CC=gcc COPTS="$CFLAGS" \
		SHARED=no GOLANG=no PTHREADS=no USE_GPERF=yes lib=lib
	install -m 0644 libcap/libcap.a "$PREFIX/lib/"
	install -D -m 0644 libcap/include/sys/capability.h "$PREFIX/include/sys/capability.h"
}

build_bearssl() {
	# conf/Unix.mk defaults: CC=cc, CFLAGS="-W -Wall -Os -fPIC"; BUILD is
	# the output directory. `lib` is the static library only. -O2 (the last
	# -O wins) in both flavours' place: SHA-256 and ECDSA run for every
	# audit record and checkpoint, and -Os halves their speed.
	make -s -j2 lib CC="$CC" CFLAGS="-W -Wall $CFLAGS -O2" AR=ar BUILD=build
	install -m 0644 build/libbearssl.a "$PREFIX/lib/"
	install -m 0644 inc/bearssl*.h "$PREFIX/include/"
}

build_cjson() {
	local -a cflags
	read -ra cflags <<<"$CFLAGS"
	"$CC" "${cflags[@]}" -std=c89 -Wall -Wextra -c cJSON.c -o cJSON.o
	ar rcs libcjson.a cJSON.o
	install -m 0644 libcjson.a "$PREFIX/lib/"
	install -D -m 0644 cJSON.h "$PREFIX/include/cjson/cJSON.h"
}

# What cmocka's CMake run would write to config.h on Linux (x86_64, glibc or
# musl): the headers and functions src/cmocka.c tests for. HAVE_SIGNAL_H
# makes a crashing test fail instead of killing the runner; siglongjmp
# restores the signal mask after such a recovery.
CMOCKA_DEFINES='-DHAVE_INTTYPES_H=1 -DHAVE_MALLOC_H=1 -DHAVE_SIGNAL_H=1
 -DHAVE_STRINGS_H=1 -DHAVE_SIGLONGJMP=1 -DHAVE_STRSIGNAL=1
 -DHAVE_STRUCT_TIMESPEC=1 -DHAVE_CLOCK_GETTIME=1 -DHAVE_CLOCK_REALTIME=1
 -DHAVE_GCC_THREAD_LOCAL_STORAGE=1 -DWORDS_SIZEOF_VOID_P=8'

build_cmocka() {
	local -a cflags
	read -ra cflags <<<"$CFLAGS $CMOCKA_DEFINES"
	"$CC" "${cflags[@]}" -Iinclude -c src/cmocka.c -o cmocka.o
	ar rcs libcmocka.a cmocka.o
	install -m 0644 libcmocka.a "$PREFIX/lib/"
	install -m 0644 include/cmocka.h include/cmocka_pbc.h "$PREFIX/include/"
}

# build NAME OUTPUT: (re)build one lock entry unless its stamp is current.
build() {
	local name=$1 out=$2 src work stamp want log
	lock_read "$name"
	src=$(lock_srcdir)
	# fetch.sh writes this stamp only after verifying the pinned digests.
	[[ -f $src/$SRC_STAMP &&
		$(<"$src/$SRC_STAMP") == "$LOCK_SHA256 $LOCK_DEBIAN_SHA256" ]] ||
		die "$name: no source verified against the lock in $(rel "$src"); run deps/fetch.sh first"
	stamp=$PREFIX/stamps/$name
	want=$(printf '%s\n' "$LOCK_LINE" "$FLAVOUR $CC $CC_VERSION $CFLAGS" "$SCRIPT_SHA256")
	if [[ -f $stamp && -f $PREFIX/lib/$out && $(<"$stamp") == "$want" ]]; then
		return 0
	fi
	say "$FLAVOUR: building $out from $name $LOCK_VERSION"
	rm -f -- "$stamp" "$PREFIX/lib/$out"
	work=$PREFIX/work/$name
	rm -rf -- "$work"
	mkdir -p -- "$PREFIX/work"
	cp -a -- "$src" "$work"
	log=$PREFIX/work/$name.log
	if ! (
		cd -- "$work"
		# Debug info and __FILE__ name the tree, not where it was built.
		CFLAGS="$CFLAGS -ffile-prefix-map=$work=$name-${LOCK_VERSION#*:}"
		"build_$name"
	) >"$log" 2>&1; then
		tail -n 30 -- "$log" >&2
		die "$FLAVOUR: building $name failed; log: $(rel "$log"), tree: $(rel "$work")"
	fi
	printf '%s\n' "$want" >"$stamp"
}

main() {
	(($# == 2)) || usage
	FLAVOUR=$1
	PREFIX=$2
	case $FLAVOUR in
	musl)
		need musl-gcc musl-tools
		musl_include
		CC=musl-gcc
		CFLAGS="-Os $HARDENING -idirafter $MUSL_INCLUDE"
		LIBS='libseccomp:libseccomp.a libcap2:libcap.a bearssl:libbearssl.a cjson:libcjson.a cmocka:libcmocka.a'
		;;
	glibc)
		need gcc gcc
		CC=gcc
		CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer $HARDENING"
		LIBS='libseccomp:libseccomp.a libcap2:libcap.a bearssl:libbearssl.a cjson:libcjson.a'
		;;
	*) usage ;;
	esac
	need make make
	need gperf gperf
	need ar binutils
	mkdir -p -- "$PREFIX/lib" "$PREFIX/include" "$PREFIX/stamps"
	PREFIX=$(cd -- "$PREFIX" && pwd)
	[[ -d $SRC_DIR ]] || die "$(rel "$SRC_DIR") missing; run deps/fetch.sh first"
	SRC_DIR=$(cd -- "$SRC_DIR" && pwd)
	CC_VERSION=$("$CC" -dumpfullversion)
	read -r SCRIPT_SHA256 _ < <(cat -- "${BASH_SOURCE[0]}" "$DEPS_DIR/lock.sh" | sha256sum)
	local entry
	for entry in $LIBS; do
		build "${entry%%:*}" "${entry#*:}"
	done
}

main "$@"
