#!/usr/bin/python3
"""tests/live/sink_peers.py DIR HTTP_PORT UDP_PORT TCP_PORT FAIL_FIRST - the
peers of the remote sinks, on 127.0.0.1: an HTTP receiver that answers 503 to
its first FAIL_FIRST requests and to every request while DIR/http.down exists
(else 200; each accepted body appended to DIR/<path>.jsonl, Idempotency-Key
to DIR/<path>.keys, Authorization to DIR/<path>.auth), a syslog UDP and a syslog TCP receiver (RFC 6587 octet
counting) appending each message to DIR/udp.log / DIR/tcp.log. Runs until
killed."""
import http.server
import os
import socket
import socketserver
import sys
import threading

d, hport, uport, tport, fail_first = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
lock = threading.Lock()
seen = {"n": 0, "refused": 0}


class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with lock:
            seen["n"] += 1
            down = seen["n"] <= fail_first or os.path.exists(os.path.join(d, "http.down"))
            if down:
                seen["refused"] += 1
                with open(os.path.join(d, "http.refused"), "w") as f:
                    f.write(str(seen["refused"]))
            else:
                name = self.path.strip("/").replace("/", "_") or "root"
                with open(os.path.join(d, name + ".jsonl"), "ab") as f:
                    f.write(body.replace(b"\n", b" ") + b"\n")
                with open(os.path.join(d, name + ".keys"), "a") as f:
                    f.write(self.headers.get("Idempotency-Key", "") + "\n")
                with open(os.path.join(d, name + ".auth"), "a") as f:
                    f.write(self.headers.get("Authorization", "") + "\n")
        self.send_response(503 if down else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


class TCPSyslog(socketserver.BaseRequestHandler):
    def handle(self):
        buf = b""
        while True:
            chunk = self.request.recv(65536)
            if not chunk:
                return
            buf += chunk
            while b" " in buf:
                n, rest = buf.split(b" ", 1)
                if len(rest) < int(n):
                    break
                with lock, open(os.path.join(d, "tcp.log"), "ab") as f:
                    f.write(rest[: int(n)] + b"\n")
                buf = rest[int(n):]


def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", uport))
    while True:
        m = s.recv(65535)
        with lock, open(os.path.join(d, "udp.log"), "ab") as f:
            f.write(m + b"\n")


socketserver.ThreadingTCPServer.allow_reuse_address = True
http.server.ThreadingHTTPServer.allow_reuse_address = True
threading.Thread(target=udp, daemon=True).start()
tcp = socketserver.ThreadingTCPServer(("127.0.0.1", tport), TCPSyslog)
threading.Thread(target=tcp.serve_forever, daemon=True).start()
open(os.path.join(d, "peers.ready"), "w").close()
http.server.ThreadingHTTPServer(("127.0.0.1", hport), Hook).serve_forever()
