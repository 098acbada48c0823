#!/bin/sh
# examples/agent.sh - the sample agent job of `make demo`.
#
# Runs inside the microVM as the job's program: it reports where it runs
# and as whom, reads the file the host uploaded with it, writes its result
# to standard output and exits with a status the host gets back.
set -eu

echo "agent: running on $(uname -sr) as uid $(id -u), gid $(id -g)"
echo "agent: working directory $(pwd), $(df -h . | awk 'NR == 2 { print $2 }') tmpfs"
if [ -r task.txt ]; then
	echo "agent: task: $(cat task.txt)"
	words=$(wc -w <task.txt)
	echo "agent: the task has $words words"
fi
if touch /etc/agent-was-here 2>/dev/null; then
	echo "agent: could write to /etc (unexpected)"
else
	echo "agent: /etc is not writable for me"
fi
echo "agent: stderr works too" >&2
echo "agent: done"
exit 3
