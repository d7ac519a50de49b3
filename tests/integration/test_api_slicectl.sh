#!/usr/bin/env bash
# slicectl against a real sliced (test_slicectl_client.sh covers the client's
# corners with a fake): status, get, logs (tail, follow), events, restart,
# stop, start, diff and apply, and what each prints and exits when sliced
# says no, when the followed slice leaves the topology, and when sliced stops.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/sliced_lib.sh"

sd_topology "$T_TMP/topo.yaml" <<'EOF2'
slices:
  - name: ticker
    exec: [/bin/sh, -c, 'i=0; while :; do i=$((i+1)); echo "tick $i"; sleep 0.2; done']
  - name: quiet
    exec: [/bin/sh, -c, 'echo "quiet up"; exec sleep 100000']
  - name: grp
    slices:
      - name: inner
        exec: [/bin/sh, -c, 'echo "inner up"; exec sleep 100000']
EOF2

sd_start "$T_TMP/topo.yaml"
export SLICED_SOCKET=$SD_RUN/api.sock TZ=UTC
unset NO_COLOR

t_begin "status lists every slice once they are ready"
if sd_wait 20 /ticker state ready && sd_wait 20 /quiet state ready &&
        sd_wait 20 /grp/inner state ready && t_wait_for 10 test -S "$SLICED_SOCKET"; then
        assert_exit 0 "$SLICECTL" status
        assert_match "$OUT" "^PATH +STATE +REASON +RESTARTS +PID +MEMORY"$'\n' "the header"
        for p in /ticker /quiet /grp /grp/inner; do
                assert_match "$OUT" $'\n'"$p +[a-z-]+ " "a row for $p"
        done
        assert_match "$OUT" $'\n'"/quiet +ready +- +0 +$(sd_get /quiet pid) " "/quiet's row"
else
        t_done
fi

t_begin "get shows the slice as state.json has it"
assert_exit 0 "$SLICECTL" get grp/inner
assert_contains "$OUT" "pid:       $(sd_get /grp/inner pid)" "its pid"
assert_contains "$OUT" "state:     ready" "its state"
assert_exit 0 "$SLICECTL" get --json /grp
assert_contains "$OUT" '"group": true' "--json: sliced's object"

t_begin "get of an unknown slice exits 1 with sliced's message"
assert_exit 1 "$SLICECTL" get nope
assert_contains "$ERR" "slicectl: get: no slice '/nope'" "the message"

t_begin "logs --tail prints what the slice wrote"
assert_exit 0 "$SLICECTL" logs --tail 5 quiet
assert_eq "quiet up" "$OUT" "the one line"
assert_exit 0 "$SLICECTL" logs --json -n 1 quiet
assert_contains "$OUT" '"text":"quiet up"' "--json: the NDJSON line"

