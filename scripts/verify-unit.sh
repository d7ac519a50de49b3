#!/usr/bin/env bash
# Lint the installed sliced.service with `systemd-analyze verify` and fail on
# any output (it exits 0 on unknown keys and unparsable values).
#
#   scripts/verify-unit.sh ROOT        ROOT: a tree the packages were unpacked into
#                                      (dpkg-deb -x, rpm2cpio | cpio -id)
#   scripts/verify-unit.sh             the unit as installed on this system
#
# verify also checks that ExecStart='s binary exists and that every
# Documentation= man page is found, on the host. `--root=ROOT` does not help
# (it then wants the whole unit set, sysinit.target and /bin/kill, inside
# ROOT). So, as root, in a private mount namespace: overlay ROOT's /usr/sbin
# on the host's, point MANPATH at ROOT's man pages, and verify ROOT's unit
# file. Nothing outside the namespace changes. Unprivileged: exit 77 (skip).
set -euo pipefail

root=${1:-}
if [ -z "$root" ]; then
  unit=$(systemctl show -P FragmentPath sliced.service 2>/dev/null || true)
  [ -n "$unit" ] || unit=/lib/systemd/system/sliced.service
  out=$(systemd-analyze verify "$unit" 2>&1) || true
  [ -z "$out" ] || { printf '%s\n' "$out"; exit 1; }
  exit 0
fi

root=$(realpath "$root")
unit=
for d in lib/systemd/system usr/lib/systemd/system; do
  [ -f "$root/$d/sliced.service" ] && unit=$root/$d/sliced.service
done
[ -n "$unit" ] || { echo "verify-unit: no sliced.service under $root" >&2; exit 1; }
command -v systemd-analyze >/dev/null ||
  { echo "verify-unit: systemd-analyze missing (package systemd)" >&2; exit 1; }
if [ "$(id -u)" -ne 0 ]; then
  echo "verify-unit: needs root (a private mount namespace); skipped" >&2
  exit 77
fi

# shellcheck disable=SC2016
out=$(unshare --mount --propagation private sh -c '
  mount -t overlay overlay -o "lowerdir=$1/usr/sbin:/usr/sbin" /usr/sbin || exit 1
  MANPATH=$1/usr/share/man systemd-analyze verify "$2" 2>&1
  exit 0' sh "$root" "$unit" 2>&1) || { printf '%s\n' "$out"; exit 1; }
[ -z "$out" ] || { printf '%s\n' "$out"; exit 1; }
exit 0
