#!/usr/bin/env bash
# slicectl run: what a slice can see. Its own pid namespace (pid 1 is the
# reaper, the command pid 2), its own network with lo only, a read-only root
# holding the system paths and the grants and nothing else, no privilege.
. "$(dirname "$0")/../lib.sh"

# ---- processes --------------------------------------------------------------
t_begin "the command is pid 2, its parent is pid 1, and pid 1 has no parent inside"
# shell builtins only: no extra process muddies the picture
slice -- /bin/sh -c '
        echo "pid=$$"
        while read -r k v; do [ "$k" = PPid: ] && echo "ppid=$v"; done </proc/$$/status
        while read -r k v; do [ "$k" = PPid: ] && echo "pid1_ppid=$v"; done </proc/1/status
        true'
assert_eq 0 "$RC" "exit status"
assert_eq "pid=2
ppid=1
pid1_ppid=0" "$OUT" "pids"

t_begin "/proc lists only pid 1, the command and its children"
slice -- /bin/sh -c '
        sleep 30 >/dev/null &
        for d in /proc/[0-9]*; do printf "%s " "${d#/proc/}"; done
        echo "child=$!"'
assert_eq 0 "$RC" "exit status"
assert_eq "1 2 3 child=3" "$OUT" "pids in /proc"

t_begin "pid 1 reaps an orphaned grandchild"
# The inner shell exits at once; its background sleep is re-parented to
# pid 1, which must collect it when it exits (else it stays a zombie).
slice -- /bin/sh -c '
        orphan=$(/bin/sh -c "sleep 0.2 >/dev/null 2>&1 & echo \$!")
        i=0
        while [ -e /proc/$orphan ] && [ $i -lt 500 ]; do
                read -r stat </proc/$orphan/stat 2>/dev/null || break
                sleep 0.02; i=$((i + 1))
        done
        if [ -e /proc/$orphan ]; then echo "orphan $orphan left: $stat"; else echo reaped; fi'
assert_eq 0 "$RC" "exit status"
assert_eq "reaped" "$OUT" "orphan"

# ---- network ----------------------------------------------------------------
ifaces='while read -r name rest; do case $name in *:) printf "%s " "${name%:}";; esac; done </proc/net/dev'

t_begin "only lo exists in the slice's network (/proc/net/dev)"
slice -- /bin/sh -c "$ifaces"
assert_eq 0 "$RC" "exit status"
assert_eq "lo " "$OUT" "interfaces"

t_begin "ip link shows lo alone, up, with 127.0.0.1"
if [ -x /usr/sbin/ip ]; then
        slice -- /bin/sh -c '/usr/sbin/ip -o link show; /usr/sbin/ip -o -4 addr show'
        assert_eq 0 "$RC" "exit status"
        assert_eq 2 "$(wc -l <<<"$OUT")" "one link line, one address line"
        assert_match "$OUT" "^1: lo: <LOOPBACK,UP,LOWER_UP>" "lo is up"
        assert_contains "$OUT" "inet 127.0.0.1/8" "lo has 127.0.0.1"
else
        t_skip "iproute2 is not installed"
fi

t_begin "--net host shares the host's interfaces"
slice --net host -- /bin/sh -c "$ifaces"
host_ifaces=$(/bin/sh -c "$ifaces")
assert_eq 0 "$RC" "exit status"
assert_eq "$host_ifaces" "$OUT" "interfaces"

# A listener on the host's loopback: the slice's lo is another one.
cat >"$T_TMP/listener.py" <<'EOF'
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
__import__("os").rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(120)
EOF
t_bg /usr/bin/python3 "$T_TMP/listener.py" "$T_TMP/port"
t_begin "the host's loopback is out of reach; the slice's own lo works"
if t_wait_for 20 test -s "$T_TMP/port"; then
        port=$(cat "$T_TMP/port")
        slice -- /usr/bin/python3 -c '
import socket, sys
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
    print("host port reachable")
except OSError as e:
    print("host port:", type(e).__name__)
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
c = socket.create_connection(s.getsockname(), timeout=5)
print("own lo: connected")' "$port"
        assert_eq 0 "$RC" "exit status"
        assert_eq "host port: ConnectionRefusedError
own lo: connected" "$OUT" "connections"
else
        t_fail "the host listener did not start"
fi
kill "$T_BG_PID" 2>/dev/null

# ---- filesystem ---------------------------------------------------------------
mkdir -p "$T_TMP/data" "$T_TMP/ro"
chmod 0777 "$T_TMP/data" # root mode runs the command as an unrelated uid
echo "host content" >"$T_TMP/ro/file"
echo "config" >"$T_TMP/app.conf"
# Permissions allow everything: only the read-only mount may refuse.
chmod 0777 "$T_TMP/ro"
chmod 0666 "$T_TMP/ro/file" "$T_TMP/app.conf"
touch "$T_TMP/secret"

