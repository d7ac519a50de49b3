#!/usr/bin/env bash
# sliced: SIGHUP applies the difference (unchanged slices keep running
# untouched; changed ones restart; removed ones stop and go; new ones
# start), and an invalid topology - over-committed, malformed YAML, unknown
# key - is rejected with FILE:LINE:COLUMN, by --check and on SIGHUP, without
# changing anything.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/sliced_lib.sh"

# topo FILE B_GREETING [with d] [with e]: slices a, b, c (+ d, e)
topo() {
        local f=$1 greet=$2
        shift 2
        {
                echo "slices:"
                for n in a b c "$@"; do
                        if [ "$n" = b ]; then
                                cat <<EOF
  - name: b
    exec: [/bin/sh, -c, 'echo "b says \$GREETING"; exec sleep 1000']
    env: {GREETING: $greet}
EOF
                        else
                                cat <<EOF
  - name: $n
    exec: [/bin/sh, -c, "echo $n-up; exec sleep 1000"]
EOF
                        fi
                done
        } >"$f"
}

pids_of() {
        local p
        for p in "$@"; do printf '%s=%s ' "$p" "$(sd_get "$p" pid)"; done
}

# ---- reload keeps unchanged slices ---------------------------------------------
t_begin "SIGHUP: a and c keep their pids, changed b restarts, removed d goes, new e starts"
topo "$T_TMP/topo.yaml" hello d
sd_start "$T_TMP/topo.yaml"
ok=1
for p in /a /b /c /d; do sd_wait 20 "$p" state ready || ok=0; done
if [ $ok = 1 ]; then
        a=$(sd_get /a pid) b=$(sd_get /b pid) c=$(sd_get /c pid) d=$(sd_get /d pid)
        d_procs=$(sd_desc "$d")
        assert_true "/b ran with the first env" sd_log_has "/b: b says hello"
        topo "$T_TMP/topo.yaml" goodbye e
        kill -HUP "$SD_PID"
        if sd_wait 20 /e state ready && sd_wait 20 "" generation 2 &&
                sd_wait_cmd 20 "/d is gone from state.json" eval '! sd_paths | grep -qx /d' &&
                sd_wait_cmd 20 "/b restarted" eval '[ "$(sd_get /b pid)" != "$b" ] && sd_is /b state ready'; then
                assert_eq "$a" "$(sd_get /a pid)" "/a's pid"
                assert_eq "$c" "$(sd_get /c pid)" "/c's pid"
                assert_ne "$b" "$(sd_get /b pid)" "/b's pid"
                assert_ne null "$(sd_get /b pid)" "/b's pid"
                assert_true "/b runs with the new env" sd_log_has "/b: b says goodbye"
                assert_eq "/a /b /c /e " "$(sd_paths | sort | tr '\n' ' ')" "the slices in state.json"
                assert_eq 1 "$(grep -c '^/a: a-up$' "$SD_LOG")" "/a ran once"
                assert_eq 1 "$(grep -c '^/c: c-up$' "$SD_LOG")" "/c ran once"
                assert_eq ready "$(sd_get /a state)" "/a's state"
                assert_eq ready "$(sd_get /c state)" "/c's state"
                assert_eq 0 "$(sd_get /a restarts)" "/a's restarts"
                assert_eq 0 "$(sd_get /c restarts)" "/c's restarts"
                # shellcheck disable=SC2086
                if ! t_wait_for 10 sd_none_alive $d_procs; then
                        # shellcheck disable=SC2086
                        t_fail "the removed slice's processes still run: $(sd_describe_pids $d_procs)"
                fi
                assert_true "the log says d was removed" sd_log_has "/d: removed"
                assert_true "the log says b changed" sd_log_has "/b: changed, restarting"
        fi
fi
sd_stop
assert_eq 0 "$RC" "sliced's exit status"

# ---- invalid topologies --------------------------------------------------------------
# A parent whose children's memory exceeds its own: reported at the parent's
# memory value (3:25).
cat >"$T_TMP/overcommit.yaml" <<'EOF'
slices:
  - name: grp
    resources: {memory: 64M}
    slices:
      - name: one
        exec: [/bin/sleep, "1000"]
        resources: {memory: 48M}
      - name: two
        exec: [/bin/sleep, "1000"]
        resources: {memory: 32M}
