#!/bin/bash
# Interop: the Linux kernel's TCP client connects to synack's listener over a
# TAP device, and a SYN to a closed synack port is refused with a RST.
#
# usage: bash tcp_listen.sh /path/to/synack
#
# Everything happens inside a private network namespace. Needs root,
# /dev/net/tun, iproute2 (ip, ss) and python3; without them the test is
# skipped (exit 77), unless SYNACK_REQUIRE_INTEROP=1, which turns a missing
# prerequisite into a failure.
set -u

SYNACK=${1:-}
NS="sn-tcpl-$$"
TAP=snt0
LINUX_ADDR=10.77.10.1
SYNACK_ADDR=10.77.10.2
PORT=8080
CLOSED_PORT=8081
tmp=""
synack_pid=""
client_pid=""
failures=0

# pass, fail, missing, stop_pid, cleanup and its traps, check_common_prerequisites,
# setup_namespace, wait_for_output.
. "$(dirname "$0")/lib/common.bash"

# Called by cleanup (common.bash) from the EXIT trap.
# shellcheck disable=SC2317
stop_background() {
	stop_pid "$client_pid"
	stop_pid "$synack_pid"
}

check_prerequisites() {
	check_common_prerequisites
	command -v ss >/dev/null || missing "no ss command (iproute2)"
	command -v python3 >/dev/null || missing "no python3 (the Linux-side TCP client)"
}

start_synack() {
	ip netns exec "$NS" "$SYNACK" up --tap "$TAP" --addr "$SYNACK_ADDR/24" --listen "$PORT" \
		--pcap "$tmp/cap.pcap" >"$tmp/out.log" 2>"$tmp/err.log" &
	synack_pid=$!
	if ! wait_for_output "^synack up: listening on 0.0.0.0:$PORT$" 50; then
		fail "synack up --listen $PORT did not start"
		sed 's/^/  stderr: /' "$tmp/err.log"
		exit 1
	fi
}

# The Linux side: connect, check getpeername, report, and hold the
# connection open until told to close (the file "release" appears).
client_py() {
	cat <<'EOF'
import os, socket, sys, time
addr, port, outdir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def report(line):
    with open(os.path.join(outdir, "client.out"), "a") as f:
        f.write(line + "\n")
try:
    s = socket.create_connection((addr, port), timeout=5)
except OSError as e:
    report("ERROR %s %s" % (type(e).__name__, e))
    sys.exit(1)
peer, local = s.getpeername(), s.getsockname()
report("CONNECTED %s:%d %s:%d" % (local[0], local[1], peer[0], peer[1]))
deadline = time.monotonic() + 10
while not os.path.exists(os.path.join(outdir, "release")) and time.monotonic() < deadline:
    time.sleep(0.05)
s.close()
report("CLOSED")
EOF
}

# Connect to a port expected to be closed: prints the outcome.
refused_client_py() {
	cat <<'EOF'
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
    print("CONNECTED")
except ConnectionRefusedError as e:
    print("REFUSED %s" % e)
except OSError as e:
    print("ERROR %s %s" % (type(e).__name__, e))
EOF
}

wait_for_client() {
	local pattern=$1
	for _ in $(seq 1 80); do
		grep -q -- "$pattern" "$tmp/client.out" 2>/dev/null && return 0
		kill -0 "$client_pid" 2>/dev/null || break
		sleep 0.1
	done
	grep -q -- "$pattern" "$tmp/client.out" 2>/dev/null
}

