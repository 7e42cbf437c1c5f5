#!/bin/bash
# Interop: TCP Fast Open between synack and the Linux kernel, both ways.
#
#   a. Linux's client (curl --tcp-fastopen) gets a cookie from synack's
#      HTTP service (synack up, net.ipv4.tcp_fastopen=0x403) and sends its
#      next request in the SYN: Linux caches the cookie (ip tcp_metrics),
#      counts TcpExtTCPFastOpenActive, synack counts TcpExtTCPFastOpenPassive,
#      and synack's capture holds a SYN with data.
#   b. synack's client (synack get --fastopen --tfo-cache FILE) gets a cookie
#      from a Linux TFO server and sends its next request in the SYN: the
#      cache file holds the cookie, Linux's TcpExtTCPFastOpenPassive goes up
#      by one, and the SYN carries the request. A corrupt cache line is
#      reported and skipped; the default cache path is created; synack get
#      without --fastopen sends a plain SYN and touches no cache.
#   c. One key on both sides (net.ipv4.tcp_fastopen_key): a cookie one side
#      made is accepted by the other on the same address S. Linux's client
#      learns a cookie from synack at S; then a Linux server takes S and
#      accepts the client's SYN with data (and hands out the same cookie
#      bytes). synack get learns a cookie from that Linux server; then synack
#      takes S again and accepts synack get's SYN with data.
#
# The layout, all inside private network namespaces:
#
#   $NS (the Linux host, routing)              synack stacks (TAP)
#     snt0 10.77.14.1/24  ----------------------  10.77.14.2  (a: up; b, c: get)
#     snt1 10.77.15.1/24  ----------------------  10.77.15.2 = S  (c: up)
#     S/32 on lo while the Linux server owns S
#     vc0 10.77.16.1/24 --veth-- vc1 10.77.16.2/24  $NS2 (c: the Linux client)
#
# usage: bash tcp_fastopen.sh /path/to/synack
#
# Needs root, /dev/net/tun, iproute2 (ip, ss, nstat), python3, curl with
# --tcp-fastopen and tshark; without them the test is skipped (exit 77),
# unless SYNACK_REQUIRE_INTEROP=1, which turns a missing prerequisite into a
# failure.
set -u

SYNACK=${1:-}
NS="sn-tfo-$$"
NS2="sn-tfo2-$$"
TAP=snt0
TAP1=snt1
LINUX_ADDR=10.77.14.1
SYNACK_ADDR=10.77.14.2
LINUX_ADDR1=10.77.15.1
S=10.77.15.2
NS_VETH_ADDR=10.77.16.1
NS2_ADDR=10.77.16.2
PORT=8080
# One key for both sides, in net.ipv4.tcp_fastopen_key's text form.
KEY=0a1b2c3d-4e5f6071-8293a4b5-c6d7e8f9
tmp=""
synack_pid=""
server_pid=""
get_rc=0
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

check_prerequisites() {
	check_common_prerequisites "ss command (iproute2)" "nstat command (iproute2)" \
		"python3 (the Linux Fast Open server)" curl
	curl --help all 2>/dev/null | grep -q -- --tcp-fastopen || missing "curl has no --tcp-fastopen"
	require_commands "tshark (reads the captures)"
	[ -e /proc/sys/net/ipv4/tcp_fastopen_key ] || missing "the kernel has no net.ipv4.tcp_fastopen_key"
}

# $NS as common.bash makes it, plus the second TAP and the veth to $NS2.
setup_topology() {
	setup_namespace
	ip netns add "$NS2" 2>/dev/null || missing "cannot create a second network namespace"
	{
		ip netns exec "$NS" ip tuntap add dev "$TAP1" mode tap &&
			ip -n "$NS" addr add "$LINUX_ADDR1/24" dev "$TAP1" &&
			ip -n "$NS" link set "$TAP1" mtu 1500 up &&
			ip -n "$NS" link add vc0 type veth peer name vc1 netns "$NS2" &&
			ip -n "$NS" addr add "$NS_VETH_ADDR/24" dev vc0 &&
			ip -n "$NS" link set vc0 up &&
			ip -n "$NS2" link set lo up &&
			ip -n "$NS2" addr add "$NS2_ADDR/24" dev vc1 &&
			ip -n "$NS2" link set vc1 up &&
			ip -n "$NS2" route add default via "$NS_VETH_ADDR" &&
			ip netns exec "$NS" sysctl -qw net.ipv4.ip_forward=1 &&
			ip netns exec "$NS" sysctl -qw "net.ipv6.conf.$TAP1.disable_ipv6=1" &&
			# Client and server in $NS, the client in $NS2; one key.
			ip netns exec "$NS" sysctl -qw net.ipv4.tcp_fastopen=3 &&
			ip netns exec "$NS2" sysctl -qw net.ipv4.tcp_fastopen=1 &&
			ip netns exec "$NS" sysctl -qw "net.ipv4.tcp_fastopen_key=$KEY"
	} || missing "cannot set up the second TAP, the veth pair or the Fast Open sysctls"
}

