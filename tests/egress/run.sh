#!/usr/bin/env bash
# tests/egress/run.sh BINDIR IMAGE_DIR - egress end to end: the agent's
# proxies, the guest's and the host's checks, the streams over the channel,
# in the three places an agent runs: `warden sandbox` (this kernel, no
# supervisor: both halves in the one process), `warden run --vmm local`
# and `warden run --image IMAGE_DIR` (the Debian golden image in the QEMU
# microVM).
#
# The servers (tests/egress/servers.py) listen only on this host's
# loopback, started here: HTTP (keep-alive, a dumb-HTTP git repository,
# POST digests), HTTPS with a CA made here, TCP echo, and a sink. The
# agent reaches them by names the policy pins to 127.0.0.1:
#   allowed.json  web.test, echo.test, blocked.test, rebind.test pinned;
#                 host rules for web.test and echo.test, a cidr rule for
#                 127.0.0.1/32 with the servers' ports, a deny rule for
#                 blocked.test
#   denied.json   the same pins and host rules (and rebind.test), no cidr
#                 rule: loopback is refused by the host
# tests/egress/agent.sh runs the checks inside and prints "ok NAME" or
# "FAIL NAME: why" per check; each becomes a test NAME[MODE] here. Then
# the records: the guest's decisions (network/connect), the host's
# refusals (network/refused in the job's log; egress/refused in
# launcher.jsonl), the closes with their byte counts; 1,000 concurrent
# tunnels each echoing 64 KiB; a slow client beside quick ones; the
# channel cut twice mid-transfer (tests/audit/fdcut) with every byte
# intact. No timing assertions; limits only keep a hang from stalling the
# suite.
set -euo pipefail