check_accept() {
	client_py >"$tmp/client.py"
	ip netns exec "$NS" python3 "$tmp/client.py" "$SYNACK_ADDR" "$PORT" "$tmp" 2>"$tmp/client.err" &
	client_pid=$!
	if ! wait_for_client '^\(CONNECTED\|ERROR\)'; then
		fail "Linux client: no outcome from connect() to $SYNACK_ADDR:$PORT"
		sed 's/^/  /' "$tmp/client.err"
		return
	fi
	local line local_ep peer_ep lport
	line=$(grep -m1 '^\(CONNECTED\|ERROR\)' "$tmp/client.out")
	if [ "${line%% *}" != CONNECTED ]; then
		fail "Linux client: connect() to $SYNACK_ADDR:$PORT failed: $line"
		return
	fi
	read -r _ local_ep peer_ep <<<"$line"
	lport=${local_ep##*:}
	if [ "$peer_ep" = "$SYNACK_ADDR:$PORT" ] && [ "${local_ep%:*}" = "$LINUX_ADDR" ]; then
		pass "Linux connect() to synack: connected, getpeername $peer_ep, local $local_ep"
	else
		fail "Linux connect(): getpeername $peer_ep, local $local_ep"
	fi

	# The kernel's view while the connection is open.
	local ss_out
	ss_out=$(ip netns exec "$NS" ss -Htn state established "( dport = :$PORT )")
	if echo "$ss_out" | grep -q "$LINUX_ADDR:$lport *$SYNACK_ADDR:$PORT"; then
		pass "ss: established $LINUX_ADDR:$lport -> $SYNACK_ADDR:$PORT"
	else
		fail "ss: no established $LINUX_ADDR:$lport -> $SYNACK_ADDR:$PORT"
		echo "  ss: ${ss_out:-<nothing>}"
	fi

	# synack's view: it printed the peer it accepted.
	if wait_for_output "^synack up: accepted $LINUX_ADDR:$lport on port $PORT$" 30; then
		pass "synack printed: accepted $LINUX_ADDR:$lport on port $PORT"
	else
		fail "synack did not print 'accepted $LINUX_ADDR:$lport on port $PORT'"
	fi

	# The Linux side closes; synack notices and closes its end.
	touch "$tmp/release"
	wait "$client_pid"
	client_pid=""
	if wait_for_output "^synack up: connection from $LINUX_ADDR:$lport closed by the peer" 30; then
		pass "synack saw the peer close the connection"
	else
		fail "synack did not report the peer's close"
	fi
}

check_refused() {
	refused_client_py >"$tmp/refused.py"
	local out
	out=$(ip netns exec "$NS" timeout 10 python3 "$tmp/refused.py" "$SYNACK_ADDR" "$CLOSED_PORT" 2>&1)
	if [ "${out%% *}" = REFUSED ]; then
		pass "connect() to closed port $CLOSED_PORT: ConnectionRefusedError ($out)"
	else
		fail "connect() to closed port $CLOSED_PORT: wanted ConnectionRefusedError, got '$out'"
	fi
}

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
		pass "synack up exited 0 on SIGTERM"
	else
		fail "synack up exited $rc on SIGTERM"
		sed 's/^/  stderr: /' "$tmp/err.log"
	fi
}

counter() {
	awk -v name="$1" '$1 == name { v = $2 } END { print v + 0 }' "$tmp/out.log"
}

check_counters() {
	local passive rsts
	passive=$(counter TcpPassiveOpens)
	rsts=$(counter TcpOutRsts)
	if [ "$passive" -ge 1 ] && [ "$rsts" -ge 1 ]; then
		pass "nstat counters: TcpPassiveOpens $passive, TcpOutRsts $rsts"
	else
		fail "nstat counters: TcpPassiveOpens $passive (want >= 1), TcpOutRsts $rsts (want >= 1)"
	fi
}

check_capture() {
	if ! command -v tshark >/dev/null; then
		[ "${SYNACK_REQUIRE_INTEROP:-0}" = 1 ] && { fail "tshark is not installed"; return; }
		echo "note: tshark is not installed; capture not checked"
		return
	fi
	local all synacks rsts
	if ! all=$(tshark -n -r "$tmp/cap.pcap" 2>"$tmp/tshark.err"); then
		fail "tshark cannot read the capture"
		sed 's/^/  /' "$tmp/tshark.err"
		return
	fi
	if echo "$all" | grep -qi malformed; then
		fail "capture has malformed packets"
		echo "$all" | grep -i malformed | sed 's/^/  /'
		return
	fi
	synacks=$(tshark -n -r "$tmp/cap.pcap" -Y "tcp.srcport == $PORT && tcp.flags.syn == 1 && tcp.flags.ack == 1" 2>/dev/null | wc -l)
	rsts=$(tshark -n -r "$tmp/cap.pcap" -Y "tcp.srcport == $CLOSED_PORT && tcp.flags.reset == 1" 2>/dev/null | wc -l)
	if [ "$synacks" -ge 1 ] && [ "$rsts" -ge 1 ]; then
		pass "capture: $(echo "$all" | wc -l) frames, none malformed; SYN-ACK from :$PORT, RST from :$CLOSED_PORT"
	else
		fail "capture: $synacks SYN-ACKs from :$PORT, $rsts RSTs from :$CLOSED_PORT (want >= 1 each)"
	fi
}

main() {
	check_prerequisites
	tmp=$(mktemp -d /tmp/synack-tcp-listen.XXXXXX)
	setup_namespace
	start_synack
	check_accept
	check_refused
	stop_synack
	check_counters
	check_capture
	if [ "$failures" = 0 ]; then
		echo "PASS: tcp_listen"
		exit 0
	fi
	echo "FAIL: tcp_listen ($failures checks failed)"
	echo "--- synack output (last 40 lines) ---"
	tail -n 40 "$tmp/out.log"
	exit 1
}

main
