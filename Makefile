# Thin wrapper over CMake. The two commands of the README:
#   make demo   installs what is missing, builds, starts a sample network
#   make test   installs, builds, runs every test (the format check, plain and sanitizer
#               builds: ASan+UBSan, ThreadSanitizer over the threaded tests, fuzz targets)
JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 14

SEEDS ?= 20000
FROM ?= 1000

.PHONY: all deps build install package test-compat demo test test-plain test-asan test-tsan fuzz bench format format-check sim-sweep clean

all: build

deps:
	@./scripts/install-deps

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# `make install` (PREFIX=/usr/local by default; DESTDIR works) and the Debian
# package (build/lienthong_VERSION-1_ARCH.deb): cmake/package.cmake.
PREFIX ?= /usr/local
install: build
	@cmake --install $(BUILD) --prefix $(PREFIX)

package: build
	@cd $(BUILD) && cpack -G DEB

# The previous release (LT_COMPAT_REV, default 714b1f6) and this one in one
# network: tests/compat_versions.sh (also part of test-plain).
test-compat: build
	@cd $(BUILD) && ctest --output-on-failure -L compat

demo: build
	@./$(BUILD)/lienthong demo --dir $(CURDIR)/demo-net

test: deps format-check test-plain test-asan test-tsan fuzz

# The tree follows .clang-format: `make format` applies it, `make test` checks it.
FORMAT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format: deps
	@clang-format -i $(FORMAT_FILES)

format-check: deps
	@clang-format --dry-run -Werror $(FORMAT_FILES) || \
		{ echo "format-check: run 'make format' (.clang-format)"; exit 1; }

test-plain: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# thread_local_quarantine_size_kb: ASan keeps up to 1 MiB of freed memory per thread before
# its global quarantine (which stays); `serve` runs 64 pool threads, so the default made the
# memory bounds of the upload tests (cli_doc_files) measure ASan's caches, not the node.
test-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DLT_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	@cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:thread_local_quarantine_size_kb=64 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --output-on-failure -j $(JOBS) -LE slow

# ThreadSanitizer over the tests labelled "threads" (tests/CMakeLists.txt): only the
# binaries they run are built. A race stops the process (halt_on_error), so the test fails.
test-tsan: deps
	@cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLT_TSAN=ON >/dev/null
	@cmake --build $(TSAN_BUILD) -j $(JOBS) --target lienthong test_http test_store_threads test_store_group
	@cd $(TSAN_BUILD) && TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1" \
		ctest --output-on-failure -j $(JOBS) -L threads

fuzz: deps
	@./scripts/run-fuzz $(FUZZ_BUILD) $(FUZZ_SECONDS)

# Every bench runs; the target fails at the end when one of them failed
# (a missed target, a stall).
bench: build
	@rc=0; \
	./$(BUILD)/bench/bench_apply || rc=1; \
	./$(BUILD)/bench/bench_repl || rc=1; \
	LT_BIN=$(BUILD)/lienthong LT_BENCH_NET=$(BUILD)/bench/bench_net bash bench/bench_net.sh || rc=1; \
	LT_BIN=$(BUILD)/lienthong node bench/bench_ui.mjs || rc=1; \
	./$(BUILD)/bench/bench_reports || rc=1; \
	./$(BUILD)/bench/bench_indicators || rc=1; \
	./$(BUILD)/bench/bench_documents || rc=1; \
	./$(BUILD)/bench/bench_cameras || rc=1; \
	LT_BIN=$(BUILD)/lienthong bash bench/bench_camera_probe.sh || rc=1; \
	exit $$rc

# The replication simulator beyond the seeds `make test` runs, on every core:
#   make sim-sweep SEEDS=20000 FROM=1000
sim-sweep: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) --target test_sim >/dev/null
	@./scripts/sim-sweep $(BUILD)/tests/sim/test_sim $(SEEDS) $(FROM) $(JOBS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(FUZZ_BUILD)
