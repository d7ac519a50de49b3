#!/usr/bin/env bash
# sliced runs store packages: a slice with `package: NAME@VERSION` sees the
# package's archives read-only at /pkg (one archive: a read-only bind; two:
# a read-only overlay) and runs the package's template command; state.json,
# `slicectl get` and STORE/inuse.json say which package, generation and
# archives it runs; nothing in the slice can write to /pkg or remount it; a
# version that is not installed leaves that slice failing to start with the
# store's message while the others run; a reload that changes the version
# restarts the slice. The store is made with slicectl (key gen, pkg build,
# pkg sign, repo init, repo add, pkg install), as an operator would.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/sliced_lib.sh"

keys=$T_TMP/keys
out=$T_TMP/out
repo=$T_TMP/repo
store=$T_TMP/store
mkdir -p "$keys" "$out"

# hello@1.0: two archives, base (the program) on top of data (a file it reads)
src=$T_TMP/hello
mkdir -p "$src/base/bin" "$src/data/share"
cat >"$src/package.json" <<'EOF'
{"name": "hello", "version": "1.0", "dependencies": [], "archives": ["base", "data"],
 "slice": {"command": ["/pkg/bin/hello"]}}
EOF
printf '#!/bin/sh\necho hello-from-package\ncat /pkg/share/msg\nexec sleep 1000\n' >"$src/base/bin/hello"
chmod 755 "$src/base/bin/hello"
echo "message-from-the-data-archive" >"$src/data/share/msg"

# one@1.0: a single archive (the bind path)
src1=$T_TMP/one
mkdir -p "$src1/base/bin"
cat >"$src1/package.json" <<'EOF'
{"name": "one", "version": "1.0", "dependencies": [], "archives": ["base"],
 "slice": {"command": ["/pkg/bin/one"]}}
EOF
printf '#!/bin/sh\necho one-from-package\nexec sleep 1000\n' >"$src1/base/bin/one"
chmod 755 "$src1/base/bin/one"

t_begin "a store is prepared with slicectl: key gen, pkg build, pkg sign, repo init, repo add, pkg install"
if ! "$SLICECTL" pkg --help >/dev/null 2>&1 || ! "$SLICECTL" key gen --help >/dev/null 2>&1; then
        t_skip "slicectl has no pkg/key commands yet"
        t_done
fi
k=$keys/k
prepare() {
        assert_exit 0 "$SLICECTL" key gen "$k" || return 1
        local built=()
        for dir in "$src" "$src1"; do
                assert_exit 0 "$SLICECTL" pkg build "$dir" -o "$out" || return 1
                built+=("$(printf '%s\n' "$OUT" | grep -E '\.pkg$' | tail -1)")
        done
        assert_eq "$out/hello@1.0.pkg $out/one@1.0.pkg" "${built[*]}" "pkg build prints OUT/NAME@VERSION.pkg" || return 1
        assert_exit 0 "$SLICECTL" pkg sign --key "$k.key" "$out/hello@1.0.pkg" "$out/one@1.0.pkg" || return 1
        assert_exit 0 "$SLICECTL" repo init "$repo" --key root="$k.key" --key targets="$k.key" \
                --key snapshot="$k.key" --key timestamp="$k.key" || return 1
        assert_exit 0 "$SLICECTL" repo add "$repo" --key targets="$k.key" --key snapshot="$k.key" \
                --key timestamp="$k.key" "$out/hello@1.0.pkg" "$out/one@1.0.pkg" || return 1
        assert_exit 0 "$SLICECTL" pkg install --store "$store" --repo "file://$repo" \
                --root "$repo/root/1.json" hello@1.0 one@1.0 || return 1
        assert_exit 0 "$SLICECTL" pkg list --store "$store" || return 1
        assert_contains "$OUT" "hello" "pkg list" && assert_contains "$OUT" "one" "pkg list"
}
if ! prepare; then
        t_done
fi
# the archive hashes pkg build wrote, sorted
all_hashes=$(cd "$out/archives" && ls | sed 's/\.tar\.zst$//' | sort | tr '\n' ' ')
[ "$(echo $all_hashes | wc -w)" = 3 ] || t_fail "expected 3 archives in $out/archives, got [$all_hashes]"

printf 'store_dir: %s\n' "$store" >>"$T_TMP/sliced.conf"

