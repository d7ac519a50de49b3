#!/usr/bin/python3
"""Serve a directory over HTTP on the socket passed as fd 3 (LISTEN_FDS).

Python's http.server, unmodified: only the listening socket comes from the
supervisor instead of bind(), so the program needs no network access at all.
"""
import http.server
import os
import socket
import sys

if os.environ.get("LISTEN_FDS") != "1" or os.environ.get("LISTEN_PID") != str(os.getpid()):
    sys.exit("serve-fd3: expected exactly one socket-activation fd for this pid")

directory = sys.argv[1] if len(sys.argv) > 1 else "."
listener = socket.socket(fileno=3)


class Server(http.server.ThreadingHTTPServer):
    def server_bind(self):  # the socket is already bound and listening
        self.socket = listener
        self.server_address = listener.getsockname()

    def server_activate(self):
        pass


handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=directory)
with Server(listener.getsockname(), handler, bind_and_activate=True) as srv:
    print(f"serving {directory} on fd 3 ({srv.server_address[0]}:{srv.server_address[1]})", flush=True)
    srv.serve_forever()
