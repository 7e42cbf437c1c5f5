#!/usr/bin/env bash
# Build the fuzz targets with clang + libFuzzer (ASan, UBSan) and run each
# for FUZZ_SECONDS (default 60), one after the other. `make fuzz` runs this;
# `make test` runs it with --if-available and a short budget.
#
#   bash fuzz/run.sh [--if-available] [BUILD_DIR]
#
# Environment: FUZZ_SECONDS, FUZZ_TARGETS (default: all three), FUZZ_CC
# (default clang), FUZZ_ARGS (extra libFuzzer flags). With --if-available a
# missing clang or libFuzzer prints SKIP and exits 0, unless
# SYNACK_REQUIRE_FUZZ=1 (CI), when it fails, like SYNACK_REQUIRE_INTEROP=1
# does for the interop tests.
#
# Each target starts from the committed corpus (fuzz/corpus/<target>) and
# regressions (fuzz/regressions/<target>); what it finds goes to
# BUILD_DIR/corpus/<target>, which later runs reuse. A crash, leak, timeout
# or failed check leaves its input in BUILD_DIR/artifacts/ and the script
# exits 1; copy the input into fuzz/regressions/<target>/ to keep it as a
# test once it is fixed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

if_available=0
if [ "${1:-}" = --if-available ]; then
	if_available=1
	shift
fi
build=${1:-build-fuzz}
seconds=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-fuzz_frame fuzz_sequence fuzz_codec}
cc=${FUZZ_CC:-clang}
jobs=$(nproc 2>/dev/null || echo 2)

missing() {
	if [ "$if_available" = 1 ] && [ "${SYNACK_REQUIRE_FUZZ:-0}" != 1 ]; then
		echo "SKIP: fuzz: $*"
		echo "fuzz: 0 passed, 0 failed, $(echo "$targets" | wc -w) skipped"
		exit 0
	fi
	echo "FAIL: fuzz: $*$([ "${SYNACK_REQUIRE_FUZZ:-0}" = 1 ] && echo " (SYNACK_REQUIRE_FUZZ=1)")"
	exit 1
}

command -v "$cc" >/dev/null 2>&1 || missing "no $cc (Debian: apt-get install clang libclang-rt-14-dev)"
mkdir -p "$build" || exit 1
probe="$build/libfuzzer-probe"
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' >"$probe.c"
"$cc" -fsanitize=fuzzer,address,undefined "$probe.c" -o "$probe" >"$probe.log" 2>&1 ||
	missing "$cc cannot link libFuzzer (Debian: apt-get install libclang-rt-14-dev): $(head -c 300 "$probe.log")"

echo "fuzz: building $targets with $cc in $build"
cmake -S . -B "$build" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DSYNACK_FUZZ=ON -DSYNACK_TESTS=OFF >"$build/cmake.log" 2>&1 || {
	cat "$build/cmake.log"
	exit 1
}
# shellcheck disable=SC2086 # targets is a list
cmake --build "$build" -j "$jobs" --target $targets || exit 1

max_len() {
	case $1 in
	fuzz_frame) echo 1600 ;;
	fuzz_sequence) echo 4096 ;;
	*) echo 2048 ;;
	esac
}

failed=0
passed=0
for t in $targets; do
	corpus="$build/corpus/$t"
	mkdir -p "$corpus" "$build/artifacts"
	mkdir -p "$build/artifacts/old"
	mv "$build/artifacts/$t-"* "$build/artifacts/old/" 2>/dev/null # an earlier run's finds
	dirs=("$corpus" "fuzz/corpus/$t")
	[ -d "fuzz/regressions/$t" ] && dirs+=("fuzz/regressions/$t")
	log="$build/$t.log"
	echo "fuzz: $t for ${seconds}s (log: $log)"
	# shellcheck disable=SC2086 # FUZZ_ARGS is a list of flags
	"$build/fuzz/$t" -max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout=20 \
		-rss_limit_mb=2048 -dict=fuzz/tcp.dict -print_final_stats=1 \
		-artifact_prefix="$build/artifacts/$t-" ${FUZZ_ARGS:-} "${dirs[@]}" >"$log" 2>&1
	rc=$?
	# The last status line (#runs cov ft corp exec/s) and the final stats.
	grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE|INITED)' "$log" | tail -n 1
	grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log" | tr '\n' ' '
	echo
	if [ "$rc" -ne 0 ]; then
		failed=$((failed + 1))
		echo "FAIL: fuzz: $t exited $rc; the end of its log:"
		tail -n 60 "$log"
		for a in "$build/artifacts/$t-"*; do
			[ -e "$a" ] && echo "  input: $a"
		done
		echo "  keep the input as a regression: cp INPUT fuzz/regressions/$t/"
	else
		passed=$((passed + 1))
		echo "PASS: fuzz: $t"
	fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" = 0 ]