t_begin "a --rw grant is writable and the write is visible on the host"
slice --rw "$T_TMP/data:/data" -- /bin/sh -c 'echo written-inside >/data/out && mkdir /data/dir'
assert_eq 0 "$RC" "exit status"
assert_eq "written-inside" "$(cat "$T_TMP/data/out" 2>&1)" "host sees the file"
assert_true "host sees the directory" test -d "$T_TMP/data/dir"

t_begin "a --ro grant is readable, not writable, and the host copy is unchanged"
slice --ro "$T_TMP/ro:/ro" -- /bin/sh -c 'cat /ro/file; echo x >>/ro/file; echo x >/ro/new'
assert_ne 0 "$RC" "exit status"
assert_eq "host content" "$OUT" "content read inside"
assert_contains "$ERR" "/ro/file: Read-only file system" "append refused"
assert_contains "$ERR" "/ro/new: Read-only file system" "create refused"
assert_eq "host content" "$(cat "$T_TMP/ro/file")" "host file unchanged"
assert_true "nothing created on the host" test ! -e "$T_TMP/ro/new"

t_begin "a file grant appears at its destination, read-only"
slice --ro "$T_TMP/app.conf:/etc/app.conf" -- /bin/sh -c 'cat /etc/app.conf; echo x >/etc/app.conf'
assert_eq "config" "$OUT" "content"
assert_contains "$ERR" "Read-only file system" "write refused"

t_begin "/, /usr, /etc, /bin and /dev are read-only"
# Creating an entry checks the mount before permissions, so EROFS (not
# EACCES) shows the mount itself is read-only, whatever the uid.
slice -- /bin/sh -c '
        for d in / /usr /usr/lib /etc /bin /dev; do
                mkdir "${d%/}/sliced-probe" 2>&1 && echo "$d: writable"
        done; true'
assert_eq 6 "$(grep -c ': Read-only file system$' <<<"$OUT")" "six EROFS refusals"
assert_not_contains "$OUT" "writable" "no directory created"

t_begin "/tmp and /dev/shm are private and writable; HOME is /tmp"
slice -- /bin/sh -c 'ls -A /tmp; echo a >/tmp/f && echo b >/dev/shm/f && cat /tmp/f /dev/shm/f; echo "$HOME"'
assert_eq 0 "$RC" "exit status"
assert_eq "a
b
/tmp" "$OUT" "empty /tmp, writes work"

t_begin "paths not granted do not exist"
slice --rw "$T_TMP/data:/data" -- /bin/sh -c '
        for p in /home /root /var /run /srv /mnt /opt /boot /media /sys /etc/shadow \
                 /etc/hostname /etc/sudoers /etc/ssh "$1" "$1/secret" "$1/ro"; do
                [ -e "$p" ] && echo "$p exists"
        done; true' sh "$T_TMP"
assert_eq 0 "$RC" "exit status"
assert_eq "" "$OUT" "visible paths"

t_begin "the root holds only the system paths, /etc subset, and the grants"
slice --ro "$T_TMP/ro:/srv/ro" -- /bin/sh -c 'cd / && echo *'
assert_eq "bin dev etc lib lib64 proc sbin srv tmp usr" \
        "$(tr ' ' '\n' <<<"$OUT" | grep -vx -e lib32 -e libx32 | sort | tr '\n' ' ' | sed 's/ $//')" \
        "top-level entries"

# ---- identity -----------------------------------------------------------------
t_begin "the command runs with no capabilities, no_new_privs and a seccomp filter"
slice -- /bin/sh -c 'grep -E "^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):" /proc/self/status'
assert_eq 0 "$RC" "exit status"
assert_eq "CapInh:	0000000000000000
CapPrm:	0000000000000000
CapEff:	0000000000000000
CapBnd:	0000000000000000
CapAmb:	0000000000000000
NoNewPrivs:	1
Seccomp:	2" "$OUT" "status"

t_begin "the default profile runs ordinary shell code: pipes, command substitution"
slice -- /bin/sh -c 'x=$(echo sub); echo "$x" | tr a-z A-Z'
assert_eq 0 "$RC" "exit status"
assert_eq "SUB" "$OUT" "output"
assert_eq "" "$ERR" "stderr"

t_begin "the default uid is unprivileged"
slice -- /bin/sh -c 'echo "$(id -u) $(id -g) $(id -G)"'
assert_eq 0 "$RC" "exit status"
if is_root; then
        read -r u g groups <<<"$OUT"
        assert_match "$u" '^2[0-9]{5}$' "uid from the 200000-265535 range"
        assert_true "uid in 200000-265535 (got $u)" test "$u" -ge 200000 -a "$u" -le 265535
        assert_eq "$u" "$g" "gid equals uid"
        assert_eq "$g" "$groups" "no supplementary groups"
else
        assert_eq "$(id -u) $(id -g)" "$(cut -d' ' -f1-2 <<<"$OUT")" "the caller's ids"
fi

t_begin "--uid and --gid set the ids inside"
slice --uid 4321 --gid 4322 -- /bin/sh -c 'echo "$(id -u) $(id -g)"'
assert_eq 0 "$RC" "exit status"
assert_eq "4321 4322" "$OUT" "ids"

t_done
