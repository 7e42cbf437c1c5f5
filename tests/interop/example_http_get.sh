#!/bin/bash
# Interop: the blocking-mode HTTP client example (examples/http_get.c) over a
# TAP device, against python3's http.server in the test's namespace:
#   - it fetches a 4 MiB file on the TAP's subnet, and the body on stdout
#     has the file's SHA-256;
#   - with a gateway argument it fetches the same file from an address off
#     the subnet (198.51.100.1 on the namespace's loopback, reached through
#     the Linux side as the gateway);
#   - a 404 exits 1, a refused connection exits 1 with the error, an
#     off-subnet address without a gateway exits 1, and bad usage exits 2;
#   - no run leaves sanitizer reports.
#
# usage: bash example_http_get.sh /path/to/http_get
#
# Everything happens inside a private network namespace. Needs root,
# /dev/net/tun, iproute2 and python3; without them the test is skipped (exit
# 77), unless SYNACK_REQUIRE_INTEROP=1, which turns a missing prerequisite
# into a failure.
set -u

BIN=${1:-}
NS="sn-ex-get-$$"
TAP=sxg0
LINUX_ADDR=10.77.31.1
EX_ADDR=10.77.31.2
FAR_ADDR=198.51.100.1
HTTP_PORT=8000
CLOSED_PORT=8001
BYTES=4194304
tmp=""
http_pid=""
failures=0

# The shared helpers (pass, fail, missing, the cleanup traps, setup_namespace,
# wait_for_port, ...).
. "$(dirname "$0")/lib/common.bash"

# shellcheck disable=SC2317 # called by cleanup (common.bash) from the EXIT trap
stop_background() {
	stop_pid "$http_pid"
}

start_http_server() {
	mkdir -p "$tmp/www"
	head -c "$BYTES" /dev/urandom >"$tmp/www/file.bin"
	want_sha=$(sha256sum "$tmp/www/file.bin" | cut -d' ' -f1)
	ip -n "$NS" addr add "$FAR_ADDR/32" dev lo
	ip netns exec "$NS" python3 -m http.server "$HTTP_PORT" --bind 0.0.0.0 --directory "$tmp/www" \
		>"$tmp/http.log" 2>&1 &
	http_pid=$!
	wait_for_port "$NS" "$LINUX_ADDR" "$HTTP_PORT" || missing "python3 -m http.server did not start"
}

# get LABEL ARGS...: run http_get with ARGS; sets rc, body file, stderr file.
get() {
	local label=$1
	shift
	ip netns exec "$NS" timeout 120 "$BIN" "$@" >"$tmp/body" 2>"$tmp/get.err"
	rc=$?
	if has_sanitizer_report "$tmp/get.err"; then
		fail "$label: sanitizer report"
		sed 's/^/  /' "$tmp/get.err" | head -n 30
	fi
}

# fetch_ok LABEL ARGS...: exit 0 and the file's SHA-256.
fetch_ok() {
	local label=$1 got
	get "$@"
	got=$(sha256sum "$tmp/body" | cut -d' ' -f1)
	if [ "$rc" = 0 ] && [ "$got" = "$want_sha" ]; then
		pass "$label: exit 0, $(stat -c %s "$tmp/body") bytes, SHA-256 matches ($(grep -m1 'rtt' "$tmp/get.err" | sed 's/^http_get: //'))"
	else
		fail "$label: exit $rc, $(stat -c %s "$tmp/body") bytes, sha256 $got (want $want_sha)"
		sed 's/^/  stderr: /' "$tmp/get.err"
	fi
}

# fetch_fails LABEL WANT_RC PATTERN ARGS...: that exit code and a stderr line.
fetch_fails() {
	local label=$1 want_rc=$2 pattern=$3
	shift 3
	get "$label" "$@"
	if [ "$rc" = "$want_rc" ] && grep -q -- "$pattern" "$tmp/get.err"; then
		pass "$label: exit $rc, $(grep -m1 -- "$pattern" "$tmp/get.err")"
	else
		fail "$label: exit $rc (want $want_rc), stderr lacks '$pattern'"
		sed 's/^/  stderr: /' "$tmp/get.err"
	fi
}

main() {
	check_example_prerequisites /path/to/http_get python3
	tmp=$(mktemp -d /tmp/synack-example-get.XXXXXX)
	setup_namespace
	start_http_server
	fetch_ok "on-link server" "$TAP" "$EX_ADDR/24" "http://$LINUX_ADDR:$HTTP_PORT/file.bin"
	fetch_ok "via the gateway" "$TAP" "$EX_ADDR/24" "$LINUX_ADDR" "http://$FAR_ADDR:$HTTP_PORT/file.bin"
	fetch_fails "404" 1 "404" "$TAP" "$EX_ADDR/24" "http://$LINUX_ADDR:$HTTP_PORT/nothing-here"
	fetch_fails "closed port" 1 "Connection refused" "$TAP" "$EX_ADDR/24" "http://$LINUX_ADDR:$CLOSED_PORT/"
	fetch_fails "off-link, no gateway" 1 "connect to" "$TAP" "$EX_ADDR/24" "http://$FAR_ADDR:$HTTP_PORT/file.bin"
	fetch_fails "bad URL" 2 "usage" "$TAP" "$EX_ADDR/24" "ftp://$LINUX_ADDR/"
	finish "example http_get"
}

main
