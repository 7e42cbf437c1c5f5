#!/bin/bash
# Interop: synack's listener under a SYN flood from the Linux side. `synack
# up --service http` runs on a TAP device with tcp_syncookies=1 while
# hping3 sends SYNs with spoofed sources, all of them addresses of the
# test namespace's own subnet that nobody holds (so synack's SYN-ACKs to
# them wait on ARP and go nowhere). During the flood synack's SYN queue
# overflows (TcpExtTCPReqQFullDoCookies, read from its nstat output on
# SIGUSR1), and curl's connections to the same listener still succeed, with
# the body's SHA-256 checked; afterwards the counters show the cookies sent
# (TcpExtSyncookiesSent) and the ones curl's connections came back with
# (TcpExtSyncookiesRecv), and synack exits 0 on SIGTERM.
#
# usage: bash tcp_synflood.sh /path/to/synack
#
# All traffic stays inside a private network namespace. Needs root,
# /dev/net/tun, iproute2, hping3, curl and python3; without them the test is
# skipped (exit 77), unless SYNACK_REQUIRE_INTEROP=1, which turns a missing
# prerequisite into a failure.
set -u

SYNACK=${1:-}
NS="sn-flood-$$"
TAP=snt0
LINUX_ADDR=10.77.14.1
SYNACK_ADDR=10.77.14.2
SPOOF_PREFIX=10.77.14            # spoofed sources: $SPOOF_PREFIX.$SPOOF_FIRST .. +SPOOF_HOSTS-1
SPOOF_FIRST=100
SPOOF_HOSTS=20
SYNS_PER_HOST=1000
PORT=8080
CURLS=5
BYTES=100000
tmp=""
synack_pid=""
flood_pid=""
failures=0

# The shared helpers (pass, fail, missing, the cleanup traps, setup_namespace,
# start_synack_up, stop_synack_checked, ...).
. "$(dirname "$0")/lib/common.bash"

# Called by cleanup (common.bash) from the EXIT trap.
# shellcheck disable=SC2317
stop_background() {
	stop_pid "$flood_pid"
	stop_pid "$synack_pid"
}

start_synack() {
	start_synack_up "synack up --service http" "^synack up: listening on 0.0.0.0:$PORT" \
		--listen "$PORT" --service http --quiet --sysctl net.ipv4.tcp_syncookies=1
}

# The flood: each spoofed address in turn sends SYNS_PER_HOST SYNs (hping3
# moves the source port on with every SYN), asked for 20 us apart (hping3
# paces itself slower: a few thousand a second).
start_flood() {
	(
		for i in $(seq "$SPOOF_FIRST" $((SPOOF_FIRST + SPOOF_HOSTS - 1))); do
			ip netns exec "$NS" hping3 -q -S -p "$PORT" -a "$SPOOF_PREFIX.$i" -i u20 \
				-c "$SYNS_PER_HOST" "$SYNACK_ADDR" >/dev/null 2>&1
		done
	) &
	flood_pid=$!
}

flood_running() {
	kill -0 "$flood_pid" 2>/dev/null
}

# dump_counters: SIGUSR1, then the newest nstat block of synack's output
# into $tmp/nstat.txt.
dump_counters() {
	local before
	before=$(grep -c '^#kernel' "$tmp/out.log")
	kill -USR1 "$synack_pid"
	for _ in $(seq 1 50); do
		[ "$(grep -c '^#kernel' "$tmp/out.log")" -gt "$before" ] && break
		sleep 0.1
	done
	sleep 0.2   # the block is printed whole, but let it land
	awk '/^#kernel/ { n++; block = "" } n { block = block $0 "\n" } END { printf "%s", block }' \
		"$tmp/out.log" >"$tmp/nstat.txt"
}

counter() {
	nstat_value "$tmp/nstat.txt" "$1"
}

