"""Suite: edge cases found by probing `epsilon serve DIR --h2c` the way outside conformance
testers and hostile-client corpora do (session 5), each pinned with the RFC's answer (nginx's
where the RFC leaves room). Fixed this session: an unknown expectation gets 417 (HTTP/1.1 and
HTTP/2), an HTTP/1.0 client gets no 100 Continue, HTTP/2 heads over --max-header-bytes get 431,
HTTP/2 :path / :authority / host are checked like HTTP/1.1's target and Host, --body-timeout
applies to HTTP/2 streams, an HTTP/2 client that reads nothing is cut after --idle-timeout as
on HTTP/1.1, several ranges that are all unsatisfiable get 416. The rest guard behaviour that was already right and that no
other suite covers: HTTP/1.1 framing and request-line cases, static-file names, dates, ranges
and conditionals, HTTP/2 static paths and flow control, half-closed and reset connections,
idle floods and a server at its descriptor limit."""
import os
import resource
import select
import shutil
import socket
import subprocess
import tempfile
import time

from epsilon_suite import LISTENING, ResponseReader, Server, Suite, connect, raise_fd_limit, warm_up
from h2_frames import (CONTINUATION, DATA, END_HEADERS, END_STREAM, HEADERS, H2Client, frame,
                       request_headers, settings, window_update)

suite = Suite("edge-cases")
raise_fd_limit(8000)
SECRET = b"EDGE-SECRET-41c7"
MTIME = 1_700_000_000  # Tue, 14 Nov 2023 22:13:20 GMT
work = tempfile.mkdtemp(prefix="epsilon-edge-")
root = os.path.join(work, "root")


def write(rel, data):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    os.utime(path, (MTIME, MTIME))
    return path


os.makedirs(root)
with open(os.path.join(work, "secret.txt"), "wb") as f:
    f.write(SECRET)
write("a.txt", b"0123456789" * 10)  # 100 bytes
write("sub/index.html", b"<p>sub</p>\n")
write("sub/deeper/d.txt", b"deep\n")
write("with space/file name.txt", b"spaced\n")
write("h\u00e9llo w\u00f6rld.txt", b"utf-8 name\n")
write("trail.", b"trailing dot\n")
write("x;y.txt", b"semicolon\n")
write(".env", SECRET)
with open(os.path.join(root, "big.bin"), "wb") as f:
    f.truncate(8 << 20)
os.symlink("../secret.txt", os.path.join(root, "out"))
os.symlink("loop2", os.path.join(root, "loop1"))
os.symlink("loop1", os.path.join(root, "loop2"))
os.symlink("sub", os.path.join(root, "subl"))
os.mkfifo(os.path.join(root, "fifo"))


# ---------------------------------------------------------------- raw HTTP/1.1 helpers

def exchange(port, data, count=1, timeout=5.0, head=False):
    """Sends `data`; reads up to `count` responses; returns (responses, closed after them?)."""
    s = connect(port)
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        reader = ResponseReader(s)
        responses = []
        for _ in range(count):
            try:
                responses.append(reader.read(timeout, head=head))
            except EOFError:
                break
        closed = reader.eof or reader.closed(1.0)
        return responses, closed
    finally:
        s.close()


def raw_bytes(port, data, wait=1.5, shut=False, closed=None):
    """Everything the server sends within `wait` seconds (or until it closes; then
    `closed`, a list, gets True)."""
    s = connect(port)
    try:
        s.sendall(data)
        if shut:
            s.shutdown(socket.SHUT_WR)
        out = b""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            r, _, _ = select.select([s], [], [], deadline - time.monotonic())
            if not r:
                break
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                if closed is not None:
                    closed.append(True)
                break
            out += chunk
        return out
    finally:
        s.close()


def req(line, *headers, body=b""):
    return line + b"\r\n" + b"".join(h + b"\r\n" for h in headers) + b"\r\n" + body


H = b"Host: localhost"

