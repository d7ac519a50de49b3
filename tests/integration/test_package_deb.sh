#!/usr/bin/env bash
# The Debian packages: build them from this tree (scripts/build-deb.sh, -j2),
# lint them (lintian: no E: line; systemd-analyze verify: no output at all,
# since it exits 0 on unknown keys), unpack them into a scratch root
# (dpkg-deb -x) and run what was installed: `sliced --check` on the demo and
# the shipped topologies, `slicectl run -- /bin/true`, a program built against
# libslice-dev (static and shared, through libslice.pc), the man pages
# (no warnings) and the bash completion (parses).
#
# Root only (dpkg-buildpackage, the unit lint's mount namespace, slicectl as
# root); exits 77 (skip) unprivileged or without dpkg-buildpackage/debhelper.
# Takes about 30-60 s on two cores (the build is ~15-25 s of it).
. "$(dirname "$0")/../lib.sh"

SRC=$SLICED_SOURCE_DIR
if [ -n "${SLICED_TEST_UNPRIV:-}" ] || ! is_root; then
        t_skip "needs root: builds packages and lints the unit in a mount namespace"
        t_done
fi
# The packages are built without sanitizers, whatever this build used: the
# suite's plain run covers them, the sanitizer run need not build them again.
if grep -qs '^SLICED_SANITIZE:BOOL=ON' "${SLICED_BUILD_DIR:-/nonexistent}/CMakeCache.txt"; then
        t_skip "sanitizer build: the packages are tested in the plain run"
        t_done
fi
for tool in dpkg-buildpackage dh dpkg-deb; do
        if ! command -v "$tool" >/dev/null; then
                t_skip "$tool missing (scripts/install-deps.sh installs it)"
                t_done
        fi
done

# ---- Build-Depends cover what CMake requires ---------------------------------
t_begin "debian/control Build-Depends lists the package of every pkg-config module CMake requires"
bdeps=$(sed -n '/^Build-Depends:/,/^[A-Z][A-Za-z-]*:/p' "$SRC/packaging/debian/control" | sed '$d')
mods=$(grep -rhoE --include=CMakeLists.txt \
        'pkg_check_modules\([A-Z_]+ REQUIRED IMPORTED_TARGET( GLOBAL)? [^ )]+' "$SRC" |
        awk '{print $NF}' | sed 's/[<>=].*//' | sort -u)
for mod in $mods; do
        pc=$(pkg-config --variable=pcfiledir "$mod" 2>/dev/null)/$mod.pc
        pkg=$(dpkg -S "$pc" 2>/dev/null | head -n1 | cut -d: -f1)
        if [ -z "$pkg" ]; then
                t_fail "pkg-config module $mod: no installed Debian package ships $pc"
        elif ! grep -qE "(^|[ ,|])$pkg([ ,(|]|\$)" <<<"$bdeps"; then
                t_fail "pkg-config module $mod comes from $pkg, which Build-Depends does not list"
        fi
done
[ -n "$mods" ] || t_fail "found no pkg_check_modules in the CMake files"

# ---- build -------------------------------------------------------------------
t_begin "scripts/build-deb.sh builds sliced, libslice0 and libslice-dev"
OUTDIR=$T_TMP/deb
start=$SECONDS
T_TIMEOUT=240 capture env TMPDIR="$T_TMP" "$SRC/scripts/build-deb.sh" -o "$OUTDIR" -j2 --no-lint
build_s=$((SECONDS - start))
if [ "$RC" != 0 ]; then
        t_fail "build-deb.sh exited $RC
$OUT
$ERR
$(tail -n 30 "$OUTDIR/build.log" 2>/dev/null)"
        t_done
fi
printf '# built in %d s\n' "$build_s"
for p in sliced libslice0 libslice-dev; do
        ls "$OUTDIR"/${p}_*_amd64.deb >/dev/null 2>&1 || t_fail "no ${p}_*.deb in $OUTDIR"
done