EOF
# An unclosed flow sequence: libyaml notices it at the next line.
cat >"$T_TMP/syntax.yaml" <<'EOF'
slices:
  - name: a
    exec: [/bin/sleep, "1000"
  - name: b
    exec: [/bin/sleep, "1000"]
EOF
# An unknown key, at its own position (4:5).
cat >"$T_TMP/unknown.yaml" <<'EOF'
slices:
  - name: a
    exec: [/bin/sleep, "1000"]
    restrat: {policy: always}
EOF
declare -A where=(
        [overcommit]="3:25: /grp: children need 80M of memory, the slice has 64M"
        [syntax]="4:3: YAML syntax error"
        [unknown]="4:5: /a: unknown key 'restrat'"
)

t_begin "sliced --check accepts a valid topology (exit 0)"
topo "$T_TMP/good.yaml" hello
assert_exit 0 "$SLICED" --check -t "$T_TMP/good.yaml"
assert_contains "$OUT" "is valid (3 slices)" "sliced --check's stdout"

for bad in overcommit syntax unknown; do
        t_begin "sliced --check rejects the $bad topology with FILE:LINE:COLUMN (exit 1)"
        assert_exit 1 "$SLICED" --check -t "$T_TMP/$bad.yaml"
        assert_contains "$ERR" "$T_TMP/$bad.yaml:${where[$bad]}" "sliced --check's stderr"
done

t_begin "SIGHUP with an invalid topology changes nothing and logs FILE:LINE:COLUMN"
topo "$T_TMP/live.yaml" hello
sd_start "$T_TMP/live.yaml"
ok=1
for p in /a /b /c; do sd_wait 20 "$p" state ready || ok=0; done
if [ $ok = 1 ]; then
        before=$(pids_of /a /b /c)
        n=0
        for bad in overcommit syntax unknown; do
                n=$((n + 1))
                cp "$T_TMP/$bad.yaml" "$T_TMP/live.yaml"
                kill -HUP "$SD_PID"
                if sd_wait_cmd 20 "reload $n refused" \
                        eval '[ "$(grep -c "reload refused: the running topology stays as it was" "$SD_LOG")" -ge $n ]'; then
                        assert_true "the log names $bad's error at FILE:LINE:COLUMN" \
                                grep -qF "sliced: error: $T_TMP/live.yaml:${where[$bad]}" "$SD_LOG"
                fi
        done
        assert_eq "$before" "$(pids_of /a /b /c)" "pids after three refused reloads"
        for p in /a /b /c; do
                assert_eq ready "$(sd_get "$p" state)" "$p's state"
                assert_eq 0 "$(sd_get "$p" restarts)" "$p's restarts"
        done
        assert_eq "/a /b /c " "$(sd_paths | tr '\n' ' ')" "the slices in state.json"
        assert_eq 1 "$(sd_get "" generation)" "generation (no topology applied)"
        for p in a b c; do
                pid=$(sd_get "/$p" pid)
                assert_true "/$p's process (pid $pid) still runs" sd_alive "$pid"
        done
        assert_eq 1 "$(grep -c '^/b: b says hello$' "$SD_LOG")" "/b ran once"
        # and a valid file is still taken afterwards
        topo "$T_TMP/live.yaml" hello e
        kill -HUP "$SD_PID"
        if sd_wait 20 /e state ready; then
                assert_eq "$before" "$(pids_of /a /b /c)" "pids after the valid reload adding /e"
        fi
fi
sd_stop
assert_eq 0 "$RC" "sliced's exit status"

t_begin "sliced refuses to start on an invalid topology (exit 1, FILE:LINE:COLUMN, no slice)"
sd_start "$T_TMP/overcommit.yaml"
t_wait_pid "$SD_PID" 20
assert_eq 1 "$RC" "sliced's exit status"
assert_true "the log names the error" grep -qF "$T_TMP/overcommit.yaml:${where[overcommit]}" "$SD_LOG"
assert_true "no state report" test ! -e "$SD_STATE"

t_done
