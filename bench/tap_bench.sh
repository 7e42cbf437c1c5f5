#!/bin/bash
# Figures 3 and 6 of issue 7, against the Linux kernel:
#   bulk    - one connection, one direction: synack <-> Linux over a TAP
#             device (with the TAP offloads and with --no-offload), and
#             Linux <-> Linux over a veth pair in the same run, both
#             directions; the receiver's rate, the median of ROUNDS runs.
#   latency - 1-byte request/response round trips, p50/p99: synack over
#             TAP against a Linux echo server, and Linux against Linux over
#             veth (the same client code). In memory, `latency mem` needs
#             no root; bench/run.sh runs it next to this.
# The programs are bench/tap_bulk.c and bench/latency.c; this script makes
# the private network namespaces they run in (a TAP device in one, a veth
# pair between two others) and removes them at exit. No traffic leaves them.
#
# usage: bash tap_bench.sh BUILD_DIR [ROUNDS]   (root; prints SKIP otherwise)
set -u

build=${1:-build}
ROUNDS=${2:-3}
MIB_FAST=2048           # veth and TAP with offloads
MIB_PLAIN=512           # TAP without offloads
LAT_ROUNDS=20000
NS_T="sn-tapb-t-$$"     # synack's TAP and the Linux peer
NS_A="sn-tapb-a-$$"     # veth, client side
NS_B="sn-tapb-b-$$"     # veth, server side
TAP=sntb0
T_LINUX=10.77.50.1
T_SYNACK=10.77.50.2
V_A=10.77.51.1
V_B=10.77.51.2
PORT=5201
bg_pid=""
tmp=""

skip() {
	echo "SKIP: $*"
	exit 0
}

# shellcheck disable=SC2317 # called through the EXIT trap
cleanup() {
	[ -n "$bg_pid" ] && kill "$bg_pid" 2>/dev/null && wait "$bg_pid" 2>/dev/null
	for ns in "$NS_T" "$NS_A" "$NS_B"; do
		ip netns del "$ns" 2>/dev/null
	done
	[ -n "$tmp" ] && rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

[ "$(id -u)" = 0 ] || skip "the TAP and veth benches need root (network namespaces)"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
command -v ip >/dev/null || skip "no ip command (iproute2)"
for b in tap_bulk latency; do
	[ -x "$build/bench/$b" ] || { echo "tap_bench: $build/bench/$b is missing" >&2; exit 1; }
done
tmp=$(mktemp -d /tmp/synack-tapb.XXXXXX)

# ------------------------------------------------------------- setup

{ ip netns add "$NS_T" && ip netns add "$NS_A" && ip netns add "$NS_B"; } || skip "cannot create network namespaces"
for ns in "$NS_T" "$NS_A" "$NS_B"; do
	ip -n "$ns" link set lo up
done
ip netns exec "$NS_T" ip tuntap add dev "$TAP" mode tap || skip "cannot create a TAP device"
ip -n "$NS_T" addr add "$T_LINUX/24" dev "$TAP"
ip -n "$NS_T" link set "$TAP" mtu 1500 up
ip netns exec "$NS_T" sysctl -qw "net.ipv6.conf.$TAP.disable_ipv6=1" 2>/dev/null
ip link add veth-tba netns "$NS_A" type veth peer name veth-tbb netns "$NS_B" || skip "cannot create a veth pair"
ip -n "$NS_A" addr add "$V_A/24" dev veth-tba
ip -n "$NS_B" addr add "$V_B/24" dev veth-tbb
ip -n "$NS_A" link set veth-tba mtu 1500 up
ip -n "$NS_B" link set veth-tbb mtu 1500 up

# serve NS READY_PATTERN CMD...: CMD in the background in NS, its output in
# $tmp/serve.log; waits up to 5 s for READY_PATTERN.
serve() {
	local ns=$1 pattern=$2
	shift 2
	: >"$tmp/serve.log"
	ip netns exec "$ns" "$@" >"$tmp/serve.log" 2>&1 &
	bg_pid=$!
	for _ in $(seq 1 50); do
		grep -q "$pattern" "$tmp/serve.log" && return 0
		sleep 0.1
	done
	echo "tap_bench: $* did not start" >&2
	cat "$tmp/serve.log" >&2
	return 1
}

# finish_serve: wait for the background server; its output on stdout.
finish_serve() {
	timeout 60 tail --pid="$bg_pid" -f /dev/null
	kill "$bg_pid" 2>/dev/null
	wait "$bg_pid" 2>/dev/null
	bg_pid=""
	cat "$tmp/serve.log"
}

# The Gbit/s of a "... : X Gbit/s" line on stdin.
gbps_of() { sed -n 's/.*: \([0-9.]*\) Gbit\/s$/\1/p' | head -n 1; }

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }

