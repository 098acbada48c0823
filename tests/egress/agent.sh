#!/bin/bash
# tests/egress/agent.sh DIR CHECKS HTTP HTTPS ECHO SINK - the egress tests'
# agent: runs inside the sandbox (warden sandbox, --vmm local, the microVM)
# with warden's proxy environment, and prints one line per check:
# "ok NAME" or "FAIL NAME: why". DIR holds its files (tunnels, ca.pem,
# post.bin); HTTP..SINK are the host's loopback servers' ports
# (tests/egress/servers.py), reached by the names the policy pins:
#   web.test, echo.test -> 127.0.0.1 (with a cidr rule for 127.0.0.1/32)
#   blocked.test        -> 127.0.0.1, but a deny rule names it
#   rebind.test         -> 127.0.0.1, allowed by a host rule, no cidr rule
#   other.test          -> not in any allow rule
# CHECKS: "allowed" (what must work) or "denied" (what must not, under a
# policy without the cidr rule).
set -u
dir=$1 checks=$2 http=$3 https=$4 echo=$5 sink=$6
export PATH=/usr/bin:/bin
cd "$dir" || exit 2
work=$(mktemp -d) || exit 2

ok() { echo "ok $1"; }
bad() { echo "FAIL $1: $2"; }

# curl_deny NAME URL REASON [curl options]: a 403 with X-Warden-Deny
# naming REASON (a substring).
curl_deny() {
	local t=$1 url=$2 reason=$3 code
	shift 3
	# %{http_connect}: the proxy's answer to a CONNECT (https://), when
	# there was no answer from the far end (%{http_code} 000)
	code=$(curl -sS -o "$work/body" -D "$work/head" -w '%{http_code} %{http_connect}' "$@" "$url" \
		2>"$work/err")
	[[ $code == "000 "* ]] && code=${code#000 }
	code=${code%% *}
	if [[ $code != 403 ]]; then
		bad "$t" "status $code, want 403 ($(head -c 200 "$work/err"))"
	elif ! grep -qi "^x-warden-deny: .*$reason" "$work/head"; then
		bad "$t" "X-Warden-Deny does not say '$reason': $(grep -i '^x-warden-deny' "$work/head")"
	else
		ok "$t"
	fi
}

allowed() {
	local v missing=()
	for v in HTTP_PROXY HTTPS_PROXY ALL_PROXY NO_PROXY http_proxy https_proxy all_proxy \
		no_proxy NODE_USE_ENV_PROXY; do
		[[ -n ${!v:-} ]] || missing+=("$v")
	done
	if [[ ${#missing[@]} -eq 0 && $ALL_PROXY == socks5h://127.0.0.1:1080 &&
		$HTTPS_PROXY == http://127.0.0.1:3128 && $NO_PROXY == localhost,127.0.0.1,::1 ]]; then
		ok proxy_environment
	else
		bad proxy_environment "missing: ${missing[*]}; ALL_PROXY=${ALL_PROXY:-} HTTPS_PROXY=${HTTPS_PROXY:-}"
	fi

	# HTTPS through CONNECT, TLS end to end with the test's own CA.
	if [[ $(curl -fsS --cacert ca.pem "https://web.test:$https/hello.txt" 2>"$work/err") == "hello egress" ]]; then
		ok curl_https_proxy
	else bad curl_https_proxy "$(head -c 300 "$work/err")"; fi

	# Plain HTTP in absolute form; two requests on one connection.
	curl -fsS -v "http://web.test:$http/hello.txt" "http://web.test:$http/hello.txt" \
		>"$work/out" 2>"$work/err"
	if [[ $(cat "$work/out") != "hello egresshello egress" ]]; then
		bad curl_http_proxy "$(head -c 300 "$work/out") $(grep -v '^[<>*{}]' "$work/err" | head -c 300)"
	elif ! grep -qi 're-using existing connection' "$work/err"; then
		bad curl_http_keepalive "curl did not reuse its connection to the proxy"
	else ok curl_http_proxy_keepalive; fi

	# Bodies forwarded: Content-Length and chunked.
	want="$(wc -c <post.bin) $(sha256sum post.bin | cut -d' ' -f1)"
	got=$(curl -fsS --data-binary @post.bin "http://web.test:$http/post" 2>"$work/err")
	if [[ $got == "$want" ]]; then ok http_post_body; else bad http_post_body "got '$got', want '$want'"; fi
	got=$(curl -fsS -H 'Transfer-Encoding: chunked' --data-binary @post.bin \
		"http://web.test:$http/post" 2>"$work/err")
	if [[ $got == "$want" ]]; then ok http_post_chunked; else bad http_post_chunked "got '$got' $(head -c 200 "$work/err")"; fi

	# SOCKS5 with the name resolved by the proxy's far end.
	got=$(curl -fsS --noproxy '' --socks5-hostname 127.0.0.1:1080 "http://web.test:$http/hello.txt" 2>"$work/err")
	if [[ $got == "hello egress" ]]; then ok curl_socks5_hostname; else bad curl_socks5_hostname "$(head -c 300 "$work/err")"; fi

	# Raw TCP through CONNECT and SOCKS5: an echo server, every byte compared.
	if ./tunnels connect 4 echo.test "$echo" 262144 >"$work/out" 2>&1; then ok raw_tcp_connect
	else bad raw_tcp_connect "$(tail -1 "$work/out")"; fi
	if ./tunnels socks 4 echo.test "$echo" 262144 >"$work/out" 2>&1; then ok raw_tcp_socks5
	else bad raw_tcp_socks5 "$(tail -1 "$work/out")"; fi

	# git over dumb HTTP.
	if git -c http.sslVerify=true clone -q "http://web.test:$http/repo.git" "$work/repo" 2>"$work/err" &&
		[[ $(cat "$work/repo/README") == "cloned through warden" ]]; then
		ok git_clone_http
	else bad git_clone_http "$(tail -3 "$work/err")"; fi

	# Python's urllib with the environment's proxies (http and https).
	if python3 - "$http" "$https" >"$work/out" 2>&1 <<'EOF'; then
import ssl, sys, urllib.request
http, https = sys.argv[1], sys.argv[2]
assert urllib.request.urlopen("http://web.test:%s/hello.txt" % http, timeout=60).read() == b"hello egress"
ctx = ssl.create_default_context(cafile="ca.pem")
assert urllib.request.urlopen("https://web.test:%s/hello.txt" % https, context=ctx, timeout=60).read() == b"hello egress"
EOF
		ok python_urllib
	else bad python_urllib "$(tail -2 "$work/out")"; fi

	# Deny wins over the cidr rule that would allow it.
	curl_deny deny_beats_allow "http://blocked.test:$http/hello.txt" deny

	# An upload ended by a half-close: the sink answers with what it got
	# only after the end of the stream reached it.
	if python3 - "$sink" >"$work/out" 2>&1 <<'EOF'; then
import hashlib, socket, sys
s = socket.create_connection(("127.0.0.1", 3128), 60)
s.sendall(b"CONNECT echo.test:%s HTTP/1.1\r\nHost: echo.test\r\n\r\n" % sys.argv[1].encode())
head = b""
while b"\r\n\r\n" not in head:
    c = s.recv(1)
    assert c, "the proxy closed: %r" % head
    head += c
assert head.startswith(b"HTTP/1.1 200"), head
data = open("post.bin", "rb").read()
s.sendall(data)
s.shutdown(socket.SHUT_WR)
ans = b""
while True:
    c = s.recv(4096)
    if not c:
        break
    ans += c
want = "%d %s\n" % (len(data), hashlib.sha256(data).hexdigest())
assert ans.decode() == want, (ans, want)
EOF
		ok half_close_upload
	else bad half_close_upload "$(tail -2 "$work/out")"; fi

	# No resolver: names resolve only on the host, through the proxies.
	if getent hosts web.test >/dev/null 2>&1 || getent hosts example.com >/dev/null 2>&1; then
		bad no_resolver "a name resolved inside the sandbox"
	else ok no_resolver; fi
	# The host's servers are not reachable directly: the agent's loopback is its own.
	if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 5)" \
		"$echo" 2>/dev/null; then
		bad direct_connect_host_loopback "connected to the host's echo server directly"
	else ok direct_connect_host_loopback; fi
}

denied() {
	curl_deny name_not_allowed "http://other.test:$http/hello.txt" no-rule
	curl_deny port_not_allowed "http://web.test:9/hello.txt" port
	# A public address as a literal: only a cidr rule could allow it (the
	# guest refuses it; nothing is dialed).
	curl_deny ip_literal_without_cidr "http://192.88.100.1:$http/hello.txt" ip-literal
	# A special address as a literal (127.0.0.1 is in NO_PROXY: the proxy
	# is named for this one).
	curl_deny loopback_literal_without_cidr "http://127.0.0.1:$http/hello.txt" loopback \
		--noproxy '' --proxy http://127.0.0.1:3128
	curl_deny deny_rule "http://blocked.test:$http/hello.txt" deny
	# The host refuses: rebind.test is allowed by name but maps to loopback.
	curl_deny pinned_loopback_refused_by_host "http://rebind.test:$http/hello.txt" loopback
	# Through CONNECT too (the proxy answers before any tunnel).
	curl_deny connect_denied "https://other.test:$https/hello.txt" no-rule --cacert ca.pem
	# SOCKS5: reply 0x02, "connection not allowed by ruleset".
	curl -sS --noproxy '' --socks5-hostname 127.0.0.1:1080 "http://other.test:$http/" \
		>/dev/null 2>"$work/err"
	# (curl 7.88 prints the reply code: "(2)"; later ones "not allowed")
	if grep -qi 'not allowed\|other\.test\. (2)' "$work/err"; then ok socks5_denied
	else bad socks5_denied "curl said: $(head -c 200 "$work/err")"; fi
}

case $checks in
allowed) allowed ;;
denied) denied ;;
*) echo "usage: agent.sh DIR allowed|denied HTTP HTTPS ECHO SINK" >&2; exit 2 ;;
esac
rm -rf "$work"
echo "done"
