#!/usr/bin/env bash
# sliced: start order follows routes (a client starts once its server is
# ready), SIGTERM stops in reverse order and leaves no process, and a
# SIGKILLed sliced leaves no orphan behind.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/sliced_lib.sh"

mkdir -p "$T_TMP/shared"
chmod 1777 "$T_TMP/shared" # root mode runs each slice as a uid of its own
# files several slices append to: writable by all of them
shared_file() {
        : >"$T_TMP/shared/$1"
        chmod 0666 "$T_TMP/shared/$1"
}
shared_file events

# ---- start order ------------------------------------------------------------------
t_begin "start order: app (routes kv to db) starts only after db is ready"
# app comes first in the file; db is healthy only once the test says go.
sd_topology "$T_TMP/start.yaml" <<EOF
slices:
  - name: app
    exec: [/bin/sh, -c, "echo app-start >> /shared/events; exec sleep 1000"]
    mounts: [{src: $T_TMP/shared, dest: /shared, rw: true}]
    routes:
      kv: {slice: db}
  - name: db
    exec:
      - /bin/sh
      - -c
      - |
        echo db-start >> /shared/events
        while ! [ -e /shared/go ]; do sleep 0.05; done
        touch /tmp/up
        echo db-up >> /shared/events
        exec sleep 1000
    mounts: [{src: $T_TMP/shared, dest: /shared, rw: true}]
    provides: [kv]
    health: {exec: [/bin/sh, -c, "test -e /tmp/up"], interval: 100ms, timeout: 1s, failures: 1000}
EOF
sd_start "$T_TMP/start.yaml"
if sd_wait 10 /db state running "/db running (not yet healthy)"; then
        assert_eq waiting "$(sd_get /app state)" "/app's state while /db is not ready"
        assert_eq null "$(sd_get /app pid)" "/app's pid while /db is not ready"
        touch "$T_TMP/shared/go"
        if sd_wait 10 /app state ready &&
                sd_wait_cmd 20 "/app wrote app-start" grep -qx app-start "$T_TMP/shared/events"; then
                assert_eq ready "$(sd_get /db state)" "/db's state"
                assert_eq "db-start db-up app-start " "$(tr '\n' ' ' <"$T_TMP/shared/events")" \
                        "the order of events in the slices"
                order=$(grep -oE '^sliced: info: /(db|app): ready$' "$SD_LOG" | tr '\n' ' ')
                assert_eq "sliced: info: /db: ready sliced: info: /app: ready " "$order" "ready order in the log"
        fi
fi
sd_stop
assert_eq 0 "$RC" "sliced's exit status"

# ---- stop order -------------------------------------------------------------------
t_begin "SIGTERM stops app before db, sliced exits 0, no slice process remains"
shared_file stop
# each slice appends its name on SIGTERM, then exits
script() {
        echo "[/bin/sh, -c, \"trap 'echo $1 >> /shared/stop; exit 0' TERM; echo $1-armed; sleep 1000 & wait\"]"
}
sd_topology "$T_TMP/stop.yaml" <<EOF
slices:
  - name: app
    exec: $(script app)
    mounts: [{src: $T_TMP/shared, dest: /shared, rw: true}]
    routes:
      kv: {slice: db}
  - name: db
    exec: $(script db)
    mounts: [{src: $T_TMP/shared, dest: /shared, rw: true}]
    provides: [kv]
EOF
sd_start "$T_TMP/stop.yaml"
if sd_wait 20 /app state ready && sd_wait 20 /db state ready &&
        sd_wait_cmd 20 "both traps set" eval 'sd_log_has "/app: app-armed" && sd_log_has "/db: db-armed"'; then
        procs=$(sd_desc "$(sd_get /app pid)" "$(sd_get /db pid)")
        assert_true "found the slices' processes (2 reapers, 2 commands, 2 sleeps)" \
                test "$(echo "$procs" | wc -w)" -ge 6
        sd_stop 20
        assert_eq 0 "$RC" "sliced's exit status"
        assert_eq "app db " "$(tr '\n' ' ' <"$T_TMP/shared/stop" 2>/dev/null)" "the stop order the slices saw"
        order=$(grep -oE '^sliced: info: /(db|app): (stopping|stopped)$' "$SD_LOG" | sed 's/^sliced: info: //' | tr '\n' ' ')
        assert_eq "/app: stopping /app: stopped /db: stopping /db: stopped " "$order" "the stop order in the log"
        # shellcheck disable=SC2086
        if ! t_wait_for 10 sd_none_alive $procs; then
                # shellcheck disable=SC2086
                t_fail "still running after sliced exited: $(sd_describe_pids $procs)"
        fi
fi

# ---- kill -9 ------------------------------------------------------------------------
t_begin "kill -9 of sliced leaves no orphan: every slice process dies with it"
sd_topology "$T_TMP/orphan.yaml" <<'EOF'
slices:
  - name: x
    exec: [/bin/sh, -c, "trap '' TERM HUP INT; sleep 1000 & sleep 1000 & echo x-up; wait"]
  - name: y
    exec: [/bin/sh, -c, "echo y-up; while :; do sleep 1; done"]
  - name: grp
    slices:
      - name: z
        exec: [/bin/sh, -c, "sleep 1000 & echo z-up; wait"]
EOF
sd_start "$T_TMP/orphan.yaml"
if sd_wait 20 /x state ready && sd_wait 20 /y state ready && sd_wait 20 /grp/z state ready &&
        sd_wait_cmd 20 "every command is up" \
                eval 'sd_log_has "/x: x-up" && sd_log_has "/y: y-up" && sd_log_has "/grp/z: z-up"'; then
        reapers="$(sd_get /x pid) $(sd_get /y pid) $(sd_get /grp/z pid)"
        # shellcheck disable=SC2086
        procs=$(sd_desc $reapers)
        # each reaper has its command below it, and x and z their sleeps
        assert_true "found the slices' processes: $(echo "$procs" | tr '\n' ' ')" test "$(echo "$procs" | wc -w)" -ge 9
        kill -KILL "$SD_PID"
        t_wait_pid "$SD_PID" 10
        assert_eq 137 "$RC" "sliced died of SIGKILL"
        # shellcheck disable=SC2086
        if ! t_wait_for 10 sd_none_alive $procs; then
                # shellcheck disable=SC2086
                t_fail "orphans after sliced was killed: $(sd_describe_pids $procs)"
        fi
fi

t_done
