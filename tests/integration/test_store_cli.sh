#!/usr/bin/env bash
# The package store end to end through slicectl: keys, build, sign, publish,
# install from file:// and http://, list, shared archives stored once,
# remove, rollback, gc, verify (and corruption found), audit with an OSV
# feed, and the same operations through sliced's API.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/store_lib.sh"
. "$(dirname "$0")/sliced_lib.sh"

REPO=$T_TMP/repo
STORE=$T_TMP/store
PY=/usr/bin/python3

t_begin "key gen writes a secret key only its owner may read, and never overwrites it"
st_keys
assert_eq "$(stat -c %a "$ST_KEYS/root.key")" 600 "root.key mode"
assert_exit 2 "$SLICECTL" key gen "$ST_KEYS/root"
assert_contains "$ERR" "exists" "refusal names the reason"

t_begin "pkg build writes NAME@VERSION.pkg and its archives; pkg sign adds one signature a key"
st_pkgdir "$T_TMP/hello" hello 1.0
st_build "$T_TMP/hello"
assert_eq "$ST_PKG" "$ST_OUT/hello@1.0.pkg" "printed path"
assert_eq "$(ls "$ST_OUT/archives" | wc -l)" 2 "two archives"
assert_exit 0 "$SLICECTL" pkg sign --key "$ST_KEYS/signer.key" "$ST_PKG"
assert_exit 0 "$SLICECTL" pkg sign --key "$ST_KEYS/signer.key" "$ST_PKG"
assert_eq "$($PY -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["signatures"]))' "$ST_PKG")" 1 \
        "signing twice with one key keeps one signature"

t_begin "repo init, signers and add publish a repository"
st_repo_init "$REPO"
assert_true "root version 1 written" test -f "$REPO/root/1.json"
# shellcheck disable=SC2046
assert_exit 0 "$SLICECTL" repo signers "$REPO" '*' --signer "$ST_KEYS/signer.pub" $(st_online_keys)
st_publish "$REPO" "$ST_PKG"
assert_true "published" test -f "$REPO/timestamp.json"

t_begin "pkg install --store pins the root and installs into generation 1"
st_install "$STORE" "$REPO" hello@1.0
assert_eq "$RC" 0 "install succeeds: $ERR"
assert_contains "$OUT" "generation 1 is now current" "says which generation"
assert_exit 0 "$SLICECTL" pkg list --store "$STORE"
assert_match "$OUT" "hello +1.0 +2" "list shows the package and its two archives"

t_begin "a second package sharing an archive stores it once"
st_pkgdir "$T_TMP/world" world 1.0
st_build "$T_TMP/world"
"$SLICECTL" pkg sign --key "$ST_KEYS/signer.key" "$ST_PKG" >/dev/null
st_publish "$REPO" "$ST_PKG"
before=$(du -sb "$STORE/archives" | cut -f1)
capture "$SLICECTL" pkg install --no-progress --store "$STORE" world
assert_eq "$RC" 0 "install from the remembered repository: $ERR"
assert_eq "$(ls "$STORE/archives" | wc -l)" 3 "3 archives for 4 references"
after=$(du -sb "$STORE/archives" | cut -f1)
world_base=$(stat -c %s "$ST_OUT/archives/"* | sort -n | tail -1)
assert_true "only the new archive was added" test $((after - before)) -le $((world_base + 4096))
assert_eq "$(stat -c %h "$STORE/archives/"*.tar.zst | sort -u)" 1 "no hardlink copies"

t_begin "pkg install NAME takes the newest version"
st_pkgdir "$T_TMP/hello2" hello 2.0
st_build "$T_TMP/hello2"
"$SLICECTL" pkg sign --key "$ST_KEYS/signer.key" "$ST_PKG" >/dev/null
st_publish "$REPO" "$ST_PKG"
capture "$SLICECTL" pkg install --no-progress --store "$STORE" hello
assert_eq "$RC" 0 "$ERR"
capture "$SLICECTL" pkg list --store "$STORE"
assert_match "$OUT" "hello +2.0" "2.0 installed"

t_begin "remove, then rollback to the generation before, then to a given one"
gen=$(st_generation "$STORE")
assert_exit 0 "$SLICECTL" pkg remove --store "$STORE" hello@2.0
assert_eq "$(st_generation "$STORE")" $((gen + 1)) "remove makes a generation"
assert_exit 0 "$SLICECTL" pkg rollback --store "$STORE"
assert_eq "$(st_generation "$STORE")" "$gen" "rollback returns to it"
assert_exit 0 "$SLICECTL" pkg rollback --store "$STORE" 1
assert_eq "$(st_generation "$STORE")" 1
assert_exit 1 "$SLICECTL" pkg rollback --store "$STORE" 99
assert_contains "$ERR" "99" "names the missing generation"
assert_exit 0 "$SLICECTL" pkg list --generations --store "$STORE"
assert_match "$OUT" '\* +1 ' "generation 1 marked current"

