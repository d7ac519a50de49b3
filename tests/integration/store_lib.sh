# shellcheck shell=bash
# tests/integration/store_lib.sh: keys, packages and repositories for the
# store tests (test_store_*.sh, test_sliced_package.sh), made with slicectl
# itself. Source it after tests/lib.sh.
#
#   st_keys                       keys in $ST_KEYS: root targets snapshot
#                                 timestamp signer other (.key, .pub)
#   st_pkgdir DIR NAME VERSION [DEPNAME@DEPVER...]
#                                 a package directory: archive `base` with
#                                 bin/NAME (a script) and archive `share`
#                                 with share/common.txt (the same in every
#                                 package: packages share that archive)
#   st_build DIR                  slicectl pkg build DIR -o $ST_OUT; ST_PKG
#                                 is the .pkg path
#   st_repo_init REPO [ARGS...]   repo init with the four role keys
#   st_publish REPO PKG...        repo add with the three online keys
#   st_install STORE REPO SPEC... pkg install --store --repo file://REPO,
#                                 pinning REPO/root/1.json (captured: OUT,
#                                 ERR, RC)
#   st_generation STORE           the current generation number

ST_KEYS=$T_TMP/keys
ST_OUT=$T_TMP/out
mkdir -p "$ST_KEYS" "$ST_OUT"

st_keys() {
        local k
        for k in root targets snapshot timestamp signer other; do
                [ -e "$ST_KEYS/$k.key" ] || "$SLICECTL" key gen "$ST_KEYS/$k" >/dev/null || return 1
        done
}

st_pkgdir() {
        local dir=$1 name=$2 version=$3 deps="" d
        shift 3
        for d in "$@"; do
                deps="$deps${deps:+, }{\"name\": \"${d%@*}\", \"version\": \"${d#*@}\"}"
        done
        mkdir -p "$dir/base/bin" "$dir/share/share"
        printf '#!/bin/sh\necho "%s %s"\ncat /pkg/share/common.txt\n' "$name" "$version" \
                >"$dir/base/bin/$name"
        chmod 0755 "$dir/base/bin/$name"
        echo "shared by every test package" >"$dir/share/share/common.txt"
        cat >"$dir/package.json" <<JSON
{"name": "$name", "version": "$version", "dependencies": [$deps],
 "archives": ["base", "share"], "slice": {"command": ["/pkg/bin/$name"]}}
JSON
}

st_build() {
        ST_PKG=$("$SLICECTL" pkg build "$1" -o "$ST_OUT") || return 1
}

st_repo_init() {
        local repo=$1
        shift
        "$SLICECTL" repo init "$repo" --key root="$ST_KEYS/root.key" \
                --key targets="$ST_KEYS/targets.key" --key snapshot="$ST_KEYS/snapshot.key" \
                --key timestamp="$ST_KEYS/timestamp.key" "$@" >/dev/null
}

st_online_keys() {
        echo --key targets="$ST_KEYS/targets.key" --key snapshot="$ST_KEYS/snapshot.key" \
                --key timestamp="$ST_KEYS/timestamp.key"
}

st_publish() {
        local repo=$1
        shift
        # shellcheck disable=SC2046
        "$SLICECTL" repo add "$repo" $(st_online_keys) "$@" >/dev/null
}

st_install() {
        local store=$1 repo=$2
        shift 2
        capture "$SLICECTL" pkg install --no-progress --store "$store" --repo "file://$repo" \
                --root "$repo/root/1.json" "$@"
}

st_generation() {
        "$SLICECTL" pkg list --json --store "$1" 2>/dev/null |
                /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["generation"])'
}
