#!/usr/bin/env python3
"""HTTP CONNECT proxy for EpsilonHTTPClient's tests (stdlib only, loopback only).

    python3 Tests/Client/connect_proxy.py --port 0 [--auth 'Basic dTpw'] [--log FILE]

Prints "listening on 127.0.0.1:PORT". For each `CONNECT host:port HTTP/1.1` it checks
Proxy-Authorization (407 when --auth is set and the value differs), allows only loopback
targets (403 otherwise), connects (502 on failure), answers 200 and relays bytes both ways.
Each request is appended to --log as one line: "CONNECT <target> <auth or -> <status>".
Anything but CONNECT gets 405. Heads are limited to 16 KiB; idle tunnels close after 30 s.
"""
import select
import socket
import socketserver
import threading

from loopback_server import argument_parser, serve

ARGS = None
LOG_LOCK = threading.Lock()
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def log(line):
    if ARGS.log:
        with LOG_LOCK, open(ARGS.log, "a") as f:
            f.write(line + "\n")


def split_target(target):
    """host:port or [v6]:port -> (host, port), or None."""
    if target.startswith("["):
        end = target.find("]")
        if end < 0 or target[end + 1:end + 2] != ":":
            return None
        host, port = target[1:end], target[end + 2:]
    else:
        host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        return None
    return host, int(port)


class Handler(socketserver.BaseRequestHandler):
    def reply(self, status, reason):
        self.request.sendall(f"HTTP/1.1 {status} {reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())

    def handle(self):
        sock = self.request
        sock.settimeout(30)
        head = b""
        while b"\r\n\r\n" not in head:
            data = sock.recv(4096)
            if not data:
                return
            head += data
            if len(head) > 16384:
                self.reply(431, "Request Header Fields Too Large")
                return
        head, _, rest = head.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        fields = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        if len(parts) != 3 or parts[0] != "CONNECT":
            self.reply(405, "Method Not Allowed")
            log(f"{parts[0] if parts else '?'} - - 405")
            return
        target = parts[1]
        auth = fields.get("proxy-authorization")
        if ARGS.auth is not None and auth != ARGS.auth:
            self.reply(407, "Proxy Authentication Required")
            log(f"CONNECT {target} {auth or '-'} 407")
            return
        split = split_target(target)
        if split is None or split[0] not in LOOPBACK:
            self.reply(403, "Forbidden")
            log(f"CONNECT {target} {auth or '-'} 403")
            return
        try:
            upstream = socket.create_connection(split, timeout=10)
        except OSError:
            self.reply(502, "Bad Gateway")
            log(f"CONNECT {target} {auth or '-'} 502")
            return
        log(f"CONNECT {target} {auth or '-'} 200")
        sock.sendall(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        if rest:
            upstream.sendall(rest)
        self.relay(sock, upstream)

    @staticmethod
    def relay(a, b):
        peers = {a: b, b: a}
        try:
            while True:
                readable, _, _ = select.select([a, b], [], [], 30)
                if not readable:
                    return
                for s in readable:
                    data = s.recv(65536)
                    if not data:
                        return
                    peers[s].sendall(data)
        except OSError:
            pass
        finally:
            b.close()


def main():
    global ARGS
    parser = argument_parser()
    parser.add_argument("--auth", default=None)
    parser.add_argument("--log", default=None)
    ARGS = parser.parse_args()
    serve(Handler, ARGS.port)


if __name__ == "__main__":
    main()
