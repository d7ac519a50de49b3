#!/usr/bin/env bash
# One check per attack on the package store (TUF / Uptane threat model),
# end to end through slicectl: each is refused with a message naming the
# reason, and nothing is installed (same generation, no new archive).
# tests/unit/test_store_tuf.c covers each again at the metadata level, with
# expired and revoked keys; test_store_unpack.c every malicious archive.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/store_lib.sh"
. "$(dirname "$0")/sliced_lib.sh"

PY=/usr/bin/python3
st_keys

# A fresh repository whose packages must be signed by `signer`, and a store
# that has installed base@1.0 from it.
fresh() {
        REPO=$T_TMP/repo.$1
        STORE=$T_TMP/store.$1
        st_repo_init "$REPO"
        # shellcheck disable=SC2046
        "$SLICECTL" repo signers "$REPO" '*' --signer "$ST_KEYS/signer.pub" $(st_online_keys) >/dev/null
        st_pkgdir "$T_TMP/pkg.base" base 1.0
        st_build "$T_TMP/pkg.base"
        "$SLICECTL" pkg sign --key "$ST_KEYS/signer.key" "$ST_PKG" >/dev/null
        st_publish "$REPO" "$ST_PKG"
        st_install "$STORE" "$REPO" base@1.0
        [ "$RC" = 0 ] || t_fail "setup install: $ERR"
        GEN0=$(st_generation "$STORE")
        NARCH0=$(ls "$STORE/archives" | wc -l)
}

# A package evil@1.0 (own content, so its archive is new) signed by KEYS.
evil_pkg() {
        local k
        rm -rf "$T_TMP/pkg.evil"
        st_pkgdir "$T_TMP/pkg.evil" evil 1.0
        echo "evil $RANDOM" >"$T_TMP/pkg.evil/base/bin/payload"
        st_build "$T_TMP/pkg.evil"
        for k in "$@"; do
                "$SLICECTL" pkg sign --key "$ST_KEYS/$k.key" "$ST_PKG" >/dev/null
        done
}

# refused WHAT TEXT SPEC...: the install fails naming TEXT; nothing changed
refused() {
        local text=$1
        shift
        capture "$SLICECTL" pkg install --no-progress --store "$STORE" "$@"
        assert_eq "$RC" 1 "install refused (out: $OUT)"
        assert_contains "$ERR" "$text" "the reason is named"
        assert_eq "$(st_generation "$STORE")" "$GEN0" "generation unchanged"
        assert_eq "$(ls "$STORE/archives" | wc -l)" "$NARCH0" "no archive added"
        assert_eq "$(ls "$STORE/tmp" 2>/dev/null | wc -l)" 0 "nothing left aside"
}

t_begin "arbitrary package: signed by a key that is not a signer"
fresh arbitrary
evil_pkg other
st_publish "$REPO" "$ST_PKG"
refused "signatures" evil@1.0

t_begin "signatures below the threshold"
fresh threshold
# shellcheck disable=SC2046
"$SLICECTL" repo signers "$REPO" evil --signer "$ST_KEYS/signer.pub" --signer "$ST_KEYS/other.pub" \
        --threshold 2 $(st_online_keys) >/dev/null
evil_pkg signer
st_publish "$REPO" "$ST_PKG"
refused "2 needed" evil@1.0

t_begin "the same key counted twice"
fresh twice
# shellcheck disable=SC2046
"$SLICECTL" repo signers "$REPO" evil --signer "$ST_KEYS/signer.pub" --signer "$ST_KEYS/other.pub" \
        --threshold 2 $(st_online_keys) >/dev/null
evil_pkg signer
$PY - "$ST_PKG" <<'PYEOF'
import json, sys
p = sys.argv[1]
env = json.load(open(p))
env["signatures"].append(dict(env["signatures"][0]))
json.dump(env, open(p, "w"))
PYEOF
st_publish "$REPO" "$ST_PKG"
refused "2 needed" evil@1.0

t_begin "rollback: an older timestamp replayed"
fresh rollback
cp "$REPO/timestamp.json" "$T_TMP/old-timestamp.json"
evil_pkg signer
st_publish "$REPO" "$ST_PKG"
assert_exit 0 "$SLICECTL" pkg list --store "$STORE"
capture "$SLICECTL" pkg install --no-progress --store "$STORE" evil@1.0
assert_eq "$RC" 0 "the newer metadata is seen once: $ERR"
GEN0=$(st_generation "$STORE")
NARCH0=$(ls "$STORE/archives" | wc -l)
cp "$T_TMP/old-timestamp.json" "$REPO/timestamp.json"
refused "rollback" base@1.0

t_begin "indefinite freeze: expired metadata"
fresh freeze
evil_pkg signer
# shellcheck disable=SC2046
"$SLICECTL" repo add "$REPO" $(st_online_keys) --expires 2020-01-01T00:00:00Z "$ST_PKG" >/dev/null
refused "expired" evil@1.0

t_begin "mix-and-match: a snapshot the timestamp does not name"
fresh mix
evil_pkg signer
old_snapshot=$(ls "$REPO/snapshot/" | sort -n | tail -1)
cp "$REPO/snapshot/$old_snapshot" "$T_TMP/old-snapshot.json"
st_publish "$REPO" "$ST_PKG"
new_snapshot=$(ls "$REPO/snapshot/" | sort -n | tail -1)
cp "$T_TMP/old-snapshot.json" "$REPO/snapshot/$new_snapshot"
refused "snapshot" evil@1.0

