# SPDX-License-Identifier: Apache-2.0
# keyward: the two commands of the README (make demo, make test) and the usual others.
# Every target first installs the Debian packages its job needs and lacks (scripts/install-deps.sh
# ROLE: build for a build, build + run for the demo, test for the suite, fuzz for the fuzzers).
PREFIX ?= /usr/local
BUILD ?= build
ASAN_BUILD ?= build-asan
CORPUS ?= $(CURDIR)/$(BUILD)/corpus
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps deps-build deps-run deps-test deps-fuzz deps-package configure package build test demo install test-sanitize fuzz bench bench-remote bench-fleet bench-scale bench-store-engines clean

all: build

# `make deps` installs what every job needs; deps-ROLE what one needs.
deps:
	@bash scripts/install-deps.sh build run test fuzz
deps-build deps-run deps-test deps-fuzz deps-package:
	@bash scripts/install-deps.sh $(@:deps-%=%)

$(BUILD)/build.ninja: | deps-build
	@cmake -S . -B $(BUILD) -G Ninja -DKEYWARD_CORPUS_DIR=$(CORPUS) $(CMAKE_FLAGS) >/dev/null

configure: deps-build $(BUILD)/build.ninja

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

# The suite never reads the configuration files of the machine or of whoever runs it.
TEST_ENV = XDG_CONFIG_HOME=$(CURDIR)/$(BUILD)/test-config KEYWARD_SYSTEM_CONFIG=

test: deps-test build
	@$(TEST_ENV) ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

# No JDK and no clang: the demo skips its JKS store when keytool is missing, and says so.
demo: deps-run build
	@bash samples/demo.sh $(BUILD)/bin/keyward

install: build
	@cmake --install $(BUILD) --prefix $(PREFIX)

# The Debian packages keyward, keyward-agent and keyward-collector (docs/install.md), made by
# CPack from the build above, in $(BUILD)/packages.
package: deps-package build
	@cd $(BUILD) && cpack -G DEB >/dev/null
	@ls $(BUILD)/packages/*.deb

# The suite again, built with AddressSanitizer and UndefinedBehaviorSanitizer.
$(ASAN_BUILD)/build.ninja: | deps-build
	@cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DKEYWARD_SANITIZE=ON \
	  -DKEYWARD_CORPUS_DIR=$(CORPUS) $(CMAKE_FLAGS) >/dev/null

test-sanitize: deps-test $(ASAN_BUILD)/build.ninja
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 $(TEST_ENV) \
	  ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

# Builds the libFuzzer targets with clang and runs each for FUZZ_SECONDS on seeds taken from
# the generated key corpus (any crash, leak or UB report fails the target).
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 20
fuzz: deps-fuzz
	@cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DKEYWARD_BUILD_FUZZERS=ON -DKEYWARD_BUILD_TESTS=OFF >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS)
	@bash tests/support/make_corpus.sh $(CORPUS) >/dev/null
	@bash tests/fuzz/run.sh $(FUZZ_BUILD)/bin $(CORPUS)/tree $(FUZZ_SECONDS)

# Speed: micro benchmarks (MB/s) and the tree benchmark against ripgrep and grep (docs/performance.md).
BENCH_DIR ?= $(CURDIR)/$(BUILD)/bench
BENCH_MB ?= 2048
# The archive-heavy tree (jars, wheels, zips, tarballs) beside the system tree, at $(BENCH_DIR)-archives.
BENCH_ARCHIVES_MB ?= 512
BENCH_RUNS ?= 5
# BENCH_BASE=path/to/another/keyward adds that binary's scans to the same rounds, as ratios, and
# checks that both report the same findings (make bench fails when they do not).
BENCH_BASE ?=
# Both trees in one run.sh, so that every ratio of the two tables and the summary comes from one run.
bench: deps-test build
	@$(BUILD)/bin/keyward_micro_bench --benchmark_min_time=0.3
	@bash bench/make_tree.sh $(BENCH_DIR) $(BENCH_MB)
	@bash bench/make_tree.sh $(BENCH_DIR)-archives $(BENCH_ARCHIVES_MB) keyward-bench-1 archives
	@bash bench/run.sh $(BUILD)/bin/keyward $(BENCH_RUNS) $(BENCH_BASE) -- $(BENCH_DIR)/tree $(BENCH_DIR)-archives/tree

# Remote scans (docs/remote.md): the same tree scanned locally, over SFTP and in exec mode through a
# real sshd on loopback, as ratios to the local scan (docs/performance.md).
BENCH_REMOTE_MB ?= 300
bench-remote: build
	@bash bench/make_tree.sh $(BENCH_DIR)-remote $(BENCH_REMOTE_MB)
	@/usr/bin/python3 bench/remote_bench.py --bin $(BUILD)/bin --tree $(BENCH_DIR)-remote/tree --runs $(BENCH_RUNS)

# Fleet: collector ingest rate from a load generator on loopback, and the agent's wall time, CPU
# and memory on the benchmark tree (full scan, cached rescan, paced scan, idle daemon).
bench-fleet: build
	@/usr/bin/python3 bench/fleet_bench.py load --bin $(BUILD)/bin
	@bash bench/make_tree.sh $(BENCH_DIR) $(BENCH_MB)
	@/usr/bin/python3 bench/fleet_bench.py agent --bin $(BUILD)/bin --tree $(BENCH_DIR)/tree

# Scale (issue 19): SCALE_AGENTS simulated mTLS agents (made once, kept in the fleet cache) against
# one collector: first snapshots, unchanged rescans, 50 changing findings, /health meanwhile, the
# inventory reads, peak RSS; then the store alone at STORE_PLACES places (docs/performance.md).
SCALE_AGENTS ?= 1000
SCALE_SECONDS ?= 20
STORE_PLACES ?= 1000000
STORE_HOSTS ?= 10000
bench-scale: build
	@/usr/bin/python3 bench/fleet_scale.py --bin $(BUILD)/bin --agents $(SCALE_AGENTS) --seconds $(SCALE_SECONDS) \
	  --first-seconds $$(( $(SCALE_SECONDS) * 3 )) --fleet-cache $(BENCH_DIR)/fleet-cache
	@$(BUILD)/bin/keyward_store_bench --small-reports 500
	@$(BUILD)/bin/keyward_store_bench --findings 20000 --places $(STORE_PLACES) --agents $(STORE_HOSTS)

# The store on SQLite and on PostgreSQL (a throw-away cluster with its durable defaults, on
# 127.0.0.1), one writer and two (two replicas on PostgreSQL), in one run: docs/performance.md.
bench-store-engines: build
	@$(BUILD)/bin/keyward_store_bench --small-reports 500
	@$(BUILD)/bin/keyward_store_bench --small-reports 500 --replicas 2
	@state=$$(mktemp -d) && /usr/bin/python3 tests/support/pg_cluster.py start $$state --durable >/dev/null && \
	  ( $(BUILD)/bin/keyward_store_bench --small-reports 500 --postgres "$$(cat $$state/conninfo)" && \
	    $(BUILD)/bin/keyward_store_bench --small-reports 500 --postgres "$$(cat $$state/conninfo)" --replicas 2 ); \
	  rc=$$?; /usr/bin/python3 tests/support/pg_cluster.py stop $$state; rm -rf $$state; exit $$rc