if [[ $# -ne 2 ]]; then
	echo "usage: tests/egress/run.sh BINDIR IMAGE_DIR" >&2
	exit 2
fi
BIN=$(cd -- "$1" && pwd)
IMAGE_DIR=$(cd -- "$2" && pwd)
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$HERE/../.." && pwd)
WARDEN=$BIN/warden
readonly JOB_LIMIT=600  # seconds; a TCG boot and a thousand tunnels take some
readonly TUNNELS=1000   # concurrent tunnels (the issue's figure)
readonly TUNNEL_BYTES=65536
readonly VM_TUNNELS=200 # under TCG the guest's half is emulated: fewer, same code
readonly CUT_BYTES=$((96 << 20)) # per tunnel in the channel-cut test (2 tunnels)
# EGRESS_MODES: the modes to run (default "sandbox local vm"); EGRESS_KEEP=1
# keeps the work directories.

# shellcheck source=tests/lib/report.sh
. "$ROOT/tests/lib/report.sh"
# shellcheck source=tests/lib/procs.sh
. "$ROOT/tests/lib/procs.sh"

WORK=$(mktemp -d /tmp/warden-egress-tests.XXXXXX)
# The agent's files, where `warden sandbox` can bind them (never below /tmp).
PROG_DIR=$(mktemp -d /var/tmp/warden-egress-progs.XXXXXX)
SERVERS_PID=
cleanup() {
	[[ -n $SERVERS_PID ]] && kill "$SERVERS_PID" 2>/dev/null
	# EGRESS_KEEP=1 keeps the files to look at (said on stderr).
	if [[ -n ${EGRESS_KEEP:-} ]]; then
		echo "egress: kept $WORK and $PROG_DIR" >&2
	else
		rm -rf -- "$WORK" "$PROG_DIR"
	fi
}
trap cleanup EXIT

report_detail() {
	local f
	for f in "$WORK/$1.err" "$WORK/$1.console"; do
		[[ -s $f ]] && sed 's/^/    | /' "$f" | grep -v '^    | warden: info:   ' | tail -15
	done
	return 0
}

# ---- the servers and the agent's files --------------------------------------

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=web.test -addext subjectAltName=DNS:web.test \
	-keyout "$WORK/key.pem" -out "$PROG_DIR/ca.pem" 2>/dev/null
mkdir -p "$WORK/www"
printf 'hello egress' >"$WORK/www/hello.txt"
(
	cd "$WORK" && git init -q repo && cd repo &&
		echo "cloned through warden" >README && git add README &&
		git -c user.name=t -c user.email=t@test commit -qm first &&
		git clone -q --bare . "$WORK/www/repo.git" && cd "$WORK/www/repo.git" &&
		git update-server-info
)
head -c $((1 << 20)) /dev/urandom >"$PROG_DIR/post.bin"
cp -- "$BIN/tests/egress/tunnels" "$HERE/agent.sh" "$PROG_DIR/"
chmod -R a+rX "$PROG_DIR"

python3 "$HERE/servers.py" "$WORK/www" "$PROG_DIR/ca.pem" "$WORK/key.pem" "$WORK/ports" \
	2>"$WORK/servers.err" &
SERVERS_PID=$!
wait_for_line "$WORK/ports" sink 30 || {
	echo "egress: the test servers did not start: $(tail -3 "$WORK/servers.err")" >&2
	exit 1
}
port() { awk -v n="$1" '$1 == n { print $2 }' "$WORK/ports"; }
HTTP=$(port http) HTTPS=$(port https) ECHO=$(port echo) SINK=$(port sink)

# ---- policies -----------------------------------------------------------------

# egress_section CIDR: the egress member; with the cidr rule when CIDR is 1.
egress_section() {
	local cidr=''
	[[ $1 == 1 ]] && cidr=", {\"cidr\": \"127.0.0.1/32\", \"ports\": [$HTTP, $HTTPS, $ECHO, $SINK]}"
	cat <<EOF
"egress": {
  "allow": [{"host": "web.test", "ports": [$HTTP, $HTTPS]},
            {"host": "echo.test", "ports": [$ECHO, $SINK]},
            {"host": "rebind.test", "ports": [$HTTP]}$cidr],
  "deny": [{"host": "blocked.test"}],
  "hosts": {"web.test": "127.0.0.1", "echo.test": "127.0.0.1",
            "blocked.test": "127.0.0.1", "rebind.test": "127.0.0.1"},
  "limits": {"connections": $((TUNNELS + 64)), "connect_timeout_s": 10}
}
EOF
}

# policy FILE CIDR local|vm: a whole policy. Local ones (warden sandbox,
# --vmm local) turn off what this kernel lacks (tests/lib/local-policy.sh)
# and bind the agent's files; the microVM's takes the image's defaults.
policy() {
	local file=$1 cidr=$2 where=$3 sandbox='"rlimits": {"nofile": 4096}'
	if [[ $where == local ]]; then
		sandbox+=", \"ro_binds\": [\"/bin\", \"/lib\", \"/lib64\", \"/usr\", \"/etc\", \"$PROG_DIR\"]"
		missing=$("$ROOT/tests/lib/local-policy.sh" "$file" "$sandbox" "$(egress_section "$cidr")")
	else
		printf '{"sandbox": {%s}, %s}\n' "$sandbox" "$(egress_section "$cidr")" >"$file"
	fi
}
missing=
policy "$WORK/allowed-local.json" 1 local
[[ -n $missing ]] && echo "egress: --vmm local and warden sandbox on this kernel: $missing" >&2
policy "$WORK/denied-local.json" 0 local
policy "$WORK/allowed-vm.json" 1 vm
policy "$WORK/denied-vm.json" 0 vm

# ---- running the agent --------------------------------------------------------

# job MODE NAME CHECKS-POLICY [--] COMMAND...: run COMMAND as the agent in
# MODE (sandbox, local, vm) under $WORK/POLICY-{local,vm}.json; status in
# `rc`, output in $WORK/NAME.{out,err}; records in $WORK/NAME.records
# (sandbox) or the audit log $WORK/NAME.audit (run modes). The agent's
# files are in $dir (PROG_DIR bound read-only, or the working directory).
job() {
	local mode=$1 name=$2 pol=$3 dir
	shift 3
	[[ $1 == -- ]] && shift
	rc=0
	if [[ $mode == sandbox ]]; then
		dir=$PROG_DIR
		timeout -s KILL "$JOB_LIMIT" "$WARDEN" sandbox --policy "$WORK/$pol-local.json" \
			--records "$WORK/$name.records" --timeout "$JOB_LIMIT" -- "${@//@DIR@/$dir}" \
			>"$WORK/$name.out" 2>"$WORK/$name.err" </dev/null || rc=$?
		return 0
	fi
	local args=(--vmm local) f where=local
	dir=.
	if [[ $mode == vm ]]; then
		args=(--image "$IMAGE_DIR" --console "$WORK/$name.console")
		where=vm
	fi
	for f in tunnels agent.sh ca.pem post.bin; do args+=(--file "$PROG_DIR/$f:$f"); done
	timeout -s KILL "$JOB_LIMIT" "$WARDEN" run "${args[@]}" --policy "$WORK/$pol-$where.json" \
		--audit-dir "$WORK/$name.audit" --timeout "$JOB_LIMIT" -- "${@//@DIR@/$dir}" \
		>"$WORK/$name.out" 2>"$WORK/$name.err" </dev/null || rc=$?
}

# records MODE NAME: the job's records as JSON lines (the guest's log, or
# the sandbox's records file).
records() {
	if [[ $1 == sandbox ]]; then
		cat -- "$WORK/$2.records" 2>/dev/null
	else
		"$WARDEN" audit show "$WORK/$2.audit" --json 2>/dev/null
	fi
}

# has_record MODE NAME REGEX...: a record matching every REGEX.
has_record() {
	local mode=$1 name=$2 line re
	shift 2
	while IFS= read -r line; do
		for re in "$@"; do [[ $line =~ $re ]] || continue 2; done
		return 0
	done < <(records "$mode" "$name")
	return 1
}

# ---- the tests ----------------------------------------------------------------

# The agent's own checks (agent.sh), one test each.
test_agent_checks() {
	local mode=$1 checks=$2 name="$2-$1" line
	job "$mode" "$name" "$checks" -- /bin/bash @DIR@/agent.sh @DIR@ "$checks" \
		"$HTTP" "$HTTPS" "$ECHO" "$SINK"
	while IFS= read -r line; do
		case $line in
		"ok "*) ok "${line#ok }[$mode]" ;;
		"FAIL "*) line=${line#FAIL }; fail "${line%%:*}[$mode]" "${line#*: }" ;;
		esac
	done <"$WORK/$name.out"
	if [[ $rc -ne 0 ]] || ! grep -qx "done" "$WORK/$name.out"; then
		fail "agent_${checks}[$mode]" "the agent did not finish (exit $rc)"
	fi
}

test_allowed_connections_are_recorded() {
	local mode=$1 t="${FUNCNAME[0]}[$1]" n=allowed-$1
	has_record "$mode" "$n" '"class":"network"' '"activity":"connect"' '"decision":"allow"' \
		'"host":"web.test"' '"rule":\{' ||
		{ fail "$t" "no network/connect record allowing web.test with its rule"; return; }
	has_record "$mode" "$n" '"activity":"close"' '"host":"echo.test"' '"dialed":"127.0.0.1' \
		'"bytes_out":[1-9]' '"bytes_in":[1-9]' ||
		{ fail "$t" "no network/close record for echo.test with the dialed address and bytes"; return; }
	has_record "$mode" "$n" '"activity":"connect"' '"decision":"deny"' '"host":"blocked.test"' \
		'"list":"deny"' || { fail "$t" "no denied record naming the deny rule for blocked.test"; return; }
	# Every byte above crossed the channel under the MAC its record names.
	if [[ $mode != sandbox ]] && ! has_record "$mode" "$n" '"activity":"channel"' '"mac":"gmac-aes-256"'; then
		fail "$t" "the auth/channel record does not name the frames' MAC (gmac-aes-256)"
		return
	fi
	ok "$t"
}

test_denials_are_recorded() {
	local mode=$1 t="${FUNCNAME[0]}[$1]" n=denied-$1
	has_record "$mode" "$n" '"activity":"connect"' '"decision":"deny"' '"host":"other.test"' \
		'no-rule' || { fail "$t" "no denied record for other.test (no rule)"; return; }
	has_record "$mode" "$n" '"activity":"connect"' '"decision":"deny"' '"host":"127.0.0.1"' ||
		{ fail "$t" "no denied record for the IP literal"; return; }
	has_record "$mode" "$n" '"activity":"refused"' '"host":"rebind.test"' 'loopback' ||
		{ fail "$t" "no network/refused record naming loopback for rebind.test"; return; }
	if [[ $mode != sandbox ]] && ! grep -q '"egress/refused".*rebind.test.*loopback\|rebind.test.*loopback' \
		"$WORK/$n.audit/launcher.jsonl" 2>/dev/null; then
		fail "$t" "the launcher's own record of the refusal is missing from launcher.jsonl"
		return
	fi
	ok "$t"
}

test_bypass_attempts_fail_and_are_recorded() {
	local mode=$1 t="${FUNCNAME[0]}[$1]" n=bypass-$1
	job "$mode" "$n" allowed -- /usr/bin/python3 -c '
import socket, errno
tries = [
    ("tcp4", lambda: socket.create_connection(("192.0.2.1", 80), 5)),
    ("tcp6", lambda: socket.create_connection(("2001:db8::1", 80), 5)),
    ("udp-dns", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"\0" * 12, ("192.0.2.53", 53))),
    ("link-local6", lambda: socket.socket(socket.AF_INET6, socket.SOCK_STREAM).connect(("fe80::1", 80, 0, 1))),
    ("raw", lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)),
    ("packet", lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW)),
    ("vsock", lambda: socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM).connect((2, 1024))),
    ("resolve", lambda: socket.getaddrinfo("web.test", 80)),
]
for name, f in tries:
    try:
        f()
        print("escaped", name)
    except OSError as e:
        print("failed", name, e.errno)