t_begin "wrong software: archive bytes that do not match their hash"
fresh wrong
evil_pkg signer
st_publish "$REPO" "$ST_PKG"
for a in "$REPO"/archives/*.tar.zst; do
        [ -e "$STORE/archives/$(basename "$a")" ] && continue
        chmod u+w "$a"
        printf '\x01' | dd of="$a" bs=1 seek=30 conv=notrunc status=none
done
refused "hash" evil@1.0

t_begin "endless data: an archive far larger than its manifest says"
fresh endless
evil_pkg signer
st_publish "$REPO" "$ST_PKG"
for a in "$REPO"/archives/*.tar.zst; do
        [ -e "$STORE/archives/$(basename "$a")" ] && continue
        rm -f "$a"
        truncate -s 10G "$a" # sparse: costs no disk
done
refused "size cap" evil@1.0

t_begin "malicious archive: an entry climbing out with .."
fresh malicious
rm -rf "$T_TMP/pkg.mal" && mkdir -p "$T_TMP/pkg.mal"
$PY - "$T_TMP/pkg.mal" <<'PYEOF'
import base64, hashlib, io, json, os, sys, tarfile
out = sys.argv[1]
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w") as t:
    data = b"owned\n"
    info = tarfile.TarInfo("../../escaped")
    info.size = len(data)
    t.addfile(info, io.BytesIO(data))
raw = buf.getvalue()
h = hashlib.blake2b(raw, digest_size=32).hexdigest()
os.makedirs(os.path.join(out, "archives"))
open(os.path.join(out, "archives", h + ".tar.zst"), "wb").write(raw)
manifest = json.dumps({"name": "mal", "version": "1.0", "dependencies": [],
                       "archives": [{"hash": h, "size": len(raw)}]}).encode()
env = {"signed": base64.b64encode(manifest).decode(), "signatures": []}
json.dump(env, open(os.path.join(out, "mal@1.0.pkg"), "w"))
PYEOF
"$SLICECTL" pkg sign --key "$ST_KEYS/signer.key" "$T_TMP/pkg.mal/mal@1.0.pkg" >/dev/null
st_publish "$REPO" "$T_TMP/pkg.mal/mal@1.0.pkg"
capture "$SLICECTL" pkg install --no-progress --store "$STORE" mal@1.0
assert_eq "$RC" 1 "refused"
assert_contains "$ERR" "\`..\` component" "the entry and the reason"
assert_eq "$(st_generation "$STORE")" "$GEN0" "generation unchanged"
assert_true "nothing escaped" test ! -e "$T_TMP/escaped" -a ! -e "$STORE/escaped"
assert_eq "$(ls "$STORE/trees" | wc -l)" "$NARCH0" "no tree for it"
assert_eq "$(ls "$STORE/archives" | wc -l)" "$NARCH0" "nor its archive"

t_begin "slow retrieval: a server trickling bytes times out"
fresh slow
port=$(sd_port 2)
cat >"$T_TMP/slow_server.py" <<'PYEOF'
import http.server, os, sys, time
root, port = sys.argv[1], int(sys.argv[2])
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        path = os.path.join(root, self.path.lstrip("/"))
        if not os.path.isfile(path):
            self.send_response(404); self.end_headers(); return
        data = open(path, "rb").read()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        for b in data:
            self.wfile.write(bytes([b])); self.wfile.flush(); time.sleep(2)
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PYEOF
t_bg "$PY" "$T_TMP/slow_server.py" "$REPO" "$port"
t_wait_for 10 "$PY" -c "import socket; socket.create_connection(('127.0.0.1', $port))" 2>/dev/null || true
STORE=$T_TMP/store.slow2
capture env SLICED_FETCH_LOW_SPEED_TIME=2 SLICED_FETCH_LOW_SPEED_BYTES=100 \
        "$SLICECTL" pkg install --no-progress --store "$STORE" --repo "http://127.0.0.1:$port" \
        --root "$REPO/root/1.json" base@1.0
assert_eq "$RC" 1 "refused"
assert_contains "$ERR" "timed out" "the reason is named"
assert_eq "$(st_generation "$STORE")" 0 "nothing installed"

t_begin "fast-forward: a stolen timestamp key inflates versions; root rotation recovers"
fresh ffwd
cp -a "$REPO" "$T_TMP/attacker"
for _ in 1 2 3 4 5; do
        # shellcheck disable=SC2046
        "$SLICECTL" repo add "$T_TMP/attacker" $(st_online_keys) >/dev/null
done
# One URL, served first by the attacker, then by the genuine repository.
ln -sfn "$T_TMP/attacker" "$T_TMP/served"
capture "$SLICECTL" pkg install --no-progress --store "$STORE" --repo "file://$T_TMP/served" \
        --root "$REPO/root/1.json" base@1.0
assert_eq "$RC" 0 "the client follows the attacker's versions: $ERR"
ln -sfn "$REPO" "$T_TMP/served"
evil_pkg signer
st_publish "$REPO" "$ST_PKG"
capture "$SLICECTL" pkg install --no-progress --store "$STORE" evil@1.0
assert_eq "$RC" 1 "the genuine repository now looks like a rollback"
assert_contains "$ERR" "rollback" "named"
"$SLICECTL" key gen "$T_TMP/keys/timestamp2" >/dev/null
"$SLICECTL" key gen "$T_TMP/keys/snapshot2" >/dev/null
assert_exit 0 "$SLICECTL" repo rotate "$REPO" --sign "$ST_KEYS/root.key" --key root="$ST_KEYS/root.key" \
        --key targets="$ST_KEYS/targets.key" --key snapshot="$ST_KEYS/snapshot2.key" \
        --key timestamp="$ST_KEYS/timestamp2.key"
capture "$SLICECTL" pkg install --no-progress --store "$STORE" evil@1.0
assert_eq "$RC" 0 "after rotating the timestamp and snapshot keys, updates flow again: $ERR"

t_done
