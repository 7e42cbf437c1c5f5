#!/bin/bash
# Run every scripts/*.pkt under a real packetdrill against
# libsynack_packetdrill.so. packetdrill is not packaged by Debian: build it
# from google/packetdrill (docs/packetdrill.md) and put it on PATH or in
# $PACKETDRILL. Exit 77 (skipped) without it.
#   run_scripts.sh path/to/libsynack_packetdrill.so path/to/scripts
set -u
so=$1
dir=$2
pd=${PACKETDRILL:-$(command -v packetdrill || true)}
if [ -z "$pd" ] || [ ! -x "$pd" ]; then
	echo "SKIP: no packetdrill binary (set PACKETDRILL=/path/to/packetdrill)"
	exit 77
fi
pass=0
fail=0
for s in "$dir"/*.pkt; do
	if "$pd" --so_filename="$so" --local_ip=192.168.0.1 --remote_ip=192.0.2.1 \
		--so_flags="local=192.168.0.1,mask=255.255.0.0" "$s"; then
		echo "ok   $(basename "$s")"
		pass=$((pass + 1))
	else
		echo "FAIL $(basename "$s")"
		fail=$((fail + 1))
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
