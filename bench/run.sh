#!/bin/bash
# `make bench`: run the benchmark programs of a build and write
# bench/results.md with their figures, the ratios against the peers measured
# in the same run, instruction counts from callgrind, and the machine they
# ran on. bench/history.md (before/after of each optimisation, kept by hand)
# is copied in at the end.
#
# The lwIP peer needs Debian's liblwip-dev and the instruction counts need
# valgrind: when run as root with apt-get, this installs whichever is
# missing and reconfigures the build so the benches pick lwIP up.
#
# usage: bash bench/run.sh BUILD_DIR
set -euo pipefail

build=${1:-build}
cd "$(dirname "$0")/.."
out=bench/results.md
jobs=$(nproc 2>/dev/null || echo 2)
flood_cg_count=20000
hs_cg_count=2000
bulk_cg_mib=16
movsb_off=0x1000000 # glibc's rep movsb threshold, above any frame: see the offloading wire's callgrind
mem_conns=200000 # about a minute; fixed costs (pools, first tables) weigh less than at 50,000
tmp=$(mktemp -d /tmp/synack-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# ------------------------------------------------------------- setup

need=()
pkg-config --exists lwip 2>/dev/null || need+=(liblwip-dev)
command -v valgrind >/dev/null || need+=(valgrind)
command -v ip >/dev/null || need+=(iproute2)   # bench/tap_bench.sh's namespaces
if [ ${#need[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	echo "bench: installing ${need[*]} ..."
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 ||
		{ apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1; } ||
		echo "bench: could not install ${need[*]}; going on without" >&2
fi
[ -f "$build/CMakeCache.txt" ] || { echo "bench: $build is not a CMake build directory" >&2; exit 1; }
cmake -S . -B "$build" -DSYNACK_BENCH=ON >/dev/null
cmake --build "$build" -j "$jobs" --target syn_flood handshake bulk memory tap_bulk latency synack >/dev/null
for b in syn_flood handshake bulk memory tap_bulk latency; do
	[ -x "$build/bench/$b" ] || { echo "bench: $build/bench/$b is missing" >&2; exit 1; }
done
have_cg=0
command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null && have_cg=1

# Run a bench under callgrind, counting only the function `toggle`: the
# total instructions (Ir), or nothing if it failed.
callgrind() {
	local name=$1 toggle=$2
	shift 2
	valgrind --tool=callgrind --toggle-collect="$toggle" --callgrind-out-file="$tmp/cg-$name.out" \
		"$@" >"$tmp/cg-$name.log" 2>&1 || { echo "bench: callgrind $name failed (see its log)" >&2; return 0; }
	# Nothing when the function never ran (e.g. a peer the build lacks).
	awk '/^totals:/ && $2 > 0 { print $2 }' "$tmp/cg-$name.out"
}

# x / y with d decimals, or "-" when either is missing.
div() {
	awk -v x="${1:-}" -v y="${2:-}" -v d="${3:-0}" 'BEGIN {
		if (x == "" || y == "" || y + 0 == 0) { print "-"; exit }
		printf "%.*f\n", d, x / y }'
}

# The top functions of a callgrind profile by their own instructions,
# divided by `per` (connections, bytes): a markdown table.
top_functions() {
	local file=$1 per=$2 unit=$3 count=$4
	[ -f "$file" ] || { echo "(no profile)"; return; }
	echo "| $unit | share | function (file) |"
	echo "| ---: | ---: | --- |"
	callgrind_annotate "$file" 2>/dev/null | sed -n '/file:function/,$p' |
		sed -nE 's/^ *([0-9,]+) +\( *([0-9.]+)%\) +([^ ]+).*/\1 \2 \3/p' |
		awk -v per="$per" -v count="$count" '$3 == "PROGRAM" || shown >= count { next } {
			shown++; gsub(",", "", $1); n = split($3, a, ":"); fn = a[n]; file = a[1]
			sub(".*/", "", file); if (file == "???") file = "lwIP"
			printf "| %.*f | %s%% | %s (%s) |\n", (per > 100000 ? 3 : 0), $1 / per, $2, fn, file }'
}

# The median rate a bench printed for `peer variant`: the token after
# the first "median".
median_of() {
	awk -v p="$2" -v v="$3" '$1 == p && (v == "" || $2 == v) {
		for (i = 1; i < NF; i++) if ($i == "median") { print $(i + 1); exit } }' "$1"
}

