#!/usr/bin/env bash
# The REST API (docs/api.md) of a real sliced, driven with curl over its unix
# socket: health, slices, one slice, logs (tail and follow), events, restart,
# stop/start, topology dry-run and apply; bad input answered 4xx with a
# message and nothing changed; a uid outside root/group sliced gets 403.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/sliced_lib.sh"

CURL=$(command -v curl) || { t_fail "curl is missing" "curl is available"; t_done; }

sd_topology "$T_TMP/topo.yaml" <<'EOF2'
slices:
  - name: ticker
    exec: [/bin/sh, -c, 'i=0; while :; do i=$((i+1)); echo "tick $i"; sleep 0.2; done']
  - name: quiet
    exec: [/bin/sh, -c, 'echo "quiet up"; exec sleep 100000']
  - name: grp
    slices:
      - name: inner
        exec: [/bin/sleep, "100000"]
EOF2

sd_start "$T_TMP/topo.yaml"
SOCK=$SD_RUN/api.sock
api() { "$CURL" -sS --max-time 10 --unix-socket "$SOCK" -w '\n%{http_code}' "$@"; }
# body and status of one request: BODY, CODE
call() {
        local out
        out=$(api "$@")
        CODE=${out##*$'\n'}
        BODY=${out%$'\n'*}
}
jget() { "$PY" -c 'import json,sys; d=json.loads(sys.stdin.read()); [d := d[k] if not isinstance(d, list) else d[int(k)] for k in sys.argv[1].split(".") if k]; print(d if isinstance(d, str) else json.dumps(d, sort_keys=True))' "$1"; }

t_begin "GET /v1/health answers once the slices run"
if sd_wait 20 /ticker state ready && sd_wait 20 /grp/inner state ready &&
        t_wait_for 10 test -S "$SOCK"; then
        call http://sliced/v1/health
        assert_eq 200 "$CODE" "status"
        assert_eq ok "$(jget status <<<"$BODY")" "health"
        assert_eq 4 "$(jget slices <<<"$BODY")" "slice count"
fi
t_end

t_begin "GET /v1/slices lists every slice; GET /v1/slices/grp/inner shows one"
call http://sliced/v1/slices
assert_eq 200 "$CODE" "status"
assert_eq '["/ticker", "/quiet", "/grp", "/grp/inner"]' \
        "$("$PY" -c 'import json,sys; print(json.dumps([s["path"] for s in json.load(sys.stdin)["slices"]]))' <<<"$BODY")" "paths"
call http://sliced/v1/slices/grp/inner
assert_eq 200 "$CODE" "status"
assert_eq /grp/inner "$(jget path <<<"$BODY")" "path"
assert_eq "$(sd_get /grp/inner pid)" "$(jget pid <<<"$BODY")" "pid as in state.json"
t_end

t_begin "an unknown slice or endpoint is a 404 with a message"
call http://sliced/v1/slices/nope
assert_eq 404 "$CODE" "status"
assert_contains "$BODY" "no slice '/nope'" "message"
call http://sliced/v1/nothing
assert_eq 404 "$CODE" "status"
call -X DELETE http://sliced/v1/slices/quiet
assert_eq 405 "$CODE" "wrong method"
t_end

t_begin "logs: ?tail=N gives the last N lines as JSON lines"
call "http://sliced/v1/slices/quiet/logs?tail=5"
assert_eq 200 "$CODE" "status"
assert_eq "quiet up" "$(jget text <<<"$BODY")" "the one line"
assert_eq stdout "$(jget stream <<<"$BODY")" "stream"
call "http://sliced/v1/slices/quiet/logs?tail=x"
assert_eq 400 "$CODE" "bad tail"
t_end

t_begin "logs ?follow=1 streams new lines as they come"
out=$("$CURL" -sSN --max-time 1.5 --unix-socket "$SOCK" "http://sliced/v1/slices/ticker/logs?tail=1&follow=1" || true)
n=$(grep -c '"tick ' <<<"$out")
assert_true "at least 3 lines in 1.5 s from a slice printing every 0.2 s (got $n)" [ "$n" -ge 3 ]
first=$(head -1 <<<"$out" | jget seq)
last=$(tail -1 <<<"$out" | jget seq)
assert_eq $((last - first + 1)) "$n" "consecutive sequence numbers"
t_end

t_begin "restart gives a new pid; stop keeps it down; start brings it back; events stream it"
"$CURL" -sSN --max-time 6 --unix-socket "$SOCK" http://sliced/v1/events >"$T_TMP/events" 2>/dev/null &
ev=$!
sleep 0.3
old=$(sd_get /quiet pid)
call -X POST http://sliced/v1/slices/quiet/restart
assert_eq 202 "$CODE" "restart accepted"
pid_changed() { [ "$(sd_get /quiet pid)" != "$old" ] && sd_is /quiet state ready; }
t_wait_for 20 pid_changed || true
new=$(sd_get /quiet pid)
assert_ne "$old" "$new" "pid after restart"
call -X POST http://sliced/v1/slices/quiet/stop
assert_eq 202 "$CODE" "stop accepted"
sd_wait 20 /quiet state stopped
call -X POST http://sliced/v1/slices/quiet/start
assert_eq 202 "$CODE" "start accepted"
sd_wait 20 /quiet state ready
call -X POST http://sliced/v1/slices/grp/restart
assert_eq 409 "$CODE" "a group cannot be restarted"
assert_contains "$BODY" "is a group" "message"
wait "$ev" 2>/dev/null || true
events=$("$PY" -c 'import json,sys; [print(d["path"], d["state"]) for d in map(json.loads, filter(str.strip, sys.stdin))]' <"$T_TMP/events")
assert_contains "$events" "/quiet stopping" "events stream the stop"
assert_contains "$events" "/quiet stopped" "events stream the stopped state"
assert_contains "$events" "/quiet ready" "events stream the start"
t_end

t_begin "PUT /v1/topology?dry_run=1 returns the plan and changes nothing"
sed -e 's/quiet up/QUIET UP/' -e '/name: grp/,$d' "$T_TMP/topo.yaml" >"$T_TMP/new.yaml"
cat >>"$T_TMP/new.yaml" <<'EOF2'
  - name: fresh
    exec: [/bin/sleep, "100000"]
EOF2
before=$(sd_get /ticker pid)
call -X PUT -H 'Content-Type: application/yaml' --data-binary @"$T_TMP/new.yaml" \
        "http://sliced/v1/topology?dry_run=1"
assert_eq 200 "$CODE" "status"
assert_eq '{"restart": ["/quiet"], "start": ["/fresh"], "stop": ["/grp", "/grp/inner"], "unchanged": ["/ticker"]}' \
        "$(jget plan <<<"$BODY")" "plan"
assert_eq "$before" "$(sd_get /ticker pid)" "nothing restarted"
t_end

t_begin "invalid topologies and bad requests are 4xx with the errors, and nothing changes"
printf 'slices:\n  - name: x\n    exce: [/bin/true]\n' >"$T_TMP/bad.yaml"
call -X PUT -H 'Content-Type: application/yaml' --data-binary @"$T_TMP/bad.yaml" http://sliced/v1/topology
assert_eq 400 "$CODE" "invalid topology"
assert_contains "$BODY" "unknown key 'exce' (did you mean 'exec'?)" "errors with positions"
assert_contains "$BODY" "topo.yaml:3:5" "file:line:column"
call -X PUT -H 'Content-Type: application/json' --data-binary '{"slices": [' http://sliced/v1/topology
assert_eq 400 "$CODE" "a malformed JSON body"
call -X PUT -H 'Content-Type: application/yaml' http://sliced/v1/topology
assert_eq 400 "$CODE" "empty body"
assert_eq "$before" "$(sd_get /ticker pid)" "/ticker untouched"
assert_eq ready "$(sd_get /grp/inner state)" "/grp/inner untouched"
t_end

t_begin "PUT /v1/topology applies: the file is replaced, changed slices restart, others keep their pid"
call -X PUT -H 'Content-Type: application/yaml' --data-binary @"$T_TMP/new.yaml" http://sliced/v1/topology
assert_eq 200 "$CODE" "status"
assert_eq false "$(jget dry_run <<<"$BODY")" "applied"
sd_wait 20 /fresh state ready
sd_wait 20 /quiet state ready
assert_eq "$before" "$(sd_get /ticker pid)" "/ticker kept its pid"
assert_true "/grp/inner is gone" eval '! sd_get /grp/inner state >/dev/null' 
assert_eq "$(cat "$T_TMP/new.yaml")" "$(cat "$T_TMP/topo.yaml")" "the topology file now holds what was applied"
t_end

t_begin "a uid outside root and group sliced may read but not change (403)"
if is_root && ! sd_unpriv; then
        # let nobody reach the socket; the peer check still applies
        chmod 0711 "$T_TMP" "$SD_RUN"
        chmod 0666 "$SOCK"
        nob() { setpriv --reuid=65534 --regid=65534 --clear-groups "$CURL" -sS --max-time 10 \
                --unix-socket "$SOCK" -w '\n%{http_code}' "$@"; }
        out=$(nob -X POST http://sliced/v1/slices/ticker/restart)
        assert_eq 403 "${out##*$'\n'}" "status"
        assert_contains "$out" "uid 65534 may not change sliced" "message"
        out=$(nob http://sliced/v1/health)
        assert_eq 200 "${out##*$'\n'}" "reads are allowed"
        out=$(nob -X PUT -H 'Content-Type: application/yaml' --data-binary @"$T_TMP/new.yaml" http://sliced/v1/topology)
        assert_eq 403 "${out##*$'\n'}" "apply refused"
        assert_eq "$before" "$(sd_get /ticker pid)" "nothing changed"
else
        t_skip "needs root to act as another uid"
fi
t_end

t_begin "the socket is not reachable by others: mode 0660"
if is_root && ! sd_unpriv; then
        chmod 0660 "$SOCK"
fi
sd_stop
assert_true "sliced removes its socket on exit" test ! -e "$SOCK"
t_end

t_done
