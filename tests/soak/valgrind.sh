#!/usr/bin/env bash
# A few soak seeds under valgrind's memcheck: any error or leak fails.
# Skips (exit 77) without valgrind, except where the environment demands
# every tool (CI sets SYNACK_REQUIRE_INTEROP=1; `.ci/run` installs valgrind).
set -u
soak=$1
if ! command -v valgrind >/dev/null 2>&1; then
	if [ "${SYNACK_REQUIRE_INTEROP:-0}" = 1 ]; then
		echo "FAIL: valgrind is not installed"
		exit 1
	fi
	echo "SKIP: valgrind is not installed"
	exit 77
fi
exec valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect \
	"$soak" --iterations 4