pattern_py() {
	cat <<'EOF'
import hashlib, sys
n = int(sys.argv[1])
print(hashlib.sha256(b"".join(b"%015d\n" % (16 * i) for i in range(n // 16 + 1))[:n]).hexdigest())
EOF
}

# curl_once N: one download of $BYTES during the flood; 0 when intact.
curl_once() {
	local code size
	curl_sha256 "http://$SYNACK_ADDR:$PORT/bytes/$BYTES" 20 '%{http_code} %{size_download}'
	read -r code size <<<"$curl_out"
	if [ "$curl_rc" = 0 ] && [ "$code" = 200 ] && [ "$size" = "$BYTES" ] && [ "$curl_sha" = "$want_sha" ]; then
		return 0
	fi
	echo "  curl $1: exit $curl_rc, HTTP ${code:-?}, ${size:-?} bytes, sha256 $curl_sha"
	sed 's/^/  curl: /' "$tmp/curl.err"
	return 1
}

# Wait (up to 10 s) until synack says its SYN queue overflowed.
wait_for_cookies() {
	for _ in $(seq 1 20); do
		dump_counters
		[ "$(counter TcpExtTCPReqQFullDoCookies)" -gt 0 ] && return 0
		flood_running || return 1
		sleep 0.5
	done
	return 1
}

check_during_flood() {
	if wait_for_cookies; then
		pass "the SYN queue overflowed and cookies took over (TcpExtTCPReqQFullDoCookies $(counter TcpExtTCPReqQFullDoCookies), TcpExtSyncookiesSent $(counter TcpExtSyncookiesSent))"
	else
		fail "no SYN queue overflow seen (TcpExtTCPReqQFullDoCookies 0)"
		return
	fi
	local ok=0
	for i in $(seq 1 "$CURLS"); do
		curl_once "$i" && ok=$((ok + 1))
	done
	if flood_running; then
		pass "the flood was still running after the downloads"
	else
		fail "the flood ended before the downloads did: they did not all run during it"
	fi
	if [ "$ok" = "$CURLS" ]; then
		pass "$ok of $CURLS curl downloads during the flood succeeded, SHA-256 intact"
	else
		fail "$ok of $CURLS curl downloads during the flood succeeded"
	fi
}

check_after_flood() {
	wait "$flood_pid" 2>/dev/null
	flood_pid=""
	dump_counters
	local sent recv failed drops
	sent=$(counter TcpExtSyncookiesSent)
	recv=$(counter TcpExtSyncookiesRecv)
	failed=$(counter TcpExtSyncookiesFailed)
	drops=$(counter TcpExtTCPReqQFullDrop)
	if [ "$sent" -gt 0 ]; then
		pass "synack sent $sent SYN cookies for $((SPOOF_HOSTS * SYNS_PER_HOST)) spoofed SYNs (TcpExtSyncookiesSent)"
	else
		fail "TcpExtSyncookiesSent is 0"
	fi
	if [ "$recv" -ge 1 ] && [ "$failed" = 0 ] && [ "$drops" = 0 ]; then
		pass "$recv of curl's connections came back through a cookie (TcpExtSyncookiesRecv), none failed, no SYN dropped"
	else
		fail "TcpExtSyncookiesRecv $recv, TcpExtSyncookiesFailed $failed, TcpExtTCPReqQFullDrop $drops"
	fi
}

stop_synack() {
	stop_synack_checked "synack up" "$tmp/err.log" "  stderr: " 30
	if grep -q "^TcpExtSyncookiesSent " "$tmp/out.log"; then
		pass "the counters printed at exit include TcpExtSyncookiesSent"
	else
		fail "no TcpExtSyncookiesSent in the counters printed at exit"
	fi
}

main() {
	check_common_prerequisites hping3 curl python3
	tmp=$(mktemp -d /tmp/synack-tcp-synflood.XXXXXX)
	pattern_py >"$tmp/pattern.py"
	want_sha=$(python3 "$tmp/pattern.py" "$BYTES")
	setup_namespace
	start_synack
	start_flood
	check_during_flood
	check_after_flood
	stop_synack
	finish tcp_synflood synack "$tmp/out.log"
}

main
