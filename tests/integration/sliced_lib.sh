# shellcheck shell=bash
# tests/integration/sliced_lib.sh: helpers for the sliced daemon tests
# (test_sliced_*.sh). Source it after tests/lib.sh:
#
#   . "$(dirname "$0")/../lib.sh"
#   . "$(dirname "$0")/sliced_lib.sh"
#
#   sd_topology FILE <<'EOF' ... EOF   write a topology (heredoc on stdin)
#   sd_start TOPO [ENV-ARGS...]        start `sliced -t TOPO` in the background:
#                                      SD_PID, SD_LOG (its stderr), SD_STATE.
#                                      ENV-ARGS go to env(1) before sliced:
#                                      -u VAR, VAR=VALUE, even a wrapper
#                                      command that execs its arguments
#   sd_get PATH KEY                    a field of slice PATH in state.json
#                                      (KEY may be dotted: resources.pids;
#                                      strings raw, null as "null", else JSON)
#   sd_is PATH KEY VALUE               sd_get PATH KEY = VALUE
#   sd_wait SECS PATH KEY VALUE [WHAT] wait for it, or fail the check with the
#                                      state report and the log
#   sd_stop [SECS]                     SIGTERM sliced, wait; RC its status
#   sd_log_has TEXT                    sliced's stderr contains TEXT
#   sd_desc PID...                     PID and every descendant (via /proc)
#
# Each sliced runs with its own runtime/state dirs under T_TMP, its own
# cgroup base (sliced-test-SCRIPT-PID) and --log-target stderr. At exit every
# sliced still running gets SIGTERM (then SIGKILL), and as root the cgroups a
# killed sliced left behind are removed.

SLICED=${SLICED:-${SLICED_BUILD_DIR:+$SLICED_BUILD_DIR/src/supervisor/sliced}}
PY=/usr/bin/python3
SD_CGBASE="sliced-test-$(basename "$0" .sh)-$$"
SD_PIDS=()
SD_N=0

# unprivileged: SLICED_TEST_UNPRIV=1 or simply not root
sd_unpriv() { [ -n "${SLICED_TEST_UNPRIV:-}" ] || ! is_root; }

# A port of this script's own, in 20000-59999, distinct for root and
# unprivileged runs (they are different processes): base + OFFSET.
sd_port() { echo $((20000 + ($$ * 7 + ${1:-0}) % 40000)); }

if [ -z "$SLICED" ] || ! [ -x "$SLICED" ]; then
        t_fail "sliced ($SLICED) is not an executable (set SLICED_BUILD_DIR)" "sliced is available"
        t_done
fi
if ! [ -x "$PY" ]; then
        t_fail "$PY is missing" "python3 is available"
        t_done
fi

printf 'cgroup_base: %s\n' "$SD_CGBASE" >"$T_TMP/sliced.conf"

sd_topology() { cat >"$1"; }

# sd_start TOPO [ENV-ARGS...]
sd_start() {
        local topo=$1
        shift
        SD_N=$((SD_N + 1))
        SD_RUN=$T_TMP/run.$SD_N
        SD_STATE=$SD_RUN/state.json
        t_bg env "$@" "$SLICED" -c "$T_TMP/sliced.conf" -t "$topo" \
                --state-dir "$T_TMP/state.$SD_N" --runtime-dir "$SD_RUN" --log-target stderr
        SD_PID=$T_BG_PID
        SD_LOG=$T_BG_ERR
        SD_PIDS+=("$SD_PID")
}

_sd_py_get='
import json, sys
state, path, key = sys.argv[1:4]
try:
    with open(state) as f:
        doc = json.load(f)
except (OSError, ValueError):
    sys.exit(2)
if path == "":
    v = doc
else:
    for s in doc.get("slices", []):
        if s.get("path") == path:
            v = s
            break
    else:
        sys.exit(1)
for k in key.split(".") if key else []:
    if not isinstance(v, dict) or k not in v:
        sys.exit(1)
    v = v[k]
print(v if isinstance(v, str) else json.dumps(v, sort_keys=True))
'