# (label, bytes, status, closes (True/False/None: either), extra predicate or None)
HTTP1 = [
    # Fixed this session.
    ("Expect: tea → 417 and close", req(b"POST /echo HTTP/1.1", H, b"Content-Length: 5", b"Expect: tea", body=b"hello"), 417, True, None),
    ("Expect: 100-continue, foo → 417", req(b"POST /echo HTTP/1.1", H, b"Content-Length: 5", b"Expect: 100-continue, foo", body=b"hello"), 417, True, None),
    ("Expect: 100-CONTINUE (case-insensitive) → 200", req(b"POST /echo HTTP/1.1", H, b"Content-Length: 5", b"Expect: 100-CONTINUE", body=b"hello"), 200, False,
     lambda r: r.body == b"hello"),
    ("HTTP/1.0 Expect: tea is ignored → 200", req(b"POST /echo HTTP/1.0", b"Content-Length: 5", b"Expect: tea", body=b"hello"), 200, True,
     lambda r: r.body == b"hello"),
    # Request line and target.
    ("absolute-form: the target's authority wins over Host", req(b"GET http://other.example/hello HTTP/1.1", H), 200, False, None),
    ("OPTIONS * → 204 with Allow", req(b"OPTIONS * HTTP/1.1", H), 204, False, lambda r: "GET" in (r.header("allow") or "")),
    ("OPTIONS on a file route → Allow: GET, HEAD", req(b"OPTIONS /a.txt HTTP/1.1", H), 204, False, lambda r: r.header("allow") == "GET, HEAD"),
    ("HTTP/1.9 → 505 and close", req(b"GET /hello HTTP/1.9", H), 505, True, None),
    ("HTTP/0.9 line with a version → 505", req(b"GET /hello HTTP/0.9", H), 505, True, None),
    ("HTTP/2 (no minor) on HTTP/1 → 400", req(b"GET /hello HTTP/2", H), 400, True, None),
    ("TRACE → 405 with Allow", req(b"TRACE /hello HTTP/1.1", H), 405, False, lambda r: r.header("allow") == "GET, HEAD"),
    ("a fragment in the target is not a path byte → 400 or served", req(b"GET /hello#x HTTP/1.1", H), {200, 400}, None, None),
    # Framing.
    ("Transfer-Encoding: gzip, chunked → 501 and close", req(b"POST /echo HTTP/1.1", H, b"Transfer-Encoding: gzip, chunked", body=b"0\r\n\r\n"), 501, True, None),
    ("Transfer-Encoding twice (chunked, chunked) → 400", req(b"POST /echo HTTP/1.1", H, b"Transfer-Encoding: chunked", b"Transfer-Encoding: chunked", body=b"0\r\n\r\n"), 400, True, None),
    ("Transfer-Encoding: CHUNKED (case-insensitive) → 200", req(b"POST /echo HTTP/1.1", H, b"Transfer-Encoding: CHUNKED", body=b"5\r\nhello\r\n0\r\n\r\n"), 200, False,
     lambda r: r.body == b"hello"),
    ("Transfer-Encoding: identity with Content-Length → 400", req(b"POST /echo HTTP/1.1", H, b"Transfer-Encoding: identity", b"Content-Length: 5", body=b"hello"), 400, True, None),
    ("Content-Length: 5, 5 → 400", req(b"POST /echo HTTP/1.1", H, b"Content-Length: 5, 5", body=b"hello"), 400, True, None),
    ("empty Content-Length → 400", req(b"POST /echo HTTP/1.1", H, b"Content-Length: "), 400, True, None),
    ("chunk size followed by a space → 400", req(b"POST /echo HTTP/1.1", H, b"Transfer-Encoding: chunked", body=b"5 \r\nhello\r\n0\r\n\r\n"), 400, True, None),
    ("chunk lines ended by bare LF → 400", req(b"POST /echo HTTP/1.1", H, b"Transfer-Encoding: chunked", body=b"5\nhello\n0\n\n"), 400, True, None),
    ("chunk extension and trailer field → 200", req(b"POST /echo HTTP/1.1", H, b"Transfer-Encoding: chunked", body=b"5;a=b\r\nhello\r\n0\r\nX-T: 1\r\n\r\n"), 200, False,
     lambda r: r.body == b"hello"),
    ("request line ended by bare LF → 400", b"GET /hello HTTP/1.1\nHost: x\n\n", 400, True, None),
    ("bare LF inside a field value → 400", req(b"GET /hello HTTP/1.1", H, b"Foo: a\nb"), 400, True, None),
    ("control byte in a field name → 400", req(b"GET /hello HTTP/1.1", H, b"F\x01o: a"), 400, True, None),
    ("DEL in a field value → 400", req(b"GET /hello HTTP/1.1", H, b"Foo: a\x7fb"), 400, True, None),
    ("obs-text and HTAB in a field value are allowed → 200", req(b"GET /hello HTTP/1.1", H, b"Foo: a\xe9\tb"), 200, False, None),
    ("whitespace before the first field line → 400", req(b"GET /hello HTTP/1.1", b" Host: x"), 400, True, None),
    ("Host with userinfo → 400", req(b"GET /hello HTTP/1.1", b"Host: a@b"), 400, True, None),
    ("empty Host (allowed) → 200", req(b"GET /hello HTTP/1.1", b"Host:"), 200, False, None),
    # Limits: each error carries Connection: close.
    ("413 carries Connection: close", req(b"POST /discard HTTP/1.1", H, b"Content-Length: 2147483648"), 413, True,
     lambda r: r.header("connection") == "close"),
    ("414 carries Connection: close", req(b"GET /" + b"a" * 20000 + b" HTTP/1.1", H), 414, True, lambda r: r.header("connection") == "close"),
    ("431 carries Connection: close", req(b"GET /hello HTTP/1.1", H, b"Foo: " + b"a" * 20000), 431, True, lambda r: r.header("connection") == "close"),
    ("400 carries Connection: close", req(b"GET /hello HTTP/1.1", H, b"Foo : bar"), 400, True, lambda r: r.header("connection") == "close"),
    # Persistence.
    ("Connection: keep-alive, Close → close", req(b"GET /hello HTTP/1.1", H, b"Connection: keep-alive, Close"), 200, True,
     lambda r: r.header("connection") == "close"),
    ("HTTP/1.0 without keep-alive → close", req(b"GET /hello HTTP/1.0"), 200, True, lambda r: r.header("connection") == "close"),
    # Static files: methods, names, queries.
    ("POST on a file → 405 Allow: GET, HEAD", req(b"POST /a.txt HTTP/1.1", H, b"Content-Length: 0"), 405, False, lambda r: r.header("allow") == "GET, HEAD"),
    ("PUT on a file → 405", req(b"PUT /a.txt HTTP/1.1", H, b"Content-Length: 0"), 405, False, lambda r: r.header("allow") == "GET, HEAD"),
    ("a name with spaces, percent-encoded", req(b"GET /with%20space/file%20name.txt HTTP/1.1", H), 200, False, lambda r: r.body == b"spaced\n"),
    ("a UTF-8 name, percent-encoded", req(b"GET /h%C3%A9llo%20w%C3%B6rld.txt HTTP/1.1", H), 200, False, lambda r: r.body == b"utf-8 name\n"),
    ("a name ending in a dot is that file", req(b"GET /trail. HTTP/1.1", H), 200, False, lambda r: r.body == b"trailing dot\n"),
    ("a trailing dot is not stripped (/a.txt. → 404)", req(b"GET /a.txt. HTTP/1.1", H), 404, False, None),
    ("names are case-sensitive (/A.TXT → 404)", req(b"GET /A.TXT HTTP/1.1", H), 404, False, None),
    ("a raw ';' is part of the name", req(b"GET /x;y.txt HTTP/1.1", H), 200, False, lambda r: r.body == b"semicolon\n"),
    ("%3B decodes to the same name", req(b"GET /x%3By.txt HTTP/1.1", H), 200, False, lambda r: r.body == b"semicolon\n"),
    ("the query is ignored, even with ../ in it", req(b"GET /a.txt?x=../../secret.txt HTTP/1.1", H), 200, False, lambda r: len(r.body) == 100),
    ("a directory redirect keeps the query", req(b"GET /sub/deeper?a=1&b=%2F HTTP/1.1", H), 301, False,
     lambda r: r.header("location") == "/sub/deeper/?a=1&b=%2F"),
    ("/sub/..;/secret.txt is hidden (403), no secret", req(b"GET /sub/..;/secret.txt HTTP/1.1", H), 403, False, lambda r: SECRET not in r.body),
    ("/sub/./deeper/d.txt → 400", req(b"GET /sub/./deeper/d.txt HTTP/1.1", H), 400, None, None),
    ("/%2e%2e%5csecret.txt → 400", req(b"GET /%2e%2e%5csecret.txt HTTP/1.1", H), 400, None, None),
    ("/..%255csecret.txt (double-encoded) is a hidden name → 403", req(b"GET /..%255csecret.txt HTTP/1.1", H), 403, False, None),
    ("/a.txt%23x (encoded #) → 404", req(b"GET /a.txt%23x HTTP/1.1", H), 404, False, None),
    ("a symlink loop → 404", req(b"GET /loop1 HTTP/1.1", H), 404, False, None),
    ("a FIFO → 404 at once (never opened for reading)", req(b"GET /fifo HTTP/1.1", H), 404, False, None),
    ("a symlink to a folder inside the root is followed", req(b"GET /subl/index.html HTTP/1.1", H), 200, False, lambda r: r.body == b"<p>sub</p>\n"),
    ("the .env dot-file → 403", req(b"GET /.env HTTP/1.1", H), 403, False, lambda r: SECRET not in r.body),
    ("a symlink out of the root → 403", req(b"GET /out HTTP/1.1", H), 403, False, lambda r: SECRET not in r.body),
    ("absolute-form traversal → 400", req(b"GET http://localhost/sub/../../secret.txt HTTP/1.1", H), 400, None, lambda r: SECRET not in r.body),
    # Dates in the three formats RFC 9110 §5.6.7 requires a recipient to read.
    ("If-Modified-Since (IMF-fixdate) = Last-Modified → 304", req(b"GET /a.txt HTTP/1.1", H, b"If-Modified-Since: Tue, 14 Nov 2023 22:13:20 GMT"), 304, False, None),
    ("If-Modified-Since (RFC 850 date) → 304", req(b"GET /a.txt HTTP/1.1", H, b"If-Modified-Since: Tuesday, 14-Nov-23 22:13:20 GMT"), 304, False, None),
    ("If-Modified-Since (asctime date) → 304", req(b"GET /a.txt HTTP/1.1", H, b"If-Modified-Since: Tue Nov 14 22:13:20 2023"), 304, False, None),
    ("If-Modified-Since a second earlier → 200", req(b"GET /a.txt HTTP/1.1", H, b"If-Modified-Since: Tue, 14 Nov 2023 22:13:19 GMT"), 200, False, None),
    ("If-Modified-Since in the future is ignored → 200", req(b"GET /a.txt HTTP/1.1", H, b"If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT"), 200, False, None),
    ("If-Modified-Since not a date is ignored → 200", req(b"GET /a.txt HTTP/1.1", H, b"If-Modified-Since: yesterday"), 200, False, None),
    ("If-Unmodified-Since (RFC 850) earlier → 412", req(b"GET /a.txt HTTP/1.1", H, b"If-Unmodified-Since: Tuesday, 14-Nov-23 22:13:19 GMT"), 412, False, None),
    ("If-Range with a weak tag never holds → 200 whole", req(b"GET /a.txt HTTP/1.1", H, b"Range: bytes=0-1", b"If-Range: W/\"x\""), 200, False,
     lambda r: len(r.body) == 100),
    # Ranges (fixed: several all unsatisfiable; empty elements; a huge last-pos).
    ("several ranges, none satisfiable → 416 bytes */100", req(b"GET /a.txt HTTP/1.1", H, b"Range: bytes=200-300,400-500"), 416, False,
     lambda r: r.header("content-range") == "bytes */100"),
    ("bytes=0-1, (empty element) → 206 0-1", req(b"GET /a.txt HTTP/1.1", H, b"Range: bytes=0-1,"), 206, False,
     lambda r: r.header("content-range") == "bytes 0-1/100" and r.body == b"01"),
    ("bytes=0-99999999999999999999 → 206 of the whole file", req(b"GET /a.txt HTTP/1.1", H, b"Range: bytes=0-99999999999999999999"), 206, False,
     lambda r: r.header("content-range") == "bytes 0-99/100" and len(r.body) == 100),
    ("several ranges, one satisfiable → 200 whole (documented)", req(b"GET /a.txt HTTP/1.1", H, b"Range: bytes=0-1,200-300"), 200, False,
     lambda r: len(r.body) == 100),
    ("overlapping ranges → 200 whole", req(b"GET /a.txt HTTP/1.1", H, b"Range: bytes=0-50,25-75"), 200, False, lambda r: len(r.body) == 100),
    ("bytes=-0 → 416", req(b"GET /a.txt HTTP/1.1", H, b"Range: bytes=-0"), 416, False, lambda r: r.header("content-range") == "bytes */100"),
    ("Range with another unit is ignored → 200", req(b"GET /a.txt HTTP/1.1", H, b"Range: items=0-1"), 200, False, None),
]


