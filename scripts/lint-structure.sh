#!/usr/bin/env bash
# scripts/lint-structure.sh - the rules of docs/architecture.md that a
# compiler does not check, run by `make lint`:
#
#   layers   a folder includes only the folders below it (the table below):
#            no host file reaches guest-only code, no guest file the host's;
#   circles  no two modules (a .c and its .h) include each other, directly
#            or round a longer circle (tsort finds the loop);
#   errors   a function that takes a `struct wd_err *` returns 0 or a
#            negative errno (common/err.h), never a bare `return -1;`; and
#            no message is built with strerror() by hand outside
#            common/err.c and common/log.c (wd_err_sys, wd_log_sys).
#
# Prints one line per breach and exits 1 if there is any.
set -euo pipefail
cd "$(dirname "$0")/.."

# folder: the folders its files may include (besides their own).
declare -A may=(
	[common]=""
	[vsock]="common"
	[policy]="common vsock sandbox"
	[sandbox]="common vsock"
	[init]="common"
	[egress]="common vsock"
	[supervisor]="common vsock sandbox policy egress"
	[host]="common vsock sandbox policy egress"
	[tools]="common vsock sandbox policy"
)
bad=0
say() {
	echo "lint-structure: $*" >&2
	bad=1
}

mapfile -t files < <(git ls-files '*.c' '*.h' | grep -E '^(common|vsock|policy|sandbox|egress|init|supervisor|host|tools)/')

edges=$(mktemp)
trap 'rm -f "$edges"' EXIT
for f in "${files[@]}"; do
	dir=${f%%/*}
	mod=${f%.*}
	while IFS= read -r inc; do
		# "x.h" is in the same folder; "../d/x.h" in folder d.
		case $inc in
		../*/*) tdir=${inc#../}; tdir=${tdir%%/*}; target=$tdir/$(basename "${inc%.h}") ;;
		*/*) continue ;;
		*) tdir=$dir; target=$dir/${inc%.h} ;;
		esac
		if [[ $tdir != "$dir" && " ${may[$dir]} " != *" $tdir "* ]]; then
			say "$f includes $inc: $dir/ may include only ${may[$dir]:-nothing outside itself}"
		fi
		[[ $target != "$mod" ]] && echo "$mod $target" >>"$edges"
	done < <(sed -n 's/^#include "\(.*\)"/\1/p' "$f")
done
if ! loops=$(sort -u "$edges" | tsort 2>&1 >/dev/null); then
	say "include circle among: $(sed -n 's/^tsort: //p' <<<"$loops" | grep -v 'input contains a loop' | tr '\n' ' ')"
fi

# A bare `return -1;` in the body of a function whose parameters include a
# struct wd_err pointer.
for f in "${files[@]}"; do
	[[ $f == *.c ]] || continue
	awk -v file="$f" '
		/^[A-Za-z_].*\(/ && !/;[ \t]*$/ { sig = $0; insig = 1; if ($0 ~ /\)[ \t]*$/) insig = 0; next }
		insig { sig = sig $0; if ($0 ~ /\)[ \t]*$/) insig = 0; next }
		/^\{/ { inbody = (sig ~ /struct wd_err \*/); name = sig; sub(/\(.*/, "", name); n = split(name, w, /[ *]+/); name = w[n]; next }
		/^\}/ { inbody = 0; sig = ""; next }
		inbody && /return -1;/ { printf "lint-structure: %s:%d: %s takes a struct wd_err * and returns -1 (return the negative errno)\n", file, NR, name; bad = 1 }
		END { exit bad }
	' "$f" >&2 || bad=1
done
while IFS= read -r hit; do
	say "$hit: strerror() by hand (use wd_err_sys, sup_fail_sys or wd_warn_sys and friends)"
done < <(printf '%s\n' "${files[@]}" | grep '\.c$' | xargs grep -n 'strerror(' |
	grep -v -e '^common/err\.c:' -e '^common/log\.c:' -e '^[^:]*:[0-9]*:[[:space:]]*/\?\*' | cut -d: -f1,2)
exit "$bad"
