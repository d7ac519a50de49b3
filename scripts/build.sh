#!/usr/bin/env bash
# Configure and build into ${BUILD_DIR:-build}. Extra arguments go to cmake's
# configure step (e.g. -DSLICED_SANITIZE=ON).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -DSLICED_WERROR=ON "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"
