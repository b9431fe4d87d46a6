#!/usr/bin/python3
"""tests/live/nats_get.py PORT STREAM SEQ - one message of a JetStream stream,
fetched over the plain NATS protocol ($JS.API.STREAM.MSG.GET): prints
{"subject", "msg_id", "data"} as JSON (data parsed as JSON)."""
import base64
import json
import socket
import sys

port, stream, seq = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
s = socket.create_connection(("127.0.0.1", port), timeout=5)
f = s.makefile("rb")
f.readline()  # INFO
req = json.dumps({"seq": seq}).encode()
s.sendall(b'CONNECT {"verbose":false,"headers":true}\r\nSUB _INBOX.cwtest 1\r\n'
          + b"PUB $JS.API.STREAM.MSG.GET.%s _INBOX.cwtest %d\r\n%s\r\n" % (stream.encode(), len(req), req))
while True:
    line = f.readline().decode().strip()
    if line.startswith("PING"):
        s.sendall(b"PONG\r\n")
    elif line.startswith("MSG"):
        n = int(line.split()[-1])
        body = json.loads(f.read(n + 2)[:n])
        break
m = body["message"]
hdrs = base64.b64decode(m.get("hdrs", "")).decode(errors="replace")
msg_id = next((h.split(":", 1)[1].strip() for h in hdrs.split("\r\n") if h.lower().startswith("nats-msg-id:")), None)
print(json.dumps({"subject": m["subject"], "msg_id": msg_id,
                  "data": json.loads(base64.b64decode(m["data"]))}))