# bulk_once KEY SERVER_NS SERVER_CMD... -- CLIENT_NS CLIENT_CMD...: one run;
# the rate comes from whichever side is the receiver ("sink"), appended to
# $tmp/rates.KEY; the TAP's counters of the last run to $tmp/tap.KEY.
bulk_once() {
	local key=$1 sns=$2 out
	shift 2
	local scmd=()
	while [ "$1" != -- ]; do scmd+=("$1"); shift; done
	shift
	local cns=$1
	shift
	serve "$sns" listening "${scmd[@]}" || return 1
	out=$(ip netns exec "$cns" timeout 60 "$@" 2>&1)
	out="$out
$(finish_serve)"
	echo "$out" | grep sink | gbps_of >>"$tmp/rates.$key"
	echo "$out" | grep -E '^  tap:' >"$tmp/tap.$key"
}

B="$build/bench/tap_bulk"
L="$build/bench/latency"

# ------------------------------------------------------------- bulk

# The configurations take turns round by round, so a change in the load
# of the machine falls on all of them alike.
keys=(veth rx tx rx-plain tx-plain)
declare -A label=(
	[veth]="linux -> linux, veth"
	[rx]="linux -> synack, TAP, offloads"
	[tx]="synack -> linux, TAP, offloads"
	[rx-plain]="linux -> synack, TAP, --no-offload"
	[tx-plain]="synack -> linux, TAP, --no-offload"
)
for _ in $(seq 1 "$ROUNDS"); do
	bulk_once veth "$NS_B" "$B" linux-sink "$PORT" -- "$NS_A" "$B" linux-source "$V_B" "$PORT" "$MIB_FAST"
	bulk_once rx "$NS_T" "$B" synack-sink "$TAP" "$T_SYNACK/24" "$PORT" -- \
		"$NS_T" "$B" linux-source "$T_SYNACK" "$PORT" "$MIB_FAST"
	bulk_once tx "$NS_T" "$B" linux-sink "$PORT" -- \
		"$NS_T" "$B" synack-source "$TAP" "$T_SYNACK/24" "$T_LINUX" "$PORT" "$MIB_FAST"
	bulk_once rx-plain "$NS_T" "$B" synack-sink "$TAP" "$T_SYNACK/24" "$PORT" --no-offload -- \
		"$NS_T" "$B" linux-source "$T_SYNACK" "$PORT" "$MIB_PLAIN"
	bulk_once tx-plain "$NS_T" "$B" linux-sink "$PORT" -- \
		"$NS_T" "$B" synack-source "$TAP" "$T_SYNACK/24" "$T_LINUX" "$PORT" "$MIB_PLAIN" --no-offload
done
echo "bulk: one connection, one direction, the receiver's rate (median of $ROUNDS rounds, taken in turns)"
declare -A med
for k in "${keys[@]}"; do
	med[$k]=$(median <"$tmp/rates.$k")
	printf '%-40s %6s Gbit/s  (%s)\n' "${label[$k]}" "${med[$k]:-?}" "$(tr '\n' ' ' <"$tmp/rates.$k" | sed 's/ $//')"
	sed 's/^/  /' "$tmp/tap.$k"
done
echo "synack / linux over veth (target >= 0.90 with offloads):"
for k in rx tx rx-plain tx-plain; do
	awk -v l="${label[$k]}" -v r="${med[$k]:-0}" -v v="${med[veth]:-0}" \
		'BEGIN { if (v > 0) printf "  %-38s %.2f\n", l, r / v }'
done

# ------------------------------------------------------------- latency

echo
echo "latency: 1-byte request/response on an established connection ($LAT_ROUNDS round trips after 2000 warm-up)"
serve "$NS_T" listening "$L" linux-echo "$PORT" &&
	ip netns exec "$NS_T" timeout 60 "$L" synack-client "$TAP" "$T_SYNACK/24" "$T_LINUX" "$PORT" "$LAT_ROUNDS" &&
	finish_serve >/dev/null
serve "$NS_T" listening "$L" linux-echo "$PORT" &&
	ip netns exec "$NS_T" timeout 60 "$L" synack-client "$TAP" "$T_SYNACK/24" "$T_LINUX" "$PORT" "$LAT_ROUNDS" \
		--no-offload && finish_serve >/dev/null
serve "$NS_B" listening "$L" linux-echo "$PORT" &&
	ip netns exec "$NS_A" timeout 60 "$L" linux-client "$V_B" "$PORT" "$LAT_ROUNDS" | sed 's/^linux client/linux client, veth/' &&
	finish_serve >/dev/null
