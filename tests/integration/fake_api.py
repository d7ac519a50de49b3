#!/usr/bin/python3
"""A stand-in for sliced's REST API (docs/api.md) with canned answers, so
slicectl's client side is tested without a daemon.

    /usr/bin/python3 fake_api.py SOCKET DIR

Listens on the unix socket SOCKET; writes DIR/ready once it accepts, and
appends one JSON line per request to DIR/requests ({"method", "target",
"content_type", "body"}). Streams (logs?follow=1, events) send their first
lines, then wait until the file DIR/more exists, send one more line, and
stay open until the client goes away (the logs of the slice /ends end
instead, as when sliced stops), writing "disconnected" to DIR/events then.

The canned world: /app (a group), /app/web (ready), /app/db (back-off),
/batch (failed, OOM-killed), /locked (every change is refused: 403), and
a topology whose body containing "invalid" fails validation.

Standard library only; run with Debian's /usr/bin/python3.
"""
import json
import os
import select
import socket
import socketserver
import sys
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, unquote, urlsplit

MiB = 1 << 20

SLICES = [
    {"path": "/app", "state": "ready", "reason": None, "restarts": 0, "pid": None,
     "uid": 0, "group": True, "resources": {}, "limits": {"memory": 256 * MiB},
     "sessions": {"used": 0, "served": 0, "announced": []}, "report": None,
     "oom_killed": False},
    {"path": "/app/web", "state": "ready", "reason": None, "restarts": 0, "pid": 4242,
     "uid": 200001, "group": False,
     "resources": {"memory_current": 12 * MiB + MiB // 2, "memory_peak": 20 * MiB,
                   "cpu_usec": 1234567, "pids": 3},
     "limits": {"memory": 64 * MiB, "pids": 32, "cores": "0-1"},
     "sessions": {"used": 1, "served": 2, "announced": ["http"]},
     "report": {"requests": 17}, "oom_killed": False},
    {"path": "/app/db", "state": "back-off", "reason": "exited (code 1)", "restarts": 3,
     "pid": None, "uid": 200002, "group": False, "resources": {}, "limits": {},
     "sessions": {"used": 0, "served": 0, "announced": ["kv"]}, "report": None,
     "exit_code": 1, "oom_killed": False, "next_try_ms": 1500},
    {"path": "/batch", "state": "failed", "reason": "oom-killed", "restarts": 5,
     "pid": None, "uid": 200003, "group": False,
     "resources": {"memory_current": 0, "memory_peak": 64 * MiB, "cpu_usec": 9000000,
                   "pids": 0},
     "limits": {"memory": 64 * MiB}, "sessions": {"used": 0, "served": 0, "announced": []},
     "report": None, "signal": 9, "oom_killed": True},
    {"path": "/locked", "state": "stopped", "reason": None, "restarts": 0, "pid": None,
     "uid": 200004, "group": False, "resources": {}, "limits": {},
     "sessions": {"used": 0, "served": 0, "announced": []}, "report": None,
     "oom_killed": False},
]
BY_PATH = {s["path"]: s for s in SLICES}
LOG_SLICES = set(BY_PATH) | {"/ends", "/escape"}  # /ends: a followed stream that ends

LOG_LINES = [
    {"ts": 1700000000000000 + i * 1000, "seq": i, "stream": "stdout" if i % 2 else "stderr",
     "text": "line %d" % i} for i in range(1, 151)
]
ESCAPE_LINE = {"ts": 1700000000500000, "seq": 999, "stream": "stdout",
               "text": "red \x1b[31mtext\x1b[0m\ttab"}

TOPOLOGY_TEXT = "slices:\n  - name: web\n    exec: [/bin/true]\n"

