#!/bin/bash
# Interop, differential: synack's SYN and SYN-ACK must carry the same TCP
# window, flags, option layout (kinds and lengths, in order), MSS and window
# scale as the Linux kernel's own SYN and SYN-ACK under the same settings.
#
# usage: bash tcp_differential.sh /path/to/synack
#
# Linux's reference segments come from a Linux client connecting to a Linux
# listener across a veth pair into a second namespace, captured with tshark.
# synack's come from its own pcap: its SYN (synack up --connect to a Linux
# listener) and its SYN-ACK (a Linux client to synack up --listen). All
# interfaces have MTU 1500, and both kernels' namespaces and synack get the
# same TCP sysctls. TSval/TSecr values are ignored (their option bytes are
# compared only by kind and length).
#
# Needs root, /dev/net/tun, iproute2, python3 and tshark; without them the
# test is skipped (exit 77), unless SYNACK_REQUIRE_INTEROP=1, which turns a
# missing prerequisite into a failure.
set -u

SYNACK=${1:-}
NS="sn-tcpd-$$"         # the test's namespace: TAP to synack, veth to NS2
NS2="sn-tcpd2-$$"       # the Linux listener's namespace
TAP=snt0
VETH_A=sndA             # in NS
VETH_B=sndB             # in NS2
TAP_LINUX=10.77.12.1
SYNACK_ADDR=10.77.12.2
VETH_A_ADDR=10.77.13.1
VETH_B_ADDR=10.77.13.2
# Per profile (set by run_profile): ports, the output directory, the flags.
REF_PORT=""             # Linux -> Linux
CONNECT_PORT=""         # synack -> Linux
LISTEN_PORT=""          # Linux -> synack
dir=""
TS=1
SACK=1
WS=1
# The settings every profile shares (Linux's defaults as of 6.x).
TCP_RMEM="4096 131072 33554432"
tmp=""
synack_pid=""
bg_pids=()
failures=0

# pass, fail, missing, stop_pid, cleanup and its traps, check_common_prerequisites,
# setup_namespace, wait_for_output.
. "$(dirname "$0")/lib/common.bash"

# Called by cleanup (common.bash) from the EXIT trap.
# shellcheck disable=SC2317
stop_background() {
	local pid
	for pid in "${bg_pids[@]}"; do
		stop_pid "$pid"
	done
	stop_pid "$synack_pid"
}

check_prerequisites() {
	check_common_prerequisites
	command -v python3 >/dev/null || missing "no python3 (the Linux-side client and listener)"
	command -v tshark >/dev/null || missing "no tshark (captures Linux's reference segments)"
}

# The same TCP settings in a Linux namespace as synack gets.
pin_sysctls() {
	local ns=$1
	ip netns exec "$ns" sysctl -qw "net.ipv4.tcp_timestamps=$TS" "net.ipv4.tcp_sack=$SACK" \
		"net.ipv4.tcp_window_scaling=$WS" net.ipv4.tcp_ecn=2 "net.ipv4.tcp_rmem=$TCP_RMEM"
}

setup_namespaces() {
	ip netns add "$NS" 2>/dev/null || missing "cannot create a network namespace"
	ip netns add "$NS2" 2>/dev/null || missing "cannot create a second network namespace"
	ip -n "$NS" link set lo up && ip -n "$NS2" link set lo up &&
		ip netns exec "$NS" ip tuntap add dev "$TAP" mode tap &&
		ip -n "$NS" addr add "$TAP_LINUX/24" dev "$TAP" &&
		ip -n "$NS" link set "$TAP" mtu 1500 up ||
		missing "cannot create TAP device $TAP in namespace $NS"
	ip -n "$NS" link add "$VETH_A" type veth peer name "$VETH_B" netns "$NS2" &&
		ip -n "$NS" addr add "$VETH_A_ADDR/24" dev "$VETH_A" &&
		ip -n "$NS2" addr add "$VETH_B_ADDR/24" dev "$VETH_B" &&
		ip -n "$NS" link set "$VETH_A" mtu 1500 up &&
		ip -n "$NS2" link set "$VETH_B" mtu 1500 up ||
		missing "cannot create the veth pair $VETH_A/$VETH_B"
	ip netns exec "$NS" sysctl -qw "net.ipv6.conf.$TAP.disable_ipv6=1" 2>/dev/null || true
}