t_begin "logs -f follows new lines until Ctrl-C, exit 0"
t_bg env --default-signal=INT "$SLICECTL" logs -f --tail 1 ticker
pid=$T_BG_PID
out=$T_BG_OUT
three() { [ "$(grep -c '^tick ' "$out" 2>/dev/null)" -ge 3 ]; }
if t_wait_for 20 three; then
        kill -INT "$pid"
        t_wait_pid "$pid" 20
        assert_eq 0 "$RC" "exit status"
        first=$(head -1 "$out")
        last=$(tail -1 "$out")
        assert_eq $((${last#tick } - ${first#tick } + 1)) "$(wc -l <"$out")" "consecutive lines"
else
        t_fail "no 3 lines in 20 s: $(cat "$out" "$T_BG_ERR")"
fi

t_begin "restart, stop and start are accepted; events shows them; SIGTERM ends events, exit 0"
t_bg "$SLICECTL" events
ev=$T_BG_PID
evout=$T_BG_OUT
sleep 0.3
old=$(sd_get /quiet pid)
assert_exit 0 "$SLICECTL" restart quiet
assert_match "$OUT" "^/quiet: restart accepted \(now [a-z-]+\)$" "restart"
pid_changed() { [ "$(sd_get /quiet pid)" != "$old" ] && sd_is /quiet state ready; }
t_wait_for 20 pid_changed || t_fail "/quiet did not come back with a new pid"
assert_exit 0 "$SLICECTL" stop /quiet
sd_wait 20 /quiet state stopped
assert_exit 0 "$SLICECTL" start quiet
sd_wait 20 /quiet state ready
ready_twice() { [ "$(grep -c '  /quiet  ready' "$evout")" -ge 2 ]; }
t_wait_for 10 ready_twice || t_fail "events: $(cat "$evout")"
kill -TERM "$ev"
t_wait_pid "$ev" 20
assert_eq 0 "$RC" "events' exit status"
assert_match "$(cat "$evout")" "[0-9:.]+  /quiet  stopping" "events: stopping"
assert_match "$(cat "$evout")" "[0-9:.]+  /quiet  stopped" "events: stopped"
assert_not_contains "$(cat "$evout")" "(-)" "no empty reason"

t_begin "restarting a group exits 1 with sliced's reason"
assert_exit 1 "$SLICECTL" restart grp
assert_contains "$ERR" "slicectl: restart: " "prefixed"
assert_contains "$ERR" "is a group" "sliced's sentence"

sed -e 's/quiet up/QUIET UP/' -e '/name: grp/,$d' "$T_TMP/topo.yaml" >"$T_TMP/new.yaml"
cat >>"$T_TMP/new.yaml" <<'EOF2'
  - name: fresh
    exec: [/bin/sleep, "100000"]
EOF2
printf 'slices:\n  - name: x\n    exce: [/bin/true]\n' >"$T_TMP/bad.yaml"

t_begin "diff prints the plan and changes nothing"
before=$(sd_get /ticker pid)
assert_exit 0 "$SLICECTL" diff -f "$T_TMP/new.yaml"
assert_eq "+ /fresh (start)
- /grp (stop)
- /grp/inner (stop)
~ /quiet (restart)
= 1 unchanged" "$OUT" "the plan"
assert_eq "$before" "$(sd_get /ticker pid)" "nothing restarted"

t_begin "apply of an invalid topology exits 1 listing sliced's errors"
assert_exit 1 "$SLICECTL" apply -f "$T_TMP/bad.yaml"
assert_contains "$ERR" "slicectl: apply: invalid topology" "the sentence"
assert_match "$ERR" $'\n'"  [^ ]*topo.yaml:3:5: .*unknown key 'exce' \(did you mean 'exec'\?\)" \
        "each error, indented, with file:line:column"
assert_eq ready "$(sd_get /grp/inner state)" "nothing changed"

t_begin "apply replaces the topology; a followed slice that leaves ends logs -f with exit 1"
t_bg "$SLICECTL" logs -f grp/inner
lf=$T_BG_PID
lferr=$T_BG_ERR
t_wait_for 10 grep -qs "inner up" "$T_BG_OUT" || t_fail "logs -f grp/inner printed nothing"
assert_exit 0 "$SLICECTL" apply -f "$T_TMP/new.yaml"
assert_contains "$OUT" "+ /fresh (start)" "the plan"
sd_wait 20 /fresh state ready
assert_eq "$before" "$(sd_get /ticker pid)" "/ticker kept its pid"
t_wait_pid "$lf" 20
assert_eq 1 "$RC" "logs -f's exit status"
assert_contains "$(cat "$lferr")" "sliced ended the log stream: /grp/inner left the topology" \
        "logs -f says why"

t_begin "a uid outside root and group sliced may read but not change: exit 1"
if is_root && ! sd_unpriv; then
        chmod 0711 "$T_TMP" "$SD_RUN"
        chmod 0666 "$SLICED_SOCKET"
        nob() { capture setpriv --reuid=65534 --regid=65534 --clear-groups "$SLICECTL" "$@"; }
        nob restart ticker
        assert_eq 1 "$RC" "restart refused"
        assert_contains "$ERR" "uid 65534 may not change sliced" "sliced's sentence"
        nob status
        assert_eq 0 "$RC" "status allowed"
        nob diff -f "$T_TMP/new.yaml"
        assert_eq 0 "$RC" "a dry run is a read"
        chmod 0660 "$SLICED_SOCKET"
        nob status
        assert_eq 3 "$RC" "no access to the socket: exit 3"
        assert_contains "$ERR" "Permission denied — this user may not open it" "says so"
else
        t_skip "needs root to act as another uid"
fi

t_begin "when sliced stops, a running events stream exits 3 and the next command too"
t_bg "$SLICECTL" events
ev=$T_BG_PID
everr=$T_BG_ERR
sleep 0.3
sd_stop
t_wait_pid "$ev" 20
assert_eq 3 "$RC" "events' exit status"
assert_contains "$(cat "$everr")" "slicectl: events: " "a message"
assert_exit 3 "$SLICECTL" status
assert_eq "slicectl: status: cannot connect to sliced at $SLICED_SOCKET: No such file or directory — is sliced running? (--socket to use another)" \
        "$ERR" "the message"

t_done
