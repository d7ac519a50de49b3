#!/usr/bin/env bash
# PUT /v1/topology when sliced reads a directory (the packaged default,
# /etc/sliced/slices.d): the body becomes the file api-applied.yaml of that
# directory, checked together with the other files, which stay as they are.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/sliced_lib.sh"

CURL=$(command -v curl) || { t_fail "curl is missing" "curl is available"; t_done; }
mkdir -p "$T_TMP/d"
sd_topology "$T_TMP/d/10-base.yaml" <<'EOF2'
slices:
  - name: base
    exec: [/bin/sleep, "100000"]
EOF2
sd_start "$T_TMP/d"
SOCK=$SD_RUN/api.sock
put() {
        local out
        out=$("$CURL" -sS --max-time 10 --unix-socket "$SOCK" -w '\n%{http_code}' -X PUT \
                -H 'Content-Type: application/yaml' --data-binary @"$1" "http://sliced/v1/topology$2")
        CODE=${out##*$'\n'}
        BODY=${out%$'\n'*}
}
plan() { "$PY" -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["plan"], sort_keys=True))'; }

printf 'slices:\n  - name: extra\n    exec: [/bin/sleep, "100000"]\n' >"$T_TMP/extra.yaml"
printf 'slices:\n  - name: base\n    exec: [/bin/true]\n' >"$T_TMP/dup.yaml"

t_begin "a dry run plans the body as one more file of the directory"
if sd_wait 20 /base state ready && t_wait_for 10 test -S "$SOCK"; then
        put "$T_TMP/extra.yaml" "?dry_run=1"
        assert_eq 200 "$CODE" "status"
        assert_eq '{"restart": [], "start": ["/extra"], "stop": [], "unchanged": ["/base"]}' \
                "$(plan <<<"$BODY")" "plan"
        assert_true "nothing written" test ! -e "$T_TMP/d/api-applied.yaml"
fi
t_end

t_begin "a body clashing with another file of the directory is refused, naming both"
put "$T_TMP/dup.yaml"
assert_eq 400 "$CODE" "status"
assert_contains "$BODY" "api-applied.yaml" "names the file it would become"
assert_contains "$BODY" "10-base.yaml" "names the other file"
assert_true "nothing written" test ! -e "$T_TMP/d/api-applied.yaml"
t_end

t_begin "apply writes api-applied.yaml and starts what it adds; the other files' slices stay"
pid=$(sd_get /base pid)
put "$T_TMP/extra.yaml"
assert_eq 200 "$CODE" "status"
sd_wait 20 /extra state ready
assert_eq "$(cat "$T_TMP/extra.yaml")" "$(cat "$T_TMP/d/api-applied.yaml" 2>/dev/null)" "the file"
assert_eq "$pid" "$(sd_get /base pid)" "/base kept its pid"
t_end

t_done