# /writer runs the hello package with a command of its own that tries to
# change /pkg: write into it, and remount it read-write
sd_topology "$T_TMP/topo.yaml" <<'EOF'
slices:
  - name: hello
    package: hello@1.0
  - name: one
    package: one@1.0
  - name: writer
    package: hello@1.0
    exec:
      - /bin/sh
      - -c
      - |
        if touch /pkg/x 2>/tmp/e; then echo WRITE-OK; else echo "write refused: $(cat /tmp/e)"; fi
        if touch /pkg/share/msg 2>/tmp/e; then echo WRITE-OK; else echo "write refused: $(cat /tmp/e)"; fi
        /usr/bin/python3 -c "$REMOUNT" || echo REMOUNT-ERROR
        if touch /pkg/y 2>/tmp/e; then echo WRITE-OK; else echo "write still refused: $(cat /tmp/e)"; fi
        echo writer-done
        exec sleep 1000
    env:
      # straight to the kernel (mount(8) would refuse by itself, not being
      # root): remount /pkg read-write, and clear its read-only attribute
      REMOUNT: |
        import ctypes, os, struct
        libc = ctypes.CDLL(None, use_errno=True)
        MS_REMOUNT, MS_BIND, MOUNT_ATTR_RDONLY, SYS_mount_setattr = 32, 4096, 1, 442
        def say(what, r):
            e = ctypes.get_errno()
            print(what + (" OK" if r == 0 else " refused: " + os.strerror(e)), flush=True)
        say("remount", libc.mount(None, b"/pkg", None, MS_REMOUNT | MS_BIND, None))
        attr = struct.pack("QQQQ", 0, MOUNT_ATTR_RDONLY, 0, 0)
        say("mount_setattr", libc.syscall(ctypes.c_long(SYS_mount_setattr), ctypes.c_int(-100),
                                          b"/pkg", ctypes.c_uint(0), attr, ctypes.c_size_t(len(attr))))
  - name: missing
    package: hello@2.0
  - name: plain
    exec: [/bin/sh, -c, 'echo plain-up; exec sleep 1000']
EOF

sd_start "$T_TMP/topo.yaml"
export SLICED_SOCKET=$SD_RUN/api.sock

t_begin "a two-archive package runs its template command and reads the lower archive through /pkg"
if sd_wait 20 /hello state ready && t_wait_for 10 test -S "$SLICED_SOCKET"; then
        sd_wait_cmd 10 "the package's output" sd_log_has "/hello: message-from-the-data-archive"
        assert_exit 0 "$SLICECTL" logs hello
        assert_contains "$OUT" "hello-from-package" "slicectl logs hello"
        assert_contains "$OUT" "message-from-the-data-archive" "slicectl logs hello (from the data archive)"
fi

t_begin "a one-archive package runs from its read-only bind"
if sd_wait 20 /one state ready; then
        sd_wait_cmd 10 "/one's output" sd_log_has "/one: one-from-package"
fi

t_begin "state.json and slicectl get show package, generation and archives"
if sd_is /hello state ready; then
        assert_eq hello@1.0 "$(sd_get /hello package)" "state.json package"
        assert_match "$(sd_get /hello generation)" '^[1-9][0-9]*$' "state.json generation"
        gen=$(sd_get /hello generation)
        hello_hashes=$("$PY" -c 'import json,sys; print(" ".join(sorted(json.loads(sys.argv[1]))))' \
                "$(sd_get /hello archives)" 2>/dev/null)
        assert_eq 2 "$(echo $hello_hashes | wc -w)" "/hello mounts two archives"
        for h in $hello_hashes; do
                assert_contains "$all_hashes" "$h" "archive $h is one pkg build made"
        done
        assert_eq false "$(sd_get /hello group)" "a package slice is not a group"
        assert_exit 0 "$SLICECTL" get hello
        assert_contains "$OUT" "package:   hello@1.0 (generation $gen)" "slicectl get: package"
        for h in $hello_hashes; do
                assert_match "$OUT" "(archives: +| {11})$h" "slicectl get lists archive $h"
        done
        assert_exit 0 "$SLICECTL" get --json hello
        assert_contains "$OUT" '"package": "hello@1.0"' "GET /v1/slices/hello: package"
        assert_contains "$OUT" '"archives": [' "GET /v1/slices/hello: archives"
        assert_eq 1 "$(sd_get /one archives | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)))')" \
                "/one mounts one archive"
        sd_get /plain package >/dev/null && t_fail "/plain, without a package, reports one"
fi

inuse_of() { # SLICE FIELD from STORE/inuse.json
        "$PY" - "$store/inuse.json" "$1" "$2" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
for s in doc.get("slices", []):
    if s.get("slice") == sys.argv[2]:
        v = s.get(sys.argv[3])
        print(" ".join(sorted(v)) if isinstance(v, list) else v)
        break
else:
    sys.exit(1)
EOF
}

