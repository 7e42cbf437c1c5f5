# Thin wrapper around CMake/CTest: `make demo` and `make test` are the two
# commands a newcomer needs.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
# Fuzzing (fuzz/README.md): clang + libFuzzer builds go to FUZZ_BUILD.
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TEST_SECONDS ?= 20

.PHONY: all build build-asan demo test test-plain test-asan test-fuzz fuzz fuzz-seeds bench soak soak-valgrind install clean

all: build

build:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

build-asan:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSYNACK_SANITIZE=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)

# The main job: two stacks on the simulated link, no root needed.
demo: build
	./$(BUILD)/synack demo $(ARGS)

# The whole suite: once as built, once under AddressSanitizer + UBSan (both
# replay the fuzz corpora), then each fuzz target briefly if clang has libFuzzer.
test: test-plain test-asan test-fuzz

test-plain: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: build-asan
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --output-on-failure -j $(JOBS)

# The benchmark programs (bench/): run them and write bench/results.md.
bench: build
	bash bench/run.sh $(BUILD)

# Every fuzz target for FUZZ_SECONDS each (clang + libFuzzer); fails on a crash.
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash fuzz/run.sh $(FUZZ_BUILD)

# The short run `make test` does: skipped without clang/libFuzzer unless
# SYNACK_REQUIRE_FUZZ=1 (CI).
test-fuzz:
	FUZZ_SECONDS=$(FUZZ_TEST_SECONDS) bash fuzz/run.sh --if-available $(FUZZ_BUILD)

# Rewrite the seed corpora (fuzz/corpus/*/seed-*) with fuzz/gen_seeds.c.
fuzz-seeds: build
	./$(BUILD)/fuzz/fuzz_gen_seeds fuzz/corpus

# The soak for longer than CTest's bounded run: seeded random two-stack
# scenarios (tests/soak/soak.c) from seed SOAK_FIRST on, for SOAK_SECONDS of
# real time. A failing seed prints the command that replays it.
SOAK_SECONDS ?= 600
SOAK_FIRST ?= 1
soak: build
	./$(BUILD)/tests/soak --seconds $(SOAK_SECONDS) --first $(SOAK_FIRST)

# A few soak seeds under valgrind's memcheck (errors and leaks fail it);
# `make test` runs the same as the CTest test soak.valgrind.
soak-valgrind: build
	bash tests/soak/valgrind.sh ./$(BUILD)/tests/soak

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
