#!/usr/bin/env bash
# Build the Debian packages sliced, libslice0 and libslice-dev from this source
# tree, then lint them (lintian; systemd-analyze verify on the unit).
#
#   scripts/build-deb.sh [-o OUTDIR] [-j N] [--no-lint]
#
# dpkg-buildpackage wants debian/ at the top of the source and writes its
# results next to it, so this stages a copy: the files git knows (tracked and
# untracked-but-not-ignored, so build directories stay out; every file when
# this is not a git checkout) go to a temporary sliced-VERSION/ directory,
# packaging/debian/ is copied to debian/ there, and
#   dpkg-buildpackage -us -uc -b
# runs in it. OUTDIR (default build-deb/) receives the .deb files, the
# .changes and .buildinfo, build.log, lintian.txt and systemd-analyze.txt.
#
# Exit status: 0 built (and lint clean: no lintian E: line, systemd-analyze
# printed nothing), 1 the build failed, 2 usage, 3 lint found errors.
# Environment: SLICED_DEB_VERSION overrides the package version (a new
# changelog entry in the staged copy), e.g. 0.1.0+git20251203.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
out=$src/build-deb
jobs=$(nproc)
lint=1
while [ $# -gt 0 ]; do
  case $1 in
    -o) out=$(realpath -m "$2"); shift 2 ;;
    -j) jobs=$2; shift 2 ;;
    -j*) jobs=${1#-j}; shift ;;
    --no-lint) lint=0; shift ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-deb: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

for tool in dpkg-buildpackage dh; do
  command -v "$tool" >/dev/null ||
    { echo "build-deb: $tool missing: run scripts/install-deps.sh" >&2; exit 1; }
done

# shellcheck source=scripts/stage-source.sh
. "$src/scripts/stage-source.sh"
version=$(sliced_project_version "$src")
stage=$(mktemp -d "${TMPDIR:-/tmp}/sliced-deb.XXXXXX")
trap 'rm -rf "$stage"' EXIT
tree=$stage/sliced-$version
sliced_stage_source "$src" "$tree"
cp -r "$tree/packaging/debian" "$tree/debian"

deb_version=$(dpkg-parsechangelog -l "$tree/debian/changelog" -S Version)
if [ -n "${SLICED_DEB_VERSION:-}" ]; then
  { printf 'sliced (%s) unstable; urgency=medium\n\n  * Build of %s.\n\n -- %s  %s\n\n' \
      "$SLICED_DEB_VERSION" "$(git -C "$src" describe --always --dirty 2>/dev/null || echo source)" \
      "$(dpkg-parsechangelog -l "$tree/debian/changelog" -S Maintainer)" "$(date -R)"
    cat "$tree/debian/changelog"; } > "$tree/debian/changelog.new"
  mv "$tree/debian/changelog.new" "$tree/debian/changelog"
  deb_version=$SLICED_DEB_VERSION
elif [ "${deb_version%%[-+~]*}" != "$version" ]; then
  echo "build-deb: warning: packaging/debian/changelog says $deb_version, CMakeLists.txt $version" >&2
fi

mkdir -p "$out"
rm -f "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo
echo "build-deb: building sliced $deb_version in $tree (-j$jobs; log: $out/build.log)"
start=$SECONDS
if ! (cd "$tree" && DEB_BUILD_OPTIONS="parallel=$jobs ${DEB_BUILD_OPTIONS:-}" \
      dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1; then
  tail -n 40 "$out/build.log" >&2
  echo "build-deb: dpkg-buildpackage failed (full log: $out/build.log)" >&2
  exit 1
fi
cp "$stage"/*.deb "$stage"/*.changes "$stage"/*.buildinfo "$out"/
echo "build-deb: built in $((SECONDS - start)) s:"
(cd "$out" && ls -1 ./*.deb | sed 's|^\./|  |')

[ "$lint" = 1 ] || exit 0
rc=0
changes=$(ls "$out"/*.changes)
if command -v lintian >/dev/null; then
  # --fail-on none: the exit code is ours (E: lines), warnings are reported.
  lintian --fail-on none --display-info "$changes" >"$out/lintian.txt" 2>&1 || true
  if grep -q '^E:' "$out/lintian.txt"; then
    echo "build-deb: lintian reports errors:" >&2
    grep '^E:' "$out/lintian.txt" >&2
    rc=3
  fi
  echo "build-deb: lintian: $(grep -c '^E:' "$out/lintian.txt" || true) errors," \
       "$(grep -c '^W:' "$out/lintian.txt" || true) warnings (in $out/lintian.txt)"
else
  echo "build-deb: lintian missing: not linted (scripts/install-deps.sh installs it)" >&2
fi

root=$stage/root
mkdir -p "$root"
for d in "$out"/*.deb; do dpkg-deb -x "$d" "$root"; done
if "$src/scripts/verify-unit.sh" "$root" >"$out/systemd-analyze.txt" 2>&1; then
  echo "build-deb: systemd-analyze verify: clean"
else
  echo "build-deb: systemd-analyze verify printed:" >&2
  cat "$out/systemd-analyze.txt" >&2
  rc=3
fi
exit $rc
