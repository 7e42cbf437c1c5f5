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
# and defines stop_background, which stops the background processes it
# started (called from the EXIT trap).

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

# shellcheck disable=SC2317 # called through the EXIT trap
cleanup() {
	stop_background
	ip netns del "$NS" 2>/dev/null
	[ -n "${NS2:-}" ] && ip netns del "$NS2" 2>/dev/null
	[ -n "$tmp" ] && rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# The prerequisites every interop test shares; the script checks its own
# extra commands after this.
check_common_prerequisites() {
	[ -n "$SYNACK" ] && [ -x "$SYNACK" ] || { echo "FAIL: usage: $0 /path/to/synack"; exit 1; }
	[ "$(id -u)" = 0 ] || missing "needs root"
	[ -c /dev/net/tun ] || missing "no /dev/net/tun"
	command -v ip >/dev/null || missing "no ip command (iproute2)"
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

# Wait up to $2 tenths of a second for a line matching $1 in synack's output.
wait_for_output() {
	local pattern=$1 tenths=$2
	for _ in $(seq 1 "$tenths"); do
		grep -q -- "$pattern" "$tmp/out.log" 2>/dev/null && return 0
		kill -0 "$synack_pid" 2>/dev/null || break
		sleep 0.1
	done
	grep -q -- "$pattern" "$tmp/out.log" 2>/dev/null
}
