#!/usr/bin/env bash
# Build the RPM packages sliced, libslice and libslice-devel from this source
# tree with rpmbuild in a local _topdir.
#
#   scripts/build-rpm.sh [-o OUTDIR]
#
# Stages the tree (the files git knows, like scripts/build-deb.sh) as
# sliced-VERSION.tar.gz in OUTDIR/rpmbuild/SOURCES and runs
#   rpmbuild -bb --define "_topdir OUTDIR/rpmbuild" --define "sliced_version VERSION" \
#            packaging/rpm/sliced.spec
# VERSION is project(sliced VERSION ...) from CMakeLists.txt. The .rpm files
# end up in OUTDIR (default build-rpm/), the log in OUTDIR/build.log.
# On a system whose packages are not RPMs (Debian: apt-get install rpm) the
# build requirements cannot be checked by rpm, so --nodeps is added; the
# Debian packages of scripts/install-deps.sh provide them.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
out=$src/build-rpm
while [ $# -gt 0 ]; do
  case $1 in
    -o) out=$(realpath -m "$2"); shift 2 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-rpm: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
command -v rpmbuild >/dev/null ||
  { echo "build-rpm: rpmbuild missing: run scripts/install-deps.sh (package rpm)" >&2; exit 1; }

# shellcheck source=scripts/stage-source.sh
. "$src/scripts/stage-source.sh"
version=$(sliced_project_version "$src")
top=$out/rpmbuild
rm -rf "$top"
mkdir -p "$top"/{SOURCES,SPECS,BUILD,RPMS,SRPMS}
stage=$(mktemp -d "${TMPDIR:-/tmp}/sliced-rpm.XXXXXX")
trap 'rm -rf "$stage"' EXIT
sliced_stage_source "$src" "$stage/sliced-$version"
tar -C "$stage" -czf "$top/SOURCES/sliced-$version.tar.gz" "sliced-$version"
cp "$src/packaging/rpm/sliced.spec" "$top/SPECS/"

nodeps=()
if ! rpm -q rpm >/dev/null 2>&1; then nodeps=(--nodeps); fi

echo "build-rpm: building sliced $version (log: $out/build.log)"
start=$SECONDS
if ! rpmbuild -bb "${nodeps[@]}" --define "_topdir $top" --define "sliced_version $version" \
     "$top/SPECS/sliced.spec" >"$out/build.log" 2>&1; then
  tail -n 40 "$out/build.log" >&2
  echo "build-rpm: rpmbuild failed (full log: $out/build.log)" >&2
  exit 1
fi
rm -f "$out"/*.rpm
find "$top/RPMS" -name '*.rpm' -exec cp {} "$out"/ \;
echo "build-rpm: built in $((SECONDS - start)) s:"
(cd "$out" && ls -1 ./*.rpm | sed 's|^\./|  |')
