#!/usr/bin/env bash
# Run every benchmark already built: each bench-* executable in BUILD/bench,
# then each bench/*.sh script (this one excepted). Builds nothing.
#
# Usage: bench/run-all.sh [BUILD_DIR] [-- ARGS...]
#   BUILD_DIR  default: $SLICED_BUILD_DIR, else ./build next to bench/
#   ARGS       passed to every benchmark (e.g. -- -n 500)
# Exit status: 0 if every benchmark exited 0, else 1.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${SLICED_BUILD_DIR:-$here/../build}
if [ $# -gt 0 ] && [ "$1" != -- ]; then
        build=$1
        shift
fi
[ "${1:-}" = -- ] && shift

if [ ! -d "$build/bench" ]; then
        echo "run-all: no $build/bench (build first: cmake --build $build)" >&2
        exit 1
fi
export SLICECTL=${SLICECTL:-$build/src/cli/slicectl}

status=0 ran=0
for b in "$build"/bench/bench-* "$here"/*.sh; do
        { [ -f "$b" ] && [ -x "$b" ]; } || continue
        [ "$(basename "$b")" = run-all.sh ] && continue
        echo "=== $(basename "$b") ==="
        "$b" "$@" || status=1
        ran=$((ran + 1))
        echo
done
if [ "$ran" -eq 0 ]; then
        echo "run-all: no benchmark found in $build/bench" >&2
        exit 1
fi
exit "$status"
