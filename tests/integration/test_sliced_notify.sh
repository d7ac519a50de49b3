#!/usr/bin/env bash
# sliced under a service manager: sd_notify READY=1 once its slices are
# started, WATCHDOG=1 keep-alives when WATCHDOG_USEC asks for them,
# RELOADING=1/READY=1 around a SIGHUP reload, STOPPING=1 on SIGTERM. The
# notify socket is the test's own (a python listener), never systemd's.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/sliced_lib.sh"

# listen SOCK LOG: record every datagram on SOCK as one line of LOG
# (newlines inside a message become '|'); LISTENER is its pid.
listen() {
        rm -f "$1" "$2"
        t_bg "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as log:
    while True:
        m = s.recv(65536).decode("utf-8", "replace")
        log.write(m.replace("\n", "|") + "\n")
        log.flush()
' "$1" "$2"
        LISTENER=$T_BG_PID
        t_wait_for 10 test -S "$1" || t_fail "the notify listener did not start: $(cat "$T_BG_ERR")"
}

# count LOG REGEX: messages matching (a whole line, ERE)
count() { grep -cE "^($2)\$" "$1" 2>/dev/null; }
has_at_least() { [ "$(count "$1" "$2")" -ge "$3" ]; }

sd_topology "$T_TMP/topo.yaml" <<'EOF'
slices:
  - name: a
    exec: [/bin/sh, -c, "env; exec sleep 1000"]
  - name: b
    exec: [/bin/sleep, "1000"]
EOF

t_begin "NOTIFY_SOCKET: READY=1 with a status, WATCHDOG=1 every WATCHDOG_USEC/2, RELOADING=1 on SIGHUP, STOPPING=1 on SIGTERM"
sock=$T_TMP/notify.sock
msgs=$T_TMP/notify.log
listen "$sock" "$msgs"
sd_start "$T_TMP/topo.yaml" -u WATCHDOG_PID NOTIFY_SOCKET="$sock" WATCHDOG_USEC=200000
if sd_wait_cmd 20 "READY=1" has_at_least "$msgs" 'READY=1(\|.*)?' 1; then
        assert_match "$(grep -m1 '^READY=1' "$msgs")" '^READY=1\|STATUS=2 slices, [0-9]+ ready$' "the first READY message"
        sd_wait_cmd 20 "three WATCHDOG=1" has_at_least "$msgs" 'WATCHDOG=1' 3
        sd_wait 20 /a state ready
        sd_wait 20 /b state ready
        # reload: RELOADING=1, then READY=1 again
        kill -HUP "$SD_PID"
        if sd_wait_cmd 20 "RELOADING=1 after SIGHUP" has_at_least "$msgs" 'RELOADING=1' 1; then
                sd_wait_cmd 20 "READY=1 after the reload" has_at_least "$msgs" 'READY=1(\|.*)?' 2
                assert_eq "READY=1 RELOADING=1 READY=1" \
                        "$(grep -oE '^(READY|RELOADING)=1' "$msgs" | tr '\n' ' ' | sed 's/ $//')" \
                        "READY/RELOADING sequence"
        fi
        sd_stop
        assert_eq 0 "$RC" "sliced's exit status"
        sd_wait_cmd 10 "STOPPING=1" has_at_least "$msgs" 'STOPPING=1' 1
        assert_eq 0 "$(grep -nE '^(READY|RELOADING)=1' "$msgs" | awk -F: -v s="$(grep -n '^STOPPING=1' "$msgs" | head -1 | cut -d: -f1)" '$1 > s' | wc -l)" \
                "no READY or RELOADING after STOPPING"
fi
t_begin "the slices do not inherit NOTIFY_SOCKET or WATCHDOG_*"
if sd_wait_cmd 10 "/a printed its environment" sd_log_has "/a: PATH="; then
        assert_not_contains "$(grep '^/a: ' "$SD_LOG")" "NOTIFY_SOCKET" "/a's environment"
        assert_not_contains "$(grep '^/a: ' "$SD_LOG")" "WATCHDOG_" "/a's environment"
fi
kill "$LISTENER" 2>/dev/null

t_begin "WATCHDOG_PID set to sliced's own pid: WATCHDOG=1 arrives"
msgs2=$T_TMP/notify2.log
listen "$sock" "$msgs2"
# exec keeps the pid: WATCHDOG_PID is sliced's
sd_start "$T_TMP/topo.yaml" NOTIFY_SOCKET="$sock" WATCHDOG_USEC=200000 \
        /bin/sh -c 'WATCHDOG_PID=$$ exec "$@"' sh
if sd_wait_cmd 20 "READY=1" has_at_least "$msgs2" 'READY=1(\|.*)?' 1; then
        assert_eq "$SD_PID" "$(sd_get "" sliced_pid)" "sliced runs as the pid WATCHDOG_PID names"
        sd_wait_cmd 20 "two WATCHDOG=1" has_at_least "$msgs2" 'WATCHDOG=1' 2
fi
sd_stop
assert_eq 0 "$RC" "sliced's exit status"
kill "$LISTENER" 2>/dev/null

t_done
