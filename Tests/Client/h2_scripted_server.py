#!/usr/bin/env python3
"""A scripted HTTP/2 server (h2c, prior knowledge) for the client's HTTP/2 tests.

Frames are written by hand (hpack encodes the heads), so the script can break the protocol on
purpose. Paths:
  /ok                     200, body "conn=N stream=S"
  /bytes/N                200, N pattern bytes
  /goaway                 waits until 2 streams are open on the connection (at most 3 s), sends
                          GOAWAY with the lowest as last-stream-id, answers it, closes (once per
                          server; later connections answer it like /ok)
  /goaway-hold            GOAWAY with this stream as last-stream-id, then its head and 1 KiB;
                          the rest (1 KiB more) only once /release was asked (at most 10 s), then
                          the connection closes when the client ends it
  /release                200, body "conn=N stream=S"; lets /goaway-hold finish
  /refuse                 RST_STREAM(REFUSED_STREAM) the first time, then like /ok
  /slow                   a head and 1 KiB, then nothing (the client cancels)
  /sha256                 200, the hex SHA-256 of the request body
  /stats                  JSON: connections, resets seen [[stream, code], ...], refused, goaways
  /bad/NAME               a protocol violation (see BAD)
Prints "listening on 127.0.0.1:PORT"; with --exit-with-stdin exits when stdin closes.
"""
import argparse
import hashlib
import json
import socket
import socketserver
import struct
import sys
import threading
import time

import hpack

from loopback_server import LoopbackServer as Server

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4

LOCK = threading.Lock()
STATS = {"connections": 0, "resets": [], "refused": 0, "goaways": 0}
GOAWAY_DONE = [False]
RELEASE = threading.Event()


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def pattern(n):
    return bytes(i % 251 for i in range(n))


def bad_frames(name, stream, encoder):
    """Bytes that break RFC 9113 in the way `name` says (sent after the server's SETTINGS)."""
    def head_block(fields):
        return encoder.encode(fields)
    ok_head = head_block([(":status", "200")])
    if name == "data-before-headers":
        return frame(DATA, END_STREAM, stream, b"early")
    if name == "oversized-frame":
        return frame(HEADERS, END_HEADERS, stream, ok_head) + frame(DATA, 0, stream, b"x" * 20000)
    if name == "bad-hpack":
        return frame(HEADERS, END_HEADERS | END_STREAM, stream, b"\xff\xff\xff\xff\x0f")
    if name == "missing-status":
        return frame(HEADERS, END_HEADERS | END_STREAM, stream, head_block([("content-type", "text/plain")]))
    if name == "uppercase-field":
        return frame(HEADERS, END_HEADERS | END_STREAM, stream, head_block([(":status", "200"), ("X-Upper", "1")]))
    if name == "connection-field":
        return frame(HEADERS, END_HEADERS | END_STREAM, stream, head_block([(":status", "200"), ("connection", "close")]))
    if name == "window-overflow":
        return frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 0x7FFFFFFF))
    if name == "content-length-mismatch":
        return frame(HEADERS, END_HEADERS, stream, head_block([(":status", "200"), ("content-length", "10")])) \
            + frame(DATA, END_STREAM, stream, b"12345")
    if name == "settings-ack-payload":
        return frame(SETTINGS, ACK, 0, b"\x00\x03\x00\x00\x00\x01")
    if name == "headers-on-stream-0":
        return frame(HEADERS, END_HEADERS | END_STREAM, 0, ok_head)
    if name == "push-promise-disabled":
        return frame(PUSH_PROMISE, END_HEADERS, stream, struct.pack(">I", 2) + head_block(
            [(":method", "GET"), (":scheme", "http"), (":authority", "x"), (":path", "/p")]))
    if name == "data-beyond-window":
        # 16 KiB frames past the client's window without waiting for credit.
        out = frame(HEADERS, END_HEADERS, stream, ok_head)
        return out + b"".join(frame(DATA, 0, stream, b"w" * 16384) for _ in range(80))
    if name == "continuation-without-headers":
        return frame(CONTINUATION, END_HEADERS, stream, ok_head)
    if name == "pseudo-after-regular":
        return frame(HEADERS, END_HEADERS | END_STREAM, stream, head_block([("server", "x"), (":status", "200")]))
    raise KeyError(name)


