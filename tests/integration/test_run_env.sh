#!/usr/bin/env bash
# slicectl run: what the command starts with. A clean environment (PATH,
# HOME=/tmp, LANG, TERM if set, and what --env adds; nothing of the
# caller's), its own hostname, and the working directory asked for.
. "$(dirname "$0")/../lib.sh"

default_path=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# ---- environment ----------------------------------------------------------------
secret=TEST_SECRET_$RANDOM$RANDOM
t_begin "the environment is clean: the caller's variables do not leak"
capture env -u TERM TEST_SECRET="$secret" SLICED_LEAK=1 LD_PRELOAD=/nonexistent.so \
        "$SLICECTL" run --env A=B -- /usr/bin/env
assert_eq 0 "$RC" "exit status"
assert_eq "A=B
HOME=/tmp
LANG=C.UTF-8
$default_path" "$(sort <<<"$OUT")" "environment"
assert_not_contains "$OUT" "$secret" "TEST_SECRET"

t_begin "TERM is passed through when set"
capture env TERM=xterm-256color "$SLICECTL" run -- /usr/bin/env
assert_contains "$OUT" "TERM=xterm-256color" "environment"

t_begin "--env overrides the defaults and the last --env of a name wins"
capture env -u TERM "$SLICECTL" run --env HOME=/data --env A=1 --env PATH=/usr/bin \
        --env A=2 --env 'B=x y=z' -- /usr/bin/env
assert_eq "A=2
B=x y=z
HOME=/data
PATH=/usr/bin" "$(sort <<<"$OUT" | grep -v ^LANG=)" "environment"

t_begin "the spawner's own variables cannot be set with --env"
slice --env SLICE_PARENT_FD=3 --env SLICE_SECCOMP=off --env LISTEN_FDS=2 -- /usr/bin/env
assert_eq 0 "$RC" "exit status"
assert_not_contains "$OUT" "SLICE_" "environment"
assert_not_contains "$OUT" "LISTEN_" "environment"

# ---- hostname -------------------------------------------------------------------
t_begin "the hostname is slice by default"
slice -- /bin/sh -c 'cat /proc/sys/kernel/hostname; uname -n'
assert_eq "slice
slice" "$OUT" "hostname"

t_begin "--hostname sets it, and the host's is untouched"
before=$(uname -n)
slice --hostname box-1.example -- /bin/sh -c 'hostname; uname -n'
assert_eq "box-1.example
box-1.example" "$OUT" "hostname"
assert_eq "$before" "$(uname -n)" "the host's hostname"

# ---- working directory --------------------------------------------------------------
mkdir -p "$T_TMP/work/sub"
echo here >"$T_TMP/work/sub/file"

t_begin "the working directory is / by default"
slice -- /bin/pwd
assert_eq "/" "$OUT" "cwd"

t_begin "--cwd sets the working directory, inside a grant too"
slice --cwd /tmp -- /bin/pwd
assert_eq "/tmp" "$OUT" "--cwd /tmp"
slice --ro "$T_TMP/work:/work" --cwd /work/sub -- /bin/sh -c 'pwd; cat file'
assert_eq "/work/sub
here" "$OUT" "--cwd /work/sub"

t_begin "--cwd of a directory that exists only on the host exits 125 naming it"
assert_exit 125 "$SLICECTL" run --cwd "$T_TMP/work" -- /bin/pwd
assert_contains "$ERR" "$T_TMP/work" "stderr names the directory"

t_done