PROBE = req(b"GET /hello HTTP/1.1", H)


def http1_checks(server):
    for label, data, want, closes, extra in HTTP1:
        wants = want if isinstance(want, set) else {want}
        # Kept open: a pipelined GET /hello after it is answered. Closed: EOF after the answer.
        s = connect(server.port)
        try:
            try:
                s.sendall(data + (PROBE if closes is False else b""))
            except (BrokenPipeError, ConnectionResetError):
                pass
            reader = ResponseReader(s)
            r = reader.read(5)
            if closes is False:
                try:
                    after = reader.read(5)
                    closed = not (after.status == 200 and after.body == b"Hello, World!")
                except EOFError:
                    closed = True
            else:
                closed = closes is None or reader.closed(3.0)
        except (TimeoutError, EOFError) as e:
            suite.check(label, False, f"no response: {type(e).__name__}")
            continue
        finally:
            s.close()
        ok = r.status in wants and (closes is None or closed == closes) and (extra is None or bool(extra(r)))
        suite.check(label, ok, f"got {r.status}, {'closed' if closed else 'open'}, {r.headers}, {r.body[:80]!r}")

    # 304: no Content-Length unless it equals the 200's (RFC 9110 §8.6), no body.
    out = raw_bytes(server.port, req(b"GET /a.txt HTTP/1.1", H, b"If-None-Match: *", b"Connection: close"))
    head = out.split(b"\r\n\r\n", 1)[0].lower()
    suite.check("304: no Content-Length 0 (it would not equal the 200's), nothing after the head",
                out.startswith(b"HTTP/1.1 304") and b"content-length: 0" not in head and out.endswith(b"\r\n\r\n"), out[:300])
    # HTTP/1.0 and Expect: 100-continue: the expectation is ignored, no 1xx (RFC 9110 §10.1.1, §15.2).
    out = raw_bytes(server.port, req(b"POST /echo HTTP/1.0", b"Content-Length: 5", b"Expect: 100-continue", body=b"hello"))
    suite.check("HTTP/1.0 with Expect: 100-continue gets no 100 Continue, then 200",
                out.startswith(b"HTTP/1.1 200") and b" 100 " not in out.split(b"\r\n", 1)[0] and out.endswith(b"hello"), out[:200])
    out = raw_bytes(server.port, req(b"POST /echo HTTP/1.0", b"Content-Length: 5", b"Expect: 100-continue"), wait=1.0)
    suite.check("HTTP/1.0 with Expect: 100-continue and no body yet: nothing sent (no 1xx)", b"100 Continue" not in out, out[:200])
    # Pipelines.
    rs, closed = exchange(server.port, req(b"GET /hello HTTP/1.0", b"Connection: keep-alive") + req(b"GET /hello HTTP/1.0"), count=2)
    suite.check("HTTP/1.0 keep-alive: two answers, the first keep-alive, then close",
                [r.status for r in rs] == [200, 200] and rs[0].header("connection") == "keep-alive" and closed, f"{[r.headers for r in rs]}")
    rs, closed = exchange(server.port, req(b"GET /hello HTTP/1.1", H, b"Content-Length: 5", body=b"hello") + req(b"GET /hello HTTP/1.1", H), count=2)
    suite.check("GET with a body: the body is read and dropped, the next request answered",
                [r.status for r in rs] == [200, 200] and not closed, f"{[r.status for r in rs]}")
    rs, closed = exchange(server.port, req(b"GET /hello HTTP/1.1", H, b"Transfer-Encoding: chunked", body=b"5\r\nhello\r\n0\r\n\r\n") + req(b"GET /hello HTTP/1.1", H), count=2)
    suite.check("GET with a chunked body: read and dropped, the next request answered",
                [r.status for r in rs] == [200, 200] and not closed, f"{[r.status for r in rs]}")
    rs, closed = exchange(server.port, req(b"GET /hello HTTP/1.1", H) + req(b"GET /hello HTTP/1.1", H, b"Content-Length: 1", b"Content-Length: 2")
                          + req(b"GET /hello HTTP/1.1", H), count=3)
    suite.check("pipelined 200, then duplicate Content-Length → 400 and close, the third unanswered",
                [r.status for r in rs] == [200, 400] and closed, f"{[r.status for r in rs]}")
    rs, closed = exchange(server.port, req(b"GET /hello HTTP/1.1", H, b"Connection: close") + req(b"GET /hello HTTP/1.1", H), count=2)
    suite.check("Connection: close is honoured: one answer, then close", [r.status for r in rs] == [200] and closed, f"{[r.status for r in rs]}")
    with connect(server.port) as s:
        s.sendall(req(b"HEAD /a.txt HTTP/1.1", H, b"Range: bytes=0-1") + req(b"GET /x;y.txt HTTP/1.1", H))
        reader = ResponseReader(s)
        first, second = reader.read(5, head=True), reader.read(5)
    suite.check("HEAD ignores Range, no body: the next pipelined answer parses",
                first.status == 200 and first.header("content-length") == "100" and second.body == b"semicolon\n",
                f"{first.status} {first.headers} {second.status} {second.body[:40]!r}")