# A Linux counter in namespace $1, read without touching nstat's history.
linux_counter() {
	ip netns exec "$1" nstat -asz "$2" | nstat_value - "$2"
}

# start_up LABEL TAP ADDR GW [options...]: synack up's HTTP service with
# Fast Open on every listener (0x400) and a capture; output in $tmp/up-LABEL.log.
start_up() {
	local label=$1 tap=$2 addr=$3 gw=$4 log
	shift 4
	log="$tmp/up-$label.log"
	ip netns exec "$NS" "$SYNACK" up --tap "$tap" --addr "$addr/24" --gw "$gw" --listen "$PORT" \
		--service http --quiet --pcap "$tmp/up-$label.pcap" --sysctl net.ipv4.tcp_fastopen=0x403 "$@" \
		>"$log" 2>"$tmp/up-$label.err" &
	synack_pid=$!
	wait_for_line "$log" "^synack up: listening on 0.0.0.0:$PORT" "$synack_pid" 50 && return 0
	fail "$label: synack up $* did not start"
	sed 's/^/  stderr: /' "$tmp/up-$label.err"
	grep -q "tcp_fastopen_key.*Invalid argument" "$tmp/up-$label.err" &&
		echo "  (synack up's --sysctl must take text values: cli_sysctl_set in tools/synack/cmd_up.c)"
	exit 1
}

# stop_up LABEL: SIGTERM; it must exit 0 (and print its counters).
stop_up() {
	local label=$1
	terminate_synack
	if [ "$synack_rc" != 0 ] || has_sanitizer_report "$tmp/up-$label.err"; then
		fail "$label: synack up exited $synack_rc on SIGTERM"
		show_log "$tmp/up-$label.err" "  stderr: " 30
	fi
}

# A Linux HTTP server with Fast Open on its listener (TCP_FASTOPEN, 23):
# every GET gets "hello".
server_py() {
	cat <<'EOF'
import socket, sys
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.setsockopt(socket.IPPROTO_TCP, 23, 16)   # TCP_FASTOPEN, queue length 16
ls.bind((sys.argv[1], int(sys.argv[2]))); ls.listen(16)
while True:
    c, peer = ls.accept(); c.settimeout(10)
    req = b""
    try:
        while b"\r\n\r\n" not in req:
            b = c.recv(4096)
            if not b: break
            req += b
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
        print("served %s:%d %s" % (peer[0], peer[1], req.split(b"\r\n")[0].decode()), flush=True)
    except OSError as e:
        print("error %s" % e, flush=True)
    c.close()
EOF
}

# start_server ADDR: the Linux server in $NS on ADDR:$PORT.
start_server() {
	local addr=$1
	ip netns exec "$NS" python3 "$tmp/server.py" "$addr" "$PORT" >>"$tmp/server.log" 2>&1 &
	server_pid=$!
	for _ in $(seq 1 50); do
		ip netns exec "$NS" ss -Hltn "sport = :$PORT" | grep -q "$addr:$PORT" && return 0
		kill -0 "$server_pid" 2>/dev/null || break
		sleep 0.1
	done
	fail "the Linux Fast Open server on $addr:$PORT did not start"
	cat "$tmp/server.log"
	exit 1
}

stop_server() {
	stop_pid "$server_pid"
	server_pid=""
}

