#!/usr/bin/env bash
# sliced: a slice killed by the OOM killer is reported as such (reason
# oom-killed, oom_killed: true). Unprivileged, limits cannot be enforced on
# this host: sliced says so loudly and runs the slice anyway.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/sliced_lib.sh"

# 256M touched (b'x' * n writes every page) under a 32M limit.
sd_topology "$T_TMP/oom.yaml" <<'EOF'
slices:
  - name: hog
    exec:
      - /usr/bin/python3
      - -c
      - |
        import time
        b = b'x' * (256 << 20)
        print('allocated', len(b), flush=True)
        time.sleep(1000)
    resources: {memory: 32M}
    restart: {policy: never}
  - name: small
    exec: [/bin/sh, -c, "echo small-up; exec sleep 1000"]
    resources: {memory: 32M}
EOF

if ! sd_unpriv; then
        t_begin "a slice over its memory limit ends oom-killed (reason and oom_killed in state.json)"
        sd_start "$T_TMP/oom.yaml"
        if sd_wait 30 /hog state down; then
                assert_eq oom-killed "$(sd_get /hog reason)" "/hog's reason"
                assert_eq true "$(sd_get /hog oom_killed)" "/hog's oom_killed"
                assert_eq 9 "$(sd_get /hog signal)" "/hog's signal (SIGKILL)"
                assert_eq true "$(sd_get "" limits_enforced)" "limits_enforced"
                assert_true "the log says down: oom-killed" sd_log_has "/hog: down: oom-killed"
                assert_not_contains "$(cat "$SD_LOG")" "/hog: allocated" "sliced's log (the allocation never completed)"
        fi
        t_begin "an OOM kill in one slice leaves its sibling alone"
        assert_eq ready "$(sd_get /small state)" "/small's state"
        assert_eq false "$(sd_get /small oom_killed)" "/small's oom_killed"
        assert_eq 0 "$(sd_get /small restarts)" "/small's restarts"
        sd_stop
        assert_eq 0 "$RC" "sliced's exit status"
else
        t_begin "unprivileged: sliced warns that resource limits are NOT enforced, and runs the slice"
        sd_start "$T_TMP/oom.yaml"
        if sd_wait_cmd 30 "/hog allocated its 256M" sd_log_has "/hog: allocated 268435456"; then
                assert_true "the warning on sliced's stderr" \
                        grep -qE '^sliced: warning: resource limits are NOT enforced' "$SD_LOG"
                assert_eq 1 "$(grep -c 'resource limits are NOT enforced' "$SD_LOG")" "the warning is said once"
                assert_eq false "$(sd_get "" limits_enforced)" "limits_enforced in state.json"
                sd_wait 10 /hog state ready
                assert_eq false "$(sd_get /hog oom_killed)" "/hog's oom_killed"
                assert_eq null "$(sd_get /hog reason)" "/hog's reason"
                sd_wait 10 /small state ready
        fi
        sd_stop
        assert_eq 0 "$RC" "sliced's exit status"
fi

t_done