# ------------------------------------------------------------- runs

echo "bench: handshakes (in memory) ..."
"$build/bench/handshake" | tee "$tmp/hs.txt"
echo "bench: handshakes on the sim wire (synack only: what the sim wire costs) ..."
"$build/bench/handshake" --peer synack --link sim --rounds 3 | grep -E '^synack' | tee "$tmp/hs-sim.txt"

echo "bench: handshakes, synack on the real clock ..."
"$build/bench/handshake" --peer synack --clock real --rounds 3 | grep -E '^synack' | tee "$tmp/hs-real.txt"

echo "bench: bulk (in memory) ..."
"$build/bench/bulk" | tee "$tmp/bulk.txt"
: >"$tmp/bulk-bufs.txt"
for buf in 0 65536 4194304; do
	echo "bench: bulk, synack with --buf $buf ..."
	"$build/bench/bulk" --peer synack --buf "$buf" --rounds 3 --mib 64 | grep -E '^(synack|  synack)' |
		sed "s/^synack /synack --buf $buf: /" | tee -a "$tmp/bulk-bufs.txt"
done
echo "bench: bulk, synack on the offloading wire (checksum offload, TSO/GRO, as veth) ..."
"$build/bench/bulk" --peer synack --offload | grep -E '^(synack|  synack)' |
	sed "s/^synack /synack --offload: /" | tee "$tmp/bulk-offload.txt"

echo "bench: memory ..."
"$build/bench/memory" --conns "$mem_conns" | tee "$tmp/mem.txt"
echo "bench: ehash growing to 2M entries ..."
"$build/bench/ehash" | tee "$tmp/ehash.txt"

declare -A ir
if [ "$have_cg" = 1 ]; then
	for peer in synack lwip; do
		for v in close rst; do
			echo "bench: callgrind, handshake $peer $v ($hs_cg_count connections) ..."
			ir[hs-$peer-$v]=$(callgrind "hs-$peer-$v" hs_measured "$build/bench/handshake" \
				--callgrind "$hs_cg_count" --peer "$peer" --variant "$v")
		done
		# Under valgrind a rep movsb counts one instruction per byte, and
		# glibc's memcpy takes it from 2 KiB up: the copies of merged frames
		# (GRO, the offloading wire's 64 KiB frames) get that far. The bulk
		# rows count glibc's vector loop instead, as for every smaller copy
		# (synack's raw counts are printed too).
		echo "bench: callgrind, bulk $peer ($bulk_cg_mib MiB) ..."
		ir[bulk-$peer]=$(GLIBC_TUNABLES=glibc.cpu.x86_rep_movsb_threshold=$movsb_off callgrind "bulk-$peer" \
			bulk_measured "$build/bench/bulk" --callgrind "$bulk_cg_mib" --peer "$peer")
	done
	ir[bulk-synack-raw]=$(callgrind "bulk-synack-raw" bulk_measured "$build/bench/bulk" --callgrind "$bulk_cg_mib" \
		--peer synack)
	echo "bench: callgrind, bulk synack on the offloading wire ($bulk_cg_mib MiB) ..."
	ir[bulk-synack-offload]=$(GLIBC_TUNABLES=glibc.cpu.x86_rep_movsb_threshold=$movsb_off callgrind \
		"bulk-synack-offload" bulk_measured "$build/bench/bulk" --callgrind "$bulk_cg_mib" --peer synack --offload)
	ir[bulk-synack-offload-raw]=$(callgrind "bulk-synack-offload-raw" bulk_measured "$build/bench/bulk" \
		--callgrind "$bulk_cg_mib" --peer synack --offload)
	echo "bench: callgrind, handshake synack close on the sim wire ..."
	ir[hs-sim]=$(callgrind hs-sim hs_measured "$build/bench/handshake" --callgrind "$hs_cg_count" --peer synack \
		--variant close --link sim)
	echo "bench: callgrind, syn_flood ($flood_cg_count SYNs) ..."
	ir[flood]=$(callgrind flood feed_measured "$build/bench/syn_flood" --rate-only --count "$flood_cg_count" --rounds 1)
