#!/usr/bin/env bash
# tests/fuzz/run.sh - build the parser fuzz targets and run each for a while.
#
# Usage: tests/fuzz/run.sh SECONDS
#        tests/fuzz/run.sh --seeds
#
# Builds build/fuzz/fuzz_{sbnet,cmdline,modules,rootfs_pin,boottimes,frame,job,hello,exit,ociseccomp,
# policy,egress,record,verify,resume,safetext,jbound,tarread,cpio,imgmanifest,stream,httphead,socks5}
# with `clang -fsanitize=fuzzer,address,undefined` and the tree's warning
# flags, then runs each for SECONDS over its committed seeds in
# tests/fuzz/corpus/TARGET (only read; what libFuzzer finds goes to
# build/fuzz/corpus/TARGET). Any crash, sanitizer report, leak, per-input
# timeout or memory blow-up fails the run; the input that did it is kept in
# build/fuzz/artifacts/TARGET/ and can be replayed with
# `build/fuzz/TARGET build/fuzz/artifacts/TARGET/crash-...`.
#
# The vsock targets and fuzz_ociseccomp link cJSON and BearSSL (the frames'
# GMAC: AES and GHASH), compiled here with the same instrumentation from
# the pinned sources that deps/fetch.sh unpacked (`make deps` does that);
# fuzz_policy also links the libseccomp `make deps` built for the ASan unit
# tests. --seeds rebuilds the vsock targets' committed seeds with
# tests/fuzz/mkseeds.c, which uses the real encoders.
#
# Needs clang and libFuzzer: on Debian 12 the packages clang and
# libclang-rt-14-dev (libFuzzer's runtime, only a Recommends of clang-14,
# so absent after an install with --no-install-recommends).
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=$ROOT/build/fuzz
readonly PER_INPUT_TIMEOUT_S=10
readonly RSS_LIMIT_MB=2048

die() {
	echo "fuzz: $*" >&2
	exit 2
}