t_begin "gc keeps the current generation and removes what nothing uses"
"$SLICECTL" pkg rollback --store "$STORE" "$gen" >/dev/null
assert_exit 0 "$SLICECTL" pkg gc --keep 1 --store "$STORE"
assert_contains "$OUT" "removed" "reports what it removed"
assert_exit 0 "$SLICECTL" pkg list --generations --json --store "$STORE"
assert_eq "$($PY -c 'import json,sys; print(len(json.load(sys.stdin)["generations"]))' <<<"$OUT")" 2 \
        "the newest generation and the current one (rolled back to) are kept"
assert_exit 0 "$SLICECTL" pkg verify --store "$STORE"
assert_contains "$OUT" "store intact" "verify is clean after gc"

t_begin "verify finds a flipped byte in an archive"
victim=$(ls "$STORE/archives/"*.tar.zst | head -1)
chmod u+w "$victim"
printf '\x00' | dd of="$victim" bs=1 seek=20 conv=notrunc status=none
assert_exit 1 "$SLICECTL" pkg verify --store "$STORE"
assert_contains "$OUT" "CORRUPT" "verify says so"
assert_contains "$OUT" "$(basename "$victim")" "and names the archive"

t_begin "audit lists each running slice's package and archives, and OSV advisories"
rm -rf "$STORE"
st_install "$STORE" "$REPO" hello@1.0
hash=$($PY -c 'import json,sys; d=json.load(sys.stdin); print(d["packages"][0]["archives"][0])' \
        <<<"$("$SLICECTL" pkg list --json --store "$STORE")")
printf '{"slices": [{"slice": "/app/hello", "package": "hello@1.0", "generation": 1, "archives": ["%s"]}]}' \
        "$hash" >"$STORE/inuse.json"
cat >"$T_TMP/osv.json" <<'JSON'
[{"id": "SLICED-2026-0001", "summary": "hello prints too much",
  "affected": [{"package": {"name": "hello", "ecosystem": "sliced"}, "versions": ["1.0"]}]},
 {"id": "SLICED-2026-0002", "summary": "fixed long ago",
  "affected": [{"package": {"name": "hello", "ecosystem": "sliced"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "0.9"}]}]}]}]
JSON
assert_exit 0 "$SLICECTL" pkg audit --store "$STORE"
assert_contains "$OUT" "/app/hello" "the slice"
assert_contains "$OUT" "$hash" "its archive"
assert_exit 1 "$SLICECTL" pkg audit --store "$STORE" --osv "$T_TMP/osv.json"
assert_contains "$OUT" "SLICED-2026-0001" "the matching advisory"
assert_not_contains "$OUT" "SLICED-2026-0002" "not the one fixed before 1.0"
echo '[{"id": 3}]' >"$T_TMP/bad-osv.json"
assert_exit 1 "$SLICECTL" pkg audit --store "$STORE" --osv "$T_TMP/bad-osv.json"
assert_contains "$ERR" "osv" "a malformed feed is named"

t_begin "install over HTTP"
port=$(sd_port 1)
t_bg "$PY" -m http.server --bind 127.0.0.1 --directory "$REPO" "$port"
t_wait_for 10 "$PY" -c "import socket; socket.create_connection(('127.0.0.1', $port))" 2>/dev/null || true
capture "$SLICECTL" pkg install --no-progress --store "$T_TMP/store-http" \
        --repo "http://127.0.0.1:$port" --root "$REPO/root/1.json" world@1.0
assert_eq "$RC" 0 "install over http: $ERR"

t_begin "the same operations through sliced's API"
api_store=$T_TMP/api-store
printf 'store_dir: %s\n' "$api_store" >>"$T_TMP/sliced.conf"
sd_topology "$T_TMP/topo.yaml" <<'YAML'
slices:
  - name: idle
    exec: [/bin/sleep, "1000"]
YAML
sd_start "$T_TMP/topo.yaml"
sock=$SD_RUN/api.sock
sd_wait 20 /idle state ready
capture "$SLICECTL" --socket "$sock" pkg install --repo "file://$REPO" --root "$REPO/root/1.json" hello@1.0
assert_eq "$RC" 0 "install through sliced: $ERR"
assert_contains "$OUT" "generation 1 is now current" "answer printed"
capture "$SLICECTL" --socket "$sock" pkg list
assert_match "$OUT" "hello +1.0" "listed through sliced"
capture "$SLICECTL" --socket "$sock" pkg verify
assert_eq "$RC" 0 "verify through sliced"
capture "$SLICECTL" --socket "$sock" pkg install no-such-package
assert_eq "$RC" 1 "an unknown package is refused"
assert_contains "$ERR" "no-such-package" "and named"
capture "$SLICECTL" --socket "$sock" pkg list --json
assert_eq "$($PY -c 'import json,sys; print(json.load(sys.stdin)["generation"])' <<<"$OUT")" 1 \
        "the refused install changed nothing"
sd_stop

t_done