fi
bulk_bytes=$((bulk_cg_mib * 1048576))
per_conn() { div "${ir[hs-$1-$2]:-}" "$hs_cg_count" 0; }
per_byte() { div "${ir[bulk-$1]:-}" "$bulk_bytes" 2; }
{
	echo "callgrind: instructions (Ir) of the measured part only, divided by the work:"
	for v in close rst; do
		printf 'handshake %-5s synack %6s per connection, lwip %6s per connection (synack/lwip %s)\n' "$v" \
			"$(per_conn synack "$v")" "$(per_conn lwip "$v")" "$(div "${ir[hs-synack-$v]:-}" "${ir[hs-lwip-$v]:-}" 2)"
	done
	printf 'handshake close synack %6s per connection on the sim wire instead of the in-memory wire\n' \
		"$(div "${ir[hs-sim]:-}" "$hs_cg_count" 0)"
	printf 'bulk            synack %6s per byte,       lwip %6s per byte       (synack/lwip %s);' \
		"$(per_byte synack)" "$(per_byte lwip)" "$(div "${ir[bulk-synack]:-}" "${ir[bulk-lwip]:-}" 2)"
	printf ' synack %s counting rep movsb per byte\n' "$(per_byte synack-raw)"
	printf 'bulk            synack %6s per byte on the offloading wire (checksum offload, TSO/GRO, as veth);' \
		"$(per_byte synack-offload)"
	printf ' %s counting rep movsb per byte\n' "$(per_byte synack-offload-raw)"
	printf 'syn_flood       synack %6s per SYN\n' "$(div "${ir[flood]:-}" "$flood_cg_count" 0)"
} >"$tmp/cg.txt"
[ "$have_cg" = 1 ] || echo "callgrind: skipped (no valgrind; apt-get install valgrind)" >"$tmp/cg.txt"
cat "$tmp/cg.txt"

echo "bench: syn_flood rate (in memory, real clock) ..."
"$build/bench/syn_flood" --rate-only | tee "$tmp/rate.txt"
echo "bench: syn_flood on the sim wire (virtual time) ..."
"$build/bench/syn_flood" --sim-only | tee "$tmp/sim.txt"
echo "bench: the Linux kernel's SYN cookies over veth ..."
bash bench/linux_syn_rate.sh 3 2>&1 | tee "$tmp/linux.txt" || echo "linux: failed" | tee "$tmp/linux.txt"
echo "bench: synack's SYN cookies through TAP, measured the same way ..."
bash bench/syn_rate_tap.sh "$build/synack" 3 2>&1 | tee "$tmp/syntap.txt" || echo "synack-tap: failed" | tee "$tmp/syntap.txt"
echo "bench: the Linux kernel's connect/accept loop over loopback (root: a namespace of its own) ..."
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
	unshare -n sh -c "ip link set lo up && '$build/bench/linux_handshake'" 2>&1 | tee "$tmp/hs-linux.txt" ||
		echo "linux_handshake: failed" | tee "$tmp/hs-linux.txt"
else
	echo "SKIP: linux_handshake needs root (a private network namespace)" | tee "$tmp/hs-linux.txt"
fi
echo "bench: request/response latency in memory ..."
"$build/bench/latency" mem 100000 | tee "$tmp/lat-mem.txt"
echo "bench: synack <-> Linux over TAP, Linux <-> Linux over veth (root) ..."
bash bench/tap_bench.sh "$build" 3 2>&1 | tee "$tmp/tap.txt" || echo "tap_bench: failed" | tee "$tmp/tap.txt"

