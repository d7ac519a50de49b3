#!/usr/bin/env bash
# sliced under the restrictions of its systemd unit: the capability bounding
# set and the seccomp settings of systemd/sliced.service are what every slice
# inherits, so the demo must still run under them. No systemd is needed:
# unit_hardening_emu.c (built here with cc) applies the settings read from
# the unit file, system-call groups expanded by `systemd-analyze
# syscall-filter`, then execs sliced with a notify socket and a watchdog, as
# the unit would. Checked: READY/WATCHDOG/RELOADING/STOPPING, every demo
# slice comes up (HTTP over a passed socket, group limits, strict-profile
# sessions), the API answers slicectl, SIGHUP reloads, SIGTERM stops cleanly.
#
# A [Service] key the emulator does not know fails the first check: a new
# setting that narrows slices (a filter, a namespace) must be emulated here or
# be shown to need no emulation. Root only; skipped in the sanitizer build.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/sliced_lib.sh"

UNIT=$SLICED_SOURCE_DIR/systemd/sliced.service
if [ -n "${SLICED_TEST_UNPRIV:-}" ] || ! is_root; then
        t_skip "needs root: the unit runs sliced as root"
        t_done
fi
if grep -qs '^SLICED_SANITIZE:BOOL=ON' "${SLICED_BUILD_DIR:-/nonexistent}/CMakeCache.txt"; then
        t_skip "sanitizer build: the sanitizer runtime's own personality/ptrace use is not the point here"
        t_done
fi
for tool in cc pkg-config systemd-analyze; do
        if ! command -v "$tool" >/dev/null; then
                t_skip "$tool missing"
                t_done
        fi
done

# ---- read the unit -------------------------------------------------------------
t_begin "every [Service] setting of the unit is emulated here or needs no emulation"
# Keys that put nothing on sliced's children, or nothing the emulator must
# reproduce (directories, timeouts, the notify protocol, which sd_start
# sets up itself).
known="Type NotifyAccess ExecStart ExecReload WatchdogSec Restart RestartSec KillMode
TimeoutStopSec OOMPolicy Delegate TasksMax RuntimeDirectory RuntimeDirectoryMode
StateDirectory StateDirectoryMode ConfigurationDirectory ConfigurationDirectoryMode UMask
KeyringMode CapabilityBoundingSet SystemCallFilter SystemCallErrorNumber
SystemCallArchitectures LockPersonality RestrictRealtime RestrictSUIDSGID"
keys=$(sed -n '/^\[Service\]/,/^\[/p' "$UNIT" | grep -oE '^[A-Za-z]+=' | tr -d = | sort -u)
for k in $keys; do
        grep -qw "$k" <<<"$known" ||
                t_fail "sliced.service sets $k, which test_unit_hardening.sh does not know"
