#!/usr/bin/env bash
# Runs every fuzz target of fuzz/ for SECONDS each (default 10), with the nightly toolchain and
# cargo-fuzz, installing what is missing; a crash stops the run and leaves its input under
# fuzz/artifacts/TARGET/. The seed corpora are in fuzz/corpus/ (runs add to a copy in
# target/fuzz-corpus, so the repository keeps only the seeds).
#
# Run: scripts/fuzz.sh [SECONDS]      (scripts/test.sh runs a short pass)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}

say() { printf 'fuzz: %s\n' "$*" >&2; }

rustup toolchain list | grep -q '^nightly' || {
  say "installing the nightly toolchain (cargo-fuzz needs it)"
  rustup toolchain install nightly --profile minimal
}
command -v cargo-fuzz >/dev/null || {
  say "installing cargo-fuzz"
  cargo install cargo-fuzz --locked --quiet
}

cd fuzz
targets=$(cargo +nightly fuzz list)
cargo +nightly fuzz build -O $targets >/dev/null 2>&1 || cargo +nightly fuzz build -O
for target in $targets; do
  # A crash input kept from an earlier run is a crash not yet fixed: say so, not "found".
  if [ -n "$(ls artifacts/"$target" 2>/dev/null)" ]; then
    say "fuzz/artifacts/$target holds a crash input from an earlier run: reproduce it with"
    say "  (cd fuzz && cargo +nightly fuzz run $target artifacts/$target/FILE), fix it, add it to"
    say "  fuzz/corpus/$target as a seed and delete it"
    exit 1
  fi
  work="../target/fuzz-corpus/$target"
  mkdir -p "$work"
  cp -n corpus/"$target"/* "$work"/ 2>/dev/null || true
  say "$target for ${seconds}s"
  cargo +nightly fuzz run -O "$target" "$work" -- -max_total_time="$seconds" -max_len=65536 \
    -print_final_stats=1 2>&1 | grep -E '^(stat::number_of_executed_units|stat::new_units_added|==|SUMMARY|Done)' || true
  found=$(ls artifacts/"$target" 2>/dev/null | head -n 1)
  if [ -n "$found" ]; then
    # libFuzzer names what it keeps by kind: crash-, leak-, oom-, timeout- or slow-unit- (an
    # input that took over 10 s, a way for a hostile one to hold a request).
    say "$target found an input that fails (${found%%-*}): fuzz/artifacts/$target/$found"
    exit 1
  fi
done