[[ $# -eq 1 && ($1 =~ ^[1-9][0-9]*$ || $1 == --seeds) ]] ||
	die "usage: tests/fuzz/run.sh SECONDS | --seeds"
seconds=$1

command -v clang >/dev/null 2>&1 || die "clang not found (Debian package clang)"

# The Makefile is the one place that lists warning flags and common sources.
make_var() {
	make -s --no-print-directory -C "$ROOT" -f Makefile -f - print-var VAR="$1" <<'EOF'
print-var:
	@echo $($(VAR))
EOF
}
read -r -a warn <<<"$(make_var WARN)"
read -r -a std <<<"$(make_var STD)"
read -r -a common <<<"$(make_var COMMON_SRCS)"
[[ ${#warn[@]} -gt 0 && ${#common[@]} -gt 0 ]] ||
	die "cannot read WARN and COMMON_SRCS from the Makefile"

cflags=("${std[@]}" "${warn[@]}" -g -O1 -fno-omit-frame-pointer
	"-fsanitize=fuzzer,address,undefined" -fno-sanitize-recover=all)

# pinned_src NAME: the verified source tree of NAME from deps/sources.lock.
pinned_src() {
	(
		# shellcheck source=deps/lock.sh
		source "$ROOT/deps/lock.sh"
		lock_read "$1"
		dir=$(lock_srcdir)
		[[ -f $dir/$SRC_STAMP ]] || exit 1
		printf '%s\n' "$dir"
	) || die "no verified $1 source tree: run 'make deps' first"
}

# Third-party code the vsock targets link, instrumented like the targets
# but compiled without the tree's warning flags (it is not ours to fix).
# cjson: the parser and printer; bearssl: all of it, as an archive the
# linker takes what it needs from (AES and GHASH for frames, ECDSA
# P-256 for the audit log's checkpoints).
build_third_party() {
	local cjson bearssl
	cjson=$(pinned_src cjson)
	bearssl=$(pinned_src bearssl)
	mkdir -p -- "$OUT/include/cjson" "$OUT/third"
	cp -- "$cjson/cJSON.h" "$OUT/include/cjson/cJSON.h"
	third_cflags=("${std[@]}" -w -g -O1 -fno-omit-frame-pointer
		"-fsanitize=fuzzer-no-link,address,undefined" -fno-sanitize-recover=all)
	echo "  CLANG   build/fuzz/third (pinned cJSON, BearSSL)"
	clang "${third_cflags[@]}" -c "$cjson/cJSON.c" -o "$OUT/third/cJSON.o"
	if [[ ! -f $OUT/third/libbearssl.a ]]; then
		mkdir -p -- "$OUT/third/bearssl"
		# shellcheck disable=SC2016 # the inner sh expands them
		(cd -- "$bearssl/src" && find . -name '*.c' -print0) |
			xargs -0 -P "$(nproc)" -I{} sh -c 'o="$1/$(echo "${2#./}" | tr / _).o"; shift 2;
				clang "$@" -c "$0" -o "$o"' "$bearssl/src/{}" "$OUT/third/bearssl" {} \
				"${third_cflags[@]}" -I"$bearssl/inc" -I"$bearssl/src"
		ar rcs "$OUT/third/libbearssl.a" "$OUT"/third/bearssl/*.o
	fi
	third_inc=(-isystem "$OUT/include" -isystem "$bearssl/inc")
}

mkdir -p -- "$OUT"
probe_src=$OUT/.libfuzzer-check.c
printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
	'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
	'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' \
	>"$probe_src"
if ! clang -fsanitize=fuzzer "$probe_src" -o "$OUT/.libfuzzer-check" \
	2>"$OUT/.libfuzzer-check.log"; then
	cat -- "$OUT/.libfuzzer-check.log" >&2
	die "clang cannot link libFuzzer (Debian package libclang-rt-14-dev)"
fi

# target: its module sources, the longest input worth trying, extra flags.
# Each max_len is past the parser's own bound, so the bound itself is fuzzed
# (the module list's 64 KiB file bound excepted: inputs that large slow
# libFuzzer down for nothing; tests/unit/test_modules.c covers it).
# The JSON payloads' own bound is the frame's (1 MiB); as for the module
# list, inputs that large would only slow libFuzzer down, and
# tests/unit/test_msg.c covers that bound.
targets=(fuzz_cmdline fuzz_modules fuzz_rootfs_pin fuzz_boottimes fuzz_frame fuzz_job fuzz_hello fuzz_exit
	fuzz_ociseccomp fuzz_policy fuzz_egress fuzz_record fuzz_verify fuzz_resume fuzz_safetext
	fuzz_jbound fuzz_tarread fuzz_cpio fuzz_imgmanifest fuzz_stream fuzz_sbnet fuzz_httphead fuzz_socks5)
declare -A sources=(
	[fuzz_cmdline]="init/config.c init/modules.c"
	[fuzz_modules]=init/modules.c
	[fuzz_rootfs_pin]=init/rootfs_pin.c
	[fuzz_boottimes]=""
	[fuzz_frame]="vsock/frame.c vsock/mac.c"
	[fuzz_job]="vsock/msg.c vsock/msgbin.c"
	[fuzz_hello]="vsock/msg.c vsock/msgbin.c"
	[fuzz_exit]="vsock/msg.c vsock/msgbin.c"
	[fuzz_ociseccomp]=sandbox/ociseccomp.c
	[fuzz_policy]="policy/policy.c sandbox/sandbox.c sandbox/sbtables.c sandbox/ociseccomp.c sandbox/sbfilter.c"
	[fuzz_egress]=""
	[fuzz_record]=""
	[fuzz_verify]=host/auditverify.c
	[fuzz_resume]="vsock/frame.c vsock/mac.c"
	[fuzz_safetext]=""
	[fuzz_jbound]=""
	[fuzz_tarread]="host/tarread.c host/rootfs.c host/rootfs_rules.c host/rootfs_dir.c host/rootfs_tree.c"
	[fuzz_cpio]=host/cpio.c
	[fuzz_imgmanifest]="host/imagemanifest.c host/imageio.c host/verity.c host/toolrun.c host/proc.c"
	[fuzz_stream]="vsock/frame.c vsock/mac.c vsock/conn.c vsock/msg.c vsock/msgbin.c vsock/msgeg.c egress/mux.c"
	[fuzz_sbnet]=sandbox/sbnet.c
	[fuzz_httphead]="egress/http.c egress/httpbody.c"
	[fuzz_socks5]=egress/socks5.c
)
declare -A max_len=([fuzz_cmdline]=4200 [fuzz_modules]=8192 [fuzz_rootfs_pin]=4200
	[fuzz_boottimes]=512
	[fuzz_frame]=4096 [fuzz_job]=16384 [fuzz_hello]=4096 [fuzz_exit]=2048 [fuzz_ociseccomp]=16384
	[fuzz_policy]=16384 [fuzz_egress]=16384 [fuzz_record]=9000 [fuzz_verify]=65536
	[fuzz_resume]=8212 [fuzz_safetext]=8192 [fuzz_jbound]=8192 [fuzz_tarread]=70000
	[fuzz_cpio]=65536 [fuzz_imgmanifest]=65536 [fuzz_stream]=4096 [fuzz_sbnet]=256
	[fuzz_httphead]=20000 [fuzz_socks5]=600)
declare -A extra=(
	[fuzz_cmdline]="-dict=$ROOT/tests/fuzz/cmdline.dict"
	[fuzz_modules]=""
	[fuzz_rootfs_pin]="-dict=$ROOT/tests/fuzz/rootfs_pin.dict"
	[fuzz_boottimes]=""
	[fuzz_frame]=""
	[fuzz_job]="-dict=$ROOT/tests/fuzz/msg.dict"
	[fuzz_hello]="-dict=$ROOT/tests/fuzz/msg.dict"
	[fuzz_exit]="-dict=$ROOT/tests/fuzz/msg.dict"
	[fuzz_ociseccomp]=""
	[fuzz_policy]="-dict=$ROOT/tests/fuzz/policy.dict"
	[fuzz_egress]="-dict=$ROOT/tests/fuzz/egress.dict"
	[fuzz_record]="-dict=$ROOT/tests/fuzz/record.dict"
	[fuzz_verify]="-dict=$ROOT/tests/fuzz/record.dict"
	[fuzz_resume]=""
	[fuzz_safetext]=""
	[fuzz_jbound]=""
	[fuzz_tarread]="-dict=$ROOT/tests/fuzz/tar.dict"
	[fuzz_cpio]=""
	[fuzz_imgmanifest]="-dict=$ROOT/tests/fuzz/imgmanifest.dict"
	[fuzz_stream]=""
	[fuzz_sbnet]=""
	[fuzz_httphead]="-dict=$ROOT/tests/fuzz/http.dict"
	[fuzz_socks5]="-dict=$ROOT/tests/fuzz/socks5.dict"
)
third_objs=("$OUT/third/cJSON.o" "$OUT/third/libbearssl.a")
# fuzz_policy compiles the filter with libseccomp: the glibc build `make deps`
# made for the ASan unit tests, linked as it is (not instrumented).
read -r deps_glibc <<<"$(make_var DEPS_GLIBC)"
[[ $deps_glibc == /* ]] || deps_glibc=$ROOT/$deps_glibc
declare -A link=([fuzz_policy]="-isystem $deps_glibc/include $deps_glibc/lib/libseccomp.a")

build_third_party

if [[ $seconds == --seeds ]]; then
	echo "  CLANG   build/fuzz/mkseeds"
	(cd -- "$ROOT" &&
		clang "${std[@]}" "${warn[@]}" -g -O1 -fsanitize=address,undefined "${third_inc[@]}" \
			-o "$OUT/mkseeds" tests/fuzz/mkseeds.c vsock/frame.c vsock/mac.c vsock/msg.c vsock/msgbin.c vsock/msgeg.c "${common[@]}" \
			"${third_objs[@]}")
	for t in fuzz_frame fuzz_job fuzz_hello fuzz_exit fuzz_stream; do
		mkdir -p -- "$ROOT/tests/fuzz/corpus/$t"
	done
	"$OUT/mkseeds" "$ROOT/tests/fuzz/corpus"
	echo "fuzz: seeds written under tests/fuzz/corpus"
	exit 0
fi

for t in "${targets[@]}"; do
	echo "  CLANG   build/fuzz/$t"
	read -r -a srcs <<<"${sources[$t]}"
	# common/ includes the strict JSON reader: every target links cJSON.
	libs=("${third_inc[@]}" "${third_objs[@]}")
	read -r -a more <<<"${link[$t]:-}"
	libs+=("${more[@]}")
	(cd -- "$ROOT" &&
		clang "${cflags[@]}" -o "$OUT/$t" "tests/fuzz/$t.c" "${srcs[@]}" "${common[@]}" \
			"${libs[@]}")
done

failed=0
for t in "${targets[@]}"; do
	mkdir -p -- "$OUT/corpus/$t" "$OUT/artifacts/$t"
	args=(-max_total_time="$seconds" -max_len="${max_len[$t]}" -timeout="$PER_INPUT_TIMEOUT_S"
		-rss_limit_mb="$RSS_LIMIT_MB" -print_final_stats=1
		-artifact_prefix="$OUT/artifacts/$t/")
	[[ -n ${extra[$t]} ]] && args+=("${extra[$t]}")
	start=$SECONDS
	rc=0
	"$OUT/$t" "${args[@]}" "$OUT/corpus/$t" "$ROOT/tests/fuzz/corpus/$t" >"$OUT/$t.log" 2>&1 ||
		rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$OUT/$t.log")
	if [[ $rc -ne 0 ]]; then
		echo "FAIL $t: exit status $rc after $((SECONDS - start)) s; log: build/fuzz/$t.log"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|artifact_prefix|Test unit written)' \
			"$OUT/$t.log" | head -n 20 || true
		failed=$((failed + 1))
	else
		files=$(find "$OUT/corpus/$t" -type f | wc -l)
		echo "ok $t: ${runs:-?} inputs in $((SECONDS - start)) s, corpus $files files"
	fi
done

echo "fuzz: $((${#targets[@]} - failed)) passed, $failed failed"
[[ $failed -eq 0 ]]