done
val() { sed -n "/^\\[Service\\]/,/^\\[/s/^$1=//p" "$UNIT" | tail -n1; }
emu_args=()
caps=$(val CapabilityBoundingSet)
case $caps in
"~"*) emu_args+=(--drop-caps "$(tr ' ' , <<<"${caps#\~}")") ;;
"") ;;
*) t_fail "CapabilityBoundingSet is an allow-list; the emulator takes a deny-list (~...)" ;;
esac
filter=$(val SystemCallFilter)
# expand @groups (recursively) to call names
expand() {
        local w
        for w in "$@"; do
                case $w in
                @*) # shellcheck disable=SC2046 # one call name a word
                    expand $(systemd-analyze syscall-filter "$w" | sed -n '2,$p' |
                        grep -vE '^[[:space:]]*(#|$)' | tr -d ' ') ;;
                *) echo "$w" ;;
                esac
        done
}
case $filter in
"~"*)
        # shellcheck disable=SC2086
        calls=$(expand ${filter#\~} | sort -u | tr '\n' , | sed 's/,$//')
        [ -n "$calls" ] || t_fail "SystemCallFilter=$filter expands to no call"
        emu_args+=(--deny-syscalls "$calls")
        ;;
"") ;;
*) t_fail "SystemCallFilter is an allow-list; the emulator takes a deny-list (~...)" ;;
esac
errno=$(val SystemCallErrorNumber)
[ -z "$errno" ] || emu_args+=(--errno "$errno")
[ "$(val LockPersonality)" = yes ] && emu_args+=(--lock-personality)
[ "$(val RestrictRealtime)" = yes ] && emu_args+=(--restrict-realtime)
[ "$(val RestrictSUIDSGID)" = yes ] && emu_args+=(--restrict-suid-sgid)
arch=$(val SystemCallArchitectures)
[ -z "$arch" ] || [ "$arch" = native ] || t_fail "SystemCallArchitectures=$arch: the emulator knows native"
wd=$(val WatchdogSec)
[ -n "$wd" ] || t_fail "the unit sets no WatchdogSec"
printf '# emulating: %d capabilities dropped, %d calls denied, %s\n' \
        "$(tr , '\n' <<<"${caps#\~}" | wc -w)" "$(tr , '\n' <<<"${calls:-}" | grep -c .)" \
        "$(printf '%s ' "${emu_args[@]}" | grep -oE -- '--(lock|restrict)[a-z-]*|--errno [A-Z]+' | tr '\n' ' ')"

t_begin "the emulator builds"
EMU=$T_TMP/unit-hardening-emu
# shellcheck disable=SC2046
assert_exit 0 cc -O2 -o "$EMU" "$(dirname "$0")/unit_hardening_emu.c" \
        $(pkg-config --cflags --libs libseccomp libcap-ng)
[ -x "$EMU" ] || t_done

t_begin "the emulator applies the restrictions it is given"
# controls, so that a passing demo below means something
probe() { capture "$EMU" "${emu_args[@]}" -- "$@"; }
if grep -qE '(^|,)clock_adjtime(,|$)' <<<"${calls:-}"; then
        # a read-only adjtimex(3) (glibc: clock_adjtime(2)) needs no privilege:
        # only the filter refuses it
        probe "$PY" -c 'import ctypes, sys; b = ctypes.create_string_buffer(512)
sys.exit(0 if ctypes.CDLL(None, use_errno=True).adjtimex(b) < 0 else 1)'
        assert_eq 0 "$RC" "adjtimex(3) is refused under the emulated SystemCallFilter"
fi
if [[ " ${emu_args[*]} " == *" --restrict-suid-sgid "* ]]; then
        touch "$T_TMP/suid"
        probe chmod u+s "$T_TMP/suid"
        assert_ne 0 "$RC" "chmod u+s under RestrictSUIDSGID"
fi
if [[ " ${emu_args[*]} " == *" --lock-personality "* ]] && command -v setarch >/dev/null; then
        probe setarch -R /bin/true
        assert_ne 0 "$RC" "setarch -R (ADDR_NO_RANDOMIZE) under LockPersonality"
fi
if [[ " ${emu_args[*]} " == *" --restrict-realtime "* ]] && command -v chrt >/dev/null; then
        probe chrt -f 1 /bin/true
        assert_ne 0 "$RC" "chrt -f (SCHED_FIFO) under RestrictRealtime"
fi
probe /bin/true
assert_eq 0 "$RC" "a plain command runs under the emulator"

# ---- the demo, under the unit's restrictions ---------------------------------------
demo_dir=$SLICED_SOURCE_DIR/conf/demo
port=$(sd_port 3)
"$PY" - "$demo_dir/topology.yaml" "$T_TMP/demo.yaml" "$demo_dir" "$port" "$SLICED_BUILD_DIR/slices" <<'EOF'
import re, sys
src, dst, base, port, slices = sys.argv[1:6]
text = open(src).read()
text = re.sub(r'(tcp:[^:"\s]*:)[0-9]+', lambda m: m.group(1) + port, text)
text = re.sub(r'(src:\s*)\.\./\.\./build/slices', lambda m: m.group(1) + slices, text)
text = re.sub(r'(src:\s*)\./', lambda m: m.group(1) + base + "/", text)
open(dst, "w").write(text)
EOF

msgs=$T_TMP/notify.log
sock=$T_TMP/notify.sock
t_bg "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as log:
    while True:
        log.write(s.recv(65536).decode("utf-8", "replace").replace("\n", "|") + "\n")
        log.flush()
' "$sock" "$msgs"
LISTENER=$T_BG_PID
t_wait_for 10 test -S "$sock" || t_fail "the notify listener did not start"
count() { grep -cE "^($2)\$" "$1" 2>/dev/null; }
has_at_least() { [ "$(count "$1" "$2")" -ge "$3" ]; }

t_begin "sliced starts under the unit's restrictions and says READY=1"
sd_start "$T_TMP/demo.yaml" -u WATCHDOG_PID NOTIFY_SOCKET="$sock" WATCHDOG_USEC=400000 \
        "$EMU" "${emu_args[@]}" --
sd_wait_cmd 20 "READY=1" has_at_least "$msgs" 'READY=1(\|.*)?' 1
status=$(cat "/proc/$SD_PID/status" 2>/dev/null)
assert_match "$(grep '^Seccomp:' <<<"$status")" '2$' "sliced runs with a seccomp filter"
bnd=$(awk '/^CapBnd:/ {print $2}' <<<"$status")
# CAP_SYS_MODULE is bit 16; the unit drops it
if [ -n "$bnd" ] && grep -q CAP_SYS_MODULE <<<"$caps"; then
        assert_eq 0 $(((16#$bnd >> 16) & 1)) "CAP_SYS_MODULE is out of sliced's bounding set"
fi

t_begin "WATCHDOG=1 arrives at half the interval"
sd_wait_cmd 10 "two WATCHDOG=1" has_at_least "$msgs" 'WATCHDOG=1' 2

t_begin "the demo's slices come up under the restrictions"
fetch() {
        "$PY" -c '
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=2) as r:
    sys.stdout.write(r.read().decode())
' "http://127.0.0.1:$port/index.html" 2>/dev/null
}
if sd_wait_cmd 20 "an HTTP answer from /web on port $port" fetch >/dev/null; then
        assert_eq "$(cat "$demo_dir/www/index.html")" "$(fetch)" "GET /index.html from /web"
fi
sd_wait 20 /web state ready
sd_wait 20 /shop/api state ready
sd_wait 20 /shop/worker state ready
sd_wait 20 /kv state ready
sd_wait 20 /kv-writer reason "exited (code 0)" "/kv-writer's session to /kv worked"
sd_wait_cmd 20 "/kv-reader is refused a write" sd_log_has "/kv-reader: PUT"

t_begin "slicectl reaches sliced's API under the restrictions"
assert_exit 0 "$SLICECTL" --socket "$SD_RUN/api.sock" status
assert_contains "$OUT" "/shop/worker" "slicectl status lists the slices"

t_begin "SIGHUP reloads (RELOADING=1, READY=1) and the slices keep running"
pid_before=$(sd_get /web pid)
kill -HUP "$SD_PID"
sd_wait_cmd 20 "RELOADING=1" has_at_least "$msgs" 'RELOADING=1' 1
sd_wait_cmd 20 "READY=1 after the reload" has_at_least "$msgs" 'READY=1(\|.*)?' 2
assert_eq "$pid_before" "$(sd_get /web pid)" "/web's pid after an unchanged reload"

t_begin "SIGTERM stops every slice and sliced exits 0 after STOPPING=1"
sd_stop 30
assert_eq 0 "$RC" "sliced's exit status"
sd_wait_cmd 10 "STOPPING=1" has_at_least "$msgs" 'STOPPING=1' 1
kill "$LISTENER" 2>/dev/null

t_done
