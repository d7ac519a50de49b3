#!/usr/bin/env bash
# slicectl's API commands against a fake sliced (fake_api.py: canned answers
# over a unix socket, every request logged): tables for people, --json for
# scripts, sliced's error sentences passed on, the exit codes (1 sliced said
# no, 2 usage, 3 unreachable), the topology plan, and NDJSON streams printed
# line by line and ended cleanly by Ctrl-C.
. "$(dirname "$0")/../lib.sh"

PY=/usr/bin/python3 # Debian's, not whatever python3 is first on PATH
if ! [ -x "$PY" ]; then
        t_skip "needs $PY for the fake sliced"
        t_done
fi

SOCK=$T_TMP/api.sock
t_bg "$PY" "$SLICED_SOURCE_DIR/tests/integration/fake_api.py" "$SOCK" "$T_TMP"
FAKE_PID=$T_BG_PID
FAKE_ERR=$T_BG_ERR
if ! t_wait_for 20 test -e "$T_TMP/ready"; then
        t_fail "fake_api.py did not start: $(cat "$FAKE_ERR")" "the fake sliced starts"
        t_done
fi
export SLICED_SOCKET=$SOCK TZ=UTC
unset NO_COLOR

ctl() { capture "$SLICECTL" "$@"; }
# The last request the fake received, one field of it.
last_request() {
        "$PY" -c 'import json,sys; print(json.loads(open(sys.argv[1]).readlines()[-1])[sys.argv[2]])' \
                "$T_TMP/requests" "$1"
}
is_json() { printf '%s' "$1" | "$PY" -c 'import json,sys; json.load(sys.stdin)' 2>/dev/null; }
ESC=$'\033'

# ---- status and get -----------------------------------------------------------
t_begin "status prints a table of every slice with human sizes"
assert_exit 0 "$SLICECTL" status
assert_eq "PATH      STATE     REASON           RESTARTS  PID   MEMORY
/app      ready     -                0         -     -
/app/web  ready     -                0         4242  12M
/app/db   back-off  exited (code 1)  3         -     -
/batch    failed    oom-killed       5         -     0B
/locked   stopped   -                0         -     -" "$OUT" "the table"
assert_eq "" "$ERR" "stderr"
assert_eq "/v1/slices" "$(last_request target)" "the request"

t_begin "status into a pipe has no colour"
ctl status
assert_not_contains "$OUT" "$ESC" "no escape sequences"

t_begin "status on a terminal colours states: green ready, yellow back-off, red failed"
if command -v script >/dev/null; then
        capture script -qec "$SLICECTL status" /dev/null
        assert_eq 0 "$RC" "exit status"
        assert_contains "$OUT" "${ESC}[32mready${ESC}[0m" "ready is green"
        assert_contains "$OUT" "${ESC}[33mback-off${ESC}[0m" "back-off is yellow"
        assert_contains "$OUT" "${ESC}[31mfailed${ESC}[0m" "failed is red"
        assert_contains "$OUT" "stopped" "stopped is there"
        assert_not_contains "$OUT" "m/app" "paths are not coloured"
else
        t_skip "needs script(1) for a terminal"
fi

t_begin "NO_COLOR turns colour off on a terminal"
if command -v script >/dev/null; then
        capture env NO_COLOR=1 script -qec "$SLICECTL status" /dev/null
        assert_contains "$OUT" "ready" "the table is there"
        assert_not_contains "$OUT" "$ESC" "no escape sequences"
else
        t_skip "needs script(1) for a terminal"
fi

t_begin "status --json prints sliced's answer as it is"
assert_exit 0 "$SLICECTL" status --json
assert_true "the output is JSON" is_json "$OUT"
assert_contains "$OUT" '"path": "/app/web"' "sliced's own formatting"
ctl --json status
assert_contains "$OUT" '"slices": [' "--json before the command works too"

