#!/usr/bin/env python3
"""Crafted-response HTTP/1.1 server for EpsilonHTTPClient's tests (stdlib only).

    python3 Tests/Client/crafted_server.py --port 0      # prints "listening on 127.0.0.1:PORT"

Keep-alive server with paths for streaming, hashing, timing and hostile responses:
  GET  /bytes/N[?chunked=1]      N deterministic bytes (byte i = i % 251)
  POST|PUT /sha256               {"count": n, "sha256": hex} of the request body (CL or chunked)
  GET  /echo                     the request head back as the body
  GET  /slow-head/MS             waits MS ms before answering
  GET  /stall-body/N             sends a head for N bytes, 10 of them, then nothing
  GET  /slow-body/N/MS           N bytes, 1 KiB every MS ms
  GET  /gzip/N, /deflate/N       N deterministic bytes, gzip/deflate encoded
  GET  /bad/NAME                 a hostile response from BAD (then close)
  GET  /connections              how many TCP connections were accepted so far
  GET  /reset-first/KEY          closes without answering the first time per KEY, then 200
  GET  http://AUTHORITY/proxied  (absolute form, as a proxy gets it) the authority and proxy fields as JSON
"""
import argparse
import gzip
import hashlib
import json
import os
import socket
import socketserver
import sys
import threading
import time
import zlib

from loopback_server import LoopbackServer as Server

CONNECTIONS = 0
LOCK = threading.Lock()
SEEN_KEYS = set()


def pattern(n):
    block = bytes(i % 251 for i in range(251 * 64))
    out = bytearray()
    while len(out) < n:
        out += block
    return bytes(out[:n])


PATTERN_BLOCK = bytes(i % 251 for i in range(251 * 4200))


def pattern_from(offset, n):
    """The pattern's bytes offset..<offset+n."""
    return bytes((offset + i) % 251 for i in range(n))


def bomb(size):
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = bytearray()
    zeros = bytes(1 << 20)
    for _ in range(size >> 20):
        out += c.compress(zeros)
    out += c.flush()
    return bytes(out)


OK = b"HTTP/1.1 200 OK\r\n"
BAD = {
    # framing and smuggling
    "cl-and-te": OK + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    "two-cl": OK + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
    "cl-list": OK + b"Content-Length: 5, 6\r\n\r\nhello!",
    "cl-negative": OK + b"Content-Length: -1\r\n\r\n",
    "cl-plus": OK + b"Content-Length: +5\r\n\r\nhello",
    "cl-hex": OK + b"Content-Length: 0x5\r\n\r\nhello",
    "cl-huge": OK + b"Content-Length: 99999999999999999999999\r\n\r\n",
    "te-not-chunked-last": OK + b"Transfer-Encoding: chunked, gzip\r\n\r\n",
    "te-unknown": OK + b"Transfer-Encoding: foo\r\n\r\nhello",
    "chunk-size-bad": OK + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    "chunk-size-overflow": OK + b"Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nhello\r\n0\r\n\r\n",
    "chunk-missing-crlf": OK + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
    "chunk-negative": OK + b"Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n",
    "chunk-truncated": OK + b"Transfer-Encoding: chunked\r\n\r\n10\r\nhello",
    "body-truncated": OK + b"Content-Length: 100\r\n\r\nhello",
    # heads
    "status-bad": b"HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n",
    "status-short": b"HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n",
    "version-bad": b"HTTP/9.9 200 OK\r\nContent-Length: 0\r\n\r\n",
    "not-http": b"SSH-2.0-OpenSSH_9.2\r\n\r\n",
    "space-before-colon": OK + b"Content-Length : 0\r\n\r\n",
    "bare-lf": b"HTTP/1.1 200 OK\nContent-Length: 0\n\n",
    "bare-cr": OK + b"X-A: 1\rContent-Length: 0\r\n\r\n",
    "obs-fold": OK + b"X-A: 1\r\n  folded\r\nContent-Length: 0\r\n\r\n",
    "nul-in-value": OK + b"X-A: a\x00b\r\nContent-Length: 0\r\n\r\n",
    "ctl-in-name": OK + b"X\x01A: 1\r\nContent-Length: 0\r\n\r\n",
    "huge-head": OK + b"X-A: " + b"a" * (200 * 1024) + b"\r\nContent-Length: 0\r\n\r\n",
    "many-fields": OK + b"".join(b"X-%d: 1\r\n" % i for i in range(500)) + b"Content-Length: 0\r\n\r\n",
    "empty-close": b"",
    "garbage-close": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    "unexpected-101": b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    # redirects with header injection
    "location-crlf": b"HTTP/1.1 302 Found\r\nLocation: /x\r\nSet-Cookie: a=b\r\r\nContent-Length: 0\r\n\r\n",
    # content coding
    "gzip-corrupt": OK + b"Content-Encoding: gzip\r\nContent-Length: 10\r\n\r\n\x1f\x8b\x08\x00garbag",
    "gzip-truncated": None,   # filled below
    "gzip-bomb": None,        # filled below
    "deflate-trailing": None, # filled below
}
_gz = gzip.compress(pattern(10000))
BAD["gzip-truncated"] = OK + b"Content-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % (len(_gz) // 2) + _gz[: len(_gz) // 2]
_bomb = bomb(64 << 20)
BAD["gzip-bomb"] = OK + b"Content-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(_bomb) + _bomb
_df = zlib.compress(b"hello") + b"TRAILING"
BAD["deflate-trailing"] = OK + b"Content-Encoding: deflate\r\nContent-Length: %d\r\n\r\n" % len(_df) + _df


