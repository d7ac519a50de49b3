#!/usr/bin/env bash
# Every escape attempt the probe knows, inside a real slice, under each
# seccomp profile it applies to: each one must be blocked exactly as the
# probe's table says (README.md). CTest runs this as root and again as an
# unprivileged uid (SLICED_TEST_UNPRIV=1), where slices use a user namespace.
#
# Per attempt: `slicectl run --profile P --ro <probe dir> -- escape-probe NAME P`.
# Passes when the probe exits 0 with "BLOCKED NAME: ..." or, for attempts the
# filter must kill, when slicectl reports SIGSYS (exit status 128 + 31).
# Prints one line per attempt and ends with "N passed, M failed".
set -uo pipefail

: "${SLICECTL:?SLICECTL must name the slicectl binary}"
: "${ESCAPE_PROBE:?ESCAPE_PROBE must name the escape-probe binary}"

readonly SIGSYS_STATUS=$((128 + 31)) # slicectl run: 128 + N for death by signal N
readonly MIN_ATTEMPTS=40             # the issue's floor, per profile
readonly ATTEMPT_TIMEOUT=60          # seconds; the slowest attempt takes well under 1
readonly FILES_QUOTA=64              # --files for nofile-exceed: small, quick to exhaust
readonly TMP_SIZE=1048576            # --tmp-size for tmp-size: 1 MiB, quick to fill
readonly PROFILES=(posix strict)

mode=root
[ "${SLICED_TEST_UNPRIV:-0}" = 1 ] && mode=unprivileged
probe_dir=$(dirname "$ESCAPE_PROBE")
work=$(mktemp -d "${TMPDIR:-/tmp}/sliced-escape.XXXXXX") || exit 1
listener_pid=
cleanup() {
        [ -n "$listener_pid" ] && kill "$listener_pid" 2>/dev/null
        rm -rf "$work"
}
trap cleanup EXIT

passed=0
failed=0
pass() { passed=$((passed + 1)); printf 'PASS %s\n' "$*"; }
fail() { failed=$((failed + 1)); printf 'FAIL %s\n' "$*"; }

# Live host endpoints, so "cannot reach the host" is tested against services
# that are really there: a TCP listener on the host's 127.0.0.1 and an
# abstract unix socket in the host's network namespace. Neither accepts;
# connections wait in the backlog, which is enough for connect() to succeed.
host_port=
host_abstract=
start_listener() {
        local py
        py=$(command -v python3) || return 1
        "$py" -c '
import os, signal, socket, sys
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.bind(("127.0.0.1", 0)); t.listen(64)
u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
name = "sliced-escape-%d" % os.getpid()
u.bind("\0" + name); u.listen(64)
print(t.getsockname()[1], name, flush=True)
signal.pause()
' >"$work/listener" 2>&1 &
        listener_pid=$!
        for _ in $(seq 50); do
                [ -s "$work/listener" ] && break
                sleep 0.1
        done
        read -r host_port host_abstract <"$work/listener" || return 1
        [[ "$host_port" =~ ^[0-9]+$ ]]
}

# Extra slicectl options and the probe's ARG for the attempts that take one.
slice_opts=()
probe_arg=()
extras_for() {
        slice_opts=()
        probe_arg=()
        case $1 in
        net-connect-host) [ -n "$host_port" ] && probe_arg=("$host_port") ;;
        abstract-unix) [ -n "$host_abstract" ] && probe_arg=("$host_abstract") ;;
        nofile-exceed) slice_opts=(--files "$FILES_QUOTA"); probe_arg=("$FILES_QUOTA") ;;
        tmp-size) slice_opts=(--tmp-size "$TMP_SIZE"); probe_arg=("$TMP_SIZE") ;;
        esac
}

# One line of evidence from a failed run: the probe's line, else slicectl's.
evidence() {
        local out=$1 err=$2
        if [ -n "$out" ]; then
                printf '%s' "$out" | head -n 1
        else
                tr '\n' ' ' <"$err" | cut -c1-300
        fi
}

run_attempt() {
        local profile=$1 name=$2 want rc out
        want=$("$ESCAPE_PROBE" --expect "$name" "$profile") || {
                fail "$profile $name: escape-probe --expect failed"
                return
        }
        extras_for "$name"
        out=$(timeout --kill-after=5 "$ATTEMPT_TIMEOUT" \
                "$SLICECTL" run --profile "$profile" --ro "$probe_dir" "${slice_opts[@]}" \
                -- "$ESCAPE_PROBE" "$name" "$profile" "${probe_arg[@]}" \
                </dev/null 2>"$work/stderr")
        rc=$?
        case $want in
        "signal SIGSYS")
                if [ "$rc" -eq "$SIGSYS_STATUS" ]; then
                        pass "$profile $name: killed by SIGSYS (status $rc)"
                else
                        fail "$profile $name: expected SIGSYS (status $SIGSYS_STATUS), got status $rc: $(evidence "$out" "$work/stderr")"
                fi
                ;;
        *)
                if [ "$rc" -eq 0 ] && [[ "$out" == "BLOCKED $name: "* ]]; then
                        pass "$profile $name: ${out#BLOCKED "$name": }"
                else
                        fail "$profile $name: expected $want, got status $rc: $(evidence "$out" "$work/stderr")"
                fi
                ;;
        esac
}

echo "# escape attempts as $mode (uid $(id -u)), slicectl $SLICECTL"

# The endpoints must be reachable from outside a slice, or the in-slice
# checks prove nothing: the probe run unconfined has to report ESCAPED.
unconfined_check() {
        local name=$1 arg=$2 out
        out=$("$ESCAPE_PROBE" "$name" posix "$arg" 2>&1)
        if [[ "$out" == "ESCAPED $name: "* ]]; then
                pass "unconfined $name: the probe detects the live endpoint (${out#ESCAPED "$name": })"
        else
                fail "unconfined $name: expected ESCAPED outside a slice, got: $out"
        fi
}
if start_listener; then
        unconfined_check net-connect-host "$host_port"
        unconfined_check abstract-unix "$host_abstract"
else
        echo "# python3 missing or listener failed: network attempts use their defaults"
        host_port=
        host_abstract=
fi

for profile in "${PROFILES[@]}"; do
        mapfile -t names < <("$ESCAPE_PROBE" --list "$profile")
        if [ "${#names[@]}" -lt "$MIN_ATTEMPTS" ]; then
                fail "$profile: only ${#names[@]} attempts apply, at least $MIN_ATTEMPTS required"
        fi
        for name in "${names[@]}"; do
                run_attempt "$profile" "$name"
        done
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
