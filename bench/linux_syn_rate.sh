#!/bin/bash
# The comparison peer for bench/syn_flood's rate: the Linux kernel answering
# spoofed SYNs with cookies. Two private network namespaces joined by a veth
# pair; in the server one a listener (python3, backlog 128) with
# tcp_syncookies=1, and a permanent neighbour entry for the spoofed source
# so its SYN-ACKs leave at once instead of waiting on ARP; in the other
# `hping3 --flood` sends SYNs from one spoofed address inside the pair's own
# subnet (ports vary) for DURATION seconds. The kernel's TcpExtSyncookiesSent
# over that time is its rate.
#
# The figure is sender-bound: hping3 makes one system call per SYN and the
# kernel's receive path runs on the same two cores, so it says how much the
# kernel answered under this sender, not its ceiling.
#
# usage: bash linux_syn_rate.sh [DURATION]   (root; prints SKIP otherwise)
set -u

DURATION=${1:-3}
NS_A="sn-bench-a-$$"
NS_B="sn-bench-b-$$"
A_ADDR=10.77.40.1
B_ADDR=10.77.40.2
SPOOF=10.77.40.77
PORT=8080
listener_pid=""

skip() {
	echo "SKIP: $*"
	exit 0
}

# shellcheck disable=SC2317 # called through the EXIT trap
cleanup() {
	[ -n "$listener_pid" ] && kill "$listener_pid" 2>/dev/null && wait "$listener_pid" 2>/dev/null
	ip netns del "$NS_A" 2>/dev/null
	ip netns del "$NS_B" 2>/dev/null
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || skip "the Linux comparison needs root (network namespaces)"
for cmd in ip hping3 python3 nstat timeout; do
	command -v "$cmd" >/dev/null || skip "no $cmd"
done

{ ip netns add "$NS_A" && ip netns add "$NS_B"; } || skip "cannot create network namespaces"
ip link add veth-sa netns "$NS_A" type veth peer name veth-sb netns "$NS_B" || skip "cannot create a veth pair"
ip -n "$NS_A" addr add "$A_ADDR/24" dev veth-sa
ip -n "$NS_B" addr add "$B_ADDR/24" dev veth-sb
ip -n "$NS_A" link set veth-sa up
ip -n "$NS_B" link set veth-sb up
ip -n "$NS_A" link set lo up
ip -n "$NS_B" link set lo up
mac_a=$(ip -n "$NS_A" -o link show veth-sa | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
ip -n "$NS_B" neigh replace "$SPOOF" lladdr "$mac_a" dev veth-sb nud permanent
ip netns exec "$NS_B" sysctl -qw net.ipv4.tcp_syncookies=1

ip netns exec "$NS_B" python3 -c "
import socket, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('$B_ADDR', $PORT))
s.listen(128)
time.sleep(3600)
" &
listener_pid=$!
for _ in $(seq 1 50); do
	ip netns exec "$NS_B" ss -Hltn "sport = :$PORT" | grep -q . && break
	sleep 0.1
done

counter() {
	ip netns exec "$NS_B" nstat -az -s "$1" | awk -v n="$1" '$1 == n { print $2 }'
}

tx_packets() {
	ip netns exec "$NS_A" cat /sys/class/net/veth-sa/statistics/tx_packets
}

sent0=$(counter TcpExtSyncookiesSent)
tx0=$(tx_packets)
ip netns exec "$NS_A" timeout "$DURATION" hping3 --flood -q -S -p "$PORT" -a "$SPOOF" "$B_ADDR" >/dev/null 2>&1
tx1=$(tx_packets)
sent1=$(counter TcpExtSyncookiesSent)
cookies=$((sent1 - sent0))
awk -v c="$cookies" -v t="$((tx1 - tx0))" -v d="$DURATION" -v k="$(uname -r)" 'BEGIN {
	printf "linux: kernel %s answered %d of %d spoofed SYNs with a cookie in %d s: %.0f SYNs/s " \
		"(sender-bound: hping3 --flood over veth, sharing the cores)\n", k, c, t, d, c / d
}'
[ "$cookies" -gt 0 ]
