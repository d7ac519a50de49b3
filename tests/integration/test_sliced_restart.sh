#!/usr/bin/env bash
# sliced: the restart policy (exponential back-off, crash-loop limit), exec
# health probes that restart an unhealthy slice, and stop_timeout (SIGKILL
# after SIGTERM is ignored).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/sliced_lib.sh"

# ---- back-off and crash loop ------------------------------------------------------
t_begin "a slice that keeps exiting 1 backs off 0.1 s, 0.2 s, 0.4 s, then fails after 3 restarts"
sd_topology "$T_TMP/crash.yaml" <<'EOF'
slices:
  - name: crash
    exec: [/bin/sh, -c, "echo run; exit 1"]
    restart:
      policy: on-failure
      backoff: {initial: 100ms, max: 400ms}
      crash_loop: {max: 3, window: 1m}
EOF
sd_start "$T_TMP/crash.yaml"
if sd_wait 20 /crash state failed; then
        assert_eq 3 "$(sd_get /crash restarts)" "restarts in state.json"
        assert_eq "exited (code 1)" "$(sd_get /crash reason)" "reason in state.json"
        assert_eq 1 "$(sd_get /crash exit_code)" "exit_code in state.json"
        assert_eq null "$(sd_get /crash pid)" "no pid once failed"
        # the delays as logged, in order (what the policy decided, not wall time)
        delays=$(sed -n 's|^sliced: [a-z]*: /crash: back-off: exited (code 1), next try in \([0-9.]*\) s$|\1|p' \
                "$SD_LOG" | tr '\n' ' ')
        assert_eq "0.1 0.2 0.4 " "$delays" "the 'next try in' sequence"
        assert_true "the log says it failed: 3 restarts within the window" \
                grep -qF "/crash: failed: exited (code 1), 3 restarts within 60 s" "$SD_LOG"
        assert_eq 4 "$(grep -c '^/crash: run$' "$SD_LOG")" "runs of the command (1 + 3 restarts)"
fi
sd_stop
assert_eq 0 "$RC" "sliced exits 0 on SIGTERM"

t_begin "back-off is capped at backoff.max (100ms doubling, max 200ms: 0.1 0.2 0.2 0.2)"
sd_topology "$T_TMP/cap.yaml" <<'EOF'
slices:
  - name: cap
    exec: [/bin/sh, -c, "exit 2"]
    restart:
      policy: always
      backoff: {initial: 100ms, max: 200ms}
      crash_loop: {max: 4, window: 1m}
EOF
sd_start "$T_TMP/cap.yaml"
if sd_wait 20 /cap state failed; then
        delays=$(sed -n 's|^.*/cap: back-off: exited (code 2), next try in \([0-9.]*\) s$|\1|p' \
                "$SD_LOG" | tr '\n' ' ')
        assert_eq "0.1 0.2 0.2 0.2 " "$delays" "the 'next try in' sequence"
        assert_eq 4 "$(sd_get /cap restarts)" "restarts"
fi
sd_stop

# ---- exec health probe ------------------------------------------------------------
t_begin "an exec probe that starts failing restarts the slice; one that passes keeps it ready"
mkdir -p "$T_TMP/hp"
chmod 1777 "$T_TMP/hp"
# /flaky: healthy, then drops /tmp/healthy once it was seen ready (the test
# touches /hp/drop); its second run stays healthy. /steady: always healthy.
sd_topology "$T_TMP/health.yaml" <<'EOF'
slices:
  - name: flaky
    exec:
      - /bin/sh
      - -c
      - |
        touch /tmp/healthy
        if [ -e /hp/ran ]; then echo second-run; exec sleep 1000; fi
        touch /hp/ran
        while ! [ -e /hp/drop ]; do sleep 0.05; done
        rm -f /tmp/healthy
        echo dropped
        exec sleep 1000
    mounts: [{src: HP, dest: /hp, rw: true}]
    health: {exec: [/bin/sh, -c, "test -e /tmp/healthy"], interval: 200ms, timeout: 1s, failures: 2}
  - name: steady
    exec: [/bin/sh, -c, "touch /tmp/healthy; exec sleep 1000"]
    # start_period: a first probe racing the shell's touch does not count
    health: {exec: [/bin/sh, -c, "test -e /tmp/healthy"], interval: 200ms, timeout: 1s, failures: 2,
             start_period: 2s}
