#!/usr/bin/env bash
# Capability sessions over slice lifetimes: a server that crashes ends its
# sessions (the client is told why) and a client's new request reaches the
# restarted server; a reload that changes where a route leads revokes the
# sessions on it, live (nothing restarts); heartbeats restart a slice that
# stops answering and leave one that answers alone; a slice that writes
# garbage on its parent channel is cut off, its restart policy applies, and
# sliced goes on serving the others.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/sliced_lib.sh"
. "$(dirname "$0")/sessions_lib.sh"

ss_conf "route_wait: 30s"

# ---- server crash --------------------------------------------------------------------
t_begin "server crash: /c is told '/srv ended', re-requests, and the restarted /srv serves it"
ss_topology "$T_TMP/crash.yaml" <<'EOF'
slices:
  - name: srv
    exec: [/t/session-tool, serve, echo, --crash-after, "1"]
    profile: strict
    mounts: [@T@]
    provides: [echo]
    restart: {policy: always, backoff: {initial: 100ms}}
  - name: c
    exec: [/t/session-tool, reopen, echo, "1", --ping, again]
    profile: strict
    mounts: [@T@]
    routes: {echo: {slice: srv}}
EOF
sd_start "$T_TMP/crash.yaml"
ended="closed: server /srv ended: killed (SIGABRT)"
if sd_wait_cmd 20 "/c saw both sessions end" eval '[ "$(ss_lines /c | grep -cxF "$ended")" = 2 ]'; then
        assert_eq "granted
reply: /c: again
$ended
granted
reply: /c: again
$ended" "$(ss_lines /c)" "what /c printed"
        sd_wait 10 /srv state ready
        assert_true "/srv restarted at least twice (it crashes once per run)" \
                test "$(sd_get /srv restarts)" -ge 2
        assert_eq 2 "$(ss_lines /srv | grep -cx 'served /c')" "sessions /srv served"
        assert_eq 0 "$(sd_get /c restarts)" "/c's restarts (it re-requested, nobody restarted it)"
        sd_wait 10 /c sessions.used 0
fi
sd_stop
assert_eq 0 "$RC" "sliced's exit status"

# ---- revocation on reload ---------------------------------------------------------------
# /app/c's route goes to parent: /app decides where 'echo' leads. A reload
# that changes /app's route (first to /srv2, then to deny) leaves /app/c's
# own spec alone, so /app/c keeps running and only its session is revoked.
revoke_topo() {
        ss_topology "$T_TMP/revoke.yaml" <<EOF
slices:
  - name: srv1
    exec: [/t/session-tool, serve, echo]
    profile: strict
    mounts: [@T@]
    provides: [echo]
  - name: srv2
    exec: [/t/session-tool, serve, echo]
    profile: strict
    mounts: [@T@]
    provides: [echo]
  - name: other
    exec: [/bin/sleep, "1000"]
  - name: app
    routes: {echo: $1}
    slices:
      - name: c
        exec: [/t/session-tool, reopen, echo, "1", --ping, rev]
        profile: strict
        mounts: [@T@]
        routes: {echo: parent}
EOF
}
revoked="closed: route 'echo' of /app/c changed by a reload; revoked"
pids_of() {
        local p
        for p in "$@"; do printf '%s=%s ' "$p" "$(sd_get "$p" pid)"; done
}

t_begin "revocation: a reload sending /app's 'echo' to /srv2 revokes /app/c's session to /srv1"
revoke_topo "{slice: srv1}"
sd_start "$T_TMP/revoke.yaml"
if ss_wait 20 /app/c "reply: /app/c: rev" && sd_wait 10 /srv2 state ready && sd_wait 10 /other state ready; then
        before=$(pids_of /srv1 /srv2 /other /app/c)
        revoke_topo "{slice: srv2}"
        kill -HUP "$SD_PID"
        if ss_wait 20 /app/c "$revoked" && sd_wait_cmd 20 "/app/c's second reply" \
                eval '[ "$(ss_lines /app/c | grep -cxF "reply: /app/c: rev")" = 2 ]'; then
                assert_eq "granted
reply: /app/c: rev
$revoked
granted
reply: /app/c: rev" "$(ss_lines /app/c)" "what /app/c printed"
                assert_eq "announced echo
served /app/c
ended /app/c: route 'echo' of /app/c changed by a reload; revoked" "$(ss_lines /srv1)" "what /srv1 printed"
                assert_eq "announced echo
served /app/c" "$(ss_lines /srv2)" "what /srv2 printed"
                assert_eq "$before" "$(pids_of /srv1 /srv2 /other /app/c)" "pids after the reload"
                assert_true "sliced logs the revocation" \
                        sd_log_has "/app/c: session to /srv1 revoked: route 'echo' of /app/c changed by a reload; revoked"
        fi
fi

t_begin "revocation: a reload denying 'echo' at /app revokes the session to /srv2"
if ss_has /app/c "$revoked"; then
        before=$(pids_of /srv1 /srv2 /other /app/c)
        revoke_topo deny
        kill -HUP "$SD_PID"
        if sd_wait_cmd 20 "/app/c's second revocation" \
                eval '[ "$(ss_lines /app/c | grep -cxF "$revoked")" = 2 ]'; then
                assert_eq "ended /app/c: route 'echo' of /app/c changed by a reload; revoked" \
                        "$(ss_lines /srv2 | tail -n 1)" "/srv2's last line"
                assert_eq "$before" "$(pids_of /srv1 /srv2 /other /app/c)" "pids after the reload"
                sd_wait 10 /srv2 sessions.served 0
                sd_wait 10 /app/c sessions.used 0
                for p in /srv1 /srv2 /other /app/c; do
                        assert_eq 0 "$(sd_get "$p" restarts)" "$p's restarts"
                done
        fi
