#!/usr/bin/env bash
# slicectl run: bad input fails before anything runs, with the documented
# exit status (125 setup, 126 cannot execute, 127 not found) and a message
# naming what was wrong (the option, the path, the file).
. "$(dirname "$0")/../lib.sh"

# rejects NAME CODE NEEDLE ARGS...: `slicectl run ARGS...` exits CODE, its
# stderr contains NEEDLE, and the command (if any) did not run.
rejects() {
        local name=$1 code=$2 needle=$3
        shift 3
        t_begin "$name"
        assert_exit "$code" "$SLICECTL" run "$@"
        assert_contains "$ERR" "$needle" "stderr names it"
        assert_not_contains "$OUT" "RAN" "the command did not run"
}
ran='echo RAN'

# ---- the command ------------------------------------------------------------
printf '#!/bin/sh\necho RAN\n' >"$T_TMP/noexec"
chmod 0644 "$T_TMP/noexec"
mkdir -p "$T_TMP/grant"

rejects "a command that does not exist exits 127 naming it" \
        127 "/no/such/command" -- /no/such/command
rejects "a command not on PATH exits 127 naming it" \
        127 "no-such-command-xyz" -- no-such-command-xyz
rejects "a file without execute permission exits 126 naming it" \
        126 "/noexec" --ro "$T_TMP/noexec:/noexec" -- /noexec
rejects "a directory as the command exits 126 naming it" \
        126 "/usr" -- /usr
rejects "no command exits 125" \
        125 "no command" --
rejects "no arguments at all exits 125" \
        125 "no command"

# ---- granted paths ----------------------------------------------------------
rejects "--ro of a missing path exits 125 naming the path" \
        125 "/nonexistent-grant" --ro /nonexistent-grant -- /bin/sh -c "$ran"
rejects "--rw of a missing path exits 125 naming the path" \
        125 "$T_TMP/missing" --rw "$T_TMP/missing:/data" -- /bin/sh -c "$ran"
rejects "--ro with a relative path exits 125 naming the option" \
        125 "--ro" --ro relative/path -- /bin/sh -c "$ran"
rejects "--rw with a relative destination exits 125 naming the option" \
        125 "--rw" --rw "$T_TMP/grant:data" -- /bin/sh -c "$ran"
rejects "a destination inside /proc exits 125 naming it" \
        125 "/proc/x" --ro "$T_TMP/grant:/proc/x" -- /bin/sh -c "$ran"
rejects "a destination climbing out with .. exits 125 naming it" \
        125 "/data/../../x" --ro "$T_TMP/grant:/data/../../x" -- /bin/sh -c "$ran"
rejects "--cwd of a missing directory exits 125 naming it" \
        125 "/nonexistent-dir" --cwd /nonexistent-dir -- /bin/sh -c "$ran"
rejects "--cwd with a relative path exits 125 naming the option" \
        125 "--cwd" --cwd tmp -- /bin/sh -c "$ran"

# ---- malformed numbers and sizes --------------------------------------------
# option value: each must be refused with 125 and a message naming the option
bad_values=(
        "--memory 12Q"
        "--memory -1"
        "--memory 0"
        "--memory 64X"
        "--memory 99999999999T"
        "--pids abc"
        "--pids 0"
        "--pids -5"
        "--files 0"
        "--files 3"
        "--files 1x"
        "--files 99999999"
        "--cpus 5-2"
        "--cpus a"
        "--cpus 0,"
        "--cpus 99999"
        "--cpu-weight 0"
        "--cpu-weight 10001"
        "--cpu-max 50"
        "--cpu-max 0%"
        "--tmp-size 0"
        "--tmp-size 1Q"
        "--uid 0"
        "--uid -1"
        "--gid x"
        "--net bogus"
        "--env NOEQUALS"
        "--env =value"
        "--listen tcp:127.0.0.1:notaport"
        "--listen tcp:127.0.0.1"
        "--listen udp:127.0.0.1:53"
)
for case in "${bad_values[@]}"; do
        read -r opt val <<<"$case"
        rejects "$opt '$val' exits 125 naming $opt" 125 "$opt" "$opt" "$val" -- /bin/sh -c "$ran"
done
rejects "--hostname '' exits 125 naming --hostname" \
        125 "--hostname" --hostname "" -- /bin/sh -c "$ran"
rejects "--hostname of 64 characters exits 125 naming --hostname" \
        125 "--hostname" --hostname "$(printf 'h%.0s' {1..64})" -- /bin/sh -c "$ran"

# ---- options ----------------------------------------------------------------
rejects "an unknown option exits 125 naming it" \
        125 "--frobnicate" --frobnicate -- /bin/sh -c "$ran"
rejects "an option missing its value exits 125 naming it" \
        125 "--memory" --memory
rejects "a CPU the machine does not have exits 125 naming the option" \
        125 "--cpus '1000': none of these CPUs is available" --cpus 1000 -- /bin/sh -c "$ran"

# ---- seccomp profiles ---------------------------------------------------------
printf 'this is not a policy {{{\n\x01\x02\x03 ;;; ]]]\n' >"$T_TMP/garbage.policy"
: >"$T_TMP/unreadable.policy"
chmod 0000 "$T_TMP/unreadable.policy"

rejects "--profile of a missing file exits 125 naming the file" \
        125 "/nonexistent.policy" --profile /nonexistent.policy -- /bin/sh -c "$ran"
rejects "--profile of a malformed file exits 125 naming the file" \
        125 "$T_TMP/garbage.policy" --profile "$T_TMP/garbage.policy" -- /bin/sh -c "$ran"
rejects "--profile of a directory exits 125 naming it" \
        125 "$T_TMP" --profile "$T_TMP" -- /bin/sh -c "$ran"
rejects "--profile of an unknown builtin exits 125 naming it" \
        125 "no-such-profile" --profile no-such-profile -- /bin/sh -c "$ran"
t_begin "--profile of an unreadable file exits 125 naming the file"
if is_root; then
        t_skip "root reads a mode 000 file"
else
        assert_exit 125 "$SLICECTL" run --profile "$T_TMP/unreadable.policy" -- /bin/sh -c "$ran"
        assert_contains "$ERR" "$T_TMP/unreadable.policy" "stderr names the file"
fi

t_done
