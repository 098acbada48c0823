#!/usr/bin/env bash
# scripts/demo.sh BINDIR IMAGE_DIR - the sample agent job in a microVM.
#
# IMAGE_DIR is a golden image `warden image build` made (make demo builds
# build/images/debian-python: Debian bookworm minbase with python3, as a
# verified erofs root filesystem). `warden run` boots it in a QEMU microVM,
# uploads the sample Python agent and its task, runs it under the sample
# policy as an unprivileged user inside, streams its report back and
# returns its exit status; the audit log is kept and verified; the VM is
# gone afterwards.
set -euo pipefail

BIN=$(cd "$1" && pwd)
IMG=$(cd "$2" && pwd)
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/warden-demo.XXXXXX")
trap 'rm -rf -- "$SCRATCH"' EXIT
AUDIT=$SCRATCH/audit

echo "demo: the image (warden image inspect $IMG):"
"$BIN/warden" image inspect "$IMG" | sed -n '1,12p' | sed 's/^/demo:   /'
echo "demo: warden run --image $IMG --policy examples/policy.json" \
	"--file examples/agent.py:agent.py --file examples/task.txt:task.txt -- /usr/bin/python3 agent.py"
rc=0
# The job's private directory (and QEMU's sockets) under SCRATCH: how the
# check below finds this job's QEMU and no other.
TMPDIR=$SCRATCH "$BIN/warden" run --image "$IMG" --policy "$ROOT/examples/policy.json" --timeout 300 \
	--audit-dir "$AUDIT" --file "$ROOT/examples/agent.py:agent.py" \
	--file "$ROOT/examples/task.txt:task.txt" -- /usr/bin/python3 agent.py || rc=$?
echo "demo: the agent exited with status $rc"
if [ "$rc" -ne 0 ]; then
	echo "demo: FAILED: expected status 0 (the task done, nothing in the root filesystem writable)"
	exit 1
fi
echo "demo: the job's audit log (warden audit show, the processes it ran):"
"$BIN/warden" audit show "$AUDIT" --class process | sed 's/^/demo:   /' | tail -n 5
"$BIN/warden" audit verify "$AUDIT" >/dev/null || { echo "demo: FAILED: the audit log does not verify"; exit 1; }
echo "demo: the audit log verifies"
if pgrep -f "qemu-system-x86_64 .*$SCRATCH" >/dev/null; then
	echo "demo: FAILED: a QEMU is still running"
	exit 1
fi
echo "demo: done; no VM is left running"
