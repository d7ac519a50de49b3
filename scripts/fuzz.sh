#!/usr/bin/env bash
# Fuzzes the parent-protocol decoder (tests/fuzz/fuzz_parent_decode.c) with
# libFuzzer + ASan + UBSan for SECONDS (default 30), starting from the seed
# corpus. Builds in its own directory with clang (SLICED_FUZZ=ON).
# Exit status: 0 when nothing was found; non-zero on a crash, leak or
# sanitizer report (the input is saved under BUILD/fuzz-artifacts/).
#
# Usage: scripts/fuzz.sh [SECONDS]
# Env:   FUZZ_BUILD_DIR (default build-fuzz), FUZZ_JOBS (parallel workers, default 1)
# Needs: clang and libclang-rt-14-dev (scripts/install-deps.sh).
set -euo pipefail

secs=${1:-30}
case $secs in '' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;; esac
src=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD_DIR:-$src/build-fuzz}
jobs=${FUZZ_JOBS:-1}

cmake -S "$src" -B "$build" -DCMAKE_C_COMPILER=clang -DSLICED_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target fuzz_parent_decode -j"$(nproc)" >/dev/null

# The fuzzer adds what it finds to its corpus: work on a copy, so the seeds
# in the tree stay the few hand-made ones.
corpus=$build/fuzz-corpus/parent
artifacts=$build/fuzz-artifacts/
mkdir -p "$corpus" "$artifacts"
cp -n "$src"/tests/fuzz/corpus/parent/* "$corpus"/

# -max_len: past the 64 KiB datagram limit, so the size checks are reached.
# -jobs runs workers in child processes logging to fuzz-N.log; only asked for.
par=()
if [ "$jobs" -gt 1 ]; then par=(-jobs="$jobs" -workers="$jobs"); fi
cd "$build"
exec "$build"/tests/fuzz/fuzz_parent_decode \
  -max_total_time="$secs" -max_len=70000 -timeout=10 -rss_limit_mb=2048 "${par[@]}" \
  -artifact_prefix="$artifacts" -print_final_stats=1 "$corpus"