# synack's sysctls matching pin_sysctls. net.core.rmem_max is not per
# namespace in Linux: take the host's.
synack_sysctl_args() {
	local rmem_min rmem_def rmem_max core_rmem_max
	read -r rmem_min rmem_def rmem_max <<<"$TCP_RMEM"
	core_rmem_max=$(cat /proc/sys/net/core/rmem_max 2>/dev/null || echo 4194304)
	echo --sysctl "net.ipv4.tcp_timestamps=$TS" --sysctl "net.ipv4.tcp_sack=$SACK" \
		--sysctl "net.ipv4.tcp_window_scaling=$WS" --sysctl net.ipv4.tcp_ecn=2 \
		--sysctl "net.ipv4.tcp_rmem_min=$rmem_min" --sysctl "net.ipv4.tcp_rmem_default=$rmem_def" \
		--sysctl "net.ipv4.tcp_rmem_max=$rmem_max" --sysctl "net.core.rmem_max=$core_rmem_max"
}

# A Linux listener: accept once, report, close after a moment.
server_py() {
	cat <<'EOF'
import os, socket, sys, time
addr, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((addr, port))
ls.listen(1)
ls.settimeout(15)
with open(out, "a") as f:
    f.write("LISTENING\n")
try:
    c, peer = ls.accept()
except OSError as e:
    with open(out, "a") as f:
        f.write("ERROR %s\n" % e)
    sys.exit(1)
with open(out, "a") as f:
    f.write("ACCEPTED %s:%d\n" % peer)
time.sleep(0.5)
c.close()
EOF
}

# A Linux client: connect, hold a moment, close. Prints the outcome.
client_py() {
	cat <<'EOF'
import socket, sys, time
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
except OSError as e:
    print("ERROR %s" % e)
    sys.exit(1)
print("CONNECTED")
time.sleep(0.3)
s.close()
EOF
}

# Option bytes (hex, with or without colons) -> "layout mss wscale".
options_py() {
	cat <<'EOF'
import sys
names = {2: "mss", 3: "wscale", 4: "sackOK", 5: "sack", 8: "TS", 19: "md5", 29: "ao", 30: "mptcp",
         34: "tfo", 254: "exp"}
b = bytes.fromhex(sys.argv[1].replace(":", "")) if len(sys.argv) > 1 else b""
out, mss, ws, i = [], "-", "-", 0
while i < len(b):
    k = b[i]
    if k == 0:
        out.append("eol")
        break
    if k == 1:
        out.append("nop")
        i += 1
        continue
    if i + 1 >= len(b) or b[i + 1] < 2 or i + b[i + 1] > len(b):
        out.append("bad(%d)" % k)
        break
    n = b[i + 1]
    out.append("%s/%d" % (names.get(k, "kind%d" % k), n))
    if k == 2 and n == 4:
        mss = int.from_bytes(b[i + 2:i + 4], "big")
    if k == 3 and n == 3:
        ws = b[i + 2]
    i += n
print("%s %s %s" % (",".join(out) or "none", mss, ws))
EOF
}

wait_for_line() {
	local file=$1 pattern=$2 pid=$3
	for _ in $(seq 1 150); do
		grep -q -- "$pattern" "$file" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	grep -q -- "$pattern" "$file" 2>/dev/null
}

# Start a Linux listener in namespace $1 on $2:$3; reports go to $4.
start_server() {
	local ns=$1 addr=$2 port=$3 out=$4
	ip netns exec "$ns" python3 "$tmp/server.py" "$addr" "$port" "$out" 2>>"$tmp/py.err" &
	bg_pids+=("$!")
	if ! wait_for_line "$out" '^LISTENING' "$!"; then
		fail "the Linux listener on $addr:$port did not start"
		sed 's/^/  /' "$tmp/py.err"
		exit 1
	fi
}

# The SYN and SYN-ACK segments of a capture, one tshark run per file:
# "ip.src<TAB>flags<TAB>window<TAB>options-hex" lines in $1.syns.
extract_syns() {
	tshark -n -r "$1" -Y "tcp.flags.syn == 1" -T fields -E separator=/t \
		-e ip.src -e tcp.flags -e tcp.window_size_value -e tcp.options >"$1.syns" 2>/dev/null
}