# sd_get PATH KEY (PATH "" is the document itself)
sd_get() { "$PY" -c "$_sd_py_get" "$SD_STATE" "$1" "$2" 2>/dev/null; }

sd_is() {
        local v
        v=$(sd_get "$1" "$2") || return 1
        [ "$v" = "$3" ]
}

# Every slice path in state.json, one a line.
sd_paths() {
        "$PY" -c 'import json,sys; [print(s["path"]) for s in json.load(open(sys.argv[1]))["slices"]]' \
                "$SD_STATE" 2>/dev/null
}

_sd_diag() {
        local log
        log=$(tail -n 40 "$SD_LOG" 2>/dev/null)
        t_fail "$1
--- state.json ---
$(cat "$SD_STATE" 2>/dev/null || echo '(none)')
--- sliced stderr (last 40 lines) ---
$log"
}

# sd_wait SECS PATH KEY VALUE [WHAT]
sd_wait() {
        if ! t_wait_for "$1" sd_is "$2" "$3" "$4"; then
                _sd_diag "${5:-$2 $3 = $4}: not reached within $1 s (got [$(sd_get "$2" "$3")])"
                return 1
        fi
}

# sd_wait_cmd SECS WHAT CMD...: t_wait_for with the diagnostics
sd_wait_cmd() {
        local secs=$1 what=$2
        shift 2
        if ! t_wait_for "$secs" "$@"; then
                _sd_diag "$what: not reached within $secs s"
                return 1
        fi
}

sd_log_has() { grep -qF -- "$1" "$SD_LOG" 2>/dev/null; }

# sd_stop [SECS]: SIGTERM to sliced; RC = its exit status (124: still running)
sd_stop() {
        kill -TERM "$SD_PID" 2>/dev/null
        t_wait_pid "$SD_PID" "${1:-20}"
}

sd_alive() { ! _t_exited "$1"; }

# sd_desc PID...: the pids and all their descendants, one a line
sd_desc() {
        "$PY" - "$@" <<'EOF'
import os, sys
want = set(int(p) for p in sys.argv[1:])
parent = {}
for d in os.listdir("/proc"):
    if not d.isdigit():
        continue
    try:
        with open("/proc/%s/stat" % d) as f:
            st = f.read()
    except OSError:
        continue
    parent[int(d)] = int(st[st.rindex(")") + 2:].split()[1])
found = set(p for p in want if p in parent)
grew = True
while grew:
    grew = False
    for p, pp in parent.items():
        if pp in found and p not in found:
            found.add(p)
            grew = True
for p in sorted(found):
    print(p)
EOF
}

# sd_none_alive PID...: none of the pids exists (zombies count as gone)
sd_none_alive() {
        local p
        for p in "$@"; do
                sd_alive "$p" && return 1
        done
        return 0
}

# cmdlines of the pids still alive, for messages
sd_describe_pids() {
        local p
        for p in "$@"; do
                sd_alive "$p" && echo "pid $p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
        done
}

# ---- cleanup -------------------------------------------------------------------

_sd_rm_cgroups() {
        is_root || return 0
        local d
        for d in /sys/fs/cgroup/*/"$SD_CGBASE" /sys/fs/cgroup/"$SD_CGBASE"; do
                [ -d "$d" ] || continue
                # anything left in them was started by this script's sliced
                local pid
                find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null |
                        while read -r pid; do kill -KILL "$pid" 2>/dev/null; done
                for _ in 1 2 3 4 5 6 7 8 9 10; do # dying processes hold them a moment
                        find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
                        [ -d "$d" ] || break
                        sleep 0.1
                done
        done
}

_sd_cleanup() {
        local rc=$? pid
        for pid in "${SD_PIDS[@]}"; do
                sd_alive "$pid" || continue
                kill -TERM "$pid" 2>/dev/null
                t_wait_for 10 _t_exited "$pid" || kill -KILL "$pid" 2>/dev/null
        done
        _sd_rm_cgroups
        (exit "$rc")
        _t_cleanup
}
trap _sd_cleanup EXIT