# ---------------------------------------------------------------- HTTP/2

class HeadsClient(H2Client):
    """An H2Client that keeps every decoded header list per stream."""

    def __init__(self, *args, **kwargs):
        self.heads = {}
        self._stream = 0
        super().__init__(*args, **kwargs)
        inner, client = self.decoder, self

        class Recording:
            def decode(self, data, raw=False):
                fields = inner.decode(data, raw)
                client.heads.setdefault(client._stream, []).append(dict(fields))
                return fields

            def __getattr__(self, name):
                return getattr(inner, name)

        self.decoder = Recording()

    def _handle(self, ftype, flags, stream, payload):
        self._stream = stream
        super()._handle(ftype, flags, stream, payload)


def h2_one(port, fields, body=None, window=None, block=None, timeout=5.0):
    """One request on a new h2c connection; returns (outcome, response fields)."""
    c = HeadsClient(port)
    try:
        if window is not None:
            c.send(settings((4, window)))
        c.settle()
        if block is not None:
            block(c)
        else:
            c.headers(1, fields, end_stream=body is None)
            if body is not None:
                c.send(frame(DATA, END_STREAM, 1, body))
        o = c.read_until(lambda o: 1 in o.ended or 1 in o.resets or o.goaway, timeout)
        return o, (c.heads.get(1) or [{}])[0]
    finally:
        c.close()


