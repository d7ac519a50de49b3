#!/usr/bin/env bash
# The RPM packages: scripts/build-rpm.sh builds sliced, libslice and
# libslice-devel with rpmbuild (Debian's rpm package, a local _topdir); the
# payload holds the files in RPM's places, the unit passes
# `systemd-analyze verify` with no output, and the unpacked sliced and
# slicectl run.
#
# Root only; exits 77 (skip) unprivileged, without rpmbuild, or in the
# sanitizer build (the packages do not use it). About 15-25 s on two cores.
. "$(dirname "$0")/../lib.sh"

SRC=$SLICED_SOURCE_DIR
if [ -n "${SLICED_TEST_UNPRIV:-}" ] || ! is_root; then
        t_skip "needs root: lints the unit in a mount namespace"
        t_done
fi
if grep -qs '^SLICED_SANITIZE:BOOL=ON' "${SLICED_BUILD_DIR:-/nonexistent}/CMakeCache.txt"; then
        t_skip "sanitizer build: the packages are tested in the plain run"
        t_done
fi
for tool in rpmbuild rpm2archive; do
        if ! command -v "$tool" >/dev/null; then
                t_skip "$tool missing (package rpm; scripts/install-deps.sh installs it)"
                t_done
        fi
done

t_begin "scripts/build-rpm.sh builds sliced, libslice and libslice-devel"
OUTDIR=$T_TMP/rpm
T_TIMEOUT=240 capture env TMPDIR="$T_TMP" "$SRC/scripts/build-rpm.sh" -o "$OUTDIR"
if [ "$RC" != 0 ]; then
        t_fail "build-rpm.sh exited $RC
$OUT
$ERR"
        t_done
fi
for p in sliced libslice libslice-devel; do
        ls "$OUTDIR"/$p-[0-9]*.x86_64.rpm >/dev/null 2>&1 || t_fail "no $p-*.rpm in $OUTDIR"
done

ROOT=$T_TMP/root
mkdir -p "$ROOT"
for r in "$OUTDIR"/*.rpm; do
        rpm2archive - <"$r" | tar -xzf - -C "$ROOT" || t_fail "unpacking $r failed"
done

t_begin "files land in RPM's places"
for f in usr/sbin/sliced usr/bin/slicectl usr/lib/systemd/system/sliced.service \
        etc/sliced/sliced.conf etc/sliced/slices.d/README usr/lib/tmpfiles.d/sliced.conf \
        usr/lib/sysusers.d/sliced.conf usr/lib/sliced/slices/kv usr/lib/sliced/slices/kv-client \
        usr/include/slice/slice.h usr/lib64/libslice.a usr/lib64/libslice.so \
        usr/lib64/pkgconfig/libslice.pc usr/share/bash-completion/completions/slicectl; do
        [ -e "$ROOT/$f" ] || t_fail "/$f is not in the packages"
done
ls "$ROOT"/usr/lib64/libslice.so.0* >/dev/null 2>&1 || t_fail "libslice.so.0 is not in libslice"
ls "$ROOT"/usr/share/man/man8/sliced.8* >/dev/null 2>&1 || t_fail "sliced.8 is not in the packages"
capture rpm -qp --configfiles "$OUTDIR"/sliced-[0-9]*.rpm
assert_contains "$OUT" "/etc/sliced/sliced.conf" "sliced.conf is a config file"
capture rpm -qp --scripts "$OUTDIR"/sliced-[0-9]*.rpm
assert_contains "$OUT" "groupadd -r sliced" "%pre creates the group sliced"

t_begin "systemd-analyze verify prints nothing for the RPM's sliced.service"
capture "$SRC/scripts/verify-unit.sh" "$ROOT"
assert_eq 0 "$RC" "verify-unit.sh exit status"
assert_eq "" "$OUT$ERR" "systemd-analyze verify output"

t_begin "the unpacked sliced and slicectl run"
assert_exit 0 "$ROOT/usr/sbin/sliced" --check --topology "$SRC/conf/demo/topology.yaml"
assert_exit 0 "$ROOT/usr/bin/slicectl" run -- /bin/true

t_done