BAD = ["bad-hpack", "connection-field", "content-length-mismatch", "continuation-without-headers",
       "data-before-headers", "data-beyond-window", "headers-on-stream-0", "missing-status", "oversized-frame",
       "pseudo-after-regular", "push-promise-disabled", "settings-ack-payload", "uppercase-field", "window-overflow"]


class Handler(socketserver.BaseRequestHandler):
    def setup(self):
        with LOCK:
            STATS["connections"] += 1
            self.number = STATS["connections"]
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.decoder = hpack.Decoder()
        self.encoder = hpack.Encoder()
        self.write_lock = threading.Lock()
        self.open_streams = {}
        self.digests = {}
        self.pending = b""

    def send(self, data):
        with self.write_lock:
            self.request.sendall(data)

    def read_frame(self):
        while len(self.pending) < 9:
            chunk = self.request.recv(65536)
            if not chunk:
                return None
            self.pending += chunk
        length = int.from_bytes(self.pending[:3], "big")
        while len(self.pending) < 9 + length:
            chunk = self.request.recv(65536)
            if not chunk:
                return None
            self.pending += chunk
        kind, flags = self.pending[3], self.pending[4]
        stream = int.from_bytes(self.pending[5:9], "big") & 0x7FFFFFFF
        payload = self.pending[9:9 + length]
        self.pending = self.pending[9 + length:]
        return kind, flags, stream, payload

    def respond(self, stream, status, body, extra=()):
        fields = [(":status", str(status)), ("content-length", str(len(body)))] + list(extra)
        out = frame(HEADERS, END_HEADERS | (0 if body else END_STREAM), stream, self.encoder.encode(fields))
        for start in range(0, len(body), 16384):
            last = start + 16384 >= len(body)
            out += frame(DATA, END_STREAM if last else 0, stream, body[start:start + 16384])
        self.send(out)

    def handle(self):
        while len(self.pending) < len(PREFACE):
            chunk = self.request.recv(65536)
            if not chunk:
                return
            self.pending += chunk
        if not self.pending.startswith(PREFACE):
            return
        self.pending = self.pending[len(PREFACE):]
        # Large windows, so responses never wait for the client's credit.
        self.send(frame(SETTINGS, 0, 0, struct.pack(">HI", 4, 0x7FFFFFFF) + struct.pack(">HI", 3, 100))
                  + frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 0x7FFFFFFF - 65535)))
        while True:
            item = self.read_frame()
            if item is None:
                return
            kind, flags, stream, payload = item
            if kind == SETTINGS and not flags & ACK:
                self.send(frame(SETTINGS, ACK, 0))
            elif kind == PING and not flags & ACK:
                self.send(frame(PING, ACK, 0, payload))
            elif kind == RST_STREAM:
                with LOCK:
                    STATS["resets"].append([stream, int.from_bytes(payload, "big")])
                self.open_streams.pop(stream, None)
            elif kind == HEADERS:
                if flags & 0x8:  # PADDED
                    payload = payload[1:len(payload) - payload[0]]
                if flags & 0x20:  # PRIORITY
                    payload = payload[5:]
                fields = dict(self.decoder.decode(payload))
                self.open_streams[stream] = fields
                if flags & END_STREAM:
                    if self.route(stream, fields) == "close":
                        return
            elif kind == DATA:
                if flags & 0x8:
                    payload = payload[1:len(payload) - payload[0]]
                self.digests.setdefault(stream, hashlib.sha256()).update(payload)
                if flags & END_STREAM and stream in self.open_streams:
                    if self.route(stream, self.open_streams[stream]) == "close":
                        return

    def route(self, stream, fields):
        path = fields.get(":path", "")
        if path == "/ok":
            self.respond(stream, 200, f"conn={self.number} stream={stream}".encode())
        elif path.startswith("/bytes/"):
            self.respond(stream, 200, pattern(int(path[7:])))
        elif path == "/sha256":
            digest = self.digests.pop(stream, hashlib.sha256()).hexdigest()
            self.respond(stream, 200, digest.encode())
        elif path == "/stats":
            with LOCK:
                body = json.dumps(STATS).encode()
            self.respond(stream, 200, body, [("content-type", "application/json")])
        elif path == "/refuse":
            with LOCK:
                STATS["refused"] += 1
                first = STATS["refused"] == 1
            if first:
                self.send(frame(RST_STREAM, 0, stream, struct.pack(">I", 7)))
            else:
                self.respond(stream, 200, f"conn={self.number} stream={stream}".encode())
        elif path == "/goaway":
            with LOCK:
                scripted = not GOAWAY_DONE[0]
                GOAWAY_DONE[0] = True
            if not scripted:
                self.respond(stream, 200, f"conn={self.number} stream={stream}".encode())
                return None
            return self.goaway_after_second(stream)
        elif path == "/goaway-hold":
            with LOCK:
                STATS["goaways"] += 1
            self.send(frame(GOAWAY, 0, 0, struct.pack(">II", stream, 0)))
            time.sleep(0.1)  # the client learns of GOAWAY before it sees the head
            head = self.encoder.encode([(":status", "200"), ("content-length", "2048")])
            self.send(frame(HEADERS, END_HEADERS, stream, head) + frame(DATA, 0, stream, b"h" * 1024))

            def finish():
                RELEASE.wait(10)
                try:
                    self.send(frame(DATA, END_STREAM, stream, b"h" * 1024))
                except OSError:
                    pass  # the client gave up on the connection
            threading.Thread(target=finish, daemon=True).start()
        elif path == "/release":
            RELEASE.set()
            self.respond(stream, 200, f"conn={self.number} stream={stream}".encode())
        elif path == "/slow":
            out = frame(HEADERS, END_HEADERS, stream, self.encoder.encode([(":status", "200")]))
            self.send(out + frame(DATA, 0, stream, b"s" * 1024))
        elif path.startswith("/bad/"):
            self.send(bad_frames(path[5:], stream, self.encoder))
        else:
            self.respond(stream, 404, b"")
        return None

    def goaway_after_second(self, first):
        """Reads until a second stream's request is complete, then GOAWAY(last = first)."""
        deadline = time.monotonic() + 3
        self.request.settimeout(0.2)
        while time.monotonic() < deadline:
            try:
                item = self.read_frame()
            except socket.timeout:
                continue
            if item is None:
                break
            kind, flags, stream, payload = item
            if kind == HEADERS and stream != first:
                self.decoder.decode(payload)
                break
            if kind == SETTINGS and not flags & ACK:
                self.send(frame(SETTINGS, ACK, 0))
        self.request.settimeout(None)
        with LOCK:
            STATS["goaways"] += 1
        self.send(frame(GOAWAY, 0, 0, struct.pack(">II", first, 0)))
        self.respond(first, 200, f"conn={self.number} stream={first}".encode())
        time.sleep(0.2)
        return "close"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--names", action="store_true")
    parser.add_argument("--exit-with-stdin", action="store_true")
    options = parser.parse_args()
    if options.names:
        print("\n".join(BAD))
        return
    server = Server(("127.0.0.1", options.port), Handler)
    print(f"listening on 127.0.0.1:{server.server_address[1]}", flush=True)
    if options.exit_with_stdin:
        def watch():
            sys.stdin.buffer.read()
            server.shutdown()
        threading.Thread(target=watch, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