def h2_checks(server):
    p = server.port
    cases = [
        # Fixed this session.
        ("h2: absolute URI as :path → 400", request_headers("http://localhost/a.txt"), 400, None),
        ("h2: :path without a leading slash → 400", request_headers("a.txt"), 400, None),
        ("h2: GET with :path * → 400", request_headers("*"), 400, None),
        ("h2: :authority with a space → 400", request_headers("/hello", authority="a b"), 400, None),
        ("h2: host naming another authority than :authority → 400", request_headers("/hello", extra=[("host", "other")]), 400, None),
        ("h2: host equal to :authority but for case and :80 → 200", request_headers("/hello", extra=[("host", "LOCALHOST:80")]), 200, None),
        ("h2: expect: tea → 417", request_headers("/echo", "POST", extra=[("expect", "tea")]), 417, None),
        # Already right.
        ("h2: OPTIONS * → 204", request_headers("*", "OPTIONS"), 204, None),
        ("h2: HEAD on a file: content-length 100, no DATA", request_headers("/a.txt", "HEAD"), 200,
         lambda o, h: h.get("content-length") == "100" and not o.data.get(1)),
        ("h2: Range → 206 with Content-Range", request_headers("/a.txt", extra=[("range", "bytes=10-19")]), 206,
         lambda o, h: h.get("content-range") == "bytes 10-19/100" and o.data.get(1) == b"0123456789"),
        ("h2: several unsatisfiable ranges → 416", request_headers("/a.txt", extra=[("range", "bytes=200-300,400-500")]), 416,
         lambda o, h: h.get("content-range") == "bytes */100"),
        ("h2: If-None-Match * → 304, no DATA, no content-length", request_headers("/a.txt", extra=[("if-none-match", "*")]), 304,
         lambda o, h: not o.data.get(1) and "content-length" not in h),
        ("h2: traversal :path → 400, no secret", request_headers("/sub/%2e%2e/%2e%2e/secret.txt"), 400, lambda o, h: SECRET not in o.data.get(1, b"")),
        ("h2: symlink out of the root → 403", request_headers("/out"), 403, lambda o, h: SECRET not in o.data.get(1, b"")),
        ("h2: directory redirect keeps the query", request_headers("/sub?q=1"), 301, lambda o, h: h.get("location") == "/sub/?q=1"),
        ("h2: POST on a file → 405 Allow: GET, HEAD", request_headers("/a.txt", "POST"), 405, lambda o, h: h.get("allow") == "GET, HEAD"),
        ("h2: a UTF-8 name", request_headers("/h%C3%A9llo%20w%C3%B6rld.txt"), 200, lambda o, h: o.data.get(1) == b"utf-8 name\n"),
    ]
    for label, fields, want, extra in cases:
        body = b"hello" if fields[0][1] == "POST" else None
        o, h = h2_one(p, fields, body=body)
        ok = o.statuses.get(1) == want and (extra is None or bool(extra(o, h)))
        suite.check(label, ok, f"{o.describe()} {h}")

    # Trailers on a request body are accepted; a pseudo-header in trailers is malformed.
    def trailers(c, pseudo=False):
        c.headers(1, request_headers("/echo", "POST"), end_stream=False)
        c.send(frame(DATA, 0, 1, b"hello"))
        c.headers(1, [(":path", "/x")] if pseudo else [("x-trailer", "1")], end_stream=True)
    o, _ = h2_one(p, None, block=trailers)
    suite.check("h2: request trailers → 200 echo", o.statuses.get(1) == 200 and o.data.get(1) == b"hello", o.describe())
    o, _ = h2_one(p, None, block=lambda c: trailers(c, True))
    suite.check("h2: a pseudo-header in trailers → RST_STREAM PROTOCOL_ERROR",
                o.resets.get(1) == "PROTOCOL_ERROR" or (o.goaway and o.goaway[1] == "PROTOCOL_ERROR"), o.describe())

    # A head over --max-header-bytes (16 KiB) in HEADERS + CONTINUATION: 431 on the stream, the
    # connection still serves; one past the machine's 64 KiB list limit ends the connection.
    def big_head(size, c, stream=1):
        value = "".join(chr(33 + (i * 7) % 90) for i in range(size))  # poorly compressible
        block = c.encoder.encode(request_headers("/hello", extra=[("x-big", value)]))
        parts = [block[i:i + 16384] for i in range(0, len(block), 16384)]
        c.send(frame(HEADERS, END_STREAM | (END_HEADERS if len(parts) == 1 else 0), stream, parts[0]))
        for j, part in enumerate(parts[1:]):
            c.send(frame(CONTINUATION, END_HEADERS if j == len(parts) - 2 else 0, stream, part))
    c = HeadsClient(p)
    c.settle()
    big_head(15000, c, 1)
    big_head(40000, c, 3)
    c.headers(5, request_headers("/hello"))
    o = c.read_until(lambda o: {1, 3, 5} <= o.ended, 5)
    c.close()
    suite.check("h2: a 15 KB head → 200; a 40 KB head (3 frames) → 431 like HTTP/1.1; the connection still serves",
                o.statuses.get(1) == 200 and o.statuses.get(3) == 431 and o.statuses.get(5) == 200, o.describe())
    o, _ = h2_one(p, None, block=lambda c: big_head(70000, c))
    suite.check("h2: a 70 KB head → GOAWAY or close (no answer)", (o.goaway is not None or o.closed) and 1 not in o.statuses, o.describe())

    # Flow control: an initial window of 0 holds the body until WINDOW_UPDATE; a 1 KiB window
    # still delivers 1 MiB whole.
    def window_zero(c):
        c.headers(1, request_headers("/a.txt"))
        c.read_until(lambda o: 1 in o.statuses, 2)
        held = len(c.out.data.get(1, b""))
        c.send(window_update(1, 1000))
        c.held = held
    c = HeadsClient(p)
    c.send(settings((4, 0)))
    c.settle()
    window_zero(c)
    o = c.read_until(lambda o: 1 in o.ended, 5)
    c.close()
    suite.check("h2: initial window 0: headers, no DATA until WINDOW_UPDATE, then all 100 bytes",
                o.statuses.get(1) == 200 and c.held == 0 and o.data.get(1) == b"0123456789" * 10, f"held {c.held} {o.describe()}")
    o, _ = h2_one(p, request_headers("/big.bin", extra=[("range", "bytes=0-1048575")]), window=1024, timeout=20)
    suite.check("h2: a 1 KiB stream window still delivers a 1 MiB range whole",
                o.statuses.get(1) == 206 and len(o.data.get(1, b"")) == 1 << 20, o.describe())