# curl_tfo NAMESPACE URL: curl with Fast Open; sets curl_result
# ("CODE BYTES") and curl_rc.
curl_tfo() {
	curl_result=$(ip netns exec "$1" curl -sS --tcp-fastopen --max-time 10 -o /dev/null \
		-w '%{http_code} %{size_download}' "$2" 2>"$tmp/curl.err")
	curl_rc=$?
}

# get_tfo LABEL [options...] URL: synack get from the snt0 side; stderr in
# $tmp/get-LABEL.err, the body in $tmp/get-LABEL.body, sets get_rc.
get_tfo() {
	local label=$1
	shift
	ip netns exec "$NS" timeout 30 "$SYNACK" get --tap "$TAP" --addr "$SYNACK_ADDR/24" --gw "$LINUX_ADDR" \
		--timeout 10 --pcap "$tmp/get-$label.pcap" -o "$tmp/get-$label.body" "$@" 2>"$tmp/get-$label.err"
	get_rc=$?
	if has_sanitizer_report "$tmp/get-$label.err"; then
		fail "$label: sanitizer report"
		show_log "$tmp/get-$label.err" "  " 30
	fi
}

# syn_data PCAP SRC: the SYNs (no ACK) from SRC with a payload, as
# "LEN:FIRST-LINE" lines.
syn_data() {
	tshark -r "$1" -Y "ip.src == $2 && tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.len > 0" \
		-T fields -e tcp.len -e tcp.payload 2>/dev/null |
		while read -r len payload; do
			printf '%s:%s\n' "$len" "$(printf '%s' "$payload" | tr -d ':' | xxd -r -p | head -n 1 | tr -d '\r')"
		done
}

# The Fast Open cookie Linux's client in namespace $1 cached for $2 ("" if none).
linux_cookie() {
	ip -n "$1" tcp_metrics show "$2" 2>/dev/null | sed -n 's/.*fo_cookie \([0-9a-f]*\).*/\1/p'
}

# --------------------------------------------------------------- part a

part_a() {
	local active0 active1 cookie syns passive reqd pfail
	start_up a "$TAP" "$SYNACK_ADDR" "$LINUX_ADDR"
	active0=$(linux_counter "$NS" TcpExtTCPFastOpenActive)
	curl_tfo "$NS" "http://$SYNACK_ADDR:$PORT/bytes/1000"
	if [ "$curl_rc" = 0 ] && [ "$curl_result" = "200 1000" ]; then
		pass "a: curl --tcp-fastopen #1 (asks for a cookie): HTTP 200, 1000 bytes"
	else
		fail "a: curl #1: exit $curl_rc, '$curl_result' (want '200 1000')"
		sed 's/^/  curl: /' "$tmp/curl.err"
	fi
	cookie=$(linux_cookie "$NS" "$SYNACK_ADDR")
	if [ -n "$cookie" ]; then
		pass "a: Linux cached synack's cookie: ip tcp_metrics shows fo_cookie $cookie for $SYNACK_ADDR"
	else
		fail "a: Linux cached no cookie for $SYNACK_ADDR:"
		ip -n "$NS" tcp_metrics show | sed 's/^/  /'
	fi
	curl_tfo "$NS" "http://$SYNACK_ADDR:$PORT/bytes/2000"
	active1=$(linux_counter "$NS" TcpExtTCPFastOpenActive)
	if [ "$curl_rc" = 0 ] && [ "$curl_result" = "200 2000" ] && [ "$active1" = $((active0 + 1)) ]; then
		pass "a: curl --tcp-fastopen #2: HTTP 200, 2000 bytes; Linux TcpExtTCPFastOpenActive $active0 -> $active1"
	else
		fail "a: curl #2: exit $curl_rc, '$curl_result' (want '200 2000'); TcpExtTCPFastOpenActive $active0 -> $active1 (want +1)"
		sed 's/^/  curl: /' "$tmp/curl.err"
	fi
	stop_up a
	passive=$(nstat_value "$tmp/up-a.log" TcpExtTCPFastOpenPassive)
	reqd=$(nstat_value "$tmp/up-a.log" TcpExtTCPFastOpenCookieReqd)
	pfail=$(nstat_value "$tmp/up-a.log" TcpExtTCPFastOpenPassiveFail)
	if [ "$passive" -ge 1 ] && [ "$pfail" = 0 ]; then
		pass "a: synack counted TcpExtTCPFastOpenPassive $passive, TcpExtTCPFastOpenCookieReqd $reqd, TcpExtTCPFastOpenPassiveFail $pfail"
	else
		fail "a: synack counted TcpExtTCPFastOpenPassive $passive (want >= 1), TcpExtTCPFastOpenPassiveFail $pfail (want 0)"
		grep FastOpen "$tmp/up-a.log" | sed 's/^/  /'
	fi
	syns=$(syn_data "$tmp/up-a.pcap" "$LINUX_ADDR")
	if [ "$(wc -l <<<"$syns")" = 1 ] && grep -q "^[0-9]*:GET /bytes/2000 HTTP/1.1$" <<<"$syns"; then
		pass "a: synack's capture: one SYN from Linux with data (bytes:first line) $syns"
	else
		fail "a: synack's capture: SYNs with data from Linux: '${syns}' (want one, 'GET /bytes/2000 HTTP/1.1')"
	fi
}