# ------------------------------------------------------------- summary

hs_sy_close=$(median_of "$tmp/hs.txt" synack close)
hs_lw_close=$(median_of "$tmp/hs.txt" lwip close)
hs_sy_rst=$(median_of "$tmp/hs.txt" synack rst)
hs_lw_rst=$(median_of "$tmp/hs.txt" lwip rst)
hs_lx_close=$(median_of "$tmp/hs-linux.txt" linux close)
hs_lx_rst=$(median_of "$tmp/hs-linux.txt" linux rst)
bulk_sy=$(median_of "$tmp/bulk.txt" synack "")
bulk_lw=$(median_of "$tmp/bulk.txt" lwip "")
bulk_off=$(median_of "$tmp/bulk-offload.txt" synack "--offload:")
flood_rate=$(awk '$1 == "rate:" && $2 == "cpu" { print $4; exit }' "$tmp/rate.txt")
# The SYNs/s of linux_syn_rate.sh's and syn_rate_tap.sh's lines.
syn_rate() { awk '{ for (i = 2; i <= NF; i++) if ($i == "SYNs/s") { print $(i - 1); exit } }' "$1"; }
flood_linux=$(syn_rate "$tmp/linux.txt")
flood_tap=$(syn_rate "$tmp/syntap.txt")
mem_field() { awk -v w="$1" 'index($0, w) == 1 { for (i = 1; i < NF; i++) if ($(i + 1) == "bytes") { print $i; exit } }' "$tmp/mem.txt"; }
m_req=$(mem_field "request sock (server)")
m_est=$(mem_field "idle established, accepted (server)")
m_tw=$(mem_field "TIME-WAIT entry (client)")
m_rss=$(mem_field "resident set per connection, both")
eh_worst=$(awk '$1 == "ehash:" { for (i = 1; i < NF; i++) if ($i == "worst") { print $(i + 1); exit } }' "$tmp/ehash.txt")
eh_mean=$(awk '$1 == "ehash:" { for (i = 1; i < NF; i++) if ($i == "mean") { print $(i + 1); exit } }' "$tmp/ehash.txt")