# ---------------------------------------------------------------- hostile connections

def hostile_checks(server):
    p = server.port
    out = raw_bytes(p, req(b"GET /hello HTTP/1.1", H), shut=True)
    suite.check("half-closed after the request: answered", out.startswith(b"HTTP/1.1 200") and out.endswith(b"Hello, World!"), out[:100])
    out = raw_bytes(p, req(b"GET /a.txt HTTP/1.1", H) * 2, shut=True)
    suite.check("half-closed after two pipelined requests: both answered", out.count(b"HTTP/1.1 200") == 2, out[:100])
    closed = []
    out = raw_bytes(p, req(b"POST /echo HTTP/1.1", H, b"Content-Length: 10", body=b"abc"), wait=5.0, shut=True, closed=closed)
    suite.check("half-closed mid-body: the server closes the connection within 5 s (a streamed echo may have begun)",
                bool(closed), out[:100])
    start = server.stable_fds()
    for _ in range(20):
        s = socket.create_connection(("127.0.0.1", p), timeout=5)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(req(b"GET /big.bin HTTP/1.1", H))
        s.recv(1000)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST
        s.close()
    n = server.wait_fds(start)
    suite.check(f"20 resets mid-response (8 MiB file): descriptors back to {start}", n <= start, f"now {n}")
    socks = []
    probe = connect(p)  # made first: a low descriptor number, which select() can watch
    try:
        for _ in range(2000):
            socks.append(socket.create_connection(("127.0.0.1", p), timeout=5))
        t0 = time.monotonic()
        probe.sendall(req(b"GET /hello HTTP/1.1", H, b"Connection: close"))
        r = ResponseReader(probe).read(5)
        took = time.monotonic() - t0
        suite.check("2,000 idle connections: another client is answered within 2 s",
                    r.status == 200 and took < 2.0, f"{r.status} in {took:.2f} s")
    finally:
        probe.close()
        for s in socks:
            s.close()
    n = server.wait_fds(start, timeout=10)
    suite.check(f"2,000 idle connections closed: descriptors back to {start}", n <= start, f"now {n}")