# One segment: "window=W flags=F options=L mss=M wscale=S", or "missing".
# $1 pcap (after extract_syns), $2 source address, $3 SYN or SYNACK.
describe_segment() {
	local pcap=$1 src=$2 kind=$3 ip flags win opts
	while IFS=$'\t' read -r ip flags win opts; do
		[ "$ip" = "$src" ] || continue
		if [ "$kind" = SYNACK ]; then
			[ $((flags & 0x10)) != 0 ] || continue
		else
			[ $((flags & 0x10)) = 0 ] || continue
		fi
		local layout mss ws
		read -r layout mss ws <<<"$(python3 "$tmp/options.py" "$opts")"
		echo "window=$win flags=$flags options=$layout mss=$mss wscale=$ws"
		return
	done <"$pcap.syns"
	echo missing
}

# Linux -> Linux across the veth pair, captured on NS's end.
capture_linux_reference() {
	start_server "$NS2" "$VETH_B_ADDR" "$REF_PORT" "$dir/ref-server.out"
	# Stop by itself after the SYN and the SYN-ACK; at most 20 s.
	ip netns exec "$NS" tshark -n -i "$VETH_A" -w "$dir/linux.pcap" -c 2 -a duration:20 \
		-f "tcp port $REF_PORT and tcp[tcpflags] & tcp-syn != 0" >/dev/null 2>"$dir/tshark-cap.err" &
	local cap_pid=$!
	bg_pids+=("$cap_pid")
	if ! wait_for_line "$dir/tshark-cap.err" "Capturing on" "$cap_pid"; then
		fail "tshark did not start capturing on $VETH_A"
		sed 's/^/  /' "$dir/tshark-cap.err"
		exit 1
	fi
	local out
	out=$(ip netns exec "$NS" timeout 10 python3 "$tmp/client.py" "$VETH_B_ADDR" "$REF_PORT" 2>&1)
	[ "$out" = CONNECTED ] || fail "Linux client to the Linux listener: $out"
	for _ in $(seq 1 100); do
		kill -0 "$cap_pid" 2>/dev/null || break
		sleep 0.1
	done
	stop_pid "$cap_pid"
}

run_synack() {
	local log=$1
	shift
	# shellcheck disable=SC2046 # the sysctl options are split on purpose
	ip netns exec "$NS" "$SYNACK" up --tap "$TAP" --addr "$SYNACK_ADDR/24" --quiet \
		$(synack_sysctl_args) "$@" >"$dir/$log.log" 2>"$dir/$log.err" &
	synack_pid=$!
	if ! wait_for_line "$dir/$log.log" "^synack up: tap $TAP " "$synack_pid"; then
		fail "synack up $* did not start"
		sed 's/^/  stderr: /' "$dir/$log.err"
		exit 1
	fi
}

# Stop synack ($1: its log name); it must exit 0 with no sanitizer report.
stop_synack() {
	local log=$1 rc
	kill -TERM "$synack_pid" 2>/dev/null
	for _ in $(seq 1 50); do
		kill -0 "$synack_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$synack_pid" 2>/dev/null
	wait "$synack_pid"
	rc=$?
	synack_pid=""
	if [ "$rc" != 0 ] || grep -q "Sanitizer\|runtime error" "$dir/$log.err"; then
		fail "synack up ($log) exited $rc on SIGTERM"
		sed 's/^/  stderr: /' "$dir/$log.err"
	fi
}

# synack connects to a Linux listener: synack's SYN (and Linux's SYN-ACK to it).
capture_synack_syn() {
	start_server "$NS" "$TAP_LINUX" "$CONNECT_PORT" "$dir/connect-server.out"
	run_synack connect --connect "$TAP_LINUX:$CONNECT_PORT" --pcap "$dir/synack-connect.pcap"
	if ! wait_for_line "$dir/connect.log" "^synack up: connect " "$synack_pid" ||
		! grep -q "^synack up: connect $TAP_LINUX:$CONNECT_PORT: connected" "$dir/connect.log"; then
		fail "synack up --connect $TAP_LINUX:$CONNECT_PORT: $(grep '^synack up: connect' "$dir/connect.log")"
	fi
	stop_synack connect
}

# A Linux client connects to synack: synack's SYN-ACK (and Linux's SYN over the TAP).
capture_synack_synack() {
	run_synack listen --listen "$LISTEN_PORT" --pcap "$dir/synack-listen.pcap"
	if ! wait_for_line "$dir/listen.log" "^synack up: listening" "$synack_pid"; then
		fail "synack up --listen $LISTEN_PORT did not listen"
		stop_synack listen
		return
	fi
	local out
	out=$(ip netns exec "$NS" timeout 10 python3 "$tmp/client.py" "$SYNACK_ADDR" "$LISTEN_PORT" 2>&1)
	[ "$out" = CONNECTED ] || fail "Linux client to synack's listener: $out"
	stop_synack listen
}