t_begin "get shows one slice's fields for people"
assert_exit 0 "$SLICECTL" get app/web
assert_contains "$OUT" "state:     ready" "state"
assert_contains "$OUT" "pid:       4242" "pid"
assert_contains "$OUT" "memory:    12M (peak 20M), limit 64M" "memory with peak and limit"
assert_contains "$OUT" "cpu:       1.234s" "cpu time"
assert_contains "$OUT" "pids:      3, limit 32" "pids and limit"
assert_contains "$OUT" "limits:    cores 0-1" "other limits"
assert_contains "$OUT" "sessions:  used 1, served 2; provides http" "sessions"
assert_contains "$OUT" 'report:    {"requests":17}' "the slice's report"
assert_eq "/v1/slices/app/web" "$(last_request target)" "the request"

t_begin "get takes the path with or without its leading slash"
ctl get app/web
without=$OUT
ctl get /app/web
assert_eq "$without" "$OUT" "same output"
assert_eq "/v1/slices/app/web" "$(last_request target)" "same request"

t_begin "get shows how a slice ended and when it is retried"
ctl get /batch
assert_contains "$OUT" "exit:      signal 9 (SIGKILL), killed by the OOM killer" "OOM kill"
ctl get app/db
assert_contains "$OUT" "exit:      code 1" "exit code"
assert_contains "$OUT" "next try:  in 1.500s" "back-off delay"

t_begin "get --json prints the slice object as it is"
assert_exit 0 "$SLICECTL" get --json app/db
assert_true "the output is JSON" is_json "$OUT"
assert_contains "$OUT" '"next_try_ms": 1500' "every field"

# ---- sliced's errors: exit 1 and its sentence ----------------------------------
t_begin "an unknown slice exits 1 with sliced's message"
assert_exit 1 "$SLICECTL" get nope
assert_eq "slicectl: get: no slice /nope in the topology" "$ERR" "sliced's sentence"
assert_eq "" "$OUT" "nothing on stdout"

t_begin "with --json an error answer is also printed as it is, on stdout"
assert_exit 1 "$SLICECTL" --json get nope
assert_eq '{"error": "no slice /nope in the topology"}' "$OUT" "the error object"
assert_contains "$ERR" "no slice /nope" "and said on stderr"

t_begin "an error answer that is not JSON is quoted with its status"
assert_exit 1 "$SLICECTL" get teapot
assert_eq "slicectl: get: sliced answered HTTP 502: Bad gateway" "$ERR" "status and first line"

t_begin "a success answer that is not JSON exits 1"
assert_exit 1 "$SLICECTL" get notjson
assert_contains "$ERR" "sliced sent an answer that is not JSON" "says so"

t_begin "a connection that breaks mid-answer exits 3"
assert_exit 3 "$SLICECTL" get crash
assert_contains "$ERR" "slicectl: get: lost the connection to sliced at $SOCK" "says so"

# ---- restart, stop, start ----------------------------------------------------
t_begin "restart posts the action and reports it accepted"
assert_exit 0 "$SLICECTL" restart app/web
assert_eq "/app/web: restart accepted (now stopping)" "$OUT" "the answer"
assert_eq "POST /v1/slices/app/web/restart" "$(last_request method) $(last_request target)" \
        "the request"

t_begin "stop and start post their actions"
assert_exit 0 "$SLICECTL" stop /app/db
assert_eq "/v1/slices/app/db/stop" "$(last_request target)" "stop"
assert_exit 0 "$SLICECTL" start app/db
assert_eq "/app/db: start accepted (now starting)" "$OUT" "start"

t_begin "restart --json prints the answer as it is"
assert_exit 0 "$SLICECTL" restart --json app/web
assert_eq '{"path": "/app/web", "action": "restart", "state": "stopping"}' "$OUT" "the answer"

t_begin "an action that makes no sense (409) exits 1 with sliced's reason"
assert_exit 1 "$SLICECTL" start app
assert_eq "slicectl: start: /app is a group: nothing runs in it to start; start its slices" \
        "$ERR" "sliced's sentence"

t_begin "a refused change (403) exits 1 with sliced's reason"
assert_exit 1 "$SLICECTL" stop locked
assert_eq "slicectl: stop: changing slices needs root or group sliced" "$ERR" "sliced's sentence"

