#!/usr/bin/env bash
# slicectl run: quotas hold. Memory and pids limits need a cgroup: as root
# they are enforced (an OOM kill is reported as such), unprivileged without a
# delegated cgroup they are refused up front with a clear message. The fd
# quota, CPU set and /tmp size need no cgroup and hold in both modes.
. "$(dirname "$0")/../lib.sh"

PY=/usr/bin/python3 # bound into the slice via /usr (python3 on PATH is pyenv's)

# The message an unprivileged caller gets for a cgroup limit. What it
# suggests depends on the host (cgroup v1 here: run as root; a v2 host may
# also offer systemd-run -p Delegate=yes); either way it names root.
cgroup_refused() {
        assert_exit 125 "$SLICECTL" run "$@" -- /bin/sh -c 'echo RAN'
        assert_contains "$ERR" "resource limits need a cgroup" "stderr says a cgroup is needed"
        assert_contains "$ERR" "root" "stderr says how to get one"
        assert_eq "" "$OUT" "the command did not run"
}

# by_mode ROOT UNPRIV: the check's name for this mode
by_mode() { if is_root; then echo "$1"; else echo "$2"; fi; }

# ---- memory -------------------------------------------------------------------
t_begin "$(by_mode "--memory 32M: allocating 256M is OOM-killed and reported (exit 137)" \
        "--memory is refused (125) without a delegated cgroup")"
if is_root; then
        # bytearray(n) zero-fills, so every page is touched
        slice --memory 32M -- "$PY" -c 'b = bytearray(256 << 20); print("allocated")'
        assert_eq 137 "$RC" "exit status"
        assert_eq "" "$OUT" "the allocation did not complete"
        assert_contains "$ERR" "killed by the OOM killer" "stderr reports the OOM kill"
        assert_contains "$ERR" "memory limit 33554432 bytes" "stderr names the limit"
else
        cgroup_refused --memory 32M
fi

t_begin "$(by_mode "--memory 64M: allocating 16M succeeds, no OOM reported" \
        "--memory 64M is refused (125) too")"
if is_root; then
        slice --memory 64M -- "$PY" -c 'b = bytearray(16 << 20); print("allocated")'
        assert_eq 0 "$RC" "exit status"
        assert_eq "allocated" "$OUT" "output"
        assert_not_contains "$ERR" "OOM" "stderr"
else
        cgroup_refused --memory 64M
fi

# ---- pids ---------------------------------------------------------------------
# A bounded fork loop: at most 64 children, each waits to be killed; it
# stops at the first failed fork and reports how many succeeded and why.
forker='
import errno, os, signal
kids, why = [], "none"
for _ in range(64):
    try:
        pid = os.fork()
    except OSError as e:
        why = errno.errorcode.get(e.errno, str(e.errno))
        break
    if pid == 0:
        signal.pause()
        os._exit(0)
    kids.append(pid)
for pid in kids:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
print("forks=%d failed=%s" % (len(kids), why))
'
t_begin "$(by_mode "--pids 16 stops a fork loop with EAGAIN" \
        "--pids is refused (125) without a delegated cgroup")"
if is_root; then
        slice --pids 16 -- "$PY" -c "$forker"
        assert_eq 0 "$RC" "exit status"
        assert_match "$OUT" '^forks=[0-9]+ failed=EAGAIN$' "fork failed with EAGAIN"
        n=$(sed -n 's/^forks=\([0-9]*\) .*/\1/p' <<<"$OUT")
        # pid 1 and the command count too: at most 14 more fit in 16
        assert_true "between 1 and 14 forks succeeded (got ${n:-none})" \
                test "${n:-0}" -ge 1 -a "${n:-99}" -le 14
else
        cgroup_refused --pids 16
fi

t_begin "without --pids the same loop forks 64 times"
slice -- "$PY" -c "$forker"
assert_eq 0 "$RC" "exit status"
assert_eq "forks=64 failed=none" "$OUT" "output"

t_begin "$(by_mode "--cpu-weight and --cpu-max are accepted" \
        "--cpu-weight is refused (125) without a delegated cgroup")"
if is_root; then
        assert_exit 0 "$SLICECTL" run --cpu-weight 50 --cpu-max 50% -- /bin/true
else
        cgroup_refused --cpu-weight 50
fi

# ---- file descriptors ---------------------------------------------------------
opener='
import errno
files, why = [], "none"
for _ in range(64):
    try:
        files.append(open("/dev/null"))
    except OSError as e:
        why = errno.errorcode.get(e.errno, str(e.errno))
        break
print("opened=%d failed=%s" % (len(files), why))
'
t_begin "--files 32: opening 64 files fails with EMFILE"
slice --files 32 -- "$PY" -c "$opener"
assert_eq 0 "$RC" "exit status"
assert_match "$OUT" '^opened=[0-9]+ failed=EMFILE$' "open failed with EMFILE"
n=$(sed -n 's/^opened=\([0-9]*\) .*/\1/p' <<<"$OUT")
assert_true "1 to 29 opened besides stdio (got ${n:-none})" test "${n:-0}" -ge 1 -a "${n:-99}" -le 29

t_begin "--files 32 sets both RLIMIT_NOFILE limits; the default is 1024"
slice --files 32 -- /bin/sh -c 'echo "$(ulimit -Sn) $(ulimit -Hn)"'
assert_eq "32 32" "$OUT" "with --files 32"
slice -- /bin/sh -c 'echo "$(ulimit -Sn) $(ulimit -Hn)"'
assert_eq "1024 1024" "$OUT" "default"

t_begin "without --files, 64 files open"
slice -- "$PY" -c "$opener"
assert_eq "opened=64 failed=none" "$OUT" "output"

# ---- CPUs ---------------------------------------------------------------------
t_begin "--cpus 0 pins the slice to CPU 0"
slice --cpus 0 -- /bin/sh -c 'grep ^Cpus_allowed_list: /proc/self/status; grep ^Cpus_allowed_list: /proc/1/status'
assert_eq 0 "$RC" "exit status"
assert_eq "Cpus_allowed_list:	0
Cpus_allowed_list:	0" "$OUT" "the command and pid 1"

t_begin "--cpus 0-1 allows CPUs 0 and 1"
if [ "$(nproc --all)" -ge 2 ]; then
        slice --cpus 0-1 -- grep ^Cpus_allowed_list: /proc/self/status
        assert_eq "Cpus_allowed_list:	0-1" "$OUT" "status"
else
        t_skip "one CPU"
fi

# ---- /tmp -----------------------------------------------------------------------
t_begin "--tmp-size 1M: /tmp holds 1 MiB and a 2 MiB write fails with ENOSPC"
tmp_bytes='echo $(( $(stat -f -c "%b * %S" /tmp) ))'
slice --tmp-size 1M -- /bin/sh -c "$tmp_bytes"'; head -c 2097152 /dev/zero >/tmp/big; echo "rc=$?"'
assert_eq "1048576
rc=1" "$OUT" "size and write status"
assert_contains "$ERR" "No space left on device" "the write fails with ENOSPC"

t_begin "/tmp is 64 MiB by default"
slice -- /bin/sh -c "$tmp_bytes"
assert_eq "67108864" "$OUT" "bytes"

t_done
