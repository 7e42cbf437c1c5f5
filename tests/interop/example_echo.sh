#!/bin/bash
# Interop: the echo server example (examples/echo_server.c; example_uv_echo.sh
# runs this script on examples/uv_echo.c) on a TAP device, against Linux
# clients in python3:
#   - a short message comes back, and the server closes after the client's FIN;
#   - 8 MiB sent while reading come back whole (SHA-256 compared);
#   - eight clients at once each get their own 1 MiB back;
#   - a client that resets is closed by the server;
#   - the server logs every connection, no Linux connection is left behind,
#     and SIGTERM stops it with exit 0 (and clean sanitizers).
#
# usage: bash example_echo.sh /path/to/echo_server [NAME]
#
# Everything happens inside a private network namespace. Needs root,
# /dev/net/tun, iproute2 (ip, ss) and python3; without them the test is
# skipped (exit 77), unless SYNACK_REQUIRE_INTEROP=1, which turns a missing
# prerequisite into a failure. SYNACK_EXAMPLE_BYTES overrides the 8 MiB.
set -u

BIN=${1:-}
NAME=${2:-echo_server}
NS="sn-ex-echo-$$"
TAP=sxe0
LINUX_ADDR=10.77.30.1
EX_ADDR=10.77.30.2
PORT=7
BYTES=${SYNACK_EXAMPLE_BYTES:-8388608}
CLIENTS=8
tmp=""
synack_pid=""
failures=0

# The shared helpers (pass, fail, missing, the cleanup traps, setup_namespace,
# start_example, stop_synack_checked, ...).
. "$(dirname "$0")/lib/common.bash"

# The Linux clients. Modes: small; big BYTES; many N BYTES; reset.
# Prints one line: "OK ..." or "BAD ...".
client_py() {
	cat <<'EOF'
import hashlib, os, socket, struct, sys, threading

host, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]

def echo(data):
    """Send data while reading, then SHUT_WR; return what came back before EOF."""
    s = socket.create_connection((host, port), timeout=60)
    got, err = [], []
    def reader():
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    return
                got.append(b)
        except OSError as e:
            err.append(e)
    t = threading.Thread(target=reader)
    t.start()
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    t.join()
    s.close()
    if err:
        raise err[0]
    return b"".join(got)

def check(data):
    back = echo(data)
    a, b = hashlib.sha256(data).hexdigest(), hashlib.sha256(back).hexdigest()
    return a == b, "%d bytes sha256 %s, got %d bytes sha256 %s" % (len(data), a, len(back), b)

if mode == "small":
    ok, what = check(b"hello from linux\n")
    print(("OK " if ok else "BAD ") + what)
elif mode == "big":
    ok, what = check(os.urandom(int(sys.argv[4])))
    print(("OK " if ok else "BAD ") + what)
elif mode == "many":
    n, size = int(sys.argv[4]), int(sys.argv[5])
    results = [None] * n
    def one(i):
        try:
            results[i] = check(os.urandom(size))
        except OSError as e:
            results[i] = (False, repr(e))
    ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    bad = [w for ok, w in results if not ok]
    print("OK %d clients, %d bytes each" % (n, size) if not bad else "BAD " + "; ".join(bad))
elif mode == "reset":
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(b"x" * 1000)
    s.recv(1000)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    print("OK reset sent")
EOF
}

start_server() {
	start_example "$NAME" "listening on" "$PORT"
	pass "$NAME started: $(grep -m1 'listening on' "$tmp/out.log")"
}

# run_client LABEL ARGS...: the python client must print OK.
run_client() {
	local label=$1 line
	shift
	line=$(ip netns exec "$NS" timeout 120 python3 "$tmp/client.py" "$EX_ADDR" "$PORT" "$@" 2>&1 | tail -n 1)
	case "$line" in
	OK*) pass "$label: $line" ;;
	*) fail "$label: ${line:-no output}" ;;
	esac
}

# wait_log PATTERN COUNT: up to 5 s for COUNT lines matching PATTERN.
wait_log() {
	for _ in $(seq 1 50); do
		[ "$(grep -c -- "$1" "$tmp/out.log")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

check_server_log() {
	local conns=$((2 + CLIENTS + 1))
	if wait_log "accepted $LINUX_ADDR:" "$conns" && wait_log "closed after" "$conns"; then
		pass "$NAME logged $conns connections accepted and closed"
	else
		fail "$NAME logged $(grep -c accepted "$tmp/out.log") accepted and $(grep -c 'closed after' "$tmp/out.log") closed (want $conns)"
	fi
	if grep -q "closed after $BYTES bytes$" "$tmp/out.log"; then
		pass "$NAME echoed all $BYTES bytes of the big transfer"
	else
		fail "$NAME did not log the big transfer as $BYTES bytes echoed"
	fi
	if grep -q "closed after [0-9]* bytes: Connection reset by peer" "$tmp/out.log"; then
		pass "$NAME closed the client that reset"
	else
		fail "$NAME did not log the reset"
	fi
}

check_linux_clean() {
	if wait_ss_clean "( dport = :$PORT )"; then
		pass "no Linux connection left but TIME-WAIT"
	else
		fail "Linux connections left:"
		sed 's/^/  /' <<<"$ss_left"
	fi
}

main() {
	check_example_prerequisites "/path/to/echo_server [NAME]" "ss command (iproute2)" python3
	tmp=$(mktemp -d /tmp/synack-example-echo.XXXXXX)
	client_py >"$tmp/client.py"
	setup_namespace
	start_server
	run_client "short message" small
	run_client "$BYTES bytes" big "$BYTES"
	run_client "$CLIENTS clients at once" many "$CLIENTS" 1048576
	run_client "a client that resets" reset
	check_server_log
	check_linux_clean
	stop_synack_checked "$NAME" "$tmp/out.log" "  " 30
	finish "example $NAME" "$NAME" "$tmp/out.log"
}

main
