#!/bin/bash
# Interop: `synack get` downloads 100 MB from a Linux HTTP server
# (python3 -m http.server) over a TAP device, with the SHA-256 checked, on a
# clean link and with synack's fault-injecting link wrapper dropping 2% of
# frames in both directions; a Linux server sees synack's close as a normal
# EOF; errors (refused, 404, a short body) exit 1; and `ss` shows no
# connection left behind.
#
# usage: bash tcp_get.sh /path/to/synack
#
# Everything happens inside a private network namespace. Needs root,
# /dev/net/tun, iproute2 (ip, ss) and python3; without them the test is
# skipped (exit 77), unless SYNACK_REQUIRE_INTEROP=1, which turns a missing
# prerequisite into a failure. SYNACK_GET_BYTES overrides the size.
set -u

SYNACK=${1:-}
NS="sn-get-$$"
TAP=snt0
LINUX_ADDR=10.77.13.1
SYNACK_ADDR=10.77.13.2
PORT=8000
AUX_PORT=8001
CLOSED_PORT=8002
BYTES=${SYNACK_GET_BYTES:-104857600}
LOSS=0.02
tmp=""
server_pid=""
aux_pid=""
get_rc=0
want_sha=""
failures=0

# The shared helpers (pass, fail, missing, the cleanup traps, setup_namespace,
# check_ss_clean, ...).
. "$(dirname "$0")/lib/common.bash"

# Called by cleanup (common.bash) from the EXIT trap.
# shellcheck disable=SC2317
stop_background() {
	stop_pid "$aux_pid"
	stop_pid "$server_pid"
}

# The kernel's count of retransmitted TCP segments in the namespace.
linux_retrans() {
	# shellcheck disable=SC2016 # awk fields, not shell expansions
	ip netns exec "$NS" awk '$1 == "Tcp:" && $2 ~ /^[0-9]/ { print $13 }' /proc/net/snmp
}

start_servers() {
	mkdir -p "$tmp/www"
	head -c "$BYTES" /dev/urandom >"$tmp/www/big.bin"
	want_sha=$(sha256sum "$tmp/www/big.bin" | cut -d' ' -f1)
	(cd "$tmp/www" && exec ip netns exec "$NS" python3 -m http.server "$PORT" --bind "$LINUX_ADDR" \
		>"$tmp/httpd.log" 2>&1) &
	server_pid=$!
	aux_py >"$tmp/aux.py"
	ip netns exec "$NS" python3 "$tmp/aux.py" "$LINUX_ADDR" "$AUX_PORT" "$tmp/aux.out" 2>"$tmp/aux.err" &
	aux_pid=$!
	for _ in $(seq 1 50); do
		ip netns exec "$NS" ss -Hltn | grep -q ":$PORT " &&
			ip netns exec "$NS" ss -Hltn | grep -q ":$AUX_PORT " && return 0
		sleep 0.1
	done
	fail "the Linux HTTP servers did not start"
	cat "$tmp/httpd.log" "$tmp/aux.err"
	exit 1
}

# A tiny Linux server for the close and error checks: /eof answers 5 bytes
# and reports how the client's side ended (EOF or reset); /short announces
# 100 bytes, sends 10 and closes.
aux_py() {
	cat <<'EOF'
import socket, sys
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((sys.argv[1], int(sys.argv[2]))); ls.listen(8)
while True:
    c, _ = ls.accept(); c.settimeout(20)
    req = b""
    while b"\r\n\r\n" not in req:
        b = c.recv(4096)
        if not b: break
        req += b
    path = req.split(b" ")[1] if req.count(b" ") >= 2 else b""
    if path == b"/short":
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789"); c.close(); continue
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
    try:
        rest = c.recv(4096)
        how = "EOF" if rest == b"" else "DATA %r" % rest
    except ConnectionResetError:
        how = "RESET"
    except socket.timeout:
        how = "TIMEOUT"
    with open(sys.argv[3], "a") as f: f.write(how + "\n")
    c.close()
EOF
}

# synack_get LABEL URL [options...]: runs synack get, body in $tmp/body.
synack_get() {
	local label=$1 url=$2
	shift 2
	ip netns exec "$NS" timeout 280 "$SYNACK" get --tap "$TAP" --addr "$SYNACK_ADDR/24" "$@" -o "$tmp/body" \
		"$url" 2>"$tmp/get.err"
	get_rc=$?
	if has_sanitizer_report "$tmp/get.err"; then
		fail "$label: sanitizer report"
		show_log "$tmp/get.err" "  " 30
	fi
}

download() {
	local label=$1 before after got summary
	shift
	before=$(linux_retrans)
	synack_get "$label" "http://$LINUX_ADDR:$PORT/big.bin" "$@"
	after=$(linux_retrans)
	got=$(sha256sum "$tmp/body" | cut -d' ' -f1)
	summary=$(grep "^synack get: HTTP" "$tmp/get.err" | tail -n 1)
	if [ "$get_rc" = 0 ] && [ "$got" = "$want_sha" ]; then
		pass "$label: synack get exit 0, SHA-256 matches; ${summary#synack get: }; Linux retransmitted $((after - before)) segments"
	else
		fail "$label: synack get exit $get_rc, sha256 $got (want $want_sha)"
		sed 's/^/  /' "$tmp/get.err" | tail -n 10
	fi
	rm -f "$tmp/body"
}

check_eof() {
	local label=$1 how
	shift
	: >"$tmp/aux.out"
	synack_get "$label" "http://$LINUX_ADDR:$AUX_PORT/eof" "$@"
	for _ in $(seq 1 50); do
		[ -s "$tmp/aux.out" ] && break
		sleep 0.1
	done
	how=$(head -n 1 "$tmp/aux.out")
	if [ "$get_rc" = 0 ] && [ "$(cat "$tmp/body")" = hello ] && [ "$how" = EOF ]; then
		pass "$label: the Linux server saw synack's close as a normal EOF"
	else
		fail "$label: synack get exit $get_rc, body '$(cat "$tmp/body")', the server saw '${how:-nothing}' (want EOF)"
		sed 's/^/  /' "$tmp/get.err"
	fi
}

# expect_failure LABEL URL WHAT: synack get must exit 1 and say WHAT.
expect_failure() {
	local label=$1 url=$2 what=$3
	synack_get "$label" "$url" --timeout 10
	if [ "$get_rc" = 1 ] && grep -q -- "$what" "$tmp/get.err"; then
		pass "$label: exit 1, '$(grep -m1 -- "$what" "$tmp/get.err")'"
	else
		fail "$label: exit $get_rc (want 1 with '$what')"
		sed 's/^/  /' "$tmp/get.err"
	fi
}

main() {
	check_common_prerequisites "ss command (iproute2)" "python3 (the Linux HTTP server)"
	tmp=$(mktemp -d /tmp/synack-tcp-get.XXXXXX)
	setup_namespace
	start_servers
	download "clean link"
	check_eof "clean link"
	check_ss_clean "clean link"
	download "loss $LOSS" --loss "$LOSS" --seed 1
	check_eof "loss $LOSS" --loss "$LOSS" --seed 2
	check_ss_clean "loss $LOSS"
	expect_failure "closed port" "http://$LINUX_ADDR:$CLOSED_PORT/" "Connection refused"
	expect_failure "404" "http://$LINUX_ADDR:$PORT/missing" "HTTP 404"
	expect_failure "short body" "http://$LINUX_ADDR:$AUX_PORT/short" "closed before the whole body"
	check_ss_clean "after the errors"
	finish tcp_get
}

main
