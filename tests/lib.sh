# shellcheck shell=bash
# tests/lib.sh: the assertion library every shell test sources.
#
#   . "$(dirname "$0")/../lib.sh"
#
#   t_begin "exit status 3 propagates"       # opens a check (closes the last)
#   assert_exit 3 "$SLICECTL" run -- /bin/sh -c 'exit 3'
#   assert_contains "$ERR" "no such file" "the message names the cause"
#   t_done                                   # summary line, exit status
#
# A check passes unless one of its assertions fails. Each check prints one
# line on stdout ("ok 3 - NAME", "not ok 4 - NAME", "ok 5 - NAME # SKIP why");
# the details of a failure go to stderr as "# " lines. t_done prints
# "N passed, M failed" last and exits 1 if any check failed, 77 (CTest's skip
# code) if every check was skipped, 0 otherwise. A script that ends without
# t_done, or runs no check at all, fails.
#
# An assertion outside a check is a check of its own, named by its WHAT.
#
# Checks: t_begin NAME, t_fail REASON, t_skip REASON, t_pass (no-op: a check
# passes unless something fails), t_done. Assertions: assert_eq,
# assert_ne, assert_contains, assert_not_contains, assert_match, assert_true,
# assert_exit CODE CMD... (which captures CMD: OUT, ERR, RC). Helpers:
# capture CMD..., slice ARGS... (= capture slicectl run ARGS...), is_root,
# skip_unless_root, t_bg / t_wait_for / t_wait_pid for background commands.
# T_TMP is a private temporary directory, removed at exit with everything
# t_bg started.
#
# Environment (set by CTest): SLICECTL, SLICED_SOURCE_DIR, SLICED_BUILD_DIR,
# and SLICED_TEST_UNPRIV=1 when tests/as-unprivileged runs the script.
# T_TIMEOUT (default 60) bounds every command run through capture, so a hung
# command fails its check instead of hanging the suite.

T_PASSED=0
T_FAILED=0
T_SKIPPED=0
T_NUM=0
T_NAME=""
T_STATE=""          # "", ok, fail, skip
T_SKIP_REASON=""
T_IMPLICIT=0
T_FINISHED=0
T_BG_PIDS=()
: "${T_TIMEOUT:=60}"

# Results of the last capture / assert_exit.
OUT=""
ERR=""
RC=0

SLICED_BUILD_DIR=${SLICED_BUILD_DIR:-}
SLICED_SOURCE_DIR=${SLICED_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
if [ -z "${SLICECTL:-}" ] && [ -n "$SLICED_BUILD_DIR" ]; then
        SLICECTL=$SLICED_BUILD_DIR/src/cli/slicectl
fi
SLICECTL=${SLICECTL:-slicectl}

# ---- checks ---------------------------------------------------------------

_t_diag() {
        local line
        while IFS= read -r line; do
                printf '#   %s\n' "$line" >&2
        done <<<"$*"
}

# Close the open check and print its line.
t_end() {
        [ -n "$T_STATE" ] || return 0
        T_NUM=$((T_NUM + 1))
        case $T_STATE in
        ok)
                T_PASSED=$((T_PASSED + 1))
                printf 'ok %d - %s\n' "$T_NUM" "$T_NAME"
                ;;
        skip)
                T_SKIPPED=$((T_SKIPPED + 1))
                printf 'ok %d - %s # SKIP %s\n' "$T_NUM" "$T_NAME" "$T_SKIP_REASON"
                ;;
        *)
                T_FAILED=$((T_FAILED + 1))
                printf 'not ok %d - %s\n' "$T_NUM" "$T_NAME"
                ;;
        esac
        T_STATE=""
        T_NAME=""
        T_SKIP_REASON=""
}

t_begin() {
        t_end
        T_NAME=$1
        T_STATE=ok
        T_IMPLICIT=0
}

# Nothing to record: a check passes unless something fails. For symmetry in
# if/else branches that check by hand.
t_pass() { :; }