# ---- lint ----------------------------------------------------------------------
t_begin "lintian reports no errors"
if command -v lintian >/dev/null; then
        T_TIMEOUT=180 capture lintian --fail-on none "$OUTDIR"/*.changes
        errs=$(grep '^E:' <<<"$OUT$ERR" || true)
        [ -z "$errs" ] || t_fail "lintian errors:
$errs"
        warns=$(grep -c '^W:' <<<"$OUT" || true)
        printf '# lintian: %s warnings\n' "$warns"
        grep '^W:' <<<"$OUT" | sed 's/^/#   /' || true
else
        t_skip "lintian missing (scripts/install-deps.sh installs it)"
fi

ROOT=$T_TMP/root
mkdir -p "$ROOT"
for d in "$OUTDIR"/*.deb; do
        case $d in *-dbgsym_*) continue ;; esac
        dpkg-deb -x "$d" "$ROOT" || t_fail "dpkg-deb -x $d failed"
done

t_begin "systemd-analyze verify prints nothing for the installed sliced.service"
capture "$SRC/scripts/verify-unit.sh" "$ROOT"
if [ "$RC" = 77 ]; then
        t_skip "verify-unit.sh skipped: $ERR"
else
        assert_eq 0 "$RC" "verify-unit.sh exit status"
        assert_eq "" "$OUT$ERR" "systemd-analyze verify output"
fi

# ---- what lands where ------------------------------------------------------------
t_begin "files land in their FHS places"
for f in usr/sbin/sliced usr/bin/slicectl lib/systemd/system/sliced.service \
        etc/sliced/sliced.conf usr/lib/tmpfiles.d/sliced.conf usr/lib/sysusers.d/sliced.conf \
        usr/lib/sliced/slices/kv usr/lib/sliced/slices/kv-client \
        usr/share/man/man8/sliced.8.gz usr/share/man/man1/slicectl.1.gz \
        usr/share/man/man5/sliced.conf.5.gz usr/share/man/man5/sliced-topology.5.gz \
        usr/share/bash-completion/completions/slicectl \
        usr/share/doc/sliced/examples/topology.example.yaml \
        usr/include/slice/slice.h usr/lib/x86_64-linux-gnu/libslice.a \
        usr/lib/x86_64-linux-gnu/libslice.so usr/lib/x86_64-linux-gnu/libslice.so.0 \
        usr/lib/x86_64-linux-gnu/pkgconfig/libslice.pc; do
        [ -e "$ROOT/$f" ] || t_fail "/$f is not in the packages"
done
[ -d "$ROOT/etc/sliced/slices.d" ] || t_fail "/etc/sliced/slices.d is not in the packages"
cmp -s "$ROOT/etc/sliced/sliced.conf" "$SRC/conf/sliced.conf" ||
        t_fail "/etc/sliced/sliced.conf differs from conf/sliced.conf"

t_begin "the tmpfiles.d and sysusers.d files apply cleanly (in a scratch root)"
if command -v systemd-tmpfiles >/dev/null && command -v systemd-sysusers >/dev/null; then
        sroot=$T_TMP/sysroot
        mkdir -p "$sroot/etc"
        touch "$sroot/etc/passwd" "$sroot/etc/group" "$sroot/etc/shadow" "$sroot/etc/gshadow"
        assert_exit 0 systemd-tmpfiles --root="$sroot" --create "$ROOT/usr/lib/tmpfiles.d/sliced.conf"
        assert_eq "" "$ERR" "systemd-tmpfiles complaints"
        assert_eq "755 700" "$(stat -c %a "$sroot/run/sliced" "$sroot/var/lib/sliced" 2>&1 | tr '\n' ' ' |
                sed 's/ $//')" "modes of /run/sliced and /var/lib/sliced"
        assert_exit 0 systemd-sysusers --root="$sroot" "$ROOT/usr/lib/sysusers.d/sliced.conf"
        assert_match "$(cat "$sroot/etc/group")" "^sliced:x:[0-9]+:" "sysusers creates the group sliced"
else
        t_skip "systemd-tmpfiles or systemd-sysusers missing"
fi

t_begin "sliced's maintainer scripts create the group, the directories and enable the unit"
ctl=$T_TMP/control
dpkg-deb -e "$OUTDIR"/sliced_*_amd64.deb "$ctl"
post=$(cat "$ctl/postinst" 2>/dev/null)
assert_contains "$post" "systemd-sysusers" "postinst runs systemd-sysusers (group sliced)"
assert_contains "$post" "systemd-tmpfiles" "postinst runs systemd-tmpfiles"
assert_contains "$post" "deb-systemd-helper enable 'sliced.service'" "postinst enables the unit"
assert_contains "$(cat "$ctl/conffiles" 2>/dev/null)" "/etc/sliced/sliced.conf" "sliced.conf is a conffile"

# ---- run what was installed ----------------------------------------------------------
SLICED_I=$ROOT/usr/sbin/sliced
SLICECTL_I=$ROOT/usr/bin/slicectl

t_begin "the installed sliced --check accepts the demo topology"
assert_exit 0 "$SLICED_I" --config "$ROOT/etc/sliced/sliced.conf" --check \
        --topology "$SRC/conf/demo/topology.yaml"
assert_contains "$OUT" "is valid" "--check says the demo topology is valid"

t_begin "the installed sliced --check accepts the shipped topology directory and example"
assert_exit 0 "$SLICED_I" --check --topology "$ROOT/etc/sliced/slices.d"
assert_contains "$OUT" "(0 slices)" "the shipped slices.d is valid and empty"
assert_exit 0 "$SLICED_I" --check --topology "$ROOT/usr/share/doc/sliced/examples/topology.example.yaml"

t_begin "the installed sliced --check rejects a broken topology"
printf 'slices:\n  - name: x\n    exce: [/bin/true]\n' >"$T_TMP/bad.yaml"
assert_exit 1 "$SLICED_I" --check --topology "$T_TMP/bad.yaml"
assert_contains "$ERR" "bad.yaml:3:5" "the error names file:line:column"

t_begin "the installed sliced runs the demo's kv slices: a session is routed and served"
# The demo topology with its kv part pointed at the installed slices; run
# for real (foreground, own state/runtime dirs), then stopped with SIGTERM.
sed -n '/^slices:/p' "$SRC/conf/demo/topology.yaml" >"$T_TMP/demo-installed.yaml"
cat >>"$T_TMP/demo-installed.yaml" <<EOF2
  - name: kv
    exec: [/slices/kv]
    profile: strict
    mounts: [{src: $ROOT/usr/lib/sliced/slices, dest: /slices}]
    provides: [kv]
    routes: {log: parent, report: parent}
    health: {heartbeat: 1s}
  - name: kv-writer
    exec: [/slices/kv-client, greeting, hello]
    profile: strict
    mounts: [{src: $ROOT/usr/lib/sliced/slices, dest: /slices}]
    routes: {kv: {slice: kv, label: rw}}
    restart: never
EOF2
printf 'cgroup_base: sliced-test-pkg-%s\n' "$$" >"$T_TMP/pkg.conf"
"$SLICED_I" --config "$T_TMP/pkg.conf" --topology "$T_TMP/demo-installed.yaml" \
        --state-dir "$T_TMP/pkg-state" --runtime-dir "$T_TMP/pkg-run" --log-target stderr \
        2>"$T_TMP/pkg-sliced.log" &
pkg_sliced=$!
got_it() { grep -qF "/kv-writer: GET greeting: OK hello" "$T_TMP/pkg-sliced.log"; }
if t_wait_for 30 got_it; then
        assert_contains "$(cat "$T_TMP/pkg-sliced.log")" "/kv-writer: session kv -> /kv as /kv-writer:rw" \
                "the session was routed with the writer's label"
else
        t_fail "the installed sliced did not serve the session:
$(tail -n 15 "$T_TMP/pkg-sliced.log")"
fi
kill -TERM "$pkg_sliced" 2>/dev/null || true
t_wait_pid "$pkg_sliced" 20 || kill -KILL "$pkg_sliced" 2>/dev/null || true
assert_contains "$(cat "$T_TMP/pkg-sliced.log")" "/kv: stopped" "sliced stopped the slices on SIGTERM"

t_begin "the installed slicectl run -- /bin/true exits 0"
assert_exit 0 "$SLICECTL_I" run -- /bin/true

t_begin "the installed slicectl runs a confined command"
assert_exit 3 "$SLICECTL_I" run -- /bin/sh -c 'exit 3'

t_begin "--version of the installed programs matches the package version"
ver=$(dpkg-deb -f "$OUTDIR"/sliced_*_amd64.deb Version)
assert_exit 0 "$SLICED_I" --version
assert_contains "$OUT" "${ver%%[-+~]*}" "sliced --version"
assert_exit 0 "$SLICECTL_I" --version
assert_contains "$OUT" "${ver%%[-+~]*}" "slicectl --version"

# ---- libslice-dev --------------------------------------------------------------------------
t_begin "a program builds against libslice-dev through libslice.pc, static and shared"
if ! command -v cc >/dev/null || ! command -v pkg-config >/dev/null; then
        t_skip "cc or pkg-config missing"
else
        cat >"$T_TMP/use.c" <<'EOF'
#include <slice/slice.h>
#include <stdio.h>
int main(void)
{
        struct sl_slice *sl;
        char msg[SL_MSG_MAX];
        /* outside sliced there is no parent channel: a negative errno */
        int r = sl_init(&sl, msg, sizeof msg);
        printf("sl_init %s\n", r < 0 ? "refused" : "succeeded");
        return r < 0 ? 0 : 1;
}
EOF
        export PKG_CONFIG_SYSROOT_DIR=$ROOT
        export PKG_CONFIG_PATH=$ROOT/usr/lib/x86_64-linux-gnu/pkgconfig
        static_libs=$(pkg-config --static --libs-only-l libslice | sed 's/-lslice//')
        # word splitting of the pkg-config flags is intended
        # shellcheck disable=SC2046,SC2086
        assert_exit 0 cc -o "$T_TMP/use-static" "$T_TMP/use.c" $(pkg-config --cflags libslice) \
                $(pkg-config --libs-only-L libslice) -Wl,-Bstatic -lslice -Wl,-Bdynamic $static_libs
        assert_exit 0 "$T_TMP/use-static"
        assert_contains "$OUT" "sl_init refused" "the static program ran"
        # shellcheck disable=SC2046
        assert_exit 0 cc -o "$T_TMP/use-shared" "$T_TMP/use.c" $(pkg-config --cflags --libs libslice)
        assert_exit 0 env LD_LIBRARY_PATH="$ROOT/usr/lib/x86_64-linux-gnu" "$T_TMP/use-shared"
        assert_contains "$OUT" "sl_init refused" "the shared program ran"
        unset PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_PATH