class LowFdServer(Server):
    """`epsilon serve` with RLIMIT_NOFILE 128: what it does at EMFILE."""

    def __init__(self, *args):
        def limit():
            resource.setrlimit(resource.RLIMIT_NOFILE, (128, 128))
        self.args = ["serve", "--host", "127.0.0.1", "--port", "0", *args]
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([os.environ.get("EPSILON", ".build/release/epsilon"), *self.args], stdout=subprocess.PIPE,
                                     stderr=self.stderr, stdin=subprocess.DEVNULL, preexec_fn=limit)
        line = self.proc.stdout.readline().decode()
        m = LISTENING.search(line)
        if not m:
            self.kill()
            raise RuntimeError(f"no listening line: {line!r} {self.stderr_text()[-300:]}")
        self.port, self.pid, self.lines = int(m.group(2)), self.proc.pid, [line]


def h2_body_timeout_checks():
    """--body-timeout on HTTP/2 (was not applied: a stream waiting for its body stayed open
    for ever): a body never sent → 408 then RST_STREAM NO_ERROR; a body still trickling →
    RST_STREAM CANCEL after the response began; other streams on the connection go on."""
    with Server(root, "--h2c", "--body-timeout", "2") as server:
        c = H2Client(server.port)
        c.settle()
        t0 = time.monotonic()
        c.headers(1, request_headers("/echo", "POST", extra=[("content-length", "10")]), end_stream=False)
        c.headers(3, request_headers("/echo", "POST"), end_stream=False)
        c.headers(5, request_headers("/hello"))
        trickle_until = t0 + 10
        first_cut = {}
        while time.monotonic() < trickle_until and not c.out.closed and not (1 in c.out.resets and 3 in c.out.resets):
            c.send(frame(DATA, 0, 3, b"x"))
            c.read_until(lambda o: False, 0.5)
            for sid in (1, 3):
                if sid in c.out.resets and sid not in first_cut:
                    first_cut[sid] = time.monotonic() - t0
        c.headers(7, request_headers("/hello"))
        o = c.read_until(lambda o: 7 in o.ended, 5)
        c.close()
        t1, t3 = first_cut.get(1), first_cut.get(3)
        suite.check("h2 --body-timeout 2: a body never sent → 408 and RST_STREAM NO_ERROR, not before 1.5 s",
                    o.statuses.get(1) == 408 and o.resets.get(1) == "NO_ERROR" and t1 is not None and 1.5 <= t1 <= 8,
                    f"after {t1}: {o.describe()}")
        suite.check("h2 --body-timeout 2: a body trickling 1 byte / 0.5 s → RST_STREAM CANCEL after its 200 began",
                    o.statuses.get(3) == 200 and o.resets.get(3) == "CANCEL" and t3 is not None and 1.5 <= t3 <= 8,
                    f"after {t3}: {o.describe()}")
        suite.check("h2 --body-timeout 2: the connection's other streams are served before and after",
                    o.statuses.get(5) == 200 and o.statuses.get(7) == 200 and 7 in o.ended, o.describe())