# Fail the open check with a reason (printed at once, on stderr).
t_fail() {
        if [ -z "$T_STATE" ]; then
                t_begin "${2:-unnamed check}"
                T_IMPLICIT=1
        fi
        [ "$T_STATE" = fail ] || printf '# FAIL %s\n' "$T_NAME" >&2
        T_STATE=fail
        _t_diag "$1"
}

# Skip the open check (unless something in it already failed); with none
# open, a check named after the script.
t_skip() {
        [ -n "$T_STATE" ] || t_begin "${2:-$(basename "$0")}"
        [ "$T_STATE" = fail ] && return 0
        T_STATE=skip
        T_SKIP_REASON=$1
}

is_root() { [ "$(id -u)" -eq 0 ]; }

# True (0) as root; otherwise skips the open check and returns 1:
#   t_begin "..."; if skip_unless_root; then ...; fi
#   skip_unless_root "why" || t_done        # the whole script (exit 77)
skip_unless_root() {
        is_root && return 0
        t_skip "needs root${1:+ ($1)}"
        return 1
}

# Assertions without an open check open one named WHAT and close it after.
_t_open() {
        if [ -z "$T_STATE" ]; then
                t_begin "$1"
                T_IMPLICIT=1
        fi
}
_t_close() {
        if [ "$T_IMPLICIT" = 1 ]; then
                t_end
                T_IMPLICIT=0
        fi
}

# ---- assertions -------------------------------------------------------------

# assert_eq EXPECTED ACTUAL [WHAT]
assert_eq() {
        local what=${3:-value}
        _t_open "$what"
        if [ "$1" != "$2" ]; then
                t_fail "$what: expected [$1]
got      [$2]"
        fi
        _t_close
        [ "$1" = "$2" ]
}

# assert_ne UNEXPECTED ACTUAL [WHAT]
assert_ne() {
        local what=${3:-value}
        _t_open "$what"
        [ "$1" != "$2" ] || t_fail "$what: did not expect [$2]"
        _t_close
        [ "$1" != "$2" ]
}

# assert_contains HAYSTACK NEEDLE [WHAT]: NEEDLE is a fixed string.
assert_contains() {
        local what=${3:-output} r=0
        _t_open "$what"
        if [[ "$1" != *"$2"* ]]; then
                r=1
                t_fail "$what: expected to contain [$2]
got [$1]"
        fi
        _t_close
        return $r
}

# assert_not_contains HAYSTACK NEEDLE [WHAT]
assert_not_contains() {
        local what=${3:-output} r=0
        _t_open "$what"
        if [[ "$1" == *"$2"* ]]; then
                r=1
                t_fail "$what: expected not to contain [$2]
got [$1]"
        fi
        _t_close
        return $r
}

# assert_match STRING ERE [WHAT]
assert_match() {
        local what=${3:-output} r=0
        _t_open "$what"
        if ! [[ "$1" =~ $2 ]]; then
                r=1
                t_fail "$what: expected to match /$2/
got [$1]"
        fi
        _t_close
        return $r
}

# assert_true WHAT CMD...: CMD exits 0 (run as is, not captured).
assert_true() {
        local what=$1 r=0
        shift
        _t_open "$what"
        "$@" || {
                r=$?
                t_fail "$what: \`$*\` failed (exit $r)"
        }
        _t_close
        return $r
}

# capture CMD...: run CMD with stdin from /dev/null, bounded by T_TIMEOUT;
# sets OUT, ERR (trailing newlines stripped) and RC. A timeout shows as 124.
capture() {
        local o e
        if ! o=$(mktemp "$T_TMP/.out.XXXXXX") || ! e=$(mktemp "$T_TMP/.err.XXXXXX"); then
                RC=125 OUT="" ERR="capture: mktemp failed"
                return 0
        fi
        timeout -k 5 "$T_TIMEOUT" "$@" </dev/null >"$o" 2>"$e"
        RC=$?
        OUT=$(cat "$o")
        ERR=$(cat "$e")
        rm -f "$o" "$e"
        return 0
}