t_begin "an action on an unknown slice exits 1"
assert_exit 1 "$SLICECTL" restart nope/x
assert_contains "$ERR" "no slice /nope/x" "names it"

# ---- apply and diff ------------------------------------------------------------
printf 'slices:\n  - name: new\n    exec: [/bin/true]\n' >"$T_TMP/top.yaml"
printf '{"slices": [{"name": "new", "exec": ["/bin/true"]}]}\n' >"$T_TMP/top.json"
printf 'slices:\n  - name: web\n    invalid: x\n' >"$T_TMP/bad.yaml"
printf '# directory-source\nslices: []\n' >"$T_TMP/dirsrc.yaml"
PLAN="+ /new (start)
- /old (stop)
~ /app/web (restart)
~ /app/db (restart)
= 3 unchanged"

t_begin "diff is a dry run and prints the plan"
assert_exit 0 "$SLICECTL" diff -f "$T_TMP/top.yaml"
assert_eq "$PLAN" "$OUT" "the plan"
assert_eq "PUT /v1/topology?dry_run=1" "$(last_request method) $(last_request target)" \
        "the request"
assert_eq "application/yaml" "$(last_request content_type)" "YAML content type"
assert_eq "$(cat "$T_TMP/top.yaml")" "$(last_request body)" "the file as the body"

t_begin "apply sends the file and prints the plan"
assert_exit 0 "$SLICECTL" apply -f "$T_TMP/top.yaml"
assert_eq "$PLAN" "$OUT" "the plan"
assert_eq "PUT /v1/topology" "$(last_request method) $(last_request target)" "no dry run"

t_begin "a .json file goes as application/json"
assert_exit 0 "$SLICECTL" apply --file "$T_TMP/top.json"
assert_eq "application/json" "$(last_request content_type)" "JSON content type"

t_begin "apply -f - reads standard input"
capture bash -c '"$0" diff -f - <"$1"' "$SLICECTL" "$T_TMP/top.json"
assert_eq 0 "$RC" "exit status"
assert_eq "application/json" "$(last_request content_type)" "JSON recognised by its '{'"

t_begin "apply --json prints the answer as it is"
assert_exit 0 "$SLICECTL" diff --json -f "$T_TMP/top.yaml"
assert_true "the output is JSON" is_json "$OUT"
assert_contains "$OUT" '"dry_run": true' "dry_run"

t_begin "an invalid topology exits 1 listing every error"
assert_exit 1 "$SLICECTL" apply -f "$T_TMP/bad.yaml"
assert_eq "slicectl: apply: invalid topology
  api.yaml:3:7: /web: unknown key 'memroy' (did you mean 'memory'?)
  api.yaml:5:5: /db: exec: expected a list of strings" "$ERR" "message and errors"
assert_exit 1 "$SLICECTL" --json diff -f "$T_TMP/bad.yaml"
assert_contains "$OUT" '"errors": [' "--json: the errors on stdout"

t_begin "a daemon that reads a directory refuses apply (409): exit 1"
assert_exit 1 "$SLICECTL" apply -f "$T_TMP/dirsrc.yaml"
assert_contains "$ERR" "apply needs a single file" "sliced's sentence"

t_begin "apply of a missing file exits 1 naming it, without a request"
lines_before=$(wc -l <"$T_TMP/requests")
assert_exit 1 "$SLICECTL" apply -f "$T_TMP/missing.yaml"
assert_contains "$ERR" "cannot open \`$T_TMP/missing.yaml\`: No such file or directory" "names it"
assert_eq "$lines_before" "$(wc -l <"$T_TMP/requests")" "nothing sent"

# ---- logs ----------------------------------------------------------------------
t_begin "logs prints sliced's default tail, the text of each line"
assert_exit 0 "$SLICECTL" logs app/web
assert_eq 100 "$(printf '%s\n' "$OUT" | wc -l)" "100 lines"
assert_eq "line 51" "$(printf '%s\n' "$OUT" | head -n1)" "the first"
assert_eq "line 150" "$(printf '%s\n' "$OUT" | tail -n1)" "the last"
assert_eq "/v1/slices/app/web/logs" "$(last_request target)" "no query"