def h2_stalled_reader_checks():
    """An HTTP/2 client that opens a download and then reads nothing was held for ever (the
    HTTP/1.1 session aborts a stalled writer after --idle-timeout): now aborted after it too."""
    with Server(root, "--h2c", "--idle-timeout", "2") as server:
        base = warm_up(server)
        c = H2Client(server.port)
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        c.send(settings((4, 0x7FFFFFFF)) + window_update(0, 0x7FFFFFFF - 65535))
        c.settle()
        t0 = time.monotonic()
        c.headers(1, request_headers("/big.bin"))  # 8 MiB; never read from here on
        time.sleep(1.0)
        held = server.fd_count()
        n = server.wait_fds(base, timeout=15)
        took = time.monotonic() - t0
        c.close()
        suite.check("h2 --idle-timeout 2: a client that stops reading a download is cut after about 2 s, not before 1 s",
                    held > base and n <= base and took < 15, f"held {held} (base {base}) at 1 s, {n} after {took:.1f} s")
        suite.check("h2 --idle-timeout 2: the server still serves h2 afterwards",
                    h2_one(server.port, request_headers("/hello"))[0].statuses.get(1) == 200, "")


def emfile_checks():
    with LowFdServer(root) as server:
        def cpu():
            with open(f"/proc/{server.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        socks = []
        try:
            for _ in range(250):
                socks.append(socket.create_connection(("127.0.0.1", server.port), timeout=5))
            time.sleep(0.5)
            c0 = cpu()
            time.sleep(2.0)
            used = cpu() - c0
            suite.check(f"at its descriptor limit (128) with 250 clients the server does not spin ({used:.2f} s CPU in 2 s)",
                        used < 0.5 and server.alive(), f"{used:.2f} s")
        finally:
            for s in socks:
                s.close()
        time.sleep(1.0)
        t0 = time.monotonic()
        rs, _ = exchange(server.port, req(b"GET /hello HTTP/1.1", H, b"Connection: close"))
        suite.check("after the clients leave it serves again at once", len(rs) == 1 and rs[0].status == 200
                    and time.monotonic() - t0 < 2.0, f"{[r.status for r in rs]}")


try:
    with Server(root, "--h2c") as server:
        warm_up(server)
        http1_checks(server)
        h2_checks(server)
        hostile_checks(server)
        suite.check("the server is still alive", server.alive(), server.stderr_text()[-300:])
    h2_body_timeout_checks()
    h2_stalled_reader_checks()
    emfile_checks()
except Exception as e:
    suite.error("suite", e)
finally:
    shutil.rmtree(work, ignore_errors=True)
suite.finish()
