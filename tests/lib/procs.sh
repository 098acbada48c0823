# shellcheck shell=bash
# tests/lib/procs.sh - finding a job's processes from outside (sourced).
#
#   launcher_pid DIR   the warden process whose --audit-dir is DIR (its
#                      comm is "warden": not the timeout or the shell
#                      around it, nor local mode's forked children, which
#                      keep its command line but have another comm)

launcher_pid() {
	local p
	for p in $(pgrep -f -- "--audit-dir $1"); do
		if [[ $(cat "/proc/$p/comm" 2>/dev/null) == warden ]]; then
			echo "$p"
			return
		fi
	done
}