'
	[[ $rc -eq 0 ]] || { fail "$t" "exit $rc"; return; }
	if grep -q '^escaped' "$WORK/$n.out"; then
		fail "$t" "$(grep '^escaped' "$WORK/$n.out" | tr '\n' ' ')"
		return
	fi
	[[ $(grep -c '^failed' "$WORK/$n.out") -eq 8 ]] || { fail "$t" "not every attempt ran"; return; }
	has_record "$mode" "$n" '"activity":"bypass"' '"address":"192.0.2.1"' ||
		{ fail "$t" "no network/bypass record for the connect to 192.0.2.1"; return; }
	has_record "$mode" "$n" '"activity":"bypass"' '"address":"192.0.2.53"' ||
		{ fail "$t" "no network/bypass record for the UDP datagram to 192.0.2.53"; return; }
	ok "$t"
}

test_many_tunnels_at_once() {
	local mode=$1 t="${FUNCNAME[0]}[$1]" n=tunnels-$1 count=$TUNNELS
	[[ $mode == vm ]] && count=$VM_TUNNELS
	job "$mode" "$n" allowed -- @DIR@/tunnels connect "$count" echo.test "$ECHO" "$TUNNEL_BYTES"
	[[ $rc -eq 0 ]] || { fail "$t" "exit $rc: $(tail -1 "$WORK/$n.out")"; return; }
	grep -q "^tunnels: $count CONNECT tunnels, $TUNNEL_BYTES bytes each, intact" "$WORK/$n.out" ||
		{ fail "$t" "$(tail -1 "$WORK/$n.out")"; return; }
	ok "$t ($count tunnels)"
}

