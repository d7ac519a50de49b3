#!/usr/bin/env bash
# Installs the Debian 12 packages sliced needs to build, test and run its demo.
# Idempotent: it asks apt only for what dpkg does not already report as installed.
# Usage: scripts/install-deps.sh            (as root, or via sudo when available)
set -euo pipefail

# Build toolchain and libraries (pkg-config names in ../docs/building.md).
PKGS=(
  build-essential cmake pkg-config clang clang-format
  libclang-rt-14-dev  # libFuzzer and the sanitizer runtimes for scripts/fuzz.sh
  libseccomp-dev libcap-ng-dev libsodium-dev libuv1-dev
  libprotobuf-c-dev protobuf-c-compiler libgrpc-dev
  libarchive-dev libcmocka-dev libmicrohttpd-dev libjansson-dev libyaml-dev
  libcurl4-openssl-dev libsystemd-dev
  # Test and benchmark tools: bubblewrap is the spawn baseline, iproute2 lists
  # interfaces inside slices, python3 serves HTTP in the socket-activation test,
  # util-linux provides setpriv/unshare for the unprivileged runs.
  bubblewrap iproute2 python3 util-linux curl procps
  # Packaging (scripts/build-deb.sh, scripts/build-rpm.sh, tests/integration/
  # test_package_deb.sh): debhelper/dpkg-dev/fakeroot build the .debs, lintian
  # checks them, rpm has rpmbuild, systemd has systemd-analyze (unit lint),
  # bash-completion has the helpers completion/slicectl.bash uses, man-db and
  # groff-base render and lint the man pages.
  debhelper dpkg-dev fakeroot lintian rpm systemd bash-completion man-db groff-base
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO=sudo; else
    echo "install-deps: missing packages (${missing[*]}) and not root; run as root" >&2
    exit 1
  fi
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -q
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}"
