# Thin wrapper over CMake. The two commands of the README:
#   make demo   installs what is missing, builds, starts a sample network
#   make test   installs, builds, runs every test (plain and sanitizer builds)
JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 15

SEEDS ?= 20000
FROM ?= 1000

.PHONY: all deps build demo test test-plain test-asan fuzz bench sim-sweep clean

all: build

deps:
	@./scripts/install-deps

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@./$(BUILD)/lienthong demo --dir $(CURDIR)/demo-net

test: deps test-plain test-asan fuzz

test-plain: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DLT_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	@cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --output-on-failure -j $(JOBS) -LE slow

fuzz: deps
	@./scripts/run-fuzz $(FUZZ_BUILD) $(FUZZ_SECONDS)

bench: build
	@./$(BUILD)/bench/bench_apply
	@./$(BUILD)/bench/bench_repl
	@LT_BIN=$(BUILD)/lienthong node bench/bench_ui.mjs
	@./$(BUILD)/bench/bench_reports

# The replication simulator beyond the seeds `make test` runs, on every core:
#   make sim-sweep SEEDS=20000 FROM=1000
sim-sweep: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) --target test_sim >/dev/null
	@./scripts/sim-sweep $(BUILD)/tests/sim/test_sim $(SEEDS) $(FROM) $(JOBS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