# assert_exit CODE CMD...: capture CMD and check its exit status.
assert_exit() {
        local want=$1
        shift
        _t_open "\`$*\` exits $want"
        capture "$@"
        if [ "$RC" != "$want" ]; then
                t_fail "\`$*\`: expected exit $want, got $RC
stdout: $OUT
stderr: $ERR"
        fi
        _t_close
        [ "$RC" = "$want" ]
}

# slice ARGS...: capture `slicectl run ARGS...` (OUT, ERR, RC).
slice() { capture "$SLICECTL" run "$@"; }

# ---- background processes and cleanup ---------------------------------------

# t_bg CMD...: start CMD in the background (stdin /dev/null, stdout and
# stderr to the files T_BG_OUT and T_BG_ERR); its pid is in T_BG_PID and it
# is killed at exit if still running.
t_bg() {
        T_BG_OUT=$T_TMP/.bg.$((${#T_BG_PIDS[@]} + 1)).out
        T_BG_ERR=$T_TMP/.bg.$((${#T_BG_PIDS[@]} + 1)).err
        "$@" </dev/null >"$T_BG_OUT" 2>"$T_BG_ERR" &
        T_BG_PID=$!
        T_BG_PIDS+=("$T_BG_PID")
}

# t_wait_for SECONDS CMD...: poll CMD (every 20 ms) until it succeeds; 1 if
# it never did. Used to wait for readiness, never to judge speed.
t_wait_for() {
        local deadline=$((SECONDS + $1))
        shift
        until "$@"; do
                [ "$SECONDS" -lt "$deadline" ] || return 1
                sleep 0.02
        done
}

# t_wait_pid PID [SECONDS]: wait for a t_bg process; RC is its status, 124
# (and it is killed) if it is still running after SECONDS (default T_TIMEOUT).
t_wait_pid() {
        local pid=$1 limit=${2:-$T_TIMEOUT}
        if ! t_wait_for "$limit" _t_exited "$pid"; then
                kill -KILL "$pid" 2>/dev/null
                wait "$pid" 2>/dev/null
                RC=124
                return 0
        fi
        wait "$pid" 2>/dev/null
        RC=$?
}
# Gone, or a zombie waiting for our `wait` (field 3 of /proc/PID/stat).
_t_exited() {
        local st
        st=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
        st=${st##*) }
        [ "${st%% *}" = Z ]
}

_t_cleanup() {
        local pid rc=$?
        for pid in "${T_BG_PIDS[@]}"; do
                kill -KILL "$pid" 2>/dev/null
        done
        if [ "$T_FINISHED" != 1 ]; then
                t_fail "the test script ended before t_done (exit $rc)" "test script completes"
                _t_summary
        fi
        [ -n "${T_TMP:-}" ] && rm -rf "$T_TMP"
        exit "$T_EXIT"
}

_t_summary() {
        t_end
        T_FINISHED=1
        [ "$T_SKIPPED" -gt 0 ] && printf '# %d skipped\n' "$T_SKIPPED"
        if [ $((T_PASSED + T_FAILED + T_SKIPPED)) -eq 0 ]; then
                printf '# no check ran\n' >&2
                T_FAILED=1
        fi
        printf '%d passed, %d failed\n' "$T_PASSED" "$T_FAILED"
        if [ "$T_FAILED" -gt 0 ]; then
                T_EXIT=1
        elif [ "$T_PASSED" -eq 0 ]; then
                T_EXIT=77
        else
                T_EXIT=0
        fi
}

# t_done: close the last check, print the summary, exit.
t_done() {
        _t_summary
        exit "$T_EXIT"
}

T_EXIT=1
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/sliced-test.XXXXXX") || {
        echo "lib.sh: cannot create a temporary directory" >&2
        exit 1
}
trap _t_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

printf '# %s as uid %s (%s); slicectl: %s\n' "$(basename "$0")" "$(id -u)" \
        "$(is_root && echo root || echo unprivileged)" "$SLICECTL"
if ! [ -x "$SLICECTL" ] && ! command -v "$SLICECTL" >/dev/null; then
        t_fail "SLICECTL ($SLICECTL) is not an executable" "slicectl is available"
        t_done
fi
