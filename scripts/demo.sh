#!/usr/bin/env bash
# scripts/demo.sh BINDIR - the sample agent job in a microVM.
#
# `warden run` boots the image in a QEMU microVM, uploads the sample agent
# and its task, runs it as an unprivileged user inside, streams its output
# back and returns its exit status; the VM is gone afterwards.
set -euo pipefail

BIN=$(cd "$1" && pwd)
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

echo "demo: warden run --file examples/agent.sh:agent.sh --file examples/task.txt:task.txt -- ./agent.sh"
rc=0
"$BIN/warden" run --verbose --timeout 120 \
	--file "$ROOT/examples/agent.sh:agent.sh" --file "$ROOT/examples/task.txt:task.txt" \
	-- ./agent.sh || rc=$?
echo "demo: the agent exited with status $rc (the sample agent exits 3 on purpose)"
if [ "$rc" -ne 3 ]; then
	echo "demo: FAILED: expected status 3"
	exit 1
fi
if pgrep -f 'qemu-system-x86_64 .*warden' >/dev/null; then
	echo "demo: FAILED: a QEMU is still running"
	exit 1
fi
echo "demo: done; no VM is left running"
