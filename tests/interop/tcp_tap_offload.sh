#!/bin/bash
# Interop: bulk data both ways between Linux and synack over a TAP device,
# with the TAP offloads (virtio-net headers, 64 KiB GSO frames from the
# kernel, TSO super-frames to it) and with --no-offload. A Linux client
# streams 24 MiB of random bytes to synack's echo service while reading the
# echo back: both directions must carry exactly the bytes sent (SHA-256).
# With offloads the GSO frames must really have been used both ways
# (synack's TapRxGsoFrames / LinkRxGsoFrames / TapTxGsoFrames counters and
# frames longer than the MTU in a capture on the kernel's side), and neither
# side may count a checksum or header error (synack's counters, the
# kernel's nstat); without, on the same (persistent) device, no GSO frame
# at all.
#
# usage: bash tcp_tap_offload.sh /path/to/synack
#
# Everything happens inside a private network namespace. Needs root,
# /dev/net/tun, iproute2, python3 and nstat; tcpdump or tshark for the
# capture check (skipped with a note without them). Without the rest the
# test is skipped (exit 77), unless SYNACK_REQUIRE_INTEROP=1.
set -u

SYNACK=${1:-}
NS="sn-tso-$$"
TAP=sntso0
LINUX_ADDR=10.77.17.1
SYNACK_ADDR=10.77.17.2
PORT=7
MIB=24
tmp=""
synack_pid=""
cap_pid=""
failures=0

. "$(dirname "$0")/lib/common.bash"

# Called by cleanup (common.bash) from the EXIT trap.
# shellcheck disable=SC2317
stop_background() {
	stop_pid "$cap_pid"
	stop_pid "$synack_pid"
}

check_common_prerequisites python3 "nstat (iproute2)"
tmp=$(mktemp -d /tmp/synack-tso.XXXXXX)
setup_namespace

# Send MIB MiB of seeded random bytes while reading the echo; print the
# digests of what went and what came back, and the rate.
cat >"$tmp/client.py" <<'EOF'
import hashlib, random, socket, sys, threading, time
addr, port, mib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
total = mib << 20
rnd = random.Random(7)
chunk = bytes(rnd.getrandbits(8) for _ in range(1 << 16))
s = socket.create_connection((addr, port), timeout=30)
sent_h, got_h = hashlib.sha256(), hashlib.sha256()
def send():
    left, i = total, 0
    while left:
        # A rotating window of the chunk, so no two 64 KiB stretches repeat.
        piece = (chunk[i % 65536:] + chunk[:i % 65536])[:min(left, 65536)]
        s.sendall(piece)
        sent_h.update(piece)
        left -= len(piece)
        i += 4099
    s.shutdown(socket.SHUT_WR)
t0 = time.monotonic()
th = threading.Thread(target=send)
th.start()
got = 0
while True:
    b = s.recv(1 << 20)
    if not b:
        break
    got_h.update(b)
    got += len(b)
th.join()
dt = time.monotonic() - t0
print("sent %d %s" % (total, sent_h.hexdigest()))
print("got %d %s" % (got, got_h.hexdigest()))
print("rate %.1f Mbit/s each way" % (total * 8 / dt / 1e6))
EOF

# Frames longer than the MTU in the capture, from address $2 (tshark or tcpdump).
count_big_frames() {
	local pcap=$1 src=$2
	if command -v tshark >/dev/null; then
		tshark -n -r "$pcap" -Y "ip.src == $src && frame.len > 1514" 2>/dev/null | wc -l
	else
		tcpdump -n -e -r "$pcap" "src host $src" 2>/dev/null |
			awk '{ for (i = 1; i < NF; i++) if ($i == "length") { v = $(i + 1); sub(",", "", v); if (v + 0 > 1514) n++; break } } END { print n + 0 }'
	fi
}

start_capture() {
	cap_pid=""
	command -v tcpdump >/dev/null || return 0
	ip netns exec "$NS" tcpdump -i "$TAP" -s 96 -w "$tmp/cap.pcap" -U tcp >/dev/null 2>"$tmp/cap.err" &
	cap_pid=$!
	# The transfer takes a fraction of a second: start it only once tcpdump
	# says it is capturing, however slow a loaded machine makes its start.
	for _ in $(seq 100); do
		grep -q "listening on" "$tmp/cap.err" 2>/dev/null && break
		sleep 0.1
	done
}

