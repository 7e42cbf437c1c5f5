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

# The shared helpers (pass, fail, missing, the cleanup traps, setup_namespace,
# start_synack_up, stop_synack_checked, ...).
. "$(dirname "$0")/lib/common.bash"

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
	start_synack_up "synack up" "^synack up: tap $TAP " --pcap "$tmp/cap.pcap"
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

# No sanitizer check here, only the exit status.
stop_synack() {
	terminate_synack
	if [ "$synack_rc" = 0 ]; then
		pass "synack up exited 0 on SIGTERM"
	else
		fail "synack up exited $synack_rc on SIGTERM"
		show_log "$tmp/err.log" "  stderr: "
	fi
}

check_counters() {
	local echos
	echos=$(nstat_value "$tmp/out.log" IcmpInEchos)
	if [ "$echos" -ge 3 ]; then
		pass "nstat counters: IcmpInEchos $echos"
	else
		fail "nstat counters: IcmpInEchos $echos, wanted 3 or more"
	fi
}

check_capture() {
	have_tshark || return
	read_capture "$tmp/cap.pcap" || return
	local replies
	replies=$(tshark -n -r "$tmp/cap.pcap" -Y "icmp.type == 0" 2>/dev/null | wc -l)
	if [ "$replies" -ge 3 ]; then
		pass "capture: $(echo "$capture_frames" | wc -l) frames, none malformed, $replies echo replies"
	else
		fail "capture: $replies echo replies, wanted 3 or more"
	fi
}

main() {
	check_common_prerequisites "ping command"
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
	finish ping_tap synack "$tmp/out.log"
}

main