t_begin "logs --tail N asks for N lines"
assert_exit 0 "$SLICECTL" logs --tail 3 /app/web
assert_eq "line 148
line 149
line 150" "$OUT" "three lines"
assert_eq "/v1/slices/app/web/logs?tail=3" "$(last_request target)" "the query"

t_begin "logs -t prefixes the time of each line"
assert_exit 0 "$SLICECTL" logs -t -n 1 app/web
assert_eq "2023-11-14 22:13:20.150 line 150" "$OUT" "local time (TZ=UTC), milliseconds"

t_begin "logs shows control characters escaped, --json as sent"
assert_exit 0 "$SLICECTL" logs escape
assert_eq 'red \x1b[31mtext\x1b[0m	tab' "$OUT" "escaped, tab kept"
assert_exit 0 "$SLICECTL" logs --json escape
assert_contains "$OUT" '"text": "red \u001b[31m' "the NDJSON line as it is"

t_begin "logs of an unknown slice exits 1"
assert_exit 1 "$SLICECTL" logs nope
assert_contains "$ERR" "no slice /nope" "sliced's sentence"

t_begin "logs -f prints each line as it comes and ends with Ctrl-C, status 0"
rm -f "$T_TMP/more" "$T_TMP/events"
t_bg env --default-signal=INT "$SLICECTL" logs -f --tail 2 app/web
LOGS_PID=$T_BG_PID
LOGS_OUT=$T_BG_OUT
if t_wait_for 20 grep -qsx "line 150" "$LOGS_OUT"; then
        assert_eq "line 149
line 150" "$(cat "$LOGS_OUT")" "the tail, while the stream is open"
        assert_eq "/v1/slices/app/web/logs?tail=2&follow=1" "$(last_request target)" "the query"
        touch "$T_TMP/more"
        t_wait_for 20 grep -qsx "a new line" "$LOGS_OUT" || t_fail "the new line never came"
        kill -INT "$LOGS_PID"
        t_wait_pid "$LOGS_PID" 20
        assert_eq 0 "$RC" "exit status after SIGINT"
        assert_true "the server saw the client go" t_wait_for 10 grep -qs disconnected \
                "$T_TMP/events"
else
        t_fail "the first lines never came: $(cat "$LOGS_OUT" "$T_BG_ERR")"
fi

t_begin "a followed log stream that sliced ends (the slice left the topology) exits 1"
assert_exit 1 "$SLICECTL" logs -f ends
assert_eq "slicectl: logs: sliced ended the log stream: /ends left the topology" "$ERR" "says so"

# ---- events --------------------------------------------------------------------
t_begin "events prints each state change as it comes and ends with SIGTERM, status 0"
rm -f "$T_TMP/more" "$T_TMP/events"
t_bg "$SLICECTL" events
EV_PID=$T_BG_PID
EV_OUT=$T_BG_OUT
if t_wait_for 20 grep -qs starting "$EV_OUT"; then
        assert_eq "2023-11-14 22:13:20.000  /app/db  back-off (exited (code 1))
2023-11-14 22:13:20.250  /app/db  starting" "$(cat "$EV_OUT")" "time, path, state (reason)"
        touch "$T_TMP/more"
        t_wait_for 20 grep -qs ready "$EV_OUT" || t_fail "the third event never came"
        kill -TERM "$EV_PID"
        t_wait_pid "$EV_PID" 20
        assert_eq 0 "$RC" "exit status after SIGTERM"
else
        t_fail "the first events never came: $(cat "$EV_OUT" "$T_BG_ERR")"
fi

t_begin "events --json ends quietly when its reader leaves, even while no event comes"
rm -f "$T_TMP/more" # the fake sends two events, then nothing
capture bash -c '"$0" --json events | head -n1; echo "rc=${PIPESTATUS[0]}"' "$SLICECTL"
assert_contains "$OUT" '{"ts": 1700000000000000, "path": "/app/db"' "the first NDJSON line"
assert_contains "$OUT" "rc=0" "slicectl exits 0"
assert_eq "" "$ERR" "no complaint"

