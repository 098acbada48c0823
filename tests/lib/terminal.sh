# shellcheck shell=bash
# tests/lib/terminal.sh - what a terminal must not get (sourced).
#
#   raw_controls FILE         FILE holds a byte a terminal acts on: C0 but
#                             tab, line feed and a CR that ends a line (CR
#                             LF); DEL; a C1 control in UTF-8. Prints the
#                             first such line (grep -n); true if there is one
#   controls_raw_ok OUT       OUT is CONTROLS_JOB's stdout byte for byte
#   controls_safe_ok OUT ERR  OUT and ERR are its stdout and stderr through
#                             --sanitize-output (both set `why` when not)
#
# The agent's jobs: the attacks common/safetext.h names.
#
#   CONTROLS_JOB        ESC [ 2 J and CSI as C1 (U+009B, its two bytes a
#                       second apart, so split across two reads) and CR LF
#                       (a second apart too) on stdout; OSC 52 (a clipboard
#                       write) on stderr
#   CONTROLS_RAW_OUT    its stdout, byte for byte
#   CONTROLS_SAFE_OUT   its stdout through --sanitize-output
#   CONTROLS_SAFE_ERR   a line of its stderr through --sanitize-output
#   EXEC_JOB            an exec of a path (that does not exist) holding
#                       ESC [ 2 J, OSC 52, CSI and OSC as C1, and DEL
#   EXEC_PATH_ESCAPED   that path as an exec record has it

raw_controls() {
	LC_ALL=C grep -m1 -naP '[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!$)|\xc2[\x80-\x9f]' "$1"
}

# shellcheck disable=SC2034 # used by the suites that source this
{
	CONTROLS_JOB='printf "a\033[2J\302"; sleep 1; printf "\2331mx\r"; sleep 1; printf "\ny\n";
		printf "e\033]52;c;aGk=\007\n" >&2'
	CONTROLS_RAW_OUT=$'a\e[2J\xc2\x9b1mx\r\ny\n'
	CONTROLS_SAFE_OUT=$'a\\u001b[2J\\u009b1mx\r\ny\n'
	CONTROLS_SAFE_ERR='e\u001b]52;c;aGk=\u0007'
	# A program at that path, run: an exec record names the file that ran
	# (an exec of a path with nothing there runs nothing and has none).
	# shellcheck disable=SC2016 # the agent's shell expands it
	EXEC_JOB='p=$(printf "/tmp/x\033[2J\033]52;c;aGk=\007\302\2331m\302\235\177y")
		cp /bin/true "$p" && "$p" 2>/dev/null; exit 0'
	EXEC_PATH_ESCAPED='/tmp/x\u001b[2J\u001b]52;c;aGk=\u0007\u009b1m\u009d\u007fy'
}

# shellcheck disable=SC2034 # `why` is the caller's
controls_raw_ok() {
	printf '%s' "$CONTROLS_RAW_OUT" | cmp -s - "$1" && return
	why="without --sanitize-output the output is not the command's bytes"
	return 1
}

# shellcheck disable=SC2034 # `why` is the caller's
controls_safe_ok() {
	why="a raw control byte on stdout"
	! raw_controls "$1" >/dev/null || return 1
	why="a raw control byte on stderr"
	! raw_controls "$2" >/dev/null || return 1
	why="stdout: $(od -c "$1" | head -3 | tr '\n' ' ')"
	printf '%s' "$CONTROLS_SAFE_OUT" | cmp -s - "$1" || return 1
	why="stderr: no escaped OSC 52 line"
	grep -qxF "$CONTROLS_SAFE_ERR" "$2"
}
