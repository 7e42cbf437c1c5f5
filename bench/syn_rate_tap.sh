#!/bin/bash
# synack answering spoofed SYNs with cookies through a TAP device, measured
# the way bench/linux_syn_rate.sh measures the Linux kernel, so the two
# figures compare: `synack up` listens on a TAP device in a private network
# namespace with tcp_syncookies=1 (backlog 128, so the SYN queue is full
# within the first milliseconds), and `hping3 --flood` in that namespace
# sends SYNs from one spoofed address of the namespace's own subnet (ports
# vary) for DURATION seconds. The kernel answers ARP for the spoofed
# address (proxy ARP), so synack's SYN-ACKs leave at once and the kernel
# drops them (they are not for it, and it does not forward). synack's
# TcpExtSyncookiesSent over that time is the rate; its CPU time is printed
# too, which says what the rate costs it.
#
# Like the kernel's figure this one is sender-bound: hping3 makes a system
# call per SYN, and the kernel's TAP path and synack share the two cores.
#
# usage: bash syn_rate_tap.sh SYNACK_BINARY [DURATION]  (root; SKIP otherwise)
set -u

SYNACK=${1:-}
DURATION=${2:-3}
NS="sn-bench-tap-$$"
TAP=snb0
LINUX_ADDR=10.77.41.1
SYNACK_ADDR=10.77.41.2
SPOOF=10.77.41.77
PORT=8080
tmp=$(mktemp -d /tmp/synack-syn-rate.XXXXXX)
synack_pid=""

skip() {
	echo "SKIP: $*"
	exit 0
}

# shellcheck disable=SC2317 # called through the EXIT trap
cleanup() {
	[ -n "$synack_pid" ] && kill "$synack_pid" 2>/dev/null && wait "$synack_pid" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

[ -x "$SYNACK" ] || skip "no synack binary given"
[ "$(id -u)" = 0 ] || skip "the TAP flood needs root (network namespaces)"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
for cmd in ip hping3 timeout; do
	command -v "$cmd" >/dev/null || skip "no $cmd"
done

ip netns add "$NS" || skip "cannot create a network namespace"
ip -n "$NS" link set lo up
ip netns exec "$NS" ip tuntap add dev "$TAP" mode tap || skip "cannot create a TAP device"
ip -n "$NS" addr add "$LINUX_ADDR/24" dev "$TAP"
ip -n "$NS" link set "$TAP" mtu 1500 up
ip netns exec "$NS" sysctl -qw "net.ipv6.conf.$TAP.disable_ipv6=1" 2>/dev/null || true
# Proxy ARP for the spoofed address: the kernel answers for an address it
# routes out of another interface while it forwards, so synack's SYN-ACKs
# leave and die in the kernel much as the veth figure's do. The other
# interface is one end of a veth pair inside the namespace, with a made-up
# neighbour address: the far end drops the frames as not its own.
ip -n "$NS" link add snv0 type veth peer name snv1 || skip "cannot create a veth pair"
ip -n "$NS" link set snv0 up
ip -n "$NS" link set snv1 up
ip -n "$NS" route add "$SPOOF/32" dev snv0
ip -n "$NS" neigh replace "$SPOOF" lladdr 02:00:00:00:77:77 dev snv0 nud permanent
ip netns exec "$NS" sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$NS" sysctl -qw "net.ipv4.neigh.$TAP.proxy_delay=0"
ip -n "$NS" neigh add proxy "$SPOOF" dev "$TAP"

ip netns exec "$NS" "$SYNACK" up --tap "$TAP" --addr "$SYNACK_ADDR/24" --listen "$PORT" --quiet \
	--sysctl net.ipv4.tcp_syncookies=1 >"$tmp/out.log" 2>"$tmp/err.log" &
synack_pid=$!
for _ in $(seq 1 50); do
	grep -q "listening on" "$tmp/out.log" && break
	sleep 0.1
done
grep -q "listening on" "$tmp/out.log" || skip "synack up did not start: $(head -c 300 "$tmp/err.log")"
# The kernel learns synack's MAC before the clock starts.
ip netns exec "$NS" ping -c 1 -W 1 "$SYNACK_ADDR" >/dev/null 2>&1

# counter NAME: the newest value synack printed for NAME after a SIGUSR1.
counter() {
	local before
	before=$(grep -c '^#kernel' "$tmp/out.log")
	kill -USR1 "$synack_pid"
	for _ in $(seq 1 50); do
		[ "$(grep -c '^#kernel' "$tmp/out.log")" -gt "$before" ] && break
		sleep 0.05
	done
	awk -v n="$1" '$1 == n { v = $2 } END { print v + 0 }' "$tmp/out.log"
}

# synack's user + system CPU time, in clock ticks.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$synack_pid/stat"
}

tx_packets() {
	ip netns exec "$NS" cat "/sys/class/net/$TAP/statistics/tx_packets"
}

sent0=$(counter TcpExtSyncookiesSent)
frames0=$(counter LinkTxFrames)
cpu0=$(cpu_ticks)
tx0=$(tx_packets)
ip netns exec "$NS" timeout "$DURATION" hping3 --flood -q -S -p "$PORT" -a "$SPOOF" "$SYNACK_ADDR" >/dev/null 2>&1
tx1=$(tx_packets)
sleep 0.2 # what is still queued on the TAP is answered
cpu1=$(cpu_ticks)
sent1=$(counter TcpExtSyncookiesSent)
cookies=$((sent1 - sent0))
frames=$(($(counter LinkTxFrames) - frames0))
awk -v c="$cookies" -v t="$((tx1 - tx0))" -v d="$DURATION" -v cpu="$((cpu1 - cpu0))" \
	-v hz="$(getconf CLK_TCK)" -v f="$frames" 'BEGIN {
	s = cpu / hz
	printf "synack-tap: answered %d of %d spoofed SYNs with a cookie in %d s: %.0f SYNs/s " \
		"(sender-bound: hping3 --flood through a TAP device, sharing the cores); " \
		"synack used %.2f s of CPU: %.0f SYNs per CPU second; it wrote %d frames\n", c, t, d, c / d, s, (s > 0 ? c / s : 0), f
}'
[ "$cookies" -gt 0 ] && [ "$frames" -ge "$cookies" ]
