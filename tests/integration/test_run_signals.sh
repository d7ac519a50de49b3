#!/usr/bin/env bash
# slicectl run: the exit status is the command's (128+N for signal N);
# signals sent to slicectl reach the command; the slice never outlives its
# command or slicectl.
. "$(dirname "$0")/../lib.sh"

# ---- exit status ----------------------------------------------------------------
# script: expected status
exits=(
        "exit 0:0"
        "exit 3:3"
        "exit 125:125"
        "exit 255:255"
        "kill -TERM \$\$:143"
        "kill -KILL \$\$:137"
        "kill -HUP \$\$:129"
        "kill -SEGV \$\$:139"
)
for case in "${exits[@]}"; do
        script=${case%:*}
        want=${case##*:}
        t_begin "\`$script\` inside exits $want"
        assert_exit "$want" "$SLICECTL" run -- /bin/sh -c "$script"
        assert_eq "" "$ERR" "slicectl is quiet about it"
done

t_begin "the slice ends with its command: a background child does not hold it"
assert_exit 5 "$SLICECTL" run -- /bin/sh -c 'sleep 1000 >/dev/null 2>&1 & exit 5'

# ---- forwarding ---------------------------------------------------------------------
mkdir -p "$T_TMP/sig"
chmod 0777 "$T_TMP/sig" # root mode runs the command as an unrelated uid

# start_slice SCRIPT: run `sh -c SCRIPT` in a slice in the background with
# /sig granted; SCRIPT touches /sig/ready once it is set up. Waits for that.
start_slice() {
        rm -f "$T_TMP/sig/ready"
        t_bg "$SLICECTL" run --rw "$T_TMP/sig:/sig" -- /bin/sh -c "$1"
        t_wait_for 20 test -e "$T_TMP/sig/ready" || t_fail "the slice never got ready"
}

# signal: expected status of `sleep 100` when slicectl gets it
forwarded=(TERM:143 INT:130 HUP:129 QUIT:131 USR1:138 USR2:140)
for case in "${forwarded[@]}"; do
        sig=${case%:*}
        want=${case#*:}
        t_begin "SIG$sig to slicectl reaches \`sleep 100\` inside: exit $want"
        start_slice 'touch /sig/ready; exec sleep 100'
        kill -"$sig" "$T_BG_PID"
        t_wait_pid "$T_BG_PID" 30
        assert_eq "$want" "$RC" "exit status"
done

t_begin "the command's own SIGTERM handler runs (the signal is forwarded, not fatal)"
start_slice 'trap "echo caught; exit 7" TERM; touch /sig/ready; while :; do sleep 0.1; done'
kill -TERM "$T_BG_PID"
t_wait_pid "$T_BG_PID" 30
assert_eq 7 "$RC" "exit status"
assert_eq "caught" "$(cat "$T_BG_OUT")" "the handler's output"

t_begin "SIGKILL to slicectl takes the whole slice with it"
start_slice 'trap "" TERM HUP INT; touch /sig/ready; sleep 1000 & wait'
slicectl_pid=$T_BG_PID
reaper=$(cat "/proc/$slicectl_pid/task/$slicectl_pid/children" 2>/dev/null)
reaper=${reaper%% *}
if [ -n "$reaper" ]; then
        inside=$(cat "/proc/$reaper/task/$reaper/children" 2>/dev/null)
        kill -KILL "$slicectl_pid"
        t_wait_pid "$slicectl_pid" 30
        gone() {
                local p
                for p in "$reaper" $inside; do [ -e "/proc/$p" ] && return 1; done
                return 0
        }
        if ! t_wait_for 10 gone; then
                t_fail "still running after slicectl died: $(
                        for p in "$reaper" $inside; do
                                [ -e "/proc/$p" ] && echo "pid $p: $(tr '\0' ' ' <"/proc/$p/cmdline")"
                        done)"
                kill -KILL "$reaper" 2>/dev/null # pid 1 of the slice: the rest follows
        fi
        assert_ne "" "$inside" "the command was found before the kill"
else
        t_fail "slicectl (pid $slicectl_pid) has no child"
fi

t_done
