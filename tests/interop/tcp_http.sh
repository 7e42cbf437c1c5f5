#!/bin/bash
# Interop: Linux's curl downloads from synack's HTTP service (synack up
# --service http) over a TAP device: 100 MB with the SHA-256 checked, on a
# clean link and with synack's fault-injecting link wrapper dropping 2% of
# frames in both directions; bad requests get 400/404; synack's close is a
# normal EOF to a Linux reader; and `ss` shows no connection left behind.
#
# usage: bash tcp_http.sh /path/to/synack
#
# The body of GET /bytes/N is 16-byte lines "%015d\n" of each line's offset,
# cut at N bytes (see `synack up --help`); python3 computes its SHA-256.
#
# Everything happens inside a private network namespace. Needs root,
# /dev/net/tun, iproute2 (ip, ss), curl and python3; without them the test
# is skipped (exit 77), unless SYNACK_REQUIRE_INTEROP=1, which turns a
# missing prerequisite into a failure. SYNACK_HTTP_BYTES overrides the size.
set -u

SYNACK=${1:-}
NS="sn-http-$$"
TAP=snt0
LINUX_ADDR=10.77.12.1
SYNACK_ADDR=10.77.12.2
PORT=8080
BYTES=${SYNACK_HTTP_BYTES:-104857600}
LOSS=0.02
tmp=""
synack_pid=""
failures=0

# pass, fail, missing, stop_pid, cleanup and its traps, check_common_prerequisites,
# setup_namespace, wait_for_output.
. "$(dirname "$0")/lib/common.bash"

# Called by cleanup (common.bash) from the EXIT trap.
# shellcheck disable=SC2317
stop_background() {
	stop_pid "$synack_pid"
}

check_prerequisites() {
	check_common_prerequisites
	command -v ss >/dev/null || missing "no ss command (iproute2)"
	command -v curl >/dev/null || missing "no curl"
	command -v python3 >/dev/null || missing "no python3"
}

# start_synack [extra options...]: the HTTP service on a fresh log.
start_synack() {
	: >"$tmp/out.log"
	ip netns exec "$NS" "$SYNACK" up --tap "$TAP" --addr "$SYNACK_ADDR/24" --listen "$PORT" \
		--service http --quiet "$@" >"$tmp/out.log" 2>"$tmp/err.log" &
	synack_pid=$!
	if ! wait_for_output "^synack up: listening on 0.0.0.0:$PORT" 50; then
		fail "synack up --service http $* did not start"
		sed 's/^/  stderr: /' "$tmp/err.log"
		exit 1
	fi
}

# stop_synack LABEL: SIGTERM; it must exit 0 with clean sanitizers.
stop_synack() {
	kill -TERM "$synack_pid"
	for _ in $(seq 1 50); do
		kill -0 "$synack_pid" 2>/dev/null || break
		sleep 0.1
	done
	wait "$synack_pid"
	local rc=$?
	synack_pid=""
	if [ "$rc" = 0 ] && ! grep -q "Sanitizer\|runtime error" "$tmp/err.log"; then
		pass "$1: synack up exited 0 on SIGTERM"
	else
		fail "$1: synack up exited $rc on SIGTERM"
		sed 's/^/  stderr: /' "$tmp/err.log" | tail -n 30
	fi
}

counter() {
	awk -v name="$1" '$1 == name { v = $2 } END { print v + 0 }' "$tmp/out.log"
}

pattern_py() {
	cat <<'EOF'
import hashlib, sys
n = int(sys.argv[1]); h = hashlib.sha256(); line = 0; step = 65536
while line * 16 < n:
    chunk = b"".join(b"%015d\n" % (16 * i) for i in range(line, line + step))
    h.update(chunk[: n - line * 16])
    line += step
print(h.hexdigest())
EOF
}

# No connection to or from the port in any state but TIME-WAIT (normal
# for the side that closed first) within a few seconds.
check_ss_clean() {
	local label=$1 left=""
	for _ in $(seq 1 30); do
		left=$(ip netns exec "$NS" ss -Htan "( sport = :$PORT or dport = :$PORT )" | grep -v '^TIME-WAIT' | grep -v '^LISTEN')
		[ -z "$left" ] && break
		sleep 0.1
	done
	if [ -z "$left" ]; then
		pass "$label: ss shows no connection left but TIME-WAIT"
	else
		fail "$label: ss shows connections left:"
		ip netns exec "$NS" ss -tani "( sport = :$PORT or dport = :$PORT )" | sed 's/^/  /'
	fi
}

