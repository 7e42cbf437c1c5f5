#!/bin/bash
# Interop: synack connects to a Linux TCP listener over a TAP device, and a
# connect to a closed Linux port reports ECONNREFUSED.
#
# usage: bash tcp_connect.sh /path/to/synack
#
# Everything happens inside a private network namespace. Needs root,
# /dev/net/tun, iproute2 (ip, ss) and python3; without them the test is
# skipped (exit 77), unless SYNACK_REQUIRE_INTEROP=1, which turns a missing
# prerequisite into a failure.
set -u

SYNACK=${1:-}
NS="sn-tcpc-$$"
TAP=snt0
LINUX_ADDR=10.77.11.1
SYNACK_ADDR=10.77.11.2
PORT=9090
CLOSED_PORT=9091
tmp=""
synack_pid=""
server_pid=""
failures=0

# The shared helpers (pass, fail, missing, the cleanup traps, setup_namespace,
# start_synack_up, stop_synack_checked, ...).
. "$(dirname "$0")/lib/common.bash"

# Called by cleanup (common.bash) from the EXIT trap.
# shellcheck disable=SC2317
stop_background() {
	stop_pid "$server_pid"
	stop_pid "$synack_pid"
}

# The Linux side: listen, report readiness, accept once, record the peer,
# hold the connection until "release" appears, then close.
server_py() {
	cat <<'EOF'
import os, socket, sys, time
addr, port, outdir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def report(line):
    with open(os.path.join(outdir, "server.out"), "a") as f:
        f.write(line + "\n")
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((addr, port))
ls.listen(1)
ls.settimeout(15)
report("LISTENING")
try:
    c, peer = ls.accept()
except OSError as e:
    report("ERROR %s %s" % (type(e).__name__, e))
    sys.exit(1)
report("ACCEPTED %s:%d" % peer)
deadline = time.monotonic() + 10
while not os.path.exists(os.path.join(outdir, "release")) and time.monotonic() < deadline:
    time.sleep(0.05)
c.close()
ls.close()
report("CLOSED")
EOF
}

start_server() {
	server_py >"$tmp/server.py"
	ip netns exec "$NS" python3 "$tmp/server.py" "$LINUX_ADDR" "$PORT" "$tmp" 2>"$tmp/server.err" &
	server_pid=$!
	if ! wait_for_line "$tmp/server.out" '^LISTENING' "$server_pid"; then
		fail "the Linux listener on $LINUX_ADDR:$PORT did not start"
		sed 's/^/  /' "$tmp/server.err"
		exit 1
	fi
}

# synack up --connect $1 with output in $tmp/$2.log; waits for the start line.
start_synack() {
	local target=$1 log=$2
	ip netns exec "$NS" "$SYNACK" up --tap "$TAP" --addr "$SYNACK_ADDR/24" --connect "$target" \
		--pcap "$tmp/$log.pcap" >"$tmp/$log.log" 2>"$tmp/$log.err" &
	synack_pid=$!
	if ! wait_for_line "$tmp/$log.log" "^synack up: tap $TAP " "$synack_pid"; then
		fail "synack up --connect $target did not start"
		sed 's/^/  stderr: /' "$tmp/$log.err"
		exit 1
	fi
}

# Stop synack; $1 is the exit status wanted.
stop_synack() {
	local want=$1 log=$2
	terminate_synack
	if has_sanitizer_report "$tmp/$log.err"; then
		fail "synack up ($log) reported a sanitizer error"
		show_log "$tmp/$log.err" "  stderr: "
	elif [ "$synack_rc" = "$want" ]; then
		pass "synack up exited $synack_rc on SIGTERM"
	else
		fail "synack up exited $synack_rc on SIGTERM, wanted $want"
		show_log "$tmp/$log.err" "  stderr: "
	fi
}

