#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs every fuzzer in BIN_DIR for SECONDS, seeded with the files of SEED_TREE (generated key
# material, never committed); the fleet's targets (report, collector_api, http_framing,
# agent_config) get their own seeds from make_seeds.py instead (a real report of SEED_TREE by BIN_DIR/keyward, a CSR made
# at run time, one request per API route, agent.yaml texts). Fails on any crash, leak or
# sanitizer report, after all have run.
set -euo pipefail
bin=$1 seeds=$2 seconds=${3:-20}
work=$(mktemp -d /tmp/keyward-fuzz-XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/seeds"
find "$seeds" -type f -size -64k -exec cp -t "$work/seeds" --backup=numbered {} + 2>/dev/null || true
# Binary seeds for the decoded-body parsers: the base64 bodies of the OpenSSH and PGP blocks.
find "$seeds" -type f -size -64k | while read -r f; do
  if grep -q 'BEGIN OPENSSH PRIVATE KEY' "$f" 2>/dev/null; then
    sed -n '/BEGIN OPENSSH/,/END OPENSSH/p' "$f" | grep -v -- '-----' | base64 -d > "$work/seeds/bin.$(basename "$f").openssh" 2>/dev/null || true
  fi
done
/usr/bin/python3 "$(dirname "$0")/make_seeds.py" --keyward "$bin/keyward" --tree "$seeds" --out "$work/own"
# One target: its result line (and on failure its log's tail) in $work/NAME.result.
run_one() {
  local f=$1 name seed_dir
  name=$(basename "$f")
  mkdir -p "$work/$name"
  seed_dir=$work/seeds
  [[ -d $work/own/$name ]] && seed_dir=$work/own/$name
  # UBSan reports and goes on unless told to halt: a report must fail the target like a crash.
  if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 "$f" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$work/$name-" "$work/$name" "$seed_dir" > "$work/$name.log" 2>&1; then
    echo "fuzz: $name ok ($(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$work/$name.log" | grep -Eo '[0-9]+' || echo '?') runs in ${seconds}s)"
  else
    echo "fuzz: $name FAILED"; tail -40 "$work/$name.log"
    keep=${FUZZ_ARTIFACTS:-/tmp/keyward-fuzz-artifacts}
    mkdir -p "$keep" && cp "$work/$name-"* "$keep/" 2>/dev/null && echo "fuzz: crash input kept in $keep" || true
  fi
}
# Each target runs single-threaded for SECONDS: FUZZ_JOBS of them at once (default: one per
# core) give each the same time on a core and the whole run a fraction of the wall time.
jobs_max=${FUZZ_JOBS:-$(nproc)}
for f in "$bin"/*_fuzzer; do
  run_one "$f" > "$work/$(basename "$f").result" 2>&1 &
  while (( $(jobs -rp | wc -l) >= jobs_max )); do wait -n || true; done
done
wait || true
failed=0
for r in "$work"/*.result; do
  cat "$r"
  grep -q '^fuzz: .* FAILED$' "$r" && failed=1
done
exit $failed