# download LABEL: curl fetches /bytes/$BYTES; the SHA-256 must match.
download() {
	local label=$1 out rc code size speed got
	out=$(ip netns exec "$NS" curl -sS --max-time 240 -o "$tmp/body" \
		-w '%{http_code} %{size_download} %{speed_download}' \
		"http://$SYNACK_ADDR:$PORT/bytes/$BYTES" 2>"$tmp/curl.err")
	rc=$?
	read -r code size speed <<<"$out"
	got=$(sha256sum "$tmp/body" | cut -d' ' -f1)
	rm -f "$tmp/body"
	if [ "$rc" = 0 ] && [ "$code" = 200 ] && [ "$size" = "$BYTES" ] && [ "$got" = "$want_sha" ]; then
		pass "$label: curl got $size bytes, SHA-256 matches, $(awk -v s="$speed" 'BEGIN { printf "%.1f", s / 1e6 }') MB/s"
	else
		fail "$label: curl exit $rc, HTTP ${code:-?}, ${size:-?} bytes (want $BYTES), sha256 $got (want $want_sha)"
		sed 's/^/  curl: /' "$tmp/curl.err"
	fi
}

# A Linux reader of synack's response must see a normal EOF (recv() == b""
# after the whole body), never a reset.
eof_py() {
	cat <<'EOF'
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=20)
s.sendall(b"GET /bytes/100000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
data = b""
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
except ConnectionResetError:
    print("RESET after %d bytes" % len(data)); sys.exit(0)
head, _, body = data.partition(b"\r\n\r\n")
print("EOF %s %d" % (head.split(b"\r\n")[0].decode(), len(body)))
s.close()
EOF
}

# Send argv[3] (a Python bytes expression) and print the status line.
raw_py() {
	cat <<'EOF'
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
s.sendall(eval(sys.argv[3], {"__builtins__": {}}))
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
print(data.split(b"\r\n")[0].decode())
EOF
}

check_requests() {
	local label=$1 line
	eof_py >"$tmp/eof.py"
	raw_py >"$tmp/raw.py"
	line=$(ip netns exec "$NS" timeout 30 python3 "$tmp/eof.py" "$SYNACK_ADDR" "$PORT" 2>&1)
	if [ "$line" = "EOF HTTP/1.1 200 OK 100000" ]; then
		pass "$label: Linux reader saw the whole body, then a normal EOF"
	else
		fail "$label: Linux reader: $line (want 'EOF HTTP/1.1 200 OK 100000')"
	fi
	local req want
	while IFS='|' read -r req want; do
		line=$(ip netns exec "$NS" timeout 30 python3 "$tmp/raw.py" "$SYNACK_ADDR" "$PORT" "$req" 2>&1)
		if [ "$line" = "$want" ]; then
			pass "$label: $req -> $want"
		else
			fail "$label: $req -> '$line' (want '$want')"
		fi
	done <<'EOF'
b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n"|HTTP/1.1 404 Not Found
b"garbage\r\n\r\n"|HTTP/1.1 400 Bad Request
b"GET /bytes/1 HTTP/1.1\r\nno colon here\r\n\r\n"|HTTP/1.1 400 Bad Request
b"GET /bytes/99999999999999999999 HTTP/1.1\r\n\r\n"|HTTP/1.1 404 Not Found
b"POST /bytes/1 HTTP/1.1\r\n\r\n"|HTTP/1.1 405 Method Not Allowed
b"GET /bytes/1 HTTP/1.1\r\nX: " + b"a" * 20000 + b"\r\n\r\n"|HTTP/1.1 400 Bad Request
EOF
}

# run LABEL [synack options...]
run() {
	local label=$1
	shift
	start_synack "$@"
	download "$label"
	check_requests "$label"
	check_ss_clean "$label"
	stop_synack "$label"
	local served retrans timeouts
	served=$(grep -c "^synack up: http .* 200, $BYTES of $BYTES body bytes sent, closed" "$tmp/out.log")
	retrans=$(counter TcpRetransSegs)
	timeouts=$(counter TcpExtTCPTimeouts)
	if [ "$served" -ge 1 ]; then
		pass "$label: synack logged the $BYTES-byte response as sent and closed ($retrans retransmitted segments, $timeouts timeouts)"
	else
		fail "$label: synack did not log a complete $BYTES-byte response"
		grep "^synack up: http" "$tmp/out.log" | sed 's/^/  /'
	fi
	grep -q "^TcpExtTCPTimeouts\|^TcpRetransSegs" "$tmp/out.log" || true
	echo "$label: retransmitted segments $retrans" >>"$tmp/summary"
}

main() {
	check_prerequisites
	tmp=$(mktemp -d /tmp/synack-tcp-http.XXXXXX)
	pattern_py >"$tmp/pattern.py"
	want_sha=$(python3 "$tmp/pattern.py" "$BYTES")
	setup_namespace
	run "clean link"
	run "loss $LOSS" --loss "$LOSS" --seed 1
	if [ "$failures" = 0 ]; then
		echo "PASS: tcp_http"
		exit 0
	fi
	echo "FAIL: tcp_http ($failures checks failed)"
	echo "--- synack output (last 40 lines) ---"
	tail -n 40 "$tmp/out.log"
	exit 1
}

main