fi
sd_stop
assert_eq 0 "$RC" "sliced's exit status"

# ---- heartbeats -----------------------------------------------------------------------
ss_topology "$T_TMP/health.yaml" <<'EOF'
slices:
  - name: silent
    exec: [/t/session-tool, silent]
    profile: strict
    mounts: [@T@]
    health: {heartbeat: 200ms, failures: 3}
    restart: {policy: always, backoff: {initial: 100ms}}
  - name: beating
    exec: [/t/session-tool, serve, echo]
    profile: strict
    mounts: [@T@]
    provides: [echo]
    health: {heartbeat: 200ms, failures: 3}
EOF
sd_start "$T_TMP/health.yaml"

t_begin "heartbeats: /silent never answers and is restarted as unhealthy; /beating stays ready"
if sd_wait_cmd 20 "/silent restarted twice" eval '[ "$(sd_get /silent restarts)" -ge 2 ] 2>/dev/null'; then
        assert_eq "unhealthy (3 heartbeats unanswered)" "$(sd_get /silent reason)" "/silent's reason"
        assert_true "sliced logs the missed heartbeats" sd_log_has "/silent: 3 heartbeats unanswered"
        assert_true "sliced logs the restart" sd_log_has "/silent: unhealthy after 3 failed checks, restarting"
        assert_true "/silent ran at least 3 times" test "$(ss_lines /silent | grep -cx silent)" -ge 3
        # /beating was beaten all along (as many heartbeats as /silent missed)
        assert_eq ready "$(sd_get /beating state)" "/beating's state"
        assert_eq 0 "$(sd_get /beating restarts)" "/beating's restarts"
        assert_eq "" "$(grep -E '/beating: .*(heartbeat|unhealthy|health check)' "$SD_LOG")" \
                "sliced's lines about /beating's health"
fi
sd_stop
assert_eq 0 "$RC" "sliced's exit status"

# ---- garbage on the parent channel -------------------------------------------------------
ss_topology "$T_TMP/garbage.yaml" <<'EOF'
slices:
  - name: garbage
    exec: [/t/session-tool, garbage]
    profile: strict
    mounts: [@T@]
    restart: {policy: always, backoff: {initial: 100ms}}
  - name: srv
    exec: [/t/session-tool, serve, echo]
    profile: strict
    mounts: [@T@]
    provides: [echo]
  - name: c
    exec: [/t/session-tool, hold, echo, --ping, before]
    profile: strict
    mounts: [@T@]
    routes: {echo: {slice: srv}}
EOF
sd_start "$T_TMP/garbage.yaml"
violation="envelope: 25 bytes do not decode as a parent-protocol message"

t_begin "garbage: /garbage is cut off and its restart policy applies; sliced serves on"
if ss_wait 20 /c "reply: /c: before" &&
        sd_wait_cmd 20 "/garbage cut off" sd_log_has "/garbage: protocol violation"; then
        sliced_pid=$(sd_get "" sliced_pid)
        assert_true "sliced's log names the slice and the violation" grep -qxF \
                "sliced: error: /garbage: protocol violation, channel closed and slice stopped: $violation" "$SD_LOG"
        # the restart policy: it runs (and is cut off) again
        if sd_wait_cmd 20 "/garbage ran again (or sliced ended, or /garbage failed)" \
                eval '[ "$(ss_lines /garbage | grep -cx "wrote garbage")" -ge 2 ] || ! sd_alive "$SD_PID" || sd_is /garbage state failed'; then
                if ! sd_alive "$SD_PID"; then
                        t_wait_pid "$SD_PID" 1
                        t_fail "sliced ended (exit status $RC) when /garbage was restarted
$(tail -n 5 "$SD_LOG")"
                elif [ "$(ss_lines /garbage | grep -cx "wrote garbage")" -lt 2 ]; then
                        t_fail "/garbage never ran again: $(sd_get /garbage state): $(sd_get /garbage reason)
$(grep '/garbage: ' "$SD_LOG" | tail -n 4)"
                else
                        # state.json follows the log within its debounce interval
                        sd_wait_cmd 5 "/garbage's restarts in state.json" \
                                eval 'test "$(sd_get /garbage restarts)" -ge 1' 
                        assert_eq "cut off (protocol violation: $violation)" "$(sd_get /garbage reason)" "/garbage's reason"
                fi
        fi
        # a client added after the cut-off is served
        cat >>"$T_TMP/garbage.yaml" <<EOF
  - name: after
    exec: [/t/session-tool, open, echo, --ping, after]
    profile: strict
    mounts: [{src: $SS_TOOLDIR, dest: /t}]
    routes: {echo: {slice: srv}}
    restart: never
EOF
        if sd_alive "$SD_PID" && kill -HUP "$SD_PID" && ss_wait 20 /after "reply: /after: after"; then
                assert_eq "granted
reply: /after: after" "$(ss_lines /after)" "what /after printed"
                sd_wait 10 /after exit_code 0
                assert_eq "$sliced_pid" "$(sd_get "" sliced_pid)" "sliced's pid in state.json"
                assert_eq "granted
reply: /c: before" "$(ss_lines /c)" "what /c printed (its session untouched)"
                assert_eq 1 "$(sd_get /c sessions.used)" "/c's sessions.used"
        fi
fi
sd_stop
assert_eq 0 "$RC" "sliced's exit status"

t_done
