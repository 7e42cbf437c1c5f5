#!/bin/bash
# Interop: examples/uv_echo.c, the echo server driven by libuv, goes through
# the same checks as echo_server (it runs example_echo.sh on the uv_echo
# binary): short and 8 MiB echoes with SHA-256, eight clients at once, a
# client that resets, no connection left, exit 0 on SIGTERM.
#
# usage: bash example_uv_echo.sh /path/to/uv_echo
#
# uv_echo is built only when CMake finds libuv through pkg-config (Debian:
# libuv1-dev, which .ci/run installs). An empty or missing path means it was
# not built: the test is skipped (exit 77), or fails under
# SYNACK_REQUIRE_INTEROP=1, as example_echo.sh does for its prerequisites.
set -u

if [ -z "${1:-}" ]; then
	reason="uv_echo was not built: CMake found no libuv (pkg-config libuv; Debian package libuv1-dev)"
	if [ "${SYNACK_REQUIRE_INTEROP:-0}" = 1 ]; then
		echo "FAIL: $reason (SYNACK_REQUIRE_INTEROP=1)"
		exit 1
	fi
	echo "SKIP: $reason"
	exit 77
fi
exec bash "$(dirname "$0")/example_echo.sh" "$1" uv_echo
