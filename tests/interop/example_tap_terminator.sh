#!/bin/bash
# Interop: the TUN/TAP terminator example (examples/tap_terminator.c). Inside
# the test's namespace, 203.0.113.0/24 and 198.51.100.0/24 are routed into
# the TAP with the example's stack as the gateway; nothing has those
# addresses there, so only the stack's IP_TRANSPARENT listener can answer.
#
# Run 1, --upstream 127.0.0.1:8000 (python3's http.server in the namespace):
#   - curl http://203.0.113.80:8080/file.bin and
#     http://198.51.100.9:443/file.bin both get the 4 MiB file (SHA-256),
#     and the log names each original destination (getsockname).
# Run 2, no --upstream: each connection goes to its original destination.
#   A second namespace holds every 203.0.113.0/24 address (a local route on
#   its loopback) behind a veth pair; the terminator marks its upstream
#   sockets (--mark) and an `ip rule` sends marked traffic to the veth, so
#   it does not loop back into the TAP. There:
#   - curl http://203.0.113.80:8080/file.bin gets the file from the server
#     listening in the second namespace;
#   - half-close, client first: 1 MiB then SHUT_WR; the server answers only
#     after its EOF (the SHA-256 of what it got), then closes: the client
#     reads the answer and then EOF;
#   - half-close, server first: the server sends 1 MiB and SHUT_WR, then
#     reads the client's 512 KiB to EOF; both sides' SHA-256 match;
#   - a refused upstream (closed port) resets the client's connection; a
#     connection to the stack's own address is not the catch-all's: the
#     stack refuses it with a RST, as for any closed port;
#   - every connection is logged closed, and SIGTERM exits 0.
#
# usage: bash example_tap_terminator.sh /path/to/tap_terminator
#
# Everything happens inside the test's two network namespaces. Needs root,
# /dev/net/tun, iproute2 (ip, ss, veth, policy routing), curl and python3;
# without them the test is skipped (exit 77), unless
# SYNACK_REQUIRE_INTEROP=1, which turns a missing prerequisite into a failure.
set -u

BIN=${1:-}
NS="sn-ex-term-$$"
NS2="sn-ex-term2-$$"
TAP=sxt0
LINUX_ADDR=10.77.32.1
EX_ADDR=10.77.32.2
VETH_ADDR=10.77.33.1
VETH2_ADDR=10.77.33.2
MARK=0x5a
BYTES=4194304
tmp=""
synack_pid=""
pids=""
failures=0

# The shared helpers (pass, fail, missing, the cleanup traps, setup_namespace,
# start_example, stop_synack_checked, ...).
. "$(dirname "$0")/lib/common.bash"

# shellcheck disable=SC2317 # called by cleanup (common.bash) from the EXIT trap
stop_background() {
	stop_pid "$synack_pid"
	for pid in $pids; do
		stop_pid "$pid"
	done
}