test_slow_client_does_not_hold_up_others() {
	local mode=$1 t="${FUNCNAME[0]}[$1]" n=slow-$1
	job "$mode" "$n" allowed -- @DIR@/tunnels slowloris echo.test "$ECHO" 20
	[[ $rc -eq 0 ]] || { fail "$t" "exit $rc: $(tail -1 "$WORK/$n.out")"; return; }
	ok "$t"
}

# The channel is cut twice mid-transfer, from outside both programs; the
# guest resumes it and every byte of both tunnels comes back as sent.
test_channel_cut_mid_transfer() {
	local mode=$1 t="${FUNCNAME[0]}[$1]" n=cut-$1 pid launcher cut why="" bytes=$CUT_BYTES
	[[ $mode == vm ]] && bytes=$((CUT_BYTES / 2))
	job "$mode" "$n" allowed -- @DIR@/tunnels connect 2 echo.test "$ECHO" "$bytes" &
	pid=$!
	for cut in 1 2; do
		if ! timeout 300 bash -c "until grep -q 'MiB back' $WORK/$n.out 2>/dev/null &&
			[[ \$(grep -c 'MiB back' $WORK/$n.out) -ge $((cut * 2)) ]]; do sleep 0.05; done"; then
			why="no progress before cut $cut"
			break
		fi
		launcher=$(launcher_pid "$WORK/$n.audit")
		[[ -n $launcher ]] || { why="no launcher to cut at $cut"; break; }
		"$BIN/tests/audit/fdcut" "$launcher" /chan.sock >/dev/null || { why="nothing to cut at $cut"; break; }
		wait_for_line "$WORK/$n.err" "channel resumed" 120 || { why="cut $cut not resumed"; break; }
	done
	wait "$pid" || true
	[[ -z $why ]] || { fail "$t" "$why"; return; }
	grep -q "^tunnels: 2 CONNECT tunnels, $bytes bytes each, intact" "$WORK/$n.out" ||
		{ fail "$t" "$(tail -1 "$WORK/$n.out")"; return; }
	has_record "$mode" "$n" '"activity":"resume"' || { fail "$t" "no auth/resume record"; return; }
	ok "$t"
}

for mode in ${EGRESS_MODES:-sandbox local vm}; do
	test_agent_checks "$mode" allowed
	test_allowed_connections_are_recorded "$mode"
	test_agent_checks "$mode" denied
	test_denials_are_recorded "$mode"
	test_bypass_attempts_fail_and_are_recorded "$mode"
	test_many_tunnels_at_once "$mode"
	test_slow_client_does_not_hold_up_others "$mode"
	[[ $mode == sandbox ]] || test_channel_cut_mid_transfer "$mode"
done
report_end egress