# Compare "$2" (what synack sent) with "$3" (Linux's reference), field by field.
compare() {
	local what=$1 got=$2 want=$3
	printf '  %-46s %s\n' "$what:" "$got"
	if [ "$got" = missing ] || [ "$want" = missing ]; then
		fail "$what: segment not captured"
		return
	fi
	local field bad=""
	for field in window flags options mss wscale; do
		local g w
		g=$(echo "$got" | sed -n "s/.*\<$field=\([^ ]*\).*/\1/p")
		w=$(echo "$want" | sed -n "s/.*\<$field=\([^ ]*\).*/\1/p")
		[ "$g" = "$w" ] || bad="$bad $field ($g, Linux $w)"
	done
	if [ -z "$bad" ]; then
		pass "$what matches Linux's"
	else
		fail "$what differs from Linux's:$bad"
	fi
}

# One set of settings: capture the four handshakes' SYNs and compare.
# $1 name, $2 port base, then tcp_timestamps, tcp_sack, tcp_window_scaling.
run_profile() {
	local name=$1
	REF_PORT=$2 CONNECT_PORT=$(($2 + 1)) LISTEN_PORT=$(($2 + 2))
	TS=$3 SACK=$4 WS=$5
	dir="$tmp/$name"
	mkdir -p "$dir"
	pin_sysctls "$NS" && pin_sysctls "$NS2" || missing "cannot set TCP sysctls in the namespaces"
	echo "--- profile $name: tcp_timestamps $TS, tcp_sack $SACK, tcp_window_scaling $WS, tcp_ecn 2," \
		"tcp_rmem $TCP_RMEM, rmem_max $(cat /proc/sys/net/core/rmem_max 2>/dev/null), MTU 1500"
	capture_linux_reference
	capture_synack_syn
	capture_synack_synack

	local f
	for f in linux synack-connect synack-listen; do
		[ -f "$dir/$f.pcap" ] && extract_syns "$dir/$f.pcap"
		[ -f "$dir/$f.pcap.syns" ] || : >"$dir/$f.pcap.syns"
	done
	local linux_syn linux_synack synack_syn synack_synack linux_syn_tap linux_synack_tap
	linux_syn=$(describe_segment "$dir/linux.pcap" "$VETH_A_ADDR" SYN)
	linux_synack=$(describe_segment "$dir/linux.pcap" "$VETH_B_ADDR" SYNACK)
	synack_syn=$(describe_segment "$dir/synack-connect.pcap" "$SYNACK_ADDR" SYN)
	linux_synack_tap=$(describe_segment "$dir/synack-connect.pcap" "$TAP_LINUX" SYNACK)
	synack_synack=$(describe_segment "$dir/synack-listen.pcap" "$SYNACK_ADDR" SYNACK)
	linux_syn_tap=$(describe_segment "$dir/synack-listen.pcap" "$TAP_LINUX" SYN)

	printf '  %-46s %s\n' "Linux SYN (veth, reference):" "$linux_syn"
	printf '  %-46s %s\n' "Linux SYN-ACK (veth, reference):" "$linux_synack"
	compare "$name: synack SYN" "$synack_syn" "$linux_syn"
	compare "$name: synack SYN-ACK" "$synack_synack" "$linux_synack"
	# Sanity: the TAP path has the same settings as the veth path, and
	# synack's SYN draws the same answer from Linux as Linux's own SYN.
	compare "$name: Linux SYN to synack (TAP)" "$linux_syn_tap" "$linux_syn"
	compare "$name: Linux SYN-ACK to synack's SYN" "$linux_synack_tap" "$linux_synack"
}

main() {
	check_prerequisites
	tmp=$(mktemp -d /tmp/synack-tcp-diff.XXXXXX)
	server_py >"$tmp/server.py"
	client_py >"$tmp/client.py"
	options_py >"$tmp/options.py"
	setup_namespaces
	run_profile defaults 7070 1 1 1
	run_profile no-timestamps 7080 0 1 1
	run_profile no-sack 7090 1 0 1
	run_profile no-wscale 7100 1 1 0

	if [ "$failures" = 0 ]; then
		echo "PASS: tcp_differential"
		exit 0
	fi
	echo "FAIL: tcp_differential ($failures checks failed)"
	local f
	for f in "$tmp"/*/connect.err "$tmp"/*/listen.err; do
		[ -s "$f" ] && sed "s|^|  ${f#"$tmp"/}: |" "$f"
	done
	exit 1
}

main