# Figures 3 and 6: the median rate of a tap_bench.sh row, and a latency line's p50/p99.
tap_rate() { awk -v l="$1" 'index($0, l) == 1 { for (i = 1; i < NF; i++) if ($(i + 1) == "Gbit/s") { print $i; exit } }' "$tmp/tap.txt"; }
lat_pct() { awk -v l="$2" -v p="$3" 'index($0, l) == 1 { for (i = 1; i < NF; i++) if ($i == p) { print $(i + 1); exit } }' "$1"; }
t_veth=$(tap_rate "linux -> linux, veth")
t_rx=$(tap_rate "linux -> synack, TAP, offloads")
t_tx=$(tap_rate "synack -> linux, TAP, offloads")
t_rxp=$(tap_rate "linux -> synack, TAP, --no-offload")
t_txp=$(tap_rate "synack -> linux, TAP, --no-offload")
l_veth50=$(lat_pct "$tmp/tap.txt" "linux client, veth" p50)
l_veth99=$(lat_pct "$tmp/tap.txt" "linux client, veth" p99)
l_tap50=$(lat_pct "$tmp/tap.txt" "synack client:" p50)
l_tap99=$(lat_pct "$tmp/tap.txt" "synack client:" p99)
l_mem50=$(lat_pct "$tmp/lat-mem.txt" "synack in memory" p50)
l_mem99=$(lat_pct "$tmp/lat-mem.txt" "synack in memory" p99)

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
{
	echo "# synack benchmark results"
	echo
	echo "Written by \`make bench\` (bench/run.sh); the programs are in bench/, their"
	echo "figures below are as they printed them. Rates are per second of CPU time"
	echo "(medians of the rounds), which other work on the machine disturbs less than"
	echo "wall time; both are printed. Instruction counts (callgrind) are exact and"
	echo "repeatable: compare those across changes."
	echo
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- machine: $(nproc) cores, $(uname -m), ${cpu:-unknown CPU}, Linux $(uname -r)"
	echo "- compiler: $(cc --version 2>/dev/null | sed -n 1p); build: $build (CMAKE_BUILD_TYPE=$(awk -F= '/^CMAKE_BUILD_TYPE:/ { print $2 }' "$build/CMakeCache.txt"))"
	echo "- peer: lwIP $(dpkg-query -W -f '${Version}' liblwip-dev 2>/dev/null || echo '(not installed)') (Debian liblwip-dev), two copies in one process (bench/lwip_peer.h)"
	echo "- load average when done: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	echo "## Summary against the targets of issue 7"
	echo
	echo "| figure | synack | lwIP | synack/lwIP | target |"
	echo "| --- | ---: | ---: | ---: | --- |"
	echo "| handshake + request/response + close, conn/s (CPU) | ${hs_sy_close:--} | ${hs_lw_close:--} | $(div "$hs_sy_close" "$hs_lw_close" 2) | >= 1,000,000/s, >= 5x lwIP |"
	echo "| the same, instructions per connection | $(per_conn synack close) | $(per_conn lwip close) | $(div "${ir[hs-synack-close]:-}" "${ir[hs-lwip-close]:-}" 2) | <= 2,500 |"
	echo "| handshake + RST, conn/s (CPU) | ${hs_sy_rst:--} | ${hs_lw_rst:--} | $(div "$hs_sy_rst" "$hs_lw_rst" 2) | >= 5x lwIP |"
	echo "| the same, instructions per connection | $(per_conn synack rst) | $(per_conn lwip rst) | $(div "${ir[hs-synack-rst]:-}" "${ir[hs-lwip-rst]:-}" 2) | <= 2,500 |"
	echo "| bulk, GB/s received (CPU) | ${bulk_sy:--} | ${bulk_lw:--} | $(div "$bulk_sy" "$bulk_lw" 2) | >= 5 GB/s |"
	echo "| bulk, instructions per byte (rep movsb counted as glibc's vector loop) | $(per_byte synack) | $(per_byte lwip) | $(div "${ir[bulk-synack]:-}" "${ir[bulk-lwip]:-}" 2) | <= 1 |"
	echo "| bulk, synack, offloading wire (checksum offload, TSO/GRO, as veth), GB/s received (CPU) | ${bulk_off:--} | | | >= 5 GB/s |"
	echo "| the same, instructions per byte (rep movsb counted as glibc's vector loop) | $(per_byte synack-offload) | | | <= 1 |"
	echo "| SYN flood with cookies, SYNs/s (CPU, best) | ${flood_rate:--} | | | >= 2,000,000/s |"
	echo "| SYN flood through TAP, SYNs/s answered (hping3-bound; the peer column is the Linux kernel over veth) | ${flood_tap:--} | ${flood_linux:--} | $(div "$flood_tap" "$flood_linux" 2) | >= Linux |"
	echo "| bytes per request sock | ${m_req:--} | | | <= 128 |"
	echo "| bytes per idle established socket | ${m_est:--} | | | <= 1024 (Linux 2368) |"
	echo "| bytes per TIME-WAIT entry | ${m_tw:--} | | | <= 96 |"
	echo "| heap of 1M idle accepted sockets (server side) | $(div "$m_est" 1073741824e-6 2) GiB | | | |"
	echo "| resident set of 1M idle connections, both ends in one process | $(div "$m_rss" 1073741824e-6 2) GiB | | | <= 1.5 GiB (for 1M connections) |"
	echo "| worst single insert into the connection table growing to 2M entries, ms (mean us) | ${eh_worst:--} (${eh_mean:--}) | | | O(1) at a million connections |"
	echo
	echo "Against the Linux kernel (figures 3 and 6; root only, else \"-\"): synack over a TAP"
	echo "device against Linux over a veth pair, measured in the same run (bench/tap_bench.sh)."
	echo
	echo "| figure | synack | Linux <-> Linux, veth | synack/Linux | target |"
	echo "| --- | ---: | ---: | ---: | --- |"
	echo "| bulk Linux -> synack over TAP, offloads, Gbit/s | ${t_rx:--} | ${t_veth:--} | $(div "$t_rx" "$t_veth" 2) | >= 0.90 of veth |"
	echo "| bulk synack -> Linux over TAP, offloads, Gbit/s | ${t_tx:--} | ${t_veth:--} | $(div "$t_tx" "$t_veth" 2) | >= 0.90 of veth |"
	echo "| bulk Linux -> synack over TAP, --no-offload, Gbit/s | ${t_rxp:--} | ${t_veth:--} | $(div "$t_rxp" "$t_veth" 2) | |"
	echo "| bulk synack -> Linux over TAP, --no-offload, Gbit/s | ${t_txp:--} | ${t_veth:--} | $(div "$t_txp" "$t_veth" 2) | |"
	echo "| request/response p50 over TAP, us | ${l_tap50:--} | ${l_veth50:--} | $(div "$l_tap50" "$l_veth50" 2) | |"
	echo "| request/response p99 over TAP, us | ${l_tap99:--} | ${l_veth99:--} | $(div "$l_tap99" "$l_veth99" 2) | |"
	echo "| request/response p50 / p99 in memory, us | ${l_mem50:--} / ${l_mem99:--} | | | |"
	echo
	echo "And the kernel's own connect/accept loop over loopback, one process, against"
	echo "synack's in memory (figure 1's Linux reference; bench/linux_handshake.c):"
	echo
	echo "| figure | synack in memory | Linux over loopback | synack/Linux |"
	echo "| --- | ---: | ---: | ---: |"
	echo "| handshake + request/response + close, conn/s (CPU) | ${hs_sy_close:--} | ${hs_lx_close:--} | $(div "$hs_sy_close" "$hs_lx_close" 1) |"
	echo "| handshake + RST, conn/s (CPU) | ${hs_sy_rst:--} | ${hs_lx_rst:--} | $(div "$hs_sy_rst" "$hs_lx_rst" 1) |"
	echo
	echo "## Handshakes per second, in memory"
	echo
	echo "\`handshake\`: a client and a server stack in one process on the in-memory"
	echo "wire (bench/memwire.h: one copy in, one copy out per frame, nothing else);"
	echo "lwIP the same with two copies of its library and its raw API. \`close\` ="
	echo "connect, accept, 1-byte request, 1-byte response, close (client first);"
	echo "\`rst\` = connect, accept, close with SO_LINGER 0. synack's virtual clock moves"
	echo "60 s / 4096 per connection, so TIME-WAIT entries expire as on Linux with"
	echo "about 4096 alive; lwIP's TIME-WAIT pcbs are freed by the bench after each"
	echo "connection (its timers run on the real clock and its list is linear), which"
	echo "favours lwIP. synack sends 10 frames per \`close\` connection to lwIP's 9:"
	echo "Linux's quick-ACK mode acknowledges the request at once."
	echo
	echo '```'
	cat "$tmp/hs.txt"
	echo '```'
	echo
	echo "synack on its sim wire (src/link/sim.c, zero delay) instead, to show what the"
	echo "sim wire itself costs (it draws random numbers, mallocs and heap-sorts each frame):"
	echo
	echo '```'
	cat "$tmp/hs-sim.txt"
	echo '```'
	echo
	echo "synack on the real clock (CLOCK_MONOTONIC, read at each clock_now: about 160"
	echo "times per \`close\` connection) instead of the virtual one; TIME-WAIT then lasts"
	echo "60 real seconds, so all of this run's connections stay in it:"
	echo
	echo '```'
	cat "$tmp/hs-real.txt"
	echo '```'
	echo
	echo "## Bulk throughput, in memory"
	echo
	echo "\`bulk\`: one connection, MTU 1500, the client's application sends, the server's"
	echo "reads everything (a copy into its own buffer); bytes received per second."
	echo "synack's socket buffers are 256 KiB (SO_SNDBUF/SO_RCVBUF, doubled as Linux"
	echo "does); lwIP's build has a 64 KiB window and send buffer. The rows after it"
	echo "are synack alone with other buffers: \`--buf 0\` keeps the defaults (16 KiB"
	echo "to send, 128 KiB to receive: synack does not autotune yet), 65536 gives a"
	echo "64 KiB window like lwIP's, 4194304 a large one."
	echo
	echo '```'
	cat "$tmp/bulk.txt"
	cat "$tmp/bulk-bufs.txt"
	echo '```'
	echo
	echo "synack, offloading wire (checksum offload, TSO/GRO, as veth): \`bulk --peer synack"
	echo "--offload\`, the same run on bench/memwire.h's offloading mode, as a veth pair with"
	echo "Linux's default offloads: the stack leaves TCP checksums to the device and the"
	echo "receiver trusts them (CHECKSUM_PARTIAL); the wire offers TSO, so the sender builds"
	echo "runs of full-sized segments into super-frames of up to 64 KiB with one set of headers"
	echo "(tcp_transmit_tso), and the receiver takes each whole (GRO). lwIP has no such"
	echo "offloads: no row for it."
	echo
	echo '```'
	cat "$tmp/bulk-offload.txt"
	echo '```'
	echo
	echo "## Memory"
	echo
	echo "\`memory --conns $mem_conns\`: heap per object, charged to the stack that allocated"
	echo "it (malloc wrapped), and the resident set with 50000 idle connections (both"
	echo "ends in the process, less the wire's rings). x 1M extrapolates linearly."
	echo "\`ehash\`: the connection table of one stack growing to 2M entries, one insert"
	echo "at a time; the worst single insert shows what a doubling costs the connection"
	echo "that triggers it (the entries move a few buckets per insert)."
	echo
	echo '```'
	cat "$tmp/mem.txt"
	cat "$tmp/ehash.txt"
	echo '```'
	echo
	echo "## Instructions (callgrind)"
	echo
	echo "\`valgrind --tool=callgrind --toggle-collect=FUNCTION\` counts only the"
	echo "measured part (after a warm-up): \`handshake --callgrind $hs_cg_count\`"
	echo "(hs_measured), \`bulk --callgrind $bulk_cg_mib\` (bulk_measured, MiB),"
	echo "\`syn_flood --rate-only --count $flood_cg_count --rounds 1\` (feed_measured)."
	echo "The counts include the bench's own loop and the wire's copies, the same for"
	echo "both stacks."
	echo
	echo '```'
	cat "$tmp/cg.txt"
	echo '```'
	if [ "$have_cg" = 1 ]; then
		echo
		echo "### Where synack's instructions go: handshake + request/response + close"
		echo
		echo "Self instructions per connection, the top 20 functions:"
		echo
		top_functions "$tmp/cg-hs-synack-close.out" "$hs_cg_count" "Ir/conn" 20
		echo
		echo "### Where synack's instructions go: bulk"
		echo
		echo "Self instructions per byte received, the top 15 functions (glibc's memcpy"
		echo "without rep movsb):"
		echo
		top_functions "$tmp/cg-bulk-synack.out" "$bulk_bytes" "Ir/byte" 15
		echo
		echo "### Where synack's instructions go: bulk on the offloading wire"
		echo
		echo "Self instructions per byte received, the top 15 functions (glibc's memcpy"
		echo "without rep movsb, as above):"
		echo
		top_functions "$tmp/cg-bulk-synack-offload.out" "$bulk_bytes" "Ir/byte" 15
		echo
		echo "### lwIP, for comparison"
		echo
		echo "Handshake + request/response + close, per connection:"
		echo
		top_functions "$tmp/cg-hs-lwip-close.out" "$hs_cg_count" "Ir/conn" 10
		echo
		echo "Bulk, per byte:"
		echo
		top_functions "$tmp/cg-bulk-lwip.out" "$bulk_bytes" "Ir/byte" 6
	fi
	echo
	echo "## SYN flood: spoofed SYNs answered with cookies, one core, in memory"
	echo
	echo "One server stack fed pre-built spoofed SYNs (198.18.0.0/15, Linux's options) as"
	echo "fast as it takes them, on the real clock; its listener's SYN queue is full, so"
	echo "each SYN is answered with a cookie SYN-ACK. \`syn_flood --rate-only\`."
	echo
	echo '```'
	cat "$tmp/rate.txt"
	grep '^syn_flood' "$tmp/cg.txt" || true
	echo '```'
	echo
	echo "Instructions per SYN: \`valgrind --tool=callgrind --toggle-collect=feed_measured"
	echo "syn_flood --rate-only --count $flood_cg_count --rounds 1\`, total Ir divided by the SYNs."
	echo
	echo "## SYN flood on the sim wire: real connections during the flood"
	echo
	echo "Two stacks on the sim wire, virtual time (tests/sim/synflood.h, the scenario"
	echo "tests/sim/test_synflood.c checks). \`syn_flood --sim-only\`."
	echo
	echo '```'
	cat "$tmp/sim.txt"
	echo '```'
	echo
	echo "## Comparison: the Linux kernel"
	echo
	echo "\`bench/linux_handshake\` (root only, in a namespace of its own): the kernel's"
	echo "connect, accept, 1-byte request and response, close (and the RST variant)"
	echo "over loopback, blocking sockets in one process, so its CPU time is both ends."
	echo
	echo '```'
	cat "$tmp/hs-linux.txt"
	echo '```'
	echo
	echo "\`bench/linux_syn_rate.sh\` (root only): hping3 floods a kernel listener over a"
	echo "veth pair between two private namespaces; the figure is bounded by the sender."
	echo
	echo '```'
	cat "$tmp/linux.txt"
	echo '```'
	echo
	echo "\`bench/syn_rate_tap.sh\` (root only): the same flood at \`synack up\` on a TAP"
	echo "device in a private namespace (its SYN-ACKs leave through proxy ARP and die in"
	echo "the kernel); also bounded by the sender."
	echo
	echo '```'
	cat "$tmp/syntap.txt"
	echo '```'
	echo
	echo "## Against the Linux kernel over TAP, and Linux over veth (figures 3 and 6)"
	echo
	echo "\`bench/tap_bench.sh\` (root only): private network namespaces, one with a TAP"
	echo "device (synack on one end, the kernel on the other), two joined by a veth pair"
	echo "(Linux on both ends). Bulk: one connection, one direction, 2 GiB (512 MiB"
	echo "without offloads), the receiver's rate from its first byte to EOF; the"
	echo "configurations take turns round by round and the median of 3 is shown. The"
	echo "same program (bench/tap_bulk.c) is the Linux sender and receiver in every"
	echo "case. synack runs on the real clock, busy-polling but sleeping in ppoll after"
	echo "a round without work, with 16 MiB socket buffers (it does not autotune);"
	echo "Linux keeps its defaults. With offloads the TAP carries 64 KiB GSO frames"
	echo "in and TSO super-frames out (the tap: lines count them). Latency: 1-byte"
	echo "request/response round trips on an established connection (bench/latency.c),"
	echo "the client spinning on its socket (synack: poll + recv; Linux: recv with"
	echo "MSG_DONTWAIT), the Linux echo server blocking in read; in memory, two synack"
	echo "stacks on bench/memwire.h in one thread, real clock."
	echo
	echo '```'
	cat "$tmp/lat-mem.txt"
	cat "$tmp/tap.txt"
	echo '```'
	echo
	if [ -f bench/history.md ]; then
		cat bench/history.md
	fi
} >"$out"
echo "bench: wrote $out"