DIR = None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-sliced/0.1.0"

    def log_message(self, *args):  # the client address of a unix socket is ''
        pass

    # ---- answers ----------------------------------------------------------
    def send_json(self, status, obj):
        data = (json.dumps(obj) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def error(self, status, msg, **extra):
        self.send_json(status, dict({"error": msg}, **extra))

    def start_stream(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def chunk(self, obj):
        data = (json.dumps(obj) + "\n").encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def end_stream(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def hold_stream(self, more):
        """Wait for DIR/more, send MORE, then stay until the client leaves."""
        while not os.path.exists(os.path.join(DIR, "more")):
            if self.client_gone(0.02):
                return
        self.chunk(more)
        while not self.client_gone(0.2):
            pass
        self.record_event("disconnected")

    def client_gone(self, timeout):
        r, _, _ = select.select([self.connection], [], [], timeout)
        try:
            return bool(r) and not self.connection.recv(1, socket.MSG_DONTWAIT)
        except OSError:
            return True

    # ---- bookkeeping ------------------------------------------------------
    def record(self, body):
        entry = {"method": self.command, "target": self.path,
                 "content_type": self.headers.get("Content-Type"),
                 "body": body.decode(errors="replace")}
        with open(os.path.join(DIR, "requests"), "a") as f:
            f.write(json.dumps(entry) + "\n")

    def record_event(self, what):
        with open(os.path.join(DIR, "events"), "a") as f:
            f.write(what + "\n")

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    # ---- routes -----------------------------------------------------------
    def do_GET(self):
        self.record(b"")
        url = urlsplit(self.path)
        q = parse_qs(url.query)
        path = unquote(url.path)
        if path == "/v1/health":
            return self.send_json(200, {"status": "ok", "version": "0.1.0",
                                        "slices": len(SLICES), "generation": 7})
        if path == "/v1/slices":
            return self.send_json(200, {"slices": SLICES})
        if path == "/v1/topology":
            return self.send_json(200, {"source": "/etc/sliced/topology.yaml",
                                        "generation": 7, "text": TOPOLOGY_TEXT})
        if path == "/v1/events":
            return self.events()
        if path.startswith("/v1/slices/"):
            rest = path[len("/v1/slices"):]
            if rest.endswith("/logs") and rest[:-5] in LOG_SLICES:
                return self.logs(rest[:-5], q)
            if rest == "/crash":
                return self.crash()
            if rest == "/notjson":
                return self.raw(200, "application/json", b"<html>not json</html>")
            if rest == "/teapot":
                return self.raw(502, "text/html", b"Bad gateway\nfrom a proxy\n")
            if rest in BY_PATH:
                return self.send_json(200, BY_PATH[rest])
            return self.error(404, "no slice %s in the topology" % rest)
        return self.error(404, "no such API route: GET %s" % path)

    def do_POST(self):
        self.record(self.read_body())
        path = unquote(urlsplit(self.path).path)
        head, _, action = path.rpartition("/")
        if not head.startswith("/v1/slices/") or action not in ("restart", "stop", "start"):
            return self.error(404, "no such API route: POST %s" % path)
        slice_path = head[len("/v1/slices"):]
        s = BY_PATH.get(slice_path)
        if s is None:
            return self.error(404, "no slice %s in the topology" % slice_path)
        if slice_path == "/locked":
            return self.error(403, "changing slices needs root or group sliced")
        if s["group"] and action == "start":
            return self.error(409, "%s is a group: nothing runs in it to start; "
                                   "start its slices" % slice_path)
        state = {"restart": "stopping", "stop": "stopping", "start": "starting"}[action]
        self.send_json(202, {"path": slice_path, "action": action, "state": state})

    def do_PUT(self):
        body = self.read_body()
        self.record(body)
        url = urlsplit(self.path)
        if url.path != "/v1/topology":
            return self.error(405, "PUT is only for /v1/topology")
        dry = parse_qs(url.query).get("dry_run") == ["1"]
        text = body.decode(errors="replace")
        if "directory-source" in text:
            return self.error(409, "sliced reads its topology from the directory "
                                   "/etc/sliced/slices.d; apply needs a single file")
        if "invalid" in text:
            return self.error(400, "invalid topology", errors=[
                "api.yaml:3:7: /web: unknown key 'memroy' (did you mean 'memory'?)",
                "api.yaml:5:5: /db: exec: expected a list of strings",
            ])
        self.send_json(200, {"dry_run": dry, "plan": {
            "start": ["/new"], "stop": ["/old"], "restart": ["/app/web", "/app/db"],
            "unchanged": ["/app", "/batch", "/locked"]}})

    # ---- streams and oddities --------------------------------------------
    def logs(self, slice_path, q):
        tail = int(q.get("tail", ["100"])[0])
        follow = q.get("follow") == ["1"]
        self.start_stream()
        lines = [ESCAPE_LINE] if slice_path == "/escape" else LOG_LINES
        for line in lines[len(lines) - tail:] if tail else []:
            self.chunk(line)
        if slice_path == "/ends" or not follow:
            return self.end_stream()
        self.hold_stream({"ts": 1700000001000000, "seq": 151, "stream": "stdout",
                          "text": "a new line"})

    def events(self):
        self.start_stream()
        self.chunk({"ts": 1700000000000000, "path": "/app/db", "state": "back-off",
                    "reason": "exited (code 1)"})
        # no reason yet: null, as in the slice object
        self.chunk({"ts": 1700000000250000, "path": "/app/db", "state": "starting",
                    "reason": None})
        self.hold_stream({"ts": 1700000000500000, "path": "/app/db", "state": "ready",
                          "reason": None})

    def raw(self, status, ctype, data):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def crash(self):
        """Promise a body, send half, hang up: a daemon dying mid-answer."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "1000")
        self.end_headers()
        self.wfile.write(b'{"path": "/cr')
        self.wfile.flush()
        self.close_connection = True


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def main():
    global DIR
    sock, DIR = sys.argv[1], sys.argv[2]
    if os.path.exists(sock):
        os.unlink(sock)
    server = Server(sock, Handler)
    open(os.path.join(DIR, "ready"), "w").close()
    try:
        server.serve_forever()
    finally:
        os.unlink(sock)


if __name__ == "__main__":
    main()
