#!/usr/bin/env bash
# Capability sessions, the platform's services: `rom` hands a granted file
# over as a sealed memfd with its BLAKE2b-256 (and nothing outside the
# slice's grants, even through a symlink or ".."); `config` delivers the
# topology's `config:` as JSON, and a reload changing only `config` delivers
# it live without a restart; `report` lands in state.json; `log` lines land
# in sliced's log labelled with the slice's path.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/sliced_lib.sh"
. "$(dirname "$0")/sessions_lib.sh"

mkdir -p "$T_TMP/data" "$T_TMP/secret"
head -c 100000 /dev/urandom >"$T_TMP/data/blob.bin"
echo "not for slices" >"$T_TMP/secret/key"
ln -s "$T_TMP/secret/key" "$T_TMP/data/escape-abs"
ln -s ../secret/key "$T_TMP/data/escape-rel"
chmod -R a+rX "$T_TMP/data" "$T_TMP/secret"

platform_topo() {
        ss_topology "$T_TMP/platform.yaml" <<EOF
slices:
  - name: rom
    exec: [/t/session-tool, rom, /data/blob.bin]
    profile: strict
    mounts: [@T@, {src: @TMP@/data, dest: /data}]
    routes: {rom: parent}
    restart: never
  - name: outside
    exec: [/t/session-tool, rom, /etc/passwd]
    profile: strict
    mounts: [@T@, {src: @TMP@/data, dest: /data}]
    routes: {rom: parent}
    restart: never
  - name: abs
    exec: [/t/session-tool, rom, /data/escape-abs]
    profile: strict
    mounts: [@T@, {src: @TMP@/data, dest: /data}]
    routes: {rom: parent}
    restart: never
  - name: rel
    exec: [/t/session-tool, rom, /data/escape-rel]
    profile: strict
    mounts: [@T@, {src: @TMP@/data, dest: /data}]
    routes: {rom: parent}
    restart: never
  - name: dotdot
    exec: [/t/session-tool, rom, /data/../secret/key]
    profile: strict
    mounts: [@T@, {src: @TMP@/data, dest: /data}]
    routes: {rom: parent}
    restart: never
  - name: noroute
    exec: [/t/session-tool, rom, /data/blob.bin]
    profile: strict
    mounts: [@T@, {src: @TMP@/data, dest: /data}]
    restart: never
  - name: cfg
    exec: [/t/session-tool, config]
    profile: strict
    mounts: [@T@]
    routes: {config: parent}
    config: $1
  - name: rep
    exec: [/t/session-tool, report, '{"sessions": 2, "name": "rep", "ok": true}']
    profile: strict
    mounts: [@T@]
    routes: {report: parent}
  - name: lg
    exec: [/t/session-tool, log, "hello from lg"]
    profile: strict
    mounts: [@T@]
    routes: {log: parent}
EOF
}
platform_topo '{greeting: hello, n: 3, list: [a, b]}'
sd_start "$T_TMP/platform.yaml"

# JSON equality, whatever the spacing
json_eq() { "$PY" -c 'import json,sys; sys.exit(json.loads(sys.argv[1]) != json.loads(sys.argv[2]))' "$1" "$2"; }

t_begin "rom: a granted file comes with its size and the BLAKE2b-256 b2sum computes"
want="rom 100000 $(b2sum -l 256 "$T_TMP/data/blob.bin" | cut -d' ' -f1)"
if ss_wait 20 /rom "$want"; then
        assert_eq "$want" "$(ss_lines /rom)" "what /rom printed"
        sd_wait 10 /rom exit_code 0
fi

t_begin "rom: outside the grants, through symlinks out of a grant, or via '..': denied"
ss_wait 20 /outside "denied: session to 'rom' refused: rom '/etc/passwd' is not inside a path granted to /outside"
for s in abs rel; do
        if sd_wait_cmd 20 "/$s printed" eval '[ -n "$(ss_lines /'$s')" ]'; then
                assert_match "$(ss_lines /$s)" "^denied: session to 'rom' refused: rom '/data/escape-$s': .+" "what /$s printed"
        fi
done
if sd_wait_cmd 20 "/dotdot printed" eval '[ -n "$(ss_lines /dotdot)" ]'; then
        assert_match "$(ss_lines /dotdot)" "^denied: session to 'rom' refused: rom '/data/../secret/key': .+" "what /dotdot printed"
fi
for s in outside abs rel dotdot; do
        sd_wait 10 /$s exit_code 1
done
assert_eq "" "$(for s in abs rel dotdot; do ss_lines /$s; done | grep '^rom ')" "roms the escapes got"

t_begin "rom: without a route to the platform's rom, denied naming the slice"
ss_wait 20 /noroute "denied: session to 'rom' refused: /noroute has no route for 'rom'"

t_begin "config: the topology's config arrives as JSON"
if sd_wait_cmd 20 "/cfg printed its config" eval '[ -n "$(ss_lines /cfg)" ]'; then
        got=$(ss_lines /cfg)
        assert_match "$got" '^config: ' "what /cfg printed"
        assert_true "the JSON is the topology's config ($got)" \
                json_eq "${got#config: }" '{"greeting": "hello", "n": 3, "list": ["a", "b"]}'
fi

t_begin "config: a reload changing only config delivers it live; the pid stays"
if sd_wait 10 /cfg state ready && ss_lines /cfg | grep -q '^config: '; then
        pids=$(for p in /cfg /rep /lg; do sd_get $p pid; done | tr '\n' ' ')
        platform_topo '{greeting: bye, n: 4}'
        kill -HUP "$SD_PID"
        if sd_wait_cmd 20 "/cfg got an update" eval 'ss_lines /cfg | grep -q "^update: "'; then
                got=$(ss_lines /cfg | grep '^update: ')
                assert_true "the update is the new config ($got)" json_eq "${got#update: }" '{"greeting": "bye", "n": 4}'
                sd_wait 10 "" generation 2
                assert_eq "$pids" "$(for p in /cfg /rep /lg; do sd_get $p pid; done | tr '\n' ' ')" "pids of /cfg /rep /lg"
                assert_eq 0 "$(sd_get /cfg restarts)" "/cfg's restarts"
                assert_true "sliced logs the live update" sd_log_has "/cfg: config updated live"
                assert_eq 1 "$(ss_lines /cfg | grep -c '^config: ')" "configs /cfg read (it did not start again)"
        fi
fi

t_begin "report: what /rep published is under its 'report' in state.json"
if ss_wait 20 /rep reported && sd_wait_cmd 10 "/rep's report" eval '[ "$(sd_get /rep report)" != null ]'; then
        assert_eq '{"name": "rep", "ok": true, "sessions": 2}' "$(sd_get /rep report)" "/rep's report"
        assert_eq null "$(sd_get /lg report)" "/lg's report (it published none)"
fi

t_begin "log: /lg's line is in sliced's log, labelled with its path"
if ss_wait 20 /lg logged; then
        sd_wait_cmd 10 "the log line" ss_has /lg "hello from lg"
        assert_eq 1 "$(grep -cxF '/lg: hello from lg' "$SD_LOG")" "lines '/lg: hello from lg'"
fi
sd_stop
assert_eq 0 "$RC" "sliced's exit status"

t_done