fi

# ---- man pages, completion ------------------------------------------------------------------
t_begin "the installed man pages render without warnings"
if command -v man >/dev/null; then
        for m in "$ROOT"/usr/share/man/man*/*.gz; do
                capture env MANWIDTH=80 man --warnings -l "$m"
                assert_eq 0 "$RC" "man -l $(basename "$m") exit status"
                assert_eq "" "$ERR" "warnings rendering $(basename "$m")"
                [ -n "$OUT" ] || t_fail "$(basename "$m") renders empty"
        done
else
        t_skip "man missing"
fi

t_begin "the man pages and the completion know every command and option --help lists"
# As slicectl gains commands and options, this says what to document.
man_text() { LC_ALL=C MANWIDTH=250 man -l "$1" 2>/dev/null; }
COMPL=$ROOT/usr/share/bash-completion/completions/slicectl
sliced_man=$(man_text "$ROOT/usr/share/man/man8/sliced.8.gz")
for opt in $("$SLICED_I" --help | grep -oE -- '--[a-z][a-z-]*' | sort -u); do
        grep -qF -- "$opt" <<<"$sliced_man" || t_fail "sliced.8 does not mention sliced $opt"
done
slicectl_man=$(man_text "$ROOT/usr/share/man/man1/slicectl.1.gz")
cmds=$("$SLICECTL_I" --help | awk '/^Commands:/ {on = 1; next} /^[A-Z]/ {on = 0}
        on && /^  [a-z]/ {print $1}' | sort -u)
[ -n "$cmds" ] || t_fail "found no commands in slicectl --help"
for cmd in $cmds; do
        grep -qE "^ {3}$cmd( |,|\$)" <<<"$slicectl_man" ||
                t_fail "slicectl.1 has no section for the command $cmd"
        grep -qE "_slicectl_commands=.*\b$cmd\b" "$COMPL" ||
                t_fail "the completion does not offer the command $cmd"
        for opt in $("$SLICECTL_I" "$cmd" --help | grep -oE -- '--[a-z][a-z-]*' | sort -u); do
                [ "$opt" = -- ] && continue
                grep -qF -- "$opt" <<<"$slicectl_man" ||
                        t_fail "slicectl.1 does not mention slicectl $cmd $opt"
                grep -qF -- "$opt" "$COMPL" || t_fail "the completion does not offer slicectl $cmd $opt"
        done
done

t_begin "the bash completion parses and completes the commands"
assert_exit 0 bash -n "$ROOT/usr/share/bash-completion/completions/slicectl"
# shellcheck disable=SC2016
capture bash -c '. "$1"; COMP_WORDS=(slicectl st); COMP_CWORD=1; _slicectl; echo "${COMPREPLY[*]}"' \
        sh "$ROOT/usr/share/bash-completion/completions/slicectl"
assert_eq "status stop start" "$OUT" "slicectl st<TAB>"

t_done
