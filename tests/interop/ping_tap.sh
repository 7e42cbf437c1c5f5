#!/bin/bash
# Interop: the Linux kernel pings synack over a TAP device.
#
# usage: bash ping_tap.sh /path/to/synack
#
# Everything happens inside a private network namespace. Needs root and
# /dev/net/tun; without them the test is skipped (exit 77), unless
# SYNACK_REQUIRE_INTEROP=1, which turns a missing prerequisite into a failure.
set -u

SYNACK=${1:-}
NS="sn-ping-$$"
TAP=snt0
LINUX_ADDR=10.77.0.1
SYNACK_ADDR=10.77.0.2
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
	command -v ping >/dev/null || missing "no ping command"
}

# Overrides common.bash's setup_namespace: no MTU set, IPv6 left on.
setup_namespace() {
	ip netns add "$NS" 2>/dev/null || missing "cannot create a network namespace"
	ip -n "$NS" link set lo up &&
		ip netns exec "$NS" ip tuntap add dev "$TAP" mode tap &&
		ip -n "$NS" addr add "$LINUX_ADDR/24" dev "$TAP" &&
		ip -n "$NS" link set "$TAP" up ||
		missing "cannot create TAP device $TAP in namespace $NS"
}

start_synack() {
	ip netns exec "$NS" "$SYNACK" up --tap "$TAP" --addr "$SYNACK_ADDR/24" --pcap "$tmp/cap.pcap" \
		>"$tmp/out.log" 2>"$tmp/err.log" &
	synack_pid=$!
	for _ in $(seq 1 50); do
		grep -q "^synack up: tap $TAP " "$tmp/out.log" 2>/dev/null && return 0
		kill -0 "$synack_pid" 2>/dev/null || break
		sleep 0.1
	done
	fail "synack up did not start"
	sed 's/^/  stderr: /' "$tmp/err.log"
	exit 1
}

synack_mac() {
	sed -n "s/^synack up: tap $TAP addr [^ ]* mac \([0-9a-f:]*\)$/\1/p" "$tmp/out.log" | head -n 1
}

# The first echo may be lost while the kernel resolves synack's address.
warm_up_arp() {
	for _ in 1 2 3; do
		ip netns exec "$NS" ping -c 1 -W 1 "$SYNACK_ADDR" >/dev/null 2>&1 && return 0
	done
	return 1
}

check_ping() {
	warm_up_arp || echo "note: warm-up ping got no reply"
	local out
	out=$(ip netns exec "$NS" ping -c 3 -W 1 -i 0.2 "$SYNACK_ADDR" 2>&1)
	if echo "$out" | grep -q "3 packets transmitted, 3 received"; then
		pass "ping: 3 of 3 echo replies"
	else
		fail "ping: expected 3 replies"
		echo "$out" | sed 's/^/  /'
	fi
}

check_neigh() {
	local mac=$1 neigh
	neigh=$(ip -n "$NS" neigh show "$SYNACK_ADDR" dev "$TAP")
	if [ -n "$mac" ] && echo "$neigh" | grep -qi "lladdr $mac"; then
		pass "ip neigh: $SYNACK_ADDR is at synack's MAC $mac"
	else
		fail "ip neigh: wanted lladdr '$mac', got '$neigh'"
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
	if [ "$rc" = 0 ]; then
		pass "synack up exited 0 on SIGTERM"
	else
		fail "synack up exited $rc on SIGTERM"
		sed 's/^/  stderr: /' "$tmp/err.log"
	fi
}

check_counters() {
	local echos
	echos=$(awk '$1 == "IcmpInEchos" { v = $2 } END { print v + 0 }' "$tmp/out.log")
	if [ "$echos" -ge 3 ]; then
		pass "nstat counters: IcmpInEchos $echos"
	else
		fail "nstat counters: IcmpInEchos $echos, wanted 3 or more"
	fi
}

check_capture() {
	if ! command -v tshark >/dev/null; then
		[ "${SYNACK_REQUIRE_INTEROP:-0}" = 1 ] && { fail "tshark is not installed"; return; }
		echo "note: tshark is not installed; capture not checked"
		return
	fi
	local all replies
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
	replies=$(tshark -n -r "$tmp/cap.pcap" -Y "icmp.type == 0" 2>/dev/null | wc -l)
	if [ "$replies" -ge 3 ]; then
		pass "capture: $(echo "$all" | wc -l) frames, none malformed, $replies echo replies"
	else
		fail "capture: $replies echo replies, wanted 3 or more"
	fi
}

main() {
	check_prerequisites
	tmp=$(mktemp -d /tmp/synack-ping-tap.XXXXXX)
	setup_namespace
	start_synack
	local mac
	mac=$(synack_mac)
	check_ping
	check_neigh "$mac"
	stop_synack
	check_counters
	check_capture
	if [ "$failures" = 0 ]; then
		echo "PASS: ping_tap"
		exit 0
	fi
	echo "FAIL: ping_tap ($failures checks failed)"
	echo "--- synack output (last 40 lines) ---"
	tail -n 40 "$tmp/out.log"
	exit 1
}

main