check_connect() {
	start_server
	start_synack "$LINUX_ADDR:$PORT" ok
	local line synack_ep
	if ! wait_for_line "$tmp/ok.log" "^synack up: connect $LINUX_ADDR:$PORT: " "$synack_pid"; then
		fail "synack printed no outcome for --connect $LINUX_ADDR:$PORT"
		return
	fi
	line=$(grep -m1 "^synack up: connect $LINUX_ADDR:$PORT: " "$tmp/ok.log")
	synack_ep=$(echo "$line" | sed -n "s/^synack up: connect [^ ]*: connected from \([0-9.:]*\)$/\1/p")
	if [ -n "$synack_ep" ] && [ "${synack_ep%:*}" = "$SYNACK_ADDR" ]; then
		pass "synack: $line"
	else
		fail "synack: wanted 'connected from $SYNACK_ADDR:PORT', got '$line'"
		return
	fi

	# The Linux listener's view: accept() returned synack's address and port.
	if wait_for_line "$tmp/server.out" '^ACCEPTED' "$server_pid" &&
		grep -q "^ACCEPTED $synack_ep$" "$tmp/server.out"; then
		pass "Linux accept(): peer $synack_ep"
	else
		fail "Linux accept(): wanted peer $synack_ep, got '$(grep -v LISTENING "$tmp/server.out" 2>/dev/null)'"
	fi

	local ss_out
	ss_out=$(ip netns exec "$NS" ss -Htn state established "( sport = :$PORT )")
	if echo "$ss_out" | grep -q "$LINUX_ADDR:$PORT *$synack_ep"; then
		pass "ss: established $LINUX_ADDR:$PORT <- $synack_ep"
	else
		fail "ss: no established $LINUX_ADDR:$PORT <- $synack_ep"
		echo "  ss: ${ss_out:-<nothing>}"
	fi

	# Linux closes; synack notices the FIN and closes its end.
	touch "$tmp/release"
	wait "$server_pid"
	server_pid=""
	if wait_for_line "$tmp/ok.log" "^synack up: connection to $LINUX_ADDR:$PORT closed by the peer" "$synack_pid"; then
		pass "synack saw the Linux side close the connection"
	else
		fail "synack did not report the Linux side's close"
	fi
	stop_synack 0 ok
}

check_refused() {
	start_synack "$LINUX_ADDR:$CLOSED_PORT" refused
	local line
	if ! wait_for_line "$tmp/refused.log" "^synack up: connect $LINUX_ADDR:$CLOSED_PORT: " "$synack_pid"; then
		fail "synack printed no outcome for --connect $LINUX_ADDR:$CLOSED_PORT"
	else
		line=$(grep -m1 "^synack up: connect $LINUX_ADDR:$CLOSED_PORT: " "$tmp/refused.log")
		if [ "$line" = "synack up: connect $LINUX_ADDR:$CLOSED_PORT: Connection refused" ]; then
			pass "closed Linux port: $line"
		else
			fail "closed Linux port: wanted 'Connection refused', got '$line'"
		fi
	fi
	# A failed --connect makes the exit status 1.
	stop_synack 1 refused
	local fails
	fails=$(nstat_value "$tmp/refused.log" TcpAttemptFails)
	if [ "$fails" = 1 ]; then
		pass "nstat counters: TcpAttemptFails 1"
	else
		fail "nstat counters: TcpAttemptFails $fails, wanted 1"
	fi
}

check_capture() {
	have_tshark || return
	local f
	for f in ok refused; do
		read_capture "$tmp/$f.pcap" "$f"
	done
	local synacks rsts
	synacks=$(tshark -n -r "$tmp/ok.pcap" -Y "tcp.srcport == $PORT && tcp.flags.syn == 1 && tcp.flags.ack == 1" 2>/dev/null | wc -l)
	rsts=$(tshark -n -r "$tmp/refused.pcap" -Y "tcp.srcport == $CLOSED_PORT && tcp.flags.reset == 1" 2>/dev/null | wc -l)
	if [ "$synacks" -ge 1 ] && [ "$rsts" -ge 1 ]; then
		pass "captures: Linux's SYN-ACK from :$PORT, Linux's RST from :$CLOSED_PORT"
	else
		fail "captures: $synacks SYN-ACKs from :$PORT, $rsts RSTs from :$CLOSED_PORT (want >= 1 each)"
	fi
}

main() {
	check_common_prerequisites "ss command (iproute2)" "python3 (the Linux-side TCP listener)"
	tmp=$(mktemp -d /tmp/synack-tcp-connect.XXXXXX)
	setup_namespace
	check_connect
	check_refused
	check_capture
	if [ "$failures" = 0 ]; then
		echo "PASS: tcp_connect"
		exit 0
	fi
	echo "FAIL: tcp_connect ($failures checks failed)"
	for f in ok refused; do
		[ -f "$tmp/$f.log" ] || continue
		echo "--- synack output, $f (last 30 lines) ---"
		tail -n 30 "$tmp/$f.log"
	done
	exit 1
}

main
