#!/usr/bin/env bash
# sliced: a slice's stdout and stderr reach sliced's stderr line by line,
# prefixed with the slice path; RUNTIME_DIR/state.json reports every slice
# (path, state, reason, restarts, pid, resources) and is rewritten on change.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/sliced_lib.sh"

mkdir -p "$T_TMP/ctl"
chmod 1777 "$T_TMP/ctl"

sd_topology "$T_TMP/topo.yaml" <<EOF
slices:
  - name: talk
    exec:
      - /bin/sh
      - -c
      - |
        echo "out 1"
        echo "err 1" >&2
        echo "out 2: with  spaces and a colon"
        echo "err 2" >&2
        printf 'no newline at the end'
        exec sleep 1000 >/dev/null 2>&1
  - name: grp
    resources: {memory: 64M, pids: 32}
    slices:
      - name: inner
        exec: [/bin/sh, -c, "echo inner says hi; exec sleep 1000"]
        resources: {memory: 16M}
  - name: once
    exec: [/bin/sh, -c, "while ! [ -e /ctl/exit ]; do sleep 0.05; done; echo leaving; exit 4"]
    mounts: [{src: $T_TMP/ctl, dest: /ctl}]
    restart: {policy: never}
EOF

# ---- output capture ---------------------------------------------------------------
t_begin "stdout and stderr lines of a slice appear on sliced's stderr as '/path: line'"
sd_start "$T_TMP/topo.yaml"
if sd_wait 20 /talk state ready && sd_wait 20 /grp/inner state ready &&
        sd_wait_cmd 20 "the last (unterminated) line of /talk" sd_log_has "/talk: no newline at the end"; then
        for line in "/talk: out 1" "/talk: err 1" "/talk: out 2: with  spaces and a colon" "/talk: err 2" \
                "/talk: no newline at the end"; do
                assert_true "a whole line [$line]" grep -qxF "$line" "$SD_LOG"
        done
        sd_wait_cmd 20 "/grp/inner's line" sd_log_has "/grp/inner: inner says hi"
        assert_true "a nested slice's line carries its full path" grep -qxF "/grp/inner: inner says hi" "$SD_LOG"
        # stdout lines stay in order among themselves (stderr is another pipe)
        assert_eq "/talk: out 1 /talk: out 2: with  spaces and a colon " \
                "$(grep -E '^/talk: out' "$SD_LOG" | tr '\n' ' ')" "stdout order"
        assert_eq "" "$(cat "$T_BG_OUT")" "sliced's stdout (everything goes to stderr)"
fi

# ---- state report -----------------------------------------------------------------
t_begin "state.json has path, state, reason, restarts, pid and resources for every slice"
if sd_wait 20 /once state ready; then
        assert_eq "$SD_PID" "$(sd_get "" sliced_pid)" "sliced_pid"
        assert_eq "/talk /grp /grp/inner /once " "$(sd_paths | tr '\n' ' ')" "slice paths (parents before children)"
        for p in /talk /grp /grp/inner /once; do
                assert_eq ready "$(sd_get "$p" state)" "$p state"
                assert_eq null "$(sd_get "$p" reason)" "$p reason"
                assert_eq 0 "$(sd_get "$p" restarts)" "$p restarts"
                assert_match "$(sd_get "$p" resources)" '^\{.*\}$' "$p resources (an object)"
        done
        assert_eq true "$(sd_get /grp group)" "/grp is a group"
        assert_eq null "$(sd_get /grp pid)" "a group has no pid"
        for p in /talk /grp/inner /once; do
                pid=$(sd_get "$p" pid)
                assert_match "$pid" '^[0-9]+$' "$p pid"
                # the host pid of the slice's pid 1
                assert_match "$(grep '^NSpid:' "/proc/$pid/status" 2>/dev/null)" "^NSpid:[[:space:]]+${pid}[[:space:]]+1\$" \
                        "$p's pid is its pid namespace's init"
        done
        assert_eq 16777216 "$(sd_get /grp/inner limits.memory)" "/grp/inner limits.memory"
fi

t_begin "state.json resources: memory_current, memory_peak, cpu_usec, pids (root)"
if skip_unless_root "cgroup statistics"; then
        for p in /talk /grp/inner /once; do
                for k in memory_current memory_peak cpu_usec pids; do
                        assert_match "$(sd_get "$p" "resources.$k")" '^[0-9]+$' "$p resources.$k"
                done
                assert_true "$p memory_current > 0" test "$(sd_get "$p" resources.memory_current)" -gt 0
                assert_true "$p memory_peak >= memory_current" \
                        test "$(sd_get "$p" resources.memory_peak)" -ge "$(sd_get "$p" resources.memory_current)"
                assert_true "$p pids >= 2 (reaper and command)" test "$(sd_get "$p" resources.pids)" -ge 2
        done
        # a group counts its children's processes
        assert_true "/grp pids >= 2" test "$(sd_get /grp resources.pids)" -ge 2
fi

t_begin "state.json is rewritten on change: a slice that exits shows down, its reason and code"
if sd_is /once state ready; then
        touch "$T_TMP/ctl/exit"
        if sd_wait 20 /once state down; then
                assert_eq "exited (code 4)" "$(sd_get /once reason)" "/once reason"
                assert_eq 4 "$(sd_get /once exit_code)" "/once exit_code"
                assert_eq null "$(sd_get /once pid)" "/once pid"
                assert_eq false "$(sd_get /once oom_killed)" "/once oom_killed"
                assert_true "the log says down" sd_log_has "/once: down: exited (code 4)"
                assert_eq ready "$(sd_get /talk state)" "/talk state (unaffected)"
        fi
fi

t_begin "on SIGTERM the last report shows every running slice stopped"
talk_pid=$(sd_get /talk pid)
sd_stop
assert_eq 0 "$RC" "sliced's exit status"
assert_eq true "$(sd_get "" shutting_down)" "shutting_down"
for p in /talk /grp /grp/inner; do
        assert_eq stopped "$(sd_get "$p" state)" "$p state"
        assert_eq null "$(sd_get "$p" pid)" "$p pid"
done
# it had ended already: it keeps its state and why
assert_eq down "$(sd_get /once state)" "/once state"
assert_eq "exited (code 4)" "$(sd_get /once reason)" "/once reason"
assert_true "/talk's process is gone" test -n "$talk_pid" -a ! -e "/proc/$talk_pid"
assert_true "no temporary report left" test ! -e "$SD_STATE.tmp"

t_done