class Handler(socketserver.BaseRequestHandler):
    def setup(self):
        global CONNECTIONS
        with LOCK:
            CONNECTIONS += 1
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def read_until(self, marker, limit=1 << 20):
        while marker not in self.buffer:
            data = self.request.recv(65536)
            if not data:
                return None
            self.buffer += data
            if len(self.buffer) > limit:
                return None
        head, _, self.buffer = self.buffer.partition(marker)
        return head

    def read_exact(self, n):
        while len(self.buffer) < n:
            data = self.request.recv(1 << 20)
            if not data:
                return None
            self.buffer += data
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def body_chunks(self, headers):
        if headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                line = self.read_until(b"\r\n")
                size = int(line.split(b";")[0], 16)
                if size == 0:
                    while self.read_until(b"\r\n") not in (b"", None):
                        pass
                    return
                yield self.read_exact(size)
                self.read_exact(2)
        else:
            left = int(headers.get("content-length", "0"))
            while left > 0:
                if not self.buffer:
                    data = self.request.recv(1 << 20)
                    if not data:
                        return
                    self.buffer = data
                piece, self.buffer = self.buffer[:left], self.buffer[left:]
                left -= len(piece)
                yield piece

    def send(self, status, body=b"", extra=b"", close=False):
        head = b"HTTP/1.1 %d X\r\nContent-Length: %d\r\n" % (status, len(body)) + extra
        if close:
            head += b"Connection: close\r\n"
        self.request.sendall(head + b"\r\n" + body)

    def handle(self):
        while True:
            head = self.read_until(b"\r\n\r\n")
            if head is None:
                return
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            # Absolute form (a request through a proxy): note the authority, serve the path.
            proxied = ""
            if target.startswith("http://"):
                proxied = target[len("http://"):].split("/", 1)[0]
                target = "/" + target[len("http://") + len(proxied):].lstrip("/")
            path, _, query = target.partition("?")
            parts = path.strip("/").split("/")
            if method in ("POST", "PUT") and parts[0] == "sha256":
                digest = hashlib.sha256()
                count = 0
                matches = True
                for piece in self.body_chunks(headers):
                    digest.update(piece)
                    if matches:
                        start = count % 251
                        expected = PATTERN_BLOCK[start:start + len(piece)] if len(piece) <= len(PATTERN_BLOCK) - 251 else pattern_from(count, len(piece))
                        matches = piece == expected
                    count += len(piece)
                self.send(200, json.dumps({"count": count, "sha256": digest.hexdigest(), "method": method,
                                           "pattern": matches}).encode(),
                          b"Content-Type: application/json\r\n")
                continue
            for _ in self.body_chunks(headers):
                pass
            if parts[0] == "bytes":
                n = int(parts[1])
                data = pattern(n)
                if "chunked=1" in query:
                    self.request.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                    for i in range(0, n, 65536):
                        piece = data[i:i + 65536]
                        self.request.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
                    self.request.sendall(b"0\r\n\r\n")
                else:
                    self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % n)
                    view = memoryview(data)
                    for i in range(0, n, 1 << 20):
                        self.request.sendall(view[i:i + (1 << 20)])
            elif parts[0] == "echo":
                self.send(200, head)
            elif parts[0] == "proxied":
                self.send(200, json.dumps({"authority": proxied, "proxyAuthorization": headers.get("proxy-authorization"),
                                           "host": headers.get("host")}).encode())
            elif parts[0] == "slow-head":
                time.sleep(int(parts[1]) / 1000)
                self.send(200, b"late")
            elif parts[0] == "stall-body":
                self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % int(parts[1]) + b"x" * 10)
                time.sleep(30)
                return
            elif parts[0] == "slow-body":
                n, ms = int(parts[1]), int(parts[2])
                self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % n)
                sent = 0
                try:
                    while sent < n:
                        piece = min(1024, n - sent)
                        self.request.sendall(b"s" * piece)
                        sent += piece
                        time.sleep(ms / 1000)
                except OSError:
                    return
            elif parts[0] in ("gzip", "deflate"):
                data = pattern(int(parts[1]))
                encoded = gzip.compress(data) if parts[0] == "gzip" else zlib.compress(data)
                self.send(200, encoded, b"Content-Encoding: %s\r\n" % parts[0].encode())
            elif parts[0] == "bad":
                self.request.sendall(BAD[parts[1]])
                try:
                    self.request.shutdown(socket.SHUT_WR)
                    time.sleep(0.2)
                except OSError:
                    pass
                return
            elif parts[0] == "connections":
                with LOCK:
                    count = CONNECTIONS
                self.send(200, str(count).encode())
            elif parts[0] == "reset-first":
                with LOCK:
                    first = parts[1] not in SEEN_KEYS
                    SEEN_KEYS.add(parts[1])
                if first:
                    self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    return
                self.send(200, b"ok")
            elif parts[0] == "names":
                self.send(200, "\n".join(sorted(BAD)).encode())
            else:
                self.send(404, b"not found")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--names", action="store_true", help="print the bad-response names and exit")
    parser.add_argument("--exit-with-stdin", action="store_true", help="exit when standard input closes")
    args = parser.parse_args()
    if args.names:
        print("\n".join(sorted(BAD)))
        return
    server = Server(("127.0.0.1", args.port), Handler)
    print("listening on 127.0.0.1:%d" % server.server_address[1], flush=True)
    if args.exit_with_stdin:
        # The test process holds our stdin: when it exits, however it exits, so do we.
        def watch():
            while sys.stdin.buffer.read(4096):
                pass
            os._exit(0)
        threading.Thread(target=watch, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
