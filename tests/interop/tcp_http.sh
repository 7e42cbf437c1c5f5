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

# The shared helpers (pass, fail, missing, the cleanup traps, setup_namespace,
# start_synack_up, stop_synack_checked, ...).
. "$(dirname "$0")/lib/common.bash"

# start_synack [extra options...]: the HTTP service on a fresh log.
start_synack() {
	start_synack_up "synack up --service http $*" "^synack up: listening on 0.0.0.0:$PORT" \
		--listen "$PORT" --service http --quiet "$@"
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

# download LABEL: curl fetches /bytes/$BYTES; the SHA-256 must match.
download() {
	local label=$1 code size speed
	curl_sha256 "http://$SYNACK_ADDR:$PORT/bytes/$BYTES" 240 '%{http_code} %{size_download} %{speed_download}'
	read -r code size speed <<<"$curl_out"
	if [ "$curl_rc" = 0 ] && [ "$code" = 200 ] && [ "$size" = "$BYTES" ] && [ "$curl_sha" = "$want_sha" ]; then
		pass "$label: curl got $size bytes, SHA-256 matches, $(awk -v s="$speed" 'BEGIN { printf "%.1f", s / 1e6 }') MB/s"
	else
		fail "$label: curl exit $curl_rc, HTTP ${code:-?}, ${size:-?} bytes (want $BYTES), sha256 $curl_sha (want $want_sha)"
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
	# No connection to or from the port in any state but TIME-WAIT (normal
	# for the side that closed first) within a few seconds.
	check_ss_clean "$label" "( sport = :$PORT or dport = :$PORT )"
	stop_synack_checked "$label: synack up" "$tmp/err.log" "  stderr: " 30
	local served retrans timeouts
	served=$(grep -c "^synack up: http .* 200, $BYTES of $BYTES body bytes sent, closed" "$tmp/out.log")
	retrans=$(nstat_value "$tmp/out.log" TcpRetransSegs)
	timeouts=$(nstat_value "$tmp/out.log" TcpExtTCPTimeouts)
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
	check_common_prerequisites "ss command (iproute2)" curl python3
	tmp=$(mktemp -d /tmp/synack-tcp-http.XXXXXX)
	pattern_py >"$tmp/pattern.py"
	want_sha=$(python3 "$tmp/pattern.py" "$BYTES")
	setup_namespace
	run "clean link"
	run "loss $LOSS" --loss "$LOSS" --seed 1
	finish tcp_http synack "$tmp/out.log"
}

main
