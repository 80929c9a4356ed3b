"""Idle-connection client for Benchmarks/load/server.sh: opens N connections to 127.0.0.1:PORT,
makes one request on each (HTTP/1.1 keep-alive GET, or HTTP/2 prior knowledge: preface, SETTINGS,
one GET), prints `ready N` once all are answered and idle, then waits for stdin to close and
prints `still open M` (connections the server had not closed).
Usage: python3 idle_client.py h1|h2 PORT N PATH"""
import os
import resource
import selectors
import socket
import sys
import time

proto, port, count, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

if proto == "h1":
    request = f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode()
    done_marker = lambda buf: b"\r\n\r\n" in buf and buf.endswith(b"Hello, World!")
else:
    # Preface, empty SETTINGS, SETTINGS ACK is sent later; HEADERS with a literal (never indexed) block.
    def lit(name, value):
        return bytes([0x00, len(name)]) + name + bytes([len(value)]) + value
    block = lit(b":method", b"GET") + lit(b":scheme", b"http") + lit(b":path", path.encode()) + lit(b":authority", b"localhost")
    headers = len(block).to_bytes(3, "big") + bytes([1, 0x05]) + (1).to_bytes(4, "big") + block
    ack = bytes([0, 0, 0, 4, 1, 0, 0, 0, 0])
    request = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0]) + ack + headers

    def done_marker(buf):  # a DATA frame with END_STREAM on stream 1 (type 0, flag 1)
        i = 0
        while i + 9 <= len(buf):
            n = int.from_bytes(buf[i:i + 3], "big")
            if buf[i + 3] == 0 and buf[i + 4] & 1 and int.from_bytes(buf[i + 5:i + 9], "big") == 1:
                return True
            if buf[i + 3] == 1 and buf[i + 4] & 1 and int.from_bytes(buf[i + 5:i + 9], "big") == 1:
                return True
            i += 9 + n
        return False

sel = selectors.DefaultSelector()
socks, bufs, answered, closed = [], {}, set(), set()
deadline = time.monotonic() + 120
for i in range(count):
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex(("127.0.0.1", port))
    socks.append(s)
    bufs[s] = b""
    sel.register(s, selectors.EVENT_WRITE)
    # Pace connects so the listen backlog never overflows.
    if i % 200 == 199:
        t = time.monotonic() + 0.05
        while time.monotonic() < t:
            for key, ev in sel.select(0.01):
                s2 = key.fileobj
                if ev & selectors.EVENT_WRITE:
                    try:
                        s2.send(request)
                    except OSError:
                        pass
                    sel.modify(s2, selectors.EVENT_READ)
                else:
                    try:
                        d = s2.recv(65536)
                    except OSError:
                        d = b""
                    bufs[s2] += d
                    if done_marker(bufs[s2]):
                        answered.add(s2)
                        sel.unregister(s2)
                    elif not d:
                        closed.add(s2)
                        sel.unregister(s2)
while len(answered) + len(closed) < count and time.monotonic() < deadline:
    for key, ev in sel.select(0.5):
        s2 = key.fileobj
        if ev & selectors.EVENT_WRITE:
            try:
                s2.send(request)
            except OSError:
                pass
            sel.modify(s2, selectors.EVENT_READ)
        else:
            try:
                d = s2.recv(65536)
            except OSError:
                d = b""
            bufs[s2] += d
            if done_marker(bufs[s2]):
                answered.add(s2)
                sel.unregister(s2)
            elif not d:
                closed.add(s2)
                sel.unregister(s2)
print(f"ready {len(answered)}", flush=True)
sys.stdin.read()
still = 0
for s in socks:
    try:
        d = s.recv(65536)
        if d:
            still += 1  # more data (a PING or GOAWAY): still open
    except BlockingIOError:
        still += 1
    except OSError:
        pass
    s.close()
print(f"still open {still}", flush=True)