# run_mode LABEL [synack options...]
run_mode() {
	local label=$1
	shift
	ip netns exec "$NS" nstat -n >/dev/null 2>&1
	start_capture
	start_synack_up "synack up ($label)" "^synack up: tap $TAP " --listen "$PORT" --service echo "$@"
	ip netns exec "$NS" timeout 120 python3 "$tmp/client.py" "$SYNACK_ADDR" "$PORT" "$MIB" \
		>"$tmp/client.log" 2>"$tmp/client.err"
	local rc=$?
	sleep 0.3
	stop_synack_checked "synack up ($label)" "$tmp/err.log" "  stderr: "
	stop_pid "$cap_pid"
	cap_pid=""
	ip netns exec "$NS" nstat -az >"$tmp/kernel.nstat" 2>/dev/null
	local sent got
	sent=$(awk '$1 == "sent" { print $2, $3 }' "$tmp/client.log")
	got=$(awk '$1 == "got" { print $2, $3 }' "$tmp/client.log")
	if [ "$rc" = 0 ] && [ -n "$sent" ] && [ "$sent" = "$got" ]; then
		pass "$label: $MIB MiB each way, SHA-256 equal ($(sed -n 's/^rate //p' "$tmp/client.log"))"
	else
		fail "$label: the echo differs from what was sent (client exit $rc)"
		show_log "$tmp/client.log" "  client: "
		show_log "$tmp/client.err" "  client: " 10
		show_log "$tmp/out.log" "  synack: " 20
	fi
	local v name
	for name in TcpInCsumErrors TcpInErrs IpInHdrErrors LinkRxErrors TapRxBadVnetHdr TapRxOversize TapTxErrors; do
		v=$(nstat_value "$tmp/out.log" "$name")
		[ "$v" = 0 ] || fail "$label: synack counted $name $v"
	done
	for name in TcpInCsumErrors TcpInErrs IpInHdrErrors IpInTruncatedPkts; do
		v=$(nstat_value "$tmp/kernel.nstat" "$name")
		[ "$v" = 0 ] || fail "$label: the kernel counted $name $v"
	done
	rx_gso=$(nstat_value "$tmp/out.log" TapRxGsoFrames)
	mib_gso=$(nstat_value "$tmp/out.log" LinkRxGsoFrames)
	tx_gso=$(nstat_value "$tmp/out.log" TapTxGsoFrames)
	tx_segs=$(nstat_value "$tmp/out.log" TapTxGsoSegs)
	offload=$(nstat_value "$tmp/out.log" TapOffload)
	big_in=""
	big_out=""
	if [ -s "$tmp/cap.pcap" ]; then
		big_in=$(count_big_frames "$tmp/cap.pcap" "$LINUX_ADDR")
		big_out=$(count_big_frames "$tmp/cap.pcap" "$SYNACK_ADDR")
	fi
	rm -f "$tmp/cap.pcap"
}

run_mode "offloads"
if [ "$offload" = 1 ] && [ "$rx_gso" -gt 0 ] && [ "$rx_gso" = "$mib_gso" ] && [ "$tx_gso" -gt 0 ]; then
	pass "offloads: GSO frames both ways: $rx_gso in (LinkRxGsoFrames $mib_gso), $tx_gso out carrying $tx_segs segments"
else
	fail "offloads: GSO frames not used (TapOffload '$offload', TapRxGsoFrames $rx_gso, LinkRxGsoFrames $mib_gso, TapTxGsoFrames $tx_gso)"
fi
if [ -n "$big_in" ]; then
	if [ "$big_in" -gt 0 ] && [ "$big_out" -gt 0 ]; then
		pass "offloads: the kernel's capture shows frames over the MTU both ways ($big_in to synack, $big_out from it)"
	else
		fail "offloads: the kernel's capture shows $big_in frames over the MTU to synack, $big_out from it"
	fi
else
	echo "note: no tcpdump: the kernel-side capture is not checked"
fi

# The device is persistent (ip tuntap add) and keeps the offloads the last
# run set: --no-offload must switch them off again, or the kernel would
# keep handing up GSO frames.
run_mode "no offloads" --no-offload
if [ "$offload" = 0 ] && [ "$rx_gso" = 0 ] && [ "$mib_gso" = 0 ] && [ "$tx_gso" = 0 ] && [ "${big_in:-0}" = 0 ] &&
	[ "${big_out:-0}" = 0 ]; then
	pass "no offloads: plain frames only"
else
	fail "no offloads: GSO frames seen (TapOffload $offload, rx $rx_gso, LinkRxGsoFrames $mib_gso, tx $tx_gso, capture ${big_in:-?}/${big_out:-?})"
fi

finish "tcp_tap_offload" "synack" "$tmp/out.log"
