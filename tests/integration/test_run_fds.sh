#!/usr/bin/env bash
# slicectl run: file descriptors. --listen passes pre-bound sockets as fds
# 3, 4, ... with systemd's LISTEN_FDS/LISTEN_PID/LISTEN_FDNAMES, so a slice
# with no network of its own can serve; stdio is the caller's; nothing else
# the caller holds leaks in.
. "$(dirname "$0")/../lib.sh"

PY=/usr/bin/python3 # bound into the slice via /usr (python3 on PATH is pyenv's)

# One HTTP request served from the socket at fd 3 (whatever its family); the
# body reports the command's pid and the socket-activation variables.
cat >"$T_TMP/serve.py" <<'EOF'
import http.server, os, socket

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        env = os.environ.get
        body = ("pid=%d LISTEN_PID=%s LISTEN_FDS=%s LISTEN_FDNAMES=%s\n" % (
            os.getpid(), env("LISTEN_PID"), env("LISTEN_FDS"), env("LISTEN_FDNAMES"))).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

server = http.server.HTTPServer(("", 0), Handler, bind_and_activate=False)
server.socket.close()
server.socket = socket.socket(fileno=3)
server.handle_request()
EOF
serve=$(cat "$T_TMP/serve.py")

free_port() {
        "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# port_listening PORT: a TCP socket listens on 127.0.0.1:PORT (from
# /proc/net/tcp, without connecting: the server answers one connection only).
port_listening() {
        local want
        want=$(printf '0100007F:%04X' "$1")
        awk -v a="$want" '$2 == a && $4 == "0A" { found = 1 } END { exit !found }' /proc/net/tcp
}

# http_get URL [CURL-ARGS...]: one GET, body on stdout.
http_get() {
        local url=$1
        shift
        if command -v curl >/dev/null; then
                curl -sS --max-time 20 "$@" "$url"
        else
                "$PY" -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=20).read().decode())' "$url"
        fi
}

# ---- socket activation over TCP -------------------------------------------------
port=$(free_port)
t_bg "$SLICECTL" run --listen "tcp:127.0.0.1:$port" -- "$PY" -c "$serve"
server=$T_BG_PID

t_begin "a second --listen on the same port exits 125 naming the address"
t_wait_for 20 port_listening "$port" || t_fail "port $port never listened"
assert_exit 125 "$SLICECTL" run --listen "tcp:127.0.0.1:$port" -- /bin/sh -c 'echo RAN'
assert_contains "$ERR" "tcp:127.0.0.1:$port" "stderr names the address"
assert_contains "$ERR" "Address already in use" "stderr says why"
assert_eq "" "$OUT" "the command did not run"

t_begin "--listen tcp: python serves HTTP from fd 3 and curl gets the response"
body=$(http_get "http://127.0.0.1:$port/" 2>&1)
t_wait_pid "$server" 30
assert_eq "pid=2 LISTEN_PID=2 LISTEN_FDS=1 LISTEN_FDNAMES=listen" "$body" "response"
assert_eq 0 "$RC" "slicectl's exit status"

# ---- socket activation over a unix socket ---------------------------------------
t_bg "$SLICECTL" run --listen "api=unix:$T_TMP/api.sock" -- "$PY" -c "$serve"
server=$T_BG_PID
t_begin "--listen NAME=unix:PATH: served over the unix socket, named in LISTEN_FDNAMES"
if command -v curl >/dev/null; then
        t_wait_for 20 test -S "$T_TMP/api.sock"
        body=$(http_get "http://localhost/" --unix-socket "$T_TMP/api.sock" 2>&1)
        t_wait_pid "$server" 30
        assert_eq "pid=2 LISTEN_PID=2 LISTEN_FDS=1 LISTEN_FDNAMES=api" "$body" "response"
        assert_eq 0 "$RC" "slicectl's exit status"
else
        kill "$server"
        t_skip "curl is not installed"
fi

# ---- fd layout --------------------------------------------------------------------
# Which fds are open (opening nothing itself), what the activation fds are.
cat >"$T_TMP/fds.py" <<'EOF'
import os, socket, stat, sys

def is_open(fd):
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False

print("open:", " ".join(str(fd) for fd in range(4096) if is_open(fd)))
for fd in range(3, 3 + int(os.environ.get("LISTEN_FDS", "0"))):
    s = socket.socket(fileno=fd)
    listening = s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
    print(fd, s.family.name, s.type.name, "listening" if listening else "not listening",
          "cloexec" if not os.get_inheritable(fd) else "inheritable")
    s.detach()
for k in ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"):
    print("%s=%s" % (k, os.environ.get(k, "")))
EOF
fds=$(cat "$T_TMP/fds.py")

t_begin "two --listen: fds 3 and 4 are listening sockets, in order, with their names"
slice --listen "web=tcp:127.0.0.1:0" --listen "admin=unix:$T_TMP/admin.sock" -- "$PY" -c "$fds"
assert_eq 0 "$RC" "exit status"
assert_eq "open: 0 1 2 3 4
3 AF_INET SOCK_STREAM listening inheritable
4 AF_UNIX SOCK_STREAM listening inheritable
LISTEN_FDS=2
LISTEN_PID=2
LISTEN_FDNAMES=web:admin" "$OUT" "fds and variables"

t_begin "without --listen the command has fds 0-2 only and no LISTEN_ variables"
slice -- "$PY" -c "$fds"
assert_eq "open: 0 1 2
LISTEN_FDS=
LISTEN_PID=
LISTEN_FDNAMES=" "$OUT" "fds and variables"

t_begin "the caller's other open fds do not leak into the slice"
echo secret >"$T_TMP/held"
slice -- "$PY" -c "$fds" 7<"$T_TMP/held" 9>"$T_TMP/held2" 100<"$T_TMP/held"
assert_eq "open: 0 1 2" "$(head -n 1 <<<"$OUT")" "open fds"

t_begin "LISTEN_* cannot be forged with --env"
slice --env LISTEN_FDS=1 --env LISTEN_PID=2 --env LISTEN_FDNAMES=x -- "$PY" -c "$fds"
assert_eq "open: 0 1 2
LISTEN_FDS=
LISTEN_PID=
LISTEN_FDNAMES=" "$OUT" "fds and variables"

# ---- stdio --------------------------------------------------------------------------
t_begin "stdin, stdout and stderr are the caller's"
out=$(printf 'line one\nline two\n' | timeout 30 "$SLICECTL" run -- /bin/sh -c 'cat; echo to-stderr >&2' 2>"$T_TMP/stderr")
assert_eq "line one
line two" "$out" "stdout carries stdin through"
assert_eq "to-stderr" "$(cat "$T_TMP/stderr")" "stderr"

t_done
