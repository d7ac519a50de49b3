#!/usr/bin/env bash
# Capability sessions, memory quota donation: a client that opens a session
# with `memory` bytes gives that much of its cgroup memory limit to the
# server for the session's life (its limit drops, the server's rises) and
# gets it back when the session ends, however it ends; a client cannot give
# more than it has free. Unprivileged there is no cgroup, and donation is
# refused saying so.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/sliced_lib.sh"
. "$(dirname "$0")/sessions_lib.sh"

M=$((1024 * 1024))
ss_conf "route_wait: 30s"
ss_topology "$T_TMP/quota.yaml" <<'EOF'
slices:
  - name: srv
    exec: [/t/session-tool, serve, echo]
    profile: strict
    mounts: [@T@]
    provides: [echo]
    resources: {memory: 32M}
    restart: {policy: always, backoff: {initial: 100ms}}
  - name: c
    exec: [/t/session-tool, hold, echo, --memory, 16M, --ping, q]
    profile: strict
    mounts: [@T@]
    routes: {echo: {slice: srv}}
    resources: {memory: 64M}
  - name: c2
    exec: [/t/session-tool, hold, echo, --memory, 8M]
    profile: strict
    mounts: [@T@]
    routes: {echo: {slice: srv}}
    resources: {memory: 64M}
  - name: big
    exec: [/t/session-tool, open, echo, --memory, 100M]
    profile: strict
    mounts: [@T@]
    routes: {echo: {slice: srv}}
    resources: {memory: 64M}
    restart: never
  - name: nolimit
    exec: [/t/session-tool, open, echo, --memory, 1M]
    profile: strict
    mounts: [@T@]
    routes: {echo: {slice: srv}}
    restart: never
EOF

# The memory limit of a slice's cgroup in bytes, from cgroup_base in
# sliced.conf: v1 (and hybrid) memory.limit_in_bytes, or v2 memory.max.
cgbase=$(sed -n 's/^cgroup_base: //p' "$T_TMP/sliced.conf")
mem_limit() {
        local v1=/sys/fs/cgroup/memory/$cgbase/$1/memory.limit_in_bytes
        local v2=/sys/fs/cgroup/$cgbase/$1/memory.max
        if [ -e "$v1" ]; then cat "$v1"; elif [ -e "$v2" ]; then cat "$v2"; else echo none; fi
}
limits() { echo "srv=$(mem_limit srv) c=$(mem_limit c) c2=$(mem_limit c2)"; }
limits_are() { [ "$(limits)" = "srv=$(($1 * M)) c=$(($2 * M)) c2=$(($3 * M))" ]; }
# limits_wait SRV C C2 WHAT (in MiB)
limits_wait() {
        t_wait_for 10 limits_are "$1" "$2" "$3" ||
                t_fail "$4: expected srv=$1M c=$2M c2=$3M, got $(limits)"
}

sd_start "$T_TMP/quota.yaml"

if sd_unpriv; then
        t_begin "unprivileged: no cgroup, so donation is refused, saying why"
        # /c has a limit in the topology (64M); what it lacks is a cgroup
        if sd_wait_cmd 20 "/c printed" eval '[ -n "$(ss_lines /c)" ]'; then
                assert_match "$(ss_lines /c)" "^denied: /c .*(cgroup|not enforced)" "what /c printed"
                assert_eq false "$(sd_get "" limits_enforced)" "limits_enforced in state.json"
                assert_eq "" "$(ss_lines /srv | grep '^served')" "sessions /srv served"
                assert_eq "none" "$(mem_limit c)" "/c's cgroup"
        fi
        ss_wait 20 /nolimit "denied: /nolimit has no memory limit of its own to donate from"
        sd_stop
        assert_eq 0 "$RC" "sliced's exit status"
        t_done
fi

t_begin "donation: /c gives 16M and /c2 8M to /srv: their limits drop, /srv's rises"
if ss_wait 20 /c "reply: /c: q" && ss_wait 20 /c2 granted; then
        limits_wait 56 48 56 "limits with both sessions open"
        assert_true "/srv was told" ss_has /srv "donated $((16 * M))"
        sd_wait 10 /c sessions.memory_donated $((16 * M))
        sd_wait 10 /srv sessions.memory_received $((24 * M))
        assert_true "sliced logs it" sd_log_has "/c: donates $((16 * M)) bytes of memory to /srv"
fi

t_begin "donation beyond what is free: /big (64M limit, asks 100M) is denied; nothing moves"
if sd_wait_cmd 20 "/big printed" eval '[ -n "$(ss_lines /big)" ]'; then
        assert_match "$(ss_lines /big)" "^denied: /big cannot donate $((100 * M)) bytes: [0-9]+ of its $((64 * M))-byte limit are free$" "what /big printed"
        assert_eq "$((64 * M))" "$(mem_limit big)" "/big's limit"
        limits_wait 56 48 56 "limits after /big's denial"
fi

t_begin "donation without a limit of its own: /nolimit is denied"
ss_wait 20 /nolimit "denied: /nolimit has no memory limit of its own to donate from"

t_begin "release: /c closes its session and both limits come back"
if ss_has /c "reply: /c: q" && pid=$(ss_tool_pid /c); then
        kill -USR1 "$pid"
        if ss_wait 20 /c released; then
                limits_wait 40 64 56 "limits after /c released its session"
                sd_wait 10 /c sessions.used 0
                assert_eq absent "$(sd_get /c sessions.memory_donated || echo absent)" "/c's memory_donated"
                sd_wait 10 /srv sessions.memory_received $((8 * M))
        fi
fi

t_begin "server crash: /c2's session ends and the limits come back for the restarted /srv too"
if ss_has /c2 granted && pid=$(ss_tool_pid /srv); then
        restarts=$(sd_get /srv restarts)
        kill -KILL "$pid"
        if ss_wait 20 /c2 "closed: server /srv ended: killed (SIGKILL)" &&
                sd_wait_cmd 20 "/srv restarted" eval '[ "$(sd_get /srv restarts)" -gt '"$restarts"' ] && sd_is /srv state ready'; then
                limits_wait 32 64 64 "limits after /srv restarted"
                assert_eq absent "$(sd_get /srv sessions.memory_received || echo absent)" "/srv's memory_received"
                assert_eq absent "$(sd_get /c2 sessions.memory_donated || echo absent)" "/c2's memory_donated"
        fi
fi
sd_stop
assert_eq 0 "$RC" "sliced's exit status"

t_done
