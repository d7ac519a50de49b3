# shellcheck shell=bash
# tests/integration/sessions_lib.sh: helpers for the capability-session tests
# (test_sessions_*.sh), on top of tests/lib.sh and sliced_lib.sh:
#
#   ss_topology FILE <<'EOF' ... EOF  write a topology; "@T@" becomes the
#                                     mount of session-tool's directory at
#                                     /t ({src: DIR, dest: /t}), "@TMP@" T_TMP
#   ss_lines PATH                     what slice PATH printed (its stdout
#                                     lines in sliced's log, prefix removed)
#   ss_has PATH LINE                  PATH printed exactly LINE
#   ss_wait SECS PATH LINE            wait for it, or fail with diagnostics
#   ss_tool_pid PATH                  pid of the session-tool process of PATH
#                                     (a child of the slice's reaper)
#   ss_conf KEY: VALUE ...            rewrite sliced.conf (cgroup_base kept)
#
# Slices run /t/session-tool (tests/integration/session_tool.c, SESSION_TOOL).

SESSION_TOOL=${SESSION_TOOL:-${SLICED_BUILD_DIR:+$SLICED_BUILD_DIR/tests/integration/session-tool}}
if [ -z "$SESSION_TOOL" ] || ! [ -x "$SESSION_TOOL" ]; then
        t_fail "session-tool ($SESSION_TOOL) is not an executable (set SESSION_TOOL)" "session-tool is available"
        t_done
fi
SS_TOOLDIR=$(dirname "$SESSION_TOOL")

ss_topology() {
        sed -e "s|@T@|{src: $SS_TOOLDIR, dest: /t}|g" -e "s|@TMP@|$T_TMP|g" >"$1"
}

ss_lines() { sed -n "s|^$1: ||p" "$SD_LOG" 2>/dev/null; }

ss_has() { ss_lines "$1" | grep -qxF -- "$2"; }

ss_wait() {
        sd_wait_cmd "$1" "$2 printed [$3]" ss_has "$2" "$3"
}

ss_tool_pid() {
        local p reaper
        reaper=$(sd_get "$1" pid) || return 1
        for p in $(sd_desc "$reaper"); do
                if [ "$(cat "/proc/$p/comm" 2>/dev/null)" = session-tool ]; then
                        echo "$p"
                        return 0
                fi
        done
        return 1
}

ss_conf() {
        {
                printf 'cgroup_base: %s\n' "$SD_CGBASE"
                printf '%s\n' "$@"
        } >"$T_TMP/sliced.conf"
}