# ---- cannot reach sliced: exit 3 ---------------------------------------------
t_begin "no daemon at the socket exits 3 with a hint"
assert_exit 3 "$SLICECTL" --socket "$T_TMP/none.sock" status
assert_eq "slicectl: status: cannot connect to sliced at $T_TMP/none.sock: No such file or directory — is sliced running? (--socket to use another)" \
        "$ERR" "the message"

t_begin "--socket after the command and \$SLICED_SOCKET are honoured"
assert_exit 3 "$SLICECTL" get --socket "$T_TMP/other.sock" app/web
assert_contains "$ERR" "at $T_TMP/other.sock:" "--socket after the command"
capture env SLICED_SOCKET="$T_TMP/env.sock" "$SLICECTL" events
assert_eq 3 "$RC" "exit status"
assert_contains "$ERR" "at $T_TMP/env.sock:" "\$SLICED_SOCKET"
capture env SLICED_SOCKET="$T_TMP/env.sock" "$SLICECTL" --socket="$SOCK" status
assert_eq 0 "$RC" "--socket=PATH wins over \$SLICED_SOCKET"

t_begin "without either, the socket is /run/sliced/api.sock"
if [ -e /run/sliced/api.sock ]; then
        t_skip "a sliced is running here"
else
        capture env -u SLICED_SOCKET "$SLICECTL" status
        assert_eq 3 "$RC" "exit status"
        assert_eq "slicectl: status: cannot connect to sliced at /run/sliced/api.sock: No such file or directory — is sliced running? (--socket to use another)" \
                "$ERR" "the message of the contract"
fi

t_begin "a socket that is not a socket exits 3"
: >"$T_TMP/plain-file"
assert_exit 3 "$SLICECTL" --socket "$T_TMP/plain-file" status
assert_contains "$ERR" "Connection refused — is sliced running?" "connect's reason"

t_begin "a socket this user may not open exits 3 and says so"
if is_root; then
        t_skip "root may open any socket"
else
        # connect(2) needs write permission on the socket file
        : >"$T_TMP/ro-file"
        chmod 0444 "$T_TMP/ro-file"
        assert_exit 3 "$SLICECTL" --socket "$T_TMP/ro-file" status
        assert_contains "$ERR" "Permission denied — this user may not open it" "the reason"
fi

# ---- usage: exit 2 -----------------------------------------------------------
usage() {
        local name=$1 needle=$2
        shift 2
        t_begin "$name"
        assert_exit 2 "$SLICECTL" "$@"
        assert_contains "$ERR" "$needle" "stderr names it"
}
usage "get without a slice exits 2" "no slice given" get
usage "get with two slices exits 2" "unexpected argument 'b'" get a b
usage "an unknown option exits 2" "option '--bogus' is unknown" status --bogus
usage "--socket without a value exits 2" "needs a value" status --socket
usage "an empty path component exits 2" "'app//web' is not a slice path" get app//web
usage "a .. component exits 2" "'..' is not a name" logs app/../x
usage "the root alone is no slice: exit 2" "'/' names no slice" restart /
usage "--tail that is not a number exits 2" "--tail" logs --tail ten app/web
usage "apply without -f exits 2" "no topology given" apply
usage "apply of a directory exits 2 and says why" "is a directory: give one topology file" \
        apply -f "$T_TMP"
usage "an unknown command exits 2" "unknown command 'frobnicate'" frobnicate
usage "no command at all exits 2" "Usage: slicectl"

# ---- help --------------------------------------------------------------------
t_begin "slicectl --help lists every command"
assert_exit 0 "$SLICECTL" --help
for c in run status get logs events restart stop start diff apply; do
        assert_match "$OUT" $'\n'"  $c( |\$)" "lists $c"
done

t_begin "every command has --help, exit 0"
for c in run status get logs events restart stop start diff apply; do
        assert_exit 0 "$SLICECTL" "$c" --help
        assert_contains "$OUT" "Usage: slicectl $c" "$c --help"
done

kill "$FAKE_PID" 2>/dev/null
t_done
