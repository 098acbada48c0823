#!/usr/bin/env bash
# tests/lib/local-policy.sh FILE - a policy for --vmm local on this kernel.
#
# The sandbox refuses to run without Landlock, without cgroup2's memory,
# pids and cpu controllers, or without fanotify permission events (exec
# records) unless the policy turns that layer off. The
# microVM's kernel has both; a test machine's own kernel may not. This
# writes FILE with exactly the layers this kernel lacks turned off, and
# prints one line naming them (nothing when none is missing), so the
# caller can say so loudly. Extra "sandbox" members may follow as $2
# (JSON text, e.g. '"rlimits": {"as_mib": 512}'), extra top-level members
# as $3 (e.g. '"audit": {"checkpoint_every": 10}'), and members of
# "sandbox.cgroup" as $4 (e.g. '"memory_mib": 256'), used only where the
# cgroup layer stays on.
set -euo pipefail
file=$1
extra=${2:-}
extra_top=${3:-}
cgroup=${4:-}
off=()
members=()
# Landlock and fanotify: asked of the kernel by probes built on first use
# (beside the build's other outputs), as the sandbox itself asks.
root=$(cd "$(dirname "$0")/../.." && pwd)
probe() {
	local bin=$root/${BUILD:-build}/tests-lib/$1
	if [[ ! -x $bin || $bin -ot $root/tests/lib/$1.c ]]; then
		mkdir -p "$(dirname "$bin")"
		gcc -O1 -o "$bin.tmp.$$" "$root/tests/lib/$1.c"
		mv "$bin.tmp.$$" "$bin"
	fi
	"$bin"
}
if [[ $(probe landlock-abi) -lt 1 ]]; then
	off+=("Landlock")
	members+=('"landlock": false')
fi
if [[ $(probe fanotify-perm) -lt 1 ]]; then
	off+=("fanotify permission events (exec records)")
	# Into the caller's own "audit" member, or one of its own.
	if [[ $extra_top == *'"audit": {'* ]]; then
		extra_top=${extra_top/'"audit": {'/'"audit": {"exec": false, '}
	else
		extra_top="${extra_top:+$extra_top, }\"audit\": {\"exec\": false}"
	fi
fi
own=$(sed -n 's/^0:://p' /proc/self/cgroup 2>/dev/null || true)
ctl=/sys/fs/cgroup${own%/}/cgroup.controllers
[[ $own == / ]] && ctl=/sys/fs/cgroup/cgroup.controllers
have=$(cat "$ctl" 2>/dev/null || true)
cgroup_off=false
for c in memory pids cpu; do
	if ! grep -qw "$c" <<<"$have"; then
		off+=("cgroup2 $c controller")
		members+=('"cgroup": false')
		cgroup_off=true
		break
	fi
done
[[ $cgroup_off == false && -n $cgroup ]] && members+=("\"cgroup\": {$cgroup}")
[[ -n $extra ]] && members+=("$extra")
body=$(IFS=,; echo "${members[*]}")
printf '{"sandbox": {%s}%s}\n' "$body" "${extra_top:+, $extra_top}" >"$file"
if [[ ${#off[@]} -gt 0 ]]; then
	list=$(printf '%s, ' "${off[@]}")
	echo "this kernel has no ${list%, }: the policy turns that off (recorded)"
else
	echo ""
fi