EOF
sed -i "s|src: HP|src: $T_TMP/hp|" "$T_TMP/health.yaml"
sd_start "$T_TMP/health.yaml"
if sd_wait 10 /flaky state ready && sd_wait 10 /steady state ready; then
        pid1=$(sd_get /flaky pid)
        steady_pid=$(sd_get /steady pid)
        touch "$T_TMP/hp/drop"
        if sd_wait 10 /flaky restarts 1 "/flaky restarted" &&
                sd_wait 10 /flaky state ready "/flaky ready again"; then
                pid2=$(sd_get /flaky pid)
                assert_ne "$pid1" "$pid2" "/flaky's pid after the restart"
                assert_true "the log names the failed checks" \
                        grep -qF "/flaky: health check failed (2/2)" "$SD_LOG"
                assert_true "the log says it restarts it" \
                        grep -qF "/flaky: unhealthy after 2 failed checks, restarting" "$SD_LOG"
                assert_true "the second run started" grep -qx "/flaky: second-run" "$SD_LOG"
                assert_eq "unhealthy (2 failed health checks)" "$(sd_get /flaky reason)" "/flaky's reason"
                # /steady was probed all along (>= 2 intervals while /flaky failed)
                assert_eq ready "$(sd_get /steady state)" "/steady's state"
                assert_eq 0 "$(sd_get /steady restarts)" "/steady's restarts"
                assert_eq "$steady_pid" "$(sd_get /steady pid)" "/steady's pid"
                assert_not_contains "$(cat "$SD_LOG")" "/steady: health check failed" "sliced's log"
        fi
fi
sd_stop
assert_eq 0 "$RC" "sliced exits 0 on SIGTERM"

t_begin "a probe that never passes keeps the slice 'running' (not ready)"
sd_topology "$T_TMP/never.yaml" <<'EOF'
slices:
  - name: never
    exec: [/bin/sh, -c, "exec sleep 1000"]
    health: {exec: [/bin/sh, -c, "exit 3"], interval: 100ms, timeout: 1s, failures: 1000}
EOF
sd_start "$T_TMP/never.yaml"
if sd_wait_cmd 10 "three failed probes" sd_log_has "/never: health check failed (3/1000): exited 3"; then
        assert_eq running "$(sd_get /never state)" "/never's state"
        assert_eq 0 "$(sd_get /never restarts)" "/never's restarts"
fi
sd_stop

# ---- stop_timeout -----------------------------------------------------------------
t_begin "a slice ignoring SIGTERM is SIGKILLed after stop_timeout when sliced stops"
sd_topology "$T_TMP/stubborn.yaml" <<'EOF'
slices:
  - name: stubborn
    exec: [/bin/sh, -c, "trap '' TERM; echo armed; while :; do sleep 1; done"]
    stop_timeout: 300ms
EOF
sd_start "$T_TMP/stubborn.yaml"
if sd_wait 20 /stubborn state ready && sd_wait_cmd 20 "the slice's trap is set" sd_log_has "/stubborn: armed"; then
        procs=$(sd_desc "$(sd_get /stubborn pid)")
        sd_stop 20
        assert_eq 0 "$RC" "sliced's exit status"
        assert_true "the log says it killed it" \
                grep -qF "/stubborn: still running 0.3 s after SIGTERM, killing" "$SD_LOG"
        assert_true "the log says it stopped" grep -qF "/stubborn: stopped" "$SD_LOG"
        # shellcheck disable=SC2086
        if ! t_wait_for 10 sd_none_alive $procs; then
                # shellcheck disable=SC2086
                t_fail "left running: $(sd_describe_pids $procs)"
        fi
fi

t_done
