# Shared prologue for the interop tests (tests/interop/*.sh); sourced, never
# run on its own (the name does not end in .sh, so CMake does not register it
# as a test).
#
# The sourcing script sets, before calling these functions:
#   SYNACK      the synack binary (the script's $1)
#   NS          the test's network namespace; NS2 an optional second one
#   TAP, LINUX_ADDR  the TAP device and the Linux side's address (setup_namespace)
#   tmp         the scratch directory ("" until created)
#   synack_pid  the running `synack up`, if any (wait_for_output)
#   failures    the count of failed checks (fail)
# and may define stop_background, which stops the background processes it
# started (called from the EXIT trap); the default here stops $synack_pid.

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# A missing prerequisite: skip, or fail when interop is required.
missing() {
	if [ "${SYNACK_REQUIRE_INTEROP:-0}" = 1 ]; then
		echo "FAIL: $* (SYNACK_REQUIRE_INTEROP=1)"
		exit 1
	fi
	echo "SKIP: $*"
	exit 77
}

# Stop a background process we started: TERM, then KILL after 2 s.
# shellcheck disable=SC2317 # also called through the EXIT trap
stop_pid() {
	local pid=$1
	[ -n "$pid" ] || return 0
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.2
		done
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
}

# The default for scripts whose only background process is $synack_pid;
# a script that starts others defines its own after sourcing this file.
# shellcheck disable=SC2317 # called by cleanup from the EXIT trap
stop_background() {
	stop_pid "${synack_pid:-}"
}

