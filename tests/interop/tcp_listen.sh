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

# The shared helpers (pass, fail, missing, the cleanup traps, setup_namespace,
# start_synack_up, stop_synack_checked, ...).
. "$(dirname "$0")/lib/common.bash"

# Called by cleanup (common.bash) from the EXIT trap.
# shellcheck disable=SC2317
stop_background() {
	stop_pid "$client_pid"
	stop_pid "$synack_pid"
}

start_synack() {
	start_synack_up "synack up --listen $PORT" "^synack up: listening on 0.0.0.0:$PORT$" \
		--listen "$PORT" --pcap "$tmp/cap.pcap"
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
	wait_for_line "$tmp/client.out" "$1" "$client_pid" 80
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

check_counters() {
	local passive rsts
	passive=$(nstat_value "$tmp/out.log" TcpPassiveOpens)
	rsts=$(nstat_value "$tmp/out.log" TcpOutRsts)
	if [ "$passive" -ge 1 ] && [ "$rsts" -ge 1 ]; then
		pass "nstat counters: TcpPassiveOpens $passive, TcpOutRsts $rsts"
	else
		fail "nstat counters: TcpPassiveOpens $passive (want >= 1), TcpOutRsts $rsts (want >= 1)"
	fi
}

check_capture() {
	have_tshark || return
	read_capture "$tmp/cap.pcap" || return
	local synacks rsts
	synacks=$(tshark -n -r "$tmp/cap.pcap" -Y "tcp.srcport == $PORT && tcp.flags.syn == 1 && tcp.flags.ack == 1" 2>/dev/null | wc -l)
	rsts=$(tshark -n -r "$tmp/cap.pcap" -Y "tcp.srcport == $CLOSED_PORT && tcp.flags.reset == 1" 2>/dev/null | wc -l)
	if [ "$synacks" -ge 1 ] && [ "$rsts" -ge 1 ]; then
		pass "capture: $(echo "$capture_frames" | wc -l) frames, none malformed; SYN-ACK from :$PORT, RST from :$CLOSED_PORT"
	else
		fail "capture: $synacks SYN-ACKs from :$PORT, $rsts RSTs from :$CLOSED_PORT (want >= 1 each)"
	fi
}

main() {
	check_common_prerequisites "ss command (iproute2)" "python3 (the Linux-side TCP client)"
	tmp=$(mktemp -d /tmp/synack-tcp-listen.XXXXXX)
	setup_namespace
	start_synack
	check_accept
	check_refused
	stop_synack_checked "synack up" "$tmp/err.log" "  stderr: "
	check_counters
	check_capture
	finish tcp_listen synack "$tmp/out.log"
}

main