# --------------------------------------------------------------- part b

part_b() {
	local url="http://$LINUX_ADDR:$PORT/b" cache="$tmp/b-cache" p0 p1 pf0 pf1 r0 r1 line syns
	start_server "$LINUX_ADDR"
	p0=$(linux_counter "$NS" TcpExtTCPFastOpenPassive)
	pf0=$(linux_counter "$NS" TcpExtTCPFastOpenPassiveFail)
	r0=$(linux_counter "$NS" TcpExtTCPFastOpenCookieReqd)
	get_tfo b1 --fastopen --tfo-cache "$cache" "$url"
	r1=$(linux_counter "$NS" TcpExtTCPFastOpenCookieReqd)
	line=$(grep -v '^#' "$cache" 2>/dev/null)
	if [ "$get_rc" = 0 ] && [ "$(cat "$tmp/get-b1.body")" = hello ] &&
		grep -q "fastopen: no cookie cached for $LINUX_ADDR.*the server sent one" "$tmp/get-b1.err" &&
		[[ "$line" =~ ^$LINUX_ADDR\ 1460\ [0-9a-f]{16}\ 0$ ]] && [ "$r1" = $((r0 + 1)) ]; then
		pass "b: synack get --fastopen #1 (no cache file): body ok, Linux TcpExtTCPFastOpenCookieReqd $r0 -> $r1, cache line '$line'"
	else
		fail "b: synack get #1: exit $get_rc, cache line '$line', Linux TcpExtTCPFastOpenCookieReqd $r0 -> $r1"
		sed 's/^/  /' "$tmp/get-b1.err"
	fi
	# A corrupt line must be reported and dropped, the good one still used.
	printf 'this is not a cache line\n10.1.2.3 1460 xyz 0\n' >>"$cache"
	get_tfo b2 --fastopen --tfo-cache "$cache" "$url"
	p1=$(linux_counter "$NS" TcpExtTCPFastOpenPassive)
	pf1=$(linux_counter "$NS" TcpExtTCPFastOpenPassiveFail)
	syns=$(syn_data "$tmp/get-b2.pcap" "$SYNACK_ADDR")
	if [ "$get_rc" = 0 ] && [ "$(cat "$tmp/get-b2.body")" = hello ] && [ "$p1" = $((p0 + 1)) ] && [ "$pf1" = "$pf0" ] &&
		grep -q "fastopen: the request went in the SYN .* the server acknowledged it" "$tmp/get-b2.err"; then
		pass "b: synack get --fastopen #2: the request went in the SYN; Linux TcpExtTCPFastOpenPassive $p0 -> $p1, TcpExtTCPFastOpenPassiveFail $pf0 -> $pf1"
	else
		fail "b: synack get #2: exit $get_rc; Linux TcpExtTCPFastOpenPassive $p0 -> $p1 (want +1), PassiveFail $pf0 -> $pf1 (want +0)"
		sed 's/^/  /' "$tmp/get-b2.err"
	fi
	if [ "$(wc -l <<<"$syns")" = 1 ] && grep -q "^[0-9]*:GET /b HTTP/1.1$" <<<"$syns"; then
		pass "b: synack's capture: its SYN carried the request (bytes:first line) $syns"
	else
		fail "b: synack's capture: SYNs with data: '$syns' (want one, 'GET /b HTTP/1.1')"
	fi
	if [ "$(grep -c "line ignored" "$tmp/get-b2.err")" = 2 ] && [ "$(grep -vc '^#' "$cache")" = 1 ]; then
		pass "b: the 2 corrupt cache lines were reported and dropped: $(grep -m1 "line ignored" "$tmp/get-b2.err")"
	else
		fail "b: corrupt cache lines: $(grep -c "line ignored" "$tmp/get-b2.err") reported (want 2); the file now:"
		sed 's/^/  /' "$cache"
	fi
	# No --tfo-cache: $XDG_CACHE_HOME/synack/tfo-cache, made with its directory.
	XDG_CACHE_HOME="$tmp/xdg" get_tfo b3 --fastopen "$url"
	if [ "$get_rc" = 0 ] && grep -q "^$LINUX_ADDR 1460 [0-9a-f]\{16\} 0$" "$tmp/xdg/synack/tfo-cache" 2>/dev/null; then
		pass "b: without --tfo-cache the cache is \$XDG_CACHE_HOME/synack/tfo-cache, created"
	else
		fail "b: default cache: exit $get_rc, $tmp/xdg/synack/tfo-cache: $(cat "$tmp/xdg/synack/tfo-cache" 2>&1)"
		sed 's/^/  /' "$tmp/get-b3.err"
	fi
	# Without --fastopen: as before, a plain SYN, no fastopen line, no cache.
	p0=$(linux_counter "$NS" TcpExtTCPFastOpenPassive)
	HOME="$tmp/home" XDG_CACHE_HOME="$tmp/xdg2" get_tfo b4 "$url"
	p1=$(linux_counter "$NS" TcpExtTCPFastOpenPassive)
	syns=$(syn_data "$tmp/get-b4.pcap" "$SYNACK_ADDR")
	if [ "$get_rc" = 0 ] && [ -z "$syns" ] && [ "$p1" = "$p0" ] && ! grep -q fastopen "$tmp/get-b4.err" &&
		[ ! -e "$tmp/home" ] && [ ! -e "$tmp/xdg2" ]; then
		pass "b: synack get without --fastopen: a plain SYN, no fastopen output, no cache file"
	else
		fail "b: synack get without --fastopen: exit $get_rc, SYN data '$syns', TcpExtTCPFastOpenPassive $p0 -> $p1"
		sed 's/^/  /' "$tmp/get-b4.err"
	fi
	stop_server
}

