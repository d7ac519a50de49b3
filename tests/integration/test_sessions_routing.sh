#!/usr/bin/env bash
# Capability sessions, routing: a client's session reaches the server its
# route names and traffic flows directly between them (the fd handed over);
# the server is told an unforgeable label (client path + route label) and
# may refuse by it; a request waits for a server that is not up yet
# (route_wait) and is denied, naming the server and the wait, when it never
# comes; a client without a route is denied naming the hop that broke.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/sliced_lib.sh"
. "$(dirname "$0")/sessions_lib.sh"

# ---- handover, labels, route denials ------------------------------------------
ss_conf "route_wait: 30s"
ss_topology "$T_TMP/routes.yaml" <<'EOF'
slices:
  - name: srv
    exec: [/t/session-tool, serve, echo, --refuse-label, ":bad"]
    profile: strict
    mounts: [@T@]
    provides: [echo]
  - name: c1
    exec: [/t/session-tool, hold, echo, --ping, hello]
    profile: strict
    mounts: [@T@]
    routes: {echo: {slice: srv, label: rw}}
  - name: c2
    exec: [/t/session-tool, hold, echo, --ping, hi]
    profile: strict
    mounts: [@T@]
    routes: {echo: {slice: srv, label: ro}}
  - name: c3
    exec: [/t/session-tool, open, echo]
    profile: strict
    mounts: [@T@]
    routes: {echo: {slice: srv, label: bad}}
    restart: never
  - name: x
    exec: [/t/session-tool, open, echo]
    profile: strict
    mounts: [@T@]
    restart: never
  - name: grp
    slices:
      - name: y
        exec: [/t/session-tool, open, echo]
        profile: strict
        mounts: [@T@]
        routes: {echo: parent}
        restart: never
  - name: late
    exec: [/t/session-tool, serve, echo, --wait-signal]
    profile: strict
    mounts: [@T@]
    provides: [echo]
  - name: l
    exec: [/t/session-tool, hold, echo, --ping, waited]
    profile: strict
    mounts: [@T@]
    routes: {echo: {slice: late}}
EOF
sd_start "$T_TMP/routes.yaml"

t_begin "fd handover: /c1's session to /srv carries a ping both ways; state.json counts it"
if ss_wait 20 /c1 "reply: /c1:rw: hello"; then
        assert_eq "granted
reply: /c1:rw: hello" "$(ss_lines /c1)" "what /c1 printed"
        # traffic is direct: sliced only logs the grant, never the line
        assert_not_contains "$(grep '^sliced:' "$SD_LOG")" "hello" "sliced's own log"
        sd_wait 10 /c1 sessions.used 1 &&
                sd_wait 10 /c1 sessions.served 0 &&
                sd_wait 10 /srv sessions.announced '["echo"]'
        assert_true "sliced logs the session" sd_log_has "/c1: session echo -> /srv as /c1:rw"
fi

t_begin "labels: /srv is told /c1:rw and /c2:ro, exactly; two sessions served"
if ss_wait 20 /c2 "reply: /c2:ro: hi"; then
        assert_eq "announced echo
served /c1:rw
served /c2:ro" "$(ss_lines /srv | sort)" "what /srv printed"
        sd_wait 10 /srv sessions.served 2
        assert_eq 1 "$(sd_get /c2 sessions.used)" "/c2's sessions.used"
fi

t_begin "a server refusing a label: /c3 (label bad) is denied with the server's reason"
if ss_wait 20 /c3 "denied: /srv refused: label /c3:bad refused"; then
        assert_eq "denied: /srv refused: label /c3:bad refused" "$(ss_lines /c3)" "what /c3 printed"
        sd_wait 10 /c3 exit_code 1
        assert_not_contains "$(ss_lines /srv)" "served /c3" "what /srv printed"
fi

t_begin "no route: /x is denied naming itself, /grp/y naming both hops"
ss_wait 20 /x "denied: /x has no route for 'echo'"
ss_wait 20 /grp/y "denied: /grp/y: route 'echo' goes to parent; /grp has no route for 'echo'"
assert_true "sliced logs the denial" sd_log_has "/x: session 1 denied: /x has no route for 'echo'"

t_begin "waiting then success: /l's request waits for /late, which announces on a signal"
if sd_wait 20 /late state ready && sd_wait 20 /l state ready &&
        sd_wait_cmd 20 "/late's process" ss_tool_pid /late >/dev/null; then
        # /late has not announced, so /l cannot have been answered yet
        assert_eq "" "$(ss_lines /l)" "what /l printed before /late announced"
        assert_eq "[]" "$(sd_get /late sessions.announced)" "/late's announced services"
        kill -USR1 "$(ss_tool_pid /late)"
        if ss_wait 20 /l "reply: /l: waited"; then
                assert_eq "granted
reply: /l: waited" "$(ss_lines /l)" "what /l printed"
                assert_eq "announced echo
served /l" "$(ss_lines /late)" "what /late printed"
        fi
fi
sd_stop
assert_eq 0 "$RC" "sliced's exit status"

# ---- waiting then denial ---------------------------------------------------------
t_begin "waiting then denial: a server that never announces; route_wait 500ms"
ss_conf "route_wait: 500ms"
ss_topology "$T_TMP/never.yaml" <<'EOF'
slices:
  - name: never
    exec: [/bin/sleep, "1000"]
    provides: [echo]
  - name: w
    exec: [/t/session-tool, open, echo]
    profile: strict
    mounts: [@T@]
    routes: {echo: {slice: never}}
    restart: never
EOF
sd_start "$T_TMP/never.yaml"
if ss_wait 20 /w "denied: /w: server /never did not serve 'echo' within 0.5 s (ready)"; then
        assert_eq ready "$(sd_get /never state)" "/never's state"
        sd_wait 10 /w exit_code 1
fi
sd_stop
assert_eq 0 "$RC" "sliced's exit status"

t_done