# The test's own servers and clients.
#   serve PORT_A PORT_B FILE: on PORT_A read to EOF, answer "SHA256 LEN\n",
#     close; on PORT_B send pattern(1 MiB), SHUT_WR, read to EOF, write
#     "SHA256 LEN" of what came to FILE, close.
#   client-first HOST PORT, server-first HOST PORT, reset HOST PORT,
#   refused HOST PORT: the
#     clients; each prints one line, "OK ..." or "BAD ...".
tool_py() {
	cat <<'EOF'
import hashlib, os, socket, sys, threading

MIB = 1 << 20

def pattern(n, salt):
    blocks = (hashlib.sha256(b"%s %d" % (salt, i)).digest() for i in range(n // 32 + 1))
    return b"".join(blocks)[:n]

def read_all(s):
    out = []
    while True:
        b = s.recv(65536)
        if not b:
            return b"".join(out)
        out.append(b)

def digest(data):
    return "%s %d" % (hashlib.sha256(data).hexdigest(), len(data))

def serve(port, handler):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", port))
    ls.listen(16)
    while True:
        c, _ = ls.accept()
        threading.Thread(target=handler, args=(c,), daemon=True).start()

def answer_after_eof(c):
    c.sendall((digest(read_all(c)) + "\n").encode())
    c.close()

def send_first(c, path):
    c.sendall(pattern(MIB, b"down"))
    c.shutdown(socket.SHUT_WR)
    got = read_all(c)
    with open(path + ".tmp", "w") as f:
        f.write(digest(got))
    os.rename(path + ".tmp", path)
    c.close()

mode = sys.argv[1]
if mode == "serve":
    a, b, path = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    threading.Thread(target=serve, args=(a, answer_after_eof), daemon=True).start()
    serve(b, lambda c: send_first(c, path))

host, port = sys.argv[2], int(sys.argv[3])
if mode == "reset":
    # The stack completes the handshake, then resets: connect() itself
    # may already see the reset.
    try:
        s = socket.create_connection((host, port), timeout=10)
        b = s.recv(1)
        print("BAD recv returned %r, not a reset" % b)
    except ConnectionResetError:
        print("OK reset")
    sys.exit(0)
if mode == "refused":
    # No listener takes it: the stack itself answers the SYN with a RST.
    try:
        socket.create_connection((host, port), timeout=10)
        print("BAD connected")
    except ConnectionRefusedError:
        print("OK refused")
    sys.exit(0)
s = socket.create_connection((host, port), timeout=60)
if mode == "client-first":
    data = pattern(MIB, b"up")
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    reply = read_all(s).decode().strip()
    print(("OK " if reply == digest(data) else "BAD ") + "sent %s, server got %s" % (digest(data), reply))
elif mode == "server-first":
    got = read_all(s)
    if got != pattern(MIB, b"down"):
        print("BAD got %s before EOF" % digest(got))
        sys.exit(0)
    data = pattern(MIB // 2, b"up")
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    rest = s.recv(1)
    print(("OK " if rest == b"" else "BAD ") + "%s" % digest(data))
EOF
}

# start_terminator ARGS...: on a fresh log, until it says it is up.
start_terminator() {
	start_example "tap_terminator $*" "taking every TCP connection" "$@"
}

stop_terminator() {
	local label=$1 started ended
	started=$(grep -c ": connecting to " "$tmp/out.log")
	for _ in $(seq 1 50); do
		ended=$(grep -c ": closed, \|: reset (" "$tmp/out.log")
		[ "$ended" -ge "$started" ] && break
		sleep 0.1
	done
	if [ "$ended" = "$started" ]; then
		pass "$label: all $started connections logged as ended"
	else
		fail "$label: $started connections started, $ended ended"
	fi
	stop_synack_checked "$label: tap_terminator" "$tmp/out.log" "  " 30
}

# wait_port NAMESPACE ADDR PORT: until something listens there.
wait_port() {
	wait_for_port "$@" || missing "no server came up on $2:$3 in $1"
}

# curl_file LABEL URL: the file, whole, through the terminator.
curl_file() {
	local label=$1 url=$2
	curl_sha256 "$url" 60 '%{http_code} %{size_download}'
	if [ "$curl_rc" = 0 ] && [ "$curl_out" = "200 $BYTES" ] && [ "$curl_sha" = "$want_sha" ]; then
		pass "$label: curl $url: 200, $BYTES bytes, SHA-256 matches"
	else
		fail "$label: curl $url: exit $curl_rc, '$curl_out', sha256 $curl_sha (want $want_sha)"
		sed 's/^/  curl: /' "$tmp/curl.err"
	fi
}

# log_has LABEL PATTERN: a line of the terminator's log.
log_has() {
	if grep -q -- "$2" "$tmp/out.log"; then
		pass "$1: log: $(grep -m1 -- "$2" "$tmp/out.log" | sed 's/^tap_terminator: //')"
	else
		fail "$1: no log line matching '$2'"
	fi
}

# client LABEL MODE HOST PORT: the python client must print OK; its line is
# left in $line.
client() {
	local label=$1
	shift
	line=$(ip netns exec "$NS" timeout 60 python3 "$tmp/tool.py" "$@" 2>&1 | tail -n 1)
	case "$line" in
	OK*) pass "$label: $line" ;;
	*) fail "$label: ${line:-no output}" ;;
	esac
}

setup() {
	mkdir -p "$tmp/www"
	head -c "$BYTES" /dev/urandom >"$tmp/www/file.bin"
	want_sha=$(sha256sum "$tmp/www/file.bin" | cut -d' ' -f1)
	tool_py >"$tmp/tool.py"
	setup_namespace
	# Networks that exist nowhere, routed into the TAP via the stack: the
	# kernel ARPs only for the stack's own address.
	ip -n "$NS" route add 203.0.113.0/24 via "$EX_ADDR" &&
		ip -n "$NS" route add 198.51.100.0/24 via "$EX_ADDR" ||
		missing "cannot add routes via the TAP"
	# Run 2's far side: a second namespace behind a veth pair that owns all
	# of 203.0.113.0/24; only marked traffic is routed there.
	ip netns add "$NS2" 2>/dev/null || missing "cannot create a second network namespace"
	ip -n "$NS2" link set lo up &&
		ip -n "$NS" link add sxv0 type veth peer name sxv1 netns "$NS2" &&
		ip -n "$NS" addr add "$VETH_ADDR/24" dev sxv0 &&
		ip -n "$NS" link set sxv0 up &&
		ip -n "$NS2" addr add "$VETH2_ADDR/24" dev sxv1 &&
		ip -n "$NS2" link set sxv1 up &&
		ip -n "$NS2" route add local 203.0.113.0/24 dev lo &&
		ip -n "$NS" rule add fwmark "$MARK" lookup 100 &&
		ip -n "$NS" route add 203.0.113.0/24 via "$VETH2_ADDR" dev sxv0 table 100 ||
		missing "cannot set up the veth pair and policy routing"
	ip netns exec "$NS" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.sxv0.rp_filter=0
	ip netns exec "$NS2" sysctl -qw "net.ipv6.conf.sxv1.disable_ipv6=1" 2>/dev/null || true

	# The servers: run 1's upstream in the namespace, run 2's in the other.
	ip netns exec "$NS" python3 -m http.server 8000 --bind 127.0.0.1 --directory "$tmp/www" \
		>"$tmp/http1.log" 2>&1 &
	pids="$pids $!"
	ip netns exec "$NS2" python3 -m http.server 8080 --bind 0.0.0.0 --directory "$tmp/www" \
		>"$tmp/http2.log" 2>&1 &
	pids="$pids $!"
	ip netns exec "$NS2" python3 "$tmp/tool.py" serve 7007 7008 "$tmp/server-got" >"$tmp/tool.log" 2>&1 &
	pids="$pids $!"
	wait_port "$NS" 127.0.0.1 8000
	wait_port "$NS2" 203.0.113.80 8080
	wait_port "$NS2" 203.0.113.81 7007
}

run_upstream() {
	local label="--upstream"
	start_terminator --upstream 127.0.0.1:8000
	curl_file "$label" "http://203.0.113.80:8080/file.bin"
	curl_file "$label" "http://198.51.100.9:443/file.bin"
	log_has "$label" "$LINUX_ADDR:[0-9]* -> 203.0.113.80:8080: connecting to 127.0.0.1:8000"
	log_has "$label" "$LINUX_ADDR:[0-9]* -> 198.51.100.9:443: connecting to 127.0.0.1:8000"
	log_has "$label" "-> 198.51.100.9:443: closed, [0-9]* bytes up, [0-9]* bytes down"
	stop_terminator "$label"
}

run_original_destination() {
	local label="original destination" want
	start_terminator --mark "$MARK"
	curl_file "$label" "http://203.0.113.80:8080/file.bin"
	log_has "$label" "-> 203.0.113.80:8080: connecting to 203.0.113.80:8080"
	client "$label: half-close, client first" client-first 203.0.113.81 7007
	rm -f "$tmp/server-got"
	client "$label: half-close, server first" server-first 203.0.113.82 7008
	want=${line#OK }
	for _ in $(seq 1 50); do
		[ -f "$tmp/server-got" ] && break
		sleep 0.1
	done
	if [ -f "$tmp/server-got" ] && [ "$(cat "$tmp/server-got")" = "$want" ]; then
		pass "$label: half-close, server first: the server got the client's bytes after its own FIN"
	else
		fail "$label: half-close, server first: the server got '$(cat "$tmp/server-got" 2>/dev/null)', want '$want'"
	fi
	client "$label: refused upstream" reset 203.0.113.83 9
	log_has "$label" "-> 203.0.113.83:9: reset (upstream: Connection refused)"
	client "$label: the stack's own address, a closed port" refused "$EX_ADDR" 5555
	stop_terminator "$label"
}

main() {
	check_example_prerequisites /path/to/tap_terminator "ss command (iproute2)" curl python3
	tmp=$(mktemp -d /tmp/synack-example-term.XXXXXX)
	setup
	run_upstream
	run_original_destination
	finish "example tap_terminator" tap_terminator "$tmp/out.log"
}

main