# --------------------------------------------------------------- part c

part_c() {
	local url="http://$S:$PORT/bytes/5" cache="$tmp/c-cache" c1 c2 p0 p1 pf0 pf1 a0 a1 passive pfail syns
	# c1: synack at S makes the cookie; a Linux server at S accepts it.
	start_up c1 "$TAP1" "$S" "$LINUX_ADDR1" --sysctl "net.ipv4.tcp_fastopen_key=$KEY"
	curl_tfo "$NS2" "http://$S:$PORT/bytes/100"
	c1=$(linux_cookie "$NS2" "$S")
	stop_up c1
	if [ "$curl_rc" = 0 ] && [ "$curl_result" = "200 100" ] && [ -n "$c1" ]; then
		pass "c: Linux's client ($NS2_ADDR) learnt cookie $c1 from synack at $S (key $KEY)"
	else
		fail "c: Linux's client and synack at $S: curl exit $curl_rc, '$curl_result', cookie '$c1'"
		sed 's/^/  curl: /' "$tmp/curl.err"
	fi
	ip -n "$NS" addr add "$S/32" dev lo
	start_server "$S"
	p0=$(linux_counter "$NS" TcpExtTCPFastOpenPassive)
	pf0=$(linux_counter "$NS" TcpExtTCPFastOpenPassiveFail)
	a0=$(linux_counter "$NS2" TcpExtTCPFastOpenActive)
	curl_tfo "$NS2" "http://$S:$PORT/c"
	p1=$(linux_counter "$NS" TcpExtTCPFastOpenPassive)
	pf1=$(linux_counter "$NS" TcpExtTCPFastOpenPassiveFail)
	a1=$(linux_counter "$NS2" TcpExtTCPFastOpenActive)
	if [ "$curl_rc" = 0 ] && [ "$curl_result" = "200 5" ] && [ "$p1" = $((p0 + 1)) ] && [ "$pf1" = "$pf0" ] &&
		[ "$a1" = $((a0 + 1)) ]; then
		pass "c: the Linux server at $S accepted synack's cookie in the SYN: TcpExtTCPFastOpenPassive $p0 -> $p1, TcpExtTCPFastOpenPassiveFail $pf0 -> $pf1; the client's TcpExtTCPFastOpenActive $a0 -> $a1"
	else
		fail "c: the Linux server at $S and synack's cookie: curl exit $curl_rc, '$curl_result'; TcpExtTCPFastOpenPassive $p0 -> $p1 (want +1), PassiveFail $pf0 -> $pf1 (want +0), the client's TcpExtTCPFastOpenActive $a0 -> $a1 (want +1)"
		sed 's/^/  curl: /' "$tmp/curl.err"
	fi
	# Ask the Linux server for a cookie of its own: the same bytes.
	ip -n "$NS2" tcp_metrics delete "$S" 2>/dev/null
	curl_tfo "$NS2" "http://$S:$PORT/c"
	c2=$(linux_cookie "$NS2" "$S")
	if [ "$curl_rc" = 0 ] && [ -n "$c1" ] && [ "$c2" = "$c1" ]; then
		pass "c: the Linux server's own cookie for $NS2_ADDR is synack's: $c2"
	else
		fail "c: the Linux server's cookie '$c2', synack's '$c1' (want equal)"
	fi
	# c2: the Linux server at S makes the cookie for synack get...
	get_tfo c1 --sysctl "net.ipv4.tcp_fastopen_key=$KEY" --fastopen --tfo-cache "$cache" "$url"
	if [ "$get_rc" = 0 ] && grep -q "^$S 1460 [0-9a-f]\{16\} 0$" "$cache"; then
		pass "c: synack get ($SYNACK_ADDR) learnt cookie $(awk -v s="$S" '$1 == s { print $3 }' "$cache") from the Linux server at $S"
	else
		fail "c: synack get and the Linux server at $S: exit $get_rc, cache: $(cat "$cache" 2>&1)"
		sed 's/^/  /' "$tmp/get-c1.err"
	fi
	stop_server
	ip -n "$NS" addr del "$S/32" dev lo
	ip -n "$NS" neigh flush dev "$TAP1"
	# ...and synack, at S again with the same key, accepts it.
	start_up c2 "$TAP1" "$S" "$LINUX_ADDR1" --sysctl "net.ipv4.tcp_fastopen_key=$KEY"
	get_tfo c2 --sysctl "net.ipv4.tcp_fastopen_key=$KEY" --fastopen --tfo-cache "$cache" "$url"
	stop_up c2
	passive=$(nstat_value "$tmp/up-c2.log" TcpExtTCPFastOpenPassive)
	pfail=$(nstat_value "$tmp/up-c2.log" TcpExtTCPFastOpenPassiveFail)
	syns=$(syn_data "$tmp/up-c2.pcap" "$SYNACK_ADDR")
	if [ "$get_rc" = 0 ] && [ "$passive" = 1 ] && [ "$pfail" = 0 ] &&
		grep -q "fastopen: the request went in the SYN .* the server acknowledged it" "$tmp/get-c2.err" &&
		grep -q "^[0-9]*:GET /bytes/5 HTTP/1.1$" <<<"$syns"; then
		pass "c: synack at $S accepted the Linux server's cookie in synack get's SYN: TcpExtTCPFastOpenPassive $passive, TcpExtTCPFastOpenPassiveFail $pfail"
	else
		fail "c: synack at $S and the Linux server's cookie: get exit $get_rc; TcpExtTCPFastOpenPassive $passive (want 1), TcpExtTCPFastOpenPassiveFail $pfail (want 0); SYN data '$syns'"
		sed 's/^/  /' "$tmp/get-c2.err"
		grep FastOpen "$tmp/up-c2.log" | sed 's/^/  up: /'
	fi
}

main() {
	check_prerequisites
	tmp=$(mktemp -d /tmp/synack-tcp-fastopen.XXXXXX)
	server_py >"$tmp/server.py"
	setup_topology
	part_a
	part_b
	part_c
	finish tcp_fastopen
}

main