# shellcheck disable=SC2317 # called through the EXIT trap
cleanup() {
	stop_background
	ip netns del "$NS" 2>/dev/null
	[ -n "${NS2:-}" ] && ip netns del "$NS2" 2>/dev/null
	[ -n "$tmp" ] && rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# require_commands "NAME[ NOTE]"...: each command NAME must be installed,
# else missing "no NAME[ NOTE]" (e.g. "ss command (iproute2)").
require_commands() {
	local spec
	for spec in "$@"; do
		command -v "${spec%% *}" >/dev/null || missing "no $spec"
	done
}

# check_common_prerequisites ["NAME[ NOTE]"...]: the prerequisites every
# interop test shares, then the script's own commands (require_commands).
check_common_prerequisites() {
	[ -n "$SYNACK" ] && [ -x "$SYNACK" ] || { echo "FAIL: usage: $0 /path/to/synack"; exit 1; }
	[ "$(id -u)" = 0 ] || missing "needs root"
	[ -c /dev/net/tun ] || missing "no /dev/net/tun"
	command -v ip >/dev/null || missing "no ip command (iproute2)"
	require_commands "$@"
}

# check_example_prerequisites USAGE ["NAME[ NOTE]"...]: for the example
# tests, whose binary is $BIN (USAGE: the arguments, for the usage line).
check_example_prerequisites() {
	local usage=$1
	shift
	if [ -z "$BIN" ] || [ ! -x "$BIN" ]; then
		echo "FAIL: usage: $0 $usage"
		exit 1
	fi
	SYNACK=$BIN check_common_prerequisites "$@"
}

# The namespace $NS with the TAP device $TAP at $LINUX_ADDR/24, MTU 1500.
setup_namespace() {
	ip netns add "$NS" 2>/dev/null || missing "cannot create a network namespace"
	ip -n "$NS" link set lo up &&
		ip netns exec "$NS" ip tuntap add dev "$TAP" mode tap &&
		ip -n "$NS" addr add "$LINUX_ADDR/24" dev "$TAP" &&
		ip -n "$NS" link set "$TAP" mtu 1500 up ||
		missing "cannot create TAP device $TAP in namespace $NS"
	# Keep IPv6 chatter (router solicitations, MLD) out of the logs.
	ip netns exec "$NS" sysctl -qw "net.ipv6.conf.$TAP.disable_ipv6=1" 2>/dev/null || true
}

# wait_for_line FILE PATTERN PID [TENTHS]: up to TENTHS (default 100)
# tenths of a second for a line matching PATTERN in FILE, while PID lives.
wait_for_line() {
	local file=$1 pattern=$2 pid=$3 tenths=${4:-100}
	for _ in $(seq 1 "$tenths"); do
		grep -q -- "$pattern" "$file" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	grep -q -- "$pattern" "$file" 2>/dev/null
}

# Wait up to $2 tenths of a second for a line matching $1 in synack's output.
wait_for_output() {
	wait_for_line "$tmp/out.log" "$1" "$synack_pid" "$2"
}

# show_log FILE PREFIX [LINES]: FILE (its last LINES lines), each line
# prefixed with PREFIX; for the details under a FAIL.
show_log() {
	if [ -n "${3:-}" ]; then
		tail -n "$3" "$1" | sed "s/^/$2/"
	else
		sed "s/^/$2/" "$1"
	fi
}

# has_sanitizer_report FILE: FILE holds a sanitizer (ASan, UBSan) report.
has_sanitizer_report() {
	grep -q "Sanitizer\|runtime error" "$1"
}

# start_synack_up WHAT PATTERN [options...]: `synack up --tap $TAP --addr
# $SYNACK_ADDR/24 options...` in $NS, stdout in $tmp/out.log (emptied
# first), stderr in $tmp/err.log; waits up to 5 s for a line matching
# PATTERN, else fails "WHAT did not start" and exits.
start_synack_up() {
	local what=$1 pattern=$2
	shift 2
	: >"$tmp/out.log"
	ip netns exec "$NS" "$SYNACK" up --tap "$TAP" --addr "$SYNACK_ADDR/24" "$@" \
		>"$tmp/out.log" 2>"$tmp/err.log" &
	synack_pid=$!
	if ! wait_for_output "$pattern" 50; then
		fail "$what did not start"
		show_log "$tmp/err.log" "  stderr: "
		exit 1
	fi
}

# start_example WHAT PATTERN [arguments...]: the example `$BIN $TAP
# $EX_ADDR/24 arguments...` in $NS, its output in $tmp/out.log (emptied
# first); waits up to 5 s for a line matching PATTERN, else fails "WHAT did
# not start" and exits.
start_example() {
	local what=$1 pattern=$2
	shift 2
	: >"$tmp/out.log"
	ip netns exec "$NS" "$BIN" "$TAP" "$EX_ADDR/24" "$@" >"$tmp/out.log" 2>&1 &
	synack_pid=$!
	if ! wait_for_output "$pattern" 50; then
		fail "$what did not start"
		show_log "$tmp/out.log" "  "
		exit 1
	fi
}

# terminate_synack: SIGTERM to $synack_pid, up to 5 s for it to exit; its
# exit status in synack_rc, and synack_pid emptied.
terminate_synack() {
	kill -TERM "$synack_pid"
	for _ in $(seq 1 50); do
		kill -0 "$synack_pid" 2>/dev/null || break
		sleep 0.1
	done
	wait "$synack_pid"
	synack_rc=$?
	synack_pid=""
}

# stop_synack_checked WHAT LOG PREFIX [LINES]: terminate_synack; it must
# exit 0 with no sanitizer report in LOG: "WHAT exited 0 on SIGTERM", else
# a FAIL with LOG (show_log LOG PREFIX LINES).
stop_synack_checked() {
	local what=$1 log=$2 prefix=$3 lines=${4:-}
	terminate_synack
	if [ "$synack_rc" = 0 ] && ! has_sanitizer_report "$log"; then
		pass "$what exited 0 on SIGTERM"
	else
		fail "$what exited $synack_rc on SIGTERM"
		show_log "$log" "$prefix" "$lines"
	fi
}

# nstat_value FILE NAME: the last value of counter NAME in the nstat-style
# lines of FILE ("-": stdin), 0 if none.
nstat_value() {
	awk -v name="$2" '$1 == name { v = $2 } END { print v + 0 }' "$1"
}

# wait_ss_clean [FILTER...]: up to 3 s for `ss -Htan FILTER` in $NS to show
# no connection but TIME-WAIT (and LISTEN); what is left in ss_left.
wait_ss_clean() {
	ss_left=""
	for _ in $(seq 1 30); do
		ss_left=$(ip netns exec "$NS" ss -Htan "$@" | grep -v '^TIME-WAIT' | grep -v '^LISTEN')
		[ -z "$ss_left" ] && break
		sleep 0.1
	done
	[ -z "$ss_left" ]
}

# check_ss_clean LABEL [FILTER...]: wait_ss_clean as a check.
check_ss_clean() {
	local label=$1
	shift
	if wait_ss_clean "$@"; then
		pass "$label: ss shows no connection left but TIME-WAIT"
	else
		fail "$label: ss shows connections left:"
		ip netns exec "$NS" ss -tani "$@" | sed 's/^/  /'
	fi
}

# curl_sha256 URL MAX_TIME WRITE_OUT: curl in $NS; its exit status in
# curl_rc, the -w output in curl_out, the body's SHA-256 in curl_sha and
# curl's stderr in $tmp/curl.err.
# shellcheck disable=SC2034 # curl_out, curl_rc, curl_sha: for the caller
curl_sha256() {
	curl_out=$(ip netns exec "$NS" curl -sS --max-time "$2" -o "$tmp/body" -w "$3" "$1" 2>"$tmp/curl.err")
	curl_rc=$?
	curl_sha=$(sha256sum "$tmp/body" 2>/dev/null | cut -d' ' -f1)
	rm -f "$tmp/body"
}

# wait_for_port NAMESPACE ADDR PORT: up to 5 s until something listens there.
wait_for_port() {
	for _ in $(seq 1 50); do
		ip netns exec "$1" python3 -c "import socket; socket.create_connection(('$2', $3), 1)" 2>/dev/null &&
			return 0
		sleep 0.1
	done
	return 1
}

# have_tshark: true when tshark is installed; otherwise a FAIL under
# SYNACK_REQUIRE_INTEROP=1, else a note that the capture is not checked.
have_tshark() {
	command -v tshark >/dev/null && return 0
	if [ "${SYNACK_REQUIRE_INTEROP:-0}" = 1 ]; then
		fail "tshark is not installed"
	else
		echo "note: tshark is not installed; capture not checked"
	fi
	return 1
}

# read_capture PCAP [WHICH]: tshark's lines for PCAP in capture_frames;
# false, after a FAIL, when tshark cannot read it or finds malformed
# packets. WHICH names the capture in the FAIL ("the WHICH capture").
read_capture() {
	local pcap=$1 which=${2:-}
	if ! capture_frames=$(tshark -n -r "$pcap" 2>"$tmp/tshark.err"); then
		fail "tshark cannot read the ${which:+$which }capture"
		sed 's/^/  /' "$tmp/tshark.err"
		return 1
	fi
	if echo "$capture_frames" | grep -qi malformed; then
		fail "${which:+the $which }capture has malformed packets"
		echo "$capture_frames" | grep -i malformed | sed 's/^/  /'
		return 1
	fi
}

# finish NAME [WHOSE LOG]: the verdict line from $failures, then exit; on
# failure, the last 40 lines of LOG under "--- WHOSE output ...".
finish() {
	if [ "$failures" = 0 ]; then
		echo "PASS: $1"
		exit 0
	fi
	echo "FAIL: $1 ($failures checks failed)"
	if [ -n "${3:-}" ]; then
		echo "--- $2 output (last 40 lines) ---"
		tail -n 40 "$3"
	fi
	exit 1
}