t_begin "STORE/inuse.json names every running package slice with its archives"
if sd_is /hello state ready && sd_wait 20 /writer state ready; then
        assert_eq hello@1.0 "$(inuse_of /hello package)" "inuse /hello package"
        assert_eq "$hello_hashes" "$(inuse_of /hello archives)" "inuse /hello archives"
        assert_eq "$(sd_get /hello generation)" "$(inuse_of /hello generation)" "inuse /hello generation"
        assert_eq one@1.0 "$(inuse_of /one package)" "inuse /one package"
        assert_eq hello@1.0 "$(inuse_of /writer package)" "inuse /writer package"
        inuse_of /plain package >/dev/null && t_fail "inuse.json lists /plain, which has no package"
        inuse_of /missing package >/dev/null && t_fail "inuse.json lists /missing, which does not run"
fi

t_begin "nothing in a slice can write into /pkg or remount it read-write"
if sd_wait_cmd 20 "/writer finished its attempts" sd_log_has "/writer: writer-done"; then
        assert_eq 2 "$(grep -c '^/writer: write refused: .*Read-only file system' "$SD_LOG")" \
                "both writes refused with EROFS"
        assert_true "the remount is refused" grep -q '^/writer: remount refused: Operation not permitted' "$SD_LOG"
        assert_true "clearing read-only is refused" \
                grep -q '^/writer: mount_setattr refused: Operation not permitted' "$SD_LOG"
        assert_true "still read-only after the remount attempt" \
                grep -q '^/writer: write still refused: .*Read-only file system' "$SD_LOG"
        assert_not_contains "$(grep '^/writer:' "$SD_LOG")" "OK" "no attempt succeeded"
        assert_not_contains "$(grep '^/writer:' "$SD_LOG")" "ERROR" "the attempts ran"
        assert_true "the store's tree is untouched" test ! -e "$store/trees/x"
fi

t_begin "a version not installed leaves its slice failing with the store's message; the others run"
if sd_wait_cmd 20 "/missing's start failure in the log" \
        sd_log_has "/missing: spawn failed: package hello@2.0 is not installed (generation"; then
        assert_contains "$(sd_get /missing reason)" \
                "spawn-failed (package hello@2.0 is not installed (generation" "/missing reason"
        assert_match "$(sd_get /missing state)" '^(back-off|failed|waiting|starting)$' "/missing state"
        assert_eq null "$(sd_get /missing generation)" "/missing runs no generation"
        assert_eq null "$(sd_get /missing pid)" "/missing has no process"
        assert_eq ready "$(sd_get /plain state)" "/plain state"
        assert_eq ready "$(sd_get /hello state)" "/hello state"
        assert_true "sliced is alive" sd_alive "$SD_PID"
        assert_exit 0 "$SLICECTL" get missing
        assert_contains "$OUT" "package:   hello@2.0 (not mounted" "slicectl get: a package not mounted"
fi

t_begin "a reload that changes the version restarts that slice only"
hello_pid=$(sd_get /hello pid)
sed -i 's/package: hello@2.0/package: hello@1.0/' "$T_TMP/topo.yaml"
kill -HUP "$SD_PID"
if sd_wait 20 /missing state ready; then
        assert_eq "$hello_pid" "$(sd_get /hello pid)" "/hello kept running (same pid)"
        assert_eq hello@1.0 "$(inuse_of /missing package)" "inuse.json lists /missing now"
fi

t_begin "a start that finds the store locked by a writer waits for it, and counts as no restart"
# hold the store's lock as an install does, then add a package slice
t_bg flock -x "$store/lock" sleep 3
if t_wait_for 5 sh -c '! flock -n -s "$1" true' sh "$store/lock"; then
        cat >>"$T_TMP/topo.yaml" <<'EOF'
  - name: late
    package: one@1.0
EOF
        kill -HUP "$SD_PID"
        if sd_wait_cmd 10 "/late finding the store busy" sd_log_has "/late: spawn failed: package store"; then
                assert_true "the log says why" grep -q "/late: spawn failed: package store .* is busy" "$SD_LOG"
                assert_eq ready "$(sd_get /plain state)" "/plain state (sliced did not wait for the lock)"
                if sd_wait 20 /late state ready; then
                        assert_eq 0 "$(sd_get /late restarts)" "/late restarts"
                        assert_eq one@1.0 "$(inuse_of /late package)" "inuse.json lists /late"
                fi
        fi
else
        t_fail "could not take the store's lock"
fi

t_begin "when sliced stops, inuse.json lists no slice"
sd_stop
assert_eq 0 "$RC" "sliced's exit status"
assert_eq "[]" "$("$PY" -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["slices"]))' \
        "$store/inuse.json")" "inuse.json slices"

t_done
