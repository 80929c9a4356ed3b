#!/usr/bin/env python3
"""A scripted HTTP/1.1 server for the client's redirect, cookie and retry suites (stdlib only).

    python3 Tests/Client/scripted_server.py --port 0      # prints "listening on 127.0.0.1:PORT"

Paths (every response has Content-Length; connections are kept alive):
  /redirect/STATUS?to=URL           STATUS with Location: URL (to= is percent-decoded)
  /redirect-chain/N                 302 to /redirect-chain/N-1 ... /redirect-chain/0 answers 200 "done"
  /loop                             302 to /loop, forever
  /set-cookie?name=value&...        200; one Set-Cookie "name=value; Path=/" per parameter, except
                                    raw=FIELD (the whole field, attributes included, repeatable) and
                                    redirect=URL (answer 302 to URL instead of 200)
  /echo-headers                     200, JSON {"method", "path", "headers": [[name, value], ...], "body"}
  /reset-then-ok/KEY/N              closes the connection without answering (a TCP reset) the first
                                    N times for KEY, then 200 "ok"; ?mode=close closes with a FIN
  /status/CODE?retry-after=V        CODE, with Retry-After: V when given; &key=K&times=N answers CODE
                                    only the first N times for K, then 200 "ok"
  /log/KEY                          200, JSON {"arrivals": [seconds, ...], "count": n} for KEY
                                    (monotonic arrival times of /reset-then-ok and /status with key)
  /post-count                       200, JSON {"posts": n}: POST requests received so far, any path
The server exits when the process that started it is gone (checked twice a second), after
--lifetime seconds, or with --stdin-lifeline when its stdin closes.
"""

import argparse
import json
import os
import signal
import socket
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 16 << 20  # bodies beyond this are refused with 413

lock = threading.Lock()
arrivals = {}  # KEY -> [monotonic seconds]
posts = 0


def log_arrival(key):
    with lock:
        times = arrivals.setdefault(key, [])
        times.append(time.monotonic())
        return len(times)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30  # per connection, so an idle client cannot hold a thread forever

    def log_message(self, format, *args):  # quiet: the tests read responses, not logs
        pass

    def do_GET(self):
        self.dispatch()

    def do_HEAD(self):
        self.dispatch()

    def do_POST(self):
        global posts
        with lock:
            posts += 1
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    def do_PATCH(self):
        self.dispatch()

    def read_body(self):
        """The request body (Content-Length or chunked), bounded by MAX_BODY; None when too large."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return body
                if len(body) + size > MAX_BODY:
                    return None
                body += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return None
        return self.rfile.read(length) if length else b""

    def respond(self, status, body=b"", headers=()):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def respond_json(self, value):
        self.respond(200, json.dumps(value), [("Content-Type", "application/json")])

    def reset(self, mode):
        """Closes the connection without a response: RST (SO_LINGER 0) or FIN."""
        if mode != "close":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR) if mode == "close" else None
        except OSError:
            pass
        self.connection.close()

    def dispatch(self):
        url = urllib.parse.urlsplit(self.path)
        parts = [p for p in url.path.split("/") if p]
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        pairs = urllib.parse.parse_qsl(url.query, keep_blank_values=True)
        body = self.read_body()
        if body is None:
            self.close_connection = True
            return self.respond(413, "body too large", [("Connection", "close")])
        first = lambda name, default=None: query.get(name, [default])[0]

        if len(parts) == 2 and parts[0] == "redirect" and parts[1].isdigit():
            target = first("to", "/echo-headers")
            return self.respond(int(parts[1]), "redirecting", [("Location", target)])
        if len(parts) == 2 and parts[0] == "redirect-chain" and parts[1].isdigit():
            remaining = int(parts[1])
            if remaining == 0:
                return self.respond(200, "done")
            return self.respond(302, "", [("Location", "/redirect-chain/%d" % (remaining - 1))])
        if parts == ["loop"]:
            return self.respond(302, "", [("Location", "/loop")])
        if parts == ["set-cookie"]:
            fields = []
            for name, value in pairs:
                if name == "raw":
                    fields.append(("Set-Cookie", value))
                elif name != "redirect":
                    fields.append(("Set-Cookie", "%s=%s; Path=/" % (name, value)))
            target = first("redirect")
            if target is not None:
                return self.respond(302, "", fields + [("Location", target)])
            return self.respond(200, "cookies set", fields)
        if parts == ["echo-headers"]:
            return self.respond_json({
                "method": self.command,
                "path": self.path,
                "headers": [[name, value] for name, value in self.headers.items()],
                "body": body.decode("utf-8", "replace"),
            })
        if len(parts) == 3 and parts[0] == "reset-then-ok" and parts[2].isdigit():
            count = log_arrival(parts[1])
            if count <= int(parts[2]):
                return self.reset(first("mode", "reset"))
            return self.respond(200, "ok")
        if len(parts) == 2 and parts[0] == "status" and parts[1].isdigit():
            key, times = first("key"), first("times")
            if key is not None:
                count = log_arrival(key)
                if times is not None and times.isdigit() and count > int(times):
                    return self.respond(200, "ok")
            retry_after = first("retry-after")
            headers = [("Retry-After", retry_after)] if retry_after is not None else []
            return self.respond(int(parts[1]), "status %s" % parts[1], headers)
        if len(parts) == 2 and parts[0] == "log":
            with lock:
                times = list(arrivals.get(parts[1], []))
            return self.respond_json({"arrivals": times, "count": len(times)})
        if parts == ["post-count"]:
            with lock:
                return self.respond_json({"posts": posts})
        return self.respond(404, "no such script")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--lifetime", type=float, default=300, help="seconds before the server exits on its own")
    parser.add_argument("--stdin-lifeline", action="store_true", help="exit when stdin closes")
    args = parser.parse_args()
    # The tests stop us with SIGTERM, but a parent may start us with it blocked or ignored (the
    # signal mask and ignored dispositions survive exec; Swift test processes block SIGTERM):
    # take the defaults back, or the parent's terminate() would wait for us forever.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT, signal.SIGHUP})
    signal.signal(signal.SIGTERM, signal.SIG_DFL)

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print("listening on 127.0.0.1:%d" % server.server_address[1], flush=True)

    def stop_when_stdin_closes():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except (OSError, ValueError):
            pass
        server.shutdown()

    def stop_when_parent_goes(parent=os.getppid()):
        while os.getppid() == parent:
            time.sleep(0.5)
        server.shutdown()

    threading.Thread(target=stop_when_parent_goes, daemon=True).start()
    if args.stdin_lifeline:
        threading.Thread(target=stop_when_stdin_closes, daemon=True).start()
    timer = threading.Timer(args.lifetime, server.shutdown)
    timer.daemon = True
    timer.start()
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
